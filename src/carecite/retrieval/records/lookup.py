"""Lookup under the scope: the structured retriever. It reads the question's intent (kinds, status
and date modifiers, named items) as SQL conditions and ordering over the patient's rows (every query
under the request's row scope), scores the rendered statements and says how sure it is of each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import cache, cached_property

from sqlalchemy import Engine
from sqlmodel import Session

from carecite.domain import Candidate, RetrievalFilter, date_int
from carecite.reading.abbreviations import for_store
from carecite.reading.intent import NAMED_KINDS, Intent, read_intent
from carecite.reading.items import Group, names_item, record_terms, tokens
from carecite.reading.vocabulary import (
    KIND_NOUNS,
    KIND_VOCABULARY,
    KIND_WORDS,
    MODIFIER_WORDS,
    SPECIALTIES,
    is_generic,
)
from carecite.records.scoped import RowScope, scoped_session
from carecite.retrieval.records.missing import missing
from carecite.retrieval.records.naming import WORK_ROWS, named_hits, named_text, names_asked, tightest
from carecite.retrieval.records.render import Renderer
from carecite.retrieval.records.statement import Statement
from carecite.text import drug_names
from carecite.text.abbreviations import Abbreviations
from carecite.text.sections import section_vocabulary_words
from carecite.text.spelling import Speller
from carecite.text.terms import STOP_WORDS, singular


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
        self.render = Renderer(today)

    @cached_property
    def displays(self) -> tuple[str, ...]:
        """The store's distinct coded displays (read once per retriever)."""
        from carecite.records.vocabulary import display_texts

        return display_texts(self.engine)

    @cached_property
    def vocabulary(self) -> frozenset[str]:
        """Singular forms of every word of the store's coded displays."""
        from carecite.records.vocabulary import words_of

        return frozenset(singular(w) for w in words_of(self.displays))

    @cached_property
    def abbreviations(self) -> Abbreviations:
        """The published abbreviation list, each sense chosen by this store's displays."""
        return for_store(self.displays, self.vocabulary)

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
                return Lookup(found, missing(self.render, session, intent, flt, statements))
            named = self._named_conditions(session, intent, flt)
        ids = {c.source_id for c in named}
        return Lookup(named + [c for c in found if c.source_id not in ids])

    def search(self, intent: Intent, flt: RetrievalFilter, k: int) -> list[Candidate]:
        with scoped_session(self.engine, RowScope.of_filter(flt)) as session:
            return self._ranked(self._named_statements(session, flt, intent), intent, flt, k)

    def _ranked(
        self, statements: Sequence[Statement], intent: Intent, flt: RetrievalFilter, k: int
    ) -> list[Candidate]:
        scored = [(confidence(self._score(s, intent)), s) for s in tightest(list(statements), intent)]
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
        named = [s for s in self.render.statements(session, flt, _ACTIVE) if names_item(groups, s.name)]
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
            return missing(self.render, session, intent, flt, statements)

    def statement_texts(self, patient_key: str) -> list[str]:
        """Every statement ``search`` could return for the patient, whatever the question or scope:
        their text depends on the row and today only (the question changes scores, not words).
        Ingest embeds them ahead of the first question (``source_vectors``)."""
        from carecite.domain import SENSITIVE_LABELS

        flt = RetrievalFilter(
            patient_key=patient_key, allowed_labels=frozenset(SENSITIVE_LABELS), include_policies=False
        )
        with scoped_session(self.engine, RowScope.of_filter(flt)) as session:
            return [
                s.text for s in self.render.statements(session, flt, Intent(kinds=frozenset(), past=True))
            ]

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
            session, flt, intent, list(self.render.statements(session, flt, intent))
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
            for s in self.render.statements(session, flt, others)
            if names_asked(intent, s) and nouns & {singular(w) for w in tokens(s.name)}
        ]

    def _better_named_work(
        self, session: Session, flt: RetrievalFilter, intent: Intent, statements: list[Statement]
    ) -> list[Statement]:
        """When the rows that name the item name only part of what the question names ("where are we
        with the home INR monitor paperwork": the INR results name INR, not "home"), the patient's
        work (tasks, referrals, appointments, care plan activities) whose words name more of it
        ("Enroll in home INR monitoring") is read too, as of the asked kind; ``tightest`` then
        keeps the partly named rows out of the answer."""
        named = [s for s in statements if s.kind in intent.named_kinds and names_asked(intent, s)]
        if not named:
            return statements
        best = max(named_hits(intent, s.name) for s in named)
        if best >= len(intent.naming):
            return statements
        read = {s.ref for s in statements}
        # ... and so are the coded rows of the other named kinds: "when did she last have insertion of
        # subcutaneous contraceptive" reads contraceptive drugs by their class, but the procedure's
        # display names all of it.
        others = replace(intent, kinds=(WORK_ROWS | NAMED_KINDS) - intent.kinds)
        work = [
            replace(s, prior=s.prior + 1.0)  # named by more of the question than any asked row
            for s in self.render.statements(session, flt, others)
            if s.ref not in read
            and named_hits(intent, named_text(s)) > best
            and named_hits(intent, named_text(s), intent.required)
        ]
        return statements + work


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
