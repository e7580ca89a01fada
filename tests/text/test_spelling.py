"""Typing slips are corrected toward the store's words and a published English list; nothing else moves."""

from __future__ import annotations

import pytest

from carecite.text.spelling import Speller, english


@pytest.fixture(scope="module")
def speller() -> Speller:
    return Speller(frozenset({"warfarin", "coumadin", "recheck", "furosemide", "meds"}))


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("wat were the dischrage recomendations?", "wat were the discharge recommendations?"),
        ("can you list his current medicatons", "can you list his current medications"),
        ("is dennis on cumadin", "is dennis on coumadin"),  # the store's drug beats English "cumin"
        ("when did she get the shingels shot", "when did she get the shingles shot"),
    ],
)
def test_a_slip_is_read_as_the_nearest_known_word(speller: Speller, typed: str, read: str) -> None:
    assert speller.correct(typed).text == read


def test_known_words_short_words_names_and_acronyms_are_left_as_typed(speller: Speller) -> None:
    for question in ("what were her hom meds", "pt on anticoag?", "last K?", "Is Ardath on INR checks"):
        assert speller.correct(question).text == question
    assert speller.correct("does ardath have alergies", keep={"ardath"}).text == "does ardath have allergies"


def test_each_correction_is_reported_as_typed_and_as_read(speller: Speller) -> None:
    fixed = speller.correct("Medicatons list and rechek date")
    assert fixed.text == "Medications list and recheck date"
    assert fixed.fixes == (("Medicatons", "medications"), ("rechek", "recheck"))


def test_the_english_list_is_the_one_shipped_in_the_symspellpy_wheel() -> None:
    words = english()
    assert len(words) > 80_000 and words["the"] > words["hospital"] > 0


def test_an_inflection_of_a_known_word_is_no_slip(speller: Speller) -> None:
    for question in ("What life stressors came up?", "Was the dose titrated?", "Any recheckings?"):
        assert speller.correct(question).fixes == (), question


def test_a_truncation_is_read_as_the_one_domain_word_it_starts_and_never_as_a_slip() -> None:
    speller = Speller(frozenset({"creatinine", "disposition", "disposable", "pulmonary", "pulmonology"}))
    assert speller.correct("latest creat").text == "latest creatinine"
    # The start of two domain words is shorthand left as typed, not corrected to "disco".
    assert speller.correct("dispo").text == "dispo"
    assert speller.correct("pulm f/u").text == "pulm f/u"
