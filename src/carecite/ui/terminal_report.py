"""Rich rendering of the live report and the drift report for people (``carecite report``/``drift``)."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table as RichTable

from carecite.audit.report import LiveReport
from carecite.monitoring.drift import Comparison, DriftReport


def _usd(value: float) -> str:
    return f"${value:.4f}"


def Table(*headers: str, title: str | None = None) -> RichTable:  # stands in for rich's Table
    """A table that fits an 80-column terminal: light rules, no outer padding, and headers that wrap
    at their spaces (written with spaces where a header is long) instead of being cut with "…"."""
    table = RichTable(box=box.SIMPLE_HEAD, pad_edge=False, title=title, title_justify="left")
    for h in headers:
        table.add_column(h, overflow="fold")
    return table


def render_report(rep: LiveReport, out: Console) -> None:
    out.print(f"[bold]Live quality[/] {rep.since} → {rep.until}")
    if not rep.requests:
        out.print("No requests in this window.")
    # one measure per line: eight numbers side by side cut their headers at 80 columns
    summary = Table("measure", "value")
    for name, value in (
        ("requests", str(rep.requests)),
        ("answered", str(rep.answered)),
        ("declined", str(rep.declined)),
        ("denied", str(rep.denied)),
        ("decline rate", f"{rep.decline_rate:.0%}"),
        ("below gate", f"{rep.below_gate_share:.0%} of {rep.scored_requests}"),
        ("security events", str(rep.security_events)),
        ("break-glass uses", str(len(rep.break_glass))),
    ):
        summary.add_row(name, value)
    out.print(summary)
    if rep.per_period:
        days = Table(
            rep.bucket,
            "requests",
            "answered",
            "declined",
            "denied",
            "security",
            "break-glass",
            title=f"per {rep.bucket}",
        )
        for d in rep.per_period:
            days.add_row(
                d.period,
                *(
                    str(x)
                    for x in (d.requests, d.answered, d.declined, d.denied, d.security_events, d.break_glass)
                ),
            )
        out.print(days)
    if rep.latency:
        lat = Table("stage", "n", "p50 ms", "p95 ms", title="latency per stage")
        for s in rep.latency:
            lat.add_row(s.stage, str(s.n), f"{s.p50_ms:,.0f}", f"{s.p95_ms:,.0f}")
        out.print(lat)
    if rep.declines_by_reason:
        dec = Table("reason", "declines", title="declines by reason")
        for reason, n in rep.declines_by_reason.items():
            dec.add_row(reason, str(n))
        out.print(dec)
    out.print(
        f"near-gate declines (best score within {rep.near_gate_margin:.2f} below the gate "
        f"{rep.gate_min_score:.2f}, possibly answerable): {len(rep.near_gate_declines)}"
    )
    for near in rep.near_gate_declines[:10]:
        out.print(f"  {near.ts[:19]}  request {near.request_id}  best {near.best_score:.3f}")
    if rep.usage_by_model:
        use = Table(
            "model", "requests", "prompt tokens", "completion tokens", "cost", "per request", title="usage"
        )
        for u in rep.usage_by_model:
            use.add_row(
                u.model,
                str(u.requests),
                f"{u.prompt_tokens:,}",
                f"{u.completion_tokens:,}",
                _usd(u.cost_usd),
                _usd(u.cost_per_request_usd),
            )
        out.print(use)
    if rep.security_by_reason:
        sec = Table("security event", "count", title="security events")
        for reason, n in rep.security_by_reason.items():
            sec.add_row(reason, str(n))
        out.print(sec)
    for b in rep.break_glass[:10]:
        out.print(f"break-the-glass {b.ts[:19]} by {b.user_id} (request {b.request_id})")
    flags = rep.flags
    if flags.get("total"):
        out.print(
            f"[bold]Flags[/] {flags['total']}: "
            + ", ".join(f"{k} {v}" for k, v in flags.get("by_status", {}).items())
            + " · "
            + ", ".join(f"{k} {v}" for k, v in flags.get("by_category", {}).items())
        )
        for key, title in (("by_kind", "note / record type"), ("by_source", "source document")):
            table = Table(title, "flags (cited)", "confirmed", "retrieved only", title=f"flags per {title}")
            for row in flags.get(key, [])[:15]:
                table.add_row(
                    row["name"], str(row["flags"]), str(row["confirmed"]), str(row["retrieved_only"])
                )
            out.print(table)
    else:
        out.print("No flags in this window.")


def _cmp_row(c: Comparison) -> list[str]:
    return [
        c.what,
        str(c.reference_n),
        str(c.recent_n),
        "—" if c.cosine_shift is None else f"{c.cosine_shift:.4f} (p={c.shift_p_value:.3g})",
        "—" if c.ks_p_value is None else f"{c.ks_p_value:.4g}",
        "[red]ALERT[/]" if c.alert else ("ok" if c.enough else "—"),
        c.note,
    ]


def render_drift(rep: DriftReport, out: Console) -> None:
    out.print(f"[bold]Drift[/] since {rep.since}; reference snapshot {rep.reference_ts or 'none yet'}")
    out.print(
        f"embedding model: {rep.current_fingerprint}"
        + (
            f" [red](reference: {rep.reference_fingerprint})[/]"
            if rep.fingerprint_changed
            else " (unchanged)"
        )
    )
    # Short headers, explained under the table: the notes column gets the width at 80 columns.
    table = Table("compared", "ref. n", "recent n", "shift", "KS p", "verdict", "note")
    table.add_row(*_cmp_row(rep.notes))
    table.add_row(*_cmp_row(rep.policies))
    table.add_row(*_cmp_row(rep.queries))
    out.print(table)
    out.print(
        "shift: cosine shift of the mean vector; KS p: Kolmogorov-Smirnov p, corrected for the tests run"
    )
    th = rep.thresholds
    out.print(
        f"alert when cosine shift ≥ {th.get('cosine_shift')} (permutation p < {th.get('ks_alpha')}), "
        f"KS p < {th.get('ks_alpha')}, "
        f"or ≥ {th.get('below_gate_share', 0):.0%} of questions below the gate"
    )
    out.print(
        f"questions whose best retrieval score fell below the gate ({rep.gate_min_score:.2f}): "
        f"{rep.below_gate_share:.0%} of {rep.scored_questions}"
    )
    if rep.alerts:
        for alert in rep.alerts:
            out.print(f"[bold red]alert:[/] {alert}")
    else:
        out.print("[green]no drift alert[/]")
