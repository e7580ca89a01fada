"""Flags on answers: a user says an answer was wrong, unsupported, missing information or about the
wrong patient; a reviewer confirms or dismisses. Tied to sources, so we learn which notes and
records are behind bad answers.

Rules, each in one place below:
  * only the user who received the answer may flag it (they saw it; nobody else did), and only an
    answer or decline, never an access denial;
  * only audit readers (``AUDIT_READER_ROLES``) review flags;
  * the cited and retrieved sources are taken from the request's audit record, not from the caller;
  * the free-text comment is redacted (Presidio) before it is stored or audited;
  * every flag and every review appends an audit record (kinds ``flag`` and ``flag_review``).
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from carecite.access.scope import AUDIT_READER_ROLES, CLINICAL_ROLES, AccessDenied, require_role
from carecite.audit.log import AuditLog
from carecite.ports import Redactor
from carecite.records import session_scope
from carecite.records import tables as t

FlagCategory = Literal["wrong", "unsupported", "missing_information", "wrong_patient"]
FLAG_CATEGORIES: tuple[str, ...] = get_args(FlagCategory)
CATEGORY_WORDS: dict[str, str] = {
    "wrong": "Wrong",
    "unsupported": "Not supported by the sources",
    "missing_information": "Missing information",
    "wrong_patient": "About the wrong patient",
}
Decision = Literal["confirmed", "dismissed"]
FLAGGABLE_KINDS = frozenset({"ask", "decline", "break_glass"})
MAX_COMMENT_CHARS = 1000


class FlagError(ValueError):
    """The flag or review request is malformed (unknown category, over-long comment, not open)."""


class FlagSource(BaseModel):
    model_config = ConfigDict(frozen=True)

    ref: str  # FHIR ResourceType/id, or Policy/<id>
    kind: str  # the note type ("Discharge summary"), or the record's resource type ("Task")
    cited: bool


class Flag(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    request_id: str
    created_at: str
    flagged_by: str
    category: str
    comment: str
    status: str
    reviewed_by: str | None = None
    reviewed_at: str | None = None
    review_note: str = ""
    sources: list[FlagSource] = Field(default_factory=list)

    @classmethod
    def from_row(cls, row: t.AnswerFlag) -> Flag:
        data = row.model_dump()
        data["sources"] = json.loads(row.sources or "[]")
        return cls.model_validate(data)


class SourceFlags(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str  # a source ref, or a note type / resource type
    flags: int  # flags not dismissed whose answer cited it
    confirmed: int  # of those, confirmed by a reviewer
    retrieved_only: int  # flags not dismissed whose answer retrieved it without citing it


class FlagSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    total: int = 0
    by_status: dict[str, int] = Field(default_factory=dict)
    by_category: dict[str, int] = Field(default_factory=dict)
    by_source: list[SourceFlags] = Field(default_factory=list)
    by_kind: list[SourceFlags] = Field(default_factory=list)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _source_kind(session: Session, source_id: str) -> tuple[str, str]:
    """(ref, kind) of a retrieved source id: a chunk's document and note type, or a record's type."""
    chunk = session.get(t.ChunkRow, source_id)
    if chunk is not None:
        return chunk.source_ref, chunk.note_type or chunk.source_type
    ref = source_id.split("#", 1)[0]  # CarePlan/<id>#activity=2 belongs to CarePlan/<id>
    if ref.startswith(("DocumentReference/", "DiagnosticReport/")):
        note = session.get(t.Note, ref)
        return ref, (note.note_type if note and note.note_type else ref.split("/", 1)[0])
    return ref, ref.split("/", 1)[0] if "/" in ref else "unknown"


def resolve_sources(
    session: Session, retrieved_ids: Sequence[str], cited_ids: Sequence[str]
) -> list[FlagSource]:
    """One entry per source document (several chunks of one note collapse), cited ones first."""
    cited_refs: dict[str, str] = {}
    retrieved_refs: dict[str, str] = {}
    for source_id in cited_ids:
        ref, kind = _source_kind(session, source_id)
        cited_refs.setdefault(ref, kind)
    for source_id in retrieved_ids:
        ref, kind = _source_kind(session, source_id)
        if ref not in cited_refs:
            retrieved_refs.setdefault(ref, kind)
    return [FlagSource(ref=r, kind=k, cited=True) for r, k in cited_refs.items()] + [
        FlagSource(ref=r, kind=k, cited=False) for r, k in retrieved_refs.items()
    ]


def flag_answer(
    engine: Engine,
    audit: AuditLog,
    redactor: Redactor,
    *,
    user_id: str,
    request_id: str,
    category: str,
    comment: str = "",
) -> Flag:
    """Record a flag on the answer ``request_id`` by the user who received it; audited either way."""
    if category not in FLAG_CATEGORIES:
        raise FlagError(f"unknown flag {category!r}; one of {', '.join(FLAG_CATEGORIES)}")
    comment = " ".join(comment.split())
    if len(comment) > MAX_COMMENT_CHARS:
        raise FlagError(f"the comment is {len(comment)} characters; the limit is {MAX_COMMENT_CHARS}")
    entry = audit.get(request_id)
    try:
        with Session(engine) as session:
            user = require_role(session, user_id, CLINICAL_ROLES)
            # The same answer for "not yours" and "no such request": a flag never reveals requests.
            if entry is None or entry.kind not in FLAGGABLE_KINDS or entry.user_id != user.id:
                raise AccessDenied("access denied: you can only flag answers you received")
            sources = resolve_sources(session, entry.retrieved_ids, entry.cited_ids)
    except AccessDenied as exc:
        audit.append(
            {
                "kind": "denied",
                "user_id": user_id,
                "details": {"action": "flag", "flagged_request_id": request_id, "reason": str(exc)},
            }
        )
        raise
    row = t.AnswerFlag(
        id=f"flag_{uuid.uuid4().hex[:16]}",
        request_id=request_id,
        created_at=_now(),
        flagged_by=user.id,
        category=category,
        comment=redactor.redact(comment) if comment else "",
        sources=json.dumps([s.model_dump() for s in sources]),
    )
    with session_scope(engine) as session:
        session.add(row)
    flag = Flag.from_row(row)
    audit.append(
        {
            "kind": "flag",
            "user_id": user.id,
            "role": user.role,
            "patient_key": entry.patient_key,
            "retrieved_ids": entry.retrieved_ids,
            "cited_ids": entry.cited_ids,
            "details": {
                "flag_id": flag.id,
                "flagged_request_id": request_id,
                "category": category,
                "comment": flag.comment,
                "source_refs": [s.ref for s in sources if s.cited],
                "retrieved_refs": [s.ref for s in sources if not s.cited],
            },
        }
    )
    return flag


def review_flag(
    engine: Engine,
    audit: AuditLog,
    redactor: Redactor,
    *,
    reviewer_id: str,
    flag_id: str,
    decision: str,
    note: str = "",
) -> Flag:
    """A reviewer confirms or dismisses an open flag; audited either way."""
    if decision not in get_args(Decision):
        raise FlagError(f"decision must be confirmed or dismissed, not {decision!r}")
    try:
        with Session(engine) as session:
            reviewer = require_role(session, reviewer_id, AUDIT_READER_ROLES)
    except AccessDenied as exc:
        audit.append(
            {
                "kind": "denied",
                "user_id": reviewer_id,
                "details": {"action": "flag_review", "flag_id": flag_id, "reason": str(exc)},
            }
        )
        raise
    note = redactor.redact(" ".join(note.split())[:MAX_COMMENT_CHARS]) if note.strip() else ""
    with session_scope(engine) as session:
        row = session.get(t.AnswerFlag, flag_id)
        if row is None:
            raise FlagError(f"no flag {flag_id!r}")
        if row.status != "open":
            raise FlagError(f"flag {flag_id} was already {row.status}")
        row.status, row.reviewed_by, row.reviewed_at, row.review_note = decision, reviewer.id, _now(), note
        session.add(row)
        session.flush()
        flag = Flag.from_row(row)
    audit.append(
        {
            "kind": "flag_review",
            "user_id": reviewer.id,
            "role": reviewer.role,
            "details": {
                "flag_id": flag.id,
                "flagged_request_id": flag.request_id,
                "decision": decision,
                "note": note,
            },
        }
    )
    return flag


def list_flags(engine: Engine, *, status: str | None = None, since: str | None = None) -> list[Flag]:
    """Flags, newest first (``since``: an ISO timestamp)."""
    q = select(t.AnswerFlag).order_by(col(t.AnswerFlag.created_at).desc())
    if status is not None:
        q = q.where(col(t.AnswerFlag.status) == status)
    if since is not None:
        q = q.where(col(t.AnswerFlag.created_at) >= since)
    with Session(engine) as session:
        return [Flag.from_row(r) for r in session.exec(q).all()]


def summarize(flags: Sequence[Flag]) -> FlagSummary:
    """Which source documents and which note types are behind flagged answers (dismissed flags excluded)."""
    by_status: dict[str, int] = defaultdict(int)
    by_category: dict[str, int] = defaultdict(int)
    docs: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    kinds: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for flag in flags:
        by_status[flag.status] += 1
        if flag.status == "dismissed":
            continue
        by_category[flag.category] += 1
        seen_kinds: dict[str, bool] = {}
        for s in flag.sources:
            counts = docs[s.ref]
            counts[0 if s.cited else 2] += 1
            counts[1] += int(s.cited and flag.status == "confirmed")
            seen_kinds[s.kind] = seen_kinds.get(s.kind, False) or s.cited
        for kind, cited in seen_kinds.items():  # count a flag once per note type
            counts = kinds[kind]
            counts[0 if cited else 2] += 1
            counts[1] += int(cited and flag.status == "confirmed")

    def rows(table: dict[str, list[int]]) -> list[SourceFlags]:
        out = [SourceFlags(name=k, flags=v[0], confirmed=v[1], retrieved_only=v[2]) for k, v in table.items()]
        return sorted(out, key=lambda r: (-r.flags, -r.confirmed, -r.retrieved_only, r.name))

    return FlagSummary(
        total=len(flags),
        by_status=dict(by_status),
        by_category=dict(by_category),
        by_source=rows(docs),
        by_kind=rows(kinds),
    )
