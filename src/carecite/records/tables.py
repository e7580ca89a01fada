"""SQLModel tables: the system of record.

Every clinical row keeps its FHIR ``ResourceType/id`` (``ref``), the opaque ``patient_key``, its
security labels, status, the dates a coordinator asks about, and the raw resource JSON.
Patient identity (name, birth date, identifiers, address, telecom) lives only in ``Patient``.
Datetimes are stored naive, as the wall-clock time the source recorded (what notes and
coordinators say: "appointment at 10:30"), not converted to UTC.
Security labels are stored as a "|"-delimited string ("|PSY|ETH|", "" when none) so SQL filters
can use ``LIKE '%|PSY|%'``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel


def labels_to_str(labels: tuple[str, ...] | list[str] | frozenset[str]) -> str:
    return "|" + "|".join(sorted(set(labels))) + "|" if labels else ""


def labels_from_str(value: str | None) -> tuple[str, ...]:
    return tuple(x for x in (value or "").split("|") if x)


class ResourceRow(SQLModel):
    """Columns every clinical resource row carries."""

    ref: str = Field(primary_key=True)  # "Task/abc"
    fhir_id: str = Field(index=True)
    patient_key: str | None = Field(default=None, index=True)
    facility: str | None = Field(default=None, index=True)  # Organization/<id>
    encounter_ref: str | None = None
    status: str | None = None
    code: str | None = None
    display: str | None = None
    security_labels: str = ""
    content_hash: str = ""
    raw: str = ""  # the resource JSON as ingested


# --------------------------------------------------------------------------- identity and directory
class Patient(SQLModel, table=True):
    id: str = Field(primary_key=True)  # FHIR Patient.id
    patient_key: str = Field(index=True, unique=True)
    name: str = ""
    given: str = ""
    family: str = ""
    birth_date: date | None = None
    gender: str | None = None
    mrn: str | None = Field(default=None, index=True)
    identifiers: str = "[]"  # JSON list of {"system","value"}
    address: str | None = None
    phone: str | None = None
    email: str | None = None
    managing_organization: str | None = None  # Organization/<id>
    facilities: str = ""  # "|"-delimited Organization refs (managing org, else encounter providers)
    security_labels: str = ""
    content_hash: str = ""
    raw: str = ""


class Organization(SQLModel, table=True):
    id: str = Field(primary_key=True)
    name: str = ""
    identifiers: str = "[]"
    raw: str = ""


class Practitioner(SQLModel, table=True):
    id: str = Field(primary_key=True)
    name: str = ""
    npi: str | None = Field(default=None, index=True)
    identifiers: str = "[]"
    raw: str = ""


class Identifier(SQLModel, table=True):
    """system|value → ResourceType/id, to resolve conditional references across bundles."""

    key: str = Field(primary_key=True)  # "Practitioner|http://hl7.org/fhir/sid/us-npi|999"
    ref: str = Field(index=True)


# --------------------------------------------------------------------------- clinical record
class Encounter(ResourceRow, table=True):
    class_code: str | None = None
    start: datetime | None = Field(default=None, index=True, sa_type=DateTime)
    end: datetime | None = Field(default=None, sa_type=DateTime)
    reason: str | None = None
    practitioner: str | None = None


class Condition(ResourceRow, table=True):
    clinical_status: str | None = None
    onset: datetime | None = Field(default=None, sa_type=DateTime)
    abatement: datetime | None = Field(default=None, sa_type=DateTime)
    recorded: datetime | None = Field(default=None, sa_type=DateTime)


class MedicationRequest(ResourceRow, table=True):
    medication: str | None = None
    dosage: str | None = None
    authored_on: datetime | None = Field(default=None, index=True, sa_type=DateTime)
    requester: str | None = None
    reason: str | None = None


class Observation(ResourceRow, table=True):
    category: str | None = None
    value: float | None = None
    value_text: str | None = None
    unit: str | None = None
    effective: datetime | None = Field(default=None, index=True, sa_type=DateTime)
    interpretation: str | None = None


class AllergyIntolerance(ResourceRow, table=True):
    criticality: str | None = None
    recorded: datetime | None = Field(default=None, sa_type=DateTime)


class Procedure(ResourceRow, table=True):
    performed: datetime | None = Field(default=None, index=True, sa_type=DateTime)


class Immunization(ResourceRow, table=True):
    occurrence: datetime | None = Field(default=None, sa_type=DateTime)


class CarePlan(ResourceRow, table=True):
    category: str | None = None
    period_start: datetime | None = Field(default=None, sa_type=DateTime)
    period_end: datetime | None = Field(default=None, sa_type=DateTime)
    addresses: str | None = None


class CarePlanActivity(ResourceRow, table=True):
    """One activity of a CarePlan; ref is "CarePlan/<id>#activity=<n>" (n from 1)."""

    careplan_ref: str = Field(index=True)
    index: int = 0
    scheduled: datetime | None = Field(default=None, sa_type=DateTime)
    location: str | None = None


class CareTeam(ResourceRow, table=True):
    name: str | None = None
    period_start: datetime | None = Field(default=None, sa_type=DateTime)


class CareTeamMember(SQLModel, table=True):
    id: str = Field(primary_key=True)  # "<careteam ref>#<n>"
    careteam_ref: str = Field(index=True)
    patient_key: str = Field(index=True)
    member_ref: str | None = Field(default=None, index=True)  # Practitioner/<id>
    member_identifier: str | None = Field(default=None, index=True)  # e.g. an NPI value or user id
    role: str | None = None
    display: str | None = None


class Task(ResourceRow, table=True):
    description: str | None = None
    priority: str | None = None
    authored_on: datetime | None = Field(default=None, sa_type=DateTime)
    last_modified: datetime | None = Field(default=None, sa_type=DateTime)
    due: datetime | None = Field(default=None, index=True, sa_type=DateTime)
    owner: str | None = None
    focus_ref: str | None = None
    note: str | None = None


class ServiceRequest(ResourceRow, table=True):
    intent: str | None = None
    category: str | None = None
    authored_on: datetime | None = Field(default=None, sa_type=DateTime)
    occurrence: datetime | None = Field(default=None, sa_type=DateTime)
    requester: str | None = None
    performer: str | None = None
    reason: str | None = None
    note: str | None = None


class Appointment(ResourceRow, table=True):
    description: str | None = None
    start: datetime | None = Field(default=None, index=True, sa_type=DateTime)
    end: datetime | None = Field(default=None, sa_type=DateTime)
    service_type: str | None = None
    practitioner: str | None = None
    location: str | None = None


# --------------------------------------------------------------------------- notes and policies
class Note(ResourceRow, table=True):
    """A DocumentReference (or DiagnosticReport.presentedForm) with its decoded text."""

    note_type: str | None = Field(default=None, index=True)
    note_type_code: str | None = None
    date: datetime | None = Field(default=None, index=True, sa_type=DateTime)
    author: str | None = None
    author_role: str | None = None
    text: str = ""


class Policy(SQLModel, table=True):
    id: str = Field(primary_key=True)  # "Policy/<ncd id>"
    title: str = ""
    section: str | None = None
    effective: date | None = None
    terminated: date | None = None
    text: str = ""
    content_hash: str = ""


class ChunkRow(SQLModel, table=True):
    """A chunk as the SQL side knows it: the source of truth the vector and BM25 indexes sync from."""

    chunk_id: str = Field(primary_key=True)
    doc_id: str = Field(index=True)  # Note.ref or Policy.id
    source_type: str  # note_chunk | policy
    source_ref: str
    patient_key: str | None = Field(default=None, index=True)
    facility: str | None = None
    note_type: str | None = None
    note_type_code: str | None = None
    note_date: int = 0
    author_role: str | None = None
    security_labels: str = ""
    section: str | None = None
    start: int
    end: int
    text: str
    index_text: str


class SourceVectors(SQLModel, table=True):
    """Vectors of the texts a question embeds about one source, computed at ingest (see
    ``retrieval.source_vectors``): owner = a chunk id, or ``records:<patient_key>`` for the
    patient's rendered record statements. Derived like the indexes: sync makes it match SQL."""

    __tablename__ = "source_vectors"
    owner: str = Field(primary_key=True)
    fingerprint: str = Field(primary_key=True)  # the embedding model's (same rule as the vector index)
    keys: str  # space-separated text keys (vector_cache.text_key), one per row of ``vectors``
    vectors: bytes  # float32, len(keys) x dim, row-major


