"""PostgreSQL as the system of record: versioned schema, row-level security, append-only audit.

``make_engine`` calls ``migrate`` for a ``postgresql`` URL. Migrations are numbered steps recorded in
``carecite_schema_version``, applied in order under an advisory lock (several replicas may start at
once); a database already at ``LATEST`` costs one SELECT, so the application role, which may not run
DDL, starts fine against a migrated database and gets a clear error against an unmigrated one.

Row-level security is defence in depth UNDER the application's own filter (``RetrievalFilter``):
every table that holds a patient's rows lets a session see a row only when the request's scope,
set as transaction-local settings by ``set_scope``, allows it::

    carecite.patient_keys   JSON array of the patient keys the request may read
    carecite.label_sets     JSON array of the sensitive-label sets it may read (label_sets.py)

A row is visible when its patient key is in the first and its canonical sensitive-label set (the
same ``label_set`` the vector and lexical indexes store in their access key) is in the second. No
scope set: nothing is visible. Coverage policies (no patient) stay visible. RLS binds roles that are
not the table owner (PostgreSQL exempts owners and superusers), which is why the application runs as
its own role (``grant_app_role``) while migrations run as the owner. The application role may
SELECT and INSERT the audit trail but never UPDATE or DELETE it; a trigger rejects those for every
role too (the owner included), as the SQLite triggers do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlmodel import SQLModel

from carecite.domain import SENSITIVE_LABELS
from carecite.records import tables as t
from carecite.records.label_sets import allowed_label_sets

VERSION_TABLE = "carecite_schema_version"
ADVISORY_LOCK = 0x0CA2EC17E  # any constant: serialises migrations across replicas
PATIENT_KEYS = "carecite.patient_keys"
LABEL_SETS = "carecite.label_sets"


# Tables whose rows belong to one patient: every SQLModel table with a ``patient_key`` column (so a
# table added later is covered without anyone remembering this list), except the audit trail, which
# reviewers read across patients and which the application role may only append to.
def _patient_tables() -> list[tuple[str, bool]]:
    """(table name, has a security_labels column) of every patient-scoped table."""
    return [
        (name, "security_labels" in table.c)
        for name, table in SQLModel.metadata.tables.items()
        if "patient_key" in table.c and name != str(t.AuditRecord.__tablename__)
    ]


_AUDIT = str(t.AuditRecord.__tablename__)
_HEAD = str(t.AuditChainHead.__tablename__)
_CHUNKS = str(t.ChunkRow.__tablename__)


class SchemaNotReadyError(RuntimeError):
    """The database is behind this code's schema and this role may not migrate it."""


def _sql_array(values: Iterable[str]) -> str:
    return "ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "]::text[]"


