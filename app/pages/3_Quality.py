"""carecite — Quality: live quality from the audit trail, and the gold-set metrics from ``carecite eval``.

Live: requests, latency per stage, declines, cost, security events, drift, flags per note type —
all aggregates of audit records and drift samples (docs/observability.md). Gold set: every
``<data dir>/eval_runs/*.json`` written by ``carecite eval --json``. Aggregates only: no patient
data, so no sign-in is needed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ui_common as ui
from carecite.ui.quality import cost_rows, latency_rows, load_eval_runs, metric_rows, run_deltas, set_rows

st.set_page_config(page_title="carecite · Quality", page_icon="📈", layout="wide")
with ui.store_faults():  # a dead store is one message, not a traceback (issue 28)
    HAS_DATA = (
        ui.settings().data_dir / "carecite.sqlite"
    ).is_file() or ui.settings().database_url is not None
    if HAS_DATA:  # sign-in is optional here: aggregates only
        ui.sign_in(ui.require_data())
    st.title("Quality")

    def live_view() -> None:
        """Live quality from the audit trail (built without question or answer text)."""
        import live_view as lv

        if not HAS_DATA:
            st.info(
                f"No carecite data at `{ui.settings().data_dir}` yet: live quality appears once "
                "`carecite ingest synthetic` (or `carecite demo`) has built it and questions are asked."
            )
            return
        lv.render(ui.require_data())

    def gold_view() -> None:
        """The question-set view: each set's figures, and every `carecite eval --json` run and how it moved."""
        folder = ui.settings().data_dir / "eval_runs"
        runs, problems = load_eval_runs(folder)
        for problem in problems:
            st.warning(f"Skipped {problem}")
        if not runs:
            st.info(
                f"No evaluation runs in `{folder}` yet. Create one from the repository with "
                f"`.venv/bin/carecite --data-dir {folder.parent} eval --json` (plain `carecite eval --json` "
                "in `make shell`): it asks the test split of the gold questions in "
                "`synthetic_data/gold.jsonl` and writes a run file there. Run it again after a change to "
                "see how the metrics moved."
            )
            return

        st.subheader("Per question set (latest run of each)")
        st.caption(
            "Only **independent** sets — written by authors who never saw the code, frozen by hash — are "
            "evidence of how carecite does on questions nobody here wrote; **templated** sets are "
            "regression checks. Wrong facts: answers citing no source of the fact, and answers where the "
            "record holds none."
        )
        st.dataframe(pd.DataFrame(set_rows(runs)), hide_index=True, width="stretch")

        latest = runs[-1]
        st.subheader("Latest run")
        st.caption(
            f"{len(runs)} run(s); latest `{latest.run_id}` ({latest.ts}, set {latest.question_set}, "
            f"split {latest.split or '—'})."
        )

        metrics = pd.DataFrame(metric_rows(runs))
        if not metrics.empty:
            cols = st.columns(3)
            for col, group in zip(cols, ("retrieval", "citation", "decline"), strict=True):
                with col:
                    st.markdown(f"**{group.capitalize()}**")
                    data = metrics[(metrics["group"] == group) & (metrics["run"] == latest.run_id)]
                    if data.empty:
                        st.caption("no metrics of this kind in the latest run")
                        continue
                    chart = (
                        alt.Chart(data)
                        .mark_bar()
                        .encode(
                            x=alt.X("value:Q", scale=alt.Scale(domain=[0, 1])),
                            y=alt.Y("metric:N", sort=None),
                            tooltip=["metric", "value"],
                        )
                    )
                    st.altair_chart(chart, width="stretch")
            others = metrics[(metrics["group"] == "other") & (metrics["run"] == latest.run_id)]
            if not others.empty:
                st.dataframe(others[["metric", "value"]], hide_index=True)
            if len(runs) > 1:
                st.subheader("Over runs")
                trend = (
                    alt.Chart(metrics)
                    .mark_line(point=True)
                    .encode(
                        x=alt.X("ts:N", title="run"),
                        y="value:Q",
                        color="metric:N",
                        tooltip=["run", "metric", "value"],
                    )
                    .facet(column="group:N")
                )
                st.altair_chart(trend)
        else:
            st.caption("The latest run has no metrics.")

        if latest.per_category:
            st.subheader("Per category (latest run)")
            st.dataframe(pd.DataFrame(latest.per_category).T, width="stretch")

        st.subheader("Latency per stage")
        lat = pd.DataFrame(latency_rows(runs))
        if lat.empty:
            st.caption("No latency recorded.")
        else:
            st.altair_chart(
                alt.Chart(lat).mark_boxplot().encode(x=alt.X("ms:Q", title="ms"), y="stage:N", color="run:N"),
                width="stretch",
            )

        st.subheader("Cost per request")
        cost = pd.DataFrame(cost_rows(runs))
        if cost.empty or float(cost["cost_usd"].sum()) == 0.0:
            st.caption("No cost recorded (the offline extractive answerer costs nothing).")
        else:
            st.altair_chart(
                alt.Chart(cost)
                .mark_boxplot()
                .encode(x=alt.X("cost_usd:Q", title="USD per request"), y="run:N"),
                width="stretch",
            )

        st.subheader("Change since the previous run")
        deltas = run_deltas(runs)
        if deltas:
            st.caption(f"previous = `{runs[-2].run_id}`, latest = `{latest.run_id}`")
            st.dataframe(deltas, hide_index=True)
        else:
            st.caption("Only one run so far: run `carecite eval --json` again after a change.")

    live_tab, gold_tab = st.tabs(["Live", "Question sets"])
    with live_tab:
        live_view()
    with gold_tab:
        gold_view()
