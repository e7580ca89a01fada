"""A decline said in plain words: why, and what was searched."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from carecite.domain import DECLINE_WORDS, Answer

DECLINE_HEADLINES: dict[str, str] = dict(DECLINE_WORDS)  # one wording, kept in domain.py
RETRIEVER_WORDS: dict[str, str] = {
    "dense": "meaning search over notes",
    "lexical": "keyword search over notes",
    "structured": "structured record (tasks, referrals, appointments, labs, medications)",
}


@dataclass(frozen=True)
class DeclineView:
    headline: str
    detail: str | None
    searched: list[str]  # what was searched, in plain words


def decline_view(answer: Answer, *, filters: Sequence[str] = ()) -> DeclineView:
    """A decline, said plainly: why, and what was searched (never an empty answer box)."""
    reason = answer.decline_reason or "no_evidence"
    headline = DECLINE_HEADLINES.get(reason, "No answer was given.")
    detail = answer.decline_detail if answer.decline_detail and answer.decline_detail != headline else None
    searched: list[str] = []
    if reason == "access_denied":
        searched.append("Nothing was searched: access is decided before any retrieval.")
    elif reason == "out_of_scope":
        searched.append("Nothing was searched: the question is not about this patient's record.")
    else:
        by_retriever: dict[str, int] = {}
        for r in answer.retrieved:
            by_retriever[r.retriever] = by_retriever.get(r.retriever, 0) + 1
        for name in ("structured", "dense", "lexical"):
            searched.append(f"{RETRIEVER_WORDS[name]}: {by_retriever.get(name, 0)} candidate source(s)")
        if answer.retrieved:
            best = max(answer.retrieved, key=lambda r: r.score)
            searched.append(f"best match: {best.source_ref} (score {best.score:.2f})")
    searched.extend(filters)
    return DeclineView(headline=headline, detail=detail, searched=searched)


def narrowing_words(note_types: Sequence[str], date_from: date | None, date_to: date | None) -> list[str]:
    out: list[str] = []
    if note_types:
        out.append("only note types: " + ", ".join(note_types))
    if date_from or date_to:
        out.append(f"only dates {date_from or 'any'} to {date_to or 'any'}")
    return out
