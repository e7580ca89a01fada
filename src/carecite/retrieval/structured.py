"""Structured retrieval: the patient's SQL records rendered as short citable statements.

Questions about "outstanding", "overdue", "pending", "most recent", "upcoming" must find the right
rows by status and date, not by luck of similarity, so this retriever reads the question's intent
(which record kinds, which temporal modifier) and applies it as SQL conditions and ordering. The
security part of the filter (patient, labels) is applied inside every SQL query.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cache, cached_property, lru_cache
from typing import Any

from sqlalchemy import Engine, and_, not_
from sqlmodel import Session, col, select

from carecite.domain import Candidate, RetrievalFilter, date_int
from carecite.records import tables as t
from carecite.records.scoped import RowScope, scoped_session
from carecite.text import drug_names
from carecite.text.dates import display_date, display_datetime
from carecite.text.drug_classes import BY_TOKEN as DRUG_CLASSES
from carecite.text.drug_classes import members as drug_class_members
from carecite.text.drug_classes import read_classes
from carecite.text.sections import section_vocabulary_words
from carecite.text.spelling import Speller
from carecite.text.terms import NEGATIONS, STOP_WORDS, singular

TOKEN = re.compile(r"[a-z0-9]+")
# A negation is content here as in verification: "not started" asks for the activities not started.
_NOT_CONTENT = STOP_WORDS - NEGATIONS
# Clinical shorthand a coordinator types → words the records use.
SYNONYMS: dict[str, tuple[str, ...]] = {
    # The published abbreviations of the emergency department (an encounter's class: emergency).
    "er": ("er", "emergency"),
    "ed": ("ed", "emergency"),
    "a1c": ("a1c", "hba1c", "glycated hemoglobin"),
    "hba1c": ("hba1c", "a1c", "glycated hemoglobin"),
    "ldl": ("ldl", "low density lipoprotein"),
    "hdl": ("hdl", "high density lipoprotein"),
    "cleaning": ("cleaning", "plaque", "prophylaxis"),
    "sugar": ("glucose",),
    "kidney": ("creatinine", "egfr"),
    "renal": ("creatinine", "egfr"),
    "egfr": ("egfr", "glomerular"),
    "gfr": ("gfr", "glomerular"),
    "tsh": ("tsh", "thyrotropin"),
    "bmi": ("bmi", "body mass index"),
    "bp": ("bp", "blood pressure"),
    "platelet": ("platelet", "platelets"),
    "platelets": ("platelet", "platelets"),
    "bnp": ("natriuretic", "bnp"),
    "inr": ("inr", "coagulation"),
    "meds": ("medication",),
    "pt": ("physical", "therapy"),
    "cardiology": ("cardiology", "cardiologist", "cardiac", "heart"),
    "heart": ("heart", "cardiac", "cardiology", "myocardial", "coronary"),
    # Lay names of conditions, as SNOMED CT displays word them ("heart attack": myocardial infarction).
    "attack": ("attack", "infarction"),
    "cancer": ("cancer", "malignant", "neoplasm", "carcinoma"),
    "stroke": ("stroke", "cerebrovascular"),
    "afib": ("afib", "atrial fibrillation"),
    "copd": ("copd", "chronic obstructive pulmonary disease", "chronic obstructive lung disease"),
    "behavioral": ("behavioral", "psychiatry", "psychiatric", "mental"),
    "diabetes": ("diabetes", "diabetic", "glucose", "a1c"),
    # Vaccines and screenings by the words coordinators use and the words CVX / SNOMED CT displays use.
    "flu": ("flu", "influenza"),
    "influenza": ("influenza", "flu"),
    "shingles": ("shingles", "zoster"),
    "zoster": ("zoster", "shingles"),
    "tetanus": ("tetanus", "td", "tdap"),
    "pneumococcal": ("pneumococcal", "pneumonia", "pcv13", "ppsv23"),
    "covid": ("covid", "sars"),
    "hep": ("hep", "hepatitis"),
    # "Hep B" / "hepatitis B" are one token ("hepb", see _HEP): a known name even where no one has it.
    "hepa": ("hepa",),
    "hepb": ("hepb",),
    "hepc": ("hepc",),
    "hepatitis": ("hepatitis", "hep"),
    "mammogram": ("mammogram", "mammography"),
    "spo2": ("spo2", "oxygen saturation", "pulse oximetry"),
    # Imaging by its abbreviations in the published medical abbreviation lists (MRI, CT) and the
    # words SNOMED CT procedure displays write them with.
    "mri": ("mri", "magnetic resonance"),
    "ct": ("ct", "computed tomography"),
    # A habit by the words a question says it with and the words LOINC 72166-2 ("Tobacco smoking
    # status") displays it with: "does he smoke" names the smoking-status observation.
    **dict.fromkeys(("smoke", "smokes", "smoker", "smoking", "tobacco"), ("smoking", "tobacco")),
}
# Terms that name a procedure (imaging): the question asks for a Procedure row.
PROCEDURE_TERMS = frozenset({"mri", "ct"})

OPEN_TASK = ("requested", "received", "accepted", "ready", "in-progress", "on-hold", "draft")
DONE_TASK = ("completed", "cancelled", "rejected", "failed", "entered-in-error")
# FHIR RequestStatus codes of work not finished: a referral (ServiceRequest) still open, a CarePlan in force.
OPEN_REQUEST = ("active", "on-hold", "draft")
OPEN_REFERRAL = OPEN_REQUEST
OPEN_ACTIVITY = ("in-progress", "scheduled", "not-started", "on-hold")
UPCOMING_APPT = ("booked", "pending", "proposed", "arrived", "checked-in", "waitlist")


# Record kinds whose rows are about one named thing (a lab, a drug, a vaccine, a procedure): when the
# question names it, a row that does not mention it earns nothing ("pneumococcal vaccine" is never
# answered with the flu shot).
NAMED_KINDS = frozenset({"Observation", "MedicationRequest", "Immunization", "Procedure"})


@dataclass(frozen=True)
class Intent:
    """What the question asks for: which record kinds, and which temporal/status modifiers."""

    kinds: frozenset[str]
    outstanding: bool = False
    overdue: bool = False
    upcoming: bool = False
    missed: bool = False
    recent: bool = False
    in_progress: bool = False  # "actively working on", "in progress": FHIR status in-progress / active
    past: bool = False  # "previous", "old", "prior": history is asked for, not only what is current
    attended: bool = False  # "did she show up", "make it to": a past visit, kept or missed
    terms: frozenset[str] = field(default_factory=frozenset)
    naming: tuple[Group, ...] = ()  # which item is named (``naming_groups``)
    # The naming groups of terms a terminology knows (a drug, a lab or vital, a vaccine, a procedure:
    # ``is_term``): a row names the item when it names one of them; context words ("doing") only rank.
    required: tuple[Group, ...] = ()
    # The kinds whose rows must name what the question names: NAMED_KINDS, and conditions or allergies
    # when the question frames an item ("diagnosed with X", "allergic to X"; see ``read_intent``).
    named_kinds: frozenset[str] = NAMED_KINDS
    notes: bool = False  # the question names a note ("the telephone note", "her notes")
    person: bool = False  # the question asks who ("who is", "whose"): only then are care teams read
    pcp: bool = False  # the question asks for the primary care provider (Patient.generalPractitioner)
    # The encounter classes the question asks for (HL7 v3 ActEncounterCode: "ER visits" → EMER,
    # "admitted" → the inpatient classes): only encounters of those classes answer it.
    encounter_class: frozenset[str] = frozenset()


# Named labs and measures: they say WHICH observation is asked for (see GENERIC_TERMS).
LAB_NAMES: tuple[str, ...] = tuple(
    "a1c hba1c bnp creatinine potassium ldl inr glucose cholesterol egfr sodium hemoglobin weight bmi pressure spo2".split()
)
# What a question says of each record kind: the nouns that name the kind ("medication", "vaccine"),
# then the words that say what was done or how it stands ("prescribed", "overdue"). Both route a
# question to the kind; only a noun names it inside an item's own name ("Medication Reconciliation").
_KIND_VOCABULARY: dict[str, tuple[str, str]] = {
    "Task": (
        "follow followup task tasks todo action actions outreach",
        "outstanding overdue pending open due call",
    ),
    "ServiceRequest": (
        "referral referrals consult consultation order orders",
        "referred refer ordered pending outstanding",
    ),
    "Appointment": (
        "appointment appointments visit visits schedule",
        "scheduled booked upcoming next missed noshow show cancelled canceled seen attend attended",
    ),
    "Observation": ("lab labs result results value level levels test reading vitals", "measured"),
    "MedicationRequest": (
        # "medicine(s)": MedlinePlus's own topic name for them ("Medicines"), the lay word.
        "medication medications medicine medicines meds drug drugs dose dosage prescription mg tablet",
        "taking prescribed stopped started",
    ),
    "CarePlanActivity": ("careplan activities activity goals goal", ""),
    "Condition": ("condition conditions problem problems diagnosis diagnoses history", "diagnosed"),
    "AllergyIntolerance": ("allergy allergies allergic intolerance", ""),
    # "flu" names WHICH immunization (see GENERIC_TERMS), as a lab's name names which observation.
    "Immunization": ("immunization immunizations vaccine vaccines vaccination shot", "vaccinated flu"),
    "Procedure": ("procedure procedures surgery operation screening", "performed"),
    "Encounter": (
        "admission admissions encounter encounters hospitalization ed er emergency inpatient",
        "admitted hospitalized discharged",
    ),
    # The people on the patient's care teams, by the nouns a question names a person's role with
    # (issue 27: "who is his heart doctor / care coordinator / therapist" had declined). A role's
    # specialty is read through SPECIALTIES, so "heart doctor" finds the team's cardiology member.
    "CareTeam": (
        "doctor doctors physician physicians provider providers pcp team teams careteam coordinator "
        "coordinators nurse nurses therapist therapists counselor counselors counsellor specialist "
        "specialists clinician clinicians caregiver",
        "",
    ),
}
KIND_WORDS: dict[str, tuple[str, ...]] = {
    kind: (*nouns.split(), *others.split(), *(LAB_NAMES if kind == "Observation" else ()))
    for kind, (nouns, others) in _KIND_VOCABULARY.items()
}
# Words that name a kind of record and nothing more specific ("medication", "vaccine", "procedure").
KIND_NOUNS = frozenset(w for nouns, _ in _KIND_VOCABULARY.values() for w in nouns.split())


# Kind words that say how (status, time), not what: "outstanding" alone means tasks or referrals, but
# "follow-up tasks still outstanding" asks for tasks only — a kind the question names by noun wins.
MODIFIER_WORDS = frozenset(
    "outstanding overdue pending open due scheduled booked upcoming next missed noshow cancelled canceled "
    "stopped started taking".split()
)
# Kinds whose rows say what is true now ("current medications", "active problems"), as named in a
# decline when none is.
CURRENT_KINDS: dict[str, str] = {
    "MedicationRequest": "current medication",
    "CarePlanActivity": "current care plan",
    "Condition": "active condition",
}
# Open work with no kind named ("What do we still need to get done?"): the patient's to-dos.
OPEN_WORK_KINDS = frozenset({"Task"})
# Kinds of care-coordination work, whose rows name the specialty they are with ("Post-discharge
# cardiology follow-up", "Referral to psychiatry service").
WORK_KINDS = frozenset({"Task", "ServiceRequest", "Appointment"})
# Each work kind as a decline names it ("No nephrology appointment is on record").
WORK_NOUNS: dict[str, str] = {"Appointment": "appointment", "Task": "follow-up", "ServiceRequest": "referral"}
# Clinical specialties by their names (what a question says: "nephrology appointment", "ortho f/u")
# and the further words a row may name them with ("renal clinic", "Psychotherapy session"). Curated
# from the specialty names of the ABMS boards and the NUCC taxonomy.
SPECIALTIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "cardiology": (("cardiology", "cardiologist"), ("cardiac", "heart")),
    "nephrology": (("nephrology", "nephrologist"), ("renal", "kidney", "dialysis")),
    "pulmonology": (("pulmonology", "pulmonologist"), ("pulmonary", "lung", "respiratory")),
    "orthopedics": (("orthopedics", "orthopaedics", "orthopedist", "ortho"), ("orthopedic", "orthopaedic")),
    "endocrinology": (("endocrinology", "endocrinologist"), ("endocrine", "diabetes", "thyroid")),
    "gastroenterology": (("gastroenterology", "gastroenterologist"), ("gi", "gastrointestinal")),
    "neurology": (("neurology", "neurologist"), ("neuro", "neurological")),
    "oncology": (("oncology", "oncologist"), ("cancer", "chemotherapy", "tumor")),
    "hematology": (("hematology", "hematologist"), ("blood",)),
    "dermatology": (("dermatology", "dermatologist"), ("skin",)),
    "rheumatology": (("rheumatology", "rheumatologist"), ("arthritis",)),
    "urology": (("urology", "urologist"), ("urologic", "prostate", "bladder")),
    "ophthalmology": (("ophthalmology", "ophthalmologist", "optometry"), ("eye", "retinal", "vision")),
    "otolaryngology": (("otolaryngology", "ent"), ("ear", "throat", "audiology")),
    "podiatry": (("podiatry", "podiatrist"), ("foot",)),
    "psychiatry": (
        ("psychiatry", "psychiatrist", "psychology", "psychologist"),
        ("behavioral", "psychiatric", "mental", "psychotherapy", "counseling", "substance"),
    ),
}

# The words of the FHIR R4 status codes of the kinds read here (RequestStatus, TaskStatus, EventStatus,
# AppointmentStatus, CarePlanActivityStatus, condition clinical status): "in progress", "completed",
# "on hold" say how a record stands, never which one it is.
FHIR_STATUS_WORDS = frozenset(
    "draft active hold revoked completed entered error unknown requested received accepted "
    "rejected ready cancelled canceled progress failed preparation done stopped proposed pending booked "
    "arrived fulfilled noshow checked waitlist recurrence relapse inactive remission resolved started "
    "scheduled".split()
)
# "the latest", "currently": the most recent row of an item, or what is current.
RECENT_WORDS = frozenset({"recent", "recently", "latest", "last", "newest", "current", "currently", "now"})
# "previous", "old": history is asked for, not only what is in force.
PAST_WORDS = frozenset({"past", "previous", "prior", "old", "former", "earlier", "history", "historical"})
# Words that say what KIND of record is asked for, or how (status, time) — not WHICH one.
GENERIC_TERMS = frozenset(
    {w for words in KIND_WORDS.values() for w in words}
    | FHIR_STATUS_WORDS
    | RECENT_WORDS
    | PAST_WORDS
    | set(
        "most new value values file chart record today dose doses scheduled "
        "date when many much units result results ratio total shot shots get got given receive received "
        # Words that qualify a kind without naming an item: "active medical problems", "health issues".
        "medical health clinical issue issues".split()
    )
) - {*LAB_NAMES, "flu"}  # "flu" names WHICH immunization


def is_generic(word: str) -> bool:
    """A generic term in either number ("prescriptions" as "prescription")."""
    return word in GENERIC_TERMS or singular(word) in GENERIC_TERMS


# Conditions and allergies are named only inside an item frame: "When was she diagnosed with essential
# hypertension?" names one (a patient without it must not be answered with her first problem), while
# "any food allergies?", "heart problems", "cancer history" name a category the displays do not spell.
_ITEM_FRAMES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Condition", re.compile(r"\b(diagnosed with|diagnosis of)\b", re.I)),
    ("AllergyIntolerance", re.compile(r"\b(allergic to|allergy to|allergies to)\b", re.I)),
)


def kind_resource_type(kind: str) -> str:
    """The FHIR resource type a record kind is read from (activities belong to their CarePlan)."""
    return "CarePlan" if kind == "CarePlanActivity" else kind


# Where a coverage question's patient clause may start: "for / with / given ..." ("... for this
# patient's heart failure?", "... for the AFib?").
_FOR_CLAUSE = re.compile(r"\b(?:for|with|given)\s+", re.I)

# "plan of care" is the care plan; "right now" is now (not laterality: "right knee" stays right).
# "type 2 diabetes management plan" names a care plan as SNOMED CT titles them ("Diabetes self
# management plan").
_PLAN_OF_CARE = re.compile(r"\bplans?[\s-]+of[\s-]+care\b|\bmanagement[\s-]+plans?\b")
_RIGHT_NOW = re.compile(r"\bright[\s-]+now\b")
# "the telephone encounter note", "her last visit note": a note, named by its encounter; the words do
# not ask for the encounter or visit rows themselves.
_ENCOUNTER_NOTE = re.compile(r"\b(?:encounter|visit)\s+(notes?)\b")
# "these days", "nowadays": what is current ("How much furosemide is he taking these days?"), never an
# item named "days".
_NOWADAYS = re.compile(r"\b(?:these days|nowadays|at the moment|at present)\b")
_BLOOD_GLUCOSE = re.compile(r"\bblood[\s-]+(?:glucose|sugar)\b")
# The primary care provider, as the question may name the role (FHIR Patient.generalPractitioner).
_PCP = re.compile(
    r"\b(?:pcp|gp|general practitioner|(?:primary|family)(?:[\s-]+care)?[\s-]+"
    r"(?:doctor|docter|physician|provider|clinician|practitioner)s?)\b"
)
# "Hep B" / "hepatitis B" vaccines differ only by a letter the tokeniser would drop: one token each.
_HEP = re.compile(r"\bhep(?:atitis)?[\s-]*([abc])\b")


def tokens(text: str) -> list[str]:
    # Two-word names are one token: "care plan" is a CarePlan, "care coordination tasks" are tasks.
    lowered = re.sub(
        r"\bcare[\s-]+plans?\b",
        "careplan",
        read_classes(text.lower()).replace("follow-up", "followup").replace("no-show", "noshow"),
    )
    lowered = _PLAN_OF_CARE.sub("careplan", _NOWADAYS.sub("now", _RIGHT_NOW.sub("now", lowered)))
    lowered = _BLOOD_GLUCOSE.sub("glucose", lowered)  # blood is the default specimen
    lowered = _ENCOUNTER_NOTE.sub(r"\1", lowered)
    return TOKEN.findall(_HEP.sub(r"hep\1", lowered))


@cache
def _kind_terms(kind: str) -> frozenset[str]:
    """The words a question asks for ``kind`` with, as ``record_terms`` reads them: not the lab names
    (they name WHICH observation) nor the words that say how a row stands (MODIFIER_WORDS)."""
    nouns, others = _KIND_VOCABULARY.get(kind, ("", ""))
    return record_terms(f"{nouns} {others}") - MODIFIER_WORDS


def _modified(intent: Intent) -> bool:
    """Does the question say how the rows must stand, or when (a status or time modifier)?"""
    return any(
        (intent.outstanding, intent.overdue, intent.upcoming, intent.missed, intent.recent,
         intent.in_progress, intent.past, intent.attended)
    )  # fmt: skip


def record_terms(text: str) -> frozenset[str]:
    """The words of a question or a record statement with their curated synonyms ("A1c" is also
    "HbA1c"), for the lexical part of a record's score."""
    out: set[str] = set()
    for tok in tokens(text):
        if tok in _NOT_CONTENT or len(tok) < 2:
            continue
        out.add(tok)
        out.update(SYNONYMS.get(tok, ()))
    return frozenset(out)


