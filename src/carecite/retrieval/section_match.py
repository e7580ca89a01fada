"""Sources that hold the section a question asks about.

"What was the impression?" is answered by the IMPRESSION section of the note, whatever words it
uses: a section header is structural evidence, like a record that matches by code. The re-ranker
scores word and meaning overlap, which undervalues a one-line section ("IMPRESSION: MRSA
infection.") against a long narrative, so a chunk holding the asked section is kept in the
re-ranking pool and keeps at least ``SECTION_FLOOR``, a calibrated score above the gate.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from carecite.domain import Candidate
from carecite.text.assertion import Group, speaks_to
from carecite.text.sections import BY_NAME, Header, SectionKind, holds_kind
from carecite.text.sentences import find_sections

SECTION_FLOOR = 0.6
Topic = Sequence[Sequence[Group]]


def titles(candidate: Candidate) -> list[str]:
    """The section titles a chunk spans, as written."""
    return [t for t in (candidate.section or "").split(" / ") if t]


def holds_section(candidate: Candidate, asked: SectionKind) -> bool:
    return candidate.source_type in ("note_chunk", "policy") and any(
        holds_kind(asked, title, candidate.note_type) for title in titles(candidate)
    )


def headers(candidates: Sequence[Candidate]) -> list[Header]:
    """Every section header the patient's note chunks among ``candidates`` open, each with the first
    line under it (empty when nothing is: "VITALS:" left blank in a template)."""
    out: dict[str, Header] = {}
    for c in candidates:
        if c.source_type != "note_chunk":
            continue
        for sec in find_sections(c.text):
            if sec.title is None:
                continue
            line = c.text[sec.body : sec.end].strip(" \t\r\n,:").split("\n")[0].strip()
            if sec.title not in out or (line and not out[sec.title].first_line):
                out[sec.title] = Header(sec.title, line[:200])
    return list(out.values())


def holds_answer(candidate: Candidate, asked: SectionKind) -> bool:
    """Holds the asked section, or the one that answers when it says nothing (``SectionKind.instead``)."""
    return holds_section(candidate, asked) or (
        asked.instead is not None and holds_section(candidate, BY_NAME[asked.instead])
    )


def _answers(c: Candidate, asked: SectionKind, topic: Topic = ()) -> bool:
    if not asked.lifts:
        return False
    if holds_section(c, asked):
        return True
    if topic and c.source_type == "note_chunk" and speaks_to(c.text, topic):
        # "Does she live by herself?" over "No smoking or alcohol use and lives alone." in the past
        # medical history: a sentence asserting the asked habit or situation answers, wherever it is.
        return True
    # "Patient currently has Blue Cross Blue Shield": a note sentence naming the payer answers "what
    # insurance", though it shares no word with the question.
    return (
        asked.prose_answers
        and asked.prose is not None
        and c.source_type == "note_chunk"
        and bool(asked.prose.search(c.text))
    )


def section_pool(
    fused: Sequence[Candidate], pool: Sequence[Candidate], asked: SectionKind | None
) -> list[Candidate]:
    """``pool`` plus every fused candidate below it that holds the asked section."""
    out = list(pool)
    if asked is None:
        return out
    seen = {c.source_id for c in out}
    docs = {c.doc_id for c in out}
    out += [
        c
        for c in fused
        if c.source_id not in seen
        and (_answers(c, asked) or (not asked.lifts and c.doc_id in docs and holds_answer(c, asked)))
    ]
    return out


def favour_section(
    ranked: Sequence[Candidate],
    asked: SectionKind | None,
    *,
    named: Collection[str] = (),
    topic: Topic = (),
) -> list[Candidate]:
    """After re-ranking: a chunk holding the asked section keeps at least ``SECTION_FLOOR``; among
    them the most recent note comes first ("What is the plan?" means the latest plan), unless the
    question names more than the section (``SectionKind.latest``).

    ``named``: for coverage, the policies whose title names every word of the service asked.
    ``topic``: a yes/no question's (``assertion.yes_no_topic``): a chunk asserting it is lifted too."""
    if asked is None:
        return list(ranked)
    if not asked.lifts:
        return _beside_best(ranked, asked, named)
    # A question naming more than the section ("when is his ortho follow up") keeps the re-ranker's
    # choice of note: only that note's section is lifted, never another note's "Follow-up".
    best_note = next((c.doc_id for c in ranked if c.source_type == "note_chunk"), None)
    lifted = [
        c.model_copy(update={"score": max(c.score, SECTION_FLOOR)})
        if _answers(c, asked, topic) and (asked.latest or c.doc_id == best_note)
        else c
        for c in ranked
    ]
    order = {c.source_id: i for i, c in enumerate(lifted)}
    return sorted(
        lifted,
        key=lambda c: (
            -c.score,
            -(c.note_date if asked.latest and holds_section(c, asked) else 0),
            order[c.source_id],
        ),
    )


def _beside_best(ranked: Sequence[Candidate], asked: SectionKind, named: Collection[str]) -> list[Candidate]:
    """Coverage: the policy asked about is the best-ranked one whose title names the whole service
    (a policy found by its title, as a record by its code: it keeps at least ``SECTION_FLOOR``), else
    the re-ranker's best policy; its asked subsection then ranks with it.

    Holding a covered-indications section says nothing about which policy is asked about (every
    policy has one), so it never raises a policy the title does not name; it only brings the asked
    subsection of the chosen policy into the context beside the chunk that won.
    """
    policies = [c for c in ranked if c.source_type == "policy"]
    top = next((c for c in policies if c.doc_id in named), policies[0] if policies else None)
    if top is None:
        return list(ranked)
    # A named policy leads: it takes the best score any policy has (at least the floor), so the
    # answer quotes it and not a neighbour the re-ranker liked better.
    score = max(policies[0].score, SECTION_FLOOR) if top.doc_id in named else top.score
    lifted = [
        c.model_copy(update={"score": score})
        if c.doc_id == top.doc_id and c.score < score and (c is top or holds_answer(c, asked))
        else c
        for c in ranked
    ]
    order = {c.source_id: i for i, c in enumerate(lifted)}
    return sorted(lifted, key=lambda c: (-c.score, c.doc_id != top.doc_id, order[c.source_id]))
