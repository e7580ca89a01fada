"""The Ask page (app/Home.py) driven headless with AppTest against a real 7-patient data dir."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import ui_world
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from carecite.audit import AuditLog
from carecite.records import make_engine
from carecite.records import tables as t

HOME = str(ui_world.REPO / "app" / "Home.py")
TIMEOUT = 240  # the first request loads the models on a shared, loaded CPU


def page(user: str | None = None) -> AppTest:
    at = AppTest.from_file(HOME, default_timeout=TIMEOUT)
    if user is not None:
        at.session_state["user_id"] = user
    return at


def ask(at: AppTest, patient_id: str | None, question: str) -> AppTest:
    if patient_id is not None:
        at.selectbox(key="patient_picker").set_value(patient_id).run()
    at.text_area(key="question").input(question)
    next(b for b in at.button if b.label == "Ask").click().run()
    assert not at.exception, at.exception
    return at


def label_of(data_dir: Path, patient_id: str) -> str:
    """The picker's label for a patient (AppTest lists options by their labels)."""
    from carecite.ui.people import patient_label

    with Session(make_engine(f"sqlite:///{data_dir / 'carecite.sqlite'}")) as s:
        patient = s.get(t.Patient, patient_id)
    assert patient is not None
    return patient_label(patient)


def everything_shown(at: AppTest) -> str:
    """Every piece of text the page rendered (values, labels, options), to check what it reveals."""
    parts: list[str] = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success", "text", "subheader", "title"):
        parts.extend(str(e.value) for e in getattr(at, kind))
    for sb in at.selectbox:
        parts.extend(str(o) for o in sb.options)  # AppTest holds the formatted labels
    parts.extend(str(b.label) for b in at.button)
    return "\n".join(parts)


@pytest.fixture(scope="module")
def answered(ui_data_dir: Path, cast: ui_world.Cast) -> AppTest:
    """cc-ben asks a discharge question about a Mercy patient: a real, cited, extractive answer."""
    mp = pytest.MonkeyPatch()
    mp.setenv("CARECITE_DATA_DIR", str(ui_data_dir))
    try:
        at = page(cast.coordinator)
        at.run()
        return ask(at, cast.discharge_patient, cast.discharge_question)
    finally:
        mp.undo()


def test_without_sign_in_the_page_asks_who_you_are(app_env: Path) -> None:
    at = page().run()
    assert not at.exception
    assert any("Choose who you are" in i.value for i in at.info)
    assert at.sidebar.selectbox(key="signin_picker").value is None


def test_sign_in_shows_role_facilities_scope_and_only_patients_in_scope(
    app_env: Path, cast: ui_world.Cast
) -> None:
    at = page(cast.coordinator).run()
    captions = " ".join(c.value for c in at.sidebar.caption)
    assert "Care coordinator" in " ".join(m.value for m in at.sidebar.markdown)
    assert "Mercy General Hospital" in captions and "Every patient of these facilities" in captions
    options = at.selectbox(key="patient_picker").options
    with Session(make_engine(f"sqlite:///{app_env / 'carecite.sqlite'}")) as s:
        mercy = s.get(t.Patient, cast.answered_patient)
        harbor = s.get(t.Patient, cast.other_facility_patient)
    assert mercy is not None and harbor is not None
    assert any(mercy.mrn in o and str(mercy.birth_date) in o for o in options)  # name, birth date, MRN
    assert not any(harbor.name in o or str(harbor.mrn) in o for o in options)
    assert len(options) == 1 + 4  # "choose" + the four Mercy patients of the test world


