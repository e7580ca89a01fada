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


def test_the_published_abbreviations_are_written_out_and_the_cue_is_recorded() -> None:
    from carecite.text.abbreviations import Abbreviations

    listed = Abbreviations(["Heart rate"])
    reading = read("last HR?", None, abbreviations=listed)
    assert reading.text == "last heart rate?"
    assert reading.abbreviations == (("HR", "heart rate"),)
    assert "published-abbreviations" in reading.cues
    off = read("last HR?", None, abbreviations=listed, disabled_cues=frozenset({"published-abbreviations"}))
    assert off.text == "last HR?" and off.abbreviations == ()


def test_a_coverage_question_keeps_its_abbreviations_for_the_policies() -> None:
    from carecite.text.abbreviations import Abbreviations

    reading = read("Does Medicare cover PTA?", None, abbreviations=Abbreviations(["Prior to admission"]))
    assert reading.coverage and "PTA" in reading.text and reading.abbreviations == ()


def test_a_specialty_shortened_as_clinicians_shorten_it_is_read_as_its_name() -> None:
    reading = read("when is her pulm f/u", None)
    assert reading.text == "when is her pulmonology follow-up"
    assert ("pulm", "pulmonology") in reading.abbreviations
    assert read("card on file?", None).text == "card on file?"  # an English word is no truncation
