"""Lexical retrieval shared by every replica: PostgreSQL full-text search
(``CARECITE_LEXICAL_STORE=postgres``).

Table ``chunk_lexical``: the chunk columns (pg_chunks.py) plus ``tsv``, a stored generated
``to_tsvector('english', index_text)`` with a GIN index, under the same row-level security as the
system of record.

Query: the question is tokenised as for BM25 (bm25s' tokenizer, English stop words), and the terms
are OR-ed (``a | b | c``) with the ``english`` configuration (Snowball stemming), so, as with BM25, a
chunk matching any term is a candidate. Ranking is ``ts_rank(tsv, query, 1)``: term frequency of the
matched terms, divided by ``1 + log(document length)``. It is not BM25 — no inverse document
frequency, so a common term weighs as much as a rare one. Measured on SciFact (docs/scaling.md):
nDCG@10 0.597 against bm25s' 0.662; cover density (``ts_rank_cd``, which rewards query terms close
together) scored 0.367 on OR-ed question terms and was 3.6x slower, so it is not used. Scores are
not comparable with BM25 scores; fusion uses ranks only (RRF).

``rebuild`` replaces the table's contents in ONE transaction (delete what is gone, upsert the rest):
concurrent readers see the old index until the commit, then the new one — the same guarantee as the
bm25s version swap.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy import Engine

from carecite.domain import Candidate, Chunk, RetrievalFilter
from carecite.retrieval.lexical import tokenize
from carecite.retrieval.pg_chunks import (
    SELECT_COLUMNS,
    candidate_from_row,
    create_table,
    may_build,
    patient_where,
    require_postgres,
    row_values,
    scope_for,
    upsert_rows,
)

TABLE = "chunk_lexical"
CONFIG = "english"
BATCH = 1000
_TERM = re.compile(r"[^a-z0-9]+")


def to_tsquery_text(text: str) -> str:
    """Question → ``term | term | ...`` (safe: only [a-z0-9] survive); "" when nothing is left."""
    tokens = tokenize([text])[0] if text.strip() else []
    terms = sorted({t for tok in tokens for t in _TERM.split(tok.lower()) if t})
    return " | ".join(terms)


class PgFullTextIndex:
    """ports.LexicalIndex over PostgreSQL full-text search."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @classmethod
    def open(cls, engine: Engine) -> PgFullTextIndex:
        require_postgres(engine, "the PostgreSQL full-text index")
        with engine.begin() as conn:
            if not may_build(conn, TABLE):  # the application role: the owner built it
                return cls(engine)
            create_table(
                conn,
                TABLE,
                f"tsv tsvector GENERATED ALWAYS AS (to_tsvector('{CONFIG}', index_text)) STORED",
                [f"CREATE INDEX IF NOT EXISTS {TABLE}_tsv ON {TABLE} USING gin (tsv)"],
            )
        return cls(engine)

    def rebuild(self, chunks: Sequence[Chunk]) -> None:
        keep = [c.chunk_id for c in chunks]
        with self._engine.begin() as conn:
            have = {str(r[0]) for r in conn.exec_driver_sql(f"SELECT chunk_id FROM {TABLE}")}
            conn.execute(sa.text(f"DELETE FROM {TABLE} WHERE NOT (chunk_id = ANY(:keep))"), {"keep": keep})
            # chunk ids are content hashes (ingest/indexing.py): an id already present is the same chunk
            new = [row_values(c) for c in chunks if c.chunk_id not in have]
            for i in range(0, len(new), BATCH):
                upsert_rows(conn, TABLE, new[i : i + BATCH])

    def ids(self) -> set[str]:
        with self._engine.connect() as conn:
            return {str(r[0]) for r in conn.exec_driver_sql(f"SELECT chunk_id FROM {TABLE}")}

    def count(self) -> int:
        with self._engine.connect() as conn:
            return int(conn.exec_driver_sql(f"SELECT count(*) FROM {TABLE}").scalar() or 0)

    def query(self, text: str, flt: RetrievalFilter, k: int) -> list[Candidate]:
        terms = to_tsquery_text(text)
        if k <= 0 or not terms:
            return []
        branches: list[str] = []
        params: dict[str, object] = {"terms": terms, "k": k}
        patient = patient_where(flt)
        if patient is not None:
            branches.append(f"({patient[0]})")
            params.update(patient[1])
        if flt.include_policies:
            branches.append("source_type = 'policy'")
        if not branches:
            return []
        with self._engine.begin() as conn:
            scope_for(conn, flt)
            rows = conn.execute(
                sa.text(
                    f"SELECT {SELECT_COLUMNS}, ts_rank(tsv, q, 1) AS score "
                    f"FROM {TABLE}, to_tsquery('{CONFIG}', :terms) AS q "
                    f"WHERE tsv @@ q AND ({' OR '.join(branches)}) ORDER BY score DESC, chunk_id LIMIT :k"
                ),
                params,
            ).all()
        return [candidate_from_row(r, float(r._mapping["score"]), "lexical") for r in rows]
