"""Which coverage policy names the service a coverage question asks about.

A coverage question names a service ("cardiac rehab") and perhaps its indication ("for this patient's
heart failure"); a policy is about that service when its title names it (as written, as a stem or by
initials) and its text speaks of what the title leaves out. The gate (``answering.gate``) declines on
what this decides; the pipeline keeps only the policies about the service asked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import NamedTuple

from carecite.answering.text import segment
from carecite.domain import Candidate
from carecite.reading.items import tokens
from carecite.reading.vocabulary import SYNONYMS
from carecite.text.terms import STOP_WORDS

# Words of a coverage question that ask about coverage, not about which service.
COVERAGE_WORDS = frozenset(
    "medicare medicaid cover covered covers covering coverage conditions requirements ncd national payer payers insurance insurer pay pays paid "
    "reimburse reimbursed reimbursement benefit benefits eligible eligibility policy policies criteria prior "
    "authorization auth preauthorization need needs needed require requires required necessary approve "
    "approved under patient not noncovered".split()
)
SERVICE_SHARE = 0.5  # of the service's words a policy title must name (dev split of the cms set)


# "non-covered" asks about coverage; "non-emergency" names a service of its own.
_NON_COVERED = re.compile(r"\bnon[\s-]?covered\b", re.I)


def _coverage_tokens(question: str) -> list[str]:
    return tokens(_NON_COVERED.sub("noncovered", question))


# Words that introduce an example of the service ("mobility assistive equipment like a walker"): the
# example stays a service word, the word introducing it names nothing ("such as", "e.g." are stop
# words or split away already).
_EXAMPLE_WORDS = frozenset({"like", "including"})


# Nouns that hold a service without saying which one: "DSMT classes", "rehabilitation services",
# "Home Use of Oxygen" name the service by the other words; a policy need not say "classes".
_CONTAINER_NOUNS = frozenset(
    "service services program programs class classes session sessions course courses use uses".split()
)


def _names_service(word: str) -> bool:
    """Can this word of a coverage question name its service (not a function, coverage, example or
    container word)?"""
    return (
        word not in STOP_WORDS
        and word not in COVERAGE_WORDS
        and word not in _EXAMPLE_WORDS
        and word not in _CONTAINER_NOUNS
        and len(word) > 1
    )


def service_words(question: str) -> list[str]:
    """The words a coverage question names its service with: "Does Medicare cover cardiac rehab for
    this patient's heart failure?" → cardiac, rehab, heart, failure."""
    return list(dict.fromkeys(w for w in _coverage_tokens(question) if _names_service(w)))


# "<service> for <indication>": a title's first "for" ("to treat", "in") ends its service ("Cardiac
# Rehabilitation Programs for Chronic Heart Failure", "Home Use of Oxygen in Approved Clinical Trials");
# a question's first "for / with / given" clause after words naming a service is that service's
# indication ("cardiac rehab for this patient's heart failure").
_TITLE_FOR = re.compile(r"\s+(?:for|to treat|in)\s+", re.I)
_QUESTION_FOR = re.compile(r"\b(?:for|with|given|in)\s+", re.I)


def title_service(title: str) -> str:
    """The service a policy title names, without its indication."""
    return _TITLE_FOR.split(title, maxsplit=1)[0]


def title_core(title: str) -> str:
    """The service a policy title names before its first qualifier clause (for / with / given / in), read with
    the question's own clause grammar: "Lung Cancer Screening" of "Lung Cancer Screening with Low Dose
    Computed Tomography (LDCT)"."""
    core = _QUESTION_FOR.split(title, maxsplit=1)[0]
    return core if service_words(core) else title


def asked_service(question: str) -> tuple[list[str], list[str]]:
    """The words naming the service itself and those naming its indication: (["tens"], ["acute",
    "post", "operative", "pain"]) of "Does Medicare cover TENS for acute post-operative pain?". Where
    nothing names a service before the clause ("What are the Medicare criteria for cardiac
    rehabilitation?") the clause is the service, with no indication."""
    for m in _QUESTION_FOR.finditer(question):
        if (head := service_words(question[: m.start()])) and (rest := service_words(question[m.end() :])):
            return head, rest
    return service_words(question), []


def title_names(title: str, word: str) -> bool:
    """Does a policy title name ``word``: as written, as a stem ("rehab" of "Rehabilitation"), or as
    the initials of consecutive title words ("MRI" of "Magnetic Resonance Imaging")?"""
    words = tokens(title)
    for w in words:
        if _same(word, w):
            return True
    initials = "".join(w[0] for w in words)
    return len(word) >= 2 and word.isalpha() and word in initials


class PolicyView(NamedTuple):
    """What the coverage checks read of a policy: its title and its whole text."""

    title: str
    text: str


class AskedService(NamedTuple):
    """What a coverage question names, read once per question: its service words (``service_words``),
    and the words naming the service itself and its own indication clause, if any (``asked_service``)."""

    question: str
    words: list[str]
    head: list[str]
    indication: list[str]

    @classmethod
    def of(cls, question: str) -> AskedService:
        return cls(question, service_words(question), *asked_service(question))


