"""What kind of question this is, read before retrieval: it decides whether policies are searched
and whether the question is in scope at all (carecite answers about ONE patient, or about coverage).

Clauses that reach for other patients or try to talk the system out of its rules are dropped from
the text that drives retrieval and generation. They could widen nothing anyway (access is decided
before retrieval), but left in they dilute retrieval. Only a question with nothing else left is
declined as out of scope.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from carecite.reading.cues import CueRun, cue
from carecite.text.sections import OWN_PLAN
from carecite.text.shorthand import write_out

# Three questions that share words and differ in what answers them:
#  - coverage: "Does Medicare cover CPAP for her sleep apnea?", "Does an MRI need prior authorization?"
#    → the payer's coverage policies (with the patient's record beside them);
#  - insurance: "What health insurance does the patient have?", "Is he on Medicaid?" → the patient's
#    own record and notes (Synthea notes name the insurer), never the policies;
#  - a prior authorization on record: "Was the prior authorization for the MRI approved?" → the
#    patient's tasks and referrals.
COVERAGE = re.compile(
    r"\b(cover(ed|s|age)?|ncd|national coverage|reimburs\w*|benefits?|eligib\w*|polic(y|ies)|criteria|"
    r"pays? for|medicare|medicaid|payer)\b",
    re.I,
)
AUTH_RULE = re.compile(
    r"\b(prior auth\w*|pre-?auth\w*|pre-?certification)\b.{0,40}\b(require[sd]?|need(s|ed)?|necessary)\b|"
    r"\b(require[sd]?|need(s|ed)?|necessary)\b.{0,40}\b(prior auth\w*|pre-?auth\w*|pre-?certification)\b",
    re.I,
)
MULTI_PATIENT = re.compile(
    r"\b(all|every|other|any other|list( of)?|how many)\s+(the\s+)?(patients|people|members|persons)\b|"
    # "List every patient with a psychiatric diagnosis" (but "covered for every patient over 65" asks
    # about coverage)
    r"\b(list|show|name|find|give me)\s+(every|each|all)\s+patients?\b|"
    r"\b(patients?|people) (at|in|of) (the|this|another) (facility|clinic|hospital|practice)\b",
    re.I,
)
INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override|bypass|skip)\b.{0,40}?\b(instructions?|rules|filters?|restrictions|"
    r"polic(y|ies)|guardrails|prompt|access)\b|\bshow me (the |all )?(restricted|hidden|sensitive)\b|"
    r"\b(system prompt|developer mode|jailbreak)\b",
    re.I,
)
COVERAGE_CUE = cue(
    "coverage", "curated", "curated: payer and coverage words (CMS NCD wording)", pattern=COVERAGE
)
AUTH_RULE_CUE = cue("prior_auth_rule", "curated", "curated: prior authorization wording", pattern=AUTH_RULE)
MULTI_PATIENT_CUE = cue(
    "multi_patient", "curated", "curated: clauses reaching for other patients", pattern=MULTI_PATIENT
)
INJECTION_CUE = cue(
    "injection", "curated", "curated: clauses overriding the rules (prompt injection)", pattern=INJECTION
)
OWN_PLAN_CUE = cue(
    "own_insurance", "curated", "curated: the patient's own plan (text.sections)", pattern=OWN_PLAN
)
CLAUSE = re.compile(r"(?<=[.?!;])\s+|\s+(?:and then|after that|also|then)\s*,?\s+", re.I)


@dataclass(frozen=True)
class QuestionKind:
    coverage: bool  # answered from coverage policies (beside the patient's record)
    insurance: bool  # about the patient's own insurance: their record and notes answer
    multi_patient: bool  # nothing is left once other-patient and injection clauses are dropped
    clean: (
        str  # the question, shorthand written out, without those clauses: what retrieval and generation see
    )
    dropped: tuple[str, ...] = ()


def _to_drop(run: CueRun, clause: str) -> bool:
    """A clause reaching for other patients or overriding the rules; both cues are tried, so each
    one that fires is recorded."""
    other = run.hit(MULTI_PATIENT_CUE, text=clause)
    injected = run.hit(INJECTION_CUE, text=clause)
    return other or injected


def classify(question: str, cues: CueRun | None = None) -> QuestionKind:
    """``cues``: which cues are switched off, and where the ones that fire are recorded."""
    run = cues if cues is not None else CueRun()
    # Shorthand is written out first, so ``clean`` (what retrieval and generation read) says
    # "patient's last behavioral health appointment", not "pt's last BH appt".
    question = write_out(question)
    clauses = [c.strip() for c in CLAUSE.split(question) if c and c.strip()]
    dropped = tuple(c for c in clauses if _to_drop(run, c))
    clean = " ".join(c for c in clauses if c not in dropped).strip()
    own_plan, auth_rule = run.hit(OWN_PLAN_CUE, text=clean), run.hit(AUTH_RULE_CUE, text=clean)
    insurance = own_plan and not auth_rule
    covered = run.hit(COVERAGE_CUE, text=clean)
    return QuestionKind(
        coverage=not insurance and (covered or auth_rule),
        insurance=insurance,
        multi_patient=bool(dropped) and not re.search(r"[a-z]{3,}", clean, re.I),
        clean=clean or question,
        dropped=dropped,
    )


# "Mr. Baker", "Ardath's": a person the question is about. A clinician ("Dr. Patel's plan") is not,
# nor a disease or a payer ("Parkinson's", "Medicare's"): those are vocabulary, not people.
_TITLED = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx)\.?\s+([A-Z](?:'[A-Z])?[A-Za-z-]+)")
_POSSESSIVE = re.compile(r"(?<!\bDr\. )(?<!\bDr )(?<!\bDoctor )\b([A-Z][a-z][A-Za-z-]*)(?:'s|’s)\b")
NOT_A_PERSON = frozenset(
    "what who where when how that it there here this everyone someone nobody "
    "patient patients medicare medicaid today tomorrow yesterday mother father mom dad husband wife "
    "son daughter sister brother family doctor nurse cardiology clinic hospital".split()
)


def _name_words(name: str) -> list[str]:
    """A stored name's words as a question would type them: Synthea's digits dropped ("Alvin56")."""
    return [w for w in re.sub(r"\d+", "", name).casefold().split() if w]


def other_patient_named(question: str, others: Iterable[tuple[str, str]], own: tuple[str, str]) -> str | None:
    """Another patient of the directory the question names by full name (given then family, in any
    case: "what oxygen flow is dorothy jones on"), as the question wrote it; None when the name is
    also the selected patient's. A shared surname alone names no one else."""
    own_full = " ".join(_name_words(own[0])[:1] + _name_words(own[1]))
    for given, family in others:
        first, last = _name_words(given)[:1], _name_words(family)
        if not first or not last:
            continue
        full = " ".join(first + last)
        if full == own_full:
            continue
        m = re.search(r"\b" + r"\s+".join(map(re.escape, full.split())) + r"\b", question, re.I)
        if m:
            return m.group(0)
    return None


def other_person(question: str, own_name_words: set[str]) -> str | None:
    """The first person the question names who is not the selected patient, if any: a titled or
    possessive name ("Mr. Baker", "Ardath's") not the patient's (see also ``other_patient_named``).

    Asked about Alvin with "What was Ardath's last A1c?", answering with Alvin's A1c shows one
    patient's fact as another's: the question must be declined, not answered for the wrong person.
    """
    from carecite.privacy.clinical_terms import CLINICAL_WORDS

    for rx in (_TITLED, _POSSESSIVE):
        for m in rx.finditer(question):
            name = m.group(1)
            word = name.casefold()
            if word in own_name_words or word in NOT_A_PERSON or word in CLINICAL_WORDS:
                continue
            return name
    return None
