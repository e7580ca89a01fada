"""One patient's question scored exactly over that patient's own vectors, not by a filtered HNSW
search over the whole collection.

A filtered Chroma query pays a floor that grows with the collection (measured at 100k entries:
~200 ms with the access-key ``$in``, 3 ms unfiltered), however few entries the filter lets through.
A patient has tens to hundreds of chunks. So when a request is about one patient and nothing else
(no policies), the chunk ids come from SQL's indexed ``patient_key`` (the system of record the index
is synced from), Chroma returns those of them the SAME ``where`` allows, with their stored vectors
(one ``get`` by ids, ~1 ms), and one matmul ranks them: exact cosine, so the top k is the one a
perfect HNSW search would return. Cross-patient searches (policies, coverage questions) keep the
HNSW path. Security is unchanged: the filter still runs inside the store call (``build_where``), the
ids only narrow it to the patient's rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
from sqlalchemy import Engine
from sqlmodel import col, select

from carecite.domain import Candidate, Chunk, RetrievalFilter
from carecite.ports import Vector, VectorIndex
from carecite.records import tables as t
from carecite.records.scoped import RowScope, scoped_session
from carecite.retrieval.dense import candidate_from


class FetchableIndex(VectorIndex, Protocol):
    """A vector index that can hand back the filter-allowed entries among given ids, with vectors."""

    def fetch(
        self, ids: Sequence[str], flt: RetrievalFilter
    ) -> tuple[list[str], list[dict[str, Any]], Vector]: ...


def sql_chunk_ids(engine: Engine) -> Callable[[RetrievalFilter], list[str]]:
    """The filter's patient's chunk ids from SQL (``ChunkRow.patient_key`` is indexed), read under
    that request's row scope (RLS on PostgreSQL)."""

    def ids_of(flt: RetrievalFilter) -> list[str]:
        with scoped_session(engine, RowScope.of_filter(flt)) as session:
            return list(
                session.exec(
                    select(t.ChunkRow.chunk_id).where(col(t.ChunkRow.patient_key) == flt.patient_key)
                ).all()
            )

    return ids_of


def one_patient(flt: RetrievalFilter) -> bool:
    """The request can only ever match one patient's chunks (no policies, no other patient)."""
    return not flt.include_policies


def exact_top_k(
    vector: Vector, ids: list[str], metas: list[dict[str, Any]], vectors: Vector, k: int
) -> list[Candidate]:
    """Cosine similarity of every row (the score Chroma reports: 1 - cosine distance), best k first;
    ties broken by id so the order is stable."""
    if not ids or k <= 0:
        return []
    q = np.asarray(vector, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1) * max(float(np.linalg.norm(q)), 1e-12)
    scores = (vectors @ q) / np.maximum(norms, 1e-12)
    order = sorted(range(len(ids)), key=lambda i: (-float(scores[i]), ids[i]))[:k]
    return [candidate_from(ids[i], metas[i], float(scores[i]), "dense") for i in order]


class PatientScopedVectorIndex:
    """ports.VectorIndex: the exact per-patient path for one-patient filters, ``inner`` for the rest."""

    def __init__(self, inner: FetchableIndex, ids_of: Callable[[RetrievalFilter], list[str]]) -> None:
        self.inner = inner
        self._ids_of = ids_of

    def query(self, vector: Vector, flt: RetrievalFilter, k: int) -> list[Candidate]:
        if not one_patient(flt):
            return self.inner.query(vector, flt, k)
        if not flt.patient_key:  # policies carry patient key "": an empty key matches nothing
            return []
        ids, metas, vectors = self.inner.fetch(self._ids_of(flt), flt)
        return exact_top_k(vector, ids, metas, vectors, k)

    # Everything else is the inner index's.
    def upsert(self, chunks: Sequence[Chunk], vectors: Vector) -> None:
        self.inner.upsert(chunks, vectors)

    def delete(self, chunk_ids: Sequence[str]) -> None:
        self.inner.delete(chunk_ids)

    def ids(self) -> set[str]:
        return self.inner.ids()

    def count(self) -> int:
        return self.inner.count()
