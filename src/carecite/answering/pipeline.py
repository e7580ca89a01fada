"""ask(question, user, patient) → Answer. The whole flow in one readable place:

access (before anything is retrieved) → retrieve (dense + lexical + structured, one filter) → fuse →
re-rank → guard (every source re-checked against the scope) → gate → prompt/generate → verify →
audit. Each stage is timed; every request leaves exactly one audit record.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlmodel import Session

from carecite.access.guard import Violation, guard_candidates, security_event
from carecite.access.scope import AccessDenied, BreakGlassReasonInvalid, compute_scope, resolve_patient
from carecite.answering.citations import verify_draft
from carecite.answering.gate import gate
from carecite.answering.generate import Generator
from carecite.answering.intent import classify, other_person
from carecite.audit.log import AuditEvent, AuditLog
from carecite.clock import Clock
from carecite.domain import (
    DECLINE_WORDS,
    AccessScope,
    Answer,
    Candidate,
    DeclineReason,
    Frozen,
    Grant,
    Narrowing,
    Passage,
    RetrievalFilter,
    RetrievedRef,
    SearchResult,
    Usage,
)
from carecite.monitoring.telemetry import traced
from carecite.ports import LLMUnavailable, Redactor, Reranker, Vector
from carecite.privacy.identity import PatientIdentity, scrub_identifiers
from carecite.records import tables as t
from carecite.retrieval.fusion import reciprocal_rank_fusion
from carecite.retrieval.structured import StructuredRetriever, blend_structured, rerank_pool
from carecite.retrieval.vector_cache import shared_cache
from carecite.settings import Settings
from carecite.timing import Timer  # the stage timer the benchmarks share
from carecite.wiring import Stores

NO_PATIENT = "__no_patient__"  # a patient key nothing carries: policy-only retrieval


class BadInput(ValueError):
    """The request itself is malformed (empty or over-long question, bad arguments): exit 2."""


class AskRequest(Frozen):
    question: str
    user_id: str
    patient_id: str | None = None
    narrowing: Narrowing | None = None
    break_glass: str | None = None
    grant: Grant | None = None  # what the caller's token allows (HTTP API); only ever narrows the scope


@dataclass
class Trace:
    """What one request has gathered so far: enough to build an Answer at any stage."""

    request_id: str
    question: str
    user_id: str
    patient_id: str | None
    retrieved: list[RetrievedRef] = field(default_factory=list)
    break_glass: bool = False

    def answer_fields(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "question": self.question,
            "user_id": self.user_id,
            "patient_id": self.patient_id,
            "retrieved": self.retrieved,
            "break_glass": self.break_glass,
        }


@dataclass
class Evidence:
    """What access → retrieve → re-rank → guard found for one request; ``ask`` and ``search`` share it."""

    base: Trace
    timer: Timer
    question: str  # cleaned: injection / other-patient clauses removed
    scope: AccessScope
    patient_key: str | None
    identity: PatientIdentity | None
    coverage: bool
    kept: list[Candidate]


@dataclass
class Pipeline:
    settings: Settings
    stores: Stores
    reranker: Reranker
    generator: Generator
    redactor: Redactor
    audit: AuditLog
    today: Callable[[], object] | None = None
    # Observability hook: receives the scrubbed query vector (drift monitoring; never the text).
    on_query_vector: Callable[[Vector], None] | None = None
    _structured_retriever: StructuredRetriever | None = field(default=None, init=False, repr=False)

    # ------------------------------------------------------------------ public
    def validate(self, req: AskRequest) -> str:
        question = " ".join(req.question.split())
        if not question:
            raise BadInput("the question is empty")
        if len(question) > self.settings.max_question_chars:
            raise BadInput(
                f"the question is {len(question)} characters; the limit is {self.settings.max_question_chars}"
            )
        if req.break_glass is not None and not req.break_glass.strip():
            raise BadInput("--break-glass needs a reason")
        return question

    @traced("ask")
    def ask(self, req: AskRequest) -> Answer:
        found = self._evidence(req)
        if isinstance(found, Answer):  # denied or out of scope: already audited
            return found
        base, timer, question, scope = found.base, found.timer, found.question, found.scope
        patient_key, identity, kept = found.patient_key, found.identity, found.kept

        # 4. gate — decline before generation when the evidence is too weak
        decision = gate(
            kept,
            min_score=self.settings.gate_min_score,
            patient_required=patient_key is not None and not found.coverage,
        )
        if not decision.ok:
            answer = self._decline(base, decision.reason or "no_evidence", timer, detail=decision.detail)
            self._audit(answer, kind="decline", scope=scope, patient_key=patient_key, identity=identity)
            return answer

        # 5. generate from the top sources, then 6. verify every citation
        context = kept[: self.settings.context_k]
        try:
            with timer.stage("generate"):
                draft = self.generator.draft(question, context, identity=identity)
        except LLMUnavailable as exc:
            answer = self._decline(
                base,
                "llm_unavailable",
                timer,
                detail=f"{DECLINE_WORDS['llm_unavailable']} ({type(exc).__name__})",
            )
            self._audit(answer, kind="decline", scope=scope, patient_key=patient_key, identity=identity)
            return answer
        if draft.decline_reason is not None:
            # Cut off or an echo of the prompt: never verified, never shown, reported by name.
            answer = self._decline(
                base,
                draft.decline_reason,
                timer,
                detail=draft.decline_detail,
                usage=draft.usage,
                prompt_hash=draft.prompt_hash,
            )
            self._audit(answer, kind="decline", scope=scope, patient_key=patient_key, identity=identity)
            return answer
        with timer.stage("verify"):
            verified = verify_draft(
                draft.text,
                context,
                self.stores.embedder,
                threshold=self.settings.support_threshold,
                patient_ids={patient_key: req.patient_id} if patient_key and req.patient_id else {},
            )
        usage = draft.usage
        if verified.declined_reason is not None:
            answer = self._decline(
                base,
                verified.declined_reason,
                timer,
                usage=usage,
                prompt_hash=draft.prompt_hash,
                unsupported=verified.unsupported_sentences,
            )
            self._audit(answer, kind="decline", scope=scope, patient_key=patient_key, identity=identity)
            return answer

        answer = Answer(
            **base.answer_fields(),
            answer=verified.text,
            declined=False,
            citations=verified.citations,
            unsupported_sentences=verified.unsupported_sentences,
            timings_ms=timer.done(),
            usage=usage,
            prompt_hash=draft.prompt_hash,
        )
        self._audit(
            answer,
            kind="break_glass" if scope.break_glass_reason else "ask",
            scope=scope,
            patient_key=patient_key,
            identity=identity,
        )
        return answer

    def search(self, req: AskRequest) -> SearchResult:
        """Retrieval only: the same access → retrieve → re-rank → guard as ``ask``, no generation.
        Audited like an ask (kind ``search``; denials and declines exactly as ``ask`` records them)."""
        found = self._evidence(req)
        if isinstance(found, Answer):
            return SearchResult(
                **{
                    name: getattr(found, name)
                    for name in ("request_id", "question", "user_id", "patient_id", "break_glass")
                },
                declined=True,
                decline_reason=found.decline_reason,
                decline_detail=found.decline_detail,
                timings_ms=found.timings_ms,
            )
        kept = found.kept[: self.settings.search_k]
        passages = [
            Passage(
                source_id=c.source_id,
                source_type=c.source_type,
                source_ref=c.source_ref,
                patient_id=req.patient_id if c.patient_key else None,
                text=c.text,
                span=(c.start, c.end) if c.start is not None and c.end is not None else None,
                score=round(c.score, 4),
                retriever=c.retriever,
                note_type=c.note_type,
                note_date=c.note_date,
            )
            for c in kept
        ]
        found.base.retrieved = found.base.retrieved[: self.settings.search_k]
        record = Answer(
            **found.base.answer_fields(), answer="", declined=False, timings_ms=found.timer.done()
        )
        self._audit(
            record, kind="search", scope=found.scope, patient_key=found.patient_key, identity=found.identity
        )
        return SearchResult(
            **{
                name: getattr(record, name)
                for name in ("request_id", "question", "user_id", "patient_id", "break_glass", "timings_ms")
            },
            passages=passages,
        )

    def warm(self) -> None:
        """Pay now what the first question would: the embedding model, the indexes, Presidio, the
        as-of date. A long-lived process (the UI) calls it at start, in the background."""
        self.stores.embedder.embed_query("warm up")
        self.stores.vectors.count()
        self.stores.lexical.count()
        self._structured()
        self.redactor.redact("Warm up for Jane Doe, MRN 12345678.")

    # ------------------------------------------------------------------ stages
    def _evidence(self, req: AskRequest) -> Evidence | Answer:
        """Steps 1-3 of every request; an Answer when it ended early (denied, out of scope; audited)."""
        question = self.validate(req)
        timer = Timer()
        request_id = str(uuid.uuid4())
        base = Trace(request_id, question, req.user_id, req.patient_id)

        # 1. access — decided before anything is retrieved
        try:
            with timer.stage("access"), Session(self.stores.engine) as session:
                scope = compute_scope(session, req.user_id, break_glass=req.break_glass).narrowed(req.grant)
                patient_key = resolve_patient(session, scope, req.patient_id) if req.patient_id else None
                patient = self._patient(session, req.patient_id) if patient_key else None
        except BreakGlassReasonInvalid as exc:
            raise BadInput(str(exc)) from None
        except AccessDenied:
            answer = self._decline(base, "access_denied", timer, detail=DECLINE_WORDS["access_denied"])
            self._audit(answer, kind="denied", scope=None, patient_key=None)
            return answer

        # The patient's own identifiers, scrubbed from audited text before Presidio runs: Presidio
        # alone misses a bare MRN such as "(17000024)" quoted from a note header.
        identity = PatientIdentity.from_patient(patient) if patient is not None else None
        kind = classify(question)
        # Never one patient's fact shown as another's: a question about someone else is out of scope.
        named = other_person(kind.clean, identity.name_words()) if identity is not None else None
        if kind.multi_patient or (patient_key is None and not kind.coverage) or named is not None:
            base.break_glass = scope.break_glass_reason is not None
            detail = (
                f"The question names {named}, who is not the selected patient. Select that "
                "patient to ask about them, or ask about the selected patient."
                if named is not None and not kind.multi_patient and patient_key is not None
                else None
            )
            answer = self._decline(base, "out_of_scope", timer, detail=detail)
            self._audit(answer, kind="decline", scope=scope, patient_key=patient_key, identity=identity)
            return answer

        # 2. retrieve — one filter, built from the scope, applied inside every store's query
        flt = RetrievalFilter.for_request(scope, patient_key or NO_PATIENT, req.narrowing).model_copy(
            update={"include_policies": kind.coverage}
        )
        question = kind.clean  # injection / other-patient clauses never drive retrieval or the prompt
        with timer.stage("retrieve"):
            candidates, structured = self._retrieve(question, identity, flt, timer)

        # 3. re-rank what fusion found, then re-check every source against the scope
        with timer.stage("rerank"):
            pool = rerank_pool(candidates, structured, self.settings.rerank_k)
            # Their sentence vectors were computed at ingest: load them, so only the question is embedded.
            self.stores.source_vectors.preload([*pool, *structured])
            reranked = self.reranker.rerank(question, pool) if candidates else []
            reranked = blend_structured(reranked, structured)
            guarded = guard_candidates(scope, patient_key or NO_PATIENT, reranked)
        if guarded.violations:
            self._security_event(request_id, scope, patient_key, guarded.violations)
        kept = guarded.kept

        retrieved = [
            RetrievedRef(
                source_id=c.source_id, source_ref=c.source_ref, score=round(c.score, 4), retriever=c.retriever
            )
            for c in kept
        ]
        base.retrieved = retrieved
        base.break_glass = scope.break_glass_reason is not None
        return Evidence(base, timer, question, scope, patient_key, identity, kind.coverage, kept)

    def _retrieve(
        self, question: str, identity: PatientIdentity | None, flt: RetrievalFilter, timer: Timer
    ) -> tuple[list[Candidate], list[Candidate]]:
        # Sub-stages ("retrieve.<part>", inside "retrieve"): what `carecite bench query` profiles.
        # The indexes hold text with the patient's identifiers replaced by placeholders; the query must too.
        query_text = scrub_identifiers(question, identity)
        s = self.settings
        lists: list[Sequence[Candidate]] = []
        if flt.patient_key != NO_PATIENT or flt.include_policies:
            # One encode for the question as retrieval sees it (identifiers scrubbed) and as the
            # re-ranker and answerer see it, through the shared cache they read it back from.
            with timer.stage("retrieve.embed_query"):
                query_vector = shared_cache(self.stores.embedder).vectors([query_text, question])[0]
            if self.on_query_vector is not None:
                self.on_query_vector(query_vector)
            with timer.stage("retrieve.dense"):
                lists.append(self.stores.vectors.query(query_vector, flt, s.dense_k))
            with timer.stage("retrieve.lexical"):
                lists.append(self.stores.lexical.query(query_text, flt, s.lexical_k))
        structured: list[Candidate] = []
        if flt.patient_key != NO_PATIENT:
            with timer.stage("retrieve.structured"):
                structured = self._structured().search(question, flt, s.structured_k)
            lists.append(structured)
        with timer.stage("retrieve.fusion"):
            fused = reciprocal_rank_fusion(lists, k=s.rrf_k)
        return fused, structured

    def _structured(self) -> StructuredRetriever:
        # Built once, rebuilt only when "today" moves (the clock reads the as-of date once).
        day = self._clock.today()
        if self._structured_retriever is None or self._structured_retriever.today != day:
            self._structured_retriever = StructuredRetriever(self.stores.engine, day)
        return self._structured_retriever

    @cached_property
    def _clock(self) -> Clock:
        return Clock(self.settings, self.stores.engine)

    @staticmethod
    def _patient(session: Session, patient_id: str | None) -> t.Patient | None:
        return session.get(t.Patient, patient_id) if patient_id else None

    # ------------------------------------------------------------------ answers and audit
    def _decline(
        self,
        base: Trace,
        reason: DeclineReason,
        timer: Timer,
        *,
        detail: str | None = None,
        usage: Usage | None = None,
        prompt_hash: str | None = None,
        unsupported: list[str] | None = None,
    ) -> Answer:
        return Answer(
            **base.answer_fields(),
            answer="",
            declined=True,
            decline_reason=reason,
            decline_detail=detail or DECLINE_WORDS[reason],
            unsupported_sentences=unsupported or [],
            timings_ms=timer.done(),
            usage=usage or Usage(),
            prompt_hash=prompt_hash,
        )

    def _audit(
        self,
        answer: Answer,
        *,
        kind: str,
        scope: AccessScope | None,
        patient_key: str | None,
        identity: PatientIdentity | None = None,
    ) -> None:
        def redact(text: str) -> str:
            return self.redactor.redact(scrub_identifiers(text, identity))

        if answer.break_glass and kind in ("ask", "decline", "search"):
            # Every emergency access is reviewed, answered or not: the kind says so, the reason stays.
            kind = "break_glass"

        # Enough for a reviewer to see the answer as the user saw it: which spans of which sources
        # were cited, and what verification removed (redacted like the answer itself).
        details = {
            "citations": [
                {
                    "marker": c.marker,
                    "source_id": c.source_id,
                    "spans": [list(sp) for sp in (c.spans or (c.span,))],
                }
                for c in answer.citations
            ],
            "unsupported_sentences": [redact(s) for s in answer.unsupported_sentences],
            # A reviewer must see when a reply was cut off, and when its cost is unknown (no price).
            "llm": {
                "finish_reason": answer.usage.finish_reason,
                "cost_priced": answer.usage.cost_usd is not None,
            },
        }
        self.audit.append(
            AuditEvent.from_answer(
                answer, kind=kind, scope=scope, patient_key=patient_key, redact=redact, details=details
            )
        )

    def _security_event(
        self, request_id: str, scope: AccessScope, patient_key: str | None, violations: Sequence[Violation]
    ) -> None:
        self.audit.append(security_event(scope, patient_key or NO_PATIENT, violations, request_id=request_id))
