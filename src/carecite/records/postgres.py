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

import hashlib
import hmac
import json
import re
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlmodel import SQLModel

from carecite.domain import SENSITIVE_LABELS
from carecite.records import tables as t
from carecite.records.label_sets import allowed_label_sets

VERSION_TABLE = "carecite_schema_version"
ADVISORY_LOCK = 0x0CA2EC17E  # any constant: serialises migrations across replicas
PATIENT_KEYS = "carecite.patient_keys"  # step 2's self-asserted settings (superseded by step 5)
LABEL_SETS = "carecite.label_sets"
SCOPE_SETTING = "carecite.scope"  # step 5: one signed scope token, checked by the database
SECRET_TABLE = "carecite_scope_secret"  # the signing key: the owner's alone (no grant to anyone)
SCOPE_TTL_S = 300  # a token is good for transactions that start within this long of its signing


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


def verified_allows(patient_key: str, labels: str) -> str:
    """The step-5 scope condition on a row: its patient and label set are in the SIGNED scope.

    The two scope lists are read through scalar sub-selects, so PostgreSQL verifies the token once
    per statement (an InitPlan), not once per row."""
    return (
        f"(coalesce({patient_key}, '') <> '' "
        f"AND ({patient_key})::text = ANY ((SELECT carecite_scope_patient_keys())::text[]) "
        f"AND carecite_label_set({labels}) = ANY ((SELECT carecite_scope_label_sets())::text[]))"
    )


