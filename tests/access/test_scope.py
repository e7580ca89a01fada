from __future__ import annotations

import pytest
from access_world import NORTH, SOUTH, World, key

from carecite.access.scope import (
    AccessDenied,
    BreakGlassReasonInvalid,
    compute_scope,
    open_cited_source,
    patients_in_scope,
    require_role,
    resolve_patient,
)
from carecite.audit import AuditLog
from carecite.domain import SENSITIVE_LABELS


# --------------------------------------------------------------------------- users and scopes
def test_unknown_user_is_denied_with_a_generic_message(shared_world: World) -> None:
    with shared_world.session() as s, pytest.raises(AccessDenied) as exc:
        compute_scope(s, "nobody")
    assert str(exc.value) == "access denied"


def test_care_team_only_scope_lists_patients_of_active_care_teams_naming_the_user(
    shared_world: World,
) -> None:
    with shared_world.session() as s:
        scope = compute_scope(s, "cc-amy")
    # ann: member_ref; bob: practitioner identifier; fay: member identifier; eve, vip: member_ref.
    # cat: inactive team; dan: other team, and prac-x's identifier only ENDS with "|cc-amy".
    assert scope.patient_keys == frozenset(key(p) for p in ("ann", "bob", "fay", "eve", "vip"))
    assert scope.facilities == {NORTH}
    assert scope.allowed_labels == frozenset()
    assert scope.break_glass_reason is None


def test_care_team_member_resolves_their_patient(shared_world: World) -> None:
    with shared_world.session() as s:
        scope = compute_scope(s, "cc-amy")
        assert resolve_patient(s, scope, "ann") == key("ann")
        assert resolve_patient(s, scope, "bob") == key("bob")
        assert resolve_patient(s, scope, "fay") == key("fay")


def test_other_care_team_patient_is_denied_for_care_team_only_user(shared_world: World) -> None:
    with shared_world.session() as s:
        scope = compute_scope(s, "cc-amy")
        with pytest.raises(AccessDenied):
            resolve_patient(s, scope, "dan")


def test_inactive_care_team_grants_nothing(shared_world: World) -> None:
    with shared_world.session() as s:
        scope = compute_scope(s, "cc-amy")
        with pytest.raises(AccessDenied):
            resolve_patient(s, scope, "cat")


def test_other_facility_patient_is_denied_even_when_on_the_care_team(shared_world: World) -> None:
    with shared_world.session() as s:
        scope = compute_scope(s, "cc-amy")
        assert key("eve") in (scope.patient_keys or set())
        with pytest.raises(AccessDenied):
            resolve_patient(s, scope, "eve")


def test_whole_facility_user_sees_every_patient_of_the_facility_and_no_other(shared_world: World) -> None:
    with shared_world.session() as s:
        scope = compute_scope(s, "nurse-ned")
        assert scope.patient_keys is None
        for pid in ("ann", "dan", "cat"):
            assert resolve_patient(s, scope, pid) == key(pid)
        with pytest.raises(AccessDenied):
            resolve_patient(s, scope, "eve")
        picker = [p.id for p in patients_in_scope(s, scope)]
    assert sorted(picker) == ["ann", "bob", "cat", "dan", "fay"]  # vip is restricted, eve at south


def test_unknown_and_out_of_scope_patients_give_identical_errors(shared_world: World) -> None:
    with shared_world.session() as s:
        scope = compute_scope(s, "cc-amy")
        errors = []
        for pid in ("no-such-patient", "dan", "eve", ""):
            with pytest.raises(AccessDenied) as exc:
                resolve_patient(s, scope, pid)
            errors.append((type(exc.value), str(exc.value)))
    assert len(set(errors)) == 1


def test_labels_come_from_the_users_sensitive_access(shared_world: World) -> None:
    with shared_world.session() as s:
        dee = compute_scope(s, "doc-dee")
        amy = compute_scope(s, "cc-amy")
    assert dee.allowed_labels == {"PSY"}
    assert dee.may_see_labels(("PSY",)) and not dee.may_see_labels(("PSY", "ETH"))
    assert not amy.may_see_labels(("PSY",))


