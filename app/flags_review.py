"""The Review page's flag section: which sources are behind flagged answers, and the open flags to
confirm or dismiss (carecite.feedback.flags decides; every review is audited)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

import ui_common as ui
from carecite.access.scope import AccessDenied
from carecite.feedback.flags import FlagError, list_flags, review_flag, summarize
from carecite.ui.live import flag_summary_rows, flag_table_rows

COLORS = alt.Scale(
    domain=["cited, confirmed", "cited, open", "retrieved only"], range=["#e45756", "#f58518", "#bab0ac"]
)


def _bars(rows: list[dict[str, object]], title: str) -> None:
    st.altair_chart(
        alt.Chart(pd.DataFrame(rows))
        .mark_bar()
        .encode(
            x=alt.X("count:Q", title="flags"),
            y=alt.Y("name:N", sort="-x", title=title),
            color=alt.Color("flags:N", scale=COLORS),
            tooltip=["name", "flags", "count"],
        ),
        width="stretch",
    )


def render(data_dir: str, reviewer_id: str) -> None:
    st.subheader("Flagged answers")
    done = st.session_state.pop("rv_flag_done", None)
    if done:
        st.success(done)
    engine = ui.get_stores(data_dir).engine
    flags = list_flags(engine)
    if not flags:
        st.caption("No answer has been flagged yet.")
        return
    summary = summarize(flags)
    st.caption(
        f"{summary.total} flag(s): "
        + ", ".join(f"{k} {v}" for k, v in summary.by_status.items())
        + ". Dismissed flags are left out of the charts."
    )
    left, right = st.columns(2)
    with left:
        st.markdown("**Per note / record type**")
        rows = flag_summary_rows(summary, "by_kind")
        if rows:
            _bars(rows, "type")
    with right:
        st.markdown("**Per source document**")
        rows = flag_summary_rows(summary, "by_source")
        if rows:
            _bars(rows, "FHIR source")
    st.dataframe(flag_table_rows(flags), hide_index=True, key="rv_flags")

    open_flags = [f for f in flags if f.status == "open"]
    if not open_flags:
        st.caption("Every flag has been reviewed.")
        return
    with st.form("flag_review"):
        chosen = st.selectbox(
            "Open flag",
            [f.id for f in open_flags],
            format_func=lambda fid: next(
                f"{f.id} · {f.category} · {f.flagged_by}" for f in open_flags if f.id == fid
            ),
            key="rv_flag",
        )
        decision = st.radio("Decision", ["confirmed", "dismissed"], horizontal=True, key="rv_flag_decision")
        note = st.text_input("Note (optional)", key="rv_flag_note")
        if st.form_submit_button("Record decision"):
            try:
                flag = review_flag(
                    engine,
                    ui.get_audit(data_dir),
                    ui.get_pipeline(data_dir).redactor,
                    reviewer_id=reviewer_id,
                    flag_id=str(chosen),
                    decision=str(decision),
                    note=note,
                )
            except (FlagError, AccessDenied) as exc:
                st.error(f"Not recorded: {exc}.")
                return
            st.session_state["rv_flag_done"] = f"Flag {flag.id} {flag.status}."
            st.rerun()
