"""The synthetic world's facts and the FHIR R4 builder that records them as it writes resources.

Every resource a storyline writes goes through ``Builder``: it emits a standard R4 JSON shape and, at
the same time, records the fact the gold questions are built from (a Task's status and due date, a
lab's value and date, which note holds which discharge recommendation...). The gold set is
therefore derived from the same calls that produced the bundles and cannot drift from them.
"""

from __future__ import annotations

import base64
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from carecite.synth import vocab as v

JsonObj = dict[str, Any]

# uuid5 namespace for every id in the world: ids depend on (seed, patient index, type, counter) only.
NAMESPACE = uuid.UUID("6f0d5d8e-3b7a-5f39-9c1e-2b6a4c0d7e11")
OPEN_TASK = frozenset({"requested", "ready", "in-progress", "received", "accepted", "on-hold", "draft"})
PENDING_REFERRAL = frozenset({"active", "on-hold", "draft"})


def central_offset(when: datetime) -> str:
    """UTC offset of US Central time on ``when`` (DST: second Sunday of March to first Sunday of November)."""

    def nth_sunday(year: int, month: int, n: int) -> date:
        first = date(year, month, 1)
        return first + timedelta(days=(6 - first.weekday()) % 7 + 7 * (n - 1))

    start, end = nth_sunday(when.year, 3, 2), nth_sunday(when.year, 11, 1)
    return "-05:00" if start <= when.date() < end else "-06:00"


def fhir_dt(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S") + central_offset(when)


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute)


def human_date(day: date | datetime) -> str:
    d = day.date() if isinstance(day, datetime) else day
    return f"{d.strftime('%B')} {d.day}, {d.year}"


def short_date(day: date | datetime) -> str:
    d = day.date() if isinstance(day, datetime) else day
    return f"{d.month}/{d.day}/{d.year}"


def cc(system: str, code: str, display: str, text: str | None = None) -> JsonObj:
    out: JsonObj = {"coding": [{"system": system, "code": code, "display": display}]}
    if text:
        out["text"] = text
    return out


def security(labels: tuple[str, ...]) -> list[JsonObj]:
    names = {
        "PSY": "psychiatry disorder information sensitivity",
        "ETH": "substance abuse information sensitivity",
    }
    return [{"system": v.ACT_CODE, "code": label, "display": names.get(label, label)} for label in labels]


# --------------------------------------------------------------------------- facts
@dataclass
class TaskFact:
    ref: str
    status: str
    due: date
    description: str
    focus: str | None
    owner: str

    @property
    def open(self) -> bool:
        return self.status in OPEN_TASK

    def overdue(self, as_of: date) -> bool:
        return self.open and self.due < as_of


@dataclass
class ReferralFact:
    ref: str
    status: str
    specialty: str  # vocab.SPECIALTIES key
    category: str  # referral | dme | lab

    @property
    def pending(self) -> bool:
        return self.category == "referral" and self.status in PENDING_REFERRAL


@dataclass
class ApptFact:
    ref: str
    status: str
    start: datetime
    specialty: str
    clinician: str


@dataclass
class LabFact:
    ref: str
    key: str
    value: float
    when: datetime
    labels: tuple[str, ...]


@dataclass
class MedFact:
    ref: str
    drug: str  # generic name, lower case ("furosemide")
    display: str
    status: str
    dosage: str
    authored: datetime
    labels: tuple[str, ...]


@dataclass
class NoteFact:
    ref: str
    kind: str  # vocab.NOTE_TYPES key
    labels: tuple[str, ...]
    when: datetime
    text: str
    author: str


@dataclass
class CarePlanFact:
    ref: str
    title: str
    problem: str
    activities: list[tuple[str, str]]  # (description, status), activity n = index + 1


@dataclass
class DischargeFact:
    note_ref: str
    when: date
    reason: str  # problem key
    recommendations: list[str]  # phrases that appear verbatim in the note


@dataclass
class RestrictedFact:
    """A fact found ONLY in a labelled note (the restricted-bait questions ask for it)."""

    note_ref: str
    label: str
    questions: tuple[str, ...]
    answer: str  # phrase that appears in the labelled note and in no unlabelled source


