"""Who may see what, decided before any retrieval.

Roles (DESIGN.md "Users file"):

* ``care_coordinator``, ``nurse``, ``physician`` ask patient questions. They see patients of their
  facilities (a patient belongs to the facilities stored on ``Patient.facilities``); with
  ``care_team_only`` only those whose active CareTeam lists them. Sources carrying a sensitivity
  label they lack are invisible (``allowed_labels``).
* ``physician`` and ``nurse`` may break the glass for one request, with a written reason: the
  scope widens to every patient of their facilities and every label, and carries the reason so
  the request is audited as ``break_glass``. Nobody else may.
* ``reviewer`` asks no patient questions (empty patient set). Reviewers read audit records and open
  exactly the sources an audited answer cited (``open_cited_source``), within their facilities and
  labels; every opening is itself audited (``source_view``).
* ``admin`` asks no patient questions and opens no patient content (empty patient set, no labels).
  Admins import users and verify / list the audit trail (its text is already redacted).

Denials raise ``AccessDenied``. An unknown patient and a patient outside the scope raise the same
exception with the same message, so a response never reveals whether a patient exists.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, cast, get_args

import sqlalchemy as sa
from sqlalchemy import or_
from sqlmodel import Session, col, select

from carecite.domain import SENSITIVE_LABELS, AccessScope, Frozen, Grant, Role, patient_key_for
from carecite.records import directory
from carecite.records.scoped import RowScope, apply_scope
from carecite.records.tables import (
    ChunkRow,
    Identifier,
    Note,
    Patient,
    Policy,
    ResourceRow,
    User,
    labels_from_str,
    record_table,
)

if TYPE_CHECKING:
    from carecite.audit.log import AuditLog

ROLES: tuple[str, ...] = get_args(Role)
CLINICAL_ROLES: frozenset[str] = frozenset({"care_coordinator", "nurse", "physician"})
BREAK_GLASS_ROLES: frozenset[str] = frozenset({"physician", "nurse"})
AUDIT_READER_ROLES: frozenset[str] = frozenset({"reviewer", "admin"})
# Audit kinds whose cited_ids are an answer's citations (what a reviewer may re-open).
ANSWER_KINDS: frozenset[str] = frozenset({"ask", "break_glass"})
MIN_BREAK_GLASS_REASON = 10

DENIED_MESSAGE = "access denied"
PATIENT_DENIED_MESSAGE = "access denied: no such patient in your scope"


class AccessDenied(Exception):
    """The request is not allowed. Messages are generic: they never reveal what exists."""

    def __init__(self, message: str = DENIED_MESSAGE) -> None:
        super().__init__(message)


class BreakGlassReasonInvalid(AccessDenied, ValueError):
    """Break-the-glass without a usable reason: denied, and also bad input (CLI exit 2 if you like)."""


def _json_list(value: str | None) -> list[str]:
    try:
        data = json.loads(value or "[]")
    except json.JSONDecodeError:
        return []  # a corrupt row grants nothing
    return [str(x) for x in data] if isinstance(data, list) else []


def _load_user(session: Session, user_id: str) -> User:
    user = session.get(User, user_id) if user_id else None
    if user is None or user.role not in ROLES:
        raise AccessDenied()
    return user


class RoleDenied(AccessDenied):
    """A known user whose role may not do this: a refusal about the action, never about a patient."""


def require_role(session: Session, user_id: str, roles: Iterable[str]) -> User:
    """The user row, when the user exists and has one of ``roles``; else ``AccessDenied``."""
    user = _load_user(session, user_id)
    allowed = frozenset(roles)
    if user.role not in allowed:
        raise RoleDenied(f"access denied: this action needs role {' or '.join(sorted(allowed))}")
    return user


def care_team_patient_keys(session: Session, user_id: str) -> frozenset[str]:
    """Patient keys of active (or status-less) CareTeams that list the user as a participant.

    A member matches as ``Practitioner/<user id>``, as a Practitioner carrying an identifier whose
    value is the user id (via ``Identifier`` keys "Practitioner|<system>|<value>"), or by a member
    identifier equal to the user id.
    """
    refs = {f"Practitioner/{user_id}"} | _exact_identifier_refs(session, user_id)
    teams = directory.CARE_TEAMS.c  # the directory: readable before any row scope exists
    rows = session.execute(
        sa.select(teams.patient_key).where(
            or_(teams.member_ref.in_(sorted(refs)), teams.member_identifier == user_id),
            or_(teams.status.is_(None), teams.status.in_(["", "active"])),
        )
    ).scalars()
    return frozenset(str(key) for key in rows if key)


def _exact_identifier_refs(session: Session, user_id: str) -> set[str]:
    # endswith("|<id>") also matches a value "x|<id>": keep keys whose value part IS the id.
    refs: set[str] = set()
    for key, ref in session.exec(
        select(Identifier.key, Identifier.ref).where(
            col(Identifier.key).startswith("Practitioner|", autoescape=True),
            col(Identifier.key).endswith(f"|{user_id}", autoescape=True),
        )
    ):
        if key.split("|", 2)[-1] == user_id:
            refs.add(ref)
    return refs


def compute_scope(session: Session, user_id: str, *, break_glass: str | None = None) -> AccessScope:
    """The AccessScope for one request by ``user_id`` (``break_glass``: the written reason, if any)."""
    user = _load_user(session, user_id)
    role = cast(Role, user.role)
    facilities = frozenset(f for f in _json_list(user.facilities) if f.startswith("Organization/"))
    labels = frozenset(label for label in _json_list(user.sensitive_access) if label in SENSITIVE_LABELS)

    if break_glass is not None:
        if role not in BREAK_GLASS_ROLES:
            raise AccessDenied(f"break-the-glass is not permitted for role {role}")
        reason = break_glass.strip()
        if len(reason) < MIN_BREAK_GLASS_REASON:
            raise BreakGlassReasonInvalid(
                f"break-the-glass needs a reason of at least {MIN_BREAK_GLASS_REASON} characters"
            )
        return AccessScope(
            user_id=user.id,
            role=role,
            facilities=facilities,
            patient_keys=None,
            allowed_labels=frozenset(SENSITIVE_LABELS),
            break_glass_reason=reason,
        )

    if role not in CLINICAL_ROLES:  # reviewer, admin: no patient questions
        return AccessScope(
            user_id=user.id,
            role=role,
            facilities=facilities,
            patient_keys=frozenset(),
            allowed_labels=labels if role == "reviewer" else frozenset(),
        )
    patient_keys = care_team_patient_keys(session, user.id) if user.care_team_only else None
    return AccessScope(
        user_id=user.id, role=role, facilities=facilities, patient_keys=patient_keys, allowed_labels=labels
    )


class DirectoryPatient(Frozen):
    """What the access decision knows about a patient (records/directory.py): nothing clinical."""

    id: str
    patient_key: str
    facilities: str = ""
    security_labels: str = ""

    @classmethod
    def of_row(cls, row: Any) -> DirectoryPatient:
        return cls.model_validate({k: v or "" for k, v in row.items()})


class DirectorySource(Frozen):
    """Whose a source is and its labels (records/directory.py): no content."""

    patient_key: str | None
    security_labels: tuple[str, ...] = ()


def _directory_patient(session: Session, **where: str) -> DirectoryPatient | None:
    cols = directory.PATIENTS.c
    query = sa.select(directory.PATIENTS).where(*(cols[name] == value for name, value in where.items()))
    row = session.execute(query).mappings().first()
    return DirectoryPatient.of_row(row) if row else None


def patient_by_id(session: Session, patient_id: str) -> DirectoryPatient | None:
    return _directory_patient(session, id=patient_id) if patient_id else None


def patient_by_key(session: Session, patient_key: str | None) -> DirectoryPatient | None:
    return _directory_patient(session, patient_key=patient_key) if patient_key else None


def _patient_visible(scope: AccessScope, patient: DirectoryPatient) -> bool:
    # A Patient resource labelled (e.g. "R", a restricted VIP record) is hidden unless the label is allowed.
    return scope.may_see_patient(
        patient.patient_key, frozenset(labels_from_str(patient.facilities))
    ) and scope.may_see_labels(labels_from_str(patient.security_labels))


def resolve_patient(session: Session, scope: AccessScope, patient_id: str) -> str:
    """The patient key of ``patient_id`` (FHIR Patient.id) when it exists AND is in scope.

    Unknown and out-of-scope patients raise the same ``AccessDenied`` with the same message.
    """
    patient = patient_by_id(session, patient_id)
    if patient is None or not _patient_visible(scope, patient):
        raise AccessDenied(PATIENT_DENIED_MESSAGE)
    return patient.patient_key


def patient_id_for(session: Session, scope: AccessScope, given: str) -> str:
    """The FHIR Patient id that ``given`` names within ``scope``: the id itself, or the MRN of exactly
    one patient the scope may see. Anything else (unknown, out of scope, an MRN two visible patients
    share) comes back unchanged, so ``resolve_patient`` denies it with the one message and nothing
    says whether it exists."""
    visible = patients_in_scope(session, scope)
    if any(p.id == given for p in visible):
        return given
    by_mrn = [p.id for p in visible if p.mrn and p.mrn == given.strip()]
    return by_mrn[0] if len(by_mrn) == 1 else given


def load_patient(session: Session, scope: AccessScope, patient_key: str) -> Patient | None:
    """The resolved patient's own row, read under the row scope of that patient (RLS on PostgreSQL);
    the rest of ``session``'s transaction keeps that scope."""
    apply_scope(session, RowScope.of([patient_key], scope.allowed_labels))
    return session.exec(select(Patient).where(Patient.patient_key == patient_key)).first()


