"""Reading a question before retrieval: which person it is about."""

from __future__ import annotations

import pytest

from carecite.reading.kind import other_patient_named, other_person

OWN = {"alvin56", "alvin", "jerde200", "jerde"}


@pytest.mark.parametrize(
    ("question", "named"),
    [
        ("What was Ardath's most recent hemoglobin A1c?", "Ardath"),
        ("Can you check Ms. Green's spironolactone dose?", "Green"),
        ("Is Mrs. O'Connor due for her flu shot?", "O'Connor"),
        ("What is Mr. Jerde's BMI?", None),  # the selected patient
        ("What did Alvin's cardiologist recommend?", None),
        ("What did Dr. Patel's note recommend?", None),  # a clinician, not a patient
        ("Any history of Parkinson's disease?", None),  # an eponym
        ("Does Medicare's policy cover CPAP?", None),
        ("What's the latest potassium?", None),
        ("Patient's last A1c?", None),
    ],
)
def test_a_question_about_someone_else_names_them(question: str, named: str | None) -> None:
    assert other_person(question, OWN) == named


OTHERS = [("Dorothy12", "Jones34"), ("Carol", "Jones"), ("Ardath", "Kling")]


@pytest.mark.parametrize(
    ("question", "named"),
    [
        ("what oxygen flow is dorothy jones on", "dorothy jones"),  # lower case, as typed
        ("What oxygen flow is Dorothy Jones on?", "Dorothy Jones"),
        ("what is jones on for oxygen", None),  # a shared surname alone names no one else
        ("what oxygen is carol jones on", None),  # the selected patient, in full
        ("when did ardath kling last see cardiology", "ardath kling"),
    ],
)
def test_another_patient_named_in_full_is_someone_else_even_with_the_same_surname(
    question: str, named: str | None
) -> None:
    others = [o for o in OTHERS if o != ("Carol", "Jones")]
    assert other_patient_named(question, others, ("Carol", "Jones")) == named
