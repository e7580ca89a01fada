"""Assertions: every mention read with medSpaCy's ConText rules (negated, historical, hypothetical,
family, possible), and what a sentence answers to a yes/no question about a habit or situation."""

from __future__ import annotations

import pytest

from carecite.text.assertion import (
    answer_polarity,
    asks_yes_no,
    asserting,
    mentions,
    negated_terms,
    polarity,
    speaks_to,
    yes_no_finding,
    yes_no_topic,
)


def categories_of(text: str, word: str) -> frozenset[str]:
    return next(m.categories for m in mentions(text) if m.word == word)


def test_denies_chest_pain_is_negated() -> None:
    assert categories_of("Denies chest pain.", "chest") == {"negated"}
    assert categories_of("Denies chest pain.", "pain") == {"negated"}
    assert negated_terms("Denies chest pain.") >= {"chest", "pain"}


@pytest.mark.parametrize(
    ("text", "word", "category"),
    [
        ("History of asthma.", "asthma", "historical"),
        ("Call if she develops a fever.", "fever", "hypothetical"),
        ("Mother has diabetes.", "diabetes", "family"),
        ("Possible pneumonia on the film.", "pneumonia", "possible"),
        ("No evidence of pneumonia.", "pneumonia", "negated"),
        # medSpaCy's "risks of" rule, matched as the two tokens it is.
        ("Small sips to decrease the risk of aspiration.", "aspiration", "hypothetical"),
        ("Risks of the procedure include bleeding.", "bleeding", "hypothetical"),
    ],
)
def test_each_context_category_is_read(text: str, word: str, category: str) -> None:
    assert category in categories_of(text, word)


def test_a_terminating_word_ends_a_negation_scope() -> None:
    text = "No chest pain but reports shortness of breath."
    assert categories_of(text, "pain") == {"negated"}
    assert categories_of(text, "breath") == frozenset()


def test_a_new_clause_after_and_is_not_negated() -> None:
    text = "No smoking or alcohol use and lives alone."
    assert "negated" in categories_of(text, "smoking")
    assert categories_of(text, "alone") == frozenset()


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("Any allergies?", "No Known Allergies.", "no"),
        ("Any allergies?", "ALLERGIES:, None.", "no"),
        ("Any allergies?", "ALLERGIES: NKDA.", "no"),
        ("Does the patient smoke?", "Patient has never smoked.", "no"),
        ("Does the patient smoke?", "Tobacco smoking status: Never smoked tobacco (finding).", "no"),
        ("Does the patient smoke?", "He denies alcohol, tobacco, or illicit drug use.", "no"),
        ("Is she a smoker?", "The patient is a life long nonsmoker.", "no"),
        ("Is she a smoker?", "She smokes a half pack a day.", "yes"),
        ("Is she a smoker?", "Tobacco smoking status: Ex-smoker (finding) on 2024-01-12.", "past"),
        ("Does she live by herself?", "He lives alone.", "yes"),
        # Not an answer: of someone else, hypothetical, advice to stop, or another situation.
        ("Does the patient smoke?", "Mother smokes.", None),
        ("Does the patient smoke?", "Quit smoking - resources given.", None),
        ("Does she live by herself?", "She lives with her husband.", None),
    ],
)
def test_what_a_sentence_answers_to_a_yes_no_question(
    question: str, sentence: str, expected: str | None
) -> None:
    assert answer_polarity([sentence], yes_no_topic(question)) == expected


def test_sentences_that_disagree_or_leave_it_open_give_no_answer() -> None:
    topic = yes_no_topic("Does she smoke or drink?")
    assert answer_polarity(["She is a nonsmoker.", "She drinks socially."], topic) is None
    assert answer_polarity(["She is a nonsmoker.", "She denies alcohol use."], topic) == "no"
    smoke = yes_no_topic("Does he smoke?")
    assert answer_polarity(["No smoking near oxygen.", "Quit smoking - resources given."], smoke) is None


def test_only_a_yes_no_question_has_a_topic_and_the_patients_name_is_none_of_it() -> None:
    assert not asks_yes_no("What is she allergic to?") and yes_no_topic("What is she allergic to?") == ()
    topic = yes_no_topic("does alvin smoke?", ignore={"alvin"})
    assert len(topic) == 1 and "tobacco" in topic[0][0]
    assert polarity("Alvin never smoked.", topic[0]) == "no"


def test_a_chunk_speaks_to_a_topic_only_by_a_sentence_asserting_it() -> None:
    topic = yes_no_topic("Does she live by herself?")
    assert speaks_to("PAST MEDICAL HISTORY: Anemia. No smoking or alcohol use and lives alone.", topic)
    assert not speaks_to("Lungs are clear. Heart regular.", topic)


def test_a_yes_no_questions_finding_is_its_topic_before_the_setting() -> None:
    assert yes_no_finding("did she aspirate on the swallow study") == (frozenset({"aspirate"}),)
    assert yes_no_finding("does she smoke") == (frozenset(yes_no_topic("does she smoke")[0][0]),)
    assert yes_no_finding("what did the study show") == ()


@pytest.mark.parametrize(
    ("text", "asserts"),
    [
        ("No aspiration was noted during this evaluation.", True),
        ("Aspiration with thin liquids.", True),
        ("A swallow study was ordered to rule out aspiration.", False),
        ("Her mother aspirated.", False),
        ("Modified barium swallow study was performed.", False),
    ],
)
def test_a_sentence_asserts_a_finding_only_negated_or_affirmed(text: str, asserts: bool) -> None:
    finding = yes_no_finding("did she aspirate on the swallow study")
    assert (asserting([text], finding) == [0]) is asserts
