"""The synthetic world: deterministic, internally consistent, and its gold set points at real sources."""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from carecite.package_data import COMMITTED_WORLD
from carecite.synth.dataset import AS_OF, generate, generate_world, load_gold, write_world
from carecite.synth.gold import GoldQuestion, build_gold, can_access
from carecite.synth.model import PatientRecord
from carecite.synth.vocab import USER_BY_ID, USERS

COMMITTED = COMMITTED_WORLD
GENERATED = ("fhir", "users.json", "gold.jsonl", "manifest.json")  # README.md is written by hand
V3 = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def world_patients() -> list[PatientRecord]:
    manifest = json.loads((COMMITTED / "manifest.json").read_text())
    return list(generate_world(manifest["patients"], manifest["seed"]).iter_patients())


@pytest.fixture(scope="module")
def gold_questions(world_patients: list[PatientRecord]) -> list[GoldQuestion]:
    return build_gold(world_patients, 7, AS_OF)


@pytest.fixture(scope="module")
def committed_gold() -> list[dict[str, Any]]:
    return load_gold(COMMITTED / "gold.jsonl")


@pytest.fixture(scope="module")
def bundles() -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text()) for p in sorted((COMMITTED / "fhir").glob("*.json"))}


def _resources(bundles: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {}
    for b in bundles.values():
        for e in b["entry"]:
            r = e["resource"]
            out[f"{r['resourceType']}/{r['id']}"] = r
    return out


def _text(doc: dict[str, Any]) -> str:
    return base64.b64decode(doc["content"][0]["attachment"]["data"]).decode()


def _tree(root: Path) -> dict[str, bytes]:
    files = [root / g for g in GENERATED]
    paths = [p for f in files for p in ([f] if f.is_file() else sorted(f.rglob("*.json")))]
    return {str(p.relative_to(root)): p.read_bytes() for p in paths}


# --------------------------------------------------------------------------- determinism
def test_same_seed_writes_byte_identical_files_and_another_seed_does_not(tmp_path: Path) -> None:
    generate(6, 11, tmp_path / "a")
    generate(6, 11, tmp_path / "b")
    generate(6, 12, tmp_path / "c")
    a, b, c = _tree(tmp_path / "a"), _tree(tmp_path / "b"), _tree(tmp_path / "c")
    assert a == b
    assert a["fhir/patient-00001.json"] != c["fhir/patient-00001.json"]


def test_committed_synthetic_data_equals_a_fresh_generation(tmp_path: Path) -> None:
    """Nobody hand-edits synthetic_data/: regenerate it with the recorded command and compare."""
    from carecite.cli import app as cli_app

    manifest = json.loads((COMMITTED / "manifest.json").read_text())
    result = CliRunner().invoke(
        cli_app,
        ["synth", "--patients", str(manifest["patients"]), "--seed", str(manifest["seed"]),
         "--out", str(tmp_path), "--quiet"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    fresh, committed = _tree(tmp_path), _tree(COMMITTED)
    assert sorted(fresh) == sorted(committed)
    changed = [name for name in fresh if fresh[name] != committed[name]]
    assert not changed, f"synthetic_data differs from a fresh generation: {changed[:5]} (re-run the command)"


def test_writing_a_smaller_world_over_a_larger_one_leaves_no_stale_patients(tmp_path: Path) -> None:
    write_world(generate_world(5, 3), tmp_path, gold=False)
    write_world(generate_world(2, 3), tmp_path, gold=False)
    assert sorted(p.name for p in (tmp_path / "fhir").glob("*.json")) == [
        "directory.json",
        "patient-00001.json",
        "patient-00002.json",
    ]


# --------------------------------------------------------------------------- shape and counts
def test_committed_world_meets_the_size_and_variety_targets(bundles: dict[str, dict[str, Any]]) -> None:
    res = _resources(bundles)
    kinds = Counter(ref.split("/")[0] for ref in res)
    assert 60 <= kinds["Patient"] <= 80
    docs = [r for ref, r in res.items() if ref.startswith("DocumentReference/")]
    assert len(docs) >= 300
    assert len({d["type"]["coding"][0]["code"] for d in docs}) >= 6
    assert {"18842-5", "11506-3", "34748-4", "11502-2"} <= {d["type"]["coding"][0]["code"] for d in docs}
    facilities = Counter(
        r["managingOrganization"]["reference"] for ref, r in res.items() if ref.startswith("Patient/")
    )
    assert len(facilities) >= 3
    for rtype in ("Task", "ServiceRequest", "Appointment", "CarePlan", "MedicationRequest", "Observation",
                  "Condition", "Encounter", "CareTeam"):  # fmt: skip
        assert kinds[rtype] >= 60, rtype
    statuses = Counter((ref.split("/")[0], r.get("status")) for ref, r in res.items())
    for want in (
        [("Task", s) for s in ("requested", "ready", "in-progress", "completed", "cancelled")]
        + [("Appointment", s) for s in ("booked", "fulfilled", "noshow", "cancelled")]
        + [("ServiceRequest", s) for s in ("active", "completed", "revoked", "on-hold", "draft")]
    ):
        assert statuses[want] > 0, want
    assert {c["code"] for r in res.values() if r["resourceType"] == "Encounter" for c in [r["class"]]} >= {
        "IMP",
        "AMB",
        "VR",
    }


def test_patients_carry_identity_fields_and_an_mrn(bundles: dict[str, dict[str, Any]]) -> None:
    patients = [r for ref, r in _resources(bundles).items() if ref.startswith("Patient/")]
    for p in patients:
        assert p["name"][0]["family"] and p["birthDate"] and p["gender"] and p["address"] and p["telecom"]
        mrn = p["identifier"][0]
        assert mrn["type"]["coding"][0]["code"] == "MR" and mrn["system"] == "urn:carecite:mrn"
    assert len({p["identifier"][0]["value"] for p in patients}) == len(patients)


def test_references_are_urn_uuid_inside_a_bundle_and_literal_to_the_directory(
    bundles: dict[str, dict[str, Any]],
) -> None:
    directory = {
        f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundles["directory.json"]["entry"]
    }
    for name, bundle in bundles.items():
        assert bundle["type"] == "transaction"
        if name == "directory.json":
            continue
        full_urls = {e["fullUrl"] for e in bundle["entry"]}
        refs = re.findall(r'"reference": ?"([^"]+)"', json.dumps(bundle))
        for ref in refs:
            if ref.startswith("urn:uuid:"):
                assert ref in full_urls, (name, ref)
            else:
                assert ref in directory, (name, ref)


def test_sensitive_notes_are_labelled_in_meta_and_security_label(bundles: dict[str, dict[str, Any]]) -> None:
    docs = [r for ref, r in _resources(bundles).items() if ref.startswith("DocumentReference/")]
    labelled = Counter()
    for d in docs:
        meta = {(c["system"], c["code"]) for c in d["meta"].get("security", [])}
        sec = {(c["system"], c["code"]) for cc in d.get("securityLabel", []) for c in cc["coding"]}
        assert meta == sec
        for _, code in meta:
            labelled[code] += 1
        assert all(system == V3 for system, _ in meta)
        if d["type"]["coding"][0]["code"] in ("28627-8", "34904-3"):
            assert (V3, "PSY") in meta
        if d["type"]["coding"][0]["code"] == "28656-7":
            assert (V3, "ETH") in meta
    assert labelled["PSY"] >= 10 and labelled["ETH"] >= 5


def test_users_file_follows_the_design_schema_and_covers_every_role() -> None:
    from carecite.access.users import load_users_file

    raw = json.loads((COMMITTED / "users.json").read_text())
    assert all(
        set(u) == {"id", "name", "role", "facilities", "care_team_only", "sensitive_access"} for u in raw
    )
    specs = load_users_file(COMMITTED / "users.json")
    roles = Counter(u.role for u in specs)
    assert set(roles) == {"care_coordinator", "nurse", "physician", "reviewer", "admin"}
    assert all(n >= 2 for n in roles.values())
    assert any(len(u.facilities) >= 2 and u.role == "physician" for u in specs)
    assert any(u.role == "nurse" and "PSY" in u.sensitive_access for u in specs)
    assert any({"PSY", "ETH"} <= set(u.sensitive_access) for u in specs)


def test_care_team_users_appear_as_practitioners_by_id_and_identifier(
    bundles: dict[str, dict[str, Any]],
) -> None:
    res = _resources(bundles)
    members = Counter()
    for r in res.values():
        if r["resourceType"] == "CareTeam" and r["status"] == "active":
            for part in r["participant"]:
                members[part["member"]["reference"]] += 1
    for user in USERS:
        if user.care_team_only:
            assert members[f"Practitioner/{user.id}"] > 0, user.id
            practitioner = res[f"Practitioner/{user.id}"]
            assert {"system": "urn:carecite:user", "value": user.id} in practitioner["identifier"]


# --------------------------------------------------------------------------- consistency
def test_statuses_agree_with_the_as_of_date(world_patients: list[PatientRecord]) -> None:
    for p in world_patients:
        for a in p.facts.appointments:
            if a.status == "booked":
                assert a.start.date() > AS_OF
            if a.status in ("fulfilled", "noshow"):
                assert a.start.date() <= AS_OF
        assert all(n.when.date() <= AS_OF for n in p.facts.notes)
    overdue = [t for p in world_patients for t in p.facts.tasks if t.overdue(AS_OF)]
    upcoming = [a for p in world_patients for a in p.facts.appointments if a.start.date() > AS_OF]
    assert len(overdue) >= 20 and len(upcoming) >= 20


def test_every_missed_appointment_is_documented_in_a_later_note(world_patients: list[PatientRecord]) -> None:
    for p in world_patients:
        for a in p.facts.appointments:
            if a.status != "noshow":
                continue
            d = a.start.date()
            forms = (f"{d.strftime('%B')} {d.day}, {d.year}", f"{d.month}/{d.day}/{d.year}")
            assert any(
                n.when.date() >= d
                and any(f in n.text for f in forms)
                and re.search(r"missed|no-show|did not (show|come)|not show", n.text, re.I)
                for n in p.facts.notes
            ), (p.name, a)


def test_discharge_follow_up_has_a_matching_referral_task_and_appointment_story(
    world_patients: list[PatientRecord],
) -> None:
    checked = 0
    for p in world_patients:
        for d in p.facts.discharges:
            note = next(n for n in p.facts.notes if n.ref == d.note_ref)
            for rec in d.recommendations:
                assert rec in note.text  # written verbatim: the gold set cites this note for it
            specialty = {"chf": "cardiology", "copd": "pulmonology", "hipfx": "orthopedics"}[d.reason]
            referral = next(
                r for r in p.facts.referrals if r.specialty == specialty and r.category == "referral"
            )
            task = next(t for t in p.facts.tasks if t.focus == referral.ref)
            appts = [a for a in p.facts.appointments if a.specialty == specialty]
            if task.status == "completed":
                assert referral.status == "completed" and any(a.status == "fulfilled" for a in appts)
            else:
                assert referral.status in ("active", "on-hold") and not any(
                    a.status == "fulfilled" for a in appts
                )
            checked += 1
    assert checked >= 20


def test_dose_changes_leave_one_active_order_and_a_stopped_one(world_patients: list[PatientRecord]) -> None:
    changed = 0
    for p in world_patients:
        for drug in {m.drug for m in p.facts.meds}:
            orders = [m for m in p.facts.meds if m.drug == drug]
            assert len([m for m in orders if m.status == "active"]) <= 1, (p.name, drug)
            if any(m.status == "stopped" for m in orders) and any(m.status == "active" for m in orders):
                active = next(m for m in orders if m.status == "active")
                assert all(m.authored <= active.authored for m in orders)
                changed += 1
    assert changed >= 30


def test_some_notes_name_the_patient_and_some_carry_prompt_injection_bait(
    world_patients: list[PatientRecord],
) -> None:
    named = sum(1 for p in world_patients for n in p.facts.notes if p.family in n.text)
    bait = [
        n
        for p in world_patients
        for n in p.facts.notes
        if "ignore" in n.text.lower() and "instructions" in n.text.lower()
    ]
    total = sum(len(p.facts.notes) for p in world_patients)
    assert total * 0.3 < named < total
    assert len(bait) >= 3
    assert {n.ref for n in bait} == {r for p in world_patients for r in p.facts.injection_notes}


def test_notes_of_one_type_vary_in_layout_and_wording(world_patients: list[PatientRecord]) -> None:
    discharge = [n.text for p in world_patients for n in p.facts.notes if n.kind == "discharge"]
    layouts = {
        tuple(line for line in t.splitlines() if line.endswith(":") or line.startswith("# "))
        for t in discharge
    }
    assert len(layouts) >= len(discharge) // 2
    assert any("HOSPITAL COURSE:" in t for t in discharge) and any(
        "# Hospital course" in t for t in discharge
    )
    calls = [n.text for p in world_patients for n in p.facts.notes if n.kind == "telephone"]
    openings = Counter(t.splitlines()[0] for t in calls)
    assert len(openings) >= 4


# --------------------------------------------------------------------------- gold
def test_gold_file_has_enough_questions_in_every_category_split_evenly(
    committed_gold: list[dict[str, Any]],
) -> None:
    assert len(committed_gold) >= 150
    assert all(
        set(g) == {"id", "split", "category", "user_id", "patient_id", "question", "expect", "expected_refs"}
        for g in committed_gold
    )
    assert len({g["id"] for g in committed_gold}) == len(committed_gold)
    by_cat: dict[str, Counter[str]] = {}
    for g in committed_gold:
        by_cat.setdefault(g["category"], Counter())[g["split"]] += 1
    assert len(by_cat) >= 15
    for cat, splits in by_cat.items():
        assert abs(splits["dev"] - splits["test"]) <= 1, cat
    expects = Counter(g["expect"] for g in committed_gold)
    assert expects["answer"] >= 90 and expects["decline"] >= 30 and expects["denied"] >= 15


def test_every_gold_ref_points_at_a_resource_in_the_bundles(
    committed_gold: list[dict[str, Any]], bundles: dict[str, dict[str, Any]], shared_data: Path
) -> None:
    res = _resources(bundles)
    ncd_ids = {
        json.loads(line)["ncd_id"] for line in (shared_data / "cms_ncd" / "ncd_documents.jsonl").open()
    }
    patient_of: dict[str, str] = {}
    for name, b in bundles.items():
        if name != "directory.json":
            pid = b["entry"][0]["resource"]["id"]
            patient_of.update(
                {f"{e['resource']['resourceType']}/{e['resource']['id']}": pid for e in b["entry"]}
            )
    for g in committed_gold:
        assert f"Patient/{g['patient_id']}" in res and g["user_id"] in USER_BY_ID
        if g["expect"] != "answer":
            assert g["expected_refs"] == [], g["id"]
            continue
        assert g["expected_refs"], g["id"]
        for ref in g["expected_refs"]:
            if ref.startswith("Policy/"):
                assert ref.removeprefix("Policy/") in ncd_ids, ref
                continue
            base, _, activity = ref.partition("#activity=")
            assert base in res, (g["id"], ref)
            assert patient_of[base] == g["patient_id"], (g["id"], ref)
            if activity:
                assert 1 <= int(activity) <= len(res[base]["activity"])


def test_restricted_bait_answers_live_only_in_labelled_notes(
    world_patients: list[PatientRecord], gold_questions: list[GoldQuestion]
) -> None:
    by_id = {p.id: p for p in world_patients}
    baits = [q for q in gold_questions if q.category == "restricted_bait"]
    assert len(baits) >= 8
    for q in baits:
        p = by_id[q.patient_id]
        user = USER_BY_ID[q.user_id]
        assert can_access(user, p) and q.withheld_refs and q.expect == "decline"
        fact = next(f for f in p.facts.restricted if f.note_ref in q.withheld_refs)
        assert fact.label not in user.sensitive_access
        holder = next(n for n in p.facts.notes if n.ref == fact.note_ref)
        assert fact.label in holder.labels and fact.answer in holder.text
        for n in p.facts.notes:
            if fact.label not in n.labels:
                assert fact.answer not in n.text, (q.id, n.ref)
        unlabelled = [e["resource"] for e in p.bundle["entry"] if not e["resource"]["meta"].get("security")]
        assert fact.answer not in json.dumps(unlabelled)


def test_denied_questions_match_the_access_rules(
    world_patients: list[PatientRecord], gold_questions: list[GoldQuestion]
) -> None:
    by_id = {p.id: p for p in world_patients}
    for q in gold_questions:
        assert can_access(USER_BY_ID[q.user_id], by_id[q.patient_id]) == (q.expect != "denied"), q.id


def test_gold_file_equals_the_in_memory_gold(
    committed_gold: list[dict[str, Any]], gold_questions: list[GoldQuestion]
) -> None:
    assert committed_gold == [q.as_json() for q in gold_questions]


# --------------------------------------------------------------------------- against the real ingester and access
def test_committed_bundles_ingest_cleanly_and_every_gold_ref_is_a_visible_row(
    tmp_path: Path, committed_gold: list[dict[str, Any]]
) -> None:
    from sqlmodel import Session, col, select

    from carecite.access.scope import AccessDenied, compute_scope, resolve_patient
    from carecite.access.users import import_users
    from carecite.ingest.fhir import IngestReport, ingest_file, iter_json_files, resolve_pending
    from carecite.records import session_scope
    from carecite.records import tables as t
    from carecite.settings import Settings
    from carecite.stores import Stores

    stores = Stores(Settings(data_dir=tmp_path / "data"))
    report = IngestReport()
    for path in iter_json_files([COMMITTED / "fhir"], report):  # SQL side only: no embedding needed here
        ingest_file(stores, path, report)
    with session_scope(stores.engine) as session:
        resolve_pending(session, report)
    assert report.ok and not report.warnings, (report.problems[:3], report.warnings[:3])
    import_users(stores.engine, COMMITTED / "users.json")
    with Session(stores.engine) as session:
        labelled = session.exec(select(t.Note).where(col(t.Note.security_labels) != "")).all()
        assert {lab for n in labelled for lab in t.labels_from_str(n.security_labels)} == {"PSY", "ETH"}
        for g in committed_gold:
            try:
                scope = compute_scope(session, g["user_id"])
                resolve_patient(session, scope, g["patient_id"])
                allowed = True
            except AccessDenied:
                allowed = False
            assert allowed == (g["expect"] != "denied"), g["id"]
            for ref in g["expected_refs"]:
                if ref.startswith("Policy/"):
                    continue
                rtype = ref.split("/")[0]
                model: Any = (
                    t.CarePlanActivity
                    if "#activity=" in ref
                    else t.Note
                    if rtype == "DocumentReference"
                    else t.RECORD_TABLES[rtype]
                )
                row = session.get(model, ref)
                assert row is not None, (g["id"], ref)
                assert scope.may_see_labels(t.labels_from_str(row.security_labels)), (g["id"], ref)


def test_as_of_date_is_fixed_and_recorded() -> None:
    manifest = json.loads((COMMITTED / "manifest.json").read_text())
    assert manifest["as_of"] == "2026-11-20" == AS_OF.isoformat()
    assert date(2026, 11, 20) == AS_OF
    assert manifest["command"].startswith("carecite synth --patients 60 --seed 7")


def test_synth_command_rejects_an_output_path_that_is_a_file(tmp_path: Path) -> None:
    from carecite.cli import app

    target = tmp_path / "not-a-folder"
    target.write_text("x")
    result = CliRunner().invoke(app, ["synth", "--patients", "2", "--out", str(target), "--quiet"])
    assert result.exit_code == 2
    assert target.read_text() == "x"


def test_ingest_synthetic_loads_bundles_users_and_the_as_of_date(tmp_path: Path, stores: Any) -> None:
    from sqlmodel import Session, select

    from carecite.records import tables as t
    from carecite.records.clock import today
    from carecite.synth.dataset import ingest_synthetic

    manifest = write_world(generate_world(2, 5), tmp_path / "world")
    report = ingest_synthetic(stores, tmp_path / "world", progress=False)
    assert report.ok
    assert today(stores.settings, stores.engine) == AS_OF
    with Session(stores.engine) as session:
        assert len(session.exec(select(t.Note)).all()) == manifest.counts["notes"]
        assert {u.id for u in session.exec(select(t.User)).all()} == set(USER_BY_ID)
    assert report.sync is not None and report.sync.sql == report.sync.vector == report.sync.lexical > 0
