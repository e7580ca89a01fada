"""Question sets over data no one here wrote, with ground truth computed from the data itself.

``synthea``: the public Synthea bundles in ``<shared>/synthea_fhir/`` (real Synthea output):
``wasee11_synthea_v3`` (10 patients, with notes; directory files apart) and ``healthwallet_synthea``
(15 patients from an older Synthea, transaction bundles with ``urn:uuid`` references, no notes). For each patient, questions whose answer is a resource found by code,
status and date in the bundle JSON — never by reading our own database, never by eye:

- the most recent result of a lab or vital, by LOINC code (``LAB_QUESTIONS``);
- the latest dose of a vaccine, by CVX code; the latest procedure, by SNOMED CT code;
- the active medications, the active conditions, the active care plans (by status);
- the same questions for items the patient does NOT have (absent facts: expect a decline), and
  cross-patient bait (another patient of the set named in the question: expect a decline).

The names in the questions come from a small curated table of clinical terms and abbreviations
(the words a coordinator types: "A1c", "LDL", "flu shot"), mapped to standard codes; the code
lists are the standards' own (LOINC, CVX, SNOMED CT), not our generator's phrasing.

Splits are by patient (a stable hash of the Patient id): the test split is never tuned on.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from carecite.evaluation.gold import GoldQuestion

if TYPE_CHECKING:
    from carecite.stores import Stores

SYNTHEA_DIR = Path("synthea_fhir") / "wasee11_synthea_v3"
# Asked after SYNTHEA_DIR's patients, so a fast subset (--limit) and the first questions' ids stay put.
SYNTHEA_MORE_DIRS = (Path("synthea_fhir") / "healthwallet_synthea",)
DIRECTORY_FILES = ("hospitalInformation.json", "practitionerInformation.json")
EVAL_USER = "eval-md"


@dataclass(frozen=True)
class Item:
    """A thing a question can name: the words used, and the standard codes that mean it."""

    words: str
    codes: frozenset[str]


# Curated: the words coordinators use, each mapped to the LOINC codes that are that test.
LAB_QUESTIONS: tuple[Item, ...] = (
    Item("hemoglobin A1c", frozenset({"4548-4", "17856-6"})),
    Item("LDL cholesterol", frozenset({"18262-6", "2089-1", "13457-7"})),
    Item("HDL cholesterol", frozenset({"2085-9"})),
    Item("total cholesterol", frozenset({"2093-3"})),
    Item("triglycerides", frozenset({"2571-8"})),
    Item("BMI", frozenset({"39156-5"})),
    Item("hemoglobin", frozenset({"718-7"})),
    Item("creatinine", frozenset({"38483-4", "2160-0"})),
    Item("potassium", frozenset({"6298-4", "2823-3"})),
    Item("blood glucose", frozenset({"2339-0", "2345-7"})),
    Item("body weight", frozenset({"29463-7"})),
    Item("platelet count", frozenset({"777-3"})),
    Item("FEV1/FVC ratio", frozenset({"19926-5"})),
    Item("eGFR", frozenset({"33914-3", "48642-3", "48643-1", "62238-1", "69405-9"})),
    Item("INR", frozenset({"6301-6", "34714-6"})),
    Item("TSH", frozenset({"3016-3"})),
)
VACCINE_QUESTIONS: tuple[Item, ...] = (
    Item("flu shot", frozenset({"140", "141", "150", "155", "158", "161", "185", "197", "88"})),
    Item("hepatitis B vaccine", frozenset({"08", "43", "44", "45", "189"})),
    Item("shingles vaccine", frozenset({"121", "187", "188"})),
    Item("tetanus shot", frozenset({"09", "113", "115", "138", "139"})),
    Item(
        "COVID-19 vaccine", frozenset({"207", "208", "210", "211", "212", "213", "217", "218", "219", "221"})
    ),
    Item("pneumococcal vaccine", frozenset({"33", "133", "152", "215", "216"})),
)
PROCEDURE_QUESTIONS: tuple[Item, ...] = (
    Item("depression screening", frozenset({"171207006", "715252007"})),
    Item("medication reconciliation", frozenset({"430193006"})),
    Item("colonoscopy", frozenset({"73761001"})),
    Item("spirometry", frozenset({"127783003"})),
    Item("mammogram", frozenset({"71651007", "24623002"})),
    Item("dental cleaning", frozenset({"1260009003", "1260010008"})),
)
PER_PATIENT_PRESENT = 4  # labs asked per patient among those on record
PER_PATIENT_ABSENT = 2  # labs asked per patient among those NOT on record


def split_of(key: str) -> str:
    return "dev" if int(hashlib.sha256(key.encode()).hexdigest(), 16) % 2 == 0 else "test"


def _pick(items: Sequence[Item], n: int, salt: str) -> list[Item]:
    """A stable, spread-out choice of ``n`` items per patient (not the first n every time)."""
    return sorted(items, key=lambda it: hashlib.sha256(f"{salt}:{it.words}".encode()).hexdigest())[:n]


def _codes(concept: Any) -> set[str]:
    if not isinstance(concept, dict):
        return set()
    return {str(c.get("code")) for c in concept.get("coding", []) if isinstance(c, dict) and c.get("code")}


def _when(resource: dict[str, Any], *fields: str) -> str:
    for f in fields:
        value = resource.get(f)
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and isinstance(value.get("start"), str):
            return str(value["start"])
    return ""


def _status(resource: dict[str, Any]) -> str:
    if resource["resourceType"] == "Condition":
        codes = _codes(resource.get("clinicalStatus"))
        return next(iter(codes), "")
    return str(resource.get("status", ""))


def bundle_files(shared: Path) -> list[Path]:
    """Every patient bundle of the set, folder by folder (a missing extra folder is skipped)."""
    return [
        p
        for folder in (SYNTHEA_DIR, *SYNTHEA_MORE_DIRS)
        for p in sorted((shared / folder).glob("*.json"))
        if p.name not in DIRECTORY_FILES
    ]


def directory_files(shared: Path) -> list[Path]:
    return [shared / SYNTHEA_DIR / name for name in DIRECTORY_FILES]


@dataclass(frozen=True)
class PatientRecord:
    patient_id: str
    given: str
    resources: tuple[dict[str, Any], ...]

    def of(self, rtype: str) -> Iterator[dict[str, Any]]:
        return (r for r in self.resources if r["resourceType"] == rtype)

    def documented(self, resource: dict[str, Any] | None) -> list[str]:
        """The resource's ref, plus the notes of the encounter that recorded it (Synthea writes the
        encounter's note with the same facts): citing that note answers the question too."""
        if resource is None:
            return []
        encounter = _encounter_of(resource)
        notes = [_ref(d) for d in self.of("DocumentReference") if encounter and _encounter_of(d) == encounter]
        return [_ref(resource), *notes]

    def latest(self, rtype: str, code_field: str, codes: frozenset[str], *when: str) -> dict[str, Any] | None:
        matching = [r for r in self.of(rtype) if _codes(r.get(code_field)) & codes]
        return max(matching, key=lambda r: _when(r, *when), default=None)


def _encounter_of(resource: dict[str, Any]) -> str | None:
    ref = resource.get("encounter") or (resource.get("context") or {}).get("encounter") or {}
    if isinstance(ref, list):
        ref = ref[0] if ref else {}
    value = ref.get("reference") if isinstance(ref, dict) else None
    return str(value).split(":")[-1].split("/")[-1] if value else None


def load_patient(path: Path) -> PatientRecord:
    bundle = json.loads(path.read_text(encoding="utf-8"))
    resources = tuple(e["resource"] for e in bundle.get("entry", []) if isinstance(e.get("resource"), dict))
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    given = (patient.get("name") or [{}])[0].get("given", [""])[0]
    # Synthea suffixes names with digits ("Alvin56"); a coordinator would type "Alvin".
    return PatientRecord(str(patient["id"]), re.sub(r"\d+$", "", str(given)), resources)


def _ref(resource: dict[str, Any]) -> str:
    return f"{resource['resourceType']}/{resource['id']}"


# Each synthea question in its canonical wording first ({item}: the lab, vaccine or procedure as
# LAB_QUESTIONS etc. word it), then other everyday wordings that ask exactly the same thing, for the
# ``synthea-wordings`` set: a system should not need the one phrasing its set was built with.
WORDINGS: dict[str, tuple[str, ...]] = {
    "latest_lab": (
        "What was the most recent {item}?",
        "What's the latest {item}?",
        "Show me the last {item} result.",
        "What was the patient's {item} most recently?",
    ),
    "immunization": ("When did the patient last get a {item}?", "When was the last {item} given?"),
    "procedure": (
        "When was the patient's last {item}?",
        "When did the patient last have a {item}?",
        "Date of the most recent {item}?",
    ),
    "active_medications": (
        "What medications is the patient currently taking?",
        "What meds is the patient on right now?",
        "List the patient's active prescriptions.",
        "Which medications are active?",
    ),
    "active_conditions": (
        "What are the patient's active medical problems?",
        "What active conditions does the patient have?",
        "What is on the patient's problem list?",
        "Which diagnoses are currently active?",
    ),
    "care_plan": (
        "What is the patient's current care plan?",
        "Which care plans are active for this patient?",
        "What is the patient's plan of care?",
    ),
}


