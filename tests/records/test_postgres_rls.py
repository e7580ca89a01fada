"""PostgreSQL row-level security, proven by connecting AS the application role: with no scope set it
sees no patient's rows; with a scope it sees exactly the rows that scope allows (patient AND
sensitive labels), in the record tables and the index tables alike. The audit trail is INSERT-only
for it. Migrations are versioned and idempotent."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from carecite.domain import SENSITIVE_LABELS
from carecite.ingest.fhir import IngestReport, ingest_file, resolve_pending
from carecite.package_data import COMMITTED_WORLD
from carecite.records import make_engine, session_scope
from carecite.records.postgres import LATEST, grant_app_role, migrate, read_scope_key, set_scope
from carecite.records.tables import labels_from_str
from carecite.settings import Settings

BUNDLES = [
    COMMITTED_WORLD / "fhir" / n
    for n in ("directory.json", "patient-00001.json", "patient-00002.json", "patient-00003.json")
]
SCOPED_TABLES = ["patient", "task", "note", "condition", "encounter", "chunkrow", "chunk_lexical"]


@pytest.fixture(scope="module")
def world(pg_server, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Owner loads bundles (SQL + the PostgreSQL full-text index); returns (owner, app) engines."""
    from carecite.ingest.indexing import _all_chunks
    from carecite.retrieval.pg_lexical import PgFullTextIndex
    from carecite.stores import Stores

    db = pg_server.create_database()
    owner = make_engine(pg_server.url(db))
    stores = Stores(Settings(data_dir=tmp_path_factory.mktemp("rls")))
    stores.__dict__["engine"] = owner
    report = IngestReport()
    for path in BUNDLES:
        ingest_file(stores, path, report)
    with session_scope(owner) as session:
        resolve_pending(session, report)
    PgFullTextIndex.open(owner).rebuild(_all_chunks(stores))
    role = f"app_{uuid.uuid4().hex[:8]}"
    with owner.begin() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
    key_file = tmp_path_factory.mktemp("app-key") / "db-scope.key"
    grant_app_role(owner, role, extra_tables=["chunk_lexical"], key_file=key_file)
    # starts fine: the schema is already at LATEST; signs its scope with the key the owner handed it
    app = make_engine(pg_server.url(db, user=role), scope_key=read_scope_key(key_file))
    return owner, app


def _rows(
    engine: sa.Engine, table: str, keys: list[str] | None = None, labels: frozenset[str] = frozenset()
) -> set[tuple[str, str]]:
    """(patient_key, labels) of every row the connection sees, with the scope set when given."""
    label_col = "''" if table == "careteammember" else "security_labels"
    pk = "coalesce(patient_key, '')"
    with engine.begin() as conn:
        if keys is not None:
            set_scope(conn, keys, labels)
        rows = conn.exec_driver_sql(f"SELECT {pk}, {label_col}, ctid::text FROM {table}").all()
    return {(str(r[0]) + "/" + str(r[2]), str(r[1])) for r in rows}


def _allowed(rows: set[tuple[str, str]], keys: list[str], labels: frozenset[str]) -> set[tuple[str, str]]:
    sensitive = set(SENSITIVE_LABELS) - labels
    return {
        (k, lab) for k, lab in rows if k.split("/")[0] in keys and not (set(labels_from_str(lab)) & sensitive)
    }


def test_without_a_scope_the_application_role_sees_no_patient_rows(world) -> None:  # type: ignore[no-untyped-def]
    owner, app = world
    for table in SCOPED_TABLES:
        assert _rows(owner, table), f"the owner (not bound by RLS) sees {table} rows"
        visible = _rows(app, table)
        assert all(k.startswith("/") for k, _ in visible), f"{table}: patient rows visible without a scope"
    with app.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM organization").scalar_one() > 0, (
            "no patient: not scoped"
        )


