"""A newcomer's path in a real browser (issue 29): sign in, pick the patient, open a header row,
paste an over-long question, ask each suggested question and one with an apostrophe. What they
tripped over must not come back: entities for apostrophes, raw JSON or "Fulfill the focal request"
in a header row, a long paste that vanishes, a Deploy button, a verification line under a decline.
Then Review, signed in as a reviewer: the record of an answer shows its cited sources under the
S-numbers the Ask page showed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import ui_world
from sqlmodel import Session

from carecite.records import make_engine
from carecite.records import tables as t
from carecite.settings import Settings
from carecite.ui.people import patient_label
from carecite.ui.sources import SUGGESTED_QUESTIONS

ANSWER_S = 300  # the first request loads the models inside the server process
REQUEST = re.compile(r"request ([0-9a-f-]{36})")
APOSTROPHE = "What were the patient's discharge recommendations?"
ENTITY = re.compile(r"&(#x?[0-9a-fA-F]+|amp|lt|gt|quot|apos);")

pytestmark = pytest.mark.e2e


def _labels(data_dir: Path, *patient_ids: str) -> list[str]:
    with Session(make_engine(f"sqlite:///{data_dir / 'carecite.sqlite'}")) as s:
        rows = [s.get(t.Patient, pid) for pid in patient_ids]
    assert all(rows)
    return [patient_label(p) for p in rows if p is not None]


def _pick(page, box: str, option: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_test_id("stSelectbox").filter(has_text=box).click()
    page.get_by_role("option", name=option).click()


def _ask(page, previous: str | None) -> str:  # type: ignore[no-untyped-def]
    """Press Ask and wait for a new answer or decline: returns its request id (from the footer)."""
    page.get_by_role("button", name="Ask", exact=True).click()
    footer = page.get_by_text(REQUEST)
    if previous is not None:
        footer = page.get_by_text(REQUEST).filter(has_not_text=previous)
    footer.first.wait_for(timeout=ANSWER_S * 1000)
    found = REQUEST.search(footer.first.inner_text())
    assert found
    return found.group(1)


def _user_name(data_dir: Path, user_id: str) -> str:
    with Session(make_engine(f"sqlite:///{data_dir / 'carecite.sqlite'}")) as s:
        user = s.get(t.User, user_id)
    assert user is not None and user.name
    return user.name


def _shown_as_written(page) -> str:  # type: ignore[no-untyped-def]
    text = page.locator("body").inner_text()
    assert not ENTITY.search(text), ENTITY.search(text)
    return text


def test_a_newcomers_path_through_ask_and_review(
    app_url: str, browser, e2e_data_dir: Path, e2e_cast: ui_world.Cast
) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    patient, declined = _labels(e2e_data_dir, e2e_cast.discharge_patient, e2e_cast.declined_patient)
    limit = Settings().max_question_chars
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(30_000)
    try:
        page.goto(app_url)
        page.get_by_text("Choose who you are in the sidebar").wait_for()
        assert page.get_by_role("button", name="Deploy").count() == 0  # the toolbar is minimal
        assert page.get_by_text("Deploy", exact=True).count() == 0

        page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").click()
        page.get_by_role("option", name="Ben Okafor · Care coordinator").click()
        _pick(page, "Patient", patient)

        # A header row opens as readable fields: no raw JSON, and a Task reads by what it is, never
        # by FHIR's workflow verb.
        page.get_by_role("button", name=re.compile(r"^Follow-up task: ")).first.click()
        page.get_by_role("button", name="Close source").wait_for()
        fields = page.get_by_test_id("stTable").first.inner_text()
        assert "description" in fields and "{" not in fields
        assert "Fulfill the focal request" not in _shown_as_written(page)
        page.get_by_role("button", name="Close source").click()

        # A pasted over-long question keeps its text and gets a message naming the limit.
        long_question = "Which follow-ups are overdue? " * (limit // 20)
        page.get_by_role("textbox", name="Question").fill(long_question)
        page.get_by_role("button", name="Ask", exact=True).click()
        page.get_by_text(re.compile(rf"the limit is ({limit}|{limit:,})\b")).first.wait_for()
        assert len(page.get_by_role("textbox", name="Question").input_value()) == len(long_question)

        # Each suggested question: answered with chips, or declined without a verification line.
        answers: dict[str, list[str]] = {}
        request: str | None = None
        for question in SUGGESTED_QUESTIONS:
            page.get_by_role("button", name=question, exact=True).click()
            expect(page.get_by_role("textbox", name="Question")).to_have_value(question)
            request = _ask(page, request)
            text = _shown_as_written(page)
            if page.locator(".cc-answer").count():
                chips = [c.strip() for c in page.locator(".cc-answer .cc-chip").all_inner_texts()]
                assert (chips and "Verification removed no sentences." in text) or chips
                answers[request] = list(dict.fromkeys(chips))
            else:
                assert "No answer — declined." in text
                assert "Verification removed no sentences." not in text
        assert answers, "no suggested question was answered"
        page.get_by_role("textbox", name="Question").fill(APOSTROPHE)
        request = _ask(page, request)
        _shown_as_written(page)

        # A question the record cannot answer: a decline, with no verification line under it.
        _pick(page, "Patient", declined)
        page.get_by_role("textbox", name="Question").fill(e2e_cast.decline_question)
        request = _ask(page, request)
        text = _shown_as_written(page)
        assert "No answer — declined." in text and "Verification removed no sentences." not in text

        # Review, as a reviewer: an answer's record lists its sources under the Ask page's S-numbers.
        request_id, chips = next(iter(answers.items()))
        page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").click()
        page.get_by_role("option", name=_user_name(e2e_data_dir, e2e_cast.reviewer)).click()
        page.get_by_test_id("stSidebarNav").get_by_role("link", name=re.compile("Review")).click()
        page.get_by_text("Audit chain verified").wait_for()
        # The list holds every record of the session's other browser tests too, and the dropdown
        # renders only the options in view: type to filter it, as a reviewer with a long trail would.
        page.get_by_test_id("stSelectbox").filter(has_text="Record").click()
        page.keyboard.type(request_id[:8])
        # The filtered list re-renders as it narrows, so a click can land on an option being replaced
        # (CI: "element is not stable"): wait for the one match, then choose it with Enter, as a
        # keyboard user would.
        page.get_by_role("option", name=request_id[:8]).wait_for()
        page.keyboard.press("Enter")
        page.get_by_text("As the user saw it (redacted)").wait_for()
        page.get_by_text(request_id).first.wait_for()  # the chosen record's own detail is shown
        cited = {c.strip("[]") for c in chips}
        page.get_by_text(f"Cited sources ({len(cited)})", exact=True).wait_for()
        # Streamlit streams a run's elements one by one: the heading can be on screen before its
        # cards, so wait (with expect's retry) for the cards themselves before reading them.
        cards = page.locator("strong").filter(has_text=re.compile(r"^\[S\d+\]$"))
        expect(cards).to_have_count(len(cited))
        assert {c.strip("[]") for c in cards.all_inner_texts()} == cited
        _shown_as_written(page)

    finally:
        page.close()
