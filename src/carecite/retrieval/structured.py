"""Structured retrieval: the patient's SQL records rendered as short citable statements.

Questions about "outstanding", "overdue", "pending", "most recent", "upcoming" must find the right
rows by status and date, not by luck of similarity, so this retriever applies the question's intent
(which record kinds, which temporal modifier; read once, in ``reading.intent``) as SQL conditions and
ordering. The security part of the filter (patient, labels) is applied inside every SQL query.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import cache, cached_property, lru_cache
from typing import Any

import snowballstemmer
from sqlalchemy import Engine, and_, not_
from sqlmodel import Session, col, select

from carecite.domain import Candidate, RetrievalFilter, date_int
from carecite.reading.intent import NAMED_KINDS, WORK_KINDS, Intent, read_intent
from carecite.reading.items import Group, names_item, naming_count, record_terms, synonyms, tokens
from carecite.reading.vocabulary import (
    KIND_NOUNS,
    KIND_VOCABULARY,
    KIND_WORDS,
    MODIFIER_WORDS,
    SPECIALTIES,
    is_generic,
)
from carecite.records import tables as t
from carecite.records.scoped import RowScope, scoped_session
from carecite.text import drug_names
from carecite.text.dates import display_date, display_datetime
from carecite.text.drug_classes import BY_TOKEN as DRUG_CLASSES
from carecite.text.sections import section_vocabulary_words
from carecite.text.spelling import Speller
from carecite.text.terms import STOP_WORDS, singular

OPEN_TASK = ("requested", "received", "accepted", "ready", "in-progress", "on-hold", "draft")
DONE_TASK = ("completed", "cancelled", "rejected", "failed", "entered-in-error")
# FHIR RequestStatus codes of work not finished: a referral (ServiceRequest) still open, a CarePlan in force.
OPEN_REQUEST = ("active", "on-hold", "draft")
OPEN_REFERRAL = OPEN_REQUEST
OPEN_ACTIVITY = ("in-progress", "scheduled", "not-started", "on-hold")
UPCOMING_APPT = ("booked", "pending", "proposed", "arrived", "checked-in", "waitlist")


# Kinds whose rows say what is true now ("current medications", "active problems"), as named in a
# decline when none is.
CURRENT_KINDS: dict[str, str] = {
    "MedicationRequest": "current medication",
    "CarePlanActivity": "current care plan",
    "Condition": "active condition",
}
# Each work kind as a decline names it ("No nephrology appointment is on record").
WORK_NOUNS: dict[str, str] = {"Appointment": "appointment", "Task": "follow-up", "ServiceRequest": "referral"}


def kind_resource_type(kind: str) -> str:
    """The FHIR resource type a record kind is read from (activities belong to their CarePlan)."""
    return "CarePlan" if kind == "CarePlanActivity" else kind


@cache
def _kind_terms(kind: str) -> frozenset[str]:
    """The words a question asks for ``kind`` with, as ``record_terms`` reads them: not the lab names
    (they name WHICH observation) nor the words that say how a row stands (MODIFIER_WORDS)."""
    nouns, others = KIND_VOCABULARY.get(kind, ("", ""))
    return record_terms(f"{nouns} {others}") - MODIFIER_WORDS


def _modified(intent: Intent) -> bool:
    """Does the question say how the rows must stand, or when (a status or time modifier)?"""
    return any(
        (intent.outstanding, intent.overdue, intent.upcoming, intent.missed, intent.recent,
         intent.in_progress, intent.past, intent.attended)
    )  # fmt: skip


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
# What a decline says of a class the record lacks, and the words a note sentence names it with.
_CLASS_MISSING: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("EMER", "emergency visit", ("emergency", "er", "ed")),
    ("IMP", "inpatient admission", ("admitted", "admission", "inpatient", "hospitalized")),
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
    # Does the row say why: its reason (FHIR reasonCode of an encounter, order or prescription), or a
    # task's own notes? An appointment or a result as ingested states none, so it never answers "why".
    reason: bool = False

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
        reason = kind == "Task" or bool(getattr(row, "reason", None))
        return cls(row.ref, kind, text, when, row.facility, labels, prior, name, brief or text, reason)


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

    def read(self, question: str) -> Intent:
        """``question`` read against this store's vocabulary: for callers outside a request (the UI
        header's fixed queries, benchmarks, tests). A request reads its question once, in its
        ``Reading``, and passes the Intent."""
        return read_intent(question, self.vocabulary)

    def lookup(self, intent: Intent, flt: RetrievalFilter, k: int, *, coverage: bool = False) -> Lookup:
        """Everything the pipeline asks of the record for one question, from its one reading (``intent``)
        and one session: the ranked records and, outside coverage, the named item the record lacks; a
        coverage question instead leads with the patient's condition it names."""
        with scoped_session(self.engine, RowScope.of_filter(flt)) as session:
            statements = self._named_statements(session, flt, intent)
            found = self._ranked(statements, intent, flt, k)
            if not coverage:
                return Lookup(found, self._missing(session, intent, flt, statements))
            named = self._named_conditions(session, intent, flt)
        ids = {c.source_id for c in named}
        return Lookup(named + [c for c in found if c.source_id not in ids])

    def search(self, intent: Intent, flt: RetrievalFilter, k: int) -> list[Candidate]:
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

    def named_conditions(self, intent: Intent, flt: RetrievalFilter) -> list[Candidate]:
        """The patient's conditions a coverage question names in its last "for ..." / "with ..." clause
        ("Does Medicare cover cardiac rehab for this patient's heart failure?": the heart failure on
        record), sure matches, active first: the patient half of "does it cover it for this patient"."""
        with scoped_session(self.engine, RowScope.of_filter(flt)) as session:
            return self._named_conditions(session, intent, flt)

    def _named_conditions(self, session: Session, intent: Intent, flt: RetrievalFilter) -> list[Candidate]:
        if flt.resource_types is not None and "Condition" not in flt.resource_types:
            return []  # a token without Condition scope reads no condition
        groups = intent.condition  # the last "for ..." clause that names something
        if not groups:
            return []
        # Read as "is it active": the active condition ranks first (its prior).
        named = [s for s in self._conditions(session, flt, _ACTIVE) if names_item(groups, s.name)]
        named.sort(key=lambda s: (-s.prior, -(s.when.timestamp() if s.when else 0.0), s.ref))
        return [self._candidate(s, 1.0, flt) for s in named[:1]]

    def missing_item(self, intent: Intent, flt: RetrievalFilter) -> tuple[str, tuple[Group, ...]] | None:
        """The item a question names that no row of a named kind (lab, drug, vaccine, procedure; a
        condition or allergy inside an item frame, ``Intent.named_kinds``) of the patient names.

        "What was the most recent hemoglobin A1c?" for a patient with no A1c: ("hemoglobin A1c",
        groups). None when the question names no such item or the record has it. The caller still
        looks at the notes before declining.
        """
        with scoped_session(self.engine, RowScope.of_filter(flt)) as session:
            statements = self._named_statements(session, flt, intent)
            return self._missing(session, intent, flt, statements)

    def _missing(
        self,
        session: Session,
        intent: Intent,
        flt: RetrievalFilter,
        statements: Sequence[Statement],
    ) -> tuple[str, tuple[Group, ...]] | None:
        """``missing_item`` over the rows ``_named_statements`` read for the question."""
        if (current := self._missing_current(session, intent, flt, statements)) is not None:
            return current, ()
        if (named := _named_specialty(intent)) is not None:
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
            for tok in dict.fromkeys(tokens(intent.text))
            if any(frozenset({singular(tok)}) in g for g in intent.naming) or tok in KIND_NOUNS
        ]  # with its noun: "No COVID-19 vaccine is on record", not "No COVID"
        # A note sentence must name the terms (context words aside) to answer instead.
        return _as_written(intent.text, words), intent.required or intent.naming

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
            return [s.text for s in self._statements(session, flt, Intent(kinds=frozenset(), past=True))]

    # ----------------------------------------------------------------- scoring
    def _score(self, s: Statement, intent: Intent) -> float:
        if intent.frame is not None and s.when is not None and not intent.frame.holds(s.when, self.today):
            return 0.0  # "admitted in September": an admission in May is not the one asked about
        if intent.why and not s.reason:
            return 0.0  # the notes say why a visit was missed; the appointment row only that it was
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
        # A row of the asked kind that names the asked item is not doubted for a word no code display
        # of the store and no terminology knows ("series" in "the HPV vaccine series"): no row could
        # say it, so it cannot tell rows apart.
        asked = intent.terms - intent.unheard if kind_match and named_row else intent.terms
        overlap = len(asked & said) / max(1, len(asked)) if asked else 0.0
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
            said = [f"{m.display or m.member_ref} — {_role_words(m.role)}" for m in people]
            since = f", since {_d(team.period_start)}" if team.period_start else ""
            title = team.name or team.display or "Care team"
            text = f"Care team: {title} ({status}{since}); members: {'; '.join(said)}."
            # The answer names the members whose role the question names ("who is coordinating her
            # heart care": the cardiology care coordinator), not the whole team; the team stays the
            # cited source (the CareTeam resource lists them).
            asked = [m for m, n in _asked_members(intent, said) if n]
            brief = f"Care team: {title} ({status}{since}); {'; '.join(asked)}." if asked else text
            current = status == "active"
            prior = (0.3 if current else -0.3) if not intent.past else (0.0 if current else 0.3)
            yield Statement.of(team, "CareTeam", text, team.period_start, prior, brief)

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


_STEMMER = snowballstemmer.stemmer("english")


def _stems(text: str) -> set[str]:
    """The Porter2 (Snowball) stems of a text's words: "coordinating" and "coordinator" share one."""
    return set(_STEMMER.stemWords(tokens(text)))


def _asked_members(intent: Intent, members: Sequence[str]) -> list[tuple[str, int]]:
    """Each member (as listed) with how many of the question's own words (not its kind words:
    "doctor", "team") the member's name and role name, a word counting once with its synonyms
    ("heart": cardiology); only the members naming the most count."""
    asked = [_stems(" ".join((w, *synonyms(w)))) for w in intent.words if not is_generic(w)]
    hits = [sum(1 for stems in asked if stems & _stems(m)) for m in members]
    best = max(hits, default=0)
    return [(m, n if n == best else 0) for m, n in zip(members, hits, strict=True)]


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


def _from_int(value: int, *, end_of_day: bool = False) -> datetime:
    d = date(value // 10000, value // 100 % 100, value % 100)
    dt = datetime(d.year, d.month, d.day)
    if end_of_day:
        dt += timedelta(days=1)
    return dt