def _visible_keys(session: Session, scope: AccessScope) -> list[str]:
    """The patient keys ``scope`` may see, decided on the directory."""
    if scope.patient_keys is not None and not scope.patient_keys:
        return []
    if not scope.facilities:
        return []
    cols = directory.PATIENTS.c
    query = sa.select(directory.PATIENTS).where(
        or_(*(cols.facilities.contains(f"|{f}|", autoescape=True) for f in sorted(scope.facilities)))
    )
    if scope.patient_keys is not None:
        query = query.where(cols.patient_key.in_(sorted(scope.patient_keys)))
    entries = [DirectoryPatient.of_row(row) for row in session.execute(query).mappings()]
    return sorted(p.patient_key for p in entries if _patient_visible(scope, p))


def patients_in_scope(session: Session, scope: AccessScope) -> list[Patient]:
    """Every patient the scope may see, by family then given name (the UI's patient picker).

    Decided on the directory; then the rest of ``session``'s transaction is scoped to exactly those
    patients (RLS on PostgreSQL), so their rows, and no one else's, can be read with it."""
    keys = _visible_keys(session, scope)
    if not keys:
        return []
    apply_scope(session, RowScope.of(keys, scope.allowed_labels))
    rows = session.exec(
        select(Patient)
        .where(col(Patient.patient_key).in_(keys))
        .order_by(col(Patient.family), col(Patient.given), col(Patient.id))
    )
    return list(rows)


