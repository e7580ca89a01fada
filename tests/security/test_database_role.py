"""The PostgreSQL second wall, attacked AS the application role (issue 28): whoever holds the API's
database credentials (a leaked password, an SQL injection) tries each attack an insider's probe found.

The owner loads three patients; the application role is granted by ``grant_app_role`` and handed
the scope-signing key in a file, as ``carecite db migrate --app-role`` does."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from carecite.domain import SENSITIVE_LABELS
from carecite.ingest.fhir import IngestReport, ingest_file, resolve_pending
from carecite.package_data import COMMITTED_WORLD
from carecite.records import make_engine, session_scope
from carecite.records.label_sets import allowed_label_sets
from carecite.records.postgres import (
    SCOPE_SETTING,
    grant_app_role,
    read_scope_key,
    role_problems,
    scope_token,
    set_scope,
)
from carecite.settings import Settings

BUNDLES = [
    COMMITTED_WORLD / "fhir" / n
    for n in ("directory.json", "patient-00001.json", "patient-00002.json", "patient-00003.json")
]
ALL_LABEL_SETS = json.dumps(list(allowed_label_sets(frozenset(SENSITIVE_LABELS))))


@pytest.fixture(scope="module")
def db(pg_server, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    from carecite.ingest.indexing import _all_chunks
    from carecite.retrieval.pg_lexical import PgFullTextIndex
    from carecite.stores import Stores

    name = pg_server.create_database()
    owner = make_engine(pg_server.url(name))
    stores = Stores(Settings(data_dir=tmp_path_factory.mktemp("db-role")))
    stores.__dict__["engine"] = owner
    report = IngestReport()
    for path in BUNDLES:
        ingest_file(stores, path, report)
    with session_scope(owner) as session:
        resolve_pending(session, report)
        session.add_all(  # a user, a coverage policy and a meta fact, as an ingest leaves them
            [
                _row("User", id="cc-probe", name="Probe", role="care_coordinator"),
                _row("Meta", key="probe", value="1"),
            ]
        )
    PgFullTextIndex.open(owner).rebuild(_all_chunks(stores))
    role = f"app_{uuid.uuid4().hex[:8]}"
    with owner.begin() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
        keys = sorted(str(r[0]) for r in conn.exec_driver_sql("SELECT patient_key FROM patient"))
        mrn_rows = conn.exec_driver_sql(
            "SELECT count(*) FROM identifier WHERE key LIKE 'Patient|%%'"
        ).scalar()
    key_file = tmp_path_factory.mktemp("app") / "db-scope.key"
    grant_app_role(owner, role, extra_tables=["chunk_lexical"], key_file=key_file)
    app = make_engine(pg_server.url(name, user=role), scope_key=read_scope_key(key_file))
    return {
        "owner": owner,
        "app": app,
        "role": role,
        "keys": keys,
        "mrns": mrn_rows,
        "key_file": key_file,
        "url": pg_server.url(name, user=role),
        "server": pg_server,
        "name": name,
    }


def _row(kind: str, **values: Any) -> Any:
    from carecite.records import tables as t

    return getattr(t, kind)(**values)


def _count(conn: sa.Connection, sql: str) -> int:
    return int(conn.exec_driver_sql(sql).scalar_one())


def test_identifier_hides_patients_mrns_without_a_scope(db: dict[str, Any]) -> None:
    """`select key, ref from identifier where key like 'Patient|%'` returned every MRN-to-patient
    pair with no scope set."""
    assert db["mrns"] > 0, "the world has patient identifiers to hide"
    with db["app"].connect() as conn:
        assert conn.exec_driver_sql("SELECT key, ref FROM identifier WHERE key LIKE 'Patient|%%'").all() == []
        assert _count(conn, "SELECT count(*) FROM identifier WHERE ref LIKE 'Patient/%%'") == 0
    with db["app"].begin() as conn:  # a scope for one patient shows that patient's identifiers only
        set_scope(conn, [db["keys"][0]], frozenset())
        refs = {
            str(r[0]) for r in conn.exec_driver_sql("SELECT ref FROM identifier WHERE ref LIKE 'Patient/%%'")
        }
        own = {str(r[0]) for r in conn.exec_driver_sql("SELECT 'Patient/' || id FROM patient")}
    assert refs and refs == own


def test_a_self_asserted_scope_widens_nothing(db: dict[str, Any]) -> None:
    """The app role `set_config('carecite.patient_keys', …)` to every patient and every label set:
    it saw every patient and every PSY/ETH note. The database now trusts only a signed scope."""
    every = json.dumps(db["keys"])
    with db["app"].begin() as conn:
        conn.execute(sa.text("SELECT set_config('carecite.patient_keys', :v, true)"), {"v": every})
        conn.execute(sa.text("SELECT set_config('carecite.label_sets', :v, true)"), {"v": ALL_LABEL_SETS})
        for table in ("patient", "note", "chunkrow", "task", "chunk_lexical", "source_vectors"):
            assert (
                _count(
                    conn,
                    f"SELECT count(*) FROM {table} WHERE patient_key IS NOT NULL"
                    if table != "source_vectors"
                    else "SELECT count(*) FROM source_vectors",
                )
                == 0
            ), table


def test_a_forged_or_replayed_scope_token_widens_nothing(db: dict[str, Any]) -> None:
    app = db["app"]
    keys = db["keys"]
    with app.connect() as conn:
        pid = int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
    forged = scope_token(b"guessed-key" * 3, pid, keys, frozenset(SENSITIVE_LABELS))
    good_key = db["key_file"].read_text().strip()
    # a token the application signed for ANOTHER backend (seen in a log or pg_stat_activity)
    other_backend = scope_token(bytes.fromhex(good_key), pid + 1, keys, frozenset(SENSITIVE_LABELS))
    payload = json.dumps(
        {"p": keys, "l": json.loads(ALL_LABEL_SETS), "pid": pid, "exp": int(time.time()) - 1}
    )
    expired = hmac.new(bytes.fromhex(good_key), payload.encode(), hashlib.sha256).hexdigest() + payload
    tampered = scope_token(bytes.fromhex(good_key), pid, keys[:1], frozenset()).replace(
        json.dumps(keys[:1])[1:-1], json.dumps(keys)[1:-1]
    )
    with app.connect() as conn:
        assert int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()) == pid
        conn.rollback()
        for name, token in (
            ("forged", forged),
            ("other backend", other_backend),
            ("expired", expired),
            ("tampered", tampered),
            ("garbage", "x" * 200),
        ):
            with conn.begin():
                conn.execute(sa.text("SELECT set_config(:n, :v, true)"), {"n": SCOPE_SETTING, "v": token})
                assert _count(conn, "SELECT count(*) FROM patient") == 0, name
                assert _count(conn, "SELECT count(*) FROM note") == 0, name
        with conn.begin():  # the application's own signed token for this backend does work
            set_scope(conn, keys[:1], frozenset())
            assert _count(conn, "SELECT count(*) FROM patient") == 1


def test_the_role_cannot_read_the_signing_key(db: dict[str, Any]) -> None:
    with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), db["app"].connect() as conn:
        conn.exec_driver_sql("SELECT key FROM carecite_scope_secret").all()


@pytest.mark.parametrize(
    "sql",
    [
        'UPDATE "user" SET sensitive_access = \'["PSY","ETH"]\' WHERE id = \'cc-probe\'',
        "UPDATE policy SET title = 'x'",
        "UPDATE meta SET value = '2' WHERE key = 'probe'",
        "UPDATE identifier SET ref = 'Patient/x'",
        'INSERT INTO "user" (id, name, role, facilities, care_team_only, sensitive_access) '
        "VALUES ('evil', 'E', 'physician', '[]', false, '[]')",
        "DELETE FROM answerflag",
        "UPDATE answerflag SET status = 'dismissed'",
        "DELETE FROM note",
        "TRUNCATE auditrecord",
        "ALTER TABLE note DISABLE ROW LEVEL SECURITY",
        "CREATE FUNCTION public.carecite_scope_patient_keys2() RETURNS text[] LANGUAGE sql AS 'SELECT NULL'",
    ],
)
def test_the_role_may_not_change_users_policies_meta_identifiers_or_clinical_rows(
    db: dict[str, Any], sql: str
) -> None:
    """One UPDATE could give a coordinator PSY access; the role now reads those tables only."""
    with (
        pytest.raises(sa.exc.ProgrammingError, match=r"permission denied|must be owner"),
        db["app"].begin() as conn,
    ):
        set_scope(conn, db["keys"], frozenset(SENSITIVE_LABELS))
        conn.exec_driver_sql(sql)


def test_row_security_is_forced_on_every_patient_and_identifier_table(db: dict[str, Any]) -> None:
    from sqlmodel import SQLModel

    expected = {name for name, table in SQLModel.metadata.tables.items() if "patient_key" in table.c}
    expected -= {"auditrecord"}
    expected |= {"identifier", "source_vectors", "chunk_lexical"}
    with db["owner"].connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relkind = 'r'"
        ).all()
    flags = {str(r[0]): (bool(r[1]), bool(r[2])) for r in rows}
    missing = {name: flags.get(name) for name in expected if flags.get(name) != (True, True)}
    assert not missing, f"RLS not enabled and forced: {missing}"


def test_serve_refuses_a_superuser_owner_or_bypassrls_role(db: dict[str, Any], tmp_path: Path) -> None:
    from carecite.api.app import PrivilegedRoleError, refuse_privileged_role

    owner, server = db["owner"], db["server"]
    bypass, member = f"bp_{uuid.uuid4().hex[:6]}", f"mb_{uuid.uuid4().hex[:6]}"
    with owner.begin() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {bypass} LOGIN BYPASSRLS")
        conn.exec_driver_sql(f"CREATE ROLE {member} LOGIN")
        table_owner = conn.exec_driver_sql(
            "SELECT tableowner FROM pg_tables WHERE tablename = 'patient'"
        ).scalar()
        conn.exec_driver_sql(f'GRANT "{table_owner}" TO {member}')
    assert role_problems(db["app"]) == []
    settings = Settings(data_dir=tmp_path)
    refuse_privileged_role(settings, db["app"])  # the application role serves
    for engine, why in (
        (owner, "superuser"),
        (sa.create_engine(server.url(db["name"], user=bypass)), "BYPASSRLS"),
        (sa.create_engine(server.url(db["name"], user=member)), "owns"),
    ):
        with pytest.raises(PrivilegedRoleError, match=why):
            refuse_privileged_role(settings, engine)
    refuse_privileged_role(settings.model_copy(update={"db_allow_privileged_role": True}), owner)


def test_carecite_serve_exits_with_one_line_as_the_owner(db: dict[str, Any], tmp_path: Path) -> None:
    """`carecite serve` itself (not only the function): a superuser URL never starts serving."""
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "CARECITE_DATABASE_URL": db["server"].url(db["name"]),
        "CARECITE_DATA_DIR": str(tmp_path),
    }
    from carecite.api.server import free_port

    exe = str(Path(sys.executable).parent / "carecite")
    proc = subprocess.run(
        [exe, "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "refusing to serve" in proc.stderr + proc.stdout and "superuser" in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr
