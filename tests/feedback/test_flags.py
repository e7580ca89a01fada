"""Flags on answers (feedback/flags.py): real SQLite, real Presidio, the real audit log."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from carecite.access.scope import AccessDenied
from carecite.audit import AuditLog
from carecite.cli import app
from carecite.feedback.flags import FlagError, flag_answer, list_flags, review_flag, summarize
from carecite.ports import Redactor
from carecite.records import make_engine, session_scope
from carecite.records import tables as t
from carecite.settings import Settings

CHUNK = "ch_discharge_1"


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    from carecite.wiring import build_redactor

    return build_redactor()


@pytest.fixture
def engine(settings: Settings) -> Engine:
    engine = make_engine(settings.resolved_database_url)
    with session_scope(engine) as s:
        for uid, role in (
            ("cc-amy", "care_coordinator"),
            ("cc-ben", "care_coordinator"),
            ("rv-ivan", "reviewer"),
        ):
            s.add(t.User(id=uid, name=uid, role=role, facilities='["Organization/north"]'))
        s.add(
            t.Note(
                ref="DocumentReference/d1", fhir_id="d1", patient_key="pk_1", note_type="Discharge summary"
            )
        )
        s.add(
            t.ChunkRow(
                chunk_id=CHUNK,
                doc_id="DocumentReference/d1",
                source_type="note_chunk",
                source_ref="DocumentReference/d1",
                patient_key="pk_1",
                note_type="Discharge summary",
                start=0,
                end=10,
                text="x",
                index_text="x",
            )
        )
    return engine


@pytest.fixture
def audit(engine: Engine) -> AuditLog:
    log = AuditLog(engine)
    log.append(
        {
            "kind": "ask",
            "request_id": "req-1",
            "user_id": "cc-amy",
            "patient_key": "pk_1",
            "retrieved_ids": [CHUNK, "Task/t1", "CarePlan/cp1#activity=2"],
            "cited_ids": [CHUNK, "Task/t1"],
        }
    )
    log.append({"kind": "denied", "request_id": "req-2", "user_id": "cc-amy"})
    return log


def test_the_user_who_got_the_answer_flags_it_with_sources_and_a_redacted_comment(
    engine: Engine, audit: AuditLog, redactor: Redactor
) -> None:
    flag = flag_answer(
        engine,
        audit,
        redactor,
        user_id="cc-amy",
        request_id="req-1",
        category="unsupported",
        comment="Maria Gonzalez never had this task, call 617-555-0199",
    )
    assert "Maria Gonzalez" not in flag.comment and "617-555-0199" not in flag.comment
    assert [(s.ref, s.kind, s.cited) for s in flag.sources] == [
        ("DocumentReference/d1", "Discharge summary", True),
        ("Task/t1", "Task", True),
        ("CarePlan/cp1", "CarePlan", False),
    ]
    stored = list_flags(engine)
    assert [f.id for f in stored] == [flag.id] and stored[0].status == "open"
    record = audit.records(kind="flag")[0]
    assert record.details["flagged_request_id"] == "req-1"
    assert record.details["source_refs"] == ["DocumentReference/d1", "Task/t1"]
    assert "Maria" not in json.dumps(record.details)
    assert audit.verify().ok


@pytest.mark.parametrize(
    ("user", "request_id"),
    [("cc-ben", "req-1"), ("cc-amy", "req-2"), ("cc-amy", "nope"), ("rv-ivan", "req-1")],
)
def test_nobody_else_flags_and_the_attempt_is_audited(
    engine: Engine, audit: AuditLog, redactor: Redactor, user: str, request_id: str
) -> None:
    with pytest.raises(AccessDenied):
        flag_answer(engine, audit, redactor, user_id=user, request_id=request_id, category="wrong")
    assert list_flags(engine) == []
    denied = audit.records(kind="denied", user_id=user)
    assert denied and denied[0].details["action"] == "flag"


def test_bad_category_or_long_comment_is_bad_input(
    engine: Engine, audit: AuditLog, redactor: Redactor
) -> None:
    with pytest.raises(FlagError, match="unknown flag"):
        flag_answer(engine, audit, redactor, user_id="cc-amy", request_id="req-1", category="meh")
    with pytest.raises(FlagError, match="limit"):
        flag_answer(
            engine,
            audit,
            redactor,
            user_id="cc-amy",
            request_id="req-1",
            category="wrong",
            comment="x " * 600,
        )


def test_reviewer_confirms_once_others_may_not(engine: Engine, audit: AuditLog, redactor: Redactor) -> None:
    flag = flag_answer(engine, audit, redactor, user_id="cc-amy", request_id="req-1", category="wrong")
    with pytest.raises(AccessDenied):
        review_flag(engine, audit, redactor, reviewer_id="cc-amy", flag_id=flag.id, decision="dismissed")
    done = review_flag(engine, audit, redactor, reviewer_id="rv-ivan", flag_id=flag.id, decision="confirmed")
    assert done.status == "confirmed" and done.reviewed_by == "rv-ivan"
    with pytest.raises(FlagError, match="already confirmed"):
        review_flag(engine, audit, redactor, reviewer_id="rv-ivan", flag_id=flag.id, decision="dismissed")
    assert audit.records(kind="flag_review")[0].details["decision"] == "confirmed"
    with Session(engine) as s:
        row = s.get(t.AnswerFlag, flag.id)
        assert row is not None and row.status == "confirmed"


def test_aggregates_per_source_document_and_note_type_leave_out_dismissed(
    engine: Engine, audit: AuditLog, redactor: Redactor
) -> None:
    kept = flag_answer(engine, audit, redactor, user_id="cc-amy", request_id="req-1", category="wrong")
    review_flag(engine, audit, redactor, reviewer_id="rv-ivan", flag_id=kept.id, decision="confirmed")
    flag_answer(engine, audit, redactor, user_id="cc-amy", request_id="req-1", category="missing_information")
    gone = flag_answer(
        engine, audit, redactor, user_id="cc-amy", request_id="req-1", category="wrong_patient"
    )
    review_flag(engine, audit, redactor, reviewer_id="rv-ivan", flag_id=gone.id, decision="dismissed")
    summary = summarize(list_flags(engine))
    assert summary.total == 3
    assert summary.by_status == {"confirmed": 1, "open": 1, "dismissed": 1}
    assert summary.by_category == {"wrong": 1, "missing_information": 1}
    docs = {r.name: r for r in summary.by_source}
    assert (docs["DocumentReference/d1"].flags, docs["DocumentReference/d1"].confirmed) == (2, 1)
    assert docs["CarePlan/cp1"].retrieved_only == 2 and docs["CarePlan/cp1"].flags == 0
    kinds = {r.name: r for r in summary.by_kind}
    assert kinds["Discharge summary"].flags == 2 and kinds["Task"].confirmed == 1


def test_cli_flags_raise_and_review(settings: Settings, engine: Engine, audit: AuditLog) -> None:
    runner = CliRunner()
    base = ["--data-dir", str(settings.data_dir), "flags"]
    denied = runner.invoke(app, [*base, "raise", "req-1", "--user", "cc-ben", "--reason", "wrong"])
    assert denied.exit_code == 3 and "Traceback" not in denied.output
    bad = runner.invoke(app, [*base, "raise", "req-1", "--user", "cc-amy", "--reason", "bad"])
    assert bad.exit_code == 2
    ok = runner.invoke(app, [*base, "raise", "req-1", "--user", "cc-amy", "--reason", "wrong"])
    assert ok.exit_code == 0, ok.output
    flag_id = list_flags(engine)[0].id
    reviewed = runner.invoke(app, [*base, "review", flag_id, "dismissed", "--user", "rv-ivan"])
    assert reviewed.exit_code == 0 and "dismissed" in reviewed.stdout