# One group per word the question names the item with: its alternatives, each a phrase (a set of words
# that must all appear). "BMI" is {bmi} or {body, mass, index}; never "body" alone.
Group = tuple[frozenset[str], ...]
# Specimens other than blood a lab name may state: a row naming one is another quantity ("Glucose
# [Mass/volume] in Urine" is not "glucose"), and a question naming one names it even where no row of
# the store does. Blood is the default specimen: "blood glucose" is glucose (see ``tokens``).
SPECIMENS = frozenset({"urine", "csf", "stool", "saliva", "sputum"})
# Words that make a different quantity of the same analyte: "cholesterol" is not "LDL cholesterol",
# "hemoglobin" not "hemoglobin A1c", "BMI" not "BMI percentile". A row naming one of these answers
# only a question that names it too. Curated from LOINC display conventions.
QUALIFIERS: tuple[frozenset[str], ...] = tuple(
    frozenset(p.split())
    for p in (
        "ldl",
        "low density lipoprotein",
        "hdl",
        "high density lipoprotein",
        "vldl",
        "a1c",
        "percentile",
        "mean",
        *sorted(SPECIMENS),
    )
)


def naming_groups(question: str, vocabulary: frozenset[str] | None = None) -> tuple[Group, ...]:
    """The words that say WHICH item a question names, each with its curated synonyms.

    "most recent hemoglobin A1c" → ({hemoglobin}, {a1c} | {hba1c} | {glycated, hemoglobin}). A row
    names the same item only when every group has an alternative in the row ("hemoglobin" alone is
    not "hemoglobin A1c"). Placeholders of scrubbed identifiers ("[PATIENT]") are stop words.
    ``vocabulary``: the words that name things in this record store (coded displays); a question
    word outside it and outside the curated tables ("checked", "parts") names nothing.
    """
    return tuple(g for _, g in _naming(question, vocabulary))


