"""Dense retrieval in PostgreSQL with pgvector (``CARECITE_VECTOR_STORE=pgvector``).

One table, ``chunk_vectors``: the chunk's filter and display columns (pg_chunks.py) plus a
``vector(dim)`` embedding, under the same row-level security as the system of record.

Two query paths, because they have different shapes:

* **A patient's chunks**: exact. The filter picks the patient's rows through the btree on
  ``access_key`` (a patient has hundreds of chunks, not millions), then every one is scored. The
  candidate rows are a ``MATERIALIZED`` CTE so the planner cannot swap in the HNSW index and filter
  after it — the classic pgvector pitfall, where an approximate top-``ef_search`` list is filtered
  down to fewer than ``k`` results (or none).
* **Coverage policies** (shared by every patient): the HNSW index (cosine), partial on
  ``source_type = 'policy'`` so every row the index walks qualifies and none is filtered out after.

The two lists are merged by distance; the top ``k`` of the union is the top ``k`` of the merge.
Scores are ``1 - cosine distance``, as Chroma's.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import sqlalchemy as sa
from pgvector import Vector as PgVector
from sqlalchemy import Engine

from carecite.domain import Candidate, Chunk, RetrievalFilter
from carecite.ports import Embedder, Vector
from carecite.retrieval.pg_chunks import (
    SELECT_COLUMNS,
    candidate_from_row,
    create_table,
    may_build,
    patient_where,
    require_postgres,
    row_values,
    scope_for,
    size_function_sql,
    upsert_rows,
    whole_count,
)

TABLE = "chunk_vectors"
META_TABLE = "carecite_index_meta"
SIZE_FUNCTION = "carecite_vector_size"  # readiness's count, also under RLS (pg_chunks.size_function_sql)
BATCH = 500
MAX_EF_SEARCH = 1000  # pgvector's limit; HNSW returns at most ef_search rows


def _text(vector: Vector) -> str:
    """pgvector's text form ("[0.1,0.2,...]"), cast to ``vector`` in the SQL."""
    return str(PgVector(np.asarray(vector, dtype=np.float32)).to_text())


class PgVectorIndex:
    """ports.VectorIndex over pgvector."""

    def __init__(self, engine: Engine, embedder: Embedder) -> None:
        self._engine = engine
        self._embedder = embedder

    @classmethod
    def open(cls, engine: Engine, embedder: Embedder) -> PgVectorIndex:
        """Create the extension, table and indexes when missing; refuse a table built with another
        embedding model (the rule Chroma's collection metadata enforces in dense.py)."""
        from carecite.retrieval.dense import EmbedderMismatchError

        require_postgres(engine, "the pgvector index")
        with engine.begin() as conn:
            build = may_build(conn, TABLE)
            if build:
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS vector")
                conn.exec_driver_sql(
                    f"CREATE TABLE IF NOT EXISTS {META_TABLE} (name text PRIMARY KEY, fingerprint text NOT NULL)"
                )
                conn.execute(
                    sa.text(f"INSERT INTO {META_TABLE} VALUES (:n, :f) ON CONFLICT (name) DO NOTHING"),
                    {"n": TABLE, "f": embedder.fingerprint},
                )
            found = conn.execute(
                sa.text(f"SELECT fingerprint FROM {META_TABLE} WHERE name = :n"), {"n": TABLE}
            ).scalar()
            if found != embedder.fingerprint:
                raise EmbedderMismatchError(
                    f"the pgvector index was built with embedding model {found!r}, but "
                    f"{embedder.fingerprint!r} is configured; use the original model, or drop table "
                    f"{TABLE} and run `carecite ingest` again to rebuild it from SQL"
                )
            if not build:
                return cls(engine, embedder)
            create_table(
                conn,
                TABLE,
                f"embedding vector({embedder.dim}) NOT NULL",
                [
                    f"CREATE INDEX IF NOT EXISTS {TABLE}_policy_hnsw ON {TABLE} "
                    "USING hnsw (embedding vector_cosine_ops) WHERE source_type = 'policy'",
                ],
            )
            conn.exec_driver_sql(size_function_sql(SIZE_FUNCTION, TABLE))
        return cls(engine, embedder)

    def upsert(self, chunks: Sequence[Chunk], vectors: Vector) -> None:
        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        if len(chunks) and vectors.shape[1] != self._embedder.dim:
            raise ValueError(f"vectors have dimension {vectors.shape[1]}, index expects {self._embedder.dim}")
        for i in range(0, len(chunks), BATCH):  # each batch is one transaction: durable on its own
            rows = [
                {**row_values(c), "embedding": _text(v)}
                for c, v in zip(chunks[i : i + BATCH], vectors[i : i + BATCH], strict=True)
            ]
            with self._engine.begin() as conn:
                upsert_rows(conn, TABLE, rows, extra=("embedding",))

    def delete(self, chunk_ids: Sequence[str]) -> None:
        ids = list(chunk_ids)
        for i in range(0, len(ids), BATCH):
            with self._engine.begin() as conn:
                conn.execute(
                    sa.text(f"DELETE FROM {TABLE} WHERE chunk_id = ANY(:ids)"), {"ids": ids[i : i + BATCH]}
                )

    def ids(self) -> set[str]:
        with self._engine.connect() as conn:
            return {str(r[0]) for r in conn.exec_driver_sql(f"SELECT chunk_id FROM {TABLE}")}

    def count(self) -> int:
        """Every chunk in the index, as the owner counts them (also under the application role)."""
        return whole_count(self._engine, TABLE, SIZE_FUNCTION)

    def query(self, vector: Vector, flt: RetrievalFilter, k: int) -> list[Candidate]:
        if k <= 0:
            return []
        q = _text(vector)
        found: list[tuple[float, sa.Row[object]]] = []
        with self._engine.begin() as conn:
            scope_for(conn, flt)
            patient = patient_where(flt)
            if patient is not None:
                where, params = patient
                rows = conn.execute(
                    sa.text(
                        f"WITH scoped AS MATERIALIZED (SELECT {SELECT_COLUMNS}, embedding FROM {TABLE} "
                        f"WHERE {where}) SELECT {SELECT_COLUMNS}, embedding <=> CAST(:q AS vector) AS dist "
                        "FROM scoped ORDER BY dist, chunk_id LIMIT :k"
                    ),
                    {**params, "q": q, "k": k},
                )
                found += [(float(r._mapping["dist"]), r) for r in rows]
            if flt.include_policies:
                conn.execute(sa.text(f"SET LOCAL hnsw.ef_search = {max(40, min(k, MAX_EF_SEARCH))}"))
                rows = conn.execute(
                    sa.text(
                        f"SELECT {SELECT_COLUMNS}, embedding <=> CAST(:q AS vector) AS dist FROM {TABLE} "
                        "WHERE source_type = 'policy' ORDER BY embedding <=> CAST(:q AS vector) LIMIT :k"
                    ),
                    {"q": q, "k": k},
                )
                found += [(float(r._mapping["dist"]), r) for r in rows]
        found.sort(key=lambda x: (x[0], x[1]._mapping["chunk_id"]))
        return [candidate_from_row(r, 1.0 - dist, "dense") for dist, r in found[:k]]
