"""SMART scope parsing and the narrowing rule (pure: no server)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carecite.api.scopes import Scopes
from carecite.domain import AccessScope, Grant, patient_key_for


@pytest.mark.parametrize(
    ("claim", "types"),
    [
        ("user/*.rs", None),
        ("user/*.read", None),
        ("user/Observation.rs", {"Observation"}),
        ("user/Observation.r user/DocumentReference.s", {"Observation", "DocumentReference"}),
        ("user/Observation.cruds", {"Observation"}),
        ("openid fhirUser user/Task.rs launch", {"Task"}),
    ],
)
def test_user_scopes_grant_their_resource_types(claim: str, types: set[str] | None) -> None:
    grant = Scopes.parse(claim, None).grant()
    assert grant is not None and grant.patient_ids is None
    assert grant.resource_types == (None if types is None else frozenset(types))


@pytest.mark.parametrize(
    "claim",
    [
        "",
        "openid",
        "user/Observation.c",
        "user/Observation.write",
        "system/*.rs",
        "user/*.rs?category=x",
        "user/AuditEvent.rs",
        "patient/*.rs",
    ],
)
def test_scopes_that_grant_no_clinical_read_grant_nothing(claim: str) -> None:
    assert Scopes.parse(claim, None).grant() is None


def test_patient_scope_needs_the_launch_patient_and_user_scopes_take_precedence() -> None:
    grant = Scopes.parse("patient/*.rs", "p-1").grant()
    assert grant == Grant(resource_types=None, patient_ids=frozenset({"p-1"}))
    both = Scopes.parse("patient/*.rs user/Observation.rs", "p-1").grant()
    assert both == Grant(resource_types=frozenset({"Observation"}))
    assert Scopes.parse("user/AuditEvent.rs", None).may_read_audit
    assert not Scopes.parse("user/Observation.rs", None).may_read_audit


SCOPE = AccessScope(
    user_id="u",
    role="physician",
    facilities=frozenset({"Organization/a"}),
    patient_keys=frozenset({patient_key_for("p-1"), patient_key_for("p-2")}),
    allowed_labels=frozenset({"PSY"}),
    resource_types=frozenset({"Observation", "Task"}),
)
TYPES = st.sampled_from(["Observation", "Task", "DocumentReference", "Condition", "AuditEvent"])


@given(
    types=st.none() | st.frozensets(TYPES),
    patients=st.none() | st.frozensets(st.sampled_from(["p-1", "p-2", "p-3"])),
)
def test_a_grant_never_widens_a_scope(types: frozenset[str] | None, patients: frozenset[str] | None) -> None:
    narrowed = SCOPE.narrowed(Grant(resource_types=types, patient_ids=patients))
    assert narrowed.resource_types is not None and narrowed.resource_types <= SCOPE.resource_types  # type: ignore[operator]
    assert narrowed.patient_keys is not None and narrowed.patient_keys <= SCOPE.patient_keys  # type: ignore[operator]
    assert (narrowed.facilities, narrowed.allowed_labels, narrowed.role) == (
        SCOPE.facilities,
        SCOPE.allowed_labels,
        SCOPE.role,
    )
    facility_wide = SCOPE.model_copy(update={"patient_keys": None, "resource_types": None})
    n2 = facility_wide.narrowed(Grant(resource_types=types, patient_ids=patients))
    assert n2.resource_types == types
    assert n2.may_see_patient(patient_key_for("p-3"), frozenset({"Organization/b"})) is False