def term_groups(question: str, vocabulary: frozenset[str] | None = None) -> tuple[Group, ...]:
    """The naming groups of the words a terminology knows (``is_term``)."""
    return tuple(g for tok, g in _naming(question, vocabulary) if is_term(tok))


def _synonyms(tok: str) -> tuple[str, ...]:
    """A word's curated synonyms ("kidneys" as "kidney"), with those of a synonym that has its own
    ("kidney": eGFR, which LOINC displays write "glomerular filtration")."""
    said = SYNONYMS.get(tok) or SYNONYMS.get(singular(tok), ())
    return tuple(dict.fromkeys((*said, *(w for syn in said for w in SYNONYMS.get(syn, ())))))


def _naming(question: str, vocabulary: frozenset[str] | None) -> list[tuple[str, Group]]:
    groups: dict[str, Group] = {}
    for tok in tokens(question):
        if tok in _NOT_CONTENT or len(tok) < 2 or is_generic(tok) or tok in groups:
            continue
        if vocabulary is not None and not _known(tok, vocabulary):
            continue
        alts = [frozenset({singular(tok)})]
        alts += [frozenset(singular(w) for w in syn.split()) for syn in _synonyms(tok)]
        alts += [frozenset({singular(m)}) for m in drug_class_members(tok)]  # a class: any member
        # A brand or synonym by its generic name, as RxNorm displays write it ("lovenox": enoxaparin).
        alts += [frozenset(singular(w) for w in g.split()) for g in drug_names.generic_names(tok)]
        groups[tok] = tuple(dict.fromkeys(alts))
    return list(groups.items())


def is_term(tok: str) -> bool:
    """Does a terminology name an item by this word: a lab or vital (LAB_NAMES, the curated
    abbreviations), a specimen, a drug class, a drug by the drug lexicon, an imaging procedure? A word
    known only from the store's displays ("function", "doing") is context: it ranks, never required."""
    return (
        tok in SYNONYMS
        or singular(tok) in SYNONYMS
        or tok in LAB_NAMES
        or tok in SPECIMENS
        or tok in DRUG_CLASSES
        or drug_names.is_drug(tok)
    )


def _known(tok: str, vocabulary: frozenset[str]) -> bool:
    return is_term(tok) or singular(tok) in vocabulary


def names_item(groups: Sequence[Group], text: str, *, qualified: bool = False) -> bool:
    """Does ``text`` name the item? ``qualified``: also refuse a text that names a qualifier (LDL,
    A1c, percentile) the question did not ask for (for coded observation names)."""
    words = {singular(w) for w in tokens(text)}
    if not groups or not all(any(alt <= words for alt in g) for g in groups):
        return False
    if qualified:
        asked = set().union(*(alt for g in groups for alt in g))
        return not any(q <= words and not q <= asked for q in QUALIFIERS)
    return True


def naming_count(
    groups: Sequence[Group], required: Sequence[Group], text: str, *, qualified: bool = False
) -> int:
    """How many of the question's naming groups ``text`` names when it names the item, else 0.

    With terms a terminology knows (``required``), the text names the item when it names one of them
    and every qualifier asked ("LDL", "A1c", a specimen); context words ("kidneys doing") only add to
    the count the best-named rows are chosen by. Without such terms every group must be named.
    ``qualified``: also refuse a text naming a qualifier the question did not ask for."""
    words = {singular(w) for w in tokens(text)}
    named = [g for g in groups if any(alt <= words for alt in g)]
    if not named:
        return 0
    if required:
        asked_qualifiers = [g for g in required if any(alt in QUALIFIERS for alt in g)]
        ok = any(g in named for g in required) and all(g in named for g in asked_qualifiers)
    else:
        ok = len(named) == len(groups)
    if not ok:
        return 0
    if qualified:
        asked = set().union(*(alt for g in groups for alt in g))
        if any(q <= words and not q <= asked for q in QUALIFIERS):
            return 0
    return len(named)


def names_asked(intent: Intent, s: Statement) -> bool:
    """Does the row's coded name name what the question names (qualifiers checked for labs)?"""
    return bool(intent.naming) and _named_count(intent, s.name, s.kind) > 0


def _named_count(intent: Intent, name: str, kind: str) -> int:
    if kind == "Observation":  # a lab is named by its quantity, never by its method
        return naming_count(intent.naming, intent.required, loinc_quantity(name), qualified=True)
    if kind == "MedicationRequest":  # a brand display ("Camila 28 Day Pack") by its generic names too
        name = " ".join((name, *(g for w in tokens(name) for g in drug_names.generic_names(w))))
    return naming_count(intent.naming, intent.required, name)


# LOINC displays read "Component [Property] in System by Method": the method ("by Creatinine-based
# formula (MDRD)") says how, never what is measured (an eGFR is no creatinine result), and the component
# alone says which quantity ("Hemoglobin", not "Hemoglobin A1c/Hemoglobin.total").
_LOINC_METHOD = re.compile(r"\s+by\s+.*$", re.I)
_LOINC_COMPONENT_END = re.compile(r"\s+\[|\s+in\s+", re.I)


def loinc_quantity(display: str) -> str:
    """A LOINC display without its method part."""
    return _LOINC_METHOD.sub("", display)


def loinc_component(display: str) -> str:
    """A LOINC display's component: the part before its property ("[Mass/volume]") or system."""
    return _LOINC_COMPONENT_END.split(loinc_quantity(display), maxsplit=1)[0]


# "Which referrals haven't been completed yet?": a negated status asks for the work still open, and
# its status word must not draw the rows that have it.
_NOT_DONE = re.compile(
    r"(?:\bnot|n['’]t|\bnever)\s+(?:yet\s+)?(?:been\s+)?(?:yet\s+)?"
    r"(completed?|done|finished|closed|resolved|fulfilled)\b"
)
# "When is he supposed to see cardiology?": a visit still to come ("was supposed to see" is past).
_TO_SEE = re.compile(r"(?<!\bwas )(?<!\bwere )\b(?:supposed|going|scheduled|due|set|booked)\s+to\s+see\b")


