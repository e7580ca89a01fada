"""What the PostgreSQL indexes (pgvector, full-text) share: the chunk columns, the access filter
as SQL, and the request scope RLS checks underneath it.

Both index tables carry the same filter and display columns as the Chroma metadata (dense.py), the
same ``access_key`` (label_sets.py), and the same row-level security policy as the system-of-record
tables (records/postgres.py). A query therefore filters twice: the ``RetrievalFilter`` as a WHERE
clause (the application's rule), and RLS from the scope set for that transaction (defence in depth
when the application connects as its own role).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from carecite.domain import Candidate, Chunk, RetrievalFilter, resource_type_of
from carecite.records.label_sets import access_key, allowed_access_keys
from carecite.records.postgres import row_policy_sql, set_scope
from carecite.records.tables import labels_from_str, labels_to_str

# Columns every chunk-index table has besides its own (embedding, tsvector).
COLUMNS_DDL = """
    chunk_id text PRIMARY KEY,
    source_type text NOT NULL,
    source_ref text NOT NULL,
    resource_type text NOT NULL,
    doc_id text NOT NULL,
    patient_key text,
    facility text,
    note_type text,
    note_date integer NOT NULL DEFAULT 0,
    security_labels text NOT NULL DEFAULT '',
    access_key text NOT NULL,
    start integer NOT NULL,
    "end" integer NOT NULL,
    section text,
    text text NOT NULL,
    index_text text NOT NULL