def test_patient_header_rows_open_as_sources(app_env: Path, cast: ui_world.Cast) -> None:
    at = page(cast.coordinator).run()
    at.selectbox(key="patient_picker").set_value(cast.answered_patient).run()
    titles = [m.value for m in at.markdown]
    for title in ("Active problems", "Open follow-ups", "Upcoming appointments", "Pending referrals"):
        assert f"**{title}**" in titles
    task = next(b for b in at.button if (b.key or "").startswith("hdr:Task/"))
    task.click().run()
    assert any(f"`{task.key.removeprefix('hdr:')}`" in m.value for m in at.markdown)
    # readable fields, not raw JSON: a Task reads by its status and description
    assert not at.json
    fields = at.table[0].value
    assert list(fields.columns) == ["field", "value"]
    as_dict = dict(zip(fields["field"], fields["value"], strict=True))
    assert as_dict["status"] and as_dict["description"] and "{" not in "".join(as_dict.values())
    assert "Fulfill the focal request" not in as_dict.values()  # the workflow verb, not the task


def test_answer_has_chips_sources_highlight_whole_note_and_footer(answered: AppTest) -> None:
    at = answered
    answer_html = next(m.value for m in at.markdown if 'class="cc-answer"' in m.value)
    chips = re.findall(r'class="cc-chip"[^>]*>(S\d+)<', answer_html)
    assert chips, "the answer carries citation chips"
    # Every chip has its source card beside the answer (markers keep the prompt's numbering).
    for marker in set(chips):
        assert any(m.value.startswith(f"**[{marker}]**") for m in at.markdown), marker
    source = next(m.value for m in at.markdown if 'class="cc-source"' in m.value)
    assert "<mark" in source
    assert any(c.value.startswith("FHIR `DocumentReference/") for c in at.caption)
    assert any(e.label == "Whole note" for e in at.expander)
    assert at.get("iframe"), "the whole note is shown in its own scrolling frame"
    assert any(e.label.startswith("Retrieved but not cited") for e in at.expander)
    footer = next(c.value for c in at.caption if " | request " in c.value)
    for stage in ("access", "retrieve", "rerank", "generate", "verify", "tokens", "cost", "model extractive"):
        assert stage in footer


def test_decline_is_shown_as_a_decline_with_reason_and_what_was_searched(
    app_env: Path, cast: ui_world.Cast
) -> None:
    at = ask(page(cast.coordinator).run(), cast.declined_patient, cast.decline_question)
    assert any("No answer — declined." in w.value for w in at.warning)
    assert not any('class="cc-answer"' in m.value for m in at.markdown)  # never an empty answer box
    searched = next(m.value for m in at.markdown if m.value.startswith("<ul>"))
    assert "structured record" in searched and "keyword search" in searched
    assert not any("Verification removed" in c.value for c in at.caption)  # nothing was verified


def test_access_denied_deep_link_never_reveals_the_patient(app_env: Path, cast: ui_world.Cast) -> None:
    at = page(cast.coordinator)
    at.query_params["patient"] = cast.other_facility_patient
    at.run()
    assert any("not available to you" in w.value for w in at.warning)
    ask(at, None, "What follow-up tasks are outstanding?")
    assert any("You do not have access to this patient" in e.value for e in at.error)
    engine = make_engine(f"sqlite:///{app_env / 'carecite.sqlite'}")
    with Session(engine) as s:
        patient = s.get(t.Patient, cast.other_facility_patient)
    assert patient is not None
    shown = everything_shown(at)
    for secret in (patient.name, patient.family, str(patient.mrn), str(patient.birth_date)):
        assert secret not in shown
    denied = AuditLog(engine).records(kind="denied", user_id=cast.coordinator, limit=1)
    assert denied and denied[0].decline_reason == "access_denied"


def test_coordinators_cannot_break_the_glass(app_env: Path, cast: ui_world.Cast) -> None:
    at = page(cast.coordinator).run()
    assert not [tg for tg in at.toggle if tg.key == "bg_on"]


