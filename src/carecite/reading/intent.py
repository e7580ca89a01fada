"""What a record question asks for: which record kinds, which status and time modifiers, which
item (``Intent``, read by ``read_intent``). The structured retriever applies it as SQL conditions
and ordering; it never reads the question itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from carecite.reading.cues import Cue, CueRun, cue
from carecite.reading.items import (
    NOT_CONTENT,
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
    SPECIALTIES,
)
from carecite.text import drug_names
from carecite.text.dates import Frame, asked_frame
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
    # "Why did she miss her lung appointment?": only a row that states a reason answers.
    why: bool = False
    # The question's own words, as typed (no synonyms): what a care team's members are matched by.
    words: tuple[str, ...] = ()
    # "admitted in September", "shots in 2023": only rows dated inside it answer (``Frame.holds``).
    frame: Frame | None = None


# Open work with no kind named ("What do we still need to get done?"): the patient's to-dos.
OPEN_WORK_KINDS = frozenset({"Task"})
# Kinds of care-coordination work, whose rows name the specialty they are with ("Post-discharge
# cardiology follow-up", "Referral to psychiatry service"), and which alone have a due date.
WORK_KINDS = frozenset({"Task", "ServiceRequest", "Appointment"})
# The kinds whose rows name the people of the patient's care (FHIR CareTeam.participant,
# Appointment.participant): a "who" question naming no kind reads them.
PERSON_KINDS = frozenset({"CareTeam", "Appointment"})
# Conditions and allergies are named only inside an item frame: "When was she diagnosed with essential
# hypertension?", "hx of MI?" name one (a patient without it must not be answered with her first problem), while
# "any food allergies?", "heart problems", "cancer history" name a category the displays do not spell.
_ITEM_FRAMES: tuple[tuple[str, Cue], ...] = (
    (
        "Condition",
        cue(
            "frame.diagnosed_with",
            "curated",
            "curated: condition item frame",
            # ... and "history of" ("h/o", "hx of" in the published abbreviation lists), though not
            # the section "history of present illness".
            pattern=re.compile(r"\b(diagnosed with|diagnosis of|history of(?! present illness))\b", re.I),
        ),
    ),
    (
        "AllergyIntolerance",
        cue(
            "frame.allergic_to",
            "curated",
            "curated: allergy item frame",
            pattern=re.compile(r"\b(allergic to|allergy to|allergies to)\b", re.I),
        ),
    ),
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
_ASKED_CLASSES: tuple[tuple[Cue, tuple[str, ...]], ...] = (
    (
        cue(
            "encounter.emergency",
            "standard",
            "HL7 v3 ActEncounterCode EMER; ER / ED abbreviations",
            words={"er", "ed", "emergency"},
        ),
        ("EMER",),
    ),
    (
        cue(
            "encounter.inpatient",
            "standard",
            "HL7 v3 ActEncounterCode IMP, ACUTE, NONAC",
            words={"inpatient", "admitted", "admission", "admissions", "hospitalized", "hospitalization"},
        ),
        _INPATIENT,
    ),
    # VR's definition in ActEncounterCode: "telephone conference, email exchange, ... televideo
    # conference" — the encounter a phone call is.
    (
        cue(
            "encounter.virtual",
            "standard",
            "HL7 v3 ActEncounterCode VR",
            words={"phone", "telephone", "telehealth", "video", "virtual"},
        ),
        ("VR",),
    ),
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


# The cues of the status, time and role modifiers (FHIR R4 status words, read in everyday wording).
_OUTSTANDING = cue(
    "outstanding",
    "curated",
    "curated: open work (FHIR R4 TaskStatus / RequestStatus, everyday words)",
    words={"outstanding", "pending", "open", "unresolved", "incomplete", "remaining"},
    pattern=r"not yet|still need|\b(left to do|to-?dos?)\b",
)
_NOT_DONE_CUE = cue("not_done", "curated", "curated: a negated completion status", pattern=_NOT_DONE)
_TO_SEE_CUE = cue("to_see", "curated", "curated: a visit still to come", pattern=_TO_SEE)
# "When does she see endocrinology?", "is he seeing the heart doctor": seeing a clinician or a
# specialty is a visit (FHIR R4 Appointment.participant). Which visit the named specialty or clinician
# says, not a time: "upcoming" would lift every booked visit beside it.
_SPECIALTY_WORDS = sorted({w for names, words in SPECIALTIES.values() for w in (*names, *words)}, key=len)
_SEE_CLINICIAN = cue(
    "see_clinician",
    "curated",
    "curated: a visit is seeing a clinician (FHIR R4 Appointment.participant; specialties of reading.vocabulary)",
    pattern=re.compile(
        r"\bsee(?:ing)?\s+(?:the\s+|her\s+|his\s+|their\s+|a\s+)?"
        rf"(?:dr|doctors?|{'|'.join(reversed(_SPECIALTY_WORDS))})s?\b",
        re.I,
    ),
)
_ATTENDED = cue(
    "attended",
    "curated",
    "curated: a visit kept or missed (FHIR R4 AppointmentStatus fulfilled / noshow)",
    words={"attend", "attended"},
    pattern=r"\b(show(ed)? up|make it to|made it to|(make|made|keep|kept) (her|his|their)\b.{0,30}\bappointments?)\b",
)
_UPCOMING = cue(
    "upcoming",
    "curated",
    "curated: time to come",
    words={"upcoming", "next", "scheduled", "future", "coming"},
)
_VISIT = cue("visit", "curated", "curated: a visit that happened is a FHIR R4 Encounter", words=_VISIT_WORDS)
_RECENT = cue("recent", "curated", "curated: the latest row", words=RECENT_WORDS)
_PROBLEM_LIST = cue("problem_list", "curated", "curated: the problem list is current", pattern="problem list")
_DRUG_CLASS = cue(
    "drug_class",
    "curated",
    "WHO ATC groups by MedlinePlus names (text.drug_classes)",
    words=DRUG_CLASSES.keys(),
)
_OVERDUE = cue(
    "overdue", "curated", "curated: late work", words={"overdue", "late", "lapsed"}, pattern="past due"
)
_MISSED = cue(
    "missed",
    "curated",
    "curated: a missed visit (FHIR R4 AppointmentStatus noshow)",
    words={"missed", "miss", "noshow", "skipped"},
    pattern="no show|didn't show",
)
_IN_PROGRESS = cue(
    "in_progress",
    "curated",
    "curated: FHIR R4 status in-progress / active, everyday words",
    words={"active", "actively"},
    pattern=r"\b(in progress|in process|under ?way|working on)\b",
)
_PAST = cue("past", "curated", "curated: history asked for", words=PAST_WORDS)
_NOTES = cue("notes", "curated", "curated: a note named", words={"note", "notes"})
_PERSON = cue("person", "curated", "curated: who is asked", words={"who", "whos", "whose", "whom"})
_WHY = cue("why", "curated", "curated: a reason is asked (FHIR R4 reasonCode)", words={"why", "reason"})
_PCP_CUE = cue("pcp", "standard", "FHIR R4 Patient.generalPractitioner", pattern=_PCP)
# Each record kind by the words a question names it with (``vocabulary.KIND_VOCABULARY``).
_KIND_CUES: dict[str, Cue] = {
    kind: cue(f"kind.{kind}", "curated", "curated kind vocabulary (reading.vocabulary)", words=words)
    for kind, words in KIND_WORDS.items()
}


def read_intent(
    question: str, vocabulary: frozenset[str] | None = None, cues: CueRun | None = None
) -> Intent:
    """``cues``: which cues are switched off, and where the ones that fire are recorded."""
    run = cues if cues is not None else CueRun()
    # A kind word counts in either number ("prescriptions" as "prescription").
    said = tokens(question)
    toks = set(said) | {singular(t) for t in said}
    q = question.lower()
    not_done = {m.group(1) for m in run.finditer(_NOT_DONE_CUE, q)}
    to_see = run.hit(_TO_SEE_CUE, text=q)
    seeing = run.search(_SEE_CLINICIAN, q)
    by_noun = {kind for kind, c in _KIND_CUES.items() if run.hit(c, toks - MODIFIER_WORDS)}
    kinds = by_noun or {kind for kind, c in _KIND_CUES.items() if run.hit(c, toks)}
    outstanding = run.hit(_OUTSTANDING, toks, q) or bool(not_done)
    attended = run.hit(_ATTENDED, toks, q)
    if attended or to_see or seeing is not None:
        kinds.add("Appointment")
    # ... unless a note is what is named ("the telephone encounter note"): then the class names the note.
    notes = run.hit(_NOTES, toks)
    asked_classes = frozenset(
        code for c, codes in _ASKED_CLASSES if not notes and run.hit(c, toks) for code in codes
    )
    if asked_classes:  # an ER visit or an admission is an encounter, never a booked appointment
        kinds = (kinds - {"Appointment"}) | {"Encounter"}
    upcoming = run.hit(_UPCOMING, toks) or to_see
    recent_word = run.hit(_RECENT, toks)
    if run.hit(_VISIT, toks) and recent_word and not upcoming:
        kinds.add("Encounter")
    if run.hit(_DRUG_CLASS, toks):  # "a blood thinner", "water pills": a medication, named by its class
        kinds.add("MedicationRequest")
    frame = asked_frame(question)
    said_frame = frame.words if frame is not None else frozenset()  # when, never what
    required = _not_when(term_groups(question, vocabulary), said_frame)
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
    overdue = run.hit(_OVERDUE, toks, q)
    if overdue and not kinds & WORK_KINDS:
        # Only work has a due date (FHIR Task.restriction.period, ServiceRequest.occurrence): "is his INR
        # recheck overdue" asks for the recheck task; the INR names which one, as a lab name names it.
        # A result is never overdue (Observation has no due date): its rows do not answer.
        kinds = (kinds - {"Observation"}) | OPEN_WORK_KINDS
    person = run.hit(_PERSON, toks)
    problem_list = run.hit(_PROBLEM_LIST, text=q)  # the problem list is the patient's current problems
    return Intent(
        kinds=frozenset(kinds),
        outstanding=outstanding,
        overdue=overdue,
        upcoming=upcoming,
        missed=run.hit(_MISSED, toks, q),
        recent=recent_word or problem_list,
        in_progress=run.hit(_IN_PROGRESS, toks, q),
        attended=attended,
        past=run.hit(_PAST, toks),
        terms=record_terms(question, asked=True) - not_done - said_frame,
        naming=_not_when(naming_groups(question, vocabulary), said_frame),
        required=required,
        named_kinds=NAMED_KINDS | {kind for kind, c in _ITEM_FRAMES if run.hit(c, text=question)},
        notes=notes,
        person=person,
        pcp=run.hit(_PCP_CUE, text=q),
        encounter_class=asked_classes,
        text=question,
        condition=condition_groups(question),
        why=run.hit(_WHY, toks),
        words=tuple(dict.fromkeys(w for w in said if w not in NOT_CONTENT and len(w) > 1)),
        frame=frame,
    )


def _not_when(groups: tuple[Group, ...], frame_words: frozenset[str]) -> tuple[Group, ...]:
    """The naming groups without the words of the time frame ("September" names no item)."""
    return tuple(g for g in groups if not g[0] <= frame_words)
