"""The evidence an answer is drafted from: which candidates are re-ranked, how a structured record's
confidence carries past the re-ranker, and which sources go to the answerer.

The structured retriever says how sure it is of a record (``retrieval.records.lookup.is_sure_record``);
this module only pools and blends the retrievers' candidates for the answer by that rule.
"""

from __future__ import annotations

from collections.abc import Sequence

from carecite.domain import Candidate
from carecite.retrieval.records.lookup import is_sure_record


def rerank_pool(fused: Sequence[Candidate], structured: Sequence[Candidate], k: int) -> list[Candidate]:
    """The candidates to re-rank: fusion's top ``k`` plus every confident structured record below it.

    RRF ranks by position across lists: one structured hit (rank 1 in one list) can sit at fused rank
    21 behind chunks that appear in both the dense and the lexical list, and a fixed cut at ``k`` then
    loses the very record the question asked for ("the most recent hemoglobin A1c").
    """
    pool = list(fused[:k])
    seen = {c.source_id for c in pool}
    sure = {c.source_id for c in structured if is_sure_record(c)}
    pool += [c for c in fused[k:] if c.source_id in sure and c.source_id not in seen]
    return pool


def answer_context(kept: Sequence[Candidate], k: int, list_k: int) -> list[Candidate]:
    """The sources an answer is drafted from: the top ``k``, plus every record the structured
    retriever is sure of below them (up to ``list_k`` sources in all).

    A list question ("What are the patient's active problems?") is answered by every matching row,
    not by the first ``k``: a complete list is the answer, a cut one reads as complete and is wrong.
    """
    context = list(kept[:k])
    for c in kept[k:]:
        if len(context) >= list_k:
            break
        if is_sure_record(c):
            context.append(c)
    return context


def blend_structured(reranked: Sequence[Candidate], structured: Sequence[Candidate]) -> list[Candidate]:
    """After re-ranking, a structured record keeps at least its intent confidence.

    The re-ranker scores text similarity, which undervalues terse record statements ("status:
    requested, overdue") against long notes; the structured retriever's confidence is the better
    evidence for status/date questions. Both are in [0, 1], so the max is a calibrated score.
    """
    conf = {c.source_id: c.score for c in structured}
    blended = [
        c.model_copy(update={"score": max(c.score, conf[c.source_id])}) if c.source_id in conf else c
        for c in reranked
    ]
    return sorted(blended, key=lambda c: -c.score)
