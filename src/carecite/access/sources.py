"""Open one source by id for the caller (GET /v1/sources/{ref}), within their scope, audited.

* Clinical roles open a note chunk, a whole note, a record or a policy when its patient is in their
  (possibly token-narrowed) scope, its labels are allowed and its resource type is granted.
* Reviewers open only what an audited answer cited: ``open_cited_source`` with the request id.
* Admins open no patient content.

Every attempt leaves an audit record (``source_view`` or ``denied``). A source that does not exist
and one the caller may not see raise the same ``AccessDenied`` with the same message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

from sqlmodel import Session

from carecite.access.scope import (
    CLINICAL_ROLES,
    PATIENT_DENIED_MESSAGE,
    AccessDenied,
    DirectoryPatient,
    _find_source,
    _patient_visible,
    compute_scope,
    open_cited_source,
    patient_by_key,
    scope_to_source,
)
from carecite.domain import AccessScope, Frozen, Grant

if TYPE_CHECKING:
    from carecite.audit.log import AuditLog


class SourceView(Frozen):
    source_id: str
    source_type: str
    source_ref: str
    patient_id: str | None
    text: str
    span: tuple[int, int] | None  # a chunk's offsets in its note; None for whole notes, records, policies
    security_labels: list[str]
    view_request_id: str  # the audit record of this opening


def open_source(
    session: Session,
    audit_log: AuditLog,
    user_id: str,
    source_id: str,
    *,
    grant: Grant | None = None,
    cited_by: str | None = None,
) -> SourceView:
    """The source ``source_id`` as ``user_id`` (narrowed by a token's ``grant``) may see it;
    ``cited_by``: the audited request that cited it (reviewers)."""
    try:
        scope = compute_scope(session, user_id).narrowed(grant)
    except AccessDenied:
        _deny(audit_log, None, user_id, source_id, "unknown user")
    if scope.role == "reviewer":
        if not cited_by or not scope.may_see_type(source_id):
            _deny(audit_log, scope, user_id, source_id, "reviewers open only sources an audited answer cited")
        opened = open_cited_source(session, audit_log, scope.user_id, cited_by, source_id, grant=grant)
        return SourceView(
            source_id=source_id,
            source_type=opened["source_type"],
            source_ref=opened["source_ref"],
            patient_id=_patient_id(session, opened["patient_key"]),
            text=opened["text"],
            span=tuple(opened["span"]) if opened.get("span") else None,
            security_labels=list(opened["security_labels"]),
            view_request_id=opened["view_request_id"],
        )
    source = None
    if scope.role in CLINICAL_ROLES:
        scope_to_source(session, scope, source_id)  # its patient's row scope, before any content read
        source = _find_source(session, source_id)
    patient: DirectoryPatient | None = None
    if source is not None and source["patient_key"] is not None:
        patient = patient_by_key(session, source["patient_key"])
    visible = (
        source is not None
        and scope.may_see_labels(tuple(source["security_labels"]))
        and (source["source_type"] == "policy" or scope.may_see_type(source["source_ref"]))
        and (source["patient_key"] is None or (patient is not None and _patient_visible(scope, patient)))
    )
    if not visible or source is None:
        _deny(audit_log, scope, user_id, source_id, "not found or not in scope")
    view_id = audit_log.append(
        {
            "kind": "source_view",
            "user_id": scope.user_id,
            "role": scope.role,
            "patient_key": source["patient_key"],
            "scope": scope.summary(),
            "cited_ids": [source_id],
            "break_glass_reason": scope.break_glass_reason,
            "details": {"action": "source_view", "source_id": source_id},
        }
    )
    span = source.get("span")
    return SourceView(
        source_id=source_id,
        source_type=source["source_type"],
        source_ref=source["source_ref"],
        patient_id=patient.id if patient is not None else None,
        text=source["text"],
        span=(int(span[0]), int(span[1])) if span else None,
        security_labels=list(source["security_labels"]),
        view_request_id=view_id,
    )


def _deny(
    audit_log: AuditLog, scope: AccessScope | None, user_id: str, source_id: str, reason: str
) -> NoReturn:
    # The audit keeps which id was asked for; the caller learns nothing beyond "denied".
    audit_log.append(
        {
            "kind": "denied",
            "user_id": user_id,
            "role": scope.role if scope else None,
            "scope": scope.summary() if scope else {},
            "details": {"action": "source_view", "requested": source_id, "reason": reason},
        }
    )
    raise AccessDenied(PATIENT_DENIED_MESSAGE)


def _patient_id(session: Session, patient_key: str | None) -> str | None:
    patient = patient_by_key(session, patient_key)
    return patient.id if patient is not None else None