# HL7 v3 ActEncounterCode: each class's display words, said in the statement ("class: emergency"),
# and the words a question asks for a class with ("ER", "ED": the published abbreviations).
ENCOUNTER_CLASSES: dict[str, str] = {
    "EMER": "emergency",
    "IMP": "inpatient",
    "ACUTE": "inpatient acute",
    "NONAC": "inpatient non-acute",
    "OBSENC": "observation",
    "SS": "short stay",
    "AMB": "ambulatory",
    "HH": "home health",
    "VR": "virtual",
    "PRENC": "pre-admission",
    "FLD": "field",
}
_INPATIENT = ("IMP", "ACUTE", "NONAC")
_ASKED_CLASSES: tuple[tuple[frozenset[str], tuple[str, ...]], ...] = (
    (frozenset({"er", "ed", "emergency"}), ("EMER",)),
    (
        frozenset({"inpatient", "admitted", "admission", "admissions", "hospitalized", "hospitalization"}),
        _INPATIENT,
    ),
    # VR's definition in ActEncounterCode: "telephone conference, email exchange, ... televideo
    # conference" — the encounter a phone call is.
    (frozenset({"phone", "telephone", "telehealth", "video", "virtual"}), ("VR",)),
)
# A visit that happened is an Encounter; an Appointment is what was booked (FHIR R4). "When was she
# last seen", "his last visit" read the encounters too, newest first.
_VISIT_WORDS = frozenset({"visit", "visits", "seen", "contact", "call"})
# What a decline says of a class the record lacks, and the words a note sentence names it with.
_CLASS_MISSING: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("EMER", "emergency visit", ("emergency", "er", "ed")),
    ("IMP", "inpatient admission", ("admitted", "admission", "inpatient", "hospitalized")),
)


def read_intent(question: str, vocabulary: frozenset[str] | None = None) -> Intent:
    # A kind word counts in either number ("prescriptions" as "prescription").
    said = tokens(question)
    toks = set(said) | {singular(t) for t in said}
    q = question.lower()
    not_done = {m.group(1) for m in _NOT_DONE.finditer(q)}
    to_see = bool(_TO_SEE.search(q))
    by_noun = {kind for kind, words in KIND_WORDS.items() if (toks - MODIFIER_WORDS) & set(words)}
    kinds = by_noun or {kind for kind, words in KIND_WORDS.items() if toks & set(words)}
    outstanding = (
        bool(toks & {"outstanding", "pending", "open", "unresolved", "incomplete", "remaining"})
        or "not yet" in q
        or "still need" in q
        or bool(re.search(r"\b(left to do|to-?dos?)\b", q))
        or bool(not_done)
    )
    attended = bool(toks & {"attend", "attended"}) or bool(
        re.search(
            r"\b(show(ed)? up|make it to|made it to|(make|made|keep|kept) (her|his|their)\b.{0,30}\bappointments?)\b",
            q,
        )
    )
    if attended or to_see:
        kinds.add("Appointment")
    # ... unless a note is what is named ("the telephone encounter note"): then the class names the note.
    asked_classes = frozenset(
        c for words, codes in _ASKED_CLASSES if toks & words and not toks & {"note", "notes"} for c in codes
    )
    if asked_classes:  # an ER visit or an admission is an encounter, never a booked appointment
        kinds = (kinds - {"Appointment"}) | {"Encounter"}
    upcoming = bool(toks & {"upcoming", "next", "scheduled", "future", "coming"}) or to_see
    if toks & _VISIT_WORDS and toks & RECENT_WORDS and not upcoming:
        kinds.add("Encounter")
    if toks & DRUG_CLASSES.keys():  # "a blood thinner", "water pills": a medication, named by its class
        kinds.add("MedicationRequest")
    required = term_groups(question, vocabulary)
    named_terms = {tok for tok, _ in _naming(question, vocabulary) if is_term(tok)}
    # "lovenox", "insulin": a medication, unless the drug is what the patient is allergic to.
    if "AllergyIntolerance" not in kinds and any(drug_names.is_drug(tok) for tok in named_terms):
        kinds.add("MedicationRequest")
    if named_terms & PROCEDURE_TERMS:  # "the MRI of the knee": an imaging procedure
        kinds.add("Procedure")
    if not kinds and any(alt & set(LAB_NAMES) for g in required for alt in g):  # "latest bp"
        kinds.add("Observation")
    if not kinds and outstanding:
        kinds = set(OPEN_WORK_KINDS)
    return Intent(
        kinds=frozenset(kinds),
        outstanding=outstanding,
        overdue=bool(toks & {"overdue", "late", "lapsed"}) or "past due" in q,
        upcoming=upcoming,
        missed=bool(toks & {"missed", "miss", "noshow", "skipped"}) or "no show" in q or "didn't show" in q,
        recent=bool(toks & RECENT_WORDS)
        or "problem list" in q,  # the problem list is the patient's current problems
        in_progress=bool(toks & {"active", "actively"})
        or bool(re.search(r"\b(in progress|in process|under ?way|working on)\b", q)),
        attended=attended,
        past=bool(toks & PAST_WORDS),
        terms=record_terms(question) - not_done,
        naming=naming_groups(question, vocabulary),
        required=required,
        named_kinds=NAMED_KINDS | {kind for kind, frame in _ITEM_FRAMES if frame.search(question)},
        notes=bool(toks & {"note", "notes"}),
        person=bool(toks & {"who", "whos", "whose", "whom"}),
        pcp=bool(_PCP.search(q)),
        encounter_class=asked_classes,
    )


@dataclass(frozen=True)
class Statement:
    ref: str
    kind: str
    text: str
    when: datetime | None
    facility: str | None
    labels: tuple[str, ...]
    prior: float  # how strongly the row matches the intent's status/date modifiers
    name: str = ""  # what the row is about, as coded: the display (and drug name) as ingested
    brief: str = ""  # the same facts as one readable sentence, in the statement's own words and dates

    @classmethod
    def of(
        cls, row: Any, kind: str, text: str, when: datetime | None, prior: float, brief: str = ""
    ) -> Statement:
        """A statement about ``row``: its ref, facility, labels and name come from the row itself. The
        name includes the row's reason, where it has one: an order or a visit is also about what it
        is for ("anything for depression" names the sertraline prescribed for major depression)."""
        name = " ".join(
            str(v)
            for v in dict.fromkeys(getattr(row, f, None) for f in ("display", "medication", "code", "reason"))
            if v
        )
        labels = t.labels_from_str(row.security_labels)
        return cls(row.ref, kind, text, when, row.facility, labels, prior, name, brief or text)


def _d(value: datetime | date | None) -> str:
    return display_date(value)  # the product's one date format (text/dates.py)


def _dt(value: datetime | None) -> str:
    return display_datetime(value)


@lru_cache(maxsize=1024)
def _label_conditions(model: Any, disallowed: tuple[str, ...]) -> tuple[Any, ...]:
    """One condition per label the filter disallows. Built once per table and label set (SQL
    expressions are immutable): every request read up to seven tables with nine conditions each."""
    return tuple(not_(col(model.security_labels).contains(f"|{label}|")) for label in disallowed)


@dataclass(frozen=True)
class Lookup:
    """What the record says for one question: the ranked records and the named item it lacks."""

    candidates: list[Candidate]
    missing: tuple[str, tuple[Group, ...]] | None = None


# A coverage question's condition is read as "is it active" (the active one ranks first).
_ACTIVE = Intent(kinds=frozenset({"Condition"}), in_progress=True)