# The ``synthea-shorthand`` set: the synthea questions (canonical and other wordings) as a nurse or
# coordinator types them, in common clinical shorthand. The substitutions are typing habits, written
# before the set was first run; a question they leave unchanged is not asked again.
SHORTHAND_TYPING: tuple[tuple[str, str], ...] = (
    (r"\bthe patient's\b", "pt's"),
    (r"\bthis patient's\b", "this pt's"),
    (r"\bthe patient\b", "the pt"),
    (r"\bpatient\b", "pt"),
    (r"\bmedications\b", "meds"),
    (r"\bappointment\b", "appt"),
    (r"\bhistory\b", "hx"),
    (r"\bdischarge\b", "d/c"),
    (r"\bfollow-up\b", "f/u"),
)


def typed_in_shorthand(question: str) -> str:
    for pattern, typed in SHORTHAND_TYPING:
        question = re.sub(pattern, typed, question)
    return question


def synthea_shorthand_questions(shared: Path) -> list[GoldQuestion]:
    """Every synthea question (both sets) that shorthand changes, retyped: same ground truth and split."""
    out: list[GoldQuestion] = []
    for q in [*synthea_questions(shared), *synthea_questions(shared, wordings=True)]:
        if (typed := typed_in_shorthand(q.question)) != q.question:
            out.append(q.model_copy(update={"id": f"syns-{len(out) + 1:03d}", "question": typed}))
    return out


def _record_question(
    qid: str,
    p: PatientRecord,
    category: str,
    question: str,
    refs: Sequence[str],
    facts: Sequence[Sequence[str]] = (),
) -> GoldQuestion:
    """A question about ``p``'s record: answered by ``refs``, or (none) an absent item to decline."""
    return GoldQuestion(
        id=qid,
        split=split_of(p.patient_id),  # type: ignore[arg-type]
        category=category if refs else f"{category}:absent",
        user_id=EVAL_USER,
        patient_id=p.patient_id,
        question=question,
        expect="answer" if refs else "decline",
        expected_refs=tuple(refs),
        expected_facts=tuple(tuple(f) for f in facts),
    )