def test_restricted_patient_is_hidden_without_the_R_label(shared_world: World) -> None:
    with shared_world.session() as s:
        scope = compute_scope(s, "cc-amy")
        with pytest.raises(AccessDenied):
            resolve_patient(s, scope, "vip")
        assert "vip" not in [p.id for p in patients_in_scope(s, scope)]


def test_patient_picker_lists_exactly_the_resolvable_patients(shared_world: World) -> None:
    with shared_world.session() as s:
        scope = compute_scope(s, "cc-amy")
        assert [p.id for p in patients_in_scope(s, scope)] == ["ann", "bob", "fay"]


@pytest.mark.parametrize("user_id", ["rev-rita", "admin-al"])
def test_reviewers_and_admins_get_no_patients(shared_world: World, user_id: str) -> None:
    with shared_world.session() as s:
        scope = compute_scope(s, user_id)
        assert scope.patient_keys == frozenset()
        assert patients_in_scope(s, scope) == []
        with pytest.raises(AccessDenied):
            resolve_patient(s, scope, "ann")


def test_require_role_allows_listed_roles_only(shared_world: World) -> None:
    with shared_world.session() as s:
        assert require_role(s, "admin-al", {"admin"}).id == "admin-al"
        with pytest.raises(AccessDenied, match="needs role admin"):
            require_role(s, "cc-amy", {"admin"})
        with pytest.raises(AccessDenied):
            require_role(s, "nobody", {"admin"})


# --------------------------------------------------------------------------- break-the-glass
@pytest.mark.parametrize(
    ("user_id", "role"), [("cc-amy", "care_coordinator"), ("rev-rita", "reviewer"), ("admin-al", "admin")]
)
def test_break_glass_is_refused_for_roles_other_than_physician_and_nurse(
    shared_world: World, user_id: str, role: str
) -> None:
    with shared_world.session() as s, pytest.raises(AccessDenied) as exc:
        compute_scope(s, user_id, break_glass="patient collapsed in the waiting room")
    assert str(exc.value) == f"break-the-glass is not permitted for role {role}"


@pytest.mark.parametrize("reason", ["", "   ", "urgent", "  too short  "])
def test_break_glass_needs_a_reason_of_ten_characters(shared_world: World, reason: str) -> None:
    with shared_world.session() as s, pytest.raises(BreakGlassReasonInvalid, match="at least 10 characters"):
        compute_scope(s, "doc-dee", break_glass=reason)


def test_break_glass_reason_error_is_both_a_denial_and_bad_input() -> None:
    assert issubclass(BreakGlassReasonInvalid, AccessDenied)
    assert issubclass(BreakGlassReasonInvalid, ValueError)


def test_break_glass_widens_to_all_facility_patients_and_all_labels_for_the_request(
    shared_world: World,
) -> None:
    with shared_world.session() as s:
        normal = compute_scope(s, "doc-dee")
        with pytest.raises(AccessDenied):
            resolve_patient(s, normal, "dan")
        scope = compute_scope(s, "doc-dee", break_glass="  unconscious patient, ED admission  ")
        assert scope.break_glass_reason == "unconscious patient, ED admission"
        assert scope.patient_keys is None
        assert scope.allowed_labels == frozenset(SENSITIVE_LABELS)
        assert resolve_patient(s, scope, "dan") == key("dan")
        assert resolve_patient(s, scope, "vip") == key("vip")
        with pytest.raises(AccessDenied):  # still only the user's own facilities
            resolve_patient(s, scope, "eve")
        assert scope.summary()["break_glass"] is True
        # the widening is for that one request: the next scope is normal again
        assert compute_scope(s, "doc-dee").patient_keys == normal.patient_keys


