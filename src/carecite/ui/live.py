"""What the Quality page's Live view and the Review page's flag section show, as plain rows for charts.

Layout stays in app/; the figures come from ``audit.report``, ``monitoring.drift`` and
``feedback.flags``. Everything here is an aggregate: no question, answer or comment text.
"""

from __future__ import annotations

from datetime import datetime

from carecite.audit.report import NEAR_GATE_MARGIN, LiveReport
from carecite.feedback.flags import CATEGORY_WORDS, Flag, FlagSummary
from carecite.monitoring.drift import DriftReport

WINDOWS: dict[str, str] = {
    "24h": "last 24 hours",
    "7d": "last 7 days",
    "30d": "last 30 days",
    "90d": "last 90 days",
}


def request_rows(rep: LiveReport) -> list[dict[str, object]]:
    """Requests per period by outcome (stacked bars)."""
    return [
        {"period": d.period, "outcome": outcome, "requests": getattr(d, outcome)}
        for d in rep.per_period
        for outcome in ("answered", "declined", "denied")
        if getattr(d, outcome)
    ]


def latency_rows(rep: LiveReport) -> list[dict[str, object]]:
    """p50 and p95 per stage per period (lines)."""
    return [
        {"period": d.period, "stage": d.stage, "percentile": pct, "ms": value}
        for d in rep.latency_over_time
        for pct, value in (("p50", d.p50_ms), ("p95", d.p95_ms))
    ]


def decline_rows(rep: LiveReport) -> list[dict[str, object]]:
    finished = rep.answered + rep.declined
    return [
        {"reason": reason, "declines": n, "rate": round(n / finished, 4) if finished else 0.0}
        for reason, n in rep.declines_by_reason.items()
    ]


def usage_rows(rep: LiveReport) -> list[dict[str, object]]:
    return [
        {
            "period": u.period,
            "model": u.model,
            "tokens": u.prompt_tokens + u.completion_tokens,
            "cost_usd": u.cost_usd,
            "cost_per_request_usd": u.cost_per_request_usd,
        }
        for u in rep.usage_over_time
    ]


def security_rows(rep: LiveReport) -> list[dict[str, object]]:
    return [
        {"period": d.period, "event": event, "count": n}
        for d in rep.per_period
        for event, n in (("security event", d.security_events), ("break-the-glass", d.break_glass))
        if n
    ]


def score_rows(rep: LiveReport) -> list[dict[str, object]]:
    """The best-score histogram (bins of 0.05) by outcome, to plot against the gate."""
    return [
        {"best_score": b.start, "outcome": outcome, "requests": getattr(b, outcome)}
        for b in rep.score_bins
        for outcome in ("answered", "declined")
        if getattr(b, outcome)
    ]


def near_gate_band(gate: float) -> dict[str, float]:
    return {"from": round(gate - NEAR_GATE_MARGIN, 4), "to": gate}


def headline(rep: LiveReport) -> list[tuple[str, str]]:
    """(label, value) pairs for the row of big numbers."""
    cost = sum(u.cost_usd for u in rep.usage_by_model)
    return [
        ("Requests", f"{rep.requests}"),
        ("Decline rate", f"{rep.decline_rate:.0%}"),
        ("Below the gate", f"{rep.below_gate_share:.0%}"),
        ("Near-gate declines", f"{len(rep.near_gate_declines)}"),
        ("Security events", f"{rep.security_events}"),
        ("Break-the-glass", f"{len(rep.break_glass)}"),
        ("Cost", f"${cost:.4f}"),
    ]


def drift_rows(rep: DriftReport) -> list[dict[str, object]]:
    """One bar per comparison (cosine shift), and the share below the gate, each with its alert line."""
    rows: list[dict[str, object]] = []
    for c in (rep.notes, rep.policies, rep.queries):
        rows.append(
            {
                "measure": f"{c.what}: cosine shift",
                "value": c.cosine_shift if c.cosine_shift is not None else 0.0,
                "alert_at": rep.thresholds.get("cosine_shift", 0.0),
                "status": "ALERT" if c.alert else ("ok" if c.enough else "not enough data"),
                "note": c.note or f"n={c.reference_n} vs {c.recent_n}, KS p={c.ks_p_value}",
            }
        )
    rows.append(
        {
            "measure": "questions below the gate (share)",
            "value": rep.below_gate_share,
            "alert_at": rep.thresholds.get("below_gate_share", 0.0),
            "status": "ALERT" if any("below the gate" in a for a in rep.alerts) else "ok",
            "note": f"{rep.scored_questions} scored questions, gate {rep.gate_min_score:.2f}",
        }
    )
    return rows


def flag_summary_rows(summary: FlagSummary, key: str, limit: int = 15) -> list[dict[str, object]]:
    """Per source document (key "by_source") or per note type ("by_kind"): long rows for a stacked bar."""
    rows: list[dict[str, object]] = []
    for item in getattr(summary, key)[:limit]:
        rows.append({"name": item.name, "flags": "cited, open", "count": item.flags - item.confirmed})
        rows.append({"name": item.name, "flags": "cited, confirmed", "count": item.confirmed})
        rows.append({"name": item.name, "flags": "retrieved only", "count": item.retrieved_only})
    return [r for r in rows if r["count"]]


def flag_table_rows(flags: list[Flag]) -> list[dict[str, object]]:
    return [
        {
            "flag": f.id,
            "raised (UTC)": f.created_at[:19].replace("T", " "),
            "by": f.flagged_by,
            "reason": CATEGORY_WORDS.get(f.category, f.category),
            "status": f.status,
            "cited sources": ", ".join(s.ref for s in f.sources if s.cited) or "—",
            "comment (redacted)": f.comment,
            "request": f.request_id,
        }
        for f in flags
    ]


def window_start(choice: str, now: datetime | None = None) -> datetime:
    from carecite.audit.report import parse_since

    return parse_since(choice if choice in WINDOWS else "7d", now=now)
