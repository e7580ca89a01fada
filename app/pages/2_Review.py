"""carecite — Review: the audit trail for compliance reviewers.

A filterable table of audit records, the flagged answers (per source document and note type, with
confirm/dismiss), one record's detail as the user saw it (redacted question and
answer, cited sources re-opened through ``open_cited_source``, which audits each opening), and the
hash chain's status from ``AuditLog.verify``.
"""

from __future__ import annotations

import sys
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import Session

import flags_review
import ui_common as ui
from carecite.access.scope import AUDIT_READER_ROLES, AccessDenied, open_cited_source, require_role
from carecite.ui.html import answer_with_chips_html, bullets_html, escape_text, source_box_html
from carecite.ui.people import list_users
from carecite.ui.review import (
    audit_row,
    filter_audit_rows,
    record_labels,
    review_sources,
    spans_in_shown_text,
)

st.set_page_config(page_title="carecite · Review", page_icon="🔎", layout="wide")
with ui.store_faults():  # a dead store is one message, not a traceback (issue 28)
    DATA = ui.require_data()
    user = ui.sign_in(DATA)
    st.title("Review the audit trail")
    if user is None:
        st.info("Choose who you are in the sidebar to start.")
        st.stop()
    try:  # the same check the API and the flags commands make (carecite.access)
        with ui.session(DATA) as s:
            require_role(s, user.user_id, AUDIT_READER_ROLES)
    except AccessDenied:
        st.error("The audit trail is for compliance reviewers and administrators.")
        st.stop()

    audit = ui.get_audit(DATA)

    # ----------------------------------------------------------------------------- chain status
    status = audit.verify()
    if status.ok:
        st.success(
            f"Audit chain verified: {status.checked} records, every hash and link intact. "
            f"Head hash `{status.head_hash[:16]}…` (anchor it outside the database).",
            icon="✅",
        )
    else:
        st.error(
            f"Audit chain BROKEN at record {status.first_bad_seq} "
            f"(request {status.first_bad_request_id}): {status.problem}",
            icon="⛔",
        )

    # ----------------------------------------------------------------------------- filters and table
    with Session(ui.get_stores(DATA).engine) as s:
        user_ids = [u.id for u in list_users(s)]
    f1, f2, f3 = st.columns(3)
    who = f1.selectbox(
        "User", [None, *user_ids], format_func=lambda x: "any user" if x is None else x, key="rv_user"
    )
    patient_key = f2.text_input(
        "Patient key", key="rv_patient", help="The opaque patient key (pk_…) of the record."
    )
    days = f3.date_input("Date range (UTC)", value=[], key="rv_dates")
    c1, c2, c3 = st.columns(3)
    only_declined = c1.checkbox("Declined only", key="rv_declined")
    only_bg = c2.checkbox("Break-the-glass only", key="rv_bg")
    only_security = c3.checkbox("Security events only (denials, guard violations)", key="rv_sec")

    since = until = None
    if isinstance(days, tuple) and len(days) >= 1 and isinstance(days[0], date):
        since = datetime.combine(days[0], time.min).isoformat()
        end = days[1] if len(days) > 1 and isinstance(days[1], date) else days[0]
        until = datetime.combine(end, time.max).isoformat()
    entries = audit.records(
        user_id=who,
        patient_key=patient_key.strip() or None,
        since=since,
        until=until,
        limit=1000,
        newest_first=True,
    )
    rows = filter_audit_rows(
        [audit_row(e) for e in entries], declined=only_declined, break_glass=only_bg, security=only_security
    )
    st.caption(f"{len(rows)} record(s); question and answer text is stored redacted.")
    st.dataframe(rows, hide_index=True, key="rv_table")

    # ----------------------------------------------------------------------------- flags (app/flags_review.py)
    flags_review.render(DATA, user.user_id)

    # ----------------------------------------------------------------------------- one record's detail
    ids = [str(r["request id"]) for r in rows]
    labels = record_labels(rows)
    chosen = st.selectbox(
        "Record",
        [None, *ids],
        format_func=lambda x: "— choose a record —" if x is None else labels[x],
        key="rv_record",
    )
    if chosen is None:
        st.stop()
    entry = audit.get(chosen)
    if entry is None:
        st.stop()

    st.subheader("As the user saw it (redacted)")
    meta = f"**{entry.kind}** · user `{entry.user_id}` ({entry.role}) · {entry.ts} · request `{entry.request_id}`"
    st.markdown(meta)
    if entry.break_glass_reason:
        st.error(f"Break-the-glass, reason: {entry.break_glass_reason}", icon="🚨")
    st.markdown("**Question**")
    st.markdown(f"<div>{escape_text(entry.question or '')}</div>", unsafe_allow_html=True)
    if entry.decline_reason:
        st.warning(f"Declined: {entry.decline_reason}", icon="🛑")
    elif entry.answer:
        st.markdown("**Answer**")
        st.markdown(answer_with_chips_html(entry.answer), unsafe_allow_html=True)
    unsupported = entry.details.get("unsupported_sentences")
    if isinstance(unsupported, list) and unsupported:
        with st.expander(f"Removed by verification ({len(unsupported)})"):
            st.markdown(bullets_html(str(x) for x in unsupported), unsafe_allow_html=True)
    else:
        st.caption("No unsupported sentences recorded for this request.")
    if entry.details and entry.kind in ("security_event", "denied", "source_view"):
        st.json(entry.details, expanded=False)

    # The S-numbers are the answer's own (details.citations), so Review's S3 is the Ask page's S3.
    cited = review_sources(entry.cited_ids, entry.details)
    st.subheader(f"Cited sources ({len(cited)})")
    if not cited:
        st.caption("This request cited no sources.")
    opened: dict[str, dict[str, Any]] = st.session_state.setdefault("rv_opened", {})
    for source in cited:
        key = f"{entry.request_id}|{source.source_id}"
        with st.container(border=True):
            st.markdown(f"**[{source.marker}]** `{source.source_id}`")
            if key not in opened:
                # Opening is a deliberate, audited act (a source_view record), so it waits for a click.
                if st.button(f"Open source {source.marker}", key=f"open:{key}"):
                    try:
                        with Session(ui.get_stores(DATA).engine) as s:
                            opened[key] = open_cited_source(
                                s, audit, user.user_id, entry.request_id, source.source_id
                            )
                    except AccessDenied as exc:
                        opened[key] = {"denied": str(exc)}
                    st.rerun()
                continue
            src = opened[key]
            if "denied" in src:
                st.error(str(src["denied"]))
                continue
            st.caption(
                f"{src.get('source_type')} · FHIR `{src.get('source_ref')}` · view audited as `{src.get('view_request_id')}`"
            )
            if src.get("source_type") == "record" and str(src.get("text", "")).startswith("{"):
                st.json(src["text"], expanded=False)
            else:
                spans = spans_in_shown_text(source.spans, src.get("span"))
                st.markdown(source_box_html(str(src.get("text", "")), spans), unsafe_allow_html=True)
