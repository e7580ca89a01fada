from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from carecite.domain import Candidate
from carecite.evaluation.beir import (
    BeirFormatError,
    Progress,
    bm25_search,
    build_corpus_index,
    fit_logistic,
    load_beir,
    load_qrels,
)
from carecite.evaluation.metrics import evaluate_run
from carecite.ports import Embedder
from carecite.retrieval.fusion import reciprocal_rank_fusion
from carecite.retrieval.rerank import EvidenceReranker

pytestmark = pytest.mark.shared_data


def test_loader_parses_the_scifact_files(shared_data: Path) -> None:
    test = load_beir(shared_data / "beir_scifact", "test")
    assert len(test.corpus) == 5183
    assert len(test.queries) == 300
    assert set(test.qrels) == set(test.queries)
    assert all(doc in test.corpus for rel in test.qrels.values() for doc in rel)
    doc = test.corpus["4983"]
    assert doc.title.startswith("Microstructural development")
    assert doc.full_text.startswith(doc.title + "\n\n")
    train = load_beir(shared_data / "beir_scifact", "train")
    assert not set(train.queries) & set(test.queries)  # fitting on train never sees a test claim


def test_bad_files_are_reported_with_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(BeirFormatError, match="not found"):
        load_beir(tmp_path / "nope")
    (tmp_path / "qrels").mkdir()
    with pytest.raises(BeirFormatError, match="missing qrels"):
        load_beir(tmp_path)
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\tx\n")
    with pytest.raises(BeirFormatError, match=r"test.tsv:3: score 'x'"):
        load_qrels(tmp_path / "qrels" / "test.tsv")
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    (tmp_path / "corpus.jsonl").write_text(json.dumps({"_id": "d1", "title": "T", "text": "x"}) + "\n{oops\n")
    (tmp_path / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "claim"}) + "\n")
    with pytest.raises(BeirFormatError, match=r"corpus.jsonl:2: not JSON"):
        load_beir(tmp_path)
    (tmp_path / "corpus.jsonl").write_text(json.dumps({"_id": "d1", "title": "T", "text": "x"}) + "\n")
    (tmp_path / "queries.jsonl").write_text(json.dumps({"_id": "q9", "text": "other"}) + "\n")
    with pytest.raises(BeirFormatError, match="unknown queries"):
        load_beir(tmp_path)


def test_fit_logistic_recovers_a_known_model() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4000, 2))
    p = 1.0 / (1.0 + np.exp(-(-1.0 + 2.0 * x[:, 0] - 1.0 * x[:, 1])))
    y = (rng.random(4000) < p).astype(np.float64)
    intercept, coef = fit_logistic(x, y, l2=0.0)
    assert intercept == pytest.approx(-1.0, abs=0.2)
    assert coef[0] == pytest.approx(2.0, abs=0.25)
    assert coef[1] == pytest.approx(-1.0, abs=0.2)


@pytest.mark.slow
def test_reranker_beats_fusion_on_a_slice_of_scifact_train(shared_data: Path, embedder: Embedder) -> None:
    """10 train claims; each query's pool = its relevant abstracts + BM25 top-4 over the full corpus.

    Dense and BM25 rank the pool, RRF fuses them, the evidence re-ranker re-orders the fused list.
    The weights were fitted on train, so this is a regression check, not a generalisation claim
    (the held-out figure comes from ``carecite bench beir`` on the test split).
    """
    data = load_beir(shared_data / "beir_scifact", "train")
    qids = list(data.queries)[:10]
    # BM25 over the full corpus; only the pools are embedded (by the re-ranker's cache).
    index = _bm25_only_index(data)
    reranker = EvidenceReranker(embedder)
    fused_run: dict[str, list[str]] = {}
    rerank_run: dict[str, list[str]] = {}
    for qid in qids:
        query = data.queries[qid]
        lexical = bm25_search(index, query, 4)
        pool_ids = list(dict.fromkeys([c.source_id for c in lexical] + sorted(data.qrels[qid])))
        pool = [_cand(pid, data.corpus[pid].full_text) for pid in pool_ids]
        doc_vecs = reranker.cache.vectors([c.text for c in pool])
        q = reranker.cache.vectors([query])[0]
        order = np.argsort(-(doc_vecs @ q), kind="stable")
        dense = [pool[i].model_copy(update={"retriever": "dense"}) for i in order]
        lex_in_pool = [c.model_copy(update={"retriever": "lexical"}) for c in lexical]
        fused = reciprocal_rank_fusion([dense, lex_in_pool])
        fused_run[qid] = [c.source_id for c in fused]
        rerank_run[qid] = [c.source_id for c in reranker.rerank(query, fused)]
    qrels = {q: data.qrels[q] for q in qids}
    fused_ndcg = evaluate_run(fused_run, qrels)["ndcg@10"]
    rerank_ndcg = evaluate_run(rerank_run, qrels)["ndcg@10"]
    assert rerank_ndcg > fused_ndcg + 0.02, (fused_ndcg, rerank_ndcg)


def _cand(doc_id: str, text: str) -> Candidate:
    return Candidate(
        source_id=doc_id,
        source_type="policy",
        source_ref=f"BEIR/{doc_id}",
        patient_key=None,
        text=text,
        retriever="lexical",
    )


class _NoEmbedder:
    """build_corpus_index must not embed when we only want BM25: fail loudly if it tries."""

    fingerprint = "none"
    dim = 1

    def embed_documents(self, texts: object) -> np.ndarray:  # pragma: no cover - guard
        raise AssertionError("BM25-only index must not embed")

    def embed_query(self, text: str) -> np.ndarray:  # pragma: no cover - guard
        raise AssertionError("BM25-only index must not embed")


def _bm25_only_index(data):  # type: ignore[no-untyped-def]
    return build_corpus_index(data, _NoEmbedder(), None, Progress(quiet=True), embed=False)