@dataclass
class PatientFacts:
    tasks: list[TaskFact] = field(default_factory=list)
    referrals: list[ReferralFact] = field(default_factory=list)
    appointments: list[ApptFact] = field(default_factory=list)
    labs: list[LabFact] = field(default_factory=list)
    meds: list[MedFact] = field(default_factory=list)
    notes: list[NoteFact] = field(default_factory=list)
    careplans: list[CarePlanFact] = field(default_factory=list)
    discharges: list[DischargeFact] = field(default_factory=list)
    restricted: list[RestrictedFact] = field(default_factory=list)
    conditions: dict[str, str] = field(default_factory=dict)  # problem key → Condition ref
    condition_labels: dict[str, tuple[str, ...]] = field(default_factory=dict)
    policies: list[str] = field(default_factory=list)  # ncd ids relevant to this patient
    injection_notes: list[str] = field(default_factory=list)
    care_team: set[str] = field(default_factory=set)  # Practitioner ids on the ACTIVE care team
    former_team: set[str] = field(default_factory=set)  # only on an inactive care team
    storyline: str = ""
    extras: set[str] = field(default_factory=set)  # secondary storylines: osa, bh, sud, ckd

    def latest_lab(self, key: str) -> LabFact | None:
        labs = [lab for lab in self.labs if lab.key == key]
        return max(labs, key=lambda lab: lab.when) if labs else None

    def active_meds(self, drug: str) -> list[MedFact]:
        return [m for m in self.meds if m.drug == drug and m.status == "active"]


@dataclass
class PatientRecord:
    index: int
    id: str
    given: str
    family: str
    gender: str
    birth_date: date
    facility: v.Facility
    bundle: JsonObj
    facts: PatientFacts

    @property
    def ref(self) -> str:
        return f"Patient/{self.id}"

    @property
    def name(self) -> str:
        return f"{self.given} {self.family}"

    @property
    def honorific(self) -> str:
        return ("Mr. " if self.gender == "male" else "Ms. ") + self.family


