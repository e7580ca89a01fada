"""The clinical recognizers on their own (plain regex, no spaCy): what they catch and what they leave."""

from __future__ import annotations

import pytest

from carecite.privacy.recognizers import (
    ClinicalDateRecognizer,
    ContextNameRecognizer,
    DateOfBirthRecognizer,
    MrnRecognizer,
    RegexValueRecognizer,
    SyntheaNameRecognizer,
    UsAddressRecognizer,
    build_registry,
)


def found(recognizer_cls: type[RegexValueRecognizer], text: str) -> list[str]:
    recognizer = recognizer_cls()
    recognizer.load()
    return [text[r.start : r.end] for r in recognizer.analyze(text, [])]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("MRN: 12345678", "12345678"),
        ("MRN 00123 was merged", "00123"),
        ("Medical record number A-4471903 confirmed", "A-4471903"),
        ("Chart reviewed for MRN# 7720019 today", "7720019"),
        ("Her MRN is 90017733.", "90017733"),
        ("identifier urn:carecite:mrn:MRN-000417 in the bundle", "MRN-000417"),
    ],
)
def test_mrn_value_is_reported_without_its_label(text: str, value: str) -> None:
    assert found(MrnRecognizer, text) == [value]


def test_mrn_label_without_a_digit_value_is_not_an_mrn() -> None:
    assert found(MrnRecognizer, "The MRN was merged with a duplicate record.") == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("DOB: 11/20/1981", "11/20/1981"),
        ("born on November 20, 1981 in Ohio", "November 20, 1981"),
        ("date of birth 1981-11-20, verified", "1981-11-20"),
        ("D.O.B. 4/2/1957; allergies", "4/2/1957"),
        ("Birth date 12/01/1990;", "12/01/1990"),
    ],
)
def test_date_of_birth_forms(text: str, value: str) -> None:
    assert found(DateOfBirthRecognizer, text) == [value]


@pytest.mark.parametrize(
    "text",
    [
        "Pain 3/10, improved from 7/10.",
        "Blood pressure 120/80, pulse 72.",
        "MMSE 18/30",
        "on postoperative day 2",
    ],
)
def test_scores_ratios_and_vitals_are_not_dates(text: str) -> None:
    assert found(ClinicalDateRecognizer, text) == []


def test_clinical_dates_in_several_formats() -> None:
    text = "Seen 03/14/2023, again 2022-08-19, then 12 March 2021, and in October 2022."
    assert found(ClinicalDateRecognizer, text) == [
        "03/14/2023",
        "2022-08-19",
        "12 March 2021",
        "October 2022",
    ]


def test_street_line_with_unit_and_city_state_zip() -> None:
    text = "Lives at 1128 Maple Street, Apt 4B in Quincy, MA 02169 with her husband."
    assert found(UsAddressRecognizer, text) == ["1128 Maple Street, Apt 4B", "Quincy, MA 02169"]


def test_credential_after_a_name_is_not_a_state() -> None:
    assert found(UsAddressRecognizer, "Attending: Marcus Bell, MD") == []


def test_synthea_names_with_digits() -> None:
    assert found(SyntheaNameRecognizer, "Alvin56 Jerde200 is a 58 year-old male.") == ["Alvin56 Jerde200"]
    assert found(SyntheaNameRecognizer, "COVID-19 and A1c 7.2") == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Discussed with Dr. O'Connor who agrees.", "O'Connor"),
        ("Mrs. Helen Whitaker was seen.", "Helen Whitaker"),
        ("accompanied by her son David.", "David"),
        ("Attending: Marcus Bell, MD", "Marcus Bell"),
        ("Lucy Chang, RN, completed the reconciliation.", "Lucy Chang"),
        ("She was last seen by Dr. Nguyen on July 7, 2021.", "Nguyen"),
    ],
)
def test_names_vouched_for_by_context(text: str, value: str) -> None:
    assert value in found(ContextNameRecognizer, text)


def test_context_name_stops_before_non_name_words() -> None:
    assert found(ContextNameRecognizer, "Seen by Dr. Kim Monday morning.") == ["Kim"]


def test_registry_holds_stock_and_clinical_recognizers() -> None:
    names = {r.name for r in build_registry().recognizers}
    assert {"MrnRecognizer", "DateOfBirthRecognizer", "ClinicalSpacyRecognizer", "EmailRecognizer"} <= names
    # Presidio's DateRecognizer fires on pain scores; ClinicalDateRecognizer replaces it
    assert "DateRecognizer" not in names


@pytest.mark.parametrize(
    "text",
    [
        "Patient: Maria Gonzalez    MRN: 10000417    DOB: 03/04/1961",
        "Name: Maria Gonzalez | DOB 03/04/1961 | MRN 10000417",
        "Pt: Maria Gonzalez (10000417)",
    ],
)
def test_synthetic_note_headers_yield_the_name(text: str) -> None:
    assert "Maria Gonzalez" in found(ContextNameRecognizer, text)