class StructuredRetriever:
    """Reads the patient's structured record under the filter and renders citable statements."""

    def __init__(self, engine: Engine, today: date) -> None:
        self.engine = engine
        self.today = today

    @cached_property
    def vocabulary(self) -> frozenset[str]:
        """Singular forms of every word of the store's coded displays (read once per retriever)."""
        from carecite.records.vocabulary import display_words

        return frozenset(singular(w) for w in display_words(self.engine))

    @cached_property
    def speller(self) -> Speller:
        """Typing slips corrected toward the store's displays and the words every kind is asked by."""
        kind_words = {w for words in KIND_WORDS.values() for w in words}
        specialty_words = {w for names, words in SPECIALTIES.values() for w in (*names, *words)}
        # ... and the words section headers are written with ("xrays" is no slip for "rays").
        sections = section_vocabulary_words()
        words = frozenset(self.vocabulary | kind_words | specialty_words | sections | STOP_WORDS)
        return Speller(words, drugs=drug_names.variant_words())

    def lookup(self, question: str, flt: RetrievalFilter, k: int, *, coverage: bool = False) -> Lookup:
        """Everything the pipeline asks of the record for one question, from one reading of the question
        and one session: the ranked records and, outside coverage, the named item the record lacks; a
        coverage question instead leads with the patient's condition it names."""
        intent = read_intent(question, self.vocabulary)
        with scoped_session(self.engine, RowScope.of_filter(flt)) as session:
            statements = self._named_statements(session, flt, intent)
            found = self._ranked(statements, intent, flt, k)
            if not coverage:
                return Lookup(found, self._missing(session, question, intent, flt, statements))
            named = self._named_conditions(session, question, flt)
        ids = {c.source_id for c in named}
        return Lookup(named + [c for c in found if c.source_id not in ids])

    def search(self, question: str, flt: RetrievalFilter, k: int) -> list[Candidate]:
        intent = read_intent(question, self.vocabulary)
        with scoped_session(self.engine, RowScope.of_filter(flt)) as session:
            return self._ranked(self._named_statements(session, flt, intent), intent, flt, k)

    def _ranked(
        self, statements: Sequence[Statement], intent: Intent, flt: RetrievalFilter, k: int
    ) -> list[Candidate]:
        scored = [(confidence(self._score(s, intent)), s) for s in _tightest(list(statements), intent)]
        scored = [(score, s) for score, s in scored if score > 0.0]
        scored.sort(
            key=lambda pair: (-pair[0], -(pair[1].when.timestamp() if pair[1].when else 0.0), pair[1].ref)
        )
        return [self._candidate(s, score, flt) for score, s in scored[:k]]

    @staticmethod
    def _candidate(s: Statement, score: float, flt: RetrievalFilter) -> Candidate:
        return Candidate(
            source_id=s.ref,
            source_type="record",
            source_ref=s.ref,
            patient_key=flt.patient_key,
            text=s.text,
            brief=s.brief,
            score=round(score, 4),
            match=round(score, 4),
            retriever="structured",
            facility=s.facility,
            note_type=s.kind,
            note_date=date_int(s.when.date()) if s.when else 0,
            security_labels=s.labels,
        )

    def named_conditions(self, question: str, flt: RetrievalFilter) -> list[Candidate]:
        """The patient's conditions a coverage question names in its last "for ..." / "with ..." clause
        ("Does Medicare cover cardiac rehab for this patient's heart failure?": the heart failure on
        record), sure matches, active first: the patient half of "does it cover it for this patient"."""
        with scoped_session(self.engine, RowScope.of_filter(flt)) as session:
            return self._named_conditions(session, question, flt)

    def _named_conditions(self, session: Session, question: str, flt: RetrievalFilter) -> list[Candidate]:
        if flt.resource_types is not None and "Condition" not in flt.resource_types:
            return []  # a token without Condition scope reads no condition
        # The last clause that names something ("for sleep apnea for this patient": "sleep apnea").
        # Every word of it must be in the condition's name: vocabulary does not thin the groups, so
        # "criteria for cardiac rehabilitation" never matches "Cardiac arrest".
        clauses = [question[m.end() :] for m in _FOR_CLAUSE.finditer(question)]
        groups = next((g for c in reversed(clauses) if (g := naming_groups(c))), ())
        if not groups:
            return []
        # Read as "is it active": the active condition ranks first (its prior).
        named = [s for s in self._conditions(session, flt, _ACTIVE) if names_item(groups, s.name)]
        named.sort(key=lambda s: (-s.prior, -(s.when.timestamp() if s.when else 0.0), s.ref))
        return [self._candidate(s, 1.0, flt) for s in named[:1]]

    def missing_item(self, question: str, flt: RetrievalFilter) -> tuple[str, tuple[Group, ...]] | None:
        """The item a question names that no row of a named kind (lab, drug, vaccine, procedure; a
        condition or allergy inside an item frame, ``Intent.named_kinds``) of the patient names.

        "What was the most recent hemoglobin A1c?" for a patient with no A1c: ("hemoglobin A1c",
        groups). None when the question names no such item or the record has it. The caller still
        looks at the notes before declining.
        """
        intent = read_intent(question, self.vocabulary)
        with scoped_session(self.engine, RowScope.of_filter(flt)) as session:
            statements = self._named_statements(session, flt, intent)
            return self._missing(session, question, intent, flt, statements)

    def _missing(
        self,
        session: Session,
        question: str,
        intent: Intent,
        flt: RetrievalFilter,
        statements: Sequence[Statement],
    ) -> tuple[str, tuple[Group, ...]] | None:
        """``missing_item`` over the rows ``_named_statements`` read for the question."""
        if (current := self._missing_current(session, intent, flt, statements)) is not None:
            return current, ()
        if (named := _named_specialty(question, intent)) is not None:
            # Every work kind is read, not only the asked one: the row may be of another kind.
            work = self._statements(session, flt, replace(intent, kinds=WORK_KINDS))
            if (specialty := _missing_specialty(named, intent, list(work))) is not None:
                return specialty
        # A class of encounter the record lacks ("When was he last admitted?"), unless a row of another
        # kind names everything asked ("Admission to orthopedic department" is a procedure).
        if (
            intent.encounter_class
            and not any(s.kind == "Encounter" for s in statements)
            and not any(names_asked(intent, s) for s in statements)
        ):
            for code, said, named_by in _CLASS_MISSING:
                if code in intent.encounter_class:
                    return said, (tuple(frozenset({w}) for w in named_by),)
        if not intent.kinds & intent.named_kinds or not intent.naming:
            return None
        if any(s.kind in intent.named_kinds and names_asked(intent, s) for s in statements):
            return None
        words = [
            tok
            for tok in dict.fromkeys(tokens(question))
            if any(frozenset({singular(tok)}) in g for g in intent.naming) or tok in KIND_NOUNS
        ]  # with its noun: "No COVID-19 vaccine is on record", not "No COVID"
        # A note sentence must name the terms (context words aside) to answer instead.
        return _as_written(question, words), intent.required or intent.naming

    def _missing_current(
        self, session: Session, intent: Intent, flt: RetrievalFilter, statements: Sequence[Statement]
    ) -> str | None:
        """Asked "What medications is the patient currently taking?" when the patient's coded medications
        are all stopped: the record is the system of record for what is current, and a note's list from an
        old visit is history. A patient with nothing of the kind coded is left to the notes."""
        # "currently taking", "which are active"; a care plan asked for is the one in force ("What is
        # the plan of care?"), as its activities are read.
        current = intent.recent or intent.in_progress or (intent.kinds == _PLAN and _plan_in_force(intent))
        if not (current and not intent.naming and intent.kinds and intent.kinds <= set(CURRENT_KINDS)):
            return None
        # The question's own rows were read as "current" (recent or active): a positive prior is an
        # active row, and care plan activities are read from active plans only.
        if any(s.prior > 0 or s.kind == "CarePlanActivity" for s in statements):
            return None
        if not any(True for _ in self._statements(session, flt, Intent(kinds=intent.kinds, past=True))):
            return None  # nothing of the kind is coded for this patient: the notes may say
        return " or ".join(CURRENT_KINDS[k] for k in sorted(intent.kinds))

    def statement_texts(self, patient_key: str) -> list[str]:
        """Every statement ``search`` could return for the patient, whatever the question or scope:
        their text depends on the row and today only (the question changes scores, not words).
        Ingest embeds them ahead of the first question (``source_vectors``)."""
        from carecite.domain import SENSITIVE_LABELS

        flt = RetrievalFilter(
            patient_key=patient_key, allowed_labels=frozenset(SENSITIVE_LABELS), include_policies=False
        )
        with scoped_session(self.engine, RowScope.of_filter(flt)) as session:
            return [s.text for s in self._statements(session, flt, replace(read_intent(""), past=True))]

    # ----------------------------------------------------------------- scoring
    def _score(self, s: Statement, intent: Intent) -> float:
        named_row = s.kind in intent.named_kinds and names_asked(intent, s)
        # A row whose coded name is everything the question names is of the asked kind, whether or not
        # the question said the kind ("When was the last dental cleaning?" names a procedure).
        kind_match = 1.0 if s.kind in intent.kinds or named_row else 0.0
        words = record_terms(s.text)
        specific = {w for w in intent.terms if not is_generic(w)}
        if s.kind in intent.named_kinds and specific:
            # "latest BNP" must not be answered by the latest creatinine, nor "hemoglobin A1c" by a
            # plain hemoglobin: when the question names the lab, drug, vaccine or procedure, a row
            # that does not name all of it earns nothing from the kind match. Words the record's
            # vocabulary does not know ("hepa" for "Hep A") still have to appear in the row.
            named = named_row if intent.naming else bool(specific & words)
            if not named:
                return 0.0
        # A word that chose the row's kind is answered by the row being of that kind: "what is she
        # allergic to" asks for every allergy, "when was he admitted" for the admissions. Not when the
        # question also says how the rows must stand (current, outstanding, next): then the status
        # prior decides, and a stopped drug or a completed task must not ride on the kind word.
        # Only for a question that names nothing but the kind ("when is his ortho follow-up" names a
        # specialty: every follow-up task must not ride on "follow-up" past the orthopedic visit).
        only_kind = kind_match and not _modified(intent) and not specific - _kind_terms(s.kind)
        said = words | _kind_terms(s.kind) if only_kind else words
        overlap = len(intent.terms & said) / max(1, len(intent.terms)) if intent.terms else 0.0
        if not intent.kinds and not specific & words:
            return 0.0  # a question naming no kind matches a row by what it names, never by "date:"
        if intent.kinds and not kind_match and overlap < 0.34:
            return 0.0
        return kind_match + overlap + s.prior

    def _named_statements(self, session: Session, flt: RetrievalFilter, intent: Intent) -> list[Statement]:
        """The rows of the kinds the question's nouns name; when it names an item that no row of those
        kinds names, also the rows of another kind whose name holds the noun too: "medication
        reconciliation" is a procedure ("Medication Reconciliation (procedure)"). Never a row that
        lacks the noun: a COVID test is no "COVID-19 vaccine", penicillin V potassium no potassium lab."""
        statements = self._better_named_work(
            session, flt, intent, list(self._statements(session, flt, intent))
        )
        nouns = {singular(w) for w in intent.terms & KIND_NOUNS}
        # Also when the noun's kind is not a named one: "admission to the orthopedic department" is a
        # procedure, not any admission encounter.
        if not (nouns and intent.naming):
            return statements
        if any(s.kind in intent.named_kinds and names_asked(intent, s) for s in statements):
            return statements
        others = replace(intent, kinds=intent.named_kinds - intent.kinds)
        return statements + [
            s
            for s in self._statements(session, flt, others)
            if names_asked(intent, s) and nouns & {singular(w) for w in tokens(s.name)}
        ]

    def _better_named_work(
        self, session: Session, flt: RetrievalFilter, intent: Intent, statements: list[Statement]
    ) -> list[Statement]:
        """When the rows that name the item name only part of what the question names ("where are we
        with the home INR monitor paperwork": the INR results name INR, not "home"), the patient's
        work (tasks, referrals, appointments, care plan activities) whose words name more of it
        ("Enroll in home INR monitoring") is read too, as of the asked kind; ``_tightest`` then
        keeps the partly named rows out of the answer."""
        named = [s for s in statements if s.kind in intent.named_kinds and names_asked(intent, s)]
        if not named:
            return statements
        best = max(_hits(intent, s.name) for s in named)
        if best >= len(intent.naming):
            return statements
        read = {s.ref for s in statements}
        # ... and so are the coded rows of the other named kinds: "when did she last have insertion of
        # subcutaneous contraceptive" reads contraceptive drugs by their class, but the procedure's
        # display names all of it.
        others = replace(intent, kinds=(_WORK_ROWS | NAMED_KINDS) - intent.kinds)
        work = [
            replace(s, prior=s.prior + 1.0)  # named by more of the question than any asked row
            for s in self._statements(session, flt, others)
            if s.ref not in read
            and _hits(intent, _named_text(s)) > best
            and _hits(intent, _named_text(s), intent.required)
        ]
        return statements + work

    # ----------------------------------------------------------------- rendering
    def _statements(self, session: Session, flt: RetrievalFilter, intent: Intent) -> Iterable[Statement]:
        # Without a recognised kind, every kind is considered and lexical overlap decides; but a
        # question about what a note says ("What was documented in the telephone note?") asks for
        # no record row.
        if not intent.kinds and intent.notes:
            return
        kinds = intent.kinds or frozenset(KIND_WORDS)
        if flt.resource_types is not None:  # a token's SMART scopes: only the granted resource types
            kinds = frozenset(k for k in kinds if kind_resource_type(k) in flt.resource_types)
        if "Task" in kinds:
            yield from self._tasks(session, flt, intent)
        if "ServiceRequest" in kinds:
            yield from self._referrals(session, flt, intent)
        if "Appointment" in kinds:
            yield from self._appointments(session, flt, intent)
        if "Observation" in kinds:
            yield from self._observations(session, flt, intent)
        if "MedicationRequest" in kinds:
            yield from self._medications(session, flt, intent)
        if "CarePlanActivity" in kinds:
            yield from self._careplan_activities(session, flt, intent)
        if "Condition" in kinds:
            yield from self._conditions(session, flt, intent)
        # A care team answers who someone is, never what was done: "the program the therapist
        # documented" or "treatment for substance use" is not answered by a team's member list.
        if "CareTeam" in kinds and intent.person:
            yield from self._care_teams(session, flt, intent)
        if "CareTeam" in kinds and intent.pcp:
            yield from self._primary_care(session, flt)
        for kind, model, date_col in (
            ("AllergyIntolerance", t.AllergyIntolerance, "recorded"),
            ("Immunization", t.Immunization, "occurrence"),
            ("Procedure", t.Procedure, "performed"),
            ("Encounter", t.Encounter, "start"),
        ):
            if kind in kinds:
                yield from self._simple(session, flt, intent, kind, model, date_col)

    def _rows(
        self, session: Session, model: Any, flt: RetrievalFilter, date_attr: str | None
    ) -> Sequence[Any]:
        conditions = [
            col(model.patient_key) == flt.patient_key,
            *_label_conditions(model, flt.disallowed_labels),
        ]
        if flt.facility is not None:
            conditions.append(col(model.facility) == flt.facility)
        if date_attr is not None and (flt.date_from or flt.date_to):
            column = col(getattr(model, date_attr))
            if flt.date_from:
                conditions.append(column >= _from_int(flt.date_from))
            if flt.date_to:
                conditions.append(column < _from_int(flt.date_to, end_of_day=True))
        return session.exec(select(model).where(and_(*conditions))).all()

    def _tasks(self, session: Session, flt: RetrievalFilter, intent: Intent) -> Iterable[Statement]:
        for row in self._rows(session, t.Task, flt, "due"):
            status = row.status or "unknown"
            is_open = status in OPEN_TASK
            overdue = is_open and row.due is not None and row.due.date() < self.today
            state = f"{status}, overdue (due {_d(row.due)})" if overdue else status
            parts = [f"Follow-up task: {row.description or row.display or 'task'}", f"status: {state}"]
            if row.due and not overdue:
                parts.append(f"due: {_d(row.due)}")
            if row.owner:
                parts.append(f"owner: {row.owner}")
            if row.authored_on:
                parts.append(f"created: {_d(row.authored_on)}")
            if row.note:
                parts.append(f"note: {row.note.rstrip('. ')}")
            prior = 0.0
            if intent.overdue:
                prior += 1.0 if overdue else -0.6
            if intent.outstanding:
                prior += 0.6 if is_open else -0.6
            if intent.in_progress:
                prior += _in_progress_prior(status, is_open)
            if not (intent.overdue or intent.outstanding or intent.in_progress) and is_open:
                prior += 0.2
            brief = (
                f"{'Overdue' if overdue else status.capitalize()}: {row.description or row.display or 'task'}"
            )
            if row.due:
                brief += f", due {_d(row.due)}"
            if row.note:
                brief += f"; {row.note.rstrip('. ')}"
            if row.owner:
                brief += f" (owner {row.owner})"
            when = row.due or row.authored_on
            yield Statement.of(row, "Task", "; ".join(parts) + ".", when, prior, brief + ".")

    def _referrals(self, session: Session, flt: RetrievalFilter, intent: Intent) -> Iterable[Statement]:
        for row in self._rows(session, t.ServiceRequest, flt, "authored_on"):
            status = row.status or "unknown"
            is_open = status in OPEN_REFERRAL
            label = "Referral" if (row.category or "").lower().find("referral") >= 0 else "Order"
            parts = [f"{label}: {row.display or 'service request'}", f"status: {status}"]
            if row.authored_on:
                parts.append(f"ordered: {_d(row.authored_on)}")
            if row.performer:
                parts.append(f"to: {row.performer}")
            if row.requester:
                parts.append(f"requested by: {row.requester}")
            if row.reason:
                parts.append(f"reason: {row.reason}")
            if row.note:
                parts.append(f"note: {row.note.rstrip('. ')}")
            prior = (
                (0.6 if is_open else -0.6)
                if (intent.outstanding or intent.overdue or intent.in_progress)
                else (0.2 if is_open else 0.0)
            )
            brief = f"{row.display or 'service request'}: {status}"
            if row.authored_on:
                brief += f", ordered {_d(row.authored_on)}"
            if row.performer:
                brief += f", to {row.performer}"
            if row.reason:
                brief += f", for {row.reason}"
            yield Statement.of(
                row, "ServiceRequest", "; ".join(parts) + ".", row.authored_on, prior, brief + "."
            )

    def _appointments(self, session: Session, flt: RetrievalFilter, intent: Intent) -> Iterable[Statement]:
        for row in self._rows(session, t.Appointment, flt, "start"):
            status = row.status or "unknown"
            future = row.start is not None and row.start.date() >= self.today
            upcoming = future and status in UPCOMING_APPT
            missed = status == "noshow"
            state = {"noshow": "missed (no-show)", "fulfilled": "attended"}.get(status, status)
            if upcoming:
                state += ", upcoming"
            parts = [
                f"Appointment: {row.description or row.service_type or 'appointment'}",
                f"status: {state}",
                f"start: {_dt(row.start)}",
            ]
            if row.practitioner:
                parts.append(f"with: {row.practitioner}")
            if row.location:
                parts.append(f"location: {row.location}")
            prior = 0.0
            if intent.upcoming:
                prior += 1.0 if upcoming else -0.6
            if intent.missed:
                prior += 1.0 if missed else -0.6
            if intent.attended:  # "did she show up for X": the visit that was due, kept or missed
                prior += 0.6 if not future else -0.4
            brief = f"{state.capitalize()}: {row.description or row.service_type or 'appointment'} on {_dt(row.start)}"
            if row.practitioner:
                brief += f" with {row.practitioner}"
            if row.location:
                brief += f" at {row.location}"
            yield Statement.of(row, "Appointment", "; ".join(parts) + ".", row.start, prior, brief + ".")

    def _observations(self, session: Session, flt: RetrievalFilter, intent: Intent) -> Iterable[Statement]:
        rows = sorted(
            self._rows(session, t.Observation, flt, "effective"),
            key=lambda r: r.effective or datetime.min,
            reverse=True,
        )
        # "most recent" is per quantity: every code the question's name names is one item (eGFR by
        # several LOINC displays, BP panels), otherwise one code; only the best-named rows are read.
        keep = _best_named(intent, [(r.display or r.code or "", r.code or "") for r in rows], "Observation")
        seen: dict[str, int] = {}
        for row in rows:
            name = row.display or row.code or "observation"
            if keep is not None and (row.display or row.code or "", row.code or "") not in keep:
                continue
            key = _named_key(intent, name) if keep is not None else (row.code or name)
            nth = seen.get(key, 0)
            seen[key] = nth + 1
            if row.value is not None:
                value = f"{row.value:g} {row.unit or ''}".strip()
            else:
                value = row.value_text or "no value"
            recency = "most recent" if nth == 0 else "earlier result"
            text = f"Lab/observation: {name} = {value} on {_d(row.effective)} ({recency})"
            if row.interpretation:
                text += f"; interpretation: {row.interpretation}"
            prior = (0.5 if nth == 0 else _earlier(nth)) if intent.recent else (0.2 if nth == 0 else 0.0)
            brief = f"{name}: {value} on {_d(row.effective)} ({recency})"
            if row.interpretation:
                brief += f", {row.interpretation}"
            yield Statement.of(row, "Observation", text + ".", row.effective, prior, brief + ".")

    def _medications(self, session: Session, flt: RetrievalFilter, intent: Intent) -> Iterable[Statement]:
        for row in self._rows(session, t.MedicationRequest, flt, "authored_on"):
            status = row.status or "unknown"
            parts = [f"Medication: {row.medication or row.display or 'medication'}", f"status: {status}"]
            if row.dosage:
                parts.append(f"dosage: {row.dosage}")
            if row.authored_on:
                parts.append(f"prescribed: {_d(row.authored_on)}")
            if row.reason:
                parts.append(f"reason: {row.reason}")
            active = status == "active"
            prior = (
                (0.5 if active else -0.4)
                if (intent.recent or intent.outstanding or intent.in_progress)
                else (0.2 if active else 0.0)
            )
            if intent.naming and _named_count(
                intent, Statement.of(row, "", "", None, 0).name, "MedicationRequest"
            ):
                # "Is he still on the Lovenox?": the named drug's row answers whatever its status says
                # (an active one first).
                prior = max(prior, 0.3) + (0.2 if active else 0.0)
            brief = f"{row.medication or row.display or 'medication'} ({status})"
            if row.dosage:
                brief += f": {row.dosage}"
            if row.authored_on:
                brief += f"; prescribed {_d(row.authored_on)}"
            if row.reason:
                brief += f" for {row.reason}"
            when = row.authored_on
            yield Statement.of(row, "MedicationRequest", "; ".join(parts) + ".", when, prior, brief + ".")

    def _careplan_activities(
        self, session: Session, flt: RetrievalFilter, intent: Intent
    ) -> Iterable[Statement]:
        plans = {p.ref: p for p in self._rows(session, t.CarePlan, flt, None)}
        for row in self._rows(session, t.CarePlanActivity, flt, None):
            plan = plans.get(row.careplan_ref)
            if plan is None:  # the plan itself is filtered out (labels): so are its activities
                continue
            # A care plan is what is planned now: a finished plan's activities answer a question about
            # the past ("What was in her previous care plan?") or one naming that plan ("her fracture
            # care plan"), never "What is the plan of care?" nor "the current care plan".
            in_force = plan.status is None or plan.status in OPEN_REQUEST
            if _plan_in_force(intent) and not in_force:
                continue  # "the current care plan" is an active one, never a completed plan's steps
            title = plan.display or plan.category or "care plan"
            status = row.status or "unknown"
            text = f"Care plan activity ({title}, plan {plan.status or 'unknown'}): {row.display or 'activity'}; status: {status}"
            if row.scheduled:
                text += f"; scheduled: {_d(row.scheduled)}"
            is_open = status in OPEN_ACTIVITY
            if intent.in_progress:
                prior = _in_progress_prior(status, is_open)
            else:
                prior = (0.5 if is_open else -0.4) if intent.outstanding else (0.2 if is_open else 0.0)
            brief = f"{row.display or 'activity'} ({status}"
            brief += f", scheduled {_d(row.scheduled)})" if row.scheduled else ")"
            brief += f", in the {title}"
            yield Statement.of(row, "CarePlanActivity", text + ".", plan.period_start, prior, brief + ".")

    def _conditions(self, session: Session, flt: RetrievalFilter, intent: Intent) -> Iterable[Statement]:
        for row in self._rows(session, t.Condition, flt, "onset"):
            status = row.clinical_status or row.status or "unknown"
            text = f"Condition: {row.display or row.code}; clinical status: {status}; onset: {_d(row.onset)}"
            if row.abatement:
                text += f"; resolved: {_d(row.abatement)}"
            active = status == "active"
            prior = (
                (0.5 if active else -0.4)
                if (intent.in_progress or intent.recent)
                else (0.2 if active else 0.0)
            )
            brief = f"{row.display or row.code} ({status}), onset {_d(row.onset)}"
            if row.abatement:
                brief += f", resolved {_d(row.abatement)}"
            yield Statement.of(row, "Condition", text + ".", row.onset, prior, brief + ".")

    def _care_teams(self, session: Session, flt: RetrievalFilter, intent: Intent) -> Iterable[Statement]:
        """One statement per care team: every member with their role, and the role's specialty in
        words a question uses ("Cardiology (cardiac, heart)"). The team is the cited source (the
        CareTeam resource a reviewer opens); a member the team lists as former counts as past."""
        teams = {row.ref: row for row in self._rows(session, t.CareTeam, flt, None)}
        if not teams:
            return
        members: dict[str, list[t.CareTeamMember]] = {}
        rows = session.exec(
            select(t.CareTeamMember).where(col(t.CareTeamMember.careteam_ref).in_(list(teams)))
        ).all()
        for m in sorted(rows, key=lambda m: m.id):
            if (m.role or "").casefold() != "patient":
                members.setdefault(m.careteam_ref, []).append(m)
        for ref, team in teams.items():
            people = members.get(ref, [])
            if not people:
                continue
            status = team.status or "unknown"
            listed = "; ".join(f"{m.display or m.member_ref} — {_role_words(m.role)}" for m in people)
            since = f", since {_d(team.period_start)}" if team.period_start else ""
            title = team.name or team.display or "Care team"
            text = f"Care team: {title} ({status}{since}); members: {listed}."
            current = status == "active"
            prior = (0.3 if current else -0.3) if not intent.past else (0.0 if current else 0.3)
            yield Statement.of(team, "CareTeam", text, team.period_start, prior, text)

    def _primary_care(self, session: Session, flt: RetrievalFilter) -> Iterable[Statement]:
        """The patient's primary care provider, from Patient.generalPractitioner (the Patient resource
        is the cited source: it is where the record says who the PCP is)."""
        conditions = [
            col(t.Patient.patient_key) == flt.patient_key,
            *_label_conditions(t.Patient, flt.disallowed_labels),
        ]
        for row in session.exec(select(t.Patient).where(and_(*conditions))).all():
            try:
                raw = json.loads(row.raw or "{}")
            except ValueError:
                continue
            gps = [g for g in raw.get("generalPractitioner") or [] if isinstance(g, dict)]
            names = [str(g.get("display") or g.get("reference") or "") for g in gps]
            names = [n for n in names if n]
            if not names:
                continue
            text = f"Primary care provider (general practitioner): {'; '.join(names)}."
            labels = t.labels_from_str(row.security_labels)
            yield Statement(f"Patient/{row.id}", "CareTeam", text, None, None, labels, 0.6, "", text)

    def _simple(
        self, session: Session, flt: RetrievalFilter, intent: Intent, kind: str, model: Any, date_attr: str
    ) -> Iterable[Statement]:
        names = {
            "AllergyIntolerance": "Allergy",
            "Immunization": "Immunization",
            "Procedure": "Procedure",
            "Encounter": "Encounter",
        }
        rows = sorted(
            self._rows(session, model, flt, date_attr),
            key=lambda r: getattr(r, date_attr) or datetime.min,
            reverse=True,
        )
        keep = (
            _best_named(intent, [(r.display or r.code or kind, "") for r in rows], kind)
            if kind in intent.named_kinds
            else None
        )
        seen: dict[str, int] = {}
        for row in rows:
            if keep is not None and (row.display or row.code or kind, "") not in keep:
                continue
            klass = getattr(row, "class_code", None) if kind == "Encounter" else None
            if kind == "Encounter" and intent.encounter_class and klass not in intent.encounter_class:
                continue
            when = getattr(row, date_attr)
            # "last" is per named item (the latest Hep B dose, not the latest of any vaccine); every row
            # that names what the question names is one item ("depression screening", whatever tool).
            name = row.display or row.code or kind
            key = "\0named" if intent.naming and _named_count(intent, name, kind) > 0 else name
            if kind == "Encounter" and not intent.naming:  # "the last visit": the newest of them all
                key = "\0visit"
            nth = seen.get(key, 0)
            seen[key] = nth + 1
            text = f"{names[kind]}: {name}; status: {row.status or 'unknown'}; date: {_d(when)}"
            if kind in ("Immunization", "Procedure"):
                text += " (most recent)" if nth == 0 else " (earlier)"
            if kind == "Encounter" and getattr(row, "end", None):
                text += f" to {_d(row.end)}"
            if klass:
                text += f"; class: {ENCOUNTER_CLASSES.get(klass, klass)}"
            if kind == "Encounter" and getattr(row, "reason", None):
                text += f"; reason: {row.reason}"
            prior = (0.4 if nth == 0 else _earlier(nth)) if intent.recent else 0.0
            brief = f"{name} ({row.status or 'unknown'}) on {_d(when)}"
            if kind in ("Immunization", "Procedure"):
                brief += " (most recent)" if nth == 0 else " (earlier)"
            yield Statement.of(row, kind, text + ".", when, prior, brief + ".")


