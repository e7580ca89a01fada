"""ask(question, user, patient) → Answer. The whole flow in one readable place, as named stages over
one typed request state (``RequestState``, in the spirit of paper-qa's session object):

    authorize → retrieve → rank → gate → generate → verify → record

authorize decides access before anything is retrieved; retrieve queries dense + lexical + structured
with one filter and fuses them; rank re-ranks and re-checks every source against the scope (guard);
gate declines on weak evidence; generate drafts from the top sources; verify keeps only supported,
cited sentences; record writes the request's one audit record. A stage that ends the request sets
``state.outcome``; the stages after it do not run. Each stage is timed.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Literal, TypedDict

from sqlmodel import Session, col, select

from carecite.access.guard import Violation, guard_candidates, security_event
from carecite.access.scope import (
    AccessDenied,
    BreakGlassReasonInvalid,
    compute_scope,
    load_patient,
    names_in_scope,
    resolve_patient,
)
from carecite.answering.citations import verify_draft
from carecite.answering.coverage import AskedService, PolicyView, names_service, on_service
from carecite.answering.evidence import answer_context, blend_structured, rerank_pool
from carecite.answering.gate import gate as evidence_gate
from carecite.answering.gate import missing_item_gate, quoted_gate, service_gate
from carecite.answering.generate import Draft, Generator
from carecite.audit.log import AuditEvent, AuditKind, AuditLog, answer_details
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
    patient_key_for,
)
from carecite.monitoring.telemetry import traced
from carecite.ports import LLMUnavailable, Redactor, Reranker, Vector
from carecite.privacy.identity import PatientIdentity, scrub_identifiers
from carecite.reading.items import Group
from carecite.reading.kind import other_patient_named, other_person
from carecite.reading.reading import Reading, read
from carecite.records import tables as t
from carecite.records.clock import Clock
from carecite.records.scoped import RowScope
from carecite.retrieval.fusion import reciprocal_rank_fusion
from carecite.retrieval.records.lookup import StructuredRetriever, is_sure_record
from carecite.retrieval.section_match import favour_section, headers, section_pool
from carecite.retrieval.vector_cache import shared_cache
from carecite.settings import Settings
from carecite.text.assertion import engine, yes_no_topic
from carecite.text.sections import SectionKind, asked_header
from carecite.text.storable import storable, storable_or_none

if TYPE_CHECKING:  # stores sits above answering
    from carecite.stores import Stores
from carecite.timing import Timer  # the stage timer the benchmarks share

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


def clean_request(req: AskRequest) -> AskRequest:
    """Every text field of ``req`` as the stores can hold it: no NUL, no lone surrogate."""
    narrowing = req.narrowing
    if narrowing is not None:
        narrowing = narrowing.model_copy(
            update={
                "note_types": tuple(storable(n) for n in narrowing.note_types),
                "facility": storable_or_none(narrowing.facility),
            }
        )
    return req.model_copy(
        update={
            "question": storable(req.question),
            "user_id": storable(req.user_id),
            "patient_id": storable_or_none(req.patient_id),
            "break_glass": storable_or_none(req.break_glass),
            "narrowing": narrowing,
        }
    )


@dataclass
class AnswerFields(TypedDict):
    """The fields every Answer of a request shares, whatever stage ended it."""

    request_id: str
    question: str
    user_id: str
    patient_id: str | None
    retrieved: list[RetrievedRef]
    break_glass: bool


@dataclass
class Trace:
    """What one request has gathered so far: enough to build an Answer at any stage."""

    request_id: str
    question: str
    user_id: str
    patient_id: str | None
    retrieved: list[RetrievedRef] = field(default_factory=list)
    break_glass: bool = False

    def answer_fields(self) -> AnswerFields:
        return {
            "request_id": self.request_id,
            "question": self.question,
            "user_id": self.user_id,
            "patient_id": self.patient_id,
            "retrieved": self.retrieved,
            "break_glass": self.break_glass,
        }


@dataclass
class RequestState:
    """One request as it moves through the stages: what each stage found, and how it ended."""

    req: AskRequest
    trace: Trace
    timer: Timer
    question: str  # validated, as typed; what the stages read is ``reading.text``
    scope: AccessScope | None = None  # None only when access was denied
    patient_key: str | None = None
    identity: PatientIdentity | None = None
    reading: Reading | None = None  # the question, read once in ``authorize``
    flt: RetrievalFilter | None = None
    candidates: list[Candidate] = field(default_factory=list)  # fused, before re-ranking
    structured: list[Candidate] = field(default_factory=list)
    kept: list[Candidate] = field(default_factory=list)  # re-ranked and guarded
    # The note section the question asks for: the reading's, or a header of the notes found (``rank``).
    asked: SectionKind | None = None
    # The item the question names that the patient's structured record lacks ("hemoglobin A1c"),
    # with the word groups that name it; None when nothing named is missing.
    missing: tuple[str, tuple[Group, ...]] | None = None
    # Coverage: title of each policy among the re-ranked sources (policies are public).
    policies: dict[str, PolicyView] = field(default_factory=dict)
    service: AskedService | None = None  # coverage: the service asked, read once in ``rank``
    context: list[Candidate] = field(default_factory=list)  # the sources the draft may cite
    draft: Draft | None = None
    outcome: Answer | None = None  # set by the stage that ends the request
    # A denial's audit facts: whom the user asked about (as its key), the user's scope if the user
    # exists, and why. Never read by any stage; only ``record`` writes them (issue 28: an insider
    # probing patients must leave a trace of whom they probed).
    denied_scope: AccessScope | None = None
    denied_reason: str | None = None

    @property
    def done(self) -> bool:
        return self.outcome is not None


Operation = Literal["ask", "search"]


def audit_kind(operation: Operation, answer: Answer) -> AuditKind:
    """The one place that names a request's audit kind from how it ended."""
    if answer.decline_reason == "access_denied":
        return "denied"
    if answer.break_glass:  # every emergency access is reviewed, answered or not
        return "break_glass"
    return "decline" if answer.declined else operation


