"""Live quality from the audit trail: what real traffic looks like, built without any question or answer text.

Every figure comes from fields the audit record already carries (kind, decline reason, model, tokens,
cost, total latency, break-the-glass reason) plus ``details["metrics"]`` (per-stage timings and the
best retrieval score, see ``audit.log.answer_metrics``). Records written before ``metrics`` existed
still count everywhere except the per-stage latency and the score-based figures.

``carecite report`` prints this; the Quality page's "Live" view plots it.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from carecite.audit.log import OUTCOME_KINDS, AuditEntry, AuditLog

STAGES: tuple[str, ...] = ("access", "retrieve", "rerank", "generate", "verify", "total")
SECURITY_KINDS: tuple[str, ...] = ("security_event", "denied")
# A decline whose best score sat this close below the gate may have been answerable: worth a look.
NEAR_GATE_MARGIN = 0.05
SCORE_BIN = 0.05

_SINCE = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class BadSince(ValueError):
    """``--since`` is neither a duration like 7d/24h nor an ISO date."""


def parse_since(text: str, *, now: datetime | None = None) -> datetime:
    """``7d``, ``24h``, ``30m``, ``2w`` (before now) or an ISO date/datetime (UTC when naive)."""
    now = now or datetime.now(UTC)
    m = _SINCE.match(text)
    if m:
        return now - timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadSince(f"--since must look like 7d, 24h, 30m, 2w or 2026-11-01, not {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class StageLatency(Frozen):
    stage: str
    n: int
    p50_ms: float
    p95_ms: float


class PeriodStageLatency(StageLatency):
    period: str


class PeriodCount(Frozen):
    period: str
    requests: int
    answered: int
    declined: int
    denied: int
    security_events: int
    break_glass: int


class ModelUsage(Frozen):
    model: str
    requests: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    cost_per_request_usd: float


class PeriodModelUsage(ModelUsage):
    period: str


class NearGateDecline(Frozen):
    request_id: str
    ts: str
    best_score: float


class ScoreBin(Frozen):
    """Requests whose best retrieval score fell in [start, start + SCORE_BIN)."""

    start: float
    answered: int
    declined: int


class BreakGlassUse(Frozen):
    request_id: str
    ts: str
    user_id: str | None
    declined: bool


class LiveReport(Frozen):
    """Everything the Live view and ``carecite report`` show (JSON: ``carecite report --json``)."""

    since: str
    until: str
    gate_min_score: float
    near_gate_margin: float = NEAR_GATE_MARGIN
    requests: int = 0  # outcome records: ask, decline, denied, break_glass
    answered: int = 0
    declined: int = 0
    denied: int = 0
    decline_rate: float = 0.0  # declined / (answered + declined): access denials are not declines
    declines_by_reason: dict[str, int] = Field(default_factory=dict)
    near_gate_declines: list[NearGateDecline] = Field(default_factory=list)
    scored_requests: int = 0  # requests whose best retrieval score was recorded
    below_gate_share: float = 0.0  # of those, the share whose best score fell below the gate
    score_bins: list[ScoreBin] = Field(default_factory=list)  # best-score histogram around the gate
    latency: list[StageLatency] = Field(default_factory=list)
    bucket: str = "day"  # the time series' period: day, hour, 10min or minute
    latency_over_time: list[PeriodStageLatency] = Field(default_factory=list)
    per_period: list[PeriodCount] = Field(default_factory=list)
    usage_by_model: list[ModelUsage] = Field(default_factory=list)
    usage_over_time: list[PeriodModelUsage] = Field(default_factory=list)
    security_events: int = 0  # guard violations and access denials
    security_by_reason: dict[str, int] = Field(default_factory=dict)
    break_glass: list[BreakGlassUse] = Field(default_factory=list)
    flags: dict[str, Any] = Field(default_factory=dict)  # feedback.flags.FlagSummary, when available


def _pct(values: Sequence[float], q: float) -> float:
    return round(float(np.percentile(np.asarray(values, dtype=float), q)), 1) if values else 0.0


def _timings(entry: AuditEntry) -> dict[str, float]:
    metrics = entry.metrics
    # The pipeline reports 0 for stages a request never reached (a decline skips generate/verify):
    # leave those out so they do not drag the percentiles down.
    timings = {k: v for k, v in metrics.timings_ms.items() if v > 0} if metrics else {}
    timings.setdefault("total", entry.latency_ms)  # old records: the total is a column
    return timings


def best_score(entry: AuditEntry) -> float | None:
    return entry.metrics.best_score if entry.metrics else None


def _latency(rows: Iterable[tuple[str, float]]) -> list[StageLatency]:
    by_stage: dict[str, list[float]] = defaultdict(list)
    for stage, ms in rows:
        by_stage[stage].append(ms)
    return [
        StageLatency(stage=s, n=len(by_stage[s]), p50_ms=_pct(by_stage[s], 50), p95_ms=_pct(by_stage[s], 95))
        for s in STAGES
        if by_stage.get(s)
    ]


def _security_reasons(entry: AuditEntry) -> list[str]:
    if entry.kind == "denied":
        action = entry.details.get("action")
        return [f"denied ({action})" if action else "denied"]
    violations = entry.details.get("guard_violations")
    items = violations if isinstance(violations, list) else []
    return [f"guard: {v.get('reason', '?')}" for v in items if isinstance(v, dict)] or ["guard"]


BUCKETS: dict[str, int] = {"minute": 16, "10min": 15, "hour": 13, "day": 10}  # ISO-timestamp prefix lengths


def choose_bucket(entries: Sequence[AuditEntry]) -> str:
    """The finest period that keeps a time series readable: minutes for the last hour's traffic, days for weeks."""
    if not entries:
        return "day"
    stamps = sorted(e.ts for e in entries)
    span = datetime.fromisoformat(stamps[-1]) - datetime.fromisoformat(stamps[0])
    if span <= timedelta(hours=1):
        return "minute"
    if span <= timedelta(hours=6):
        return "10min"
    return "hour" if span <= timedelta(days=3) else "day"


