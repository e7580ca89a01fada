"""SMART on FHIR scopes → a ``Grant`` that can only narrow what the token's user may see.

Understood (v2, and v1 ``.read`` / ``.*`` for older clients):

* ``user/<Type>.rs`` (any of ``c r u d s`` containing ``r`` or ``s``): the user may read ``<Type>``
  for every patient their carecite role allows. ``user/*.rs``: every type.
* ``patient/<Type>.rs`` with a launch ``patient`` claim: the same, for that one patient only. Without
  the claim a patient scope grants nothing. When a token carries ``user/`` scopes too, its
  ``patient/`` scopes add nothing (never wider than the ``user/`` part).
* Fail closed: scopes with query parameters (``?category=...``), ``system/`` scopes and write-only
  scopes grant nothing; other scopes (``openid``, ``fhirUser``, ``launch``) are ignored.

Notes are read as ``DocumentReference`` (or ``DiagnosticReport`` for report text), records as their
own FHIR type (a CarePlan activity as ``CarePlan``); coverage policies are not patient data and come
with any clinical scope. The audit trail is ``AuditEvent`` (reviewers and admins only).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from carecite.domain import Grant

_SCOPE = re.compile(
    r"^(?P<ctx>patient|user|system)/(?P<type>\*|[A-Z][A-Za-z]+)\.(?P<perm>c?r?u?d?s?|read|write|\*)$"
)
CLINICAL_SCOPE_EXAMPLE = "user/*.rs (or user/<Type>.rs, patient/<Type>.rs with a launch patient)"
AUDIT_SCOPE = "user/AuditEvent.rs"


@dataclass(frozen=True)
class Scopes:
    """What a token's ``scope`` claim says, parsed once per request."""

    user_types: frozenset[str]  # "*" for every type
    patient_types: frozenset[str]
    launch_patient: str | None

    @classmethod
    def parse(cls, scope_claim: str | Iterable[str] | None, launch_patient: str | None) -> Scopes:
        items = scope_claim.split() if isinstance(scope_claim, str) else list(scope_claim or [])
        user: set[str] = set()
        patient: set[str] = set()
        for item in items:
            m = _SCOPE.match(str(item))
            if m is None:
                continue
            perm = m["perm"]
            readable = perm in ("read", "*") or (perm != "write" and ("r" in perm or "s" in perm))
            if not readable:
                continue
            if m["ctx"] == "user":
                user.add(m["type"])
            elif m["ctx"] == "patient":
                patient.add(m["type"])
        return cls(frozenset(user), frozenset(patient), launch_patient or None)

    def grant(self) -> Grant | None:
        """The narrowing for clinical requests; None when the token grants no clinical read at all."""
        user, patient = self.user_types - {"AuditEvent"}, self.patient_types - {"AuditEvent"}
        if user:
            return Grant(resource_types=None if "*" in user else user)
        if patient and self.launch_patient:
            types = None if "*" in patient else patient
            return Grant(resource_types=types, patient_ids=frozenset({self.launch_patient}))
        return None

    @property
    def may_read_audit(self) -> bool:
        return bool(self.user_types & {"*", "AuditEvent"})
