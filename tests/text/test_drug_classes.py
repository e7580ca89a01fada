"""A drug class named in everyday words is read as its members; a blood pressure reading is no class."""

from __future__ import annotations

import re

import pytest

from carecite.reading.intent import read_intent
from carecite.reading.items import names_item, naming_groups
from carecite.text.drug_classes import CLASSES, read_classes


@pytest.mark.parametrize(
    ("question", "token"),
    [
        ("is he on a blood thinner", "bloodthinner"),
        ("pt on anticoag?", "bloodthinner"),
        ("what water pill is he on", "diuretic"),
        ("any beta-blockers", "betablocker"),
        ("what bp meds is she on", "antihypertensive"),
        ("is she on birth control", "contraceptive"),
        ("abx during the stay?", "antibiotic"),
    ],
)
def test_a_class_phrase_is_read_as_one_class_token(question: str, token: str) -> None:
    assert token in re.findall(r"[a-z]+", read_classes(question.lower()))


def test_a_blood_pressure_reading_or_a_blood_test_is_no_class() -> None:
    for question in ("what was her last blood pressure", "latest blood glucose", "blood thinner"[:5]):
        assert read_classes(question) == question


def test_a_medication_row_names_a_class_by_any_member_and_nothing_else_does() -> None:
    intent = read_intent("is he on a blood thinner?")
    assert "MedicationRequest" in intent.kinds
    groups = naming_groups("is he on a blood thinner?", frozenset())
    assert names_item(groups, "Warfarin Sodium 6 MG Oral Tablet")
    assert names_item(
        groups, "clopidogrel 75 MG Oral Tablet"
    )  # MedlinePlus: antiplatelets are blood thinners
    assert not names_item(groups, "Blood Pressure")
    assert not names_item(groups, "Lisinopril 10 MG Oral Tablet")


def test_every_class_states_its_atc_groups_and_members() -> None:
    for c in CLASSES:
        assert c.atc and c.members and c.phrases, c.token
