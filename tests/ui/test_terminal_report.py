"""carecite report and drift in a terminal: every table fits 80 columns with its headers whole."""

from __future__ import annotations

from rich.console import Console

from carecite.audit.report import LiveReport
from carecite.ui.terminal_report import render_report

REPORT = LiveReport.model_validate(
    {
        "since": "2026-10-01T00:00:00", "until": "2026-10-08T00:00:00", "gate_min_score": 0.35,
        "requests": 1234, "answered": 1000, "declined": 200, "denied": 34, "decline_rate": 0.1667,
        "declines_by_reason": {"low_confidence": 150, "no_evidence": 50},
        "scored_requests": 1200, "below_gate_share": 0.12,
        "latency": [{"stage": s, "n": 1200, "p50_ms": 1234.5, "p95_ms": 12345.6}
                    for s in ("access", "retrieve", "rerank", "generate", "verify", "total")],
        "per_period": [{"period": f"2026-10-0{d}", "requests": 176, "answered": 140, "declined": 30,
                        "denied": 6, "security_events": 7, "break_glass": 1} for d in range(1, 8)],
        "usage_by_model": [{"model": "extractive-offline-v1", "requests": 1000, "prompt_tokens": 1234567,
                            "completion_tokens": 234567, "cost_usd": 12.3456, "cost_per_request_usd": 0.0123}],
        "security_events": 41, "security_by_reason": {"label_not_allowed": 7, "access_denied": 34},
        "flags": {"total": 3, "by_status": {"open": 2, "confirmed": 1}, "by_category": {"unsupported": 3},
                  "by_kind": [{"name": "Discharge summary", "flags": 2, "confirmed": 1, "retrieved_only": 1}],
                  "by_source": [{"name": "DocumentReference/5b0b03f1-dfe3-5feb-afac-1f10416130b7", "flags": 2,
                                 "confirmed": 1, "retrieved_only": 0}]},
    }
)  # fmt: skip


def test_report_fits_80_columns_and_no_header_is_cut() -> None:
    console = Console(width=80, record=True, color_system=None)
    render_report(REPORT, console)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "…" not in text
    for header in ("requests", "answered", "declined", "decline rate", "below gate", "break-glass", "p95 ms",
                   "completion tokens", "per request", "retrieved only"):  # fmt: skip
        assert all(word in text.split() for word in header.split()), header  # may wrap at a space, never cut


def test_drift_shows_notes_and_policies_as_separate_comparisons() -> None:
    from carecite.monitoring.drift import Comparison, DriftReport
    from carecite.ui.terminal_report import render_drift

    rep = DriftReport(
        since="2026-10-01T00:00:00",
        current_fingerprint="m",
        reference_fingerprint="m",
        notes=Comparison(what="notes", reference_n=250, recent_n=0, enough=False, note="no notes ingested"),
        policies=Comparison(
            what="policies", reference_n=2000, recent_n=40, enough=True, cosine_shift=0.01, shift_p_value=0.5
        ),
        queries=Comparison(what="queries", reference_n=0, recent_n=0, enough=False),
        gate_min_score=0.35,
    )
    console = Console(width=80, record=True, color_system=None)
    render_drift(rep, console)
    text = console.export_text()
    assert "notes" in text.split() and "policies" in text.split() and "no drift alert" in text
    assert max(len(line) for line in text.splitlines()) <= 80