def test_with_a_scope_it_sees_exactly_what_the_scope_allows(world) -> None:  # type: ignore[no-untyped-def]
    owner, app = world
    with owner.connect() as conn:
        keys = sorted(str(r[0]) for r in conn.exec_driver_sql("SELECT patient_key FROM patient"))
        labelled = conn.exec_driver_sql("SELECT count(*) FROM note WHERE security_labels <> ''").scalar_one()
    assert len(keys) == 3 and labelled > 0, "the fixture needs sensitive notes to prove label scoping"
    checked = 0
    for scope_keys in ([keys[0]], [keys[1], keys[2]]):
        for labels in (frozenset(), frozenset({"PSY"}), frozenset(SENSITIVE_LABELS)):
            for table in SCOPED_TABLES:
                everything = _rows(owner, table)
                expected = _allowed(everything, scope_keys, labels)
                got = {row for row in _rows(app, table, scope_keys, labels) if not row[0].startswith("/")}
                assert got == expected, f"{table} under {scope_keys} {sorted(labels)}"
                checked += len(expected)
    assert checked > 100


def test_the_scope_is_transaction_local(world) -> None:  # type: ignore[no-untyped-def]
    owner, app = world
    with owner.connect() as conn:
        key = str(conn.exec_driver_sql("SELECT patient_key FROM patient LIMIT 1").scalar_one())
    with app.connect() as conn:
        with conn.begin():
            set_scope(conn, [key], frozenset())
            assert conn.exec_driver_sql("SELECT count(*) FROM task").scalar_one() > 0
        assert conn.exec_driver_sql("SELECT count(*) FROM task").scalar_one() == 0, (
            "SET LOCAL ends with the transaction"
        )


def test_rows_outside_the_scope_cannot_be_written(world) -> None:  # type: ignore[no-untyped-def]
    owner, app = world
    with owner.connect() as conn:
        a, b = (str(r[0]) for r in conn.exec_driver_sql("SELECT patient_key FROM patient ORDER BY 1 LIMIT 2"))
    with pytest.raises(sa.exc.ProgrammingError, match="row-level security"), owner.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE writer_{a[-6:]}")  # a role that may write, still under RLS
        conn.exec_driver_sql(f"GRANT INSERT, SELECT ON task TO writer_{a[-6:]}")
        set_scope(conn, [a], frozenset())  # signed by the owner's engine, for this backend
        conn.exec_driver_sql(f"SET ROLE writer_{a[-6:]}")
        conn.exec_driver_sql(f"INSERT INTO task (ref, fhir_id, patient_key) VALUES ('Task/x', 'x', '{b}')")
    with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), app.begin() as conn:
        set_scope(conn, [b], frozenset())  # the application role may not write clinical rows at all
        conn.exec_driver_sql(f"INSERT INTO task (ref, fhir_id, patient_key) VALUES ('Task/x', 'x', '{b}')")


def test_the_application_role_may_append_audit_records_but_never_change_them(world) -> None:  # type: ignore[no-untyped-def]
    from carecite.audit.log import AuditLog

    _, app = world
    log = AuditLog(app)
    log.append({"kind": "ask", "user_id": "u", "question": "q", "answer": "a"})
    assert log.verify().ok
    for sql in ("UPDATE auditrecord SET answer = 'x'", "DELETE FROM auditrecord", "TRUNCATE auditrecord"):
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), app.begin() as conn:
            conn.exec_driver_sql(sql)
    assert log.verify().ok


def test_migrations_are_versioned_and_run_once(world) -> None:  # type: ignore[no-untyped-def]
    owner, _ = world
    assert migrate(owner) == 0
    with owner.connect() as conn:
        versions = [
            int(r[0]) for r in conn.exec_driver_sql("SELECT version FROM carecite_schema_version ORDER BY 1")
        ]
    assert versions == list(range(1, LATEST + 1))


def test_a_table_added_later_is_created_and_scoped(pg_server) -> None:  # type: ignore[no-untyped-def]
    """A patient table another feature adds after the database was migrated: the next start creates
    it and puts it under the scope policy (fail closed), without a hand-written step."""
    from sqlmodel import Field, SQLModel

    engine = make_engine(pg_server.url(pg_server.create_database()))

    class LateNote(SQLModel, table=True):
        __tablename__ = "late_note_test"
        id: str = Field(primary_key=True)
        patient_key: str
        security_labels: str = ""

    try:
        assert migrate(engine) == 0  # no step ran, but the table is created and scoped
        with engine.connect() as conn:
            rls = conn.exec_driver_sql(
                "SELECT relrowsecurity FROM pg_class WHERE relname = 'late_note_test'"
            ).scalar_one()
        assert rls is True
    finally:
        SQLModel.metadata.remove(LateNote.__table__)  # type: ignore[attr-defined]


