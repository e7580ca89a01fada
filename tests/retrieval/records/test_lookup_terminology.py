"""The question is read by terminology (issue 27): a term a terminology knows (a lab, a drug by brand
or generic name, an imaging procedure) names the item; context words only rank the rows."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from sqlalchemy import Engine

from carecite.answering.gate import missing_item_gate
from carecite.domain import AccessScope, RetrievalFilter
from carecite.reading.intent import read_intent
from carecite.records import make_engine, session_scope
from carecite.records import tables as t
from carecite.retrieval.records.lookup import StructuredRetriever

TODAY = date(2026, 11, 20)
PK = "pk_dennis"
EGFR = "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, Plasma or Blood by Creatinine-based formula"


@pytest.fixture
def record(tmp_path) -> Engine:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    observations = [
        # One quantity under two LOINC codes (MDRD, then CKD-EPI 2021): the newer is the most recent.
        ("gfr-old", "33914-3", f"{EGFR} (MDRD)", 48.0, datetime(2026, 9, 1)),
        ("gfr-new", "98979-8", f"{EGFR} (CKD-EPI 2021)", 52.0, datetime(2026, 10, 1)),
        ("cr", "2160-0", "Creatinine [Mass/volume] in Serum or Plasma", 1.4, datetime(2026, 10, 1)),
        ("a1c", "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", 7.2, datetime(2026, 8, 1)),
    ]
    meds = [
        ("warf", "warfarin sodium 5 MG Oral Tablet", "active"),
        ("epi", "0.3 ML Epinephrine 1 MG/ML Auto-Injector", "active"),
    ]
    with session_scope(engine) as s:
        for fid, code, display, value, when in observations:
            s.add(
                t.Observation(
                    ref=f"Observation/{fid}",
                    fhir_id=fid,
                    patient_key=PK,
                    status="final",
                    code=code,
                    display=display,
                    value=value,
                    unit="x",
                    effective=when,
                )
            )
        for fid, medication, status in meds:
            s.add(
                t.MedicationRequest(
                    ref=f"MedicationRequest/{fid}",
                    fhir_id=fid,
                    patient_key=PK,
                    status=status,
                    medication=medication,
                    authored_on=datetime(2026, 6, 1),
                )
            )
        s.add(
            t.Condition(
                ref="Condition/knee",
                fhir_id="knee",
                patient_key=PK,
                display="Sprain of knee",
                clinical_status="active",
                onset=datetime(2026, 5, 1),
            )
        )
        s.add(
            t.Patient(
                id="dennis",
                patient_key=PK,
                name="Dennis Example",
                raw=json.dumps(
                    {
                        "resourceType": "Patient",
                        "id": "dennis",
                        "generalPractitioner": [
                            {"reference": "Practitioner/md-gomez", "display": "Dr. Rafael Gomez, MD"}
                        ],
                    }
                ),
            )
        )
    return engine


def _filter() -> RetrievalFilter:
    scope = AccessScope(
        user_id="u",
        role="nurse",
        facilities=frozenset({"Organization/f"}),
        patient_keys=None,
        allowed_labels=frozenset(),
    )
    return RetrievalFilter.for_request(scope, PK, None)


def _search(engine: Engine, question: str) -> list[str]:
    retriever = StructuredRetriever(engine, TODAY)
    return [c.source_ref for c in retriever.search(retriever.read(question), _filter(), 10)]


def test_a_lab_asked_with_lay_context_is_answered_from_its_row(record: Engine) -> None:
    retriever = StructuredRetriever(record, TODAY)
    question = "how are her kidneys doing, latest egfr"
    assert retriever.missing_item(retriever.read(question), _filter()) is None
    assert _search(record, question)[:1] == ["Observation/gfr-new"]
    # A lay gloss beside the lab's name ranks; it does not make the A1c missing.
    assert retriever.missing_item(retriever.read("what was her last a1c (sugar test)"), _filter()) is None
    assert "Observation/a1c" in _search(record, "what was her last a1c (sugar test)")


def test_most_recent_is_the_newest_across_every_code_of_one_quantity(record: Engine) -> None:
    retriever = StructuredRetriever(record, TODAY)
    cands = retriever.search(retriever.read("what is her most recent egfr?"), _filter(), 10)
    assert cands[0].source_ref == "Observation/gfr-new"
    assert "(most recent)" in cands[0].text
    older = next(c for c in cands if c.source_ref == "Observation/gfr-old")
    assert "most recent" not in older.text  # an older value is never labelled the most recent


def test_a_brand_name_finds_the_generic_row(record: Engine) -> None:
    assert _search(record, "is he on coumadin")[:1] == ["MedicationRequest/warf"]
    assert _search(record, "does he have an epipen")[:1] == ["MedicationRequest/epi"]
    assert "MedicationRequest" in read_intent("is he still on the lovenox shots").kinds


def test_a_misspelt_brand_is_read_as_the_drug(record: Engine) -> None:
    speller = StructuredRetriever(record, TODAY).speller
    corrected = speller.correct("is dennis on cumadin", keep=["dennis"]).text
    assert corrected == "is dennis on coumadin"
    assert _search(record, corrected)[:1] == ["MedicationRequest/warf"]


@pytest.mark.parametrize(
    ("question", "named"),
    [
        ("is he still on the lovenox?", "lovenox"),  # a brand of a drug this patient lacks
        ("is he on insulin?", "insulin"),  # no patient of the store has insulin
        ("what did the MRI of the knee show?", "MRI of the knee"),  # never a knee diagnosis
    ],
)
def test_an_absent_item_named_by_a_terminology_term_declines_naming_it(
    record: Engine, question: str, named: str
) -> None:
    retriever = StructuredRetriever(record, TODAY)
    missing = retriever.missing_item(retriever.read(question), _filter())
    assert missing is not None and missing[0] == named
    assert "Condition/knee" not in _search(record, question)
    decision = missing_item_gate(missing, [])
    assert not decision.ok and decision.detail == f"No {named} is on record for this patient."


def test_the_primary_care_provider_is_answered_from_the_patient_and_cited(record: Engine) -> None:
    retriever = StructuredRetriever(record, TODAY)
    cands = retriever.search(retriever.read("who is dennis's primary care doctor?"), _filter(), 5)
    assert cands[0].source_ref == "Patient/dennis"
    assert "Dr. Rafael Gomez, MD" in cands[0].text
    pcp = retriever.search(retriever.read("whos his pcp"), _filter(), 5)
    assert [c.source_ref for c in pcp][:1] == ["Patient/dennis"]


def test_a_procedure_named_in_full_outranks_drugs_of_the_class_its_name_contains(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """ "When did the patient last have Insertion of subcutaneous contraceptive?" reads contraceptive
    drugs by their class; the procedure whose display names all of it answers (the templated
    synthea-items set had this as a wrong fact: the implant drug was cited)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with session_scope(engine) as s:
        s.add(t.MedicationRequest(ref="MedicationRequest/implant", fhir_id="implant", patient_key=PK,
                                  status="stopped", medication="Etonogestrel 68 MG Drug Implant",
                                  authored_on=datetime(2016, 10, 7)))  # fmt: skip
        s.add(t.Procedure(ref="Procedure/insert", fhir_id="insert", patient_key=PK, status="completed",
                          display="Insertion of subcutaneous contraceptive",
                          performed=datetime(2016, 10, 7)))  # fmt: skip
    found = _search(engine, "When did the patient last have Insertion of subcutaneous contraceptive?")
    assert found[:1] == ["Procedure/insert"]
