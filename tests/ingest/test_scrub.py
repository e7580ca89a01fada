"""Scrubbing the patient's own identifiers from index text."""

from __future__ import annotations

import json
from datetime import date

import pytest

from carecite.privacy.identity import PatientIdentity, scrub_identifiers
from carecite.records import tables

RAW = {
    "resourceType": "Patient",
    "name": [
        {"use": "official", "family": "Jerde200", "given": ["Alvin56"], "prefix": ["Mr."]},
        {"use": "maiden", "family": "Feeney44", "given": ["Alvin56"]},
    ],
    "identifier": [
        {
            "system": "https://github.com/synthetichealth/synthea",
            "value": "53917de0-aa0c-0700-105a-4f7f893c62f6",
        },
        {"type": {"text": "Social Security Number"}, "value": "999-58-8597"},
        {"type": {"text": "Driver's license number"}, "value": "S99947015"},
    ],
    "telecom": [
        {"system": "phone", "value": "555-341-3425"},
        {"system": "email", "value": "Alvin.J@example.org"},
    ],
    "address": [{"line": ["123 Main St", "Apt 4"], "city": "Boston", "state": "MA"}],
}


@pytest.fixture
def identity() -> PatientIdentity:
    p = tables.Patient(
        id="53917de0-aa0c-0700-105a-4f7f893c62f6",
        patient_key="pk_x",
        name="Alvin56 Jerde200",
        given="Alvin56",
        family="Jerde200",
        birth_date=date(1981, 11, 20),
        mrn="MRN-00123",
        identifiers=json.dumps([{"system": "urn:mrn", "value": "MRN-00123"}]),
        phone="555-341-3425",
        raw=json.dumps(RAW),
    )
    return PatientIdentity.from_patient(p)


def test_identity_collects_every_name_identifier_phone_address_and_email(identity: PatientIdentity) -> None:
    assert {"Alvin56 Jerde200", "Alvin56", "Jerde200", "Feeney44"} <= set(identity.names)
    assert {"MRN-00123", "999-58-8597", "S99947015", "53917de0-aa0c-0700-105a-4f7f893c62f6"} <= set(
        identity.identifiers
    )
    assert identity.phones == ("555-341-3425",)
    assert {"123 Main St", "Apt 4"} <= set(identity.addresses)
    assert identity.emails == ("Alvin.J@example.org",)
    hash(identity)  # frozen and hashable: the compiled scrubber is cached per identity


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mr. Alvin56 Jerde200 presents.", "Mr. [PATIENT] presents."),
        ("Alvin56\r\n is a 18 year-old male.", "[PATIENT]\r\n is a 18 year-old male."),
        ("Alvin Jerde was seen; Jerde's wife called.", "[PATIENT] was seen; [PATIENT]'s wife called."),
        ("MRN: MRN-00123, SSN 999588597, DL s99947015.", "MRN: [MRN], SSN [MRN], DL [MRN]."),
        ("DOB 1981-11-20.", "DOB [DOB]."),
        ("DOB 11/20/1981 or 11-20-81.", "DOB [DOB] or [DOB]."),
        ("Born Nov 20, 1981 and November 20th, 1981.", "Born [DOB] and [DOB]."),
        ("Born 20 November 1981.", "Born [DOB]."),
        ("Call (555) 341-3425 or +1 555.341.3425.", "Call [PHONE] or [PHONE]."),
        ("Lives at 123 Main St, apt 4.", "Lives at [ADDRESS], [ADDRESS]."),
        ("Mail alvin.j@EXAMPLE.org today.", "Mail [EMAIL] today."),
    ],
)
def test_known_identifiers_become_placeholders(identity: PatientIdentity, text: str, expected: str) -> None:
    assert scrub_identifiers(text, identity) == expected


def test_clinical_content_and_other_dates_and_numbers_are_left_alone(identity: PatientIdentity) -> None:
    text = "Temp 98.6, seen 11/21/1981, call 555-341-3426. A young alvine patient; Jerde2000 unrelated."
    assert scrub_identifiers(text, identity) == text


def test_digitless_name_matches_only_when_capitalised() -> None:
    identity = PatientIdentity(names=("Young12",))
    assert scrub_identifiers("Young was seen; a young man.", identity) == "[PATIENT] was seen; a young man."


def test_no_identity_means_no_change() -> None:
    assert scrub_identifiers("Alvin56 at 555-341-3425", None) == "Alvin56 at 555-341-3425"


def test_patient_with_sparse_row_and_no_raw_still_scrubs_name() -> None:
    p = tables.Patient(id="p1", patient_key="pk_1", name="Ana Li", given="Ana", family="Li", raw="not json")
    identity = PatientIdentity.from_patient(p)
    assert scrub_identifiers("Ana Li, 40F.", identity) == "[PATIENT], 40F."
