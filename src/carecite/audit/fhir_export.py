"""The audit trail as FHIR R4 AuditEvent resources in a Bundle, shaped after IHE Basic Audit Log
Patterns (BALP): so a hospital's audit repository (an ATNA/BALP consumer) can take carecite's trail.

Per record:
  * ``type``/``subtype``: a RESTful ``search`` for a question (ask, decline, break-the-glass, and a
    denied question), ``read`` for a reviewer opening a source, ``create``/``update`` for flags;
    DICOM 110113 "Security Alert" for guard violations. The carecite record kind rides along as an
    extra subtype (``urn:carecite:audit-kind``) so nothing is lost.
  * ``agent``: the user (requestor, BALP's "user" agent, identified by carecite user id, role as
    text), with purposeOfUse ETREAT for break-the-glass else TREAT; and carecite itself (the
    application that answered).
  * ``entity``: the patient (``Patient/<id>``, resolved from the opaque patient key) and each cited
    source by its FHIR reference (``DocumentReference/<id>``, ``Task/<id>``, ``Policy/<id>``).
  * ``outcome``: 0 success (an answer, a decline, a view), 4 minor failure (guard dropped sources),
    8 serious failure (access denied); ``outcomeDesc`` says why in words (decline reason, denial).
No question, answer or comment text is exported: the receiving system gets who, when, which
patient, which sources and how it ended. The hash chain is referenced per event (extension-free:
``AuditEvent.source.observer`` names carecite and ``entity.detail`` carries seq and hash).

Validated with ``fhir.resources`` (R4B models: the AuditEvent and Bundle shapes are R4's).
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from carecite.audit.log import AuditEntry, AuditLog
from carecite.records import tables as t

DCM = "http://dicom.nema.org/resources/ontology/DCM"
AUDIT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
RESTFUL = "http://hl7.org/fhir/restful-interaction"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
PURPOSE = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
KIND_SYSTEM = "urn:carecite:audit-kind"
USER_SYSTEM = "urn:carecite:user"
PATIENT_KEY_SYSTEM = "urn:carecite:patient-key"
SOURCE_ID_SYSTEM = "urn:carecite:source-id"
OBSERVER = "carecite"

# kind -> (type, subtype, action)
_SHAPE: dict[str, tuple[dict[str, str], dict[str, str], str]] = {
    "ask": ({"system": AUDIT_TYPE, "code": "rest"}, {"system": RESTFUL, "code": "search"}, "E"),
    "decline": ({"system": AUDIT_TYPE, "code": "rest"}, {"system": RESTFUL, "code": "search"}, "E"),
    "break_glass": ({"system": AUDIT_TYPE, "code": "rest"}, {"system": RESTFUL, "code": "search"}, "E"),
    "denied": ({"system": AUDIT_TYPE, "code": "rest"}, {"system": RESTFUL, "code": "search"}, "E"),
    "source_view": ({"system": AUDIT_TYPE, "code": "rest"}, {"system": RESTFUL, "code": "read"}, "R"),
    "flag": ({"system": AUDIT_TYPE, "code": "rest"}, {"system": RESTFUL, "code": "create"}, "C"),
    "flag_review": ({"system": AUDIT_TYPE, "code": "rest"}, {"system": RESTFUL, "code": "update"}, "U"),
    "security_event": (
        {"system": DCM, "code": "110113", "display": "Security Alert"},
        {"system": DCM, "code": "110113", "display": "Security Alert"},
        "E",
    ),
}


def _patients(engine: Engine, keys: Iterable[str]) -> dict[str, str]:
    wanted = sorted({k for k in keys if k})
    if not wanted:
        return {}
    with Session(engine) as s:
        rows = s.exec(
            select(t.Patient.patient_key, t.Patient.id).where(col(t.Patient.patient_key).in_(wanted))
        )
        return {key: pid for key, pid in rows}


def _source_refs(engine: Engine, ids: Iterable[str]) -> dict[str, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    with Session(engine) as s:
        rows = s.exec(
            select(t.ChunkRow.chunk_id, t.ChunkRow.source_ref).where(col(t.ChunkRow.chunk_id).in_(wanted))
        )
        found = {cid: ref for cid, ref in rows}
    # Records are cited by their own reference (CarePlan/<id>#activity=2 → the CarePlan).
    return {i: found.get(i) or i.split("#", 1)[0] for i in wanted}


def _outcome(entry: AuditEntry) -> tuple[str, str | None]:
    if entry.kind == "denied":
        reason = entry.details.get("reason") if isinstance(entry.details.get("reason"), str) else None
        return "8", reason or "access denied"
    if entry.kind == "security_event":
        return "4", "sources outside the user's scope were retrieved and dropped by the guard"
    if entry.decline_reason:
        return "0", f"declined: {entry.decline_reason}"
    return "0", None


def audit_event(entry: AuditEntry, patients: dict[str, str], refs: dict[str, str]) -> dict[str, Any]:
    """One audit record → one FHIR R4 AuditEvent (a plain dict, JSON-ready)."""
    type_, subtype, action = _SHAPE.get(entry.kind, _SHAPE["ask"])
    outcome, outcome_desc = _outcome(entry)
    purpose = "ETREAT" if entry.kind == "break_glass" or entry.break_glass_reason else "TREAT"
    user_agent: dict[str, Any] = {
        "type": {"coding": [{"system": PARTICIPATION, "code": "IRCP", "display": "information recipient"}]},
        "who": {"identifier": {"system": USER_SYSTEM, "value": entry.user_id or "unknown"}},
        "requestor": True,
        "purposeOfUse": [{"coding": [{"system": PURPOSE, "code": purpose}]}],
    }
    if entry.role:
        user_agent["role"] = [{"text": entry.role}]
    entities: list[dict[str, Any]] = []
    if entry.patient_key and not entry.patient_key.startswith("__"):
        pid = patients.get(entry.patient_key)
        what = (
            {"reference": f"Patient/{pid}"}
            if pid
            else {"identifier": {"system": PATIENT_KEY_SYSTEM, "value": entry.patient_key}}
        )
        entities.append(
            {
                "what": what,
                "type": {"system": ENTITY_TYPE, "code": "1", "display": "Person"},
                "role": {"system": OBJECT_ROLE, "code": "1", "display": "Patient"},
            }
        )
    for source_id in entry.cited_ids:
        ref = refs.get(source_id, source_id)
        entities.append(
            {
                "what": {"reference": ref, "identifier": {"system": SOURCE_ID_SYSTEM, "value": source_id}},
                "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
                "role": {"system": OBJECT_ROLE, "code": "4", "display": "Domain Resource"},
                "description": "cited source",
            }
        )
    # The hash-chain position, so the receiver can tie the event back to `carecite audit verify`.
    entities.append(
        {
            "what": {"identifier": {"system": "urn:carecite:audit-record", "value": entry.request_id}},
            "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
            "description": "carecite audit record",
            "detail": [
                {"type": "seq", "valueString": str(entry.seq)},
                {"type": "hash", "valueBase64Binary": base64.b64encode(bytes.fromhex(entry.hash)).decode()},
            ],
        }
    )
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"carecite-audit:{entry.seq}:{entry.hash}")),
        "type": type_,
        "subtype": [subtype, {"system": KIND_SYSTEM, "code": entry.kind}],
        "action": action,
        "recorded": entry.ts,
        "outcome": outcome,
        "purposeOfEvent": [{"coding": [{"system": PURPOSE, "code": purpose}]}],
        "agent": [
            user_agent,
            {
                "type": {"coding": [{"system": DCM, "code": "110150", "display": "Application"}]},
                "who": {"display": OBSERVER},
                "requestor": False,
            },
        ],
        "source": {
            "observer": {"display": OBSERVER},
            "type": [{"system": SOURCE_TYPE, "code": "4", "display": "Application Server"}],
        },
        "entity": entities,
    }
    if outcome_desc:
        event["outcomeDesc"] = outcome_desc
    return event


def audit_bundle(engine: Engine, entries: Sequence[AuditEntry]) -> dict[str, Any]:
    """A FHIR R4 Bundle (type collection) of AuditEvents, oldest first."""
    patients = _patients(engine, (e.patient_key or "" for e in entries))
    refs = _source_refs(engine, (i for e in entries for i in e.cited_ids))
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "total": len(entries),
        "entry": [
            {
                "fullUrl": f"urn:uuid:{event['id']}",
                "resource": event,
            }
            for event in (audit_event(e, patients, refs) for e in entries)
        ],
    }


def validate_bundle(bundle: dict[str, Any]) -> None:
    """Raise (pydantic ValidationError) unless ``bundle`` and every AuditEvent parse as FHIR R4."""
    from fhir.resources.R4B.auditevent import AuditEvent
    from fhir.resources.R4B.bundle import Bundle

    Bundle.model_validate(bundle)
    for item in bundle.get("entry", []):
        AuditEvent.model_validate(item["resource"])


def export_fhir(engine: Engine, audit: AuditLog, *, since: str | None = None) -> dict[str, Any]:
    """The audit trail since ``since`` (ISO timestamp; all when None) as a validated FHIR Bundle."""
    entries = audit.records(since=since, limit=None, newest_first=False)
    bundle = audit_bundle(engine, entries)
    validate_bundle(bundle)
    return bundle