def _period(ts: str, bucket: str) -> str:
    text = ts[: BUCKETS[bucket]].replace("T", " ")
    return text + "0" if bucket == "10min" else text


def build_report(
    entries: Sequence[AuditEntry], *, since: datetime, until: datetime, gate: float, bucket: str = "day"
) -> LiveReport:
    """The live figures over ``entries`` (any order; records of any kind); time series per ``bucket``
    (day, hour, 10min, minute, or "auto" for ``choose_bucket``)."""
    if bucket == "auto":
        bucket = choose_bucket(entries)
    outcomes = [e for e in entries if e.kind in OUTCOME_KINDS]
    answered = [e for e in outcomes if e.kind != "denied" and not e.decline_reason]
    declined = [e for e in outcomes if e.kind != "denied" and e.decline_reason]
    denied = [e for e in outcomes if e.kind == "denied"]
    security = [e for e in entries if e.kind in SECURITY_KINDS]

    scored = [(e, s) for e in outcomes if (s := best_score(e)) is not None]
    near = [
        NearGateDecline(request_id=e.request_id, ts=e.ts, best_score=s)
        for e, s in scored
        if e.decline_reason == "low_confidence" and gate - NEAR_GATE_MARGIN <= s < gate
    ]

    bins: dict[float, Counter[str]] = defaultdict(Counter)
    for e, s in scored:
        start = round(min(int(s / SCORE_BIN), int(1 / SCORE_BIN) - 1) * SCORE_BIN, 4)
        bins[start]["declined" if e.decline_reason else "answered"] += 1

    stage_rows: list[tuple[str, str, float]] = []  # (day, stage, ms)
    for e in outcomes:
        if e.kind == "denied":
            continue  # no pipeline ran: only the access check
        stage_rows.extend(
            (_period(e.ts, bucket), stage, ms) for stage, ms in _timings(e).items() if stage in STAGES
        )
    by_day_stage: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for day, stage, ms in stage_rows:
        by_day_stage[day].append((stage, ms))

    days: dict[str, Counter[str]] = defaultdict(Counter)
    for e in entries:
        c = days[_period(e.ts, bucket)]
        if e.kind in OUTCOME_KINDS:
            c["requests"] += 1
            c["denied" if e.kind == "denied" else "declined" if e.decline_reason else "answered"] += 1
        if e.kind in SECURITY_KINDS:
            c["security_events"] += 1
        if e.kind == "break_glass":
            c["break_glass"] += 1

    usage: dict[tuple[str, str], list[AuditEntry]] = defaultdict(list)
    for e in answered + declined:
        usage[(_period(e.ts, bucket), e.model or "none")].append(e)

    def model_usage(group: Sequence[AuditEntry]) -> dict[str, Any]:
        cost = sum(e.cost_usd for e in group)
        return {
            "requests": len(group),
            "prompt_tokens": sum(e.prompt_tokens for e in group),
            "completion_tokens": sum(e.completion_tokens for e in group),
            "cost_usd": round(cost, 6),
            "cost_per_request_usd": round(cost / len(group), 6) if group else 0.0,
        }

    per_model: dict[str, list[AuditEntry]] = defaultdict(list)
    for (_, model), group in usage.items():
        per_model[model].extend(group)

    finished = len(answered) + len(declined)
    return LiveReport(
        since=since.isoformat(timespec="seconds"),
        until=until.isoformat(timespec="seconds"),
        gate_min_score=gate,
        requests=len(outcomes),
        answered=len(answered),
        declined=len(declined),
        denied=len(denied),
        decline_rate=round(len(declined) / finished, 4) if finished else 0.0,
        declines_by_reason=dict(Counter(str(e.decline_reason) for e in declined).most_common()),
        near_gate_declines=sorted(near, key=lambda n: n.ts),
        scored_requests=len(scored),
        below_gate_share=round(sum(1 for _, s in scored if s < gate) / len(scored), 4) if scored else 0.0,
        score_bins=[
            ScoreBin(start=b, answered=bins[b]["answered"], declined=bins[b]["declined"])
            for b in sorted(bins)
        ],
        latency=_latency((stage, ms) for _, stage, ms in stage_rows),
        bucket=bucket,
        latency_over_time=[
            PeriodStageLatency(period=day, **lat.model_dump())
            for day in sorted(by_day_stage)
            for lat in _latency(by_day_stage[day])
        ],
        per_period=[
            PeriodCount(
                period=day,
                **{
                    k: days[day][k]
                    for k in ("requests", "answered", "declined", "denied", "security_events", "break_glass")
                },
            )
            for day in sorted(days)
        ],
        usage_by_model=[ModelUsage(model=m, **model_usage(g)) for m, g in sorted(per_model.items())],
        usage_over_time=[
            PeriodModelUsage(period=day, model=model, **model_usage(g))
            for (day, model), g in sorted(usage.items())
        ],
        security_events=len(security),
        security_by_reason=dict(Counter(r for e in security for r in _security_reasons(e)).most_common()),
        break_glass=[
            BreakGlassUse(
                request_id=e.request_id, ts=e.ts, user_id=e.user_id, declined=bool(e.decline_reason)
            )
            for e in sorted(outcomes, key=lambda e: e.ts)
            if e.kind == "break_glass"
        ],
    )


def live_report(
    audit: AuditLog, *, since: datetime, gate: float, until: datetime | None = None, bucket: str = "day"
) -> LiveReport:
    """Read the audit records since ``since`` and build the report (flags are added by the caller)."""
    until = until or datetime.now(UTC)
    entries = audit.records(
        since=since.astimezone(UTC).isoformat(timespec="microseconds"),
        until=until.astimezone(UTC).isoformat(timespec="microseconds"),
        limit=None,
        newest_first=False,
    )
    return build_report(entries, since=since, until=until, gate=gate, bucket=bucket)