def synthea_questions(shared: Path, *, wordings: bool = False) -> list[GoldQuestion]:
    """Every question of the ``synthea`` set, ground truth from the bundles; ``wordings``: the same
    questions in their other wordings (``synthea-wordings``: same ground truth, same split, no bait)."""
    patients = [load_patient(p) for p in bundle_files(shared)]
    out: list[GoldQuestion] = []
    prefix = "synw" if wordings else "syn"

    def add(
        p: PatientRecord,
        category: str,
        item: str,
        refs: Sequence[str],
        facts: Sequence[Sequence[str]] = (),
    ) -> None:
        texts = WORDINGS[category][1:] if wordings else WORDINGS[category][:1]
        for text in texts:
            qid = f"{prefix}-{len(out) + 1:03d}"
            out.append(_record_question(qid, p, category, text.format(item=item), refs, facts))

    def bait(p: PatientRecord, other: PatientRecord) -> None:
        out.append(
            GoldQuestion(
                id=f"{prefix}-{len(out) + 1:03d}",
                split=split_of(p.patient_id),  # type: ignore[arg-type]
                category="cross_patient_bait",
                user_id=EVAL_USER,
                patient_id=p.patient_id,
                question=f"What was {other.given}'s most recent hemoglobin A1c?",
                expect="decline",
            )
        )

    for i, p in enumerate(patients):
        labs = {
            it: p.latest("Observation", "code", it.codes, "effectiveDateTime", "issued")
            for it in LAB_QUESTIONS
        }
        present = [it for it, r in labs.items() if r is not None]
        absent = [it for it, r in labs.items() if r is None]
        for it in _pick(present, PER_PATIENT_PRESENT, p.patient_id) + _pick(
            absent, PER_PATIENT_ABSENT, p.patient_id
        ):
            r = labs[it]
            add(p, "latest_lab", it.words, [_ref(r)] if r else [])
        for it in _pick(VACCINE_QUESTIONS, 2, p.patient_id):
            r = p.latest("Immunization", "vaccineCode", it.codes, "occurrenceDateTime")
            refs = p.documented(r)  # one fact: the dose, cited as itself or as the visit's note
            add(p, "immunization", it.words, refs, [refs] if refs else [])
        for it in _pick(PROCEDURE_QUESTIONS, 2, p.patient_id):
            r = p.latest("Procedure", "code", it.codes, "performedDateTime", "performedPeriod")
            refs = p.documented(r)
            add(p, "procedure", it.words, refs, [refs] if refs else [])
        meds = [_ref(r) for r in p.of("MedicationRequest") if _status(r) == "active"]
        add(p, "active_medications", "", meds)
        conditions = [_ref(r) for r in p.of("Condition") if _status(r) == "active"]
        add(p, "active_conditions", "", conditions)
        # Each active plan is one fact, cited as itself or as one of its activities
        # ("CarePlan/<id>#activity=<n>", from 1).
        plans = [
            [_ref(r), *(f"{_ref(r)}#activity={n}" for n in range(1, len(r.get("activity", [])) + 1))]
            for r in p.of("CarePlan")
            if _status(r) == "active"
        ]
        refs = [ref for plan in plans for ref in plan]
        add(p, "care_plan", "", refs, plans)
        # Cross-patient bait: another patient of the set, named; nothing of theirs may come back.
        other = patients[(i + 1) % len(patients)]
        if other.given and other.given != p.given and not wordings:
            bait(p, other)
    return out


def eval_users(facilities: Sequence[str]) -> list[dict[str, Any]]:
    """One physician who may see every patient of the set (the users-file schema)."""
    return [
        {
            "id": EVAL_USER,
            "name": "Evaluation Physician",
            "role": "physician",
            "facilities": sorted(facilities),
            "care_team_only": False,
            "sensitive_access": [],
        }
    ]


def import_eval_user(stores: Stores, facilities: Iterable[str]) -> None:
    """The set's evaluation physician, through the real users-file import (validated like any user)."""
    from carecite.access.users import import_users

    users_file = stores.settings.data_dir / "eval_users.json"
    users_file.write_text(json.dumps(eval_users(sorted(set(facilities))), indent=1), encoding="utf-8")
    import_users(stores.engine, users_file)


# The ``synthea-items`` set: items named as the patient's own record names them (a drug by the first
# ingredient word of its RxNorm display, a condition or procedure by its SNOMED CT display without the
# semantic tag), and absent ones: an item of the next patient whose words appear nowhere in this
# patient's bundle. Added in issue 9's ninth pass, after a dev probe found absent conditions answered
# with another condition; its test split was first run after the mend.
ITEM_QUESTIONS: dict[str, str] = {
    "item_medication": "When was {item} prescribed for the patient?",
    "item_condition": "When was the patient diagnosed with {item}?",
    "item_procedure": "When did the patient last have {item}?",
}
_DOSE_FORM_WORDS = frozenset(
    "oral tablet capsule injection solution extended release topical prefilled syringe inhaler metered "
    "actuat suspension chewable delayed disintegrating transdermal patch cream ointment".split()
)
_SEMANTIC_TAG = re.compile(
    r"\s*\((disorder|finding|procedure|situation|regime/therapy|observable entity)\)\s*$"
)


def _display(concept: Any) -> str:
    concept = concept or {}
    return next(
        (c["display"] for c in concept.get("coding", []) if c.get("display")), concept.get("text") or ""
    )


