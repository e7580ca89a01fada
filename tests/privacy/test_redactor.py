"""PresidioRedactor end to end (real Presidio, offline spaCy model)."""

from __future__ import annotations

import pytest

from carecite.ports import PhiEntity
from carecite.privacy.redactor import PresidioRedactor, merge_entities, redact_text


def test_presidio_redactor_entities_point_at_the_text_and_redact_replaces_them(
    presidio_redactor: PresidioRedactor,
) -> None:
    text = "Walter Brennan was seen on 03/04/2023; call 617-555-0134."
    found = presidio_redactor.analyze(text)
    assert found and all(text[e.start : e.end] == e.text and 0 <= e.score <= 1 for e in found)
    assert {"PERSON", "PHONE_NUMBER"} <= {e.entity_type for e in found}
    redacted = presidio_redactor.redact(text)
    assert all(e.text not in redacted for e in found) and "was seen on" in redacted


def test_every_identifier_in_a_note_header_is_redacted(presidio_redactor: PresidioRedactor) -> None:
    text = (
        "Mr. Alvin56 Jerde200 (MRN: 12345678, DOB: 11/20/1981) was seen by Dr. Sarah Kim on 03/04/2023. "
        "Call 617-555-0134 or alvin@example.com. Lives at 324 Glover Trafficway, Cambridge, MA 02138. "
        "SSN 999-58-8597."
    )
    redacted = presidio_redactor.redact(text)
    for secret in ("Alvin56", "Jerde200", "12345678", "11/20/1981", "Sarah Kim", "03/04/2023", "617-555-0134",
                   "alvin@example.com", "324 Glover", "Cambridge", "02138", "999-58-8597"):  # fmt: skip
        assert secret not in redacted, secret
    types = {e.entity_type for e in presidio_redactor.analyze(text)}
    assert {
        "PERSON",
        "MRN",
        "DATE_OF_BIRTH",
        "DATE",
        "PHONE_NUMBER",
        "EMAIL_ADDRESS",
        "ADDRESS",
        "US_SSN",
    } <= types
    assert redacted.startswith("Mr. <PERSON> (MRN: <MRN>, DOB: <DATE_OF_BIRTH>)")


@pytest.mark.parametrize(
    "text",
    [
        "Patient has Parkinson disease; a Foley catheter was placed.",
        "Continue Eliquis 5 mg twice daily and Lasix 40 mg every morning.",
        "Blood pressure 120/80, heart rate 72, pain 3/10.",
        "Hemoglobin A1c 7.2 %, LDL 110 mg/dL.",
        "Positive Babinski sign on the left; Romberg test negative.",
        "Take Tylenol 500 mg every 6 hours as needed for pain.",
    ],
)
def test_clinical_vocabulary_is_left_alone(presidio_redactor: PresidioRedactor, text: str) -> None:
    assert presidio_redactor.analyze(text) == []
    assert presidio_redactor.redact(text) == text


def test_entity_offsets_point_at_the_text(presidio_redactor: PresidioRedactor) -> None:
    text = "Ms. Yolanda Pierce (born August 2, 1940) lives at 9 Birch Lane."
    for e in presidio_redactor.analyze(text):
        assert text[e.start : e.end] == e.text
    assert [e.entity_type for e in presidio_redactor.analyze(text)] == ["PERSON", "DATE_OF_BIRTH", "ADDRESS"]


def test_entities_can_be_narrowed(presidio_redactor: PresidioRedactor) -> None:
    only_names = PresidioRedactor({"PERSON"}, analyzer=presidio_redactor._analyzer)
    text = "Dr. Sarah Kim called 617-555-0134 on 03/04/2023."
    assert only_names.redact(text) == "Dr. <PERSON> called 617-555-0134 on 03/04/2023."


def test_unknown_entity_type_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown PHI types"):
        PresidioRedactor({"PERSON", "SHOE_SIZE"}, analyzer=object())


def test_blank_text_has_no_phi(presidio_redactor: PresidioRedactor) -> None:
    assert presidio_redactor.analyze("   \n") == []


def test_overlapping_spans_merge_to_their_union_with_the_most_specific_type() -> None:
    text = "DOB 11/20/1981 noted"
    merged = merge_entities(
        text,
        [
            PhiEntity(entity_type="DATE", start=4, end=14, score=0.8, text=""),
            PhiEntity(entity_type="DATE_OF_BIRTH", start=4, end=14, score=0.95, text=""),
            PhiEntity(entity_type="LOCATION", start=9, end=20, score=0.5, text=""),
        ],
    )
    assert [(e.entity_type, e.text) for e in merged] == [("DATE_OF_BIRTH", "11/20/1981 noted")]
    assert redact_text(text, merged) == "DOB <DATE_OF_BIRTH>"
