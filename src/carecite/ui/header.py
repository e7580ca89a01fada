"""The patient header: open items from the same structured retriever and filter an answer uses."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from carecite.domain import AccessScope, Candidate, RetrievalFilter, date_int
from carecite.retrieval.records.lookup import StructuredRetriever
from carecite.retrieval.records.statement import OPEN_REFERRAL, OPEN_TASK, UPCOMING_APPT


@dataclass(frozen=True)
class HeaderSection:
    title: str
    query: str
    kind: str  # resource type kept in this section
    open_statuses: frozenset[str]
    future_only: bool = False


HEADER_SECTIONS: tuple[HeaderSection, ...] = (
    HeaderSection(
        "Active problems",
        "active problems conditions",
        "Condition",
        frozenset({"active", "recurrence", "relapse"}),
    ),
    HeaderSection(
        "Open follow-ups",
        "outstanding follow-up tasks",
        "Task",
        frozenset(OPEN_TASK),
    ),
    HeaderSection(
        "Upcoming appointments",
        "upcoming appointments",
        "Appointment",
        frozenset(UPCOMING_APPT),
        future_only=True,
    ),
    HeaderSection("Pending referrals", "pending referrals", "ServiceRequest", frozenset(OPEN_REFERRAL)),
)
_STATUS = re.compile(r"status: ([a-z-]+)")


def header_rows(section: HeaderSection, candidates: Sequence[Candidate], today: date) -> list[Candidate]:
    """The retriever's statements that belong in one header section: that resource type, an open
    status, and (appointments) not in the past. Soonest/most recent first as the retriever ordered."""
    out: list[Candidate] = []
    for c in candidates:
        if c.source_ref.split("/", 1)[0] != section.kind:
            continue
        m = _STATUS.search(c.text)
        if m is None or m.group(1) not in section.open_statuses:
            continue
        if section.future_only and c.note_date and c.note_date < date_int(today):
            continue
        out.append(c)
    if section.future_only:
        out.sort(key=lambda c: c.note_date)
    return out


def patient_header(
    engine: Any, scope: AccessScope, patient_key: str, today: date, *, k: int = 30
) -> dict[str, list[Candidate]]:
    """Header sections from the same retriever and filter an answer uses, so the header shows only
    what the user could be cited (patient in scope, labels respected)."""
    flt = RetrievalFilter.for_request(scope, patient_key)
    retriever = StructuredRetriever(engine, today)
    return {
        s.title: header_rows(s, retriever.search(retriever.read(s.query), flt, k), today)
        for s in HEADER_SECTIONS
    }
