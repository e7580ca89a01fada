"""What a record question asks for: which record kinds, which status and time modifiers, which
item (``Intent``, read by ``read_intent``). The structured retriever applies it as SQL conditions
and ordering; it never reads the question itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from carecite.reading.items import (
    Group,
    is_term,
    named_tokens,
    naming_groups,
    record_terms,
    term_groups,
    tokens,
)
from carecite.reading.vocabulary import (
    KIND_WORDS,
    LAB_NAMES,
    MODIFIER_WORDS,
    PAST_WORDS,
    PROCEDURE_TERMS,
    RECENT_WORDS,
)
from carecite.text import drug_names
from carecite.text.drug_classes import BY_TOKEN as DRUG_CLASSES
from carecite.text.terms import singular

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
    # The question as read: a decline names a missing item as the question wrote it ("hemoglobin A1c").
    text: str = ""
    # A coverage question's condition, named in its last "for ..." / "with ..." clause
    # (``condition_groups``): the patient half of "does it cover it for this patient".
    condition: tuple[Group, ...] = ()


# Open work with no kind named ("What do we still need to get done?"): the patient's to-dos.
OPEN_WORK_KINDS = frozenset({"Task"})
# Conditions and allergies are named only inside an item frame: "When was she diagnosed with essential
# hypertension?" names one (a patient without it must not be answered with her first problem), while
# "any food allergies?", "heart problems", "cancer history" name a category the displays do not spell.
_ITEM_FRAMES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Condition", re.compile(r"\b(diagnosed with|diagnosis of)\b", re.I)),
    ("AllergyIntolerance", re.compile(r"\b(allergic to|allergy to|allergies to)\b", re.I)),
)


# The primary care provider, as the question may name the role (FHIR Patient.generalPractitioner).
_PCP = re.compile(
    r"\b(?:pcp|gp|general practitioner|(?:primary|family)(?:[\s-]+care)?[\s-]+"
    r"(?:doctor|docter|physician|provider|clinician|practitioner)s?)\b"
)
# "Which referrals haven't been completed yet?": a negated status asks for the work still open, and
# its status word must not draw the rows that have it.
_NOT_DONE = re.compile(
    r"(?:\bnot|n['’]t|\bnever)\s+(?:yet\s+)?(?:been\s+)?(?:yet\s+)?"
    r"(completed?|done|finished|closed|resolved|fulfilled)\b"
)
# "When is he supposed to see cardiology?": a visit still to come ("was supposed to see" is past).
_TO_SEE = re.compile(r"(?<!\bwas )(?<!\bwere )\b(?:supposed|going|scheduled|due|set|booked)\s+to\s+see\b")


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

# Where a coverage question's patient clause may start: "for / with / given ..." ("... for this
# patient's heart failure?", "... for the AFib?").
_FOR_CLAUSE = re.compile(r"\b(?:for|with|given)\s+", re.I)


def condition_groups(question: str) -> tuple[Group, ...]:
    """The naming groups of the last "for ..." / "with ..." clause that names something ("for sleep
    apnea for this patient": "sleep apnea"). Vocabulary does not thin them: every word must be in a
    condition's name, so "criteria for cardiac rehabilitation" never matches "Cardiac arrest"."""
    clauses = [question[m.end() :] for m in _FOR_CLAUSE.finditer(question)]
    return next((g for c in reversed(clauses) if (g := naming_groups(c))), ())


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
    named_terms = {tok for tok, _ in named_tokens(question, vocabulary) if is_term(tok)}
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
        text=question,
        condition=condition_groups(question),
    )
