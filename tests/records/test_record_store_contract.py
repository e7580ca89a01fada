"""The record store (the SQL system of record) contract, run against SQLite and PostgreSQL: the same
FHIR bundles give the same rows, the structured retriever reads the same statements, and the audit
trail is append-only and verifies on both."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from carecite.audit.log import AuditLog
from carecite.domain import SENSITIVE_LABELS, RetrievalFilter
from carecite.ingest.fhir import IngestReport, ingest_file, resolve_pending
from carecite.package_data import COMMITTED_WORLD
from carecite.records import session_scope
from carecite.retrieval.records.lookup import StructuredRetriever
from carecite.settings import Settings

IMPLEMENTATIONS = ["sqlite", "postgres"]
BUNDLES = [
    COMMITTED_WORLD / "fhir" / name for name in ("directory.json", "patient-00001.json", "patient-00002.json")
]
QUESTIONS = [
    "What follow-up tasks are outstanding?",
    "Which medications is the patient on?",
    "upcoming appointments",
]


def _engine(kind: str, request: pytest.FixtureRequest, tmp: Path) -> sa.Engine:
    from carecite.records import make_engine

    if kind == "sqlite":
        return make_engine(f"sqlite:///{tmp / 'carecite.sqlite'}")
    pg = request.getfixturevalue("pg_server")
    return make_engine(pg.url(pg.create_database()))


_LOADED: dict[str, sa.Engine] = {}


def _load(kind: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> sa.Engine:
    """Three committed synthetic bundles loaded into one store (SQL only: no index sync), once."""
    from carecite.stores import Stores

    if kind not in _LOADED:
        tmp = tmp_path_factory.mktemp("records")
        engine = _engine(kind, request, tmp)
        stores = Stores(Settings(data_dir=tmp))
        stores.__dict__["engine"] = engine  # the cached_property, pointed at this implementation
        report = IngestReport()
        for path in BUNDLES:
            ingest_file(stores, path, report)
        with session_scope(engine) as session:
            resolve_pending(session, report)
        assert report.files_loaded == len(BUNDLES), report.problems
        _LOADED[kind] = engine
    return _LOADED[kind]


@pytest.fixture(params=IMPLEMENTATIONS)
def records(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> sa.Engine:
    return _load(request.param, request, tmp_path_factory)


def _counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
            for name, table in sorted(SQLModel.metadata.tables.items())
            if name not in ("auditrecord", "auditchainhead")  # the audit test appends to its store
        }


def _statements(engine: sa.Engine) -> dict[str, list[tuple[str, str, float]]]:
    from datetime import date

    retriever = StructuredRetriever(engine, date(2026, 1, 1))
    with engine.connect() as conn:
        keys = sorted(str(r[0]) for r in conn.exec_driver_sql("SELECT patient_key FROM patient"))
    got: dict[str, list[tuple[str, str, float]]] = {}
    for key in keys:
        for labels in (frozenset(SENSITIVE_LABELS), frozenset()):
            flt = RetrievalFilter(patient_key=key, allowed_labels=labels)
            for q in QUESTIONS:
                got[f"{key}|{sorted(labels)}|{q}"] = [
                    (c.source_id, c.text, c.score) for c in retriever.search(retriever.read(q), flt, 30)
                ]
    return got


def test_sqlite_and_postgres_hold_the_same_rows_and_read_the_same_statements(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> None:
    sqlite = _load("sqlite", request, tmp_path_factory)
    postgres = _load("postgres", request, tmp_path_factory)
    counts = _counts(sqlite)
    assert counts["patient"] == 2 and counts["task"] > 0 and counts["chunkrow"] > 0
    assert _counts(postgres) == counts
    statements = _statements(sqlite)
    assert sum(len(v) for v in statements.values()) > 10
    assert json.dumps(_statements(postgres), sort_keys=True) == json.dumps(statements, sort_keys=True)


def test_the_audit_trail_is_append_only_and_verifies(records: sa.Engine) -> None:
    log = AuditLog(records)
    before = log.count()
    for i in range(3):
        log.append({"kind": "ask", "user_id": "u", "question": f"q{i}", "answer": "a"})
    assert log.count() == before + 3 and log.verify().ok
    for sql, words in (
        ("UPDATE auditrecord SET answer = 'x'", "append-only"),
        ("DELETE FROM auditrecord", "append-only"),
        ("DELETE FROM auditchainhead", "cannot be deleted"),
        ("UPDATE auditchainhead SET seq = 0", "backwards"),
    ):
        with pytest.raises(sa.exc.DBAPIError, match=words), records.begin() as conn:
            conn.exec_driver_sql(sql)
    assert log.count() == before + 3 and log.verify().ok
