"""carecite — Ask: a care coordinator's question about one patient, answered with cited sources.

Layout only: access, retrieval, answering and audit are carecite's (``Pipeline.ask``); what to show
is decided by ``carecite.ui``.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlmodel import Session

import ui_common as ui
from carecite.access.scope import AccessDenied, compute_scope, patients_in_scope
from carecite.answering.pipeline import AskRequest, BadInput
from carecite.domain import AccessScope, Answer, Narrowing
from carecite.records.clock import today
from carecite.records.scoped import RowScope, scoped_session
from carecite.ui.declines import decline_view, narrowing_words
from carecite.ui.header import HEADER_SECTIONS, patient_header
from carecite.ui.html import (
    answer_with_chips_html,
    bullets_html,
    md_label,
    source_box_html,
    whole_note_document,
)
from carecite.ui.people import patient_label, picker_labels
from carecite.ui.sources import (
    SUGGESTED_QUESTIONS,
    SourceCard,
    footer_text,
    note_types,
    record_source,
    record_table_row,
    resource_fields,
    source_card,
    uncited_rows,
)
from flag_form import flag_form

st.set_page_config(page_title="carecite · Ask", page_icon="🩺", layout="wide")
with ui.store_faults():  # a dead store is one message, not a traceback (issue 28)
    DATA = ui.require_data()
    user = ui.sign_in(DATA)

    st.title("Ask about a patient")
    if user is None:
        st.info("Choose who you are in the sidebar to start.")
        st.stop()
    if not user.may_ask:  # who asks patient questions is decided in carecite.access (CLINICAL_ROLES)
        st.info(f"{user.role_words}s ask no patient questions. The audit trail is on the Review page.")
        st.page_link("pages/2_Review.py", label="Open the Review page", icon="🔎")
        st.stop()

    # ----------------------------------------------------------------------------- break the glass
    break_glass: str | None = None
    if user.may_break_glass:
        with st.sidebar.expander("Break the glass", expanded=bool(st.session_state.get("bg_on"))):
            st.caption(
                "For an emergency only: see patients and notes beyond your scope for your requests. Audited."
            )
            bg_on = st.toggle("Break the glass", key="bg_on")
            bg_reason = st.text_area(
                "Reason (required)", key="bg_reason", placeholder="e.g. ED admission, covering physician"
            )
            if bg_on:
                break_glass = bg_reason.strip() or None

    engine = ui.get_stores(DATA).engine
    with Session(engine) as s:
        scope: AccessScope = compute_scope(s, user.user_id)
        if user.may_break_glass and st.session_state.get("bg_on"):
            if break_glass is None:
                st.sidebar.error("Give a reason to break the glass.")
            else:
                try:
                    scope = compute_scope(s, user.user_id, break_glass=break_glass)
                except AccessDenied as exc:  # e.g. a reason that is too short: say so, keep the normal scope
                    st.sidebar.error(str(exc))
                    break_glass = None
        patients = {p.id: p for p in patients_in_scope(s, scope)}
        types = note_types(s)
    if break_glass:
        st.error(
            f"**BREAK-THE-GLASS ACTIVE** — you can see patients and sensitive notes beyond your usual scope. "
            f"Every request is audited as break-the-glass with your reason: “{break_glass}”.",
            icon="🚨",
        )

    # ----------------------------------------------------------------------------- patient picker
    linked = st.query_params.get("patient")  # a deep link from the EHR: ?patient=<FHIR Patient id>
    options: list[str | None] = [None, *patients]
    patient_labels = picker_labels({pid: patient_label(p) for pid, p in patients.items()})
    if linked and linked in patients and st.session_state.get("patient_picker") is None:
        st.session_state["patient_picker"] = linked
    patient_id = st.selectbox(
        "Patient",
        options,
        key="patient_picker",
        format_func=lambda pid: "— choose a patient in your scope —" if pid is None else patient_labels[pid],
        help="Only patients you may see are listed.",
    )
    if patient_id is None and linked and linked not in patients:
        # Never look the linked patient up: the message is the same whether they exist or not.
        st.warning("The linked patient is not available to you (not in your scope, or not found).")
        patient_id = linked

    # ----------------------------------------------------------------------------- patient header
    if patient_id in patients:
        patient = patients[patient_id]
        st.subheader(patient_label(patient))
        header = patient_header(engine, scope, patient.patient_key, today(ui.settings(), engine))
        shown_refs: set[str] = set()
        cols = st.columns(len(HEADER_SECTIONS))
        for col_, section in zip(cols, HEADER_SECTIONS, strict=True):
            with col_:
                st.markdown(f"**{section.title}**")
                rows = header.get(section.title, [])
                if not rows:
                    st.caption("none")
                for c in rows[:6]:
                    shown_refs.add(c.source_ref)
                    st.button(
                        md_label(c.text),
                        key=f"hdr:{c.source_ref}",
                        type="tertiary",
                        on_click=st.session_state.__setitem__,
                        args=("header_source", c.source_ref),
                        help=c.source_ref,
                    )
        opened = st.session_state.get("header_source")
        if opened in shown_refs:  # only a row this header showed, for this patient
            with st.container(border=True):
                st.markdown(f"**Source** `{opened}`")
                with scoped_session(engine, RowScope.of([patient.patient_key], scope.allowed_labels)) as s:
                    resource = record_source(s, opened)
                st.table(resource_fields(resource or {}))
                st.button("Close source", on_click=st.session_state.pop, args=("header_source", None))

    # ----------------------------------------------------------------------------- question
    st.markdown("**Suggested questions**")
    sugg_cols = st.columns(3)
    for i, q in enumerate(SUGGESTED_QUESTIONS):
        sugg_cols[i % 3].button(
            md_label(q), key=f"sugg{i}", on_click=st.session_state.__setitem__, args=("question", q)
        )

    with st.form("ask"):
        # No max_chars: the browser would cut a pasted question silently (or drop it). The pipeline's
        # limit message is shown instead, and the box keeps the text so it can be shortened.
        limit = ui.settings().max_question_chars
        question = st.text_area("Question", key="question", height=80, help=f"Up to {limit:,} characters.")
        with st.expander("Filters (optional)"):
            chosen_types = st.multiselect("Note types", types, key="f_types")
            dcols = st.columns(2)
            date_from: date | None = dcols[0].date_input("Encounter date from", value=None, key="f_from")
            date_to: date | None = dcols[1].date_input("Encounter date to", value=None, key="f_to")
        asked = st.form_submit_button("Ask", type="primary", disabled=patient_id is None)

    if asked and patient_id is not None:
        narrowing = Narrowing(note_types=tuple(chosen_types), date_from=date_from, date_to=date_to)
        request = AskRequest(
            question=question,
            user_id=user.user_id,
            patient_id=patient_id,
            narrowing=narrowing,
            break_glass=break_glass,
        )
        try:
            with st.spinner("Searching the record and notes…"):
                answer = ui.get_pipeline(DATA).ask(request)
            st.session_state["answer"] = answer
            st.session_state["answer_filters"] = narrowing_words(chosen_types, date_from, date_to)
        except BadInput as exc:
            st.session_state.pop("answer", None)
            st.error(f"Please check the question: {exc}.")
    elif question and len(question) > limit:  # said while typing too, before Ask is pressed
        st.warning(
            f"The question is {len(question):,} characters; the limit is {limit:,}. Please shorten it."
        )

    # ----------------------------------------------------------------------------- the answer
    def show_source(card: SourceCard) -> None:
        with st.container(border=True):
            if card.kind == "Record":
                st.markdown(f"**[{card.marker}]** Record · {card.resource_type}")
                st.table([record_table_row(card)])
                return
            meta = " · ".join(x for x in (card.kind, card.when, card.author, card.note_type) if x)
            st.markdown(f"**[{card.marker}]** {meta}")
            st.caption(f"FHIR `{card.fhir_ref}`")
            st.markdown(source_box_html(card.text, card.spans), unsafe_allow_html=True)
            if card.note_text is not None:
                with st.expander("Whole note"):
                    st.iframe(whole_note_document(card.note_text, card.note_spans), height=320)

    def show_answer(answer: Answer, filters: list[str], user_id: str) -> None:
        if answer.patient_id != patient_id or answer.user_id != user_id:
            return  # an answer for someone or something else is never shown
        st.divider()
        if answer.break_glass:
            st.error("This answer was given under **break-the-glass** and is audited as such.", icon="🚨")
        if answer.declined:
            view = decline_view(answer, filters=filters)
            box = st.error if answer.decline_reason == "access_denied" else st.warning
            box(f"**No answer — declined.** {view.headline}", icon="🛑")
            if view.detail:
                st.text(view.detail)
            st.markdown("**What was searched**")
            st.markdown(bullets_html(view.searched), unsafe_allow_html=True)
        else:
            left, right = st.columns([5, 6])
            with left:
                st.markdown("#### Answer")
                st.markdown(answer_with_chips_html(answer.answer), unsafe_allow_html=True)
            with right:
                st.markdown("#### Sources")
                # Under this patient's RLS scope (PostgreSQL), like every request-scoped read.
                key = patients[patient_id].patient_key if patient_id in patients else ""
                row_scope = RowScope.of([key], scope.allowed_labels)
                with scoped_session(engine, row_scope) as s:
                    cards = [source_card(s, c) for c in answer.citations]
                for card in cards:
                    show_source(card)
            rows = uncited_rows(answer)
            with st.expander(f"Retrieved but not cited ({len(rows)} document(s)) — why was this retrieved?"):
                if rows:
                    st.caption(
                        "One row per document; other passages of the documents cited above are not repeated."
                    )
                    st.dataframe(rows, hide_index=True)
                else:
                    st.caption("Every retrieved document was cited.")
        if answer.unsupported_sentences:
            with st.expander(f"Removed by verification ({len(answer.unsupported_sentences)} sentence(s))"):
                st.caption("These sentences were not supported by the cited sources and were removed.")
                st.markdown(bullets_html(answer.unsupported_sentences), unsafe_allow_html=True)
        elif not answer.declined:  # a decline or denial verified nothing: no line about it
            st.caption("Verification removed no sentences.")
        flag_form(DATA, answer, user_id)  # feedback tied to the answer's sources (app/flag_form.py)
        st.caption(footer_text(answer))

    last = st.session_state.get("answer")
    if isinstance(last, Answer):
        show_answer(last, st.session_state.get("answer_filters", []), user.user_id)
