from __future__ import annotations

import json

from access_world import NORTH, World, key

from carecite.access.guard import guard_candidates, security_event
from carecite.audit import AuditLog
from carecite.domain import AccessScope, Candidate, Grant

SECRET = "Patient disclosed relapse; methadone dose 80 mg."


def _scope(labels: frozenset[str] = frozenset(), patients: frozenset[str] | None = None) -> AccessScope:
    return AccessScope(
        user_id="cc-amy",
        role="care_coordinator",
        facilities=frozenset({NORTH}),
        patient_keys=patients,
        allowed_labels=labels,
    )


def _cand(source_id: str, patient: str | None, labels: tuple[str, ...] = (), **kw: object) -> Candidate:
    return Candidate(
        source_id=source_id,
        source_type=kw.pop("source_type", "note_chunk"),  # type: ignore[arg-type]
        source_ref=f"DocumentReference/{source_id}",
        patient_key=key(patient) if patient else None,
        text=kw.pop("text", f"text of {source_id}"),  # type: ignore[arg-type]
        retriever="dense",
        security_labels=labels,
    )


def test_guard_keeps_in_scope_candidates_in_their_order() -> None:
    cands = [_cand("a", "ann"), _cand("pol", None, source_type="policy"), _cand("b", "ann")]
    result = guard_candidates(_scope(), key("ann"), cands)
    assert [c.source_id for c in result.kept] == ["a", "pol", "b"]
    assert result.violations == []


def test_guard_strips_wrong_patient_and_restricted_candidates_and_reports_them() -> None:
    cands = [
        _cand("ok", "ann"),
        _cand("other", "bob"),
        _cand("psy", "ann", ("PSY",)),
        _cand("eth", "ann", ("ETH", "PSY"), text=SECRET),
        _cand("nopatient", None),  # a note chunk with no patient is not a policy
    ]
    result = guard_candidates(_scope(labels=frozenset({"PSY"})), key("ann"), cands)
    assert [c.source_id for c in result.kept] == ["ok", "psy"]
    assert [(v.source_id, v.reason, v.labels) for v in result.violations] == [
        ("other", "wrong_patient", ()),
        ("eth", "label_not_allowed", ("ETH",)),
        ("nopatient", "wrong_patient", ()),
    ]


def test_guard_rejects_every_patient_source_when_the_patient_is_outside_the_scope() -> None:
    scope = _scope(patients=frozenset({key("ann")}))
    result = guard_candidates(
        scope, key("dan"), [_cand("d", "dan"), _cand("pol", None, source_type="policy")]
    )
    assert [c.source_id for c in result.kept] == ["pol"]
    assert [v.reason for v in result.violations] == ["patient_out_of_scope"]


def test_policy_with_a_label_the_user_lacks_is_still_stripped() -> None:
    result = guard_candidates(_scope(), key("ann"), [_cand("pol", None, ("R",), source_type="policy")])
    assert result.kept == [] and result.violations[0].reason == "label_not_allowed"


def test_security_event_is_audited_with_ids_and_reasons_but_no_source_text(world: World) -> None:
    scope = _scope()
    result = guard_candidates(
        scope, key("ann"), [_cand("eth", "ann", ("ETH",), text=SECRET), _cand("x", "bob")]
    )
    event = security_event(scope, key("ann"), result.violations, request_id="req-1")
    log = AuditLog(world.engine)
    log.append(event)
    (stored,) = log.records(kind="security_event")
    assert stored.request_id == "req-1"
    assert stored.retrieved_ids == ["eth", "x"]
    assert [v["reason"] for v in stored.details["guard_violations"]] == ["label_not_allowed", "wrong_patient"]
    dumped = json.dumps(stored.model_dump())
    assert "methadone" not in dumped and "text of x" not in dumped
    assert log.verify().ok


def test_guard_drops_resource_types_a_token_did_not_grant_but_keeps_policies() -> None:
    narrowed = _scope().narrowed(Grant(resource_types=frozenset({"Observation"})))
    cands = [_cand("note", "ann"), _cand("pol", None, source_type="policy")]
    result = guard_candidates(narrowed, key("ann"), cands)
    assert [c.source_id for c in result.kept] == ["pol"]
    assert [(v.source_id, v.reason) for v in result.violations] == [("note", "resource_type_not_granted")]
    assert guard_candidates(_scope(), key("ann"), cands).violations == [], "an unnarrowed scope keeps both"
