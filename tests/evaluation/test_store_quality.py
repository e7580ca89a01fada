"""`bench stores`: the same BEIR-format corpus through every VectorIndex and LexicalIndex
implementation gives an nDCG@10 per store; on an unambiguous toy corpus every store must be perfect,
and a store that loses the right document scores lower."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from carecite.evaluation.beir import load_beir
from carecite.evaluation.store_quality import lexical_quality, vector_quality
from carecite.settings import Settings

DOCS = {
    "d1": ("Statins", "Atorvastatin lowers LDL cholesterol and cardiovascular events."),
    "d2": ("Asthma", "Inhaled corticosteroids reduce asthma exacerbations in children."),
    "d3": ("Malaria", "Artemisinin combination therapy cures uncomplicated falciparum malaria."),
    "d4": ("Sleep apnea", "CPAP improves daytime sleepiness in obstructive sleep apnea."),
}
QUERIES = {
    "q1": ("statins lower cholesterol", "d1"),
    "q2": ("corticosteroids for asthma exacerbations", "d2"),
    "q3": ("artemisinin malaria treatment", "d3"),
    "q4": ("CPAP for sleep apnea sleepiness", "d4"),
}


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    root = tmp_path / "toy"
    (root / "qrels").mkdir(parents=True)
    (root / "corpus.jsonl").write_text(
        "\n".join(json.dumps({"_id": k, "title": t, "text": x}) for k, (t, x) in DOCS.items())
    )
    (root / "queries.jsonl").write_text(
        "\n".join(json.dumps({"_id": k, "text": q}) for k, (q, _) in QUERIES.items())
    )
    (root / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{k}\t{d}\t1\n" for k, (_, d) in QUERIES.items())
    )
    return root


def test_every_store_ranks_the_unambiguous_document_first(
    toy: Path, tmp_path: Path, pg_server, embedder
) -> None:  # type: ignore[no-untyped-def]
    from carecite.records import make_engine
    from carecite.retrieval.dense import ChromaVectorIndex
    from carecite.retrieval.lexical import Bm25Index
    from carecite.retrieval.pg_lexical import PgFullTextIndex
    from carecite.retrieval.pgvector_index import PgVectorIndex

    dataset = load_beir(toy)
    vectors = embedder.embed_documents([dataset.corpus[i].full_text for i in dataset.corpus_ids])
    engine = make_engine(pg_server.url(pg_server.create_database()))
    rows = vector_quality(
        dataset,
        embedder,
        vectors,
        {
            "embedded Chroma": ChromaVectorIndex.open(Settings(data_dir=tmp_path / "d"), embedder),
            "pgvector": PgVectorIndex.open(engine, embedder),
        },
    ) + lexical_quality(
        dataset, {"bm25s": Bm25Index.open(tmp_path / "bm25"), "PostgreSQL FTS": PgFullTextIndex.open(engine)}
    )
    assert [(r.port, r.store) for r in rows] == [
        ("vector", "embedded Chroma"),
        ("vector", "pgvector"),
        ("lexical", "bm25s"),
        ("lexical", "PostgreSQL FTS"),
    ]
    assert all(r.ndcg_at_10 == 1.0 and r.queries == 4 for r in rows), rows


def test_a_store_missing_the_relevant_document_scores_lower(toy: Path, tmp_path: Path) -> None:
    from carecite.retrieval.lexical import Bm25Index

    dataset = load_beir(toy)
    dataset.corpus.pop("d4")  # the store never sees the answer to q4
    [row] = lexical_quality(dataset, {"bm25s": Bm25Index.open(tmp_path / "bm25")})
    assert row.ndcg_at_10 == pytest.approx(0.75)