def names_service(asked: AskedService, policy: PolicyView) -> bool:
    """Is this policy the one asked about: its title names every word of the service asked ("Cardiac
    Rehabilitation Programs for Chronic Heart Failure" for "cardiac rehab for heart failure"), as a
    record matching by code is the record asked about? A title with no indication of its own ("Home
    Use of Oxygen") need name only the service, not the patient's condition ("home oxygen for this
    patient's COPD"), when its text speaks of that condition (``_about``)."""
    if asked.words and all(title_names(policy.title, w) for w in asked.words):
        return True
    own_indication = policy.title[len(title_service(policy.title)) :].strip()
    return (
        bool(asked.head and asked.indication)
        and not own_indication
        and all(title_names(policy.title, w) for w in asked.head)
        and _about(asked, policy)
    )


def _about(asked: AskedService, policy: PolicyView) -> bool:
    """Is the policy about the service: its title names at least ``SERVICE_SHARE`` of the service's
    words, and what the title leaves out ("knee" of "MRI of the knee", "AFib" of "home INR monitoring
    for the AFib") its text speaks of. "Wrong body part" is nowhere in the wrong-patient policy: that
    is the sibling policy's service, another service."""
    if sum(title_names(policy.title, w) for w in asked.words) < SERVICE_SHARE * len(asked.words):
        return False
    # The title's service, not only its indication, is what the question names: "Heart Transplants"
    # shares "heart" with "Cardiac Rehabilitation Programs for Chronic Heart Failure", another service.
    # Any of the question's service words may name it, in either order ("Is a patient with heart
    # failure eligible for cardiac rehab?"). The service is what the title names before any
    # qualifier: "Islet Cell Transplantation in the Context of a Clinical Trial" is not about
    # "routine costs in clinical trials", nor "Lung Cancer Screening with Low Dose Computed
    # Tomography" about computed tomography in general (nor, then, "Is LDCT covered?": a decline).
    service = title_service(policy.title)
    if not any(title_names(title_core(policy.title), w) for w in asked.words):
        return False
    # A title's indication narrows the policy to it: "TENS for Chronic Low Back Pain" says nothing of
    # TENS in general. A question naming no indication must name the title's; one naming its own
    # ("for the AFib") is checked below against what the policy's text speaks of.
    indication = service_words(policy.title[len(service) :])
    if indication and not asked.indication and not any(_named_in(w, asked.words) for w in indication):
        return False
    words = _own_words(policy.text)
    return all(_spoken_of(run, words) for run in _left_out_runs(asked.question, policy.title))


def _named_in(word: str, asked: list[str]) -> bool:
    """Does one of the question's service words name a title word: as written or as a stem, or by
    its initials?"""
    return any(_same(word, t) or title_names(word, t) for t in asked)


# "See §10.2 for an explanation of coverage of TENS for acute post-operative pain": a sentence that
# points to another section speaks of that section's service, not of this policy's.
_CROSS_REFERENCE = re.compile(r"^\W*(?:see|refer to)\b", re.I)


@lru_cache(maxsize=512)
def _own_words(text: str) -> list[str]:
    """The policy's words outside its cross-references (policies do not change between requests)."""
    return [w for seg in segment(text) if not _CROSS_REFERENCE.search(seg.text) for w in tokens(seg.text)]


def _left_out_runs(question: str, title: str) -> list[list[str]]:
    """Service words the title does not name, grouped as they stand together in the question. A
    container noun stays with the words before it ("evaluation services" is a service of its own
    that a pacemaker policy need not speak of) and alone is no run ("DSMT classes")."""
    runs: list[list[str]] = [[]]
    for word in _coverage_tokens(question):
        if word in _CONTAINER_NOUNS and not title_names(title, word):
            if runs[-1]:
                runs[-1].append(word)
                runs.append([])
        elif not _names_service(word) or title_names(title, word):
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append(word)
    return [r for r in runs if r]


def _spoken_of(run: list[str], words: list[str]) -> bool:
    """A lone word anywhere in the text, as written, as a stem ("walker" of "walkers") or as a curated
    synonym ("afib": atrial fibrillation); words that stood together ("body part") together."""
    if len(run) == 1:
        vocabulary = set(words)
        return any(
            _same(f, t)
            for f in [run[0], *(w for syn in SYNONYMS.get(run[0], ()) for w in syn.split())]
            for t in vocabulary
        )
    return any(
        all(_same(f, t) for f, t in zip(run, words[i : i + len(run)], strict=True))
        for i in range(len(words) - len(run) + 1)
    )


def _same(word: str, token: str) -> bool:
    return word == token or (
        min(len(word), len(token)) >= 4 and (token.startswith(word) or word.startswith(token))
    )


def on_service(
    asked: AskedService, policies: Mapping[str, PolicyView], evidence: Sequence[Candidate]
) -> list[Candidate]:
    """The evidence without the policies about another service: a coverage answer quotes only a policy
    about the service asked, never a neighbour ranked beside it. Records and notes stay.

    ``policies``: policy doc id → title and text, for the policies among ``evidence``.
    """
    if not asked.words:
        return list(evidence)
    # One verdict per policy, however many of its chunks were kept.
    docs = {c.doc_id for c in evidence if c.source_type == "policy" and c.doc_id in policies}
    about = {doc: _about(asked, policies[doc]) for doc in docs if doc is not None}
    return [c for c in evidence if c.source_type != "policy" or about.get(c.doc_id or "", False)]
