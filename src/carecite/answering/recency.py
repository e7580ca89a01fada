"""Questions about the present, answered from notes: the newest note that answers, with its date.

"What insurance does she have now?", "current living situation": notes written at different times
may disagree, and the one written last is the one in force. Among the notes whose sentences answer
about equally well (at least ``EQUAL_SHARE`` of the best relevance), the newest note answers and the
older notes' sentences are left out; the first sentence quoted from each note then states the note's
date ("(note of 2026-11-17)"), which verification checks against the cited source's date.
Structured records are untouched: they carry their own status and dates.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol, TypeVar

from carecite.domain import Candidate

# A note sentence with at least this share of the best sentence's relevance answers equally well
# (the wording of "lives with her daughter" and "lives alone" matches "who does she live with" unequally).
EQUAL_SHARE = 0.85

_PRESENT = re.compile(
    r"\b(now|nowadays|current|currently|presently|at present|these days|at this time|as of today|"
    r"right now|at the moment)\b",
    re.I,
)
# The phrase that states a quoted sentence's note date; verification reads it back.
NOTE_DATE = re.compile(r"\s*\(note of (\d{4}-\d{2}-\d{2})\)")


class _Pick(Protocol):
    @property
    def source(self) -> int: ...

    @property
    def relevance(self) -> float: ...


P = TypeVar("P", bound=_Pick)


def asks_present(question: str) -> bool:
    """Does the question ask how things are now ("now", "current", "these days")?"""
    return bool(_PRESENT.search(question))


def iso_date(note_date: int) -> str | None:
    """20261117 -> "2026-11-17"; 0 (unknown) -> None."""
    if not note_date:
        return None
    d = f"{note_date:08d}"
    return f"{d[:4]}-{d[4:6]}-{d[6:8]}"


def _dated_note(cand: Candidate) -> bool:
    return cand.source_type == "note_chunk" and bool(cand.note_date)


def newest_first(question: str, picks: Sequence[P], sources: Sequence[Candidate]) -> list[P]:
    """For a question about the present: the newest note among those answering equally well answers,
    its sentences first; other notes' sentences are dropped. Otherwise ``picks`` unchanged."""
    if not picks or not asks_present(question):
        return list(picks)
    best = max(p.relevance for p in picks)
    contenders = [
        p for p in picks if _dated_note(sources[p.source - 1]) and p.relevance >= best * EQUAL_SHARE
    ]
    if not contenders:
        return list(picks)
    newest = max(contenders, key=lambda p: sources[p.source - 1].note_date)
    doc = sources[newest.source - 1].doc_id
    kept = [
        p
        for p in picks
        if sources[p.source - 1].source_type != "note_chunk" or sources[p.source - 1].doc_id == doc
    ]
    return sorted(kept, key=lambda p: (sources[p.source - 1].doc_id != doc, -p.relevance))


def with_note_date(cited: str, source: int, cand: Candidate) -> str:
    """'Lives alone [S2].' -> 'Lives alone (note of 2026-11-17) [S2].' for a dated note."""
    when = iso_date(cand.note_date) if _dated_note(cand) else None
    marker = f" [S{source}]"
    at = cited.rfind(marker)
    if when is None or at < 0:
        return cited
    return f"{cited[:at]} (note of {when}){cited[at:]}"


def with_note_dates(
    question: str, cited: Sequence[str], sources_of: Sequence[int], sources: Sequence[Candidate]
) -> list[str]:
    """For a question about the present, the first cited sentence of each note states its date."""
    if not asks_present(question):
        return list(cited)
    out: list[str] = []
    seen: set[str | None] = set()
    for sentence, source in zip(cited, sources_of, strict=True):
        cand = sources[source - 1]
        if _dated_note(cand) and cand.doc_id not in seen:
            seen.add(cand.doc_id)
            sentence = with_note_date(sentence, source, cand)
        out.append(sentence)
    return out