def _role_words(role: str | None) -> str:
    """A care-team role with its specialty's everyday words: "Cardiology (cardiac, heart)"."""
    role = role or "member"
    said = {singular(w) for w in tokens(role)}
    for names, words in SPECIALTIES.values():
        if said & {singular(n) for n in names} or said & {singular(w) for w in words}:
            extra = [w for w in words if w not in said]
            return f"{role} ({', '.join(extra)})" if extra else role
    return role


def _earlier(nth: int) -> float:
    """The prior of the ``nth`` earlier result of an item when the question asks for the latest: low
    enough that no wording lifts it to ``NAMED_RECORD_FLOOR`` (kind 1 + overlap at most 1 + this stays
    under the raw 1.5 the floor needs), so "the most recent A1c" is one value, never a list of them;
    older results rank lower still."""
    return -0.6 - 0.1 * min(nth - 1, 2)


_PLAN = frozenset({"CarePlanActivity"})


def _plan_in_force(intent: Intent) -> bool:
    """Does a care plan question ask for the plan in force: "the current care plan", "What is the plan
    of care?", not "her previous care plan" nor one naming a plan ("her fracture care plan")?"""
    return intent.recent or not (intent.past or intent.naming)


def _in_progress_prior(status: str, is_open: bool) -> float:
    """ "What is she actively working on?": work under way, not work merely open (not started, on hold)."""
    return 0.6 if status == "in-progress" else (-0.2 if is_open else -0.6)


