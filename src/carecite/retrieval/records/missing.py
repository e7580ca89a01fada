"""The missing-item logic: the item, specialty, encounter class or current list a question asks for
that the patient's record lacks, as a decline names it. The caller still looks at the notes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from sqlmodel import Session

from carecite.domain import RetrievalFilter
from carecite.reading.intent import WORK_KINDS, Intent
from carecite.reading.items import Group, names_item, tokens
from carecite.reading.vocabulary import (
    KIND_NOUNS,
    SPECIALTIES,
)
from carecite.retrieval.records.naming import names_asked
from carecite.retrieval.records.render import Renderer, plan_in_force
from carecite.retrieval.records.statement import Statement
from carecite.text.drug_classes import BY_TOKEN as DRUG_CLASSES
from carecite.text.terms import singular

# Kinds whose rows say what is true now ("current medications", "active problems"), as named in a
# decline when none is.
CURRENT_KINDS: dict[str, str] = {
    "MedicationRequest": "current medication",
    "CarePlanActivity": "current care plan",
    "Condition": "active condition",
}


# Each work kind as a decline names it ("No nephrology appointment is on record").
WORK_NOUNS: dict[str, str] = {"Appointment": "appointment", "Task": "follow-up", "ServiceRequest": "referral"}


# What a decline says of a class the record lacks, and the words a note sentence names it with.
_CLASS_MISSING: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("EMER", "emergency visit", ("emergency", "er", "ed")),
    ("IMP", "inpatient admission", ("admitted", "admission", "inpatient", "hospitalized")),
)


def missing(
    render: Renderer,
    session: Session,
    intent: Intent,
    flt: RetrievalFilter,
    statements: Sequence[Statement],
) -> tuple[str, tuple[Group, ...]] | None:
    """``StructuredRetriever.missing_item`` over the rows ``_named_statements`` read for the question."""
    if (current := missing_current(render, session, intent, flt, statements)) is not None:
        return current, ()
    if (status := missing_status(intent, statements)) is not None:
        return status, ()
    if (named := _named_specialty(intent)) is not None:
        # Every work kind is read, not only the asked one: the row may be of another kind.
        work = render.statements(session, flt, replace(intent, kinds=WORK_KINDS))
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
        for tok in dict.fromkeys(tokens(intent.text))
        if any(frozenset({singular(tok)}) in g for g in intent.naming) or tok in KIND_NOUNS
    ]  # with its noun: "No COVID-19 vaccine is on record", not "No COVID"
    # A note sentence must name the terms (context words aside) to answer instead.
    return _as_written(intent.text, words), intent.required or intent.naming


def missing_status(intent: Intent, statements: Sequence[Statement]) -> str | None:
    """Asked which work stands in a status ("Which tasks are overdue?", "any upcoming appointments")
    when the patient has work of that kind but none in that status: the record answers "none" as
    surely as it would list them, so the decline says so ("No overdue follow-up is on record"), not
    that the best source scored low. The status is read as the renderer reads it (a row holding it
    has a positive prior, as of today)."""
    said = [w for w, asked in _STATUS_WORDS if getattr(intent, asked)]
    if not said or intent.naming or not intent.kinds or not intent.kinds <= set(WORK_NOUNS):
        return None
    of_kind = [s for s in statements if s.kind in intent.kinds]
    if not of_kind or any(s.prior > 0 for s in of_kind):
        return None
    return f"{said[0]} " + " or ".join(WORK_NOUNS[k] for k in sorted(intent.kinds))


# The statuses a work question asks for, as a decline words them (the first asked wins: an overdue
# task is an outstanding one).
_STATUS_WORDS: tuple[tuple[str, str], ...] = (
    ("overdue", "overdue"),
    ("missed", "missed"),
    ("upcoming", "upcoming"),
    ("outstanding", "outstanding"),
)


def missing_current(
    render: Renderer, session: Session, intent: Intent, flt: RetrievalFilter, statements: Sequence[Statement]
) -> str | None:
    """Asked "What medications is the patient currently taking?" when the patient's coded medications
    are all stopped: the record is the system of record for what is current, and a note's list from an
    old visit is history. A patient with nothing of the kind coded is left to the notes."""
    # "currently taking", "which are active"; a care plan asked for is the one in force ("What is
    # the plan of care?"), as its activities are read.
    current = intent.recent or intent.in_progress or (intent.kinds == _PLAN and plan_in_force(intent))
    if not (current and not intent.naming and intent.kinds and intent.kinds <= set(CURRENT_KINDS)):
        return None
    # The question's own rows were read as "current" (recent or active): a positive prior is an
    # active row, and care plan activities are read from active plans only.
    if any(s.prior > 0 or s.kind == "CarePlanActivity" for s in statements):
        return None
    if not any(True for _ in render.statements(session, flt, Intent(kinds=intent.kinds, past=True))):
        return None  # nothing of the kind is coded for this patient: the notes may say
    return " or ".join(CURRENT_KINDS[k] for k in sorted(intent.kinds))


_PLAN = frozenset({"CarePlanActivity"})


def _named_specialty(intent: Intent) -> tuple[str, Group] | None:
    """The specialty a work question names by name ("When is his nephrology appointment?"), as
    written, with the words a row may name it by. None when it names none or asks about other kinds
    too."""
    if not intent.kinds or not intent.kinds <= WORK_KINDS:
        return None
    said = tokens(intent.text)
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
