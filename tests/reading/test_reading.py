"""The Reading: the section a question asks for yields to the record when it asks how work stands."""

from __future__ import annotations

import pytest

from carecite.reading.reading import read


@pytest.mark.parametrize(
    "question",
    [
        "is her post discharge heart appointment booked?",
        "did she miss her post-discharge cardiology appointment",
        "is the follow-up after discharge overdue",
    ],
)
def test_a_question_about_how_work_stands_asks_the_record_not_a_note_section(question: str) -> None:
    reading = read(question, None)
    assert reading.asked is None
    assert reading.intent.kinds & {"Appointment", "Task"}


@pytest.mark.parametrize(
    "question",
    [
        "what follow-up was recommended after discharge",
        "what were the discharge instructions",
        "What are the next steps for this patient?",  # "next" names no visit
    ],
)
def test_a_question_naming_no_status_still_asks_the_section(question: str) -> None:
    reading = read(question, None)
    assert reading.asked is not None and reading.asked.name in ("follow-up", "plan")
