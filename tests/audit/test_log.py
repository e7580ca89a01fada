from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine
from typer.testing import CliRunner

from carecite.audit import GENESIS_HASH, AuditChainError, AuditEvent, AuditLog
from carecite.cli import app
from carecite.domain import AccessScope, Answer, Citation, RetrievedRef, Usage
from carecite.records import make_engine
from carecite.settings import Settings


@pytest.fixture
def engine(settings: Settings) -> Engine:
    return make_engine(settings.resolved_database_url)


@pytest.fixture
def db_path(settings: Settings) -> Path:
    return Path(settings.resolved_database_url.removeprefix("sqlite:///"))


def _event(i: int, **kw: object) -> dict[str, object]:
    return {
        "kind": "ask",
        "request_id": f"req-{i}",
        "user_id": "cc-amy",
        "role": "care_coordinator",
        "patient_key": "pk_1",
        "scope": {"facilities": ["Organization/north"], "patients": 3},
        "question": f"What follow-up is due? ({i})",
        "answer": "Cardiology in two weeks [S1].",
        "retrieved_ids": ["c1", "c2"],
        "cited_ids": ["c1"],
        "model": "extractive",
        "prompt_tokens": 120,
        "completion_tokens": 30,
        "cost_usd": 0.000123,
        "latency_ms": 812.5,
        **kw,
    }


def _filled(engine: Engine, n: int = 5) -> AuditLog:
    log = AuditLog(engine)
    for i in range(1, n + 1):
        log.append(_event(i))
    return log


def _raw(db_path: Path, *statements: str) -> None:
    """An attacker with write access to the database file: drop the triggers, then tamper."""
    con = sqlite3.connect(db_path)
    for trigger in ("auditrecord_no_update", "auditrecord_no_delete", "auditchainhead_no_delete"):
        con.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for statement in statements:
        con.execute(statement)
    con.commit()
    con.close()


# --------------------------------------------------------------------------- append and read
def test_appends_form_a_chain_from_the_genesis_hash(engine: Engine) -> None:
    log = _filled(engine, 3)
    records = log.records(newest_first=False)
    assert [r.seq for r in records] == [1, 2, 3]
    assert records[0].prev_hash == GENESIS_HASH
    assert [r.prev_hash for r in records[1:]] == [r.hash for r in records[:-1]]
    assert records[2].cost_usd == 0.000123 and records[2].latency_ms == 812.5
    assert records[0].scope == {"facilities": ["Organization/north"], "patients": 3}
    result = log.verify()
    assert result.ok and result.checked == 3 and result.head_hash == records[2].hash


def test_append_returns_the_request_id_and_generates_one_when_missing(engine: Engine) -> None:
    log = AuditLog(engine)
    assert log.append(_event(1)) == "req-1"
    generated = log.append({"kind": "denied", "user_id": "nobody"})
    assert len(generated) == 36 and log.get(generated) is not None


def test_malformed_event_is_rejected_and_nothing_is_appended(engine: Engine) -> None:
    log = AuditLog(engine)
    with pytest.raises(ValidationError):
        log.append({**_event(1), "questoin": "typo"})
    with pytest.raises(ValidationError):
        log.append({**_event(1), "kind": "chat"})
    with pytest.raises(ValidationError):
        log.append({**_event(1), "cost_usd": float("nan")})
    assert log.count() == 0 and log.verify().ok


def test_records_filter_and_get_prefers_the_outcome_record(engine: Engine) -> None:
    log = _filled(engine, 3)
    log.append(
        {
            "kind": "break_glass",
            "request_id": "req-9",
            "user_id": "doc-dee",
            "break_glass_reason": "ED arrest",
        }
    )
    log.append(_event(9, kind="decline", user_id="doc-dee", decline_reason="no_evidence"))
    log.append({"kind": "security_event", "request_id": "req-9", "user_id": "doc-dee"})
    assert [r.kind for r in log.records(request_id="req-9")] == ["security_event", "decline", "break_glass"]
    got = log.get("req-9")
    assert got is not None and got.kind == "decline" and got.decline_reason == "no_evidence"
    assert len(log.records(user_id="doc-dee")) == 3
    assert [r.seq for r in log.records(kind=["break_glass", "decline"], newest_first=False)] == [4, 5]
    assert [r.seq for r in log.records(limit=2)] == [6, 5]
    assert log.get("unknown") is None