def _named_specialty(question: str, intent: Intent) -> tuple[str, Group] | None:
    """The specialty a work question names by name ("When is his nephrology appointment?"), as
    written, with the words a row may name it by. None when it names none or asks about other kinds
    too."""
    if not intent.kinds or not intent.kinds <= WORK_KINDS:
        return None
    said = tokens(question)
    for names, words in SPECIALTIES.values():
        if (named := next((w for w in said if w in names or singular(w) in names), None)) is not None:
            return named, tuple(frozenset({singular(w)}) for w in (*names, *words))
    return None


def _missing_specialty(
    named: tuple[str, Group], intent: Intent, work: Sequence[Statement]
) -> tuple[str, tuple[Group, ...]] | None:
    """The named specialty (``_named_specialty``) when none of the patient's tasks, referrals and
    appointments (``work``, every work kind: "cardiology follow-up" may be an appointment) is with
    it."""
    specialty, group = named
    if any(names_item((group,), s.text) for s in work):
        return None
    asked = " or ".join(WORK_NOUNS[k] for k in sorted(intent.kinds))
    return f"{specialty} {asked}", (group,)


def _as_written(question: str, words: Sequence[str]) -> str:
    """The named item as the question wrote it ("hemoglobin A1c", not "hemoglobin a1c"): the stretch of
    the question from its first to its last naming word, when that stretch is short."""

    def pattern(word: str) -> str:  # "hepb" was "Hep B" / "hepatitis B" in the question (see _HEP)
        hep = re.fullmatch(r"hep([abc])", word)
        if word in DRUG_CLASSES:  # a class token was one of its phrases ("blood thinners")
            return "|".join(rf"\b(?:{p})\b" for p in DRUG_CLASSES[word].phrases)
        return rf"\bhep(?:atitis)?[\s-]*{hep.group(1)}\b" if hep else rf"\b{re.escape(word)}\b"

    spans = [m.span() for w in words if (m := re.search(pattern(w), question, re.I))]
    if not spans:
        return " ".join(words)
    start, end = min(s for s, _ in spans), max(e for _, e in spans)
    written = question[start:end]
    return written if len(written.split()) <= len(words) + 2 else " ".join(words)