# The same canonical label set as label_sets.label_set, in SQL: SENSITIVE_LABELS order, "|"-joined,
# from the stored "|A|B|" string; non-sensitive codes drop out (they never restrict access).
_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION carecite_label_set(labels text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(string_agg(s.l, '|' ORDER BY s.ord), '')
  FROM unnest({_sql_array(SENSITIVE_LABELS)}) WITH ORDINALITY AS s(l, ord)
  WHERE position('|' || s.l || '|' IN coalesce(labels, '')) > 0
$$;

CREATE OR REPLACE FUNCTION carecite_scope(name text) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT coalesce(nullif(current_setting(name, true), ''), '[]')::jsonb
$$;

CREATE OR REPLACE FUNCTION carecite_allows(patient_key text, labels text) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT coalesce(patient_key, '') <> ''
     AND carecite_scope('{PATIENT_KEYS}') ? patient_key
     AND carecite_scope('{LABEL_SETS}') ? carecite_label_set(labels)
$$;

CREATE OR REPLACE FUNCTION carecite_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = '{_HEAD}' THEN
    IF TG_OP = 'DELETE' THEN
      RAISE EXCEPTION 'the audit chain head cannot be deleted';
    ELSIF NEW.seq < OLD.seq THEN
      RAISE EXCEPTION 'the audit chain head cannot move backwards';
    END IF;
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit records are append-only';
END
$$;
"""


def row_policy_sql(table: str, *, labels: bool = True, policies_visible: bool = False) -> list[str]:
    """Enable RLS on ``table`` with the one scope condition (used by the index tables too)."""
    cond = f"carecite_allows(patient_key, {'security_labels' if labels else 'NULL'})"
    if policies_visible:  # chunk tables: coverage policies carry no patient and no PHI
        cond = f"(source_type = 'policy' OR {cond})"
    return [
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY',
        f'DROP POLICY IF EXISTS carecite_scope ON "{table}"',
        f'CREATE POLICY carecite_scope ON "{table}" USING ({cond}) WITH CHECK ({cond})',
    ]


def _apply_row_security(conn: Connection) -> None:
    """The scope policy on every patient-scoped table (idempotent: policies are replaced)."""
    for table, labels in _patient_tables():
        for ddl in row_policy_sql(table, labels=labels, policies_visible=table == _CHUNKS):
            conn.exec_driver_sql(ddl)


def _v1_tables(conn: Connection) -> None:
    SQLModel.metadata.create_all(conn)


def _v2_security(conn: Connection) -> None:
    conn.exec_driver_sql(_FUNCTIONS)
    _apply_row_security(conn)
    for table, ops in ((_AUDIT, "UPDATE OR DELETE"), (_HEAD, "UPDATE OR DELETE")):
        conn.exec_driver_sql(f'DROP TRIGGER IF EXISTS carecite_append_only ON "{table}"')
        conn.exec_driver_sql(
            f'CREATE TRIGGER carecite_append_only BEFORE {ops} ON "{table}" '
            "FOR EACH ROW EXECUTE FUNCTION carecite_audit_append_only()"
        )


def _v3_directory(conn: Connection) -> None:
    from carecite.records.directory import create_views  # owner-rights views: see directory.py

    create_views(conn)


def _v4_source_vectors(conn: Connection) -> None:
    """Sentence vectors (``source_vectors``) carry no patient column: a chunk's row is visible when
    its chunk row is (the subquery runs under chunkrow's own policy: patient, labels, or a public
    policy chunk), a patient's record statements (``records:<patient_key>``) when the patient is in
    scope. The rows hold vectors, never text; the scope keeps even those to what the request may see."""
    table = str(t.SourceVectors.__tablename__)
    cond = (
        f"CASE WHEN left(owner, 8) = 'records:' THEN carecite_allows(substr(owner, 9), NULL) "
        f'ELSE EXISTS (SELECT 1 FROM "{_CHUNKS}" c WHERE c.chunk_id = owner) END'
    )
    for ddl in (
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY',
        f'DROP POLICY IF EXISTS carecite_scope ON "{table}"',
        f'CREATE POLICY carecite_scope ON "{table}" USING ({cond}) WITH CHECK ({cond})',
    ):
        conn.exec_driver_sql(ddl)


# Append only: a released step is never edited (a database that ran it would not run it again).
MIGRATIONS: tuple[tuple[int, str, Callable[[Connection], None]], ...] = (
    (1, "SQLModel tables", _v1_tables),
    (2, "row-level security on patient and label scope; append-only audit triggers", _v2_security),
    (3, "access directory views (what the access decision reads before a scope exists)", _v3_directory),
    (4, "row-level security on sentence vectors, through their chunk or patient", _v4_source_vectors),
)
LATEST = MIGRATIONS[-1][0]


def schema_version(conn: Connection) -> int:
    if not sa.inspect(conn).has_table(VERSION_TABLE):
        return 0
    got = conn.exec_driver_sql(f"SELECT max(version) FROM {VERSION_TABLE}").scalar()
    return int(got or 0)


def _missing_tables(conn: Connection) -> list[str]:
    present = set(sa.inspect(conn).get_table_names())
    return [name for name in SQLModel.metadata.tables if name not in present]


def migrate(engine: Engine) -> int:
    """Bring the schema to ``LATEST``; returns how many steps ran. Idempotent and replica-safe."""
    with engine.connect() as conn:
        if schema_version(conn) >= LATEST and not _missing_tables(conn):
            return 0
    ran = 0
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK})")
            conn.exec_driver_sql(
                f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version integer PRIMARY KEY, "
                "description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            current = schema_version(conn)
            if current and _missing_tables(conn):
                # A table added to SQLModel since (another feature's): creating it is additive and
                # idempotent; anything else (policies, alters) needs its own numbered step.
                SQLModel.metadata.create_all(conn)
                if current >= 2:  # else step 2 below covers the new tables too
                    _apply_row_security(conn)
                if current >= 3:  # a new record table joins the source directory
                    _v3_directory(conn)
            for version, description, step in MIGRATIONS:
                if version > current:
                    step(conn)
                    conn.execute(
                        sa.text(f"INSERT INTO {VERSION_TABLE} (version, description) VALUES (:v, :d)"),
                        {"v": version, "d": description},
                    )
                    ran += 1
    except sa.exc.ProgrammingError as exc:  # e.g. the application role may not CREATE
        raise SchemaNotReadyError(
            f"the database schema is older than this carecite (version {LATEST}) and this role may "
            "not migrate it: run `carecite db migrate` as the database owner"
        ) from exc
    return ran


_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def grant_app_role(engine: Engine, role: str, extra_tables: Sequence[str] = ()) -> None:
    """Give the application role what it needs and no more: read/write on the clinical tables (under
    RLS), SELECT and INSERT only on the audit trail, UPDATE of the chain head (the append lock)."""
    if not _ROLE.match(role):
        raise ValueError(f"not a plain role name: {role!r}")
    with engine.begin() as conn:
        tables = [str(name) for name in SQLModel.metadata.tables if name not in (_AUDIT, _HEAD)]
        tables += [name for name in extra_tables if _ROLE.match(name)]
        for name in tables:
            conn.exec_driver_sql(f'GRANT SELECT, INSERT, UPDATE, DELETE ON "{name}" TO {role}')
        conn.exec_driver_sql(f'GRANT SELECT, INSERT ON "{_AUDIT}" TO {role}')
        conn.exec_driver_sql(f'REVOKE UPDATE, DELETE, TRUNCATE ON "{_AUDIT}" FROM {role}')
        conn.exec_driver_sql(f'GRANT SELECT, INSERT, UPDATE ON "{_HEAD}" TO {role}')
        conn.exec_driver_sql(f'REVOKE DELETE, TRUNCATE ON "{_HEAD}" FROM {role}')
        conn.exec_driver_sql(f"GRANT SELECT ON {VERSION_TABLE} TO {role}")
        from carecite.records.directory import VIEW_NAMES  # read-only, and nothing clinical

        for view in VIEW_NAMES:
            conn.exec_driver_sql(f"GRANT SELECT ON {view} TO {role}")
        conn.exec_driver_sql(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}")


def scope_settings(patient_keys: Iterable[str], allowed_labels: frozenset[str]) -> dict[str, str]:
    """The session settings RLS reads, from the same label-set rule the indexes use."""
    return {
        PATIENT_KEYS: json.dumps(sorted(set(patient_keys))),
        LABEL_SETS: json.dumps(list(allowed_label_sets(frozenset(allowed_labels)))),
    }


def set_scope(conn: Connection, patient_keys: Iterable[str], allowed_labels: frozenset[str]) -> None:
    """``SET LOCAL`` the request's scope for the rest of this transaction (no effect on SQLite)."""
    if conn.dialect.name != "postgresql":
        return
    for name, value in scope_settings(patient_keys, allowed_labels).items():
        conn.execute(sa.text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value})
