"""The typed objects that flow between stages: ingest → retrieve → answer → audit.

All frozen: a stage never mutates what it was handed, it returns a new object.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SourceType = Literal["note_chunk", "record", "policy"]
RetrieverName = Literal["dense", "lexical", "structured"]
Role = Literal["care_coordinator", "nurse", "physician", "reviewer", "admin"]
DeclineReason = Literal[
    "no_evidence",
    "low_confidence",
    "unsupported_draft",
    "out_of_scope",
    "llm_unavailable",
    "access_denied",
    "truncated_draft",  # the model ran out of tokens twice: a cut-off answer is never shown
    "echoed_prompt",  # the model repeated the prompt or its source markup instead of answering
]

# Every decline reason in plain words: the one place the CLI, the UI and the API take them from.
DECLINE_WORDS: dict[str, str] = {
    "no_evidence": "I found nothing in this patient's record or notes that addresses this question.",
    "low_confidence": "The closest sources I found do not clearly answer this question.",
    "unsupported_draft": "I could not write an answer that every source I found supports.",
    "out_of_scope": "carecite answers questions about one patient's record, or about payer coverage.",
    "llm_unavailable": "The answering model is unavailable right now; nothing was answered.",
    "access_denied": "You do not have access to this patient, or the patient was not found.",
    "truncated_draft": "The answering model ran out of room before finishing; nothing was shown.",
    "echoed_prompt": "The answering model repeated its instructions instead of answering; nothing was shown.",
}

# HL7 v3 sensitivity / confidentiality codes that restrict a source. A source carrying any of
# these is invisible to a user who lacks it. Unknown codes from the v3 ActCode / Confidentiality
# systems are mapped to "R" at ingest (fail closed), see ingest/fhir.py.
SENSITIVE_LABELS: tuple[str, ...] = ("PSY", "ETH", "HIV", "SDV", "STD", "SEX", "GDIS", "R", "V")


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def patient_key_for(patient_id: str) -> str:
    """Opaque key the retrieval indexes use instead of the FHIR Patient id."""
    return "pk_" + hashlib.sha256(f"carecite-patient:{patient_id}".encode()).hexdigest()[:20]


def resource_type_of(source_ref: str) -> str:
    """The FHIR resource type a source ref names ("CarePlan/x#activity=2" → "CarePlan")."""
    return source_ref.split("/", 1)[0]


def date_int(d: date | None) -> int:
    """YYYYMMDD as an int, the form dates take in index metadata (0 when unknown)."""
    return d.year * 10000 + d.month * 100 + d.day if d else 0


# --------------------------------------------------------------------------- ingest
class Chunk(Frozen):
    """A citable piece of a note or policy, with exact offsets into the decoded source text."""

    chunk_id: str
    source_type: SourceType  # "note_chunk" or "policy"
    source_ref: str  # DocumentReference/<id> | DiagnosticReport/<id> | Policy/<id>
    doc_id: str  # id of the Note / Policy row the chunk belongs to
    patient_key: str | None
    facility: str | None  # Organization/<id>
    note_type: str | None  # display, e.g. "Discharge summary"
    note_type_code: str | None  # LOINC code when known
    note_date: int = 0  # YYYYMMDD
    author_role: str | None = None
    security_labels: tuple[str, ...] = ()
    section: str | None = None
    start: int
    end: int
    text: str  # exactly source_text[start:end]
    index_text: str  # what is embedded and BM25-indexed: patient identifiers replaced by placeholders


# --------------------------------------------------------------------------- access
class Grant(Frozen):
    """What a bearer token allows (SMART on FHIR v2 scopes, api/scopes.py). It only ever narrows an
    AccessScope (``AccessScope.narrowed``): a token can hide sources from its user, never show more."""

    resource_types: frozenset[str] | None = None  # None: every type the user may see
    patient_ids: frozenset[str] | None = (
        None  # None: any patient in scope; patient/* scopes: the launch patient
    )


class AccessScope(Frozen):
    """What one user may see for one request. Computed before any retrieval."""

    user_id: str
    role: Role
    facilities: frozenset[str]
    # None: every patient of the user's facilities; otherwise exactly these patient keys.
    patient_keys: frozenset[str] | None
    allowed_labels: frozenset[str]
    break_glass_reason: str | None = None
    # None: every FHIR resource type; a token's SMART scopes can narrow it (policies are not patient data).
    resource_types: frozenset[str] | None = None

    def narrowed(self, grant: Grant | None) -> AccessScope:
        """This scope intersected with what a token grants: never wider than before."""
        if grant is None:
            return self
        update: dict[str, object] = {}
        if grant.resource_types is not None:
            update["resource_types"] = (
                grant.resource_types
                if self.resource_types is None
                else self.resource_types & grant.resource_types
            )
        if grant.patient_ids is not None:
            keys = frozenset(patient_key_for(p) for p in grant.patient_ids)
            update["patient_keys"] = keys if self.patient_keys is None else self.patient_keys & keys
        return self.model_copy(update=update)

    def may_see_type(self, source_ref: str) -> bool:
        return self.resource_types is None or resource_type_of(source_ref) in self.resource_types

    def may_see_patient(self, patient_key: str, patient_facilities: frozenset[str]) -> bool:
        if self.patient_keys is not None and patient_key not in self.patient_keys:
            return False
        return bool(self.facilities & patient_facilities)

    def may_see_labels(self, labels: tuple[str, ...] | frozenset[str]) -> bool:
        return all(label in self.allowed_labels for label in labels)

    def summary(self) -> dict[str, object]:
        out: dict[str, object] = {
            "role": self.role,
            "facilities": sorted(self.facilities),
            "patients": "facility" if self.patient_keys is None else len(self.patient_keys),
            "labels": sorted(self.allowed_labels),
            "break_glass": self.break_glass_reason is not None,
        }
        if self.resource_types is not None:  # only narrowed scopes say so: older records keep their shape
            out["resource_types"] = sorted(self.resource_types)
        return out


class Narrowing(Frozen):
    """Optional filters a user asks for. They can only narrow what the scope allows."""

    note_types: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    facility: str | None = None


class RetrievalFilter(Frozen):
    """The one filter all three retrievers apply inside their store's query.

    Built by ``RetrievalFilter.for_request`` from an AccessScope, so the security part (patient,
    labels) comes from the scope and user narrowing can only shrink it. Semantics every store
    implements identically:
      (source_type == "policy" and include_policies)
      OR (patient_key == self.patient_key
          AND the source carries no label in ``disallowed_labels``
          AND (facility is None or source facility == facility)
          AND (resource_types is None or the source ref's resource type in resource_types)
          AND (not note_types or note_type in note_types)      # records (no note type) pass
          AND (date_from == 0 or date >= date_from) AND (date_to == 0 or date <= date_to))
    """

    patient_key: str
    allowed_labels: frozenset[str]
    facility: str | None = None  # narrowing only: patient access is decided by AccessScope, per patient
    note_types: tuple[str, ...] = ()
    date_from: int = 0  # YYYYMMDD, 0 = open
    date_to: int = 0
    include_policies: bool = True
    resource_types: frozenset[str] | None = None  # from the scope (a token's SMART scopes); None = all

    @classmethod
    def for_request(
        cls, scope: AccessScope, patient_key: str, narrowing: Narrowing | None = None
    ) -> RetrievalFilter:
        if scope.patient_keys is not None and patient_key not in scope.patient_keys:
            raise PermissionError("patient outside scope")
        n = narrowing or Narrowing()
        return cls(
            patient_key=patient_key,
            allowed_labels=scope.allowed_labels,
            facility=n.facility,
            note_types=n.note_types,
            date_from=date_int(n.date_from),
            date_to=date_int(n.date_to),
            resource_types=scope.resource_types,
        )

    @property
    def disallowed_labels(self) -> tuple[str, ...]:
        return tuple(label for label in SENSITIVE_LABELS if label not in self.allowed_labels)


# --------------------------------------------------------------------------- retrieve
class Candidate(Frozen):
    """A citable source found by a retriever: a note chunk, a structured record, or a policy chunk."""

    source_id: str  # chunk id, or the record's ref (Task/<id>, CarePlan/<id>#activity=2)
    source_type: SourceType
    source_ref: str
    patient_key: str | None
    text: str  # exactly what the user is shown (original text for notes, rendered statement for records)
    score: float = 0.0
    retriever: RetrieverName
    # display and filter metadata: facility, note_type, note_date, security_labels, doc_id, start, end...
    facility: str | None = None
    note_type: str | None = None
    note_date: int = 0
    security_labels: tuple[str, ...] = ()
    doc_id: str | None = None
    start: int | None = None  # offsets of `text` in the source note (note chunks only)
    end: int | None = None
    section: str | None = None  # the chunk's section titles as written ("PLAN / FOLLOW-UP")
    # Records only: the statement's facts as one readable sentence (the offline answer quotes it; it is
    # verified against ``text`` like any sentence), and the structured retriever's confidence that the
    # row is what the question asks for (kind, status, date) — re-ranking changes ``score``, not this.
    brief: str | None = None
    match: float | None = None
    fused_from: tuple[RetrieverName, ...] = ()


class RetrievedRef(Frozen):
    source_id: str
    source_ref: str
    score: float
    retriever: RetrieverName


# --------------------------------------------------------------------------- answer
class Citation(Frozen):
    marker: str  # "S1"
    source_id: str
    source_type: SourceType
    source_ref: str
    patient_id: str | None
    text: str
    # The best-supporting span. For a note or policy chunk: offsets into the whole decoded document
    # (DESIGN.md), so a reviewer finds it in the EHR; for a record: offsets into `text`.
    span: tuple[int, int]
    score: float
    # every distinct span supporting a sentence that cites this source (span is the best of them)
    spans: tuple[tuple[int, int], ...] = ()
    # the same spans as offsets into `text`, for highlighting the chunk shown beside the answer
    text_span: tuple[int, int] | None = None
    text_spans: tuple[tuple[int, int], ...] = ()


class Usage(Frozen):
    model: str = "none"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # USD at the configured price of ``model``; None when no price is configured for it (a local
    # model, an unknown name): unknown, not a guess. 0.0 for the offline answerer.
    cost_usd: float | None = 0.0
    finish_reason: str | None = None  # as the endpoint reported it ("stop", "length"); None offline


class Passage(Frozen):
    """One source POST /v1/search returns: what the answer would have been built from, with its citation."""

    source_id: str
    source_type: SourceType
    source_ref: str
    patient_id: str | None  # the FHIR Patient id the caller asked about (never the index key)
    text: str
    span: tuple[int, int] | None  # offsets of ``text`` in the source note or policy; None for records
    score: float
    retriever: RetrieverName
    note_type: str | None = None
    note_date: int = 0  # YYYYMMDD, 0 when unknown


class SearchResult(Frozen):
    """Retrieval only (POST /v1/search): the guarded, re-ranked sources; no generation."""

    request_id: str
    question: str
    user_id: str
    patient_id: str | None
    passages: list[Passage] = Field(default_factory=list)
    declined: bool = False
    decline_reason: DeclineReason | None = None
    decline_detail: str | None = None
    timings_ms: dict[str, float] = Field(default_factory=dict)
    break_glass: bool = False


class Answer(Frozen):
    """The ``ask --json`` contract (DESIGN.md). Fields may be added, never renamed."""

    request_id: str
    question: str
    user_id: str
    patient_id: str | None
    answer: str
    declined: bool
    decline_reason: DeclineReason | None = None
    decline_detail: str | None = None
    citations: list[Citation] = Field(default_factory=list)
    unsupported_sentences: list[str] = Field(default_factory=list)
    retrieved: list[RetrievedRef] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    usage: Usage = Field(default_factory=Usage)
    prompt_hash: str | None = None
    break_glass: bool = False