# --------------------------------------------------------------------------- users and bookkeeping
class User(SQLModel, table=True):
    id: str = Field(primary_key=True)
    name: str
    role: str
    facilities: str = "[]"  # JSON list of Organization refs
    care_team_only: bool = True
    sensitive_access: str = "[]"  # JSON list of label codes


class Meta(SQLModel, table=True):
    """Key/value facts about this data dir (embedding fingerprint, the synthetic world's as-of date)."""

    key: str = Field(primary_key=True)
    value: str


# --------------------------------------------------------------------------- audit trail (see audit/log.py)
class AuditRecord(SQLModel, table=True):
    """One append-only, hash-chained audit record. Written only by ``carecite.audit.AuditLog``.

    kind: ask | decline | denied | break_glass | source_view | security_event. Question and answer
    are stored already redacted; JSON columns hold canonical JSON so the hash can be recomputed.
    """

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    request_id: str = Field(index=True)
    ts: str  # UTC ISO-8601
    kind: str = Field(index=True)
    user_id: str | None = Field(default=None, index=True)
    role: str | None = None
    patient_key: str | None = Field(default=None, index=True)
    scope: str = "{}"
    question: str | None = None
    answer: str | None = None
    retrieved_ids: str = "[]"
    cited_ids: str = "[]"
    decline_reason: str | None = None
    prompt_hash: str | None = None
    model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    break_glass_reason: str | None = None
    details: str = "{}"
    prev_hash: str
    hash: str = Field(unique=True)