# --------------------------------------------------------------------------- builder
class Builder:
    """Writes one patient's resources (standard FHIR R4 JSON) and records their facts."""

    def __init__(self, seed: int, index: int, as_of: date) -> None:
        self.seed, self.index, self.as_of = seed, index, as_of
        self.rng = random.Random(f"carecite-synth/{seed}/patient/{index}")
        self._counts: dict[str, int] = {}
        self.resources: list[JsonObj] = []
        self.facts = PatientFacts()
        self.patient_id = self.new_id("Patient")
        self.patient_name = ""
        self.facility: v.Facility = v.PRIMARY

    # ids and references ------------------------------------------------------------
    def new_id(self, rtype: str) -> str:
        n = self._counts.get(rtype, 0)
        self._counts[rtype] = n + 1
        return str(uuid.uuid5(NAMESPACE, f"{self.seed}/{self.index}/{rtype}/{n}"))

    @staticmethod
    def local(ref: str, display: str | None = None) -> JsonObj:
        """A reference to a resource of this bundle, through its urn:uuid fullUrl."""
        out: JsonObj = {"reference": f"urn:uuid:{ref.split('/', 1)[1]}"}
        if display:
            out["display"] = display
        return out

    @staticmethod
    def practitioner(c: v.Clinician) -> JsonObj:
        return {"reference": c.ref, "display": c.display}

    @staticmethod
    def org(f: v.Facility) -> JsonObj:
        return {"reference": f.ref, "display": f.name}

    def subject(self) -> JsonObj:
        return self.local(f"Patient/{self.patient_id}", self.patient_name)

    def add(self, resource: JsonObj, labels: tuple[str, ...] = ()) -> str:
        meta: JsonObj = {"tag": [dict(v.SYNTHETIC_TAG)]}
        if labels:
            meta["security"] = security(labels)
        resource["meta"] = meta
        self.resources.append(resource)
        return f"{resource['resourceType']}/{resource['id']}"

    # resources -----------------------------------------------------------------------
    def encounter(
        self,
        klass: str,
        type_text: str,
        start: datetime,
        end: datetime,
        facility: v.Facility,
        clinician: v.Clinician,
        reason: str | None = None,
        status: str = "finished",
        labels: tuple[str, ...] = (),
    ) -> str:
        names = {"IMP": "inpatient encounter", "AMB": "ambulatory", "VR": "virtual", "HH": "home health"}
        rid = self.new_id("Encounter")
        res: JsonObj = {
            "resourceType": "Encounter",
            "id": rid,
            "status": status,
            "class": {"system": v.ACT_CLASS, "code": klass, "display": names[klass]},
            "type": [{"text": type_text}],
            "subject": self.subject(),
            "participant": [{"individual": self.practitioner(clinician)}],
            "period": {"start": fhir_dt(start), "end": fhir_dt(end)},
            "serviceProvider": self.org(facility),
        }
        if reason and reason in self.facts.conditions:
            res["reasonReference"] = [self.local(self.facts.conditions[reason], v.PROBLEMS[reason].display)]
        return self.add(res, labels)

    def condition(self, key: str, onset: date, status: str = "active", labels: tuple[str, ...] = ()) -> str:
        p = v.PROBLEMS[key]
        rid = self.new_id("Condition")
        res: JsonObj = {
            "resourceType": "Condition",
            "id": rid,
            "clinicalStatus": cc(v.CONDITION_CLINICAL, status, status.capitalize()),
            "verificationStatus": cc(
                "http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", "Confirmed"
            ),
            "category": [cc(v.CONDITION_CATEGORY, "problem-list-item", "Problem List Item")],
            "code": {
                "coding": [
                    {"system": v.SNOMED, "code": p.snomed, "display": p.display},
                    {"system": v.ICD10, "code": p.icd10, "display": p.display},
                ],
                "text": p.display,
            },
            "subject": self.subject(),
            "onsetDateTime": fhir_dt(at(onset)),
            "recordedDate": fhir_dt(at(onset, 10)),
        }
        ref = self.add(res, labels)
        self.facts.conditions[key] = ref
        self.facts.condition_labels[key] = labels
        return ref

    def observation(
        self,
        key: str,
        value: float,
        when: datetime,
        encounter: str | None = None,
        labels: tuple[str, ...] = (),
    ) -> str:
        lab = v.LABS[key]
        value = round(value, lab.decimals) if lab.decimals else float(round(value))
        category = (
            "vital-signs" if key in v.VITAL_LABS else "survey" if key in v.SURVEY_LABS else "laboratory"
        )
        rid = self.new_id("Observation")
        res: JsonObj = {
            "resourceType": "Observation",
            "id": rid,
            "status": "final",
            "category": [cc(v.OBS_CATEGORY, category, category.replace("-", " ").title())],
            "code": {
                "coding": [{"system": v.LOINC, "code": lab.loinc, "display": lab.display}],
                "text": lab.short,
            },
            "subject": self.subject(),
            "effectiveDateTime": fhir_dt(when),
            "issued": fhir_dt(when + timedelta(hours=2)),
            "valueQuantity": {"value": value, "unit": lab.unit, "system": v.UCUM, "code": lab.ucum},
        }
        if encounter:
            res["encounter"] = self.local(encounter)
        ref = self.add(res, labels)
        self.facts.labs.append(LabFact(ref, key, value, when, labels))
        return ref

    def medication(
        self,
        drug: str,
        display: str,
        dosage: str,
        status: str,
        authored: datetime,
        requester: v.Clinician,
        reason: str | None = None,
        encounter: str | None = None,
        labels: tuple[str, ...] = (),
        note: str | None = None,
    ) -> str:
        rid = self.new_id("MedicationRequest")
        res: JsonObj = {
            "resourceType": "MedicationRequest",
            "id": rid,
            "status": status,
            "intent": "order",
            "medicationCodeableConcept": {"text": display},
            "subject": self.subject(),
            "authoredOn": fhir_dt(authored),
            "requester": self.practitioner(requester),
            "dosageInstruction": [{"text": dosage}],
        }
        if reason and reason in self.facts.conditions:
            res["reasonReference"] = [self.local(self.facts.conditions[reason], v.PROBLEMS[reason].display)]
        if encounter:
            res["encounter"] = self.local(encounter)
        if note:
            res["note"] = [{"text": note}]
        ref = self.add(res, labels)
        self.facts.meds.append(MedFact(ref, drug, display, status, dosage, authored, labels))
        return ref

    def service_request(
        self,
        specialty: str,
        status: str,
        authored: datetime,
        requester: v.Clinician,
        reason: str | None,
        note: str,
        within_days: int | None = None,
        encounter: str | None = None,
        category: str = "referral",
        code_text: str | None = None,
        labels: tuple[str, ...] = (),
    ) -> str:
        s = v.SPECIALTIES[specialty]
        categories = {
            "referral": cc(v.SNOMED, "3457005", "Patient referral"),
            "dme": cc(v.SNOMED, "363679005", "Imaging", "Durable medical equipment"),
            "lab": cc(v.SNOMED, "108252007", "Laboratory procedure"),
        }
        if category == "dme":
            categories["dme"] = {"text": "Durable medical equipment"}
        rid = self.new_id("ServiceRequest")
        res: JsonObj = {
            "resourceType": "ServiceRequest",
            "id": rid,
            "status": status,
            "intent": "order",
            "category": [categories[category]],
            "priority": "routine",
            "code": cc(v.SNOMED, s.snomed, s.referral_display, code_text or s.referral_display),
            "subject": self.subject(),
            "authoredOn": fhir_dt(authored),
            "requester": self.practitioner(requester),
            "performer": [self.practitioner(s.clinician)] if category == "referral" else [],
            "note": [{"text": note}],
        }
        if not res["performer"]:
            del res["performer"]
        if within_days is not None:
            res["occurrencePeriod"] = {
                "start": fhir_dt(authored),
                "end": fhir_dt(authored + timedelta(days=within_days)),
            }
        if reason and reason in self.facts.conditions:
            res["reasonReference"] = [self.local(self.facts.conditions[reason], v.PROBLEMS[reason].display)]
        if encounter:
            res["encounter"] = self.local(encounter)
        ref = self.add(res, labels)
        self.facts.referrals.append(ReferralFact(ref, status, specialty, category))
        return ref

    def appointment(
        self,
        specialty: str,
        status: str,
        start: datetime,
        clinician: v.Clinician,
        description: str,
        based_on: str | None = None,
        minutes: int = 30,
        cancel_reason: str | None = None,
    ) -> str:
        s = v.SPECIALTIES[specialty]
        rid = self.new_id("Appointment")
        participation = {"booked": "accepted", "fulfilled": "accepted", "noshow": "accepted"}.get(
            status, "declined"
        )
        res: JsonObj = {
            "resourceType": "Appointment",
            "id": rid,
            "status": status,
            "serviceType": [{"text": s.display}],
            "description": description,
            "start": fhir_dt(start),
            "end": fhir_dt(start + timedelta(minutes=minutes)),
            "minutesDuration": minutes,
            "participant": [
                {"actor": self.subject(), "status": participation},
                {"actor": self.practitioner(clinician), "status": "accepted"},
                {"actor": {"display": s.facility.name}, "status": "accepted"},
            ],
        }
        if based_on:
            res["basedOn"] = [self.local(based_on)]
        if cancel_reason:
            res["cancelationReason"] = {"text": cancel_reason}
        ref = self.add(res)
        self.facts.appointments.append(ApptFact(ref, status, start, specialty, clinician.display))
        return ref

    def task(
        self,
        description: str,
        status: str,
        authored: datetime,
        due: date,
        owner: v.Clinician,
        focus: str | None = None,
        note: str | None = None,
        last_modified: datetime | None = None,
        priority: str = "routine",
        encounter: str | None = None,
    ) -> str:
        rid = self.new_id("Task")
        res: JsonObj = {
            "resourceType": "Task",
            "id": rid,
            "status": status,
            "intent": "order",
            "priority": priority,
            "code": cc("http://hl7.org/fhir/CodeSystem/task-code", "fulfill", "Fulfill the focal request"),
            "description": description,
            "for": self.subject(),
            "authoredOn": fhir_dt(authored),
            "lastModified": fhir_dt(last_modified or authored),
            "owner": self.practitioner(owner),
            "restriction": {"period": {"end": fhir_dt(at(due, 17))}},
        }
        if focus:
            res["focus"] = self.local(focus)
        if note:
            res["note"] = [{"text": note}]
        if encounter:
            res["encounter"] = self.local(encounter)
        if status == "cancelled" and note:
            res["statusReason"] = {"text": note}
        ref = self.add(res)
        self.facts.tasks.append(TaskFact(ref, status, due, description, focus, owner.display))
        return ref

    def careplan(
        self,
        title: str,
        problem: str,
        start: date,
        author: v.Clinician,
        activities: list[tuple[str, str, date | None]],
        status: str = "active",
    ) -> str:
        rid = self.new_id("CarePlan")
        acts: list[JsonObj] = []
        for desc, a_status, when in activities:
            detail: JsonObj = {"status": a_status, "description": desc}
            if when:
                detail["scheduledPeriod"] = {"start": fhir_dt(at(when))}
            acts.append({"detail": detail})
        res: JsonObj = {
            "resourceType": "CarePlan",
            "id": rid,
            "status": status,
            "intent": "plan",
            "title": title,
            "category": [
                cc(
                    "http://hl7.org/fhir/us/core/CodeSystem/careplan-category",
                    "assess-plan",
                    "Assessment and Plan of Treatment",
                )
            ],
            "subject": self.subject(),
            "period": {"start": fhir_dt(at(start))},
            "author": self.practitioner(author),
            "activity": acts,
        }
        if problem in self.facts.conditions:
            res["addresses"] = [self.local(self.facts.conditions[problem], v.PROBLEMS[problem].display)]
        ref = self.add(res)
        self.facts.careplans.append(CarePlanFact(ref, title, problem, [(d, s) for d, s, _ in activities]))
        return ref

    def careteam(
        self,
        members: list[tuple[v.Clinician, str]],
        status: str,
        start: date,
        name: str,
        end: date | None = None,
    ) -> str:
        rid = self.new_id("CareTeam")
        participants = []
        for clinician, role in members:
            member = self.practitioner(clinician)
            participants.append({"role": [{"text": role}], "member": member})
        period: JsonObj = {"start": fhir_dt(at(start))}
        if end:
            period["end"] = fhir_dt(at(end))
        res: JsonObj = {
            "resourceType": "CareTeam",
            "id": rid,
            "status": status,
            "name": name,
            "subject": self.subject(),
            "period": period,
            "participant": participants,
            "managingOrganization": [self.org(self.facility)],
        }
        ids = {c.id for c, _ in members}
        if status == "active":
            self.facts.care_team |= ids
        else:
            self.facts.former_team |= ids
        return self.add(res)

    def note(
        self,
        kind: str,
        text: str,
        when: datetime,
        author: v.Clinician,
        custodian: v.Facility,
        encounter: str | None = None,
        labels: tuple[str, ...] = (),
    ) -> str:
        nt = v.NOTE_TYPES[kind]
        rid = self.new_id("DocumentReference")
        res: JsonObj = {
            "resourceType": "DocumentReference",
            "id": rid,
            "status": "current",
            "docStatus": "final",
            "type": {"coding": [{"system": v.LOINC, "code": nt.loinc, "display": nt.display}]},
            "category": [
                cc(
                    "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category",
                    "clinical-note",
                    "Clinical Note",
                )
            ],
            "subject": self.subject(),
            "date": fhir_dt(when),
            "author": [self.practitioner(author)],
            "custodian": self.org(custodian),
            "content": [
                {
                    "attachment": {
                        "contentType": "text/plain; charset=utf-8",
                        "language": "en-US",
                        "data": base64.b64encode(text.encode("utf-8")).decode("ascii"),
                        "title": nt.display,
                        "creation": fhir_dt(when),
                    }
                }
            ],
        }
        if labels:
            res["securityLabel"] = [{"coding": [c]} for c in security(labels)]
        if encounter:
            res["context"] = {"encounter": [self.local(encounter)], "period": {"start": fhir_dt(when)}}
        ref = self.add(res, labels)
        self.facts.notes.append(NoteFact(ref, kind, labels, when, text, author.display))
        return ref

    # bundle --------------------------------------------------------------------------
    def bundle(self) -> JsonObj:
        entries = []
        for res in self.resources:
            entries.append(
                {
                    "fullUrl": f"urn:uuid:{res['id']}",
                    "resource": res,
                    "request": {"method": "PUT", "url": f"{res['resourceType']}/{res['id']}"},
                }
            )
        return {
            "resourceType": "Bundle",
            "id": str(uuid.uuid5(NAMESPACE, f"{self.seed}/{self.index}/Bundle")),
            "type": "transaction",
            "entry": entries,
        }