def _ingredient(display: str) -> str | None:
    words = re.findall(r"[A-Za-z][A-Za-z-]+", display)
    return next((w.lower() for w in words if len(w) >= 5 and w.lower() not in _DOSE_FORM_WORDS), None)


def _named_items(p: PatientRecord) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Category → item name → the patient's resources that are that item."""
    out: dict[str, dict[str, list[dict[str, Any]]]] = {c: {} for c in ITEM_QUESTIONS}
    for r in p.of("MedicationRequest"):
        if name := _ingredient(_display(r.get("medicationCodeableConcept"))):
            out["item_medication"].setdefault(name, []).append(r)
    for rtype, category in (("Condition", "item_condition"), ("Procedure", "item_procedure")):
        for r in p.of(rtype):
            if name := _SEMANTIC_TAG.sub("", _display(r.get("code"))).strip():
                out[category].setdefault(name, []).append(r)
    return out


def synthea_item_questions(shared: Path, *, per_kind: int = 2) -> list[GoldQuestion]:
    patients = [load_patient(p) for p in bundle_files(shared)]
    items = [_named_items(p) for p in patients]
    out: list[GoldQuestion] = []

    def add(p: PatientRecord, category: str, name: str, refs: Sequence[str]) -> None:
        # One fact ("when"), stated by any of the item's resources or notes.
        question = ITEM_QUESTIONS[category].format(item=name)
        out.append(
            _record_question(f"syni-{len(out) + 1:03d}", p, category, question, refs, [refs] if refs else [])
        )

    def spread(names: Iterable[str], salt: str) -> list[str]:
        return sorted(names, key=lambda n: hashlib.sha256(f"{salt}:{n}".encode()).hexdigest())

    for i, p in enumerate(patients):
        blob = json.dumps(p.resources).lower()
        for category in ITEM_QUESTIONS:
            for name in spread(items[i][category], p.patient_id)[:per_kind]:
                # The item's resources, each cited as itself or as the note of its visit.
                refs = list(dict.fromkeys(ref for r in items[i][category][name] for ref in p.documented(r)))
                add(p, category, name, refs)
            theirs = items[(i + 1) % len(patients)][category]
            absent = [
                n
                for n in spread(theirs, p.patient_id)
                if all(w.lower() not in blob for w in re.findall(r"[A-Za-z]{4,}", n))
            ]
            for name in absent[:1]:
                add(p, category, name, [])
    return out


def prepare_synthea(stores: Stores, shared: Path, *, progress: bool = True, limit: int | None = None) -> None:
    """Ingest the set's bundles (directory files first) and its evaluation user. Idempotent: a
    re-run converges to the same state and costs only the change check."""
    from sqlmodel import Session, select

    from carecite.ingest.fhir import ingest_fhir_paths
    from carecite.records import tables as t

    files = bundle_files(shared)[:limit] if limit else bundle_files(shared)
    ingest_fhir_paths(stores, [*directory_files(shared), *files], progress=progress)
    with Session(stores.engine) as session:
        facilities = {f for row in session.exec(select(t.Patient.facilities)) for f in row.split("|") if f}
    import_eval_user(stores, facilities)