"""
COLUMNS = (
    "chunk_id",
    "source_type",
    "source_ref",
    "resource_type",
    "doc_id",
    "patient_key",
    "facility",
    "note_type",
    "note_date",
    "security_labels",
    "access_key",
    "start",
    "end",
    "section",
    "text",
    "index_text",
)
SELECT_COLUMNS = ", ".join(f'"{c}"' for c in COLUMNS if c != "index_text")


class PostgresRequiredError(ValueError):
    """A PostgreSQL index was configured without a PostgreSQL database URL."""


def require_postgres(engine: Engine, what: str) -> None:
    if engine.dialect.name != "postgresql":
        raise PostgresRequiredError(
            f"{what} needs PostgreSQL: set CARECITE_DATABASE_URL=postgresql+psycopg://... "
            f"(the database is {engine.dialect.name})"
        )


def size_function_sql(function: str, table: str) -> str:
    """DDL of a ``SECURITY DEFINER`` function that counts ``table``'s rows as its owner. Under forced
    RLS the application role's own ``count(*)`` sees only the rows of its scope (none without one),
    so readiness reported an ingested index as empty. It returns a number, never a row."""
    return f"""CREATE OR REPLACE FUNCTION {function}() RETURNS bigint
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
      SELECT count(*) FROM {table}
    $$"""


def whole_count(engine: Engine, table: str, function: str) -> int:
    """``table``'s rows through ``function`` (``size_function_sql``) when the owner has created it;
    else a plain count (an index built before the function existed, or a role that owns the table)."""
    with engine.connect() as conn:
        if conn.execute(sa.text("SELECT to_regprocedure(:f) IS NOT NULL"), {"f": f"{function}()"}).scalar():
            return int(conn.exec_driver_sql(f"SELECT {function}()").scalar() or 0)
        return int(conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar() or 0)


def may_build(conn: Connection, table: str) -> bool:
    """Whether this connection should run ``table``'s DDL: the table is missing, or this role owns it.
    The application role (no DDL rights) opens an index the owner built, and only reads and writes."""
    owns = conn.execute(
        sa.text(
            "SELECT pg_has_role(current_user, relowner, 'USAGE') FROM pg_class WHERE oid = to_regclass(:t)"
        ),
        {"t": table},
    ).scalar()
    return owns is None or bool(owns)


def create_table(conn: Connection, table: str, extra_ddl: str, indexes: Sequence[str]) -> None:
    """The index table, its indexes and its RLS policy; idempotent (derived data, rebuilt from SQL)."""
    conn.exec_driver_sql(f"CREATE TABLE IF NOT EXISTS {table} ({COLUMNS_DDL}, {extra_ddl})")
    conn.exec_driver_sql(
        f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS section text"
    )  # tables from before sections
    conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {table}_access ON {table} (access_key)")
    conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {table}_doc ON {table} (doc_id)")
    for ddl in indexes:
        conn.exec_driver_sql(ddl)
    for ddl in row_policy_sql(table, policies_visible=True):
        conn.exec_driver_sql(ddl)


def row_values(c: Chunk) -> dict[str, Any]:
    return {
        "chunk_id": c.chunk_id,
        "source_type": c.source_type,
        "source_ref": c.source_ref,
        "resource_type": resource_type_of(c.source_ref),
        "doc_id": c.doc_id,
        "patient_key": c.patient_key,
        "facility": c.facility,
        "note_type": c.note_type,
        "note_date": c.note_date,
        "security_labels": labels_to_str(c.security_labels),
        "access_key": access_key(c.patient_key, c.security_labels),
        "start": c.start,
        "end": c.end,
        "section": c.section,
        "text": c.text,
        "index_text": c.index_text,
    }


def candidate_from_row(row: sa.Row[Any], score: float, retriever: str) -> Candidate:
    m = row._mapping
    return Candidate.model_validate(
        {
            "source_id": m["chunk_id"],
            "source_type": m["source_type"],
            "source_ref": m["source_ref"],
            "patient_key": m["patient_key"] or None,
            "text": m["text"],
            "score": score,
            "retriever": retriever,
            "facility": m["facility"] or None,
            "note_type": m["note_type"] or None,
            "note_date": int(m["note_date"]),
            "security_labels": labels_from_str(m["security_labels"]),
            "doc_id": m["doc_id"],
            "start": int(m["start"]),
            "end": int(m["end"]),
            "section": m["section"] or None,
        }
    )


def patient_where(flt: RetrievalFilter) -> tuple[str, dict[str, Any]] | None:
    """The patient branch of the RetrievalFilter semantics (domain.py) as SQL, None when it allows
    nothing. Patient and labels are one indexed ``access_key = ANY(...)`` (label_sets.py)."""
    if not flt.patient_key:  # policies store no patient key: an empty key matches nothing
        return None
    conds = ["access_key = ANY(:keys)", "source_type <> 'policy'"]
    params: dict[str, Any] = {"keys": allowed_access_keys(flt)}
    if flt.facility is not None:
        conds.append("facility = :facility")
        params["facility"] = flt.facility
    if flt.resource_types is not None:
        conds.append("resource_type = ANY(:rtypes)")
        params["rtypes"] = sorted(flt.resource_types)
    if flt.note_types:
        conds.append("note_type = ANY(:ntypes)")
        params["ntypes"] = list(flt.note_types)
    if flt.date_from:
        conds.append("note_date >= :dfrom")
        params["dfrom"] = flt.date_from
    if flt.date_to:
        conds.append("note_date <= :dto")
        params["dto"] = flt.date_to
    return " AND ".join(conds), params


def scope_for(conn: Connection, flt: RetrievalFilter) -> None:
    """The RLS scope of this query's transaction: the filter's patient and allowed labels."""
    set_scope(conn, [flt.patient_key] if flt.patient_key else [], flt.allowed_labels)


def upsert_rows(
    conn: Connection, table: str, rows: Sequence[dict[str, Any]], extra: Sequence[str] = ()
) -> None:
    cols = [*COLUMNS, *extra]
    names = ", ".join(f'"{c}"' for c in cols)
    binds = ", ".join(f":{c}" for c in cols)
    updates = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in cols if c != "chunk_id")
    stmt = sa.text(
        f"INSERT INTO {table} ({names}) VALUES ({binds}) ON CONFLICT (chunk_id) DO UPDATE SET {updates}"
    )
    if rows:
        conn.execute(stmt, list(rows))