def test_a_scoped_session_reads_its_patients_rows_and_no_one_elses(world) -> None:  # type: ignore[no-untyped-def]
    from sqlmodel import select

    from carecite.records.scoped import RowScope, scoped_session
    from carecite.records.tables import Note, Task

    owner, app = world
    with owner.connect() as conn:
        a, b = (str(r[0]) for r in conn.exec_driver_sql("SELECT patient_key FROM patient ORDER BY 1 LIMIT 2"))
    with scoped_session(app, RowScope.of([a], frozenset())) as session:
        tasks = session.exec(select(Task)).all()
        notes = session.exec(select(Note)).all()
    assert tasks and {t.patient_key for t in tasks} == {a}
    assert notes and all(not labels_from_str(n.security_labels) for n in notes), "no label allowed: none seen"
    with scoped_session(app, RowScope.of([], frozenset(SENSITIVE_LABELS))) as session:
        assert session.exec(select(Task)).all() == [], "no patient in scope: nothing, whatever the labels"
    with scoped_session(app, RowScope.of([b], frozenset())) as session:
        assert {t.patient_key for t in session.exec(select(Task)).all()} <= {b}


def test_the_access_directory_shows_the_app_role_access_facts_and_nothing_clinical(world) -> None:  # type: ignore[no-untyped-def]
    from carecite.records import directory

    owner, app = world
    with owner.connect() as conn:
        patients = conn.exec_driver_sql("SELECT count(*) FROM patient").scalar_one()
        members = conn.exec_driver_sql("SELECT count(*) FROM careteammember").scalar_one()
    with app.connect() as conn:  # no scope at all
        rows = conn.execute(sa.select(directory.PATIENTS)).mappings().all()
        assert len(rows) == patients and set(rows[0]) == {
            "id",
            "patient_key",
            "facilities",
            "security_labels",
        }
        teams = conn.execute(sa.select(directory.CARE_TEAMS)).mappings().all()
        assert len(teams) == members and set(teams[0]) == {
            "patient_key",
            "member_ref",
            "member_identifier",
            "status",
        }
        sources = conn.execute(sa.select(directory.SOURCES)).mappings().all()
        assert sources and set(sources[0]) == {"source_id", "patient_key", "security_labels"}
        assert conn.execute(sa.select(directory.DISPLAYS)).scalars().all()
        # the tables underneath stay hidden: names, notes and record content need a scope
        assert conn.exec_driver_sql("SELECT count(*) FROM patient").scalar_one() == 0
        assert conn.exec_driver_sql("SELECT count(*) FROM note").scalar_one() == 0


def test_sentence_vectors_are_visible_only_through_their_chunk_or_patient(world) -> None:  # type: ignore[no-untyped-def]
    """``source_vectors`` has no patient column: a chunk's vectors follow the chunk row's scope
    (patient and labels), a patient's record-statement vectors follow the patient."""
    owner, app = world
    with owner.begin() as conn:
        chunks = conn.exec_driver_sql("SELECT chunk_id, patient_key, security_labels FROM chunkrow").all()
        keys = sorted(str(r[0]) for r in conn.exec_driver_sql("SELECT patient_key FROM patient"))
        plain = next(c for c in chunks if c[1] == keys[0] and not c[2])
        labelled = next(c for c in chunks if c[2])
        other = next(c for c in chunks if c[1] is not None and c[1] not in (labelled[1], plain[1]))
        owners = [plain[0], labelled[0], other[0], f"records:{keys[0]}", f"records:{keys[1]}"]
        for name in owners:
            conn.execute(
                sa.text(
                    "INSERT INTO source_vectors (owner, fingerprint, keys, vectors) VALUES (:o, 'fp', '', '')"
                ),
                {"o": name},
            )

    def visible(scope_keys: list[str] | None, labels: frozenset[str] = frozenset()) -> set[str]:
        with app.begin() as conn:
            if scope_keys is not None:
                set_scope(conn, scope_keys, labels)
            return {str(r[0]) for r in conn.exec_driver_sql("SELECT owner FROM source_vectors")}

    assert visible(None) == set()
    # Patient 0: their plain chunk and their records; not another patient's chunk or records.
    assert visible([keys[0]]) == {plain[0], f"records:{keys[0]}"}
    assert labelled[0] in visible([str(labelled[1])], frozenset(SENSITIVE_LABELS))
    assert labelled[0] not in visible([str(labelled[1])])  # its label is not allowed
