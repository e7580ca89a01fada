"""One end-to-end run in a real browser: start `streamlit run app/Home.py`, sign in, pick a patient,
ask, and see the answer, a citation chip and the highlighted source. Screenshot in test-artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest
import ui_world
from sqlmodel import Session

from carecite.records import make_engine
from carecite.records import tables as t
from carecite.ui.people import patient_label

ARTIFACTS = ui_world.REPO / "test-artifacts"
ANSWER_S = 300  # the first request loads the models inside the server process

pytestmark = pytest.mark.e2e


def test_ask_in_a_real_browser_shows_answer_chip_and_highlight(
    app_url: str, browser, e2e_data_dir: Path, e2e_cast: ui_world.Cast
) -> None:  # type: ignore[no-untyped-def]
    with Session(make_engine(f"sqlite:///{e2e_data_dir / 'carecite.sqlite'}")) as s:
        patient = s.get(t.Patient, e2e_cast.discharge_patient)
        assert patient is not None
        label = patient_label(patient)

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.set_default_timeout(30_000)
        page.goto(app_url)
        page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").click()
        page.get_by_role("option", name="Ben Okafor · Care coordinator").click()
        page.get_by_test_id("stSelectbox").filter(has_text="Patient").click()
        page.get_by_role("option", name=label).click()
        page.get_by_role("textbox", name="Question").fill(e2e_cast.discharge_question)
        page.get_by_role("button", name="Ask", exact=True).click()
        page.locator(".cc-answer").wait_for(timeout=ANSWER_S * 1000)
        assert page.locator(".cc-answer").inner_text().strip()
        assert page.locator(".cc-chip").first.is_visible()
        mark = page.locator("mark.cc-cited").first
        assert mark.is_visible() and mark.inner_text().strip()
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator(".cc-answer").scroll_into_view_if_needed()  # Streamlit scrolls its own container
        page.screenshot(path=str(ARTIFACTS / "e2e_answer.png"))
    finally:
        page.close()
