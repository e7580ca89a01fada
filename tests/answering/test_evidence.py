"""Evidence pooling for the answer: a record the structured retriever is sure of is re-ranked and
reaches the answerer wherever fusion or the top-k cut put it."""

from __future__ import annotations

from carecite.answering.evidence import answer_context, rerank_pool
from carecite.domain import Candidate
from carecite.retrieval.records.lookup import NAMED_RECORD_FLOOR
from fakes import chunk_candidate, record_candidate


def test_a_confident_record_is_re_ranked_wherever_fusion_put_it() -> None:

    weak = NAMED_RECORD_FLOOR - 0.1
    fused = [chunk_candidate(f"chunk-{n}", score=0.03) for n in range(25)]
    fused.insert(21, record_candidate("Observation/a1c", 1.0, score=0.016))  # RRF rank 22 of 26
    fused.append(record_candidate("Observation/weak", weak, score=0.01))
    structured = [record_candidate("Observation/a1c", 1.0), record_candidate("Observation/weak", weak)]
    pool = rerank_pool(fused, structured, k=20)
    ids = [c.source_id for c in pool]
    assert ids[:20] == [c.source_id for c in fused[:20]]
    assert "Observation/a1c" in ids  # never lost to the cut at k
    assert "Observation/weak" not in ids and len(ids) == 21


def test_a_list_answer_carries_every_sure_record_beyond_the_top_k() -> None:
    """ "What are the active problems?" with 9 active conditions: all 9 go to the answerer, not 6;
    a record the retriever is unsure of, and notes, stay behind the cut."""

    def cand(i: str, match: float) -> Candidate:
        return record_candidate(i, match, score=0.9)

    kept = [cand(f"Condition/{n}", 0.9) for n in range(9)]
    kept.insert(3, chunk_candidate("chunk-1", score=0.9))
    kept += [cand("Condition/unsure", NAMED_RECORD_FLOOR - 0.1), chunk_candidate("chunk-2", score=0.9)]
    ids = [c.source_id for c in answer_context(kept, k=6, list_k=30)]
    assert ids[:6] == [c.source_id for c in kept[:6]]
    assert {f"Condition/{n}" for n in range(9)} <= set(ids)
    assert "Condition/unsure" not in ids and "chunk-2" not in ids
    assert len(answer_context(kept, k=6, list_k=8)) == 8  # the cap holds
