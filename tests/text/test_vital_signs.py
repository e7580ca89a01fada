"""Vital signs a question asks for, and the sentences that state their values (LOINC 85353-1)."""

from __future__ import annotations

import pytest

from carecite.text.vital_signs import VITAL_SIGNS, asked_vital_signs, states_vital_sign


def test_vitals_asks_for_every_vital_sign_and_a_named_one_for_itself() -> None:
    assert asked_vital_signs("what were his vitals") == frozenset(VITAL_SIGNS)
    assert asked_vital_signs("What was her BP?") == {"blood pressure"}
    assert asked_vital_signs("what did the scan show") == frozenset()


@pytest.mark.parametrize(
    ("text", "states"),
    [
        ("Blood pressure today is 182/78.", True),
        ("His weight is 164 pounds, blood pressure 108/60, pulse 88.", True),
        ("BP 120/80, HR 72.", True),
        ("She had stable blood pressure for the past 12-15 years on 10 mg of lisinopril.", False),
        ("Her blood pressure started to go up.", False),
    ],
)
def test_a_sentence_states_a_vital_sign_only_with_its_value(text: str, states: bool) -> None:
    assert states_vital_sign(text, frozenset({"blood pressure"})) is states