@dataclass
class Pipeline:
    settings: Settings
    stores: Stores
    reranker: Reranker
    generator: Generator
    redactor: Redactor
    audit: AuditLog
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
        state = self._begin(req)
        for stage in (self.authorize, self.retrieve, self.rank, self.gate, self.generate, self.verify):
            stage(state)
            if state.done:
                break
        assert state.outcome is not None  # verify ends every request that reaches it
        self.record(state, "ask")
        return state.outcome

    def search(self, req: AskRequest) -> SearchResult:
        """Retrieval only: the same authorize → retrieve → rank as ``ask``, no generation.
        Audited like an ask (kind ``search``; denials and declines exactly as ``ask`` records them)."""
        state = self._begin(req)
        for stage in (self.authorize, self.retrieve, self.rank):
            stage(state)
            if state.done:
                break
        if state.outcome is not None:  # denied or out of scope
            self.record(state, "search")
            found = state.outcome
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
        kept = state.kept[: self.settings.search_k]
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
        state.trace.retrieved = state.trace.retrieved[: self.settings.search_k]
        state.outcome = Answer(
            **state.trace.answer_fields(), answer="", declined=False, timings_ms=state.timer.done()
        )
        self.record(state, "search")
        record = state.outcome
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
        self._structured().speller.correct("warm up")
        self._structured().abbreviations.write_out("warm up")
        engine()  # the assertion reader (ConText rules on spaCy's tokenizer) the answerer consults
        self.redactor.redact("Warm up for Jane Doe, MRN 12345678.")

    # ------------------------------------------------------------------ stages
    def _begin(self, req: AskRequest) -> RequestState:
        req = clean_request(req)  # nothing a store cannot hold reaches one (text/storable.py)
        question = self.validate(req)
        trace = Trace(str(uuid.uuid4()), question, req.user_id, req.patient_id)
        return RequestState(req=req, trace=trace, timer=Timer(), question=question)

    def authorize(self, state: RequestState) -> None:
        """Access, decided before anything is retrieved; then whether the question is in scope."""
        req = state.req
        found: AccessScope | None = None
        try:
            with state.timer.stage("access"), Session(self.stores.engine) as session:
                scope = found = compute_scope(session, req.user_id, break_glass=req.break_glass).narrowed(
                    req.grant
                )
                patient_key = resolve_patient(session, scope, req.patient_id) if req.patient_id else None
                patient = load_patient(session, scope, patient_key) if patient_key else None
        except BreakGlassReasonInvalid as exc:
            raise BadInput(str(exc)) from None
        except AccessDenied as exc:
            if found is None and req.break_glass is not None:  # a role that may not break the glass
                with contextlib.suppress(AccessDenied), Session(self.stores.engine) as session:
                    found = compute_scope(session, req.user_id)
            state.denied_scope = found
            # The same words for an unknown and an out-of-scope patient: the trail is read by
            # reviewers, who must not learn from it whether a patient exists either.
            state.denied_reason = (
                "patient not found or not in scope" if found is not None and req.patient_id else str(exc)
            )
            self._decline(state, "access_denied", detail=DECLINE_WORDS["access_denied"])
            return
        state.scope, state.patient_key = scope, patient_key
        # The patient's own identifiers, scrubbed from audited text before Presidio runs: Presidio
        # alone misses a bare MRN such as "(17000024)" quoted from a note header.
        identity = state.identity = PatientIdentity.from_patient(patient) if patient is not None else None
        structured = self._structured()
        reading = state.reading = read(
            state.question,
            identity,
            vocabulary=structured.vocabulary,
            speller=structured.speller,
            abbreviations=structured.abbreviations,
            disabled_cues=self.settings.disabled_cues,
        )
        kind = reading.kind
        # Never one patient's fact shown as another's: a question about someone else is out of scope.
        named = other_person(kind.clean, identity.name_words()) if identity is not None else None
        another = False  # another patient of the directory, named in full
        if identity is not None and patient is not None and named is None:
            with Session(self.stores.engine) as session:  # its own session: names_in_scope scopes it
                others = [(g, f) for k, g, f in names_in_scope(session, scope) if k != patient_key]
            another = other_patient_named(kind.clean, others, (patient.given, patient.family)) is not None
        if kind.multi_patient or (patient_key is None and not kind.coverage) or named is not None or another:
            state.trace.break_glass = scope.break_glass_reason is not None
            # Another patient's name is never repeated, not even back to the one who typed it: the
            # answer, the audit and the logs carry no other patient's identifier.
            who = named if named is not None else "another patient" if another else None
            detail = (
                f"The question names {who}, who is not the selected patient. Select that "
                "patient to ask about them, or ask about the selected patient."
                if who is not None and not kind.multi_patient and patient_key is not None
                else None
            )
            self._decline(state, "out_of_scope", detail=detail)

    def retrieve(self, state: RequestState) -> None:
        """One filter, built from the scope, applied inside every store's query; then fused."""
        assert state.scope is not None and state.reading is not None
        reading = state.reading
        state.flt = RetrievalFilter.for_request(
            state.scope, state.patient_key or NO_PATIENT, state.req.narrowing
        ).model_copy(update={"include_policies": reading.coverage})
        state.asked = reading.asked
        with state.timer.stage("retrieve"):
            state.candidates, state.structured, state.missing = self._query_stores(
                reading, state.identity, state.flt, state.timer
            )

    def rank(self, state: RequestState) -> None:
        """Re-rank what fusion found, then re-check every source against the scope."""
        assert state.scope is not None and state.reading is not None
        scope, patient_key, question = state.scope, state.patient_key, state.reading.text
        with state.timer.stage("rerank"):
            coverage = state.reading.coverage
            if state.asked is None and not coverage and not any(map(is_sure_record, state.structured)):
                # Any header the patient's notes have may be the section asked for ("what specimens
                # were sent" → SPECIMENS), unless the coded record answers (it is the system of record).
                state.asked = asked_header(question, headers(state.candidates), self._similarity)
            pool = section_pool(
                state.candidates,
                rerank_pool(state.candidates, state.structured, self.settings.rerank_k),
                state.asked,
            )
            # Their sentence vectors were computed at ingest: load them, so only the question is embedded.
            assert state.flt is not None
            self.stores.source_vectors.preload([*pool, *state.structured], RowScope.of_filter(state.flt))
            reranked = self.reranker.rerank(question, pool) if state.candidates else []
            named: set[str] = set()
            if coverage:
                state.policies = self._policies(reranked)
                state.service = asked = AskedService.of(question)
                named = {doc for doc, p in state.policies.items() if names_service(asked, p)}
            # A yes/no question about a habit or situation ("does she smoke"): a note asserting it answers.
            names = state.identity.name_words() if state.identity is not None else set()
            topic = yes_no_topic(question, names) if state.asked is not None and state.asked.polar else ()
            reranked = favour_section(
                blend_structured(reranked, state.structured), state.asked, named=named, topic=topic
            )
            guarded = guard_candidates(scope, patient_key or NO_PATIENT, reranked)
        if guarded.violations:
            self._security_event(state.trace.request_id, scope, patient_key, guarded.violations)
        state.kept = guarded.kept
        state.trace.retrieved = [
            RetrievedRef(
                source_id=c.source_id, source_ref=c.source_ref, score=round(c.score, 4), retriever=c.retriever
            )
            for c in state.kept
        ]
        state.trace.break_glass = scope.break_glass_reason is not None

    def _similarity(self, question: str, texts: Sequence[str]) -> list[float]:
        """Cosines between the question and ``texts``, through the shared vector cache."""
        vecs = shared_cache(self.stores.embedder).vectors([question, *texts])
        return [float(v) for v in vecs[1:] @ vecs[0]]

    def gate(self, state: RequestState) -> None:
        """Decline before generation when the evidence is too weak."""
        assert state.reading is not None
        coverage = state.reading.coverage
        decision = evidence_gate(
            state.kept,
            min_score=self.settings.gate_min_score,
            patient_required=state.patient_key is not None and not coverage,
            asked=state.asked,
        )
        if state.missing is not None and not (named := missing_item_gate(state.missing, state.kept)).ok:
            decision = named  # "No potassium result is on record" says more than a low score does
        quoted = quoted_gate(state.trace.question, state.candidates) if not coverage else None
        # A quote no note of the patient holds says more than a low score does (a month it names may
        # have confined the records to nothing), as a named missing item does.
        if quoted is not None and not quoted.ok and (decision.ok or decision.reason == "low_confidence"):
            decision = quoted
        if decision.ok and coverage:
            asked = state.service or AskedService.of(state.reading.text)
            kept = on_service(asked, state.policies, state.kept)
            decision = service_gate(asked, kept, counted=len(state.kept))
            state.kept = kept
        if not decision.ok:
            self._decline(state, decision.reason or "no_evidence", detail=decision.detail)

    def generate(self, state: RequestState) -> None:
        """A draft from the top sources; a cut-off or echoed draft is declined by name, never shown."""
        assert state.reading is not None
        state.context = answer_context(state.kept, self.settings.context_k, self.settings.list_k)
        try:
            with state.timer.stage("generate"):
                draft = self.generator.draft(
                    state.reading.text, state.context, identity=state.identity, reading=state.reading
                )
        except LLMUnavailable as exc:
            detail = f"{DECLINE_WORDS['llm_unavailable']} ({type(exc).__name__})"
            self._decline(state, "llm_unavailable", detail=detail)
            return
        state.draft = draft
        if draft.decline_reason is not None:
            self._decline(
                state,
                draft.decline_reason,
                detail=draft.decline_detail,
                usage=draft.usage,
                prompt_hash=draft.prompt_hash,
            )

    def verify(self, state: RequestState) -> None:
        """Every sentence checked against the source it cites: the answer, or a decline."""
        draft, req, patient_key = state.draft, state.req, state.patient_key
        assert draft is not None
        with state.timer.stage("verify"):
            verified = verify_draft(
                draft.text,
                state.context,
                self.stores.embedder,
                threshold=self.settings.support_threshold,
                patient_ids={patient_key: req.patient_id} if patient_key and req.patient_id else {},
            )
        if verified.declined_reason is not None:
            self._decline(
                state,
                verified.declined_reason,
                usage=draft.usage,
                prompt_hash=draft.prompt_hash,
                unsupported=verified.unsupported_sentences,
            )
            return
        text = verified.text
        kept = {c.marker for c in verified.citations}
        if draft.lead is not None and {f"S{i}" for i in draft.lead.sources} <= kept:
            text = f"{draft.lead.sentence()} {text}"  # "No [S1]." before the sentence that says so
        state.outcome = Answer(
            **state.trace.answer_fields(),
            answer=text,
            declined=False,
            citations=verified.citations,
            unsupported_sentences=verified.unsupported_sentences,
            timings_ms=state.timer.done(),
            usage=draft.usage,
            prompt_hash=draft.prompt_hash,
        )

    def record(self, state: RequestState, operation: Operation) -> None:
        """The request's one audit record, its kind decided by ``audit_kind``."""
        answer, identity = state.outcome, state.identity
        assert answer is not None

        def redact(text: str) -> str:
            return self.redactor.redact(scrub_identifiers(text, identity))

        details = answer_details(answer, redact)
        patient_key = state.patient_key
        if state.denied_reason is not None:
            details["reason"] = state.denied_reason
            patient_key = patient_key_for(state.req.patient_id) if state.req.patient_id else None
        if state.reading is not None:  # which reading rules this question set off (cue names only)
            details["reading_cues"] = list(state.reading.cues)
        self.audit.append(
            AuditEvent.from_answer(
                answer,
                kind=audit_kind(operation, answer),
                scope=state.scope or state.denied_scope,
                patient_key=patient_key,
                redact=redact,
                details=details,
            )
        )

    def _query_stores(
        self,
        reading: Reading,
        identity: PatientIdentity | None,
        flt: RetrievalFilter,
        timer: Timer,
    ) -> tuple[list[Candidate], list[Candidate], tuple[str, tuple[Group, ...]] | None]:
        """Fused candidates, the structured ones, and the named item the record lacks (if any)."""
        # Sub-stages ("retrieve.<part>", inside "retrieve"): what `carecite bench query` profiles.
        # The indexes hold text with the patient's identifiers replaced by placeholders; the query must too.
        question = reading.text
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
        missing: tuple[str, tuple[Group, ...]] | None = None
        if flt.patient_key != NO_PATIENT:
            with timer.stage("retrieve.structured"):
                # A coverage question leads with the patient's condition it names, beside the policy's
                # criterion; any other question also learns which named item the record lacks.
                found = self._structured().lookup(
                    reading.intent, flt, s.structured_k, coverage=reading.coverage
                )
            structured, missing = found.candidates, found.missing
            lists.append(structured)
        with timer.stage("retrieve.fusion"):
            fused = reciprocal_rank_fusion(lists, k=s.rrf_k)
        return fused, structured, missing

    def _structured(self) -> StructuredRetriever:
        # Built once, rebuilt only when "today" moves (the clock reads the as-of date once).
        day = self._clock.today()
        if self._structured_retriever is None or self._structured_retriever.today != day:
            self._structured_retriever = StructuredRetriever(self.stores.engine, day)
        return self._structured_retriever

    @cached_property
    def _clock(self) -> Clock:
        return Clock(self.settings, self.stores.engine)

    def _policies(self, ranked: Sequence[Candidate]) -> dict[str, PolicyView]:
        """Title and text of the policies among the ranked sources (policies are public: no scope applies)."""
        ids = {c.doc_id for c in ranked if c.source_type == "policy" and c.doc_id}
        if not ids:
            return {}
        with Session(self.stores.engine) as session:
            rows = session.exec(select(t.Policy).where(col(t.Policy.id).in_(ids))).all()
        return {p.id: PolicyView(p.title, p.text) for p in rows}

    # ------------------------------------------------------------------ answers and audit
    def _decline(
        self,
        state: RequestState,
        reason: DeclineReason,
        *,
        detail: str | None = None,
        usage: Usage | None = None,
        prompt_hash: str | None = None,
        unsupported: list[str] | None = None,
    ) -> None:
        """End the request with a decline (recorded by ``record`` like any outcome)."""
        state.outcome = Answer(
            **state.trace.answer_fields(),
            answer="",
            declined=True,
            decline_reason=reason,
            decline_detail=detail or DECLINE_WORDS[reason],
            unsupported_sentences=unsupported or [],
            timings_ms=state.timer.done(),
            usage=usage or Usage(),
            prompt_hash=prompt_hash,
        )

    def _security_event(
        self, request_id: str, scope: AccessScope, patient_key: str | None, violations: Sequence[Violation]
    ) -> None:
        self.audit.append(security_event(scope, patient_key or NO_PATIENT, violations, request_id=request_id))