class AuditChainHead(SQLModel, table=True):
    """The single row (id=1) naming the last audit record: the append lock, and catches truncation."""

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    seq: int = 0
    hash: str = "0" * 64


# Tables whose rows are the patient's structured record, by FHIR resource type.
RECORD_TABLES: dict[str, type[ResourceRow]] = {
    "Encounter": Encounter,
    "Condition": Condition,
    "MedicationRequest": MedicationRequest,
    "Observation": Observation,
    "AllergyIntolerance": AllergyIntolerance,
    "Procedure": Procedure,
    "Immunization": Immunization,
    "CarePlan": CarePlan,
    "CareTeam": CareTeam,
    "Task": Task,
    "ServiceRequest": ServiceRequest,
    "Appointment": Appointment,
}


def record_table(ref: str) -> type[ResourceRow] | None:
    """The table holding a structured record's ref: "CarePlan/<id>#activity=<n>" is an activity row,
    anything else is looked up by its resource type (None: not a structured record)."""
    if "#activity=" in ref:
        return CarePlanActivity
    return RECORD_TABLES.get(ref.split("/", 1)[0])


# --------------------------------------------------------------------------- feedback and drift (issue 13)
class AnswerFlag(SQLModel, table=True):
    """A user's flag on an answer (feedback/flags.py). Mutable status; every change is also audited.

    The source refs are copied from the flagged request's audit record when the flag is made, so the
    aggregates survive a re-ingest that changes chunk ids. ``comment`` is stored redacted.
    """

    id: str = Field(primary_key=True)
    request_id: str = Field(index=True)
    created_at: str  # UTC ISO-8601
    flagged_by: str = Field(index=True)
    category: str = Field(index=True)  # wrong | unsupported | missing_information | wrong_patient
    comment: str = ""
    status: str = Field(default="open", index=True)  # open | confirmed | dismissed
    reviewed_by: str | None = None
    reviewed_at: str | None = None
    review_note: str = ""
    # JSON list of {"ref", "kind", "cited"}: kind is the note type, or the record's resource type
    sources: str = "[]"


class DriftSample(SQLModel, table=True):
    """Random projections of embeddings for drift checks (monitoring/drift.py); never any text.

    kind "reference:<corpus>" (a corpus's chunks at its first ingest; corpus "notes" or "policies"),
    "ingest:<corpus>" (chunks added later) or "query" (one scrubbed question, bucketed to the hour,
    not linked to a request, user or patient). Data dirs from before corpora hold "reference" and
    "ingest" (notes and policies mixed), which drift no longer compares.
    """

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(index=True)
    ts: str = Field(index=True)  # UTC ISO-8601 (queries: truncated to the hour)
    fingerprint: str  # the embedding model that produced the vectors
    n: int = 1  # vectors behind this row
    projections: str = "[]"  # JSON list of k-dim projected vectors (a sample, at most drift_sample)