# --------------------------------------------------------------------------- mtsamples
# Real transcribed reports (MTSamples), each wrapped as the DocumentReference of its own patient.
# A question is answered by one labelled section; the ground truth is that section's character range
# in the report, found by MTSamples' own markup ("ALLERGIES:," opens a section, the next header
# closes it). A citation is right when its span lies inside that range.
MTSAMPLES_CSV = Path("mtsamples") / "mtsamples.csv"
MTS_ORG = "Organization/mts-eval"
SECTION_QUESTIONS: dict[str, str] = {
    "ALLERGIES": "Does the patient have any allergies?",
    "DISCHARGE MEDICATIONS": "What medications was the patient discharged on?",
    "PLAN": "What is the plan?",
    "ASSESSMENT AND PLAN": "What is the plan?",
    "IMPRESSION": "What was the impression?",
    "FINDINGS": "What were the findings?",
    "INDICATIONS": "What was the indication for the procedure?",
    "INDICATION": "What was the indication for the procedure?",
    "INDICATIONS FOR PROCEDURE": "What was the indication for the procedure?",
    "FOLLOW-UP": "What follow-up was arranged?",
    "FOLLOWUP": "What follow-up was arranged?",
    "SOCIAL HISTORY": "What is the patient's social history?",
}
# Absent facts: the question, and the word whose absence from the whole report proves it unanswerable.
ABSENT_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("Does the patient have any allergies?", "allerg"),
    ("What medications was the patient discharged on?", "discharge"),
    ("What follow-up was arranged?", "follow"),
)
# The ``mtsamples-wordings`` set: every asked section of each report, in other everyday wordings of
# its canonical question (same ground truth; written before the set was first run, like WORDINGS).
_PLAN = (
    "What's the plan going forward?",
    "What is the treatment plan?",
    "What are the next steps for this patient?",
)
_INDICATIONS = (
    "Why was the procedure done?",
    "What was the reason for the procedure?",
    "What were the indications?",
)
_FOLLOW_UP = (
    "When should the patient follow up?",
    "What are the follow-up instructions?",
    "Is there a follow-up plan?",
)
SECTION_WORDINGS: dict[str, tuple[str, ...]] = {
    "ALLERGIES": (
        "Any known drug allergies?",
        "What is the patient allergic to?",
        "List the patient's allergies.",
    ),
    "DISCHARGE MEDICATIONS": (
        "What meds was the patient sent home on?",
        "List the discharge medications.",
        "What medications is the patient going home with?",
    ),
    "PLAN": _PLAN,
    "ASSESSMENT AND PLAN": _PLAN,
    "IMPRESSION": (
        "What was the doctor's impression?",
        "What is the clinical impression?",
        "What's the impression from this report?",
    ),
    "FINDINGS": ("What did the study find?", "What are the findings?", "What was found?"),
    "INDICATIONS": _INDICATIONS,
    "INDICATION": _INDICATIONS,
    "INDICATIONS FOR PROCEDURE": _INDICATIONS,
    "FOLLOW-UP": _FOLLOW_UP,
    "FOLLOWUP": _FOLLOW_UP,
    "SOCIAL HISTORY": (
        "What is the social history?",
        "Tell me about the patient's social history.",
        "What social history was documented?",
    ),
}
_MTS_HEADER = re.compile(r"(?:^|(?<=[,.\s]))([A-Z][A-Z0-9 /&()-]{1,60}?)\s*:\s*,")
MTS_NOTES = 150  # reports drawn (deterministically) for the set


@dataclass(frozen=True)
class Report:
    note_id: str
    specialty: str
    text: str

    @property
    def patient_id(self) -> str:
        return f"mts-{self.note_id}"

    @property
    def ref(self) -> str:
        return f"DocumentReference/mts-doc-{self.note_id}"

    def sections(self) -> dict[str, tuple[int, int]]:
        """Header → (start of the header, start of the next header): the first occurrence of each."""
        found = list(_MTS_HEADER.finditer(self.text))
        out: dict[str, tuple[int, int]] = {}
        for m, nxt in zip(found, [*found[1:], None], strict=False):
            name = " ".join(m.group(1).split())
            out.setdefault(name, (m.start(1), nxt.start(1) if nxt else len(self.text)))
        return out


def load_reports(shared: Path) -> list[Report]:
    import csv

    with (shared / MTSAMPLES_CSV).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    reports = [
        Report(str(r["note_id"]), (r.get("medical_specialty") or "").strip(), r["transcription"].strip())
        for r in rows
        if (r.get("transcription") or "").strip()
    ]
    return sorted(reports, key=lambda r: hashlib.sha256(f"mts:{r.note_id}".encode()).hexdigest())


def mtsamples_reports(shared: Path, n: int = MTS_NOTES) -> list[Report]:
    """The first ``n`` reports (in a stable hashed order) that carry a section we ask about."""
    return [r for r in load_reports(shared) if set(r.sections()) & set(SECTION_QUESTIONS)][:n]


