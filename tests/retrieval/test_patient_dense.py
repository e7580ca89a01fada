"""The exact per-patient vector path (``retrieval/patient_dense.py``, what ``Stores.vectors`` gives the
pipeline) against the filter battery: exactly the allowed chunks, ranked as the filtered Chroma
query ranks them (same ids, order and scores on a small world where HNSW is exact)."""

from __future__ import annotations

import pytest

from carecite.ingest.indexing import chunk_to_row
from carecite.ports import VectorIndex
from carecite.records import session_scope
from carecite.retrieval.dense import ChromaVectorIndex
from carecite.retrieval.patient_dense import PatientScopedVectorIndex
from carecite.settings import Settings
from carecite.stores import Stores
from filter_battery import battery_chunks, battery_filters, reference_allows


@pytest.fixture(scope="module")
def indexes(tmp_path_factory: pytest.TempPathFactory, embedder):  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path_factory.mktemp("patient-dense"))
    chunks = battery_chunks()
    dense = ChromaVectorIndex.open(settings, embedder)
    dense.upsert(chunks, embedder.embed_documents([c.index_text for c in chunks]))
    stores = Stores(settings, embedder=embedder)
    with session_scope(stores.engine) as session:  # the patient path reads a patient's chunk ids from SQL
        for c in chunks:
            session.add(chunk_to_row(c))
    path = stores.vectors
    assert isinstance(path, PatientScopedVectorIndex)
    return chunks, dense, path, embedder.embed_query("zebra follow-up")


def test_the_per_patient_exact_path_returns_exactly_the_allowed_chunks(indexes) -> None:  # type: ignore[no-untyped-def]
    chunks, _, patient_path, qvec = indexes
    k = len(chunks) + 5
    for flt in battery_filters():
        expected = {c.chunk_id for c in chunks if reference_allows(c, flt)}
        got = [c.source_id for c in patient_path.query(qvec, flt, k)]
        assert len(got) == len(set(got)) and set(got) == expected, f"patient path differs for {flt}"


def test_the_per_patient_exact_path_ranks_like_the_chroma_query(indexes) -> None:  # type: ignore[no-untyped-def]
    """Same ids, same order, same scores as the filtered HNSW query (exact on a small world)."""
    _, dense, patient_path, qvec = indexes
    path: VectorIndex = patient_path
    compared = 0
    for flt in battery_filters():
        for k in (1, 3, 8):
            want = dense.query(qvec, flt, k)
            got = path.query(qvec, flt, k)
            assert [c.source_id for c in got] == [c.source_id for c in want], (
                f"order differs for {flt}, k={k}"
            )
            assert [round(c.score, 4) for c in got] == [round(c.score, 4) for c in want]
            assert [c.model_dump() for c in got] == [
                c.model_dump() | {"score": g.score} for c, g in zip(want, got, strict=True)
            ]
            compared += len(want) > 1
    assert compared > 60, "the battery must compare real rankings"
