"""Live quality from the audit trail (audit/report.py) over a real SQLite audit log."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from carecite.audit import AuditEvent, AuditLog
from carecite.audit.report import BadSince, build_report, live_report, parse_since
from carecite.cli import app
from carecite.domain import Answer, RetrievedRef, Usage
from carecite.records import make_engine
from carecite.settings import Settings

GATE = 0.30


@pytest.fixture
def engine(settings: Settings) -> Engine:
    return make_engine(settings.resolved_database_url)


def _answer(i: int, *, declined: str | None = None, best: float = 0.8, model: str = "gpt-4o-mini") -> Answer:
    ran = 0.0 if declined else 1.0  # a gate decline never reaches generate and verify
    return Answer(
        request_id=f"req-{i}",
        question="When is the cardiology follow-up?",
        user_id="cc-amy",
        patient_id="pat-1",
        answer="" if declined else "In two weeks [S1].",
        declined=declined is not None,
        decline_reason=declined,  # type: ignore[arg-type]
        retrieved=[
            RetrievedRef(source_id="c1", source_ref="DocumentReference/d1", score=best, retriever="dense")
        ],
        timings_ms={
            "access": 2.0,
            "retrieve": 100.0 + i,
            "rerank": 50.0,
            "generate": 10.0 * ran,
            "verify": 5.0 * ran,
            "total": 170.0 + i,
        },
        usage=Usage(model=model, prompt_tokens=100, completion_tokens=20, cost_usd=0.001),
    )


def _fill(log: AuditLog) -> None:
    for i in range(8):
        log.append(AuditEvent.from_answer(_answer(i), scope=None, patient_key="pk_1", redact=str))
    log.append(
        AuditEvent.from_answer(
            _answer(8, declined="low_confidence", best=0.27), scope=None, patient_key="pk_1", redact=str
        )
    )  # near the gate
    log.append(
        AuditEvent.from_answer(
            _answer(9, declined="low_confidence", best=0.05), scope=None, patient_key="pk_1", redact=str
        )
    )  # far below
    log.append({"kind": "denied", "user_id": "cc-amy", "details": {"action": "flag"}})
    log.append(
        {
            "kind": "security_event",
            "user_id": "cc-amy",
            "details": {"guard_violations": [{"reason": "wrong_patient"}]},
        }
    )
    log.append(
        {
            "kind": "break_glass",
            "user_id": "rn-eli",
            "break_glass_reason": "unconscious in ED",
            "model": "extractive",
            "latency_ms": 300.0,
        }
    )
    # a record written before details.metrics existed: counts, but has no stage timings or score
    log.append({"kind": "ask", "user_id": "cc-amy", "model": "gpt-4o-mini", "latency_ms": 900.0})


def test_answer_records_carry_stage_timings_and_best_score_and_still_verify(engine: Engine) -> None:
    log = AuditLog(engine)
    _fill(log)
    entry = log.get("req-8")
    assert entry is not None
    metrics = entry.details["metrics"]
    assert metrics["best_score"] == pytest.approx(0.27)
    assert metrics["timings_ms"]["rerank"] == 50.0
    assert log.verify().ok


def test_report_counts_outcomes_declines_and_the_near_gate_suspects(engine: Engine) -> None:
    log = AuditLog(engine)
    _fill(log)
    now = datetime.now(UTC)
    rep = live_report(log, since=now - timedelta(days=1), gate=GATE)
    assert (rep.requests, rep.answered, rep.declined, rep.denied) == (13, 10, 2, 1)
    assert rep.decline_rate == pytest.approx(2 / 12, abs=1e-4)
    assert rep.declines_by_reason == {"low_confidence": 2}
    assert [n.request_id for n in rep.near_gate_declines] == ["req-8"]
    assert rep.scored_requests == 10 and rep.below_gate_share == pytest.approx(0.2)
    assert rep.security_events == 2
    assert rep.security_by_reason == {"denied (flag)": 1, "guard: wrong_patient": 1}
    assert [b.user_id for b in rep.break_glass] == ["rn-eli"]
    assert sum(b.answered + b.declined for b in rep.score_bins) == 10


def test_report_gives_stage_percentiles_and_usage_per_model(engine: Engine) -> None:
    log = AuditLog(engine)
    _fill(log)
    rep = live_report(log, since=datetime.now(UTC) - timedelta(hours=1), gate=GATE)
    stages = {s.stage: s for s in rep.latency}
    assert stages["retrieve"].n == 10 and 100 <= stages["retrieve"].p50_ms <= stages["retrieve"].p95_ms <= 110
    assert stages["generate"].n == 8  # the two declines never reached generation
    assert stages["total"].n == 12  # the old record and break-the-glass still have a total
    assert stages["total"].p95_ms > 300  # the old 900 ms record counts in the total
    usage = {u.model: u for u in rep.usage_by_model}
    assert usage["gpt-4o-mini"].requests == 11  # 10 from answers, 1 old record
    assert usage["gpt-4o-mini"].cost_usd == pytest.approx(0.010)
    assert usage["gpt-4o-mini"].prompt_tokens == 1000
    assert rep.per_period[-1].requests == 13


def test_report_window_leaves_out_older_records(engine: Engine) -> None:
    log = AuditLog(engine)
    _fill(log)
    later = datetime.now(UTC) + timedelta(minutes=1)
    rep = live_report(log, since=later, gate=GATE, until=later + timedelta(days=1))
    assert rep.requests == 0 and rep.latency == []


def test_build_report_on_nothing_is_empty_not_an_error() -> None:
    now = datetime.now(UTC)
    rep = build_report([], since=now, until=now, gate=GATE)
    assert rep.requests == 0 and rep.decline_rate == 0.0 and rep.below_gate_share == 0.0


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("7d", timedelta(days=7)),
        ("24h", timedelta(hours=24)),
        ("30m", timedelta(minutes=30)),
        ("2w", timedelta(weeks=2)),
    ],
)
def test_since_durations(text: str, delta: timedelta) -> None:
    now = datetime(2026, 11, 28, 12, tzinfo=UTC)
    assert parse_since(text, now=now) == now - delta


def test_since_iso_date_and_bad_input() -> None:
    assert parse_since("2026-11-01") == datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(BadSince, match="7d"):
        parse_since("last tuesday")


def test_cli_report_json_and_words(settings: Settings, engine: Engine) -> None:
    _fill(AuditLog(engine))
    runner = CliRunner()
    result = runner.invoke(app, ["--data-dir", str(settings.data_dir), "report", "--since", "7d", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["requests"] == 13 and data["declines_by_reason"] == {"low_confidence": 2}
    assert data["flags"]["total"] == 0
    words = runner.invoke(app, ["--data-dir", str(settings.data_dir), "report"])
    assert words.exit_code == 0 and "latency per stage" in words.stdout and "Traceback" not in words.stdout
    bad = runner.invoke(app, ["--data-dir", str(settings.data_dir), "report", "--since", "yesterday"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_time_series_bucket_follows_the_span_of_the_traffic(engine: Engine) -> None:
    from carecite.audit.report import choose_bucket

    log = AuditLog(engine)
    _fill(log)
    entries = log.records(limit=None)
    assert choose_bucket(entries) == "minute"  # a few seconds of traffic
    assert choose_bucket([]) == "day"
    rep = live_report(log, since=datetime.now(UTC) - timedelta(days=1), gate=GATE, bucket="auto")
    assert rep.bucket == "minute" and len(rep.per_period[0].period) == 16  # "2026-11-28 10:42"


def test_denials_record_no_metrics_so_unknown_and_hidden_patients_look_alike(engine: Engine) -> None:
    log = AuditLog(engine)
    denied = _answer(1, declined="access_denied").model_copy(update={"retrieved": []})
    log.append(AuditEvent.from_answer(denied, scope=None, patient_key=None, kind="denied", redact=str))
    entry = log.records(kind="denied")[0]
    assert "metrics" not in entry.details and entry.metrics is None