def test_event_from_answer_records_ids_usage_and_break_glass(engine: Engine) -> None:
    answer = Answer(
        request_id="r-1",
        question="raw question with PHI",
        user_id="doc-dee",
        patient_id="ann",
        answer="raw answer",
        declined=False,
        citations=[
            Citation(
                marker="S1",
                source_id="c1",
                source_type="note_chunk",
                source_ref="DocumentReference/d",
                patient_id="ann",
                text="t",
                span=(0, 1),
                score=0.9,
            )
        ],
        retrieved=[
            RetrievedRef(source_id=s, source_ref="x", score=0.5, retriever="dense") for s in ("c1", "c2")
        ],
        timings_ms={"total": 42.0},
        usage=Usage(model="gpt-4o-mini", prompt_tokens=10, completion_tokens=5, cost_usd=0.001),
        prompt_hash="abc",
    )
    scope = AccessScope(
        user_id="doc-dee",
        role="physician",
        facilities=frozenset({"Organization/north"}),
        patient_keys=None,
        allowed_labels=frozenset({"PSY"}),
        break_glass_reason="ED arrest now",
    )
    event = AuditEvent.from_answer(
        answer,
        scope=scope,
        patient_key="pk_ann",
        redacted_question="<PERSON> question",
        redacted_answer="answer",
    )
    log = AuditLog(engine)
    log.append(event)
    stored = log.get("r-1")
    assert stored is not None
    assert (stored.kind, stored.question, stored.cited_ids, stored.retrieved_ids) == (
        "ask",
        "<PERSON> question",
        ["c1"],
        ["c1", "c2"],
    )
    assert (stored.model, stored.prompt_tokens, stored.cost_usd, stored.latency_ms) == (
        "gpt-4o-mini",
        10,
        0.001,
        42.0,
    )
    assert stored.break_glass_reason == "ED arrest now" and stored.scope["break_glass"] is True


# --------------------------------------------------------------------------- append-only and tamper evidence
def test_database_triggers_reject_update_and_delete(engine: Engine, db_path: Path) -> None:
    _filled(engine, 2)
    con = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE auditrecord SET answer = 'x' WHERE seq = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM auditrecord WHERE seq = 2")
    with pytest.raises(sqlite3.DatabaseError, match="cannot be deleted"):
        con.execute("DELETE FROM auditchainhead")
    with pytest.raises(sqlite3.DatabaseError, match="backwards"):
        con.execute("UPDATE auditchainhead SET seq = 0")
    con.close()


def test_audit_log_exposes_no_way_to_change_records() -> None:
    public = {name for name in dir(AuditLog) if not name.startswith("_")}
    assert public == {"append", "records", "get", "count", "verify"}


def test_tamper_edited_field_is_detected(engine: Engine, db_path: Path) -> None:
    log = _filled(engine)
    _raw(db_path, "UPDATE auditrecord SET answer = 'No follow-up needed.' WHERE seq = 3")
    result = log.verify()
    assert not result.ok
    assert (result.first_bad_seq, result.first_bad_request_id) == (3, "req-3")
    assert "altered" in (result.problem or "")


def test_tamper_edit_with_recomputed_hash_breaks_the_next_link(engine: Engine, db_path: Path) -> None:
    from carecite.audit import record_hash

    log = _filled(engine)
    con = sqlite3.connect(db_path)
    con.row_factory = sqlite3.Row
    row = dict(con.execute("SELECT * FROM auditrecord WHERE seq = 3").fetchone())
    con.close()
    row["cited_ids"] = '["c2"]'
    forged = record_hash(row)  # a consistent record on its own...
    _raw(db_path, f"UPDATE auditrecord SET cited_ids = '[\"c2\"]', hash = '{forged}' WHERE seq = 3")
    result = log.verify()
    assert not result.ok and result.first_bad_seq == 4  # ...but the next record still links to the old hash
    assert "prev_hash" in (result.problem or "")


def test_tamper_deleted_record_is_detected(engine: Engine, db_path: Path) -> None:
    log = _filled(engine)
    _raw(db_path, "DELETE FROM auditrecord WHERE seq = 3")
    result = log.verify()
    assert not result.ok and result.first_bad_seq == 4 and result.first_bad_request_id == "req-4"
    assert "missing" in (result.problem or "")


