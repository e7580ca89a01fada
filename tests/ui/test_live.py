"""What the Live view and the Review flag section plot (carecite.ui.live): rows from the reports."""

from __future__ import annotations

from datetime import UTC, datetime

from carecite.audit.report import LiveReport, PeriodCount, PeriodStageLatency
from carecite.feedback.flags import Flag, FlagSource, summarize
from carecite.monitoring.drift import Comparison, DriftReport
from carecite.ui.live import (
    drift_rows,
    flag_summary_rows,
    flag_table_rows,
    latency_rows,
    request_rows,
    window_start,
)


def _live() -> LiveReport:
    return LiveReport(
        since="a",
        until="b",
        gate_min_score=0.3,
        per_period=[
            PeriodCount(
                period="2026-11-28",
                requests=3,
                answered=2,
                declined=1,
                denied=0,
                security_events=0,
                break_glass=0,
            )
        ],
        latency_over_time=[
            PeriodStageLatency(period="2026-11-28", stage="rerank", n=3, p50_ms=10, p95_ms=30)
        ],
    )


def test_request_rows_skip_empty_outcomes_and_latency_has_both_percentiles() -> None:
    rep = _live()
    assert request_rows(rep) == [
        {"period": "2026-11-28", "outcome": "answered", "requests": 2},
        {"period": "2026-11-28", "outcome": "declined", "requests": 1},
    ]
    assert {(r["percentile"], r["ms"]) for r in latency_rows(rep)} == {("p50", 10), ("p95", 30)}


def test_drift_rows_carry_status_and_threshold() -> None:
    rep = DriftReport(
        since="s",
        current_fingerprint="m",
        notes=Comparison(
            what="notes", reference_n=100, recent_n=50, enough=True, cosine_shift=0.2, alert=True
        ),
        policies=Comparison(what="policies", reference_n=80, recent_n=0, enough=False, note="none in window"),
        queries=Comparison(what="queries", reference_n=3, recent_n=0, enough=False, note="collecting"),
        gate_min_score=0.3,
        below_gate_share=0.6,
        scored_questions=40,
        thresholds={"cosine_shift": 0.1, "below_gate_share": 0.5},
        alerts=["60% of questions scored below the gate (alert at 50%)"],
    )
    rows = {r["measure"]: r for r in drift_rows(rep)}
    assert rows["notes: cosine shift"]["status"] == "ALERT" and rows["notes: cosine shift"]["alert_at"] == 0.1
    assert rows["policies: cosine shift"]["status"] == "not enough data"
    assert rows["queries: cosine shift"]["status"] == "not enough data"
    assert rows["questions below the gate (share)"]["status"] == "ALERT"


def test_flag_rows_split_confirmed_open_and_retrieved_only() -> None:
    src = [
        FlagSource(ref="Task/t1", kind="Task", cited=True),
        FlagSource(ref="Task/t2", kind="Task", cited=False),
    ]
    flags = [
        Flag(
            id="f1",
            request_id="r",
            created_at="2026-11-28T10:00:00",
            flagged_by="cc",
            category="wrong",
            comment="<PERSON> said so",
            status="confirmed",
            sources=src,
        ),
        Flag(
            id="f2",
            request_id="r",
            created_at="2026-11-28T11:00:00",
            flagged_by="cc",
            category="unsupported",
            comment="",
            status="open",
            sources=src,
        ),
    ]
    rows = flag_summary_rows(summarize(flags), "by_source")
    assert {(r["name"], r["flags"], r["count"]) for r in rows} == {
        ("Task/t1", "cited, open", 1),
        ("Task/t1", "cited, confirmed", 1),
        ("Task/t2", "retrieved only", 2),
    }
    table = flag_table_rows(flags)
    assert table[0]["reason"] == "Wrong" and table[0]["cited sources"] == "Task/t1"


def test_unknown_window_falls_back_to_seven_days() -> None:
    now = datetime(2026, 11, 28, tzinfo=UTC)
    assert (now - window_start("forever", now=now)).days == 7
