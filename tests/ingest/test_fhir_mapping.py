"""The pure FHIR → rows layer: no stores, no embeddings, so it stays fast."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from carecite import domain
from carecite.ingest.fhir_mapping import (
    BundleMapping,
    EmptyDirectory,
    MappedRecord,
    map_bundle,
    parse_datetime,
    security_labels,
)
from carecite.records import tables as t

FIXTURES = Path(__file__).parent / "fixtures"
ORG_NORTH_PENDING = "Organization?identifier=https://github.com/synthetichealth/synthea|org-north"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


class DictDirectory(EmptyDirectory):
    """A store that knows only what the directory bundle declares (as if loaded first)."""

    def __init__(self, identifiers: dict[str, str], practitioners: dict[str, dict[str, Any]]) -> None:
        self.identifiers = identifiers
        self.practitioners = practitioners

    def ref_for_identifier(self, key: str) -> str | None:
        return self.identifiers.get(key)

    def practitioner(self, ref: str) -> dict[str, Any] | None:
        return self.practitioners.get(ref)


def directory_loaded() -> DictDirectory:
    mapping = map_bundle(load("good/directory.json"), "directory.json")
    practitioners = {
        f"Practitioner/{r.row.id}": json.loads(r.row.raw)  # type: ignore[attr-defined]
        for r in mapping.records
        if r.resource_type == "Practitioner"
    }
    return DictDirectory(mapping.identifiers, practitioners)


def by_ref(mapping: BundleMapping) -> dict[str, MappedRecord]:
    out: dict[str, MappedRecord] = {}
    for rec in mapping.records:
        key = getattr(rec.row, "ref", None) or f"{rec.resource_type}/{getattr(rec.row, 'id', '')}"
        out[key] = rec
    return out


@pytest.fixture
def patient_a() -> dict[str, MappedRecord]:
    mapping = map_bundle(load("good/patient_a.json"), "patient_a.json", directory_loaded())
    assert mapping.problems == []
    return by_ref(mapping)


def test_patient_identity_fields_are_mapped(patient_a: dict[str, MappedRecord]) -> None:
    p = patient_a["Patient/pat-a"].row
    assert isinstance(p, t.Patient)
    assert (p.name, p.given, p.family) == ("Mrs. Maria Elena Lopez", "Maria Elena", "Lopez")
    assert p.birth_date == date(1950, 4, 2) and p.gender == "female"
    assert p.mrn == "MRN-001"  # the identifier typed MR, not the first one
    assert {"system": "http://hl7.org/fhir/sid/us-ssn", "value": "999-12-3456"} in json.loads(p.identifiers)
    assert p.address == "1 Main St, Springfield, MA 01101, US"
    assert (p.phone, p.email) == ("555-0100", "maria@example.org")
    assert p.patient_key == domain.patient_key_for("pat-a")


def test_mrn_from_a_system_containing_mrn() -> None:
    mapping = map_bundle(load("good/patient_b.json"), "patient_b.json")
    patient = by_ref(mapping)["Patient/pat-b"].row
    assert isinstance(patient, t.Patient) and patient.mrn == "MRN-002"
    assert patient.managing_organization == "Organization/org-south"
    assert patient.facilities == "|Organization/org-south|"


def test_clinical_rows_carry_ref_patient_key_facility_and_hash(patient_a: dict[str, MappedRecord]) -> None:
    pk = domain.patient_key_for("pat-a")
    clinical = [r for r in patient_a.values() if isinstance(r.row, t.ResourceRow)]
    assert len(clinical) == 17
    # No encounter, no own organization, and the patient has no managing organization.
    no_facility = {"Observation/obs-smoking", "AllergyIntolerance/allergy-1", "Appointment/appt-1"}
    for rec in clinical:
        row = rec.row
        assert isinstance(row, t.ResourceRow)
        assert row.ref == f"{rec.resource_type}/{row.fhir_id}"
        assert row.patient_key == pk
        expected = None if row.ref in no_facility else "Organization/org-north"
        assert row.facility == expected, row.ref
        assert len(row.content_hash) == 64 and json.loads(row.raw)["id"] == row.fhir_id


def test_encounter_condition_medication_fields(patient_a: dict[str, MappedRecord]) -> None:
    enc = patient_a["Encounter/enc-1"].row
    assert isinstance(enc, t.Encounter)
    assert (enc.class_code, enc.code, enc.display) == ("AMB", "11429006", "Cardiology consultation")
    assert enc.start == datetime(2024, 3, 1, 9, 0) and enc.end == datetime(2024, 3, 1, 10, 0)  # wall clock
    assert (enc.reason, enc.practitioner, enc.status) == ("Chest pain", "Dr. Ada Heart", "finished")
    cond = patient_a["Condition/cond-1"].row
    assert isinstance(cond, t.Condition)
    assert (cond.code, cond.display, cond.clinical_status) == (
        "84114007",
        "Heart failure (disorder)",
        "active",
    )
    assert cond.encounter_ref == "Encounter/enc-1" and cond.onset == datetime(2024, 3, 1)
    med = patient_a["MedicationRequest/med-1"].row
    assert isinstance(med, t.MedicationRequest)
    assert med.medication == "Furosemide 20 MG Oral Tablet" and med.dosage == "20 mg by mouth once daily"
    assert (med.requester, med.reason) == ("Dr. Ada Heart", "Heart failure (disorder)")


def test_observation_values(patient_a: dict[str, MappedRecord]) -> None:
    weight = patient_a["Observation/obs-weight"].row
    assert isinstance(weight, t.Observation)
    assert (weight.value, weight.unit, weight.category) == (82.5, "kg", "Vital signs")
    bp = patient_a["Observation/obs-bp"].row
    assert isinstance(bp, t.Observation)
    assert bp.value_text == "Systolic blood pressure: 142 mm[Hg]; Diastolic blood pressure: 91 mm[Hg]"
    smoking = patient_a["Observation/obs-smoking"].row
    assert isinstance(smoking, t.Observation) and smoking.value_text == "Never smoked tobacco"


def test_allergy_procedure_immunization(patient_a: dict[str, MappedRecord]) -> None:
    allergy = patient_a["AllergyIntolerance/allergy-1"].row
    assert isinstance(allergy, t.AllergyIntolerance)
    assert (allergy.display, allergy.criticality, allergy.status) == ("Penicillin", "high", "active")
    proc = patient_a["Procedure/proc-1"].row
    assert isinstance(proc, t.Procedure) and proc.performed == datetime(2024, 3, 1, 9, 30)
    imm = patient_a["Immunization/imm-1"].row
    assert isinstance(imm, t.Immunization) and imm.display == "Influenza, seasonal"


def test_careplan_with_numbered_activities(patient_a: dict[str, MappedRecord]) -> None:
    rec = patient_a["CarePlan/cp-1"]
    plan = rec.row
    assert isinstance(plan, t.CarePlan)
    assert plan.display == "Heart failure self management plan"  # not the generic assess-plan category
    assert plan.addresses == "Heart failure (disorder)" and plan.period_start == datetime(2024, 3, 1)
    acts = [a for a in rec.children if isinstance(a, t.CarePlanActivity)]
    assert [a.ref for a in acts] == ["CarePlan/cp-1#activity=1", "CarePlan/cp-1#activity=2"]
    assert [(a.index, a.display, a.status) for a in acts] == [
        (1, "Low salt diet education", "in-progress"),
        (2, "Daily weight monitoring", "scheduled"),
    ]
    assert acts[0].location == "North Clinic" and acts[1].scheduled == datetime(2024, 3, 2, 8, 0)
    assert all(a.careplan_ref == "CarePlan/cp-1" and a.patient_key == plan.patient_key for a in acts)


def test_careteam_members_resolve_conditional_references(patient_a: dict[str, MappedRecord]) -> None:
    rec = patient_a["CareTeam/ct-1"]
    assert isinstance(rec.row, t.CareTeam) and rec.row.name == "Heart failure team"
    members = {m.id: m for m in rec.children if isinstance(m, t.CareTeamMember)}
    assert members["CareTeam/ct-1#1"].member_ref == "Patient/pat-a"
    doctor = members["CareTeam/ct-1#2"]
    assert (doctor.member_ref, doctor.member_identifier, doctor.role) == (
        "Practitioner/pr-card",
        "9999000001",
        "Cardiologist",
    )
    coordinator = members["CareTeam/ct-1#3"]
    assert coordinator.member_identifier == "cc-amy" and coordinator.display == "Amy Lee"


def test_task_service_request_appointment(patient_a: dict[str, MappedRecord]) -> None:
    task = patient_a["Task/task-1"].row
    assert isinstance(task, t.Task)
    assert (task.description, task.status, task.priority) == (
        "Schedule echocardiogram follow-up",
        "requested",
        "urgent",
    )
    assert task.due == datetime(2024, 3, 15, 17, 0) and task.last_modified == datetime(2024, 3, 2, 11, 0)
    assert (task.owner, task.focus_ref, task.note) == (
        "Care coordination team",
        "ServiceRequest/sr-1",
        "Patient prefers morning appointments.",
    )
    sr = patient_a["ServiceRequest/sr-1"].row
    assert isinstance(sr, t.ServiceRequest)
    assert (sr.display, sr.intent, sr.category) == ("Referral to cardiac rehabilitation", "order", "Referral")
    assert (sr.requester, sr.performer, sr.reason, sr.note) == (
        "Dr. Ada Heart",
        "Cardiac Rehab Center",
        "Heart failure",
        "Phase II program.",
    )
    assert sr.occurrence == datetime(2024, 3, 20, 9, 0)
    appt = patient_a["Appointment/appt-1"].row
    assert isinstance(appt, t.Appointment)
    assert (appt.description, appt.service_type, appt.practitioner, appt.location) == (
        "Cardiology follow-up",
        "Cardiology",
        "Dr. Ada Heart",
        "North Clinic Room 2",
    )
    assert appt.start == datetime(2024, 3, 15, 10, 30)


def test_document_reference_becomes_a_note(patient_a: dict[str, MappedRecord]) -> None:
    note = patient_a["DocumentReference/doc-1"].row
    assert isinstance(note, t.Note)
    assert (note.note_type, note.note_type_code) == ("Discharge summary", "18842-5")  # LOINC preferred
    assert note.text.startswith("Discharge summary\nHEART FAILURE") and "\r" not in note.text
    assert (note.author, note.author_role) == ("Dr. Ada Heart", "Cardiologist")  # Practitioner.qualification
    assert note.date == datetime(2024, 3, 1, 16, 0) and note.encounter_ref == "Encounter/enc-1"
    assert note.facility == "Organization/org-north"  # custodian
    other = patient_a["DocumentReference/doc-2"].row
    assert isinstance(other, t.Note) and other.author_role == "Nurse"  # documented extension


def test_diagnostic_report_presented_form_becomes_a_note(patient_a: dict[str, MappedRecord]) -> None:
    note = patient_a["DiagnosticReport/dr-1"].row
    assert isinstance(note, t.Note)
    assert note.ref == "DiagnosticReport/dr-1" and note.note_type == "Laboratory report"
    assert note.text == "Laboratory report\nBNP 450 pg/mL (high).\n"


def test_security_labels_from_meta_and_security_label_fail_closed() -> None:
    mapping = map_bundle(load("good/patient_a.json"), "patient_a.json", directory_loaded())
    rows = by_ref(mapping)
    doc1, doc2 = rows["DocumentReference/doc-1"].row, rows["DocumentReference/doc-2"].row
    assert isinstance(doc1, t.Note) and isinstance(doc2, t.Note)
    assert doc1.security_labels == "|PSY|"  # confidentiality N is no restriction
    assert doc2.security_labels == "|R|"  # unknown v3-ActCode code → restricted
    assert [w.resource_id for w in mapping.warnings] == ["doc-2"]
    assert "UNKNOWNSENS" in mapping.warnings[0].message


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        ([{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}], ("R",)),
        ([{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "M"}], ()),
        ([{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "ETH"}], ("ETH",)),
        ([{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "SUD42"}], ("R",)),
        ([{"code": "???"}], ("R",)),
        ([{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "HTEST"}], ()),
        (
            [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "HIV"}, {"code": "SDV"}],
            ("HIV", "SDV"),
        ),
    ],
)
def test_security_label_mapping(codes: list[dict[str, str]], expected: tuple[str, ...]) -> None:
    labels, warnings = security_labels(codes, "meta.security")
    assert labels == expected
    assert bool(warnings) == (expected == ("R",) and codes[0].get("code") != "R")


def test_conditional_references_stay_pending_until_the_identifier_is_known() -> None:
    alone = by_ref(map_bundle(load("good/patient_a.json"), "patient_a.json"))
    enc = alone["Encounter/enc-1"].row
    assert isinstance(enc, t.Encounter) and enc.facility == ORG_NORTH_PENDING
    member = alone["CareTeam/ct-1"].children[1]
    assert isinstance(member, t.CareTeamMember)
    assert member.member_ref == "Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|9999000001"
    assert member.member_identifier == "9999000001"


def test_urn_uuid_and_absolute_references_resolve() -> None:
    rows = by_ref(map_bundle(load("good/patient_b_followup.json"), "followup.json"))
    task = rows["Task/task-b-1"].row
    assert isinstance(task, t.Task)
    assert task.patient_key == domain.patient_key_for("pat-b")  # absolute URL reference
    assert task.encounter_ref == "Encounter/enc-b-1"  # literal reference to another bundle
    assert task.due == datetime(2024, 2, 16)


def test_bare_resource_is_mapped() -> None:
    rows = by_ref(map_bundle(load("good/bare_appointment.json"), "bare.json"))
    appt = rows["Appointment/appt-b-1"].row
    assert isinstance(appt, t.Appointment) and appt.patient_key == domain.patient_key_for("pat-b")


def test_unknown_types_are_counted_and_skipped() -> None:
    mapping = map_bundle(load("good/patient_a.json"), "patient_a.json")
    assert mapping.unknown == Counter({"Claim": 1, "Provenance": 1})
    assert not any(r.resource_type in ("Claim", "Provenance") for r in mapping.records)


def test_malformed_entries_are_reported_with_file_index_and_id() -> None:
    mapping = map_bundle(load("bad/malformed.json"), "malformed.json")
    found = {(p.index, p.resource_id): p.message for p in mapping.problems}
    assert set(found) == {
        (1, None),
        (2, None),
        (3, "obs-bad-code"),
        (4, "doc-bad-b64"),
        (5, "enc-bad-date"),
        (6, "cond-no-subject"),
    }
    assert "entry must be an object" in found[(1, None)]
    assert "no id" in found[(2, None)]
    assert "code must be an object, got string" in found[(3, "obs-bad-code")]
    assert "base64" in found[(4, "doc-bad-b64")]
    assert "period.start" in found[(5, "enc-bad-date")] and "2024-13-45" in found[(5, "enc-bad-date")]
    assert "missing subject" in found[(6, "cond-no-subject")]
    assert all(p.source == "malformed.json" for p in mapping.problems)
    assert "malformed.json entry[3] Observation/obs-bad-code" in str(mapping.problems[2])
    # the rest of the bundle still maps
    assert sorted(r.resource_type for r in mapping.records) == ["Condition", "Patient"]
    assert mapping.unknown == Counter({"Basic": 1})


@pytest.mark.parametrize(
    "data", [[1, 2], "text", {"no": "resourceType"}, {"resourceType": "Bundle", "entry": 5}]
)
def test_not_a_bundle_is_one_problem(data: object) -> None:
    mapping = map_bundle(data, "x.json")
    assert len(mapping.problems) == 1 and mapping.problems[0].index is None and not mapping.records


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024", datetime(2024, 1, 1)),
        ("2024-03", datetime(2024, 3, 1)),
        ("2024-03-05", datetime(2024, 3, 5)),
        ("2024-03-05T14:25:45+05:30", datetime(2024, 3, 5, 14, 25, 45)),
        ("2024-03-05T14:25:45.077Z", datetime(2024, 3, 5, 14, 25, 45)),
    ],
)
def test_fhir_dates_parse_to_wall_clock(value: str, expected: datetime) -> None:
    assert parse_datetime(value, "x") == expected


@pytest.mark.shared_data
def test_every_wasee11_note_decodes_and_maps(shared_data: Path) -> None:
    folder = shared_data / "synthea_fhir" / "wasee11_synthea_v3"
    notes: list[t.Note] = []
    problems = []
    for path in sorted(folder.glob("*.json")):
        mapping = map_bundle(json.loads(path.read_bytes()), path.name)
        problems += mapping.problems
        notes += [r.row for r in mapping.records if isinstance(r.row, t.Note)]
    assert problems == []
    assert len(notes) == 442
    assert all(n.ref.startswith("DocumentReference/") and n.text.strip() for n in notes)
    assert all(n.note_type and n.note_type_code and n.date and n.patient_key for n in notes)
