"""The "Flag this answer" form under an answer on the Ask page (carecite.feedback.flags decides)."""

from __future__ import annotations

import streamlit as st

import ui_common as ui
from carecite.access.scope import AccessDenied
from carecite.domain import Answer
from carecite.feedback.flags import CATEGORY_WORDS, FLAG_CATEGORIES, FlagError, flag_answer

SENT_KEY = "flagged_requests"  # request ids this session has flagged: one flag per answer here


def flag_form(data_dir: str, answer: Answer, user_id: str) -> None:
    if answer.decline_reason == "access_denied":
        return  # nothing was answered, nothing to flag
    sent: dict[str, str] = st.session_state.setdefault(SENT_KEY, {})
    if answer.request_id in sent:
        st.success(f"Thank you: flag `{sent[answer.request_id]}` sent to the reviewers.", icon="🚩")
        return
    with st.expander("Flag this answer"), st.form(f"flag:{answer.request_id}"):
        category = st.radio(
            "What is wrong?",
            FLAG_CATEGORIES,
            format_func=CATEGORY_WORDS.__getitem__,
            key="flag_category",
            horizontal=True,
        )
        comment = st.text_input(
            "Comment (optional)", key="flag_comment", help="Stored with names and identifiers redacted."
        )
        if st.form_submit_button("Send flag"):
            pipeline = ui.get_pipeline(data_dir)
            try:
                flag = flag_answer(
                    ui.get_stores(data_dir).engine,
                    ui.get_audit(data_dir),
                    pipeline.redactor,
                    user_id=user_id,
                    request_id=answer.request_id,
                    category=str(category),
                    comment=comment,
                )
            except (FlagError, AccessDenied) as exc:
                st.error(f"The flag was not recorded: {exc}.")
                return
            sent[answer.request_id] = flag.id
            st.rerun()
