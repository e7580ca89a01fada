"""ports.VectorIndex contract, writes: upsert, delete, ids, count and refusals, on an empty index of
every implementation (embedded Chroma, Chroma server, pgvector). Its own module: the shared Chroma
server holds one collection, which the read-side module keeps loaded while it runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from test_vector_index_contract import IMPLEMENTATIONS, open_index

from carecite.domain import SENSITIVE_LABELS, RetrievalFilter
from carecite.ports import VectorIndex
from filter_battery import PA, battery_chunks


@pytest.fixture(params=IMPLEMENTATIONS)
def empty(request: pytest.FixtureRequest, tmp_path: Path, embedder) -> Iterator[VectorIndex]:  # type: ignore[no-untyped-def]
    yield open_index(request.param, request, tmp_path, embedder)


def test_upsert_is_idempotent_and_delete_removes(empty: VectorIndex, embedder) -> None:  # type: ignore[no-untyped-def]
    chunks = battery_chunks()[:10]
    vecs = embedder.embed_documents([c.index_text for c in chunks])
    empty.upsert(chunks, vecs)
    empty.upsert(chunks, vecs)
    assert empty.count() == 10 and empty.ids() == {c.chunk_id for c in chunks}
    empty.delete([chunks[0].chunk_id, chunks[1].chunk_id, "never-there"])
    assert empty.count() == 8 and chunks[0].chunk_id not in empty.ids()
    flt = RetrievalFilter(patient_key=str(chunks[0].patient_key), allowed_labels=frozenset(SENSITIVE_LABELS))
    assert chunks[0].chunk_id not in {c.source_id for c in empty.query(vecs[0], flt, 20)}


def test_mismatched_vectors_are_refused(empty: VectorIndex, embedder) -> None:  # type: ignore[no-untyped-def]
    chunks = battery_chunks()[:2]
    with pytest.raises(ValueError, match="2 chunks but 1 vectors"):
        empty.upsert(chunks, embedder.embed_documents([chunks[0].index_text]))
    with pytest.raises(ValueError, match="dimension"):
        empty.upsert(chunks, np.zeros((2, 7), dtype=np.float32))
    assert empty.count() == 0


def test_an_empty_store_and_an_impossible_filter_return_nothing(empty: VectorIndex, embedder) -> None:  # type: ignore[no-untyped-def]
    q = embedder.embed_query("anything")
    assert empty.query(q, RetrievalFilter(patient_key=PA, allowed_labels=frozenset()), 5) == []
    assert empty.ids() == set()