def row_policy_sql(
    table: str, *, labels: bool = True, policies_visible: bool = False, verified: bool = True
) -> list[str]:
    """Enable and FORCE RLS on ``table`` with the one scope condition (used by the index tables too).

    ``verified=False`` is step 2's original, self-asserted condition (kept for that released step)."""
    label_col = "security_labels" if labels else "NULL"
    cond = (
        verified_allows("patient_key", label_col)
        if verified
        else f"carecite_allows(patient_key, {label_col})"
    )
    if policies_visible:  # chunk tables: coverage policies carry no patient and no PHI
        cond = f"(source_type = 'policy' OR {cond})"
    return [
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY',
        *([f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY'] if verified else []),
        f'DROP POLICY IF EXISTS carecite_scope ON "{table}"',
        f'CREATE POLICY carecite_scope ON "{table}" USING ({cond}) WITH CHECK ({cond})',
    ]


def _apply_row_security(conn: Connection, *, verified: bool = True) -> None:
    """The scope policy on every patient-scoped table (idempotent: policies are replaced)."""
    for table, labels in _patient_tables():
        for ddl in row_policy_sql(table, labels=labels, policies_visible=table == _CHUNKS, verified=verified):
            conn.exec_driver_sql(ddl)
    if verified:
        _identifier_and_vector_policies(conn)


def _v1_tables(conn: Connection) -> None:
    SQLModel.metadata.create_all(conn)


def _v2_security(conn: Connection) -> None:
    conn.exec_driver_sql(_FUNCTIONS)
    _apply_row_security(conn, verified=False)
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


# Step 5: the scope is no longer self-asserted. The application signs each transaction's scope with a
# key that lives in an owner-only table (and, for the application process, in a 0600 file outside
# the database); the database checks the HMAC, that the token was minted for THIS backend, and that
# it is fresh, before any policy reads it. The application ROLE can set the setting to anything, but
# cannot forge a token: it may not read the key. Every function a policy reaches pins its
# search_path (a role that can SET search_path must not shadow them).
_VERIFIED_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION carecite_hmac(msg bytea, key bytea) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog AS $$
DECLARE
  k bytea := key; ipad bytea; opad bytea; i int;
BEGIN  -- RFC 2104 HMAC-SHA256 with the built-in sha256() (no pgcrypto needed)
  IF length(k) > 64 THEN k := sha256(k); END IF;
  k := k || decode(repeat('00', 64 - length(k)), 'hex');
  ipad := k; opad := k;
  FOR i IN 0..63 LOOP
    ipad := set_byte(ipad, i, get_byte(k, i) # 54);
    opad := set_byte(opad, i, get_byte(k, i) # 92);
  END LOOP;
  RETURN sha256(opad || sha256(ipad || msg));
END
$$;

CREATE OR REPLACE FUNCTION carecite_verified_scope() RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  token text := current_setting('{SCOPE_SETTING}', true);
  secret bytea;
  payload jsonb;
BEGIN
  IF token IS NULL OR length(token) < 66 THEN RETURN '{{}}'::jsonb; END IF;
  SELECT s.key INTO secret FROM public.{SECRET_TABLE} s WHERE s.id = 1;
  IF secret IS NULL
     OR encode(public.carecite_hmac(convert_to(substr(token, 65), 'UTF8'), secret), 'hex') <> left(token, 64)
  THEN
    RETURN '{{}}'::jsonb;
  END IF;
  payload := substr(token, 65)::jsonb;
  IF (payload->>'pid')::int IS DISTINCT FROM pg_backend_pid()
     OR (payload->>'exp')::float8 < extract(epoch FROM now()) THEN
    RETURN '{{}}'::jsonb;
  END IF;
  RETURN payload;
END
$$;

CREATE OR REPLACE FUNCTION carecite_scope_patient_keys() RETURNS text[]
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
  SELECT coalesce(ARRAY(SELECT jsonb_array_elements_text(public.carecite_verified_scope() -> 'p')), '{{}}')
$$;

CREATE OR REPLACE FUNCTION carecite_scope_label_sets() RETURNS text[]
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
  SELECT coalesce(ARRAY(SELECT jsonb_array_elements_text(public.carecite_verified_scope() -> 'l')), '{{}}')
$$;

-- Step 2's functions now read the verified scope too: nothing reads a self-asserted setting.
CREATE OR REPLACE FUNCTION carecite_scope(name text) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
  SELECT coalesce(public.carecite_verified_scope() -> (CASE name WHEN '{PATIENT_KEYS}' THEN 'p'
                                                              WHEN '{LABEL_SETS}' THEN 'l' END), '[]')
$$;

CREATE OR REPLACE FUNCTION carecite_allows(patient_key text, labels text) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
  SELECT coalesce(patient_key, '') <> ''
     AND patient_key = ANY (public.carecite_scope_patient_keys())
     AND public.carecite_label_set(labels) = ANY (public.carecite_scope_label_sets())
$$;
"""

_IDENTIFIER = str(t.Identifier.__tablename__)
_PATIENT = str(t.Patient.__tablename__)


def _identifier_and_vector_policies(conn: Connection) -> None:
    """``identifier`` maps MRNs to patients: a patient's identifier row is visible exactly when the
    patient's own row is (the sub-select runs under the patient table's policy); practitioner and
    organization identifiers stay visible. ``source_vectors`` follows its chunk or patient."""
    vectors = str(t.SourceVectors.__tablename__)
    patient_ident = "(split_part(key, '|', 1) = 'Patient' OR left(ref, 8) = 'Patient/')"
    conds = {
        _IDENTIFIER: (
            f"(NOT {patient_ident} OR EXISTS (SELECT 1 FROM \"{_PATIENT}\" p WHERE 'Patient/' || p.id = ref))"
        ),
        vectors: (
            f"CASE WHEN left(owner, 8) = 'records:' THEN {verified_allows('substr(owner, 9)', 'NULL')} "
            f'ELSE EXISTS (SELECT 1 FROM "{_CHUNKS}" c WHERE c.chunk_id = owner) END'
        ),
    }
    for table, cond in conds.items():
        for ddl in (
            f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY',
            f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY',
            f'DROP POLICY IF EXISTS carecite_scope ON "{table}"',
            f'CREATE POLICY carecite_scope ON "{table}" USING ({cond}) WITH CHECK ({cond})',
        ):
            conn.exec_driver_sql(ddl)


# Index tables the stores create themselves (pgvector_index / pg_lexical, via row_policy_sql).
INDEX_TABLES: tuple[tuple[str, bool], ...] = (("chunk_vectors", True), ("chunk_lexical", True))


def _v5_verified_scope(conn: Connection) -> None:
    """A signed scope, RLS forced on every patient and identifier table (the owner included unless it
    has BYPASSRLS), and the signing key in a table no other role may read."""
    import secrets

    superuser, bypass = conn.exec_driver_sql(
        "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    ).one()
    if not (superuser or bypass):
        raise SchemaNotReadyError(
            "row-level security is FORCEd on patient tables from schema version 5, so the owner role "
            "that migrates and ingests needs BYPASSRLS: run `ALTER ROLE <owner> BYPASSRLS` as a "
            "superuser, then `carecite db migrate` again"
        )
    conn.exec_driver_sql(
        f"CREATE TABLE IF NOT EXISTS {SECRET_TABLE} (id integer PRIMARY KEY CHECK (id = 1), key bytea NOT NULL)"
    )
    conn.exec_driver_sql(f"REVOKE ALL ON {SECRET_TABLE} FROM PUBLIC")
    conn.execute(
        sa.text(f"INSERT INTO {SECRET_TABLE} (id, key) VALUES (1, :k) ON CONFLICT (id) DO NOTHING"),
        {"k": secrets.token_bytes(32)},
    )
    conn.exec_driver_sql(_VERIFIED_FUNCTIONS)
    _apply_row_security(conn, verified=True)
    present = set(sa.inspect(conn).get_table_names())
    for table, policies_visible in INDEX_TABLES:
        if table in present:
            for ddl in row_policy_sql(table, policies_visible=policies_visible):
                conn.exec_driver_sql(ddl)


# Append only: a released step is never edited (a database that ran it would not run it again).
MIGRATIONS: tuple[tuple[int, str, Callable[[Connection], None]], ...] = (
    (1, "SQLModel tables", _v1_tables),
    (2, "row-level security on patient and label scope; append-only audit triggers", _v2_security),
    (3, "access directory views (what the access decision reads before a scope exists)", _v3_directory),
    (4, "row-level security on sentence vectors, through their chunk or patient", _v4_source_vectors),
    (
        5,
        "signed, database-verified request scope; FORCE row-level security; identifier scoped",
        _v5_verified_scope,
    ),
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
                    _apply_row_security(conn, verified=current >= 5)
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
_FLAGS = str(t.AnswerFlag.__tablename__)
_DRIFT = str(t.DriftSample.__tablename__)


def grant_app_role(
    engine: Engine, role: str, extra_tables: Sequence[str] = (), *, key_file: Path | None = None
) -> None:
    """Give the application role what serving needs and no more: SELECT on every table (patient rows
    under forced RLS; users, policies, meta and identifiers read-only), INSERT only on the audit
    trail, flags and drift samples, UPDATE of the chain head alone (the append lock, forward only).
    Any broader grant an earlier version gave is revoked. With ``key_file``, the scope-signing key
    is written there (mode 0600) for the application process: it signs, the role never reads it."""
    if not _ROLE.match(role):
        raise ValueError(f"not a plain role name: {role!r}")
    with engine.begin() as conn:
        tables = [str(name) for name in SQLModel.metadata.tables]
        tables += [name for name in extra_tables if _ROLE.match(name)]
        for name in tables:
            conn.exec_driver_sql(f'REVOKE ALL ON "{name}" FROM {role}')
            conn.exec_driver_sql(f'GRANT SELECT ON "{name}" TO {role}')
        for name in (_AUDIT, _FLAGS, _DRIFT):
            conn.exec_driver_sql(f'GRANT INSERT ON "{name}" TO {role}')
        conn.exec_driver_sql(f'GRANT UPDATE ON "{_HEAD}" TO {role}')
        conn.exec_driver_sql(f"REVOKE ALL ON {SECRET_TABLE} FROM {role}")
        conn.exec_driver_sql(f"GRANT SELECT ON {VERSION_TABLE} TO {role}")
        from carecite.records.directory import VIEW_NAMES  # read-only, and nothing clinical

        for view in VIEW_NAMES:
            conn.exec_driver_sql(f"GRANT SELECT ON {view} TO {role}")
        conn.exec_driver_sql(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}")
        key = conn.exec_driver_sql(f"SELECT key FROM {SECRET_TABLE} WHERE id = 1").scalar_one()
    if key_file is not None:
        write_scope_key(key_file, bytes(key))


def write_scope_key(path: Path, key: bytes) -> None:
    """The signing key as hex in a file only its owner may read."""
    import os

    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key.hex() + "\n")
    path.chmod(0o600)


def read_scope_key(path: Path) -> bytes | None:
    try:
        return bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError):
        return None


class ScopeKeyMissingError(RuntimeError):
    """This role cannot read the scope-signing key and the process was given none."""


_SCOPE_KEYS: weakref.WeakKeyDictionary[Engine, bytes] = weakref.WeakKeyDictionary()


def register_scope_key(engine: Engine, key: bytes | None) -> None:
    """The key this engine's sessions sign their scope with (read from the settings' key file)."""
    if key:
        _SCOPE_KEYS[engine] = key


def _scope_key(conn: Connection) -> bytes:
    engine = conn.engine
    key = _SCOPE_KEYS.get(engine)
    if key is None:  # the owner may read it from the database; the application role may not
        readable = conn.exec_driver_sql(
            f"SELECT coalesce(has_table_privilege(to_regclass('{SECRET_TABLE}'), 'SELECT'), false)"
        ).scalar_one()
        if readable:
            got = conn.exec_driver_sql(f"SELECT key FROM {SECRET_TABLE} WHERE id = 1").scalar()
            key = bytes(got) if got is not None else None
        if key is None:
            raise ScopeKeyMissingError(
                "this database role cannot read the scope-signing key and none was configured: run "
                "`carecite db migrate --app-role ROLE` as the owner (it writes "
                "CARECITE_DB_SCOPE_KEY_FILE, default <data-dir>/db-scope.key)"
            )
        _SCOPE_KEYS[engine] = key
    return key


def _backend_pid(conn: Connection) -> int:
    record = conn.connection  # the pooled DBAPI connection: its info outlives this checkout
    pid = record.info.get("carecite_backend_pid")
    if pid is None:
        pid = int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
        record.info["carecite_backend_pid"] = pid
    return int(pid)


def scope_token(key: bytes, pid: int, patient_keys: Iterable[str], allowed_labels: frozenset[str]) -> str:
    """``hex(HMAC-SHA256(key, payload)) + payload``: the patients, label sets, backend and expiry."""
    payload = json.dumps(
        {
            "p": sorted(set(patient_keys)),
            "l": list(allowed_label_sets(frozenset(allowed_labels))),
            "pid": pid,
            "exp": int(time.time()) + SCOPE_TTL_S,
        },
        separators=(",", ":"),
    )
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest() + payload


def scope_settings(patient_keys: Iterable[str], allowed_labels: frozenset[str]) -> dict[str, str]:
    """Step 2's self-asserted settings (the database no longer trusts them; kept for reference)."""
    return {
        PATIENT_KEYS: json.dumps(sorted(set(patient_keys))),
        LABEL_SETS: json.dumps(list(allowed_label_sets(frozenset(allowed_labels)))),
    }


def set_scope(conn: Connection, patient_keys: Iterable[str], allowed_labels: frozenset[str]) -> None:
    """Sign the request's scope and ``SET LOCAL`` it for the rest of this transaction (no effect on
    SQLite). The database verifies the signature before any row policy reads it."""
    if conn.dialect.name != "postgresql":
        return
    token = scope_token(_scope_key(conn), _backend_pid(conn), patient_keys, allowed_labels)
    conn.execute(sa.text("SELECT set_config(:n, :v, true)"), {"n": SCOPE_SETTING, "v": token})


def role_problems(engine: Engine) -> list[str]:
    """Why this engine's role must not serve requests: a superuser, a BYPASSRLS role, or one that
    owns (or may act as the owner of) carecite's tables is not bound by row-level security."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT current_user, r.rolsuper, r.rolbypassrls, "
            "coalesce(pg_has_role(current_user, c.relowner, 'USAGE'), false) "
            "FROM pg_roles r LEFT JOIN pg_class c ON c.oid = to_regclass('patient') "
            "WHERE r.rolname = current_user"
        ).one()
    user, superuser, bypass, owner = row
    problems = []
    if superuser:
        problems.append(f"role {user} is a superuser")
    if bypass:
        problems.append(f"role {user} has BYPASSRLS")
    if owner:
        problems.append(f"role {user} owns carecite's tables (or is a member of their owner)")
    return problems