def mtsamples_questions(shared: Path, n: int = MTS_NOTES, *, wordings: bool = False) -> list[GoldQuestion]:
    """One rotated section question per report, and absent questions; ``wordings``: every asked
    section of each report in its other wordings (``mtsamples-wordings``: no absent questions)."""
    if wordings:
        return _mtsamples_wordings(mtsamples_reports(shared, n))
    out: list[GoldQuestion] = []
    for i, report in enumerate(mtsamples_reports(shared, n)):
        sections = report.sections()
        asked = [name for name in SECTION_QUESTIONS if name in sections]
        name = asked[i % len(asked)]  # rotate, so every section kind is asked across the set
        start, end = sections[name]
        spans = ((report.ref, start, end),)
        out.append(_section_question(f"mts-{len(out) + 1:03d}", report, name, SECTION_QUESTIONS[name], spans))
        if i % 3 == 0:
            lowered = report.text.lower()
            for question, word in ABSENT_QUESTIONS:
                if word not in lowered:
                    out.append(
                        GoldQuestion(
                            id=f"mts-{len(out) + 1:03d}",
                            split=split_of(report.patient_id),  # type: ignore[arg-type]
                            category="section:absent",
                            user_id=EVAL_USER,
                            patient_id=report.patient_id,
                            question=question,
                            expect="decline",
                        )
                    )
                    break
    return out


def _mtsamples_wordings(reports: Sequence[Report]) -> list[GoldQuestion]:
    out: list[GoldQuestion] = []
    for report in reports:
        sections = report.sections()
        asked = [name for name in SECTION_QUESTIONS if name in sections]
        # Headers asked by one canonical question ("PLAN", "ASSESSMENT AND PLAN") are one question,
        # and a citation inside any of them is right.
        by_question: dict[str, list[str]] = {}
        for name in asked:
            by_question.setdefault(SECTION_QUESTIONS[name], []).append(name)
        for names in by_question.values():
            spans = tuple((report.ref, *sections[name]) for name in names)
            for text in SECTION_WORDINGS[names[0]]:
                out.append(_section_question(f"mtsw-{len(out) + 1:03d}", report, names[0], text, spans))
    return out


def _section_question(
    qid: str, report: Report, name: str, question: str, spans: tuple[tuple[str, int, int], ...]
) -> GoldQuestion:
    """A question answered by the report's section ``name``: right when a citation lies in ``spans``."""
    return GoldQuestion(
        id=qid,
        split=split_of(report.patient_id),  # type: ignore[arg-type]
        category=f"section:{name.lower()}",
        user_id=EVAL_USER,
        patient_id=report.patient_id,
        question=question,
        expect="answer",
        expected_refs=(report.ref,),
        expected_spans=spans,
    )


def mtsamples_bundle(report: Report) -> dict[str, Any]:
    """One transaction bundle: the report's patient and the report as a DocumentReference."""
    import base64

    patient = {
        "resourceType": "Patient",
        "id": report.patient_id,
        "name": [{"family": "Sample", "given": [f"Report{report.note_id}"]}],
        "managingOrganization": {"reference": MTS_ORG},
    }
    doc = {
        "resourceType": "DocumentReference",
        "id": report.ref.split("/", 1)[1],
        "status": "current",
        "type": {"text": report.specialty or "Clinical note"},
        "subject": {"reference": f"Patient/{report.patient_id}"},
        "date": "2020-01-01T00:00:00Z",
        "custodian": {"reference": MTS_ORG},
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain",
                    "data": base64.b64encode(report.text.encode()).decode(),
                }
            }
        ],
    }
    org = {"resourceType": "Organization", "id": MTS_ORG.split("/", 1)[1], "name": "MTSamples evaluation"}
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": f"{r['resourceType']}/{r['id']}",
                "resource": r,
                "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"},
            }
            for r in (org, patient, doc)
        ],
    }


def prepare_mtsamples(stores: Stores, shared: Path, *, progress: bool = True, n: int = MTS_NOTES) -> None:
    """Write the reports' bundles under the data dir (not the repo), ingest them and the eval user."""
    from carecite.ingest.fhir import ingest_fhir_paths

    folder = stores.settings.data_dir / "eval_data" / "mtsamples"
    folder.mkdir(parents=True, exist_ok=True)
    for report in mtsamples_reports(shared, n):
        path = folder / f"{report.note_id}.json"
        payload = json.dumps(mtsamples_bundle(report))
        if not path.exists() or path.read_text(encoding="utf-8") != payload:
            path.write_text(payload, encoding="utf-8")
    ingest_fhir_paths(stores, [folder], progress=progress)
    import_eval_user(stores, [MTS_ORG])