def names_in_scope(session: Session, scope: AccessScope) -> list[tuple[str, str, str]]:
    """(patient key, given, family) of every patient the scope may see: the names a question may
    name another patient by. Only the name columns are read (a question is checked per request)."""
    keys = _visible_keys(session, scope)
    if not keys:
        return []
    apply_scope(session, RowScope.of(keys, scope.allowed_labels))
    rows = session.exec(
        select(Patient.patient_key, Patient.given, Patient.family).where(col(Patient.patient_key).in_(keys))
    )
    return [(k or "", g or "", f or "") for k, g, f in rows]


def source_in_directory(session: Session, source_id: str) -> DirectorySource | None:
    """Whose source ``source_id`` is, and its labels, from the directory (no content)."""
    row = (
        session.execute(sa.select(directory.SOURCES).where(directory.SOURCES.c.source_id == source_id))
        .mappings()
        .first()
    )
    if row is None:
        return None
    return DirectorySource(
        patient_key=row["patient_key"] or None, security_labels=labels_from_str(row["security_labels"])
    )


def scope_to_source(session: Session, scope: AccessScope, source_id: str) -> DirectorySource | None:
    """Before reading a source's content: scope ``session``'s transaction to that source's patient with
    the caller's labels (RLS still hides a label the caller lacks). Policies need no scope."""
    entry = source_in_directory(session, source_id)
    if entry is not None and entry.patient_key:
        apply_scope(session, RowScope.of([entry.patient_key], scope.allowed_labels))
    return entry


# --------------------------------------------------------------------------- reviewers
def _find_source(session: Session, source_id: str) -> dict[str, Any] | None:
    """Look a cited source up in the system of record: a chunk, a record (or activity), a note, a policy."""
    chunk = session.get(ChunkRow, source_id)
    if chunk is not None:
        return {
            "source_type": chunk.source_type,
            "source_ref": chunk.source_ref,
            "patient_key": chunk.patient_key,
            "security_labels": labels_from_str(chunk.security_labels),
            "text": chunk.text,
            "span": [chunk.start, chunk.end],
        }
    table: type[ResourceRow] | None = (
        Note if source_id.startswith(("DocumentReference/", "DiagnosticReport/")) else record_table(source_id)
    )
    row = session.get(table, source_id) if table is not None else None
    if row is not None:
        return {
            "source_type": "note" if isinstance(row, Note) else "record",  # a whole note is a note
            "source_ref": row.ref,
            "patient_key": row.patient_key,
            "security_labels": labels_from_str(row.security_labels),
            "text": row.text if isinstance(row, Note) else row.raw,
            "span": None,
            "_row": row,
        }
    policy = session.get(Policy, source_id)
    if policy is not None:
        return {
            "source_type": "policy",
            "source_ref": policy.id,
            "patient_key": None,
            "security_labels": (),
            "text": policy.text,
            "span": None,
        }
    return None