def _best_named(
    intent: Intent, names: Sequence[tuple[str, str]], kind: str
) -> frozenset[tuple[str, str]] | None:
    """Of the (display, code) pairs of a kind's rows, those that name the asked item best: the most
    naming groups named, then the tightest display (a LOINC display names one quantity: "Hemoglobin
    [Mass/volume] in Blood" for "hemoglobin", not a longer one), every display of a code kept (one
    LOINC code is one quantity, whatever display it was ingested with). None when no row names it."""
    if not intent.naming:
        return None
    counts = {pair: _named_count(intent, pair[0], kind) for pair in set(names)}
    named = {pair: n for pair, n in counts.items() if n > 0}
    if not named:
        return None
    most = max(named.values())
    best = [pair for pair, n in named.items() if n == most]
    if kind != "Observation":
        return frozenset(best)

    def size(display: str) -> int:
        return len(tokens(loinc_component(display)))

    tight = min(size(display) for display, _ in best)
    codes = {code for display, code in best if size(display) == tight}
    return frozenset(pair for pair in best if pair[1] in codes or size(pair[0]) == tight)


# The patient's work, whose rows name what they are about in free words (a task's description).
_WORK_ROWS = frozenset({"Task", "ServiceRequest", "Appointment", "CarePlanActivity"})


def _named_text(s: Statement) -> str:
    """What names a row: a coded row by its coded name, a work row by all its words."""
    return s.name if s.kind in NAMED_KINDS else s.text


def _hits(intent: Intent, text: str, groups: Sequence[Group] | None = None) -> int:
    """How many of ``groups`` (the question's naming groups) ``text`` names."""
    words = {singular(w) for w in tokens(text)}
    return sum(1 for g in (intent.naming if groups is None else groups) if any(alt <= words for alt in g))


def _named_key(intent: Intent, display: str) -> str:
    """One item per set of naming groups a lab's quantity names: eGFR under any LOINC code or display
    is one quantity ("most recent" is the newest of them), a creatinine beside it another."""
    words = {singular(w) for w in tokens(loinc_quantity(display))}
    named = [str(i) for i, g in enumerate(intent.naming) if any(alt <= words for alt in g)]
    return "\0named " + " ".join(named)


def _tightest(statements: list[Statement], intent: Intent) -> list[Statement]:
    """Among rows of a named kind that name the asked item, only the best-named (``_best_named``)."""
    if not intent.naming:
        return statements
    drop: set[str] = set()
    # A work row that names more of the question than a named row does (``_better_named_work``).
    work_best = max((_hits(intent, s.text) for s in statements if s.kind in _WORK_ROWS), default=0)
    for s in statements:
        if s.kind in intent.named_kinds and names_asked(intent, s) and _hits(intent, s.name) < work_best:
            drop.add(s.ref)
    for kind in intent.named_kinds:
        rows = [s for s in statements if s.kind == kind]
        keep = _best_named(intent, [(s.name, "") for s in rows], kind) if kind != "Observation" else None
        if keep is not None:
            drop |= {s.ref for s in rows if (s.name, "") not in keep}
    return [s for s in statements if s.ref not in drop]


def confidence(raw: float) -> float:
    """Map the intent score (kind match + term overlap + status/date prior, about -1..3) to [0, 1].

    A structured match is exact (SQL conditions on status and dates), so its confidence comes from
    how well the question's intent matched, not from text similarity: an open, overdue Task for
    "which tasks are overdue?" scores ~0.9; a completed one ~0.1.
    """
    return round(min(1.0, max(0.0, (raw - 0.5) / 2.0)), 4)


# A record the structured retriever is this sure of (it matches what the question names, by kind,
# status and date) is always re-ranked, wherever fusion ranked it.
NAMED_RECORD_FLOOR = 0.5


def is_sure_record(c: Candidate) -> bool:
    """The structured retriever is sure this record is what the question asked for (the one rule
    behind the re-rank pool, the answer context and the extractive answer's record list)."""
    return c.source_type == "record" and (c.match or 0.0) >= NAMED_RECORD_FLOOR


def rerank_pool(fused: Sequence[Candidate], structured: Sequence[Candidate], k: int) -> list[Candidate]:
    """The candidates to re-rank: fusion's top ``k`` plus every confident structured record below it.

    RRF ranks by position across lists: one structured hit (rank 1 in one list) can sit at fused rank
    21 behind chunks that appear in both the dense and the lexical list, and a fixed cut at ``k`` then
    loses the very record the question asked for ("the most recent hemoglobin A1c").
    """
    pool = list(fused[:k])
    seen = {c.source_id for c in pool}
    sure = {c.source_id for c in structured if is_sure_record(c)}
    pool += [c for c in fused[k:] if c.source_id in sure and c.source_id not in seen]
    return pool


def answer_context(kept: Sequence[Candidate], k: int, list_k: int) -> list[Candidate]:
    """The sources an answer is drafted from: the top ``k``, plus every record the structured
    retriever is sure of below them (up to ``list_k`` sources in all).

    A list question ("What are the patient's active problems?") is answered by every matching row,
    not by the first ``k``: a complete list is the answer, a cut one reads as complete and is wrong.
    """
    context = list(kept[:k])
    for c in kept[k:]:
        if len(context) >= list_k:
            break
        if is_sure_record(c):
            context.append(c)
    return context


def blend_structured(reranked: Sequence[Candidate], structured: Sequence[Candidate]) -> list[Candidate]:
    """After re-ranking, a structured record keeps at least its intent confidence.

    The re-ranker scores text similarity, which undervalues terse record statements ("status:
    requested, overdue") against long notes; the structured retriever's confidence is the better
    evidence for status/date questions. Both are in [0, 1], so the max is a calibrated score.
    """
    conf = {c.source_id: c.score for c in structured}
    blended = [
        c.model_copy(update={"score": max(c.score, conf[c.source_id])}) if c.source_id in conf else c
        for c in reranked
    ]
    return sorted(blended, key=lambda c: -c.score)


def _from_int(value: int, *, end_of_day: bool = False) -> datetime:
    d = date(value // 10000, value // 100 % 100, value % 100)
    dt = datetime(d.year, d.month, d.day)
    if end_of_day:
        dt += timedelta(days=1)
    return dt