def test_tamper_reordered_records_are_detected(engine: Engine, db_path: Path) -> None:
    log = _filled(engine)
    _raw(
        db_path,
        "UPDATE auditrecord SET seq = -1 WHERE seq = 2",
        "UPDATE auditrecord SET seq = 2 WHERE seq = 3",
        "UPDATE auditrecord SET seq = 3 WHERE seq = -1",
    )
    result = log.verify()
    assert not result.ok and result.first_bad_seq == 2 and result.first_bad_request_id == "req-3"


def test_tamper_truncated_tail_is_detected_by_the_chain_head(engine: Engine, db_path: Path) -> None:
    log = _filled(engine)
    _raw(db_path, "DELETE FROM auditrecord WHERE seq = 5")
    result = log.verify()
    assert not result.ok and result.checked == 4 and result.first_bad_seq == 5
    assert "truncated" in (result.problem or "")


def test_append_refuses_when_the_chain_head_was_removed(engine: Engine, db_path: Path) -> None:
    log = _filled(engine, 2)
    _raw(db_path, "DELETE FROM auditchainhead")
    with pytest.raises(AuditChainError):
        log.append(_event(3))
    assert log.count() == 2
    assert not log.verify().ok


def test_cli_audit_verify_reports_ok_and_names_the_first_bad_record(
    engine: Engine, db_path: Path, settings: Settings
) -> None:
    _filled(engine, 4)
    runner = CliRunner()
    ok = runner.invoke(app, ["--data-dir", str(settings.data_dir), "audit", "verify"])
    assert ok.exit_code == 0 and "chain ok (4 records)" in ok.output
    _raw(db_path, "UPDATE auditrecord SET user_id = 'someone-else' WHERE seq = 2")
    bad = runner.invoke(app, ["--data-dir", str(settings.data_dir), "audit", "verify"])
    assert bad.exit_code == 1
    assert "seq 2" in bad.output and "req-2" in bad.output and "altered" in bad.output


def test_cli_audit_list_json(engine: Engine, settings: Settings) -> None:
    import json

    _filled(engine, 3)
    result = CliRunner().invoke(
        app, ["--data-dir", str(settings.data_dir), "audit", "list", "--json", "--limit", "2"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["seq"] for r in rows] == [3, 2] and rows[0]["cited_ids"] == ["c1"]
    bad = CliRunner().invoke(app, ["--data-dir", str(settings.data_dir), "audit", "list", "--kind", "chat"])
    assert bad.exit_code == 2


# --------------------------------------------------------------------------- concurrency
def _append_worker(url: str, worker: int, n: int, barrier: multiprocessing.synchronize.Barrier) -> None:
    engine = make_engine(url)
    log = AuditLog(engine)
    barrier.wait()
    for i in range(n):
        log.append(_event(worker * 100 + i, user_id=f"worker-{worker}"))
    engine.dispose()


def test_appends_from_several_processes_each_leave_one_record_and_a_valid_chain(settings: Settings) -> None:
    url = settings.resolved_database_url
    make_engine(url).dispose()  # create the schema once, so the workers race only on appends
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(4)
    procs = [ctx.Process(target=_append_worker, args=(url, w, 10, barrier)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    log = AuditLog(make_engine(url))
    records = log.records(limit=None, newest_first=False)
    assert len(records) == 40
    assert [r.seq for r in records] == list(range(1, 41))
    assert len({r.request_id for r in records}) == 40
    assert {r.user_id for r in records} == {f"worker-{w}" for w in range(4)}
    result = log.verify()
    assert result.ok and result.checked == 40


def test_event_from_answer_redacts_with_the_given_function_and_never_stores_raw_text() -> None:
    answer = Answer(
        request_id="r-2",
        question="Is John Smith due?",
        user_id="u",
        patient_id="p",
        answer="",
        declined=True,
        decline_reason="no_evidence",
    )
    event = AuditEvent.from_answer(
        answer,
        scope=None,
        patient_key=None,
        kind="denied",
        redact=lambda text: text.replace("John Smith", "<PERSON>"),
    )
    assert (event.kind, event.question, event.answer) == ("denied", "Is <PERSON> due?", "")
    with pytest.raises(ValueError, match="redact"):
        AuditEvent.from_answer(answer, scope=None, patient_key=None)