def open_cited_source(
    session: Session,
    audit_log: AuditLog,
    reviewer_id: str,
    request_id: str,
    source_id: str,
    *,
    render_record: Callable[[ResourceRow], str] | None = None,
    grant: Grant | None = None,
) -> dict[str, Any]:
    """Show a reviewer one source that the audited answer ``request_id`` cited, and audit the view.

    Allowed only when the user is a reviewer, ``source_id`` is among that record's cited ids, the
    source's labels are in the reviewer's ``sensitive_access`` and its patient belongs to one of the
    reviewer's facilities. Records are returned as their stored resource JSON unless
    ``render_record`` turns them into the statement the answer showed. Every attempt, allowed or
    denied, leaves an audit record (``source_view`` or ``denied``).
    """
    scope: AccessScope | None = None
    patient_key: str | None = None
    try:
        # A token's grant narrows a reviewer as it narrows anyone (SMART patient/*.rs launch).
        scope = compute_scope(session, reviewer_id).narrowed(grant)
        if scope.role != "reviewer":
            raise AccessDenied("access denied: only reviewers open cited sources")
        entry = audit_log.get(request_id)
        # Only an answer's citations: a source_view record also lists the source it opened, and
        # accepting it would let a reviewer open a whole note no answer cited.
        if entry is None or entry.kind not in ANSWER_KINDS or source_id not in entry.cited_ids:
            raise AccessDenied("access denied: that source was not cited by that request")
        if not scope.may_see_type(source_id):
            raise AccessDenied("access denied: the token does not grant that resource type")
        # Labels and patient come from the directory, so each denial keeps its own reason; only
        # then is the content read, under that patient's row scope.
        listed = source_in_directory(session, source_id)
        if listed is not None and not scope.may_see_labels(listed.security_labels):
            raise AccessDenied("access denied: the source carries a sensitivity label you lack")
        scope_to_source(session, scope, source_id)
        source = _find_source(session, source_id)
        if source is None:
            raise AccessDenied("access denied: the cited source is no longer in the system of record")
        patient_key = source["patient_key"]
        if not scope.may_see_labels(tuple(source["security_labels"])):
            raise AccessDenied("access denied: the source carries a sensitivity label you lack")
        if patient_key is not None:
            patient = patient_by_key(session, patient_key)
            facilities = frozenset(labels_from_str(patient.facilities)) if patient else frozenset()
            if not scope.facilities & facilities:
                raise AccessDenied("access denied: the source's patient is outside your facilities")
            # A reviewer's own scope lists no patients (they ask nothing), so a launch narrows here:
            # a patient/*.rs token launched for one patient opens that patient's sources only.
            if (
                grant is not None
                and grant.patient_ids is not None
                and patient_key not in {patient_key_for(p) for p in grant.patient_ids}
            ):
                raise AccessDenied("access denied: the token's launch does not include that patient")
    except AccessDenied as exc:
        audit_log.append(
            {
                "kind": "denied",
                "user_id": reviewer_id,
                "role": scope.role if scope else None,
                "patient_key": patient_key,
                "scope": scope.summary() if scope else {},
                "details": {"action": "source_view", "reviewed_request_id": request_id, "reason": str(exc)},
            }
        )
        raise
    row = source.pop("_row", None)
    if row is not None and render_record is not None and not isinstance(row, Note):
        source["text"] = render_record(row)
    view_id = audit_log.append(
        {
            "kind": "source_view",
            "user_id": scope.user_id,
            "role": scope.role,
            "patient_key": patient_key,
            "scope": scope.summary(),
            "cited_ids": [source_id],
            "details": {"reviewed_request_id": request_id, "source_id": source_id},
        }
    )
    source["security_labels"] = list(source["security_labels"])
    return {"source_id": source_id, "view_request_id": view_id, **source}
