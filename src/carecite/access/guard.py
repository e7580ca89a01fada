"""The guard: every candidate is re-checked against the scope after retrieval (defence in depth).

Retrievers already filter inside their stores; the guard catches a store that did not (a bad
metadata filter, a stale index). A candidate that fails is dropped and reported as a violation —
a security event to audit, carrying only source ids and the reason, never the offending text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from carecite.audit.log import AuditEvent
from carecite.domain import AccessScope, Candidate

ViolationReason = Literal[
    "wrong_patient", "patient_out_of_scope", "label_not_allowed", "resource_type_not_granted"
]


class Violation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    source_id: str
    source_ref: str
    retriever: str
    reason: ViolationReason
    labels: tuple[str, ...] = ()  # the labels the scope does not allow (label_not_allowed only)


class GuardResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    kept: list[Candidate] = Field(default_factory=list)
    violations: list[Violation] = Field(default_factory=list)


def _check(scope: AccessScope, patient_key: str, candidate: Candidate) -> Violation | None:
    def violation(reason: ViolationReason, labels: tuple[str, ...] = ()) -> Violation:
        return Violation(
            source_id=candidate.source_id,
            source_ref=candidate.source_ref,
            retriever=candidate.retriever,
            reason=reason,
            labels=labels,
        )

    # Policies are public coverage documents with no patient: they pass the patient checks.
    is_policy = candidate.source_type == "policy" and candidate.patient_key is None
    if not is_policy:
        if candidate.patient_key != patient_key:
            return violation("wrong_patient")
        if scope.patient_keys is not None and patient_key not in scope.patient_keys:
            return violation("patient_out_of_scope")
        if not scope.may_see_type(candidate.source_ref):
            return violation("resource_type_not_granted")
    denied = tuple(sorted(label for label in candidate.security_labels if label not in scope.allowed_labels))
    if denied:
        return violation("label_not_allowed", denied)
    return None


def guard_candidates(scope: AccessScope, patient_key: str, candidates: Iterable[Candidate]) -> GuardResult:
    """Keep the candidates ``scope`` may see for ``patient_key`` (in order); report the rest."""
    kept: list[Candidate] = []
    violations: list[Violation] = []
    for candidate in candidates:
        problem = _check(scope, patient_key, candidate)
        if problem is None:
            kept.append(candidate)
        else:
            violations.append(problem)
    return GuardResult(kept=kept, violations=violations)


def security_event(
    scope: AccessScope, patient_key: str, violations: Iterable[Violation], *, request_id: str
) -> AuditEvent:
    """The audit event (kind ``security_event``) for guard violations: ids and reasons, no text."""
    items = [v.model_dump(mode="json") for v in violations]
    return AuditEvent(
        kind="security_event",
        request_id=request_id,
        user_id=scope.user_id,
        role=scope.role,
        patient_key=patient_key,
        scope=scope.summary(),
        retrieved_ids=[v["source_id"] for v in items],
        break_glass_reason=scope.break_glass_reason,
        details={"guard_violations": items},
    )
