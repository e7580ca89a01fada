"""Lexical retrieval shared by every replica: PostgreSQL full-text search
(``CARECITE_LEXICAL_STORE=postgres``).

Table ``chunk_lexical``: the chunk columns (pg_chunks.py) plus ``tsv``, a stored generated
``to_tsvector('english', index_text)`` with a GIN index, under the same row-level security as the
system of record.

Query: the question is tokenised as for BM25 (bm25s' tokenizer, English stop words), and the terms
are OR-ed (``a | b | c``) with the ``english`` configuration (Snowball stemming), so, as with BM25, a
chunk matching any term is a candidate (found through the GIN index). Ranking is **BM25** (Lucene's
variant, bm25s' default: k1 = 1.5, b = 0.75), computed in SQL for the candidates only::

    score(d) = sum over query lexemes t in d of  idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))
    idf(t)   = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))

``tf`` is the number of positions of ``t`` in the chunk's tsvector (``unnest(tsv)``), ``dl`` the
chunk's length in lexeme positions (a stored generated column), ``N``, ``avgdl`` and ``df`` the
corpus statistics. Those statistics are over the WHOLE corpus, as bm25s' are: ``rebuild`` refreshes
them (``chunk_lexical_df`` from ``ts_stat``, ``chunk_lexical_stats``) in its transaction. They list
words of every patient's notes, so the application role may not read those tables: it gets the idf
of the query's own lexemes through one ``SECURITY DEFINER`` function (``carecite_lexical_idf``),
never the word list, never which chunk or patient holds a word. Measured on SciFact (docs/scaling.md):
nDCG@10 0.689 (bm25s 0.662; the former ``ts_rank``, without IDF, 0.597).
Scores are comparable with bm25s' only roughly (Snowball stemming, PostgreSQL's stop words); fusion
uses ranks only (RRF).

``rebuild`` replaces the table's contents in ONE transaction (delete what is gone, upsert the rest):
concurrent readers see the old index until the commit, then the new one — the same guarantee as the
bm25s version swap.
"""

from __future__ import annotations

from collections.abc import Iterable

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
    size_function_sql,
    upsert_rows,
    whole_count,
)
from carecite.text.terms import plain_words

TABLE = "chunk_lexical"
DF_TABLE = "chunk_lexical_df"
STATS_TABLE = "chunk_lexical_stats"
IDF_FUNCTION = "carecite_lexical_idf"
SIZE_FUNCTION = "carecite_lexical_size"  # the row count readiness reports, whoever asks (below)
CONFIG = "english"
BATCH = 1000
K1, B = 1.5, 0.75  # bm25s' defaults (method "lucene")

# Lexeme positions in a tsvector (a stopword-free token count): BM25's document length.
_LENGTH_FUNCTION = """
CREATE OR REPLACE FUNCTION carecite_tsv_length(v tsvector) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(sum(coalesce(array_length(positions, 1), 1)), 0)::integer FROM unnest(v)
$$
"""
# The corpus statistics are the owner's; the application role learns the idf of the lexemes it
# asks about, nothing else (see the module docstring).
_STATS_DDL = (
    f"CREATE TABLE IF NOT EXISTS {DF_TABLE} (lexeme text PRIMARY KEY, df integer NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {STATS_TABLE} (n integer NOT NULL, avgdl double precision NOT NULL)",
    f"""CREATE OR REPLACE FUNCTION {IDF_FUNCTION}(lexemes text[])
    RETURNS TABLE(lexeme text, idf double precision, avgdl double precision)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
      SELECT d.lexeme, ln(1 + (s.n - d.df + 0.5) / (d.df + 0.5)), s.avgdl
      FROM {DF_TABLE} d, {STATS_TABLE} s WHERE d.lexeme = ANY(lexemes)
    $$""",
    size_function_sql(SIZE_FUNCTION, TABLE),  # readiness's count, also under RLS
)
_REFRESH_STATS = (
    f"DELETE FROM {DF_TABLE}",
    f"INSERT INTO {DF_TABLE} SELECT word, ndoc FROM ts_stat('SELECT tsv FROM {TABLE}')",
    f"DELETE FROM {STATS_TABLE}",
    f"INSERT INTO {STATS_TABLE} SELECT count(*), coalesce(avg(dl), 0) FROM {TABLE}",
)


