"""ports.VectorIndex contract, run against every implementation: embedded Chroma, a Chroma server
(`chroma run`), pgvector, and the test fake ``InMemoryVectorIndex`` (so fast unit tests that use
it stand on the same semantics). The access-filter battery (filter_battery.py) is part of the contract:
each store returns EXACTLY the chunks the RetrievalFilter allows, filtering inside the query."""

from __future__ import annotations

from pathlib import Path

import pytest

from carecite.domain import SENSITIVE_LABELS, RetrievalFilter
from carecite.ports import VectorIndex
from carecite.settings import Settings
from filter_battery import PA, PB, battery_chunks, battery_filters, reference_allows

IMPLEMENTATIONS = ["chroma-embedded", "chroma-server", "pgvector", "in-memory-fake"]


def open_index(kind: str, request: pytest.FixtureRequest, tmp: Path, embedder) -> VectorIndex:  # type: ignore[no-untyped-def]
    """An EMPTY index of ``kind`` (skipped with the reason when its server cannot start)."""
    if kind == "in-memory-fake":
        from fakes import InMemoryVectorIndex

        return InMemoryVectorIndex()
    if kind == "chroma-embedded":
        from carecite.retrieval.dense import ChromaVectorIndex

        return ChromaVectorIndex.open(Settings(data_dir=tmp), embedder)
    if kind == "chroma-server":
        from carecite.retrieval.dense import ChromaVectorIndex

        server = request.getfixturevalue("chroma_server")
        request.getfixturevalue("fresh_chroma")()
        settings = Settings(data_dir=tmp, chroma_host=server.host, chroma_port=server.port)
        return ChromaVectorIndex.open(settings, embedder)
    from carecite.records import make_engine
    from carecite.retrieval.pgvector_index import PgVectorIndex

    pg = request.getfixturevalue("pg_server")
    return PgVectorIndex.open(make_engine(pg.url(pg.create_database())), embedder)


@pytest.fixture(scope="module", params=IMPLEMENTATIONS)
def loaded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, embedder):  # type: ignore[no-untyped-def]
    """The battery's chunks in one index of each implementation, with the battery's query vector."""
    index = open_index(request.param, request, tmp_path_factory.mktemp("vectors"), embedder)
    chunks = battery_chunks()
    index.upsert(chunks, embedder.embed_documents([c.index_text for c in chunks]))
    return chunks, index, embedder.embed_query("zebra follow-up")


def test_every_store_returns_exactly_the_chunks_the_filter_allows(loaded) -> None:  # type: ignore[no-untyped-def]
    chunks, index, qvec = loaded
    k = len(chunks) + 5
    checked = 0
    for flt in battery_filters():
        expected = {c.chunk_id for c in chunks if reference_allows(c, flt)}
        got = [c.source_id for c in index.query(qvec, flt, k)]
        assert len(got) == len(set(got))
        assert set(got) == expected, f"differs for {flt}"
        checked += bool(expected)
    assert checked > 40, "the battery must exercise non-empty results"


def test_top_k_never_fills_up_with_disallowed_chunks(loaded) -> None:  # type: ignore[no-untyped-def]
    chunks, index, qvec = loaded
    flt = RetrievalFilter(patient_key=PB, allowed_labels=frozenset(), include_policies=False)
    allowed = {c.chunk_id for c in chunks if reference_allows(c, flt)}
    assert len(allowed) >= 3
    got = index.query(qvec, flt, 3)
    assert len(got) == 3 and {c.source_id for c in got} <= allowed


def test_candidates_carry_the_metadata_the_guard_rechecks(loaded) -> None:  # type: ignore[no-untyped-def]
    chunks, index, qvec = loaded
    by_id = {c.chunk_id: c for c in chunks}
    found = index.query(
        qvec, RetrievalFilter(patient_key=PA, allowed_labels=frozenset(SENSITIVE_LABELS)), 200
    )
    assert found
    for cand in found:
        src = by_id[cand.source_id]
        assert cand.retriever == "dense"
        assert (cand.patient_key, cand.facility, cand.note_type, cand.note_date) == (
            src.patient_key,
            src.facility,
            src.note_type,
            src.note_date,
        )
        assert set(cand.security_labels) == set(src.security_labels)
        assert (cand.text, cand.start, cand.end, cand.doc_id, cand.source_ref) == (
            src.text,
            src.start,
            src.end,
            src.doc_id,
            src.source_ref,
        )


def test_results_come_nearest_first_with_cosine_scores(loaded, embedder) -> None:  # type: ignore[no-untyped-def]
    chunks, index, _ = loaded
    target = next(c for c in chunks if c.patient_key == PA and not c.security_labels)
    flt = RetrievalFilter(patient_key=PA, allowed_labels=frozenset())
    got = index.query(embedder.embed_documents([target.index_text])[0], flt, 5)
    assert got[0].source_id == target.chunk_id
    assert got[0].score == pytest.approx(1.0, abs=1e-3)
    scores = [c.score for c in got]
    assert scores == sorted(scores, reverse=True)