def test_break_the_glass_needs_a_reason_shows_a_banner_and_is_audited(
    app_env: Path, cast: ui_world.Cast
) -> None:
    at = page(cast.nurse).run()
    outside = label_of(app_env, cast.break_glass_patient)
    assert outside not in at.selectbox(key="patient_picker").options
    at.toggle(key="bg_on").set_value(True).run()
    assert any("Give a reason" in e.value for e in at.sidebar.error)
    at.text_area(key="bg_reason").input("short").run()
    assert any("at least" in e.value for e in at.sidebar.error)  # the reason is checked, not just present
    at.text_area(key="bg_reason").input("ED admission overnight, covering for the care team").run()
    assert any("BREAK-THE-GLASS ACTIVE" in e.value for e in at.error)
    assert outside in at.selectbox(key="patient_picker").options
    ask(at, cast.break_glass_patient, "What follow-up tasks are still outstanding?")
    assert any("break-the-glass" in e.value and "audited" in e.value for e in at.error)
    log = AuditLog(make_engine(f"sqlite:///{app_env / 'carecite.sqlite'}"))
    last = log.records(user_id=cast.nurse, limit=1)[0]
    assert last.break_glass_reason == "ED admission overnight, covering for the care team"


def test_an_empty_question_is_reported_not_asked(app_env: Path, cast: ui_world.Cast) -> None:
    at = ask(page(cast.coordinator).run(), cast.answered_patient, "   ")
    assert any("the question is empty" in e.value for e in at.error)


def test_reviewers_are_sent_to_the_review_page(app_env: Path, cast: ui_world.Cast) -> None:
    at = page(cast.reviewer).run()
    assert any("ask no patient questions" in i.value for i in at.info)
    assert not [s for s in at.selectbox if s.key == "patient_picker"]


def test_the_launcher_warms_the_models_before_any_page_runs_and_the_page_reuses_them(
    app_env: Path, cast: ui_world.Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`carecite demo` starts the server through app/launch.py: the warm-up runs before a browser
    connects, and the page's own warm_models call finds that thread instead of starting another."""
    import threading

    monkeypatch.syspath_prepend(str(ui_world.REPO / "app"))
    import launch
    import ui_common

    thread = launch.start_warm_up()
    assert thread is not None and thread.name == "carecite-warm-up"
    thread.join(TIMEOUT)
    assert not thread.is_alive()
    at = page(cast.coordinator)
    at.run()
    assert not at.exception, at.exception
    assert not [t for t in threading.enumerate() if t.name == "carecite-warm-up"]  # no second warm-up
    assert ui_common.warm_models(str(app_env.resolve())) is thread


def test_the_launcher_starts_no_warm_up_without_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ui_world.REPO / "app"))
    import launch

    monkeypatch.setenv("CARECITE_DATA_DIR", str(tmp_path / "empty"))
    assert launch.start_warm_up() is None


def test_an_over_long_question_stays_in_the_box_and_the_message_names_the_limit(
    app_env: Path, cast: ui_world.Cast
) -> None:
    """A pasted 5,000-character question is not cut or dropped by the box (a browser enforces a
    text area's max_chars by cutting the paste); Ask says the limit, as the API does."""
    long_question = "What follow-up tasks are still outstanding? " * 115
    at = page(cast.coordinator).run()
    box = at.text_area(key="question")
    assert not box.max_chars  # 0: no limit in the browser
    at = ask(at, cast.answered_patient, long_question)
    assert at.text_area(key="question").value == long_question
    assert any("the limit is 1000" in e.value for e in at.error), [e.value for e in at.error]
    assert not any('class="cc-answer"' in m.value for m in at.markdown)


def test_a_cited_task_reads_as_what_it_is_not_its_workflow_code(app_env: Path, cast: ui_world.Cast) -> None:
    """Tasks coded with the FHIR task-code "fulfill" read "Fulfill the focal request"; the card says
    what the task is (its description), as the answer's statement does."""
    at = ask(
        page(cast.coordinator).run(), cast.answered_patient, "What follow-up tasks are still outstanding?"
    )
    task_rows = [row for tb in at.table for _, row in tb.value.iterrows() if row.get("resource") == "Task"]
    assert task_rows, "the answer cites a task"
    assert all(row["what"] != "Fulfill the focal request" and row["what"] for row in task_rows)
    assert all(row["what"] in row["statement"] for row in task_rows)