def to_tsquery_text(text: str) -> str:
    """Question → ``term | term | ...`` (safe: only [a-z0-9] survive); "" when nothing is left."""
    tokens = tokenize([text])[0] if text.strip() else []
    terms = sorted({t for tok in tokens for t in plain_words(tok)})
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
            conn.exec_driver_sql(_LENGTH_FUNCTION)
            vector = f"to_tsvector('{CONFIG}', index_text)"
            create_table(
                conn,
                TABLE,
                f"tsv tsvector GENERATED ALWAYS AS ({vector}) STORED, "
                f"dl integer GENERATED ALWAYS AS (carecite_tsv_length({vector})) STORED",
                [
                    f"CREATE INDEX IF NOT EXISTS {TABLE}_tsv ON {TABLE} USING gin (tsv)",
                    # a table from before BM25 (ts_rank): add the length, then the statistics below
                    f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS dl integer "
                    f"GENERATED ALWAYS AS (carecite_tsv_length({vector})) STORED",
                ],
            )
            fresh = conn.exec_driver_sql(f"SELECT to_regclass('{STATS_TABLE}') IS NULL").scalar()
            for ddl in _STATS_DDL:
                conn.exec_driver_sql(ddl)
            if fresh:
                for sql in _REFRESH_STATS:
                    conn.exec_driver_sql(sql)
        return cls(engine)

    def rebuild(self, chunks: Iterable[Chunk]) -> None:
        """Make the table hold exactly ``chunks`` (one transaction), read in one pass: new rows are
        written BATCH at a time, so a streamed corpus is never held whole, only its ids."""
        keep: list[str] = []
        added = False
        with self._engine.begin() as conn:
            have = {str(r[0]) for r in conn.exec_driver_sql(f"SELECT chunk_id FROM {TABLE}")}
            new: list[dict[str, object]] = []
            for c in chunks:
                keep.append(c.chunk_id)
                # chunk ids are content hashes (ingest/indexing.py): an id already present is the same chunk
                if c.chunk_id not in have:
                    new.append(row_values(c))
                if len(new) >= BATCH:
                    upsert_rows(conn, TABLE, new)
                    added, new = True, []
            if new:
                upsert_rows(conn, TABLE, new)
                added = True
            conn.execute(sa.text(f"DELETE FROM {TABLE} WHERE NOT (chunk_id = ANY(:keep))"), {"keep": keep})
            if added or len(have) != len(set(keep) & have):  # the corpus changed: so did its statistics
                for sql in _REFRESH_STATS:
                    conn.exec_driver_sql(sql)

    def ids(self) -> set[str]:
        with self._engine.connect() as conn:
            return {str(r[0]) for r in conn.exec_driver_sql(f"SELECT chunk_id FROM {TABLE}")}

    def count(self) -> int:
        """Every chunk in the index, as the owner counts them (also under the application role)."""
        return whole_count(self._engine, TABLE, SIZE_FUNCTION)

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
                    f"""
WITH lx AS (  -- the query's lexemes, stemmed as the documents were
  SELECT ARRAY(SELECT lexeme FROM unnest(to_tsvector('{CONFIG}', replace(:terms, '|', ' ')))) AS a
),
q AS (SELECT i.lexeme, i.idf, i.avgdl FROM lx, {IDF_FUNCTION}(lx.a) AS i),
hits AS MATERIALIZED (  -- candidates through the GIN index, filtered as the request allows
  SELECT chunk_id, tsv, dl FROM {TABLE}
  WHERE tsv @@ to_tsquery('{CONFIG}', :terms) AND ({" OR ".join(branches)})
),
scored AS (
  -- tf: positions of each query lexeme. setweight marks the query's lexemes and ts_filter keeps
  -- only them (both C functions), so unnest never expands a whole document (3x faster).
  SELECT h.chunk_id, sum(
    q.idf * (x.tf * {K1 + 1}) / (x.tf + {K1} * (1 - {B} + {B} * h.dl / greatest(q.avgdl, 1)))
  ) AS score
  FROM hits h CROSS JOIN lx
  CROSS JOIN LATERAL (
    SELECT u.lexeme, coalesce(array_length(u.positions, 1), 1) AS tf
    FROM unnest(ts_filter(setweight(h.tsv, 'A', lx.a), '{{a}}')) AS u
  ) AS x
  JOIN q ON q.lexeme = x.lexeme
  GROUP BY h.chunk_id
)
SELECT {SELECT_COLUMNS}, s.score FROM scored s JOIN {TABLE} USING (chunk_id)
ORDER BY s.score DESC, chunk_id LIMIT :k"""
                ),
                params,
            ).all()
        return [candidate_from_row(r, float(r._mapping["score"]), "lexical") for r in rows]
