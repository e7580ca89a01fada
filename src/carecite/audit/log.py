"""The tamper-evident audit trail: append-only, hash-chained records in the system of record.

Every record stores ``prev_hash`` (the previous record's hash; 64 zeros for the first) and
``hash = sha256(canonical JSON of the record's fields + prev_hash)``. Editing a field, deleting a
record or reordering records breaks the chain, and ``AuditLog.verify`` names the first bad record.
A one-row table, ``AuditChainHead``, names the last record, so cutting records off the end is
caught too, and it is the lock that serialises appends across processes (see ``append``).

Append-only is enforced twice:
  * in code: ``AuditLog`` has no update or delete method;
  * in the database: on SQLite, ``records.audit_schema.install_audit_protection`` (called by
    ``records.make_engine``)
    installs triggers that abort any UPDATE or DELETE on ``auditrecord`` and any DELETE or
    rewind of ``auditchainhead``. On PostgreSQL, the versioned schema (records/postgres.py) installs
    the same rules as triggers, and ``carecite db migrate --app-role`` grants the application role
    INSERT/SELECT only on ``auditrecord``.

Someone with raw write access to the database can drop the triggers and even rewrite the whole
chain consistently; to catch that too, anchor the head hash outside the database (``audit
verify`` prints it, e.g. into a ticket or a WORM log) and compare later.

Question and answer text arrive already redacted: this module stores what it is given.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, get_args

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Connection, Engine
from sqlmodel import col

from carecite.domain import AccessScope, Answer
from carecite.records.audit_schema import GENESIS_HASH, install_audit_protection, last_record
from carecite.records.tables import AuditChainHead, AuditRecord

CHAIN_VERSION = 1
AuditKind = Literal[
    "ask",
    "decline",
    "denied",
    "break_glass",
    "source_view",
    "security_event",
    "search",
    "flag",
    "flag_review",
]
AUDIT_KINDS: tuple[str, ...] = get_args(AuditKind)
# Kinds that record how a request ended (a break-the-glass answer is recorded as "break_glass";
# a retrieval-only request, POST /v1/search, as "search"). Flags (feedback/flags.py) are not outcomes.
OUTCOME_KINDS: tuple[str, ...] = ("ask", "decline", "denied", "break_glass", "search")

# The fields covered by the hash, fixed so that adding a column later never changes old hashes.
HASHED_FIELDS: tuple[str, ...] = (
    "seq",
    "request_id",
    "ts",
    "kind",
    "user_id",
    "role",
    "patient_key",
    "scope",
    "question",
    "answer",
    "retrieved_ids",
    "cited_ids",
    "decline_reason",
    "prompt_hash",
    "model",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "latency_ms",
    "break_glass_reason",
    "details",
    "prev_hash",
)


class AuditChainError(RuntimeError):
    """The chain cannot be appended to safely (its head is missing while records exist)."""


def _canonical(value: object) -> str:
    # default=str: a stray date or enum in ``details`` is stored as text rather than failing the
    # append; the hash covers the stored string, so verification never re-serialises objects.
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=str
    )


def record_hash(fields: Mapping[str, object]) -> str:
    """sha256 over the canonical JSON of the hashed fields (stored column values, prev_hash included)."""
    payload = {name: fields.get(name) for name in HASHED_FIELDS}
    payload["v"] = CHAIN_VERSION
    return hashlib.sha256(_canonical(payload).encode("utf-8")).hexdigest()


class AuditEvent(BaseModel):
    """What a caller hands ``AuditLog.append``. Unknown keys are an error, so a typo never loses data.

    ``question`` and ``answer`` must already be redacted. ``ts``, ``seq`` and the hashes are set by
    the log, never by the caller.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: AuditKind
    request_id: str | None = None  # generated when absent
    user_id: str | None = None
    role: str | None = None
    patient_key: str | None = None
    scope: dict[str, Any] = Field(default_factory=dict)
    question: str | None = None
    answer: str | None = None
    retrieved_ids: list[str] = Field(default_factory=list)
    cited_ids: list[str] = Field(default_factory=list)
    decline_reason: str | None = None
    prompt_hash: str | None = None
    model: str | None = None
    prompt_tokens: int = Field(default=0, ge=0)
    completion_tokens: int = Field(default=0, ge=0)
    cost_usd: float = Field(default=0.0, ge=0)
    latency_ms: float = Field(default=0.0, ge=0)
    break_glass_reason: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)

    @field_validator("cost_usd", "latency_ms")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be finite")
        return value

    @classmethod
    def from_answer(
        cls,
        answer: Answer,
        *,
        scope: AccessScope | None,
        patient_key: str | None,
        kind: str | None = None,  # validated as an AuditKind
        redact: Callable[[str], str] | None = None,
        redacted_question: str | None = None,
        redacted_answer: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> AuditEvent:
        """The outcome record of a finished request (kind: "decline" when declined, else "ask").

        Text is never stored raw: pass ``redacted_question``/``redacted_answer``, or ``redact``
        (e.g. ``Redactor.redact``) to redact ``answer.question`` and ``answer.answer`` here.
        """

        def redacted(given: str | None, raw: str, name: str) -> str:
            if given is not None:
                return given
            if redact is None:
                raise ValueError(f"from_answer needs redacted_{name} or a redact function")
            return redact(raw) if raw else raw

        return cls(
            kind=kind or ("decline" if answer.declined else "ask"),
            request_id=answer.request_id,
            user_id=answer.user_id,
            role=scope.role if scope else None,
            patient_key=patient_key,
            scope=scope.summary() if scope else {},
            question=redacted(redacted_question, answer.question, "question"),
            answer=redacted(redacted_answer, answer.answer, "answer"),
            retrieved_ids=[r.source_id for r in answer.retrieved],
            cited_ids=[c.source_id for c in answer.citations],
            decline_reason=answer.decline_reason,
            prompt_hash=answer.prompt_hash,
            model=answer.usage.model,
            prompt_tokens=answer.usage.prompt_tokens,
            completion_tokens=answer.usage.completion_tokens,
            cost_usd=answer.usage.cost_usd or 0.0,  # unpriced models: details["llm"]["cost_priced"]
            latency_ms=float(answer.timings_ms.get("total", 0.0)),
            break_glass_reason=(
                redact(scope.break_glass_reason)
                if scope and scope.break_glass_reason and redact is not None
                else (scope.break_glass_reason if scope else None)
            ),
            details=_with_metrics(details, answer, kind),
        )


class CitedSpans(BaseModel):
    """Which spans of which source one citation marker points at (no source text)."""

    marker: str
    source_id: str
    spans: list[list[int]]


class LlmOutcome(BaseModel):
    finish_reason: str | None  # a reviewer must see when a reply was cut off ("length")
    cost_priced: bool  # False: the model has no configured price, so its cost is unknown


class AnswerDetails(BaseModel):
    """Enough for a reviewer to see an answer as the user saw it: the cited spans, and what
    verification removed (redacted like the answer itself)."""

    citations: list[CitedSpans]
    unsupported_sentences: list[str]
    llm: LlmOutcome


def answer_details(answer: Answer, redact: Callable[[str], str]) -> dict[str, Any]:
    """``details`` of an answer's audit record, built typed and stored as plain JSON."""
    return AnswerDetails(
        citations=[
            CitedSpans(
                marker=c.marker, source_id=c.source_id, spans=[list(sp) for sp in (c.spans or (c.span,))]
            )
            for c in answer.citations
        ],
        unsupported_sentences=[redact(s) for s in answer.unsupported_sentences],
        llm=LlmOutcome(
            finish_reason=answer.usage.finish_reason, cost_priced=answer.usage.cost_usd is not None
        ),
    ).model_dump()


class RequestMetrics(BaseModel):
    """What live quality needs from a request, without its text (read back by ``audit.report``).

    Stored under ``details["metrics"]``: ``details`` is already hashed, so records written before
    this existed still verify (``AuditEntry.metrics`` is then None). ``best_score`` is the best
    re-ranked score among the guarded sources, the one the gate compares (None: nothing retrieved).
    """

    model_config = ConfigDict(frozen=True)

    timings_ms: dict[str, float] = Field(default_factory=dict)
    best_score: float | None = None
    retrieved: int = 0
    cited: int = 0
    unsupported: int = 0


def _with_metrics(details: Mapping[str, Any] | None, answer: Answer, kind: str | None) -> dict[str, Any]:
    out = dict(details or {})
    # A denial records nothing measured: the records of "no such patient" and "not your patient"
    # must stay identical apart from the latency column (tests/security/test_adversarial.py).
    if (kind or "") != "denied" and answer.decline_reason != "access_denied":
        out["metrics"] = answer_metrics(answer)
    return out


def answer_metrics(answer: Answer) -> dict[str, Any]:
    return RequestMetrics(
        timings_ms={k: float(v) for k, v in answer.timings_ms.items()},
        best_score=max((r.score for r in answer.retrieved), default=None),
        retrieved=len(answer.retrieved),
        cited=len(answer.citations),
        unsupported=len(answer.unsupported_sentences),
    ).model_dump()


class AuditEntry(BaseModel):
    """One stored record, JSON columns decoded, for reviewers and the UI."""

    model_config = ConfigDict(frozen=True)

    seq: int
    request_id: str
    ts: str
    kind: str
    user_id: str | None
    role: str | None
    patient_key: str | None
    scope: dict[str, Any]
    question: str | None
    answer: str | None
    retrieved_ids: list[str]
    cited_ids: list[str]
    decline_reason: str | None
    prompt_hash: str | None
    model: str | None
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_ms: float
    break_glass_reason: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str

    @property
    def metrics(self) -> RequestMetrics | None:
        """The request's timings and best score (``details["metrics"]``); None for older records."""
        raw = self.details.get("metrics")
        try:
            return RequestMetrics.model_validate(raw) if isinstance(raw, dict) else None
        except ValueError:
            return None  # a malformed entry reads as "not recorded"

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> AuditEntry:
        data = dict(row)
        for name in ("scope", "details"):
            data[name] = json.loads(data[name] or "{}")
        for name in ("retrieved_ids", "cited_ids"):
            data[name] = json.loads(data[name] or "[]")
        return cls.model_validate(data)


class VerifyResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    ok: bool
    checked: int  # records examined (all of them when ok)
    first_bad_seq: int | None = None
    first_bad_request_id: str | None = None
    problem: str | None = None
    head_hash: str = GENESIS_HASH  # hash of the last record: anchor it outside the database


def _as_dict(row: sa.Row[Any]) -> dict[str, Any]:
    return {str(k): v for k, v in row._mapping.items()}


_COLUMNS = [getattr(AuditRecord, name) for name in (*HASHED_FIELDS, "hash")]


class AuditLog:
    """The audit trail of one data dir. Append, read, verify — no edits."""

    def __init__(self, engine: Engine, redact: Callable[[str], str] | None = None) -> None:
        """``redact``: applied to every break-the-glass reason before it is stored (the pipeline's
        Presidio redactor, wired in ``wiring``): a reason such as "<name> MRN <mrn> unconscious in ED"
        would otherwise sit in clear in a trail that admins without patient access read."""
        self._engine = engine
        self._redact = redact
        install_audit_protection(engine)

    # ------------------------------------------------------------------ write
    def append(self, event: Mapping[str, object] | AuditEvent) -> str:
        """Append one record and return its request id (generated when the event has none).

        Raises ``pydantic.ValidationError`` (a ValueError) for a malformed event. Concurrency: the
        first statement of the transaction UPDATEs the chain-head row, which takes the write lock
        (SQLite: the database write lock, waiting up to busy_timeout; PostgreSQL: the row lock)
        BEFORE the previous hash is read, so concurrent appenders from any number of processes
        queue up and each links to the true previous record.
        """
        ev = event if isinstance(event, AuditEvent) else AuditEvent.model_validate(dict(event))
        if ev.break_glass_reason and self._redact is not None:
            ev = ev.model_copy(update={"break_glass_reason": self._redact(ev.break_glass_reason)})
        request_id = ev.request_id or str(uuid.uuid4())
        head = AuditChainHead.__table__.c  # type: ignore[attr-defined]
        with self._engine.begin() as conn:
            locked = conn.execute(sa.update(AuditChainHead).where(head.id == 1).values(seq=head.seq))
            if locked.rowcount == 0:
                self._create_head(conn)
            row = conn.execute(sa.select(head.seq, head.hash).where(head.id == 1)).one()
            prev_seq, prev_hash = int(row[0]), str(row[1])
            values: dict[str, object] = {
                "seq": prev_seq + 1,
                "request_id": request_id,
                "ts": datetime.now(UTC).isoformat(timespec="microseconds"),
                "kind": ev.kind,
                "user_id": ev.user_id,
                "role": ev.role,
                "patient_key": ev.patient_key,
                "scope": _canonical(ev.scope),
                "question": ev.question,
                "answer": ev.answer,
                "retrieved_ids": _canonical(ev.retrieved_ids),
                "cited_ids": _canonical(ev.cited_ids),
                "decline_reason": ev.decline_reason,
                "prompt_hash": ev.prompt_hash,
                "model": ev.model,
                "prompt_tokens": ev.prompt_tokens,
                "completion_tokens": ev.completion_tokens,
                "cost_usd": float(ev.cost_usd),
                "latency_ms": float(ev.latency_ms),
                "break_glass_reason": ev.break_glass_reason,
                "details": _canonical(ev.details),
                "prev_hash": prev_hash,
            }
            values["hash"] = record_hash(values)
            conn.execute(sa.insert(AuditRecord).values(**values))
            conn.execute(
                sa.update(AuditChainHead).where(head.id == 1).values(seq=values["seq"], hash=values["hash"])
            )
        return request_id

    @staticmethod
    def _create_head(conn: Connection) -> None:
        # A fresh database only: a head missing while records exist means someone removed it,
        # and recreating it would hide a truncated chain. Refuse (fail closed).
        if last_record(conn) is not None:
            raise AuditChainError("audit chain head is missing; run `carecite audit verify`")
        conn.execute(sa.insert(AuditChainHead).values(id=1, seq=0, hash=GENESIS_HASH))

    # ------------------------------------------------------------------ read
    def records(
        self,
        *,
        kind: str | Sequence[str] | None = None,
        user_id: str | None = None,
        patient_key: str | None = None,
        request_id: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int | None = 100,
        newest_first: bool = True,
    ) -> list[AuditEntry]:
        """Records matching every given filter (``since``/``until``: ISO timestamps, inclusive)."""
        q = sa.select(*_COLUMNS)
        if kind is not None:
            kinds = [kind] if isinstance(kind, str) else list(kind)
            q = q.where(col(AuditRecord.kind).in_(kinds))
        if user_id is not None:
            q = q.where(col(AuditRecord.user_id) == user_id)
        if patient_key is not None:
            q = q.where(col(AuditRecord.patient_key) == patient_key)
        if request_id is not None:
            q = q.where(col(AuditRecord.request_id) == request_id)
        if since is not None:
            q = q.where(col(AuditRecord.ts) >= since)
        if until is not None:
            q = q.where(col(AuditRecord.ts) <= until)
        q = q.order_by(col(AuditRecord.seq).desc() if newest_first else col(AuditRecord.seq))
        if limit is not None:
            q = q.limit(limit)
        with self._engine.connect() as conn:
            return [AuditEntry.from_row(_as_dict(r)) for r in conn.execute(q)]

    def get(self, request_id: str) -> AuditEntry | None:
        """The outcome record of a request (ask, decline, denied or break_glass), else its latest record."""
        entries = self.records(request_id=request_id, limit=None)
        for entry in entries:
            if entry.kind in OUTCOME_KINDS:
                return entry
        return entries[0] if entries else None

    def count(self) -> int:
        with self._engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(AuditRecord)).scalar_one())

    # ------------------------------------------------------------------ verify
    def verify(self) -> VerifyResult:
        """Walk the chain in seq order; report the first record whose seq, hash or link is wrong."""
        expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
        head = AuditChainHead.__table__.c  # type: ignore[attr-defined]
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(*_COLUMNS).order_by(col(AuditRecord.seq)))
            for row in rows:
                rec = _as_dict(row)
                checked += 1
                problem = None
                if record_hash(rec) != rec["hash"]:
                    problem = "hash mismatch: the record's contents were altered"
                elif rec["seq"] != expected_seq:
                    problem = f"expected seq {expected_seq}: records missing or reordered"
                elif rec["prev_hash"] != prev_hash:
                    problem = "prev_hash does not match the previous record: records deleted or reordered"
                if problem:
                    return VerifyResult(
                        ok=False,
                        checked=checked,
                        first_bad_seq=int(rec["seq"]),
                        first_bad_request_id=str(rec["request_id"]),
                        problem=problem,
                        head_hash=prev_hash,
                    )
                expected_seq, prev_hash = expected_seq + 1, str(rec["hash"])
            head_row = conn.execute(sa.select(head.seq, head.hash).where(head.id == 1)).first()
        last_seq = expected_seq - 1
        if head_row is None and checked:
            problem = "chain head row is missing"
        elif head_row is not None and (int(head_row[0]), str(head_row[1])) != (last_seq, prev_hash):
            problem = (
                f"chain head names seq {head_row[0]} but the last record is seq {last_seq}: records truncated"
            )
        else:
            return VerifyResult(ok=True, checked=checked, head_hash=prev_hash)
        return VerifyResult(
            ok=False, checked=checked, first_bad_seq=last_seq + 1, problem=problem, head_hash=prev_hash
        )