def test_nurse_may_break_the_glass(shared_world: World) -> None:
    with shared_world.session() as s:
        scope = compute_scope(s, "nurse-ned", break_glass="acute deterioration overnight")
    assert scope.role == "nurse" and scope.break_glass_reason


# --------------------------------------------------------------------------- reviewers
def _audited_answer(log: AuditLog, cited: list[str]) -> str:
    return log.append(
        {
            "kind": "ask",
            "user_id": "doc-dee",
            "role": "physician",
            "patient_key": key("ann"),
            "question": "What follow-up is due?",
            "answer": "Cardiology follow-up [S1].",
            "retrieved_ids": cited,
            "cited_ids": cited,
        }
    )


def test_reviewer_opens_a_cited_source_and_the_view_is_audited(world: World) -> None:
    log = AuditLog(world.engine)
    request_id = _audited_answer(log, ["c-ann-1", "c-ann-psy", "Task/t1"])
    with world.session() as s:
        shown = open_cited_source(s, log, "rev-rita", request_id, "c-ann-1")
        psy = open_cited_source(s, log, "rev-rita", request_id, "c-ann-psy")
        task = open_cited_source(
            s, log, "rev-rita", request_id, "Task/t1", render_record=lambda r: r.display or ""
        )
    assert shown["text"] == "Follow up with cardiology in two weeks."
    assert shown["source_ref"] == "DocumentReference/c-ann-1"
    assert psy["security_labels"] == ["PSY"]
    assert task["text"] == "Call patient"
    views = log.records(kind="source_view")
    assert len(views) == 3
    assert views[-1].details == {"reviewed_request_id": request_id, "source_id": "c-ann-1"}
    assert views[-1].user_id == "rev-rita"
    assert log.verify().ok


def test_reviewer_cannot_open_a_source_the_answer_did_not_cite(world: World) -> None:
    log = AuditLog(world.engine)
    request_id = _audited_answer(log, ["c-ann-1"])
    with world.session() as s:
        with pytest.raises(AccessDenied, match="not cited"):
            open_cited_source(s, log, "rev-rita", request_id, "c-eve-1")
        with pytest.raises(AccessDenied, match="not cited"):
            open_cited_source(s, log, "rev-rita", "no-such-request", "c-ann-1")
    denied = log.records(kind="denied")
    assert len(denied) == 2 and denied[0].details["action"] == "source_view"
    assert log.records(kind="source_view") == []


def test_reviewer_cannot_open_a_cited_source_with_a_label_they_lack(world: World) -> None:
    log = AuditLog(world.engine)
    request_id = _audited_answer(log, ["c-ann-eth"])
    with world.session() as s, pytest.raises(AccessDenied, match="label"):
        open_cited_source(s, log, "rev-rita", request_id, "c-ann-eth")


def test_reviewer_cannot_open_sources_of_another_facility(world: World) -> None:
    log = AuditLog(world.engine)
    request_id = _audited_answer(log, ["c-eve-1"])
    with world.session() as s, pytest.raises(AccessDenied, match="facilities"):
        open_cited_source(s, log, "rev-rita", request_id, "c-eve-1")


@pytest.mark.parametrize("user_id", ["cc-amy", "doc-dee", "admin-al", "nobody"])
def test_only_reviewers_open_cited_sources(world: World, user_id: str) -> None:
    log = AuditLog(world.engine)
    request_id = _audited_answer(log, ["c-ann-1"])
    with world.session() as s, pytest.raises(AccessDenied):
        open_cited_source(s, log, user_id, request_id, "c-ann-1")
    assert log.records(kind="source_view") == []


def test_south_fixture_is_really_at_south(shared_world: World) -> None:
    # guards the fixture itself: the facility tests above mean nothing if eve were at north
    from carecite.records.tables import Patient

    with shared_world.session() as s:
        eve = s.get(Patient, "eve")
    assert eve is not None and SOUTH in eve.facilities
