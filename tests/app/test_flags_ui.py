"""Flags in the UI: a coordinator flags an answer on the Ask page; a reviewer confirms it on the Review page."""

from __future__ import annotations

from pathlib import Path

import ui_world
from streamlit.testing.v1 import AppTest

from carecite.audit import AuditLog
from carecite.domain import Answer
from carecite.feedback.flags import list_flags
from carecite.records import make_engine

HOME = str(ui_world.REPO / "app" / "Home.py")
REVIEW = str(ui_world.REPO / "app" / "pages" / "2_Review.py")
TIMEOUT = 240


def _engine(data_dir: Path):  # type: ignore[no-untyped-def]
    return make_engine(f"sqlite:///{data_dir / 'carecite.sqlite'}")


def test_coordinator_flags_an_answer_and_reviewer_confirms_it(
    app_env: Path, cast: ui_world.Cast, audited_answer: Answer
) -> None:
    at = AppTest.from_file(HOME, default_timeout=TIMEOUT)
    at.session_state["user_id"] = cast.coordinator
    at.session_state["answer"] = audited_answer  # the answer cc-ben just received
    at.run()
    at.selectbox(key="patient_picker").set_value(cast.discharge_patient).run()
    assert not at.exception, at.exception
    at.radio(key="flag_category").set_value("unsupported")
    at.text_input(key="flag_comment").input("Samuel Ortiz never had that follow-up")
    next(b for b in at.button if b.label == "Send flag").click().run()
    assert not at.exception, at.exception
    assert any("sent to the reviewers" in s.value for s in at.success)

    flags = [f for f in list_flags(_engine(app_env)) if f.request_id == audited_answer.request_id]
    assert len(flags) == 1 and flags[0].flagged_by == cast.coordinator and flags[0].category == "unsupported"
    assert "Samuel Ortiz" not in flags[0].comment
    cited_refs = {c.source_ref for c in audited_answer.citations}
    assert {s.ref for s in flags[0].sources if s.cited} == cited_refs

    rv = AppTest.from_file(REVIEW, default_timeout=TIMEOUT)
    rv.session_state["user_id"] = cast.reviewer
    rv.run()
    assert not rv.exception, rv.exception
    assert len(rv.get("vega_lite_chart")) >= 2  # per note type and per source document
    table = next(d.value for d in rv.dataframe if "flag" in d.value.columns)
    assert flags[0].id in set(table["flag"])
    rv.selectbox(key="rv_flag").set_value(flags[0].id)
    rv.radio(key="rv_flag_decision").set_value("confirmed")
    next(b for b in rv.button if b.label == "Record decision").click().run()
    assert not rv.exception, rv.exception
    assert any(f"Flag {flags[0].id} confirmed" in s.value for s in rv.success)
    reviews = AuditLog(_engine(app_env)).records(kind="flag_review")
    assert reviews and reviews[0].details["flag_id"] == flags[0].id and reviews[0].user_id == cast.reviewer
