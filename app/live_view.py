"""The Quality page's Live view: plots of real traffic from the audit trail, drift, flags per note type.

Layout only: the figures come from ``carecite.audit.report``, ``carecite.monitoring.drift`` and
``carecite.feedback.flags``; the rows for each chart from ``carecite.ui.live``.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

import ui_common as ui
from carecite.audit.report import live_report
from carecite.feedback.flags import list_flags, summarize
from carecite.monitoring.drift import drift_report
from carecite.ui.live import (
    WINDOWS,
    decline_rows,
    drift_rows,
    flag_summary_rows,
    headline,
    latency_rows,
    near_gate_band,
    request_rows,
    score_rows,
    security_rows,
    usage_rows,
    window_start,
)


def _chart(rows: list[dict[str, Any]], empty: str) -> pd.DataFrame | None:
    if not rows:
        st.caption(empty)
        return None
    return pd.DataFrame(rows)


def render(data_dir: str) -> None:
    settings = ui.settings()
    choice = st.selectbox("Window", list(WINDOWS), index=1, format_func=WINDOWS.__getitem__, key="live_since")
    start = window_start(choice)
    stores = ui.get_stores(data_dir)
    rep = live_report(ui.get_audit(data_dir), since=start, gate=settings.gate_min_score, bucket="auto")
    st.caption(
        f"From the audit trail, {WINDOWS[choice]} (UTC). No question or answer text is read: "
        "each record's kind, timings, scores, tokens and cost."
    )
    cols = st.columns(len(headline(rep)))
    for col, (label, value) in zip(cols, headline(rep), strict=True):
        col.metric(label, value)
    if not rep.requests:
        st.info("No questions were asked in this window yet. Ask one on the Ask page, then come back.")

    left, right = st.columns(2)
    with left:
        st.markdown("**Requests over time**")
        df = _chart(request_rows(rep), "No requests.")
        if df is not None:
            st.altair_chart(
                alt.Chart(df)
                .mark_bar()
                .encode(
                    x=alt.X("period:N", title=f"{rep.bucket} (UTC)"),
                    y=alt.Y("requests:Q", stack="zero"),
                    color=alt.Color(
                        "outcome:N",
                        scale=alt.Scale(
                            domain=["answered", "declined", "denied"], range=["#4c78a8", "#f58518", "#e45756"]
                        ),
                    ),
                    tooltip=["period", "outcome", "requests"],
                ),
                width="stretch",
            )
    with right:
        st.markdown("**Latency per stage (p50 solid, p95 dashed)**")
        df = _chart(latency_rows(rep), "No timings recorded.")
        if df is not None:
            st.altair_chart(
                alt.Chart(df)
                .mark_line(point=True)
                .encode(
                    x=alt.X("period:N", title=f"{rep.bucket} (UTC)"),
                    y=alt.Y("ms:Q", title="ms", scale=alt.Scale(type="log")),
                    color="stage:N",
                    strokeDash=alt.StrokeDash("percentile:N", sort=["p50", "p95"]),
                    tooltip=["period", "stage", "percentile", "ms"],
                ),
                width="stretch",
            )

    left, right = st.columns(2)
    with left:
        st.markdown("**Declines by reason** (share of answered + declined)")
        df = _chart(decline_rows(rep), "No declines.")
        if df is not None:
            st.altair_chart(
                alt.Chart(df)
                .mark_bar()
                .encode(
                    x=alt.X("rate:Q", axis=alt.Axis(format="%"), title="decline rate"),
                    y=alt.Y("reason:N", sort="-x"),
                    tooltip=["reason", "declines", alt.Tooltip("rate:Q", format=".1%")],
                ),
                width="stretch",
            )
    with right:
        st.markdown("**Best retrieval score vs the gate** (shaded: declines that may have been answerable)")
        df = _chart(score_rows(rep), "No scores recorded.")
        if df is not None:
            band = near_gate_band(rep.gate_min_score)
            bars = (
                alt.Chart(df)
                .mark_bar(opacity=0.85)
                .encode(
                    x=alt.X("best_score:Q", bin=alt.Bin(step=0.05), title="best re-ranked score"),
                    y=alt.Y("sum(requests):Q", title="requests"),
                    color=alt.Color(
                        "outcome:N",
                        scale=alt.Scale(domain=["answered", "declined"], range=["#4c78a8", "#f58518"]),
                    ),
                    tooltip=["best_score", "outcome", "requests"],
                )
            )
            shade = (
                alt.Chart(pd.DataFrame([band]))
                .mark_rect(color="#e45756", opacity=0.15)
                .encode(x="from:Q", x2="to:Q")
            )
            gate = (
                alt.Chart(pd.DataFrame([{"gate": rep.gate_min_score}]))
                .mark_rule(color="#e45756", strokeWidth=2)
                .encode(x="gate:Q")
            )
            st.altair_chart(shade + bars + gate, width="stretch")
            st.caption(
                f"{len(rep.near_gate_declines)} decline(s) within {band['to'] - band['from']:.2f} below "
                f"the gate ({rep.gate_min_score:.2f}); their request ids are in `carecite report`."
            )

    left, right = st.columns(2)
    with left:
        st.markdown("**Tokens and cost over time, by model**")
        df = _chart(usage_rows(rep), "No model usage.")
        if df is not None:
            base = alt.Chart(df).encode(x=alt.X("period:N", title=f"{rep.bucket} (UTC)"), color="model:N")
            tokens = base.mark_bar().encode(
                y=alt.Y("tokens:Q", title="tokens"), tooltip=["period", "model", "tokens"]
            )
            cost = base.mark_line(point=True, strokeDash=[4, 2]).encode(
                y=alt.Y("cost_usd:Q", title="USD"),
                tooltip=["period", "model", "cost_usd", "cost_per_request_usd"],
            )
            st.altair_chart(alt.layer(tokens, cost).resolve_scale(y="independent"), width="stretch")
            if sum(u.cost_usd for u in rep.usage_by_model) == 0:
                st.caption("Cost is $0: the offline extractive answerer uses no paid model.")
    with right:
        st.markdown("**Security events and break-the-glass uses**")
        df = _chart(security_rows(rep), "None in this window.")
        if df is not None:
            st.altair_chart(
                alt.Chart(df)
                .mark_bar()
                .encode(
                    x=alt.X("period:N", title=f"{rep.bucket} (UTC)"),
                    y="count:Q",
                    color=alt.Color(
                        "event:N",
                        scale=alt.Scale(
                            domain=["security event", "break-the-glass"], range=["#e45756", "#b279a2"]
                        ),
                    ),
                    tooltip=["period", "event", "count"],
                ),
                width="stretch",
            )

    # ------------------------------------------------------------------ drift
    st.subheader("Drift")
    drift = drift_report(
        stores.engine,
        settings,
        current_fingerprint=stores.embedder.fingerprint,
        since=start,
        scored_questions=rep.scored_requests,
        below_gate_share=rep.below_gate_share,
    )
    if drift.fingerprint_changed:
        st.error(
            f"The embedding model changed since the reference snapshot ({drift.reference_fingerprint} → "
            f"{drift.current_fingerprint}). Re-embed, then `carecite drift --reset-reference`.",
            icon="⚠️",
        )
    for alert in drift.alerts:
        if "embedding model" not in alert:
            st.warning(alert, icon="📉")
    if not drift.alerts:
        st.success("No drift alert.", icon="✅")
    drows = drift_rows(drift)
    df = pd.DataFrame(drows)
    bars = (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("value:Q", title="value (red tick: alert threshold)"),
            y=alt.Y("measure:N", sort=None, title=None),
            color=alt.Color(
                "status:N",
                scale=alt.Scale(
                    domain=["ok", "ALERT", "not enough data"], range=["#54a24b", "#e45756", "#bab0ac"]
                ),
            ),
            tooltip=["measure", "value", "alert_at", "status", "note"],
        )
    )
    ticks = (
        alt.Chart(df)
        .mark_tick(color="#e45756", thickness=3, size=28)
        .encode(x="alert_at:Q", y=alt.Y("measure:N", sort=None))
    )
    st.altair_chart(bars + ticks, width="stretch")
    st.caption(
        f"Reference snapshot {drift.reference_ts or 'not taken yet'} · model `{drift.current_fingerprint}` · "
        f"alert at cosine shift ≥ {settings.drift_cosine_alert} (and not chance: permutation p < {settings.drift_alpha}), "
        f"KS p < {settings.drift_alpha}, "
        f"or ≥ {settings.drift_below_gate_alert:.0%} of questions below the gate. "
        + " ".join(f"{r['measure']}: {r['note']}." for r in drows[:2])
    )

    # ------------------------------------------------------------------ flags
    st.subheader("Flags per note type")
    summary = summarize(list_flags(stores.engine, since=start.isoformat(timespec="microseconds")))
    df = _chart(flag_summary_rows(summary, "by_kind"), "No flagged answers in this window.")
    if df is not None:
        st.altair_chart(
            alt.Chart(df)
            .mark_bar()
            .encode(
                x=alt.X("count:Q", title="flags"),
                y=alt.Y("name:N", sort="-x", title="note / record type"),
                color=alt.Color(
                    "flags:N",
                    scale=alt.Scale(
                        domain=["cited, confirmed", "cited, open", "retrieved only"],
                        range=["#e45756", "#f58518", "#bab0ac"],
                    ),
                ),
                tooltip=["name", "flags", "count"],
            ),
            width="stretch",
        )
        st.caption(
            f"{summary.total} flag(s): "
            + ", ".join(f"{k} {v}" for k, v in summary.by_status.items())
            + ". Per source document on the Review page (reviewers)."
        )
