"""FHIR ingest into real SQLite + Chroma + BM25 (real embeddings): upsert, references, idempotency."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, SQLModel, select
from typer.testing import CliRunner

from carecite import domain
from carecite.ingest.fhir import IngestReport, ingest_fhir_paths
from carecite.records import tables as t
from carecite.records.stats import collect_stats

FIXTURES = Path(__file__).parent / "fixtures"
GOOD = FIXTURES / "good"
BAD = FIXTURES / "bad"
SNAPSHOT_TABLES: tuple[type[SQLModel], ...] = (
    t.Patient,
    t.Organization,
    t.Practitioner,
    t.Identifier,
    *t.RECORD_TABLES.values(),
    t.CarePlanActivity,
    t.CareTeamMember,
    t.Note,
    t.ChunkRow,
)


def snapshot(stores: Any) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table ingest writes, as plain dicts, in a stable order."""
    out: dict[str, list[dict[str, Any]]] = {}
    with Session(stores.engine) as session:
        for model in SNAPSHOT_TABLES:
            rows = [r.model_dump() for r in session.exec(select(model))]
            out[model.__name__] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))
    return out


def ingest(stores: Any, *paths: Path) -> IngestReport:
    return ingest_fhir_paths(stores, list(paths), progress=False)


def chunk_ids(stores: Any, doc_id: str) -> set[str]:
    with Session(stores.engine) as session:
        return set(session.exec(select(t.ChunkRow.chunk_id).where(t.ChunkRow.doc_id == doc_id)))


def test_ingest_loads_every_mapped_type_and_indexes_notes(stores: Any) -> None:
    report = ingest(stores, GOOD)
    assert report.ok, report.problems
    assert report.files == report.files_loaded == 5
    assert report.loaded["Patient"] == 2 and report.loaded["DocumentReference"] == 2
    assert report.unknown == {"Claim": 1, "Provenance": 1, "Location": 1}
    stats = collect_stats(stores)
    assert stats["patients"] == 2
    assert stats["records"]["CarePlan"] == 1 and stats["records"]["CarePlan.activity"] == 2
    assert stats["records"]["Task"] == 2 and stats["records"]["Appointment"] == 2
    assert stats["notes"] == {
        "total": 3,
        "by_type": {"Discharge summary": 1, "Laboratory report": 1, "Progress note": 1},
    }
    assert stats["chunks"]["sql"] > 0
    assert stats["chunks"]["sql"] == stats["chunks"]["vector"] == stats["chunks"]["lexical"]
    with Session(stores.engine) as session:
        chunks = session.exec(select(t.ChunkRow).where(t.ChunkRow.doc_id == "DocumentReference/doc-1")).all()
        assert chunks and all(c.security_labels == "|PSY|" for c in chunks)
        assert all(c.facility == "Organization/org-north" for c in chunks)
        assert all(c.patient_key == domain.patient_key_for("pat-a") for c in chunks)
        patient_a = session.get(t.Patient, "pat-a")
        patient_b = session.get(t.Patient, "pat-b")
        assert patient_a is not None and patient_a.facilities == "|Organization/org-north|"  # encounters
        assert patient_b is not None and patient_b.facilities == "|Organization/org-south|"  # managing org
        member = session.get(t.CareTeamMember, "CareTeam/ct-1#2")
        assert member is not None and member.member_ref == "Practitioner/pr-card"
        key = "Practitioner|http://hl7.org/fhir/sid/us-npi|9999000001"
        assert session.get(t.Identifier, key) == t.Identifier(key=key, ref="Practitioner/pr-card")
        # a bare resource loaded before its patient's bundle gets the patient's facility at the end
        appt = session.get(t.Appointment, "Appointment/appt-b-1")
        assert appt is not None and appt.facility == "Organization/org-south"
        followup = session.get(t.Task, "Task/task-b-1")  # cross-bundle encounter reference
        assert followup is not None and followup.facility == "Organization/org-south"


def test_conditional_references_resolve_in_either_order(stores: Any, tmp_path: Path, embedder: Any) -> None:
    from carecite.settings import Settings
    from carecite.stores import Stores

    patients_first = ingest(stores, GOOD / "patient_a.json")
    assert patients_first.unresolved_references > 0  # nothing declares org-north yet
    with Session(stores.engine) as session:
        enc = session.get(t.Encounter, "Encounter/enc-1")
        assert enc is not None and enc.facility is not None and "?identifier=" in enc.facility
    after = ingest(stores, GOOD / "directory.json")
    assert after.ok and after.resolved_references > 0 and after.unresolved_references == 0

    directory_first = Stores(Settings(data_dir=tmp_path / "other"), embedder=embedder)
    ingest(directory_first, GOOD / "directory.json")
    ingest(directory_first, GOOD / "patient_a.json")
    late, early = snapshot(stores), snapshot(directory_first)
    assert late == early  # same rows, same chunks, whatever the order
    notes = {n["ref"]: n for n in late["Note"]}
    assert notes["DocumentReference/doc-1"]["facility"] == "Organization/org-north"
    assert notes["DocumentReference/doc-1"]["author_role"] == "Cardiologist"
    assert {c["facility"] for c in late["ChunkRow"]} == {"Organization/org-north"}
    stats = collect_stats(stores)
    assert stats["chunks"]["sql"] == stats["chunks"]["vector"] == stats["chunks"]["lexical"]


def test_malformed_entry_is_reported_and_rest_of_bundle_loads(stores: Any) -> None:
    report = ingest(stores, BAD / "malformed.json")
    assert not report.ok
    assert {(p.source, p.index, p.resource_id) for p in report.problems} == {
        ("malformed.json", 1, None),
        ("malformed.json", 2, None),
        ("malformed.json", 3, "obs-bad-code"),
        ("malformed.json", 4, "doc-bad-b64"),
        ("malformed.json", 5, "enc-bad-date"),
        ("malformed.json", 6, "cond-no-subject"),
    }
    with Session(stores.engine) as session:
        assert session.get(t.Patient, "pat-m") is not None
        assert session.get(t.Condition, "Condition/cond-ok") is not None
        assert session.get(t.Observation, "Observation/obs-bad-code") is None


def test_invalid_json_file_is_reported_and_other_files_load(stores: Any, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    shutil.copytree(GOOD, folder)
    shutil.copy(BAD / "not_json.json", folder / "a_not_json.json")
    report = ingest(stores, folder, tmp_path / "missing.json")
    problems = {p.source: p.message for p in report.problems}
    assert set(problems) == {"a_not_json.json", str(tmp_path / "missing.json")}
    assert problems["a_not_json.json"].startswith("cannot read JSON")
    assert report.files == 6 and report.files_loaded == 5
    assert collect_stats(stores)["patients"] == 2


def test_reingest_is_idempotent(stores: Any) -> None:
    first = ingest(stores, GOOD)
    before, stats_before = snapshot(stores), collect_stats(stores)
    second = ingest(stores, GOOD)
    assert second.ok and not second.created and not second.updated
    assert second.unchanged == first.loaded
    assert second.notes_rechunked == 0
    assert snapshot(stores) == before
    assert collect_stats(stores) == stats_before


def test_a_new_chunker_version_re_chunks_every_note_on_the_next_ingest(
    stores: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unchanged notes are re-chunked when the chunker changed: re-ingesting converges to what a
    fresh ingest with the new chunker builds."""
    notes = ingest(stores, GOOD).notes_rechunked  # DocumentReferences and narrative DiagnosticReports
    assert notes and ingest(stores, GOOD).notes_rechunked == 0
    monkeypatch.setattr("carecite.ingest.fhir_mapping.CHUNKER_VERSION", "next")
    again = ingest(stores, GOOD)
    assert again.notes_rechunked == notes and not again.created


def test_changed_note_replaces_its_chunks(stores: Any, tmp_path: Path) -> None:
    ingest(stores, GOOD / "directory.json", GOOD / "patient_a.json")
    old_ids = chunk_ids(stores, "DocumentReference/doc-2")
    assert old_ids
    bundle = json.loads((GOOD / "patient_a.json").read_text())
    new_text = (
        "Progress note\nPatient started on spironolactone 25 mg daily. Recheck potassium in one week.\n"
    )
    for entry in bundle["entry"]:
        if entry["resource"]["id"] == "doc-2":
            entry["resource"]["content"][0]["attachment"]["data"] = base64.b64encode(
                new_text.encode()
            ).decode()
    changed = tmp_path / "patient_a.json"
    changed.write_text(json.dumps(bundle))
    report = ingest(stores, changed)
    assert report.updated == {"DocumentReference": 1} and report.notes_rechunked == 1
    new_ids = chunk_ids(stores, "DocumentReference/doc-2")
    assert new_ids and not (new_ids & old_ids)
    with Session(stores.engine) as session:
        texts = session.exec(
            select(t.ChunkRow.text).where(t.ChunkRow.doc_id == "DocumentReference/doc-2")
        ).all()
    assert any("spironolactone" in x for x in texts)
    assert not any("better sleep" in x for x in texts)
    assert stores.vectors.ids() >= new_ids and not (stores.vectors.ids() & old_ids)
    stats = collect_stats(stores)
    assert stats["chunks"]["sql"] == stats["chunks"]["vector"] == stats["chunks"]["lexical"]


@pytest.mark.shared_data
def test_synthea_bundles_with_separate_directory_files(stores: Any, shared_data: Path) -> None:
    folder = shared_data / "synthea_fhir" / "wasee11_synthea_v3"
    # the smallest patient bundle: embedding dominates the cost, the mapping of all of them is
    # covered by test_fhir_mapping.test_every_wasee11_note_decodes_and_maps
    bundles = sorted(
        (p for p in folder.glob("*.json") if "Information" not in p.name), key=lambda p: p.stat().st_size
    )[:1]
    expected_notes = sum(
        1
        for p in bundles
        for e in json.loads(p.read_bytes())["entry"]
        if e["resource"]["resourceType"] == "DocumentReference"
    )
    # patients before the directory files: conditional references resolve in the final pass
    report = ingest(
        stores, *bundles, folder / "hospitalInformation.json", folder / "practitionerInformation.json"
    )
    assert report.ok, report.problems[:3]
    assert report.unresolved_references == 0
    stats = collect_stats(stores)
    assert stats["patients"] == 1 and stats["notes"]["total"] == expected_notes
    assert stats["chunks"]["sql"] == stats["chunks"]["vector"] == stats["chunks"]["lexical"] > 0
    with Session(stores.engine) as session:
        patients = session.exec(select(t.Patient)).all()
        assert all(p.facilities.startswith("|Organization/") for p in patients)
        pending = session.exec(select(t.Encounter).where(t.Encounter.facility.contains("?"))).all()  # type: ignore[union-attr]
        assert pending == []
        members = session.exec(
            select(t.CareTeamMember).where(t.CareTeamMember.member_ref.startswith("Practitioner"))
        ).all()  # type: ignore[union-attr]
        assert members and all(m.member_ref and m.member_ref.startswith("Practitioner/") for m in members)
        assert all(m.member_identifier and m.member_identifier.startswith("9999") for m in members)


@pytest.mark.shared_data
def test_healthwallet_bundle_with_inline_directory(stores: Any, shared_data: Path) -> None:
    path = sorted((shared_data / "synthea_fhir" / "healthwallet_synthea").glob("*.json"))[0]
    report = ingest(stores, path)
    assert report.ok and report.loaded["Patient"] == 1 and report.unresolved_references == 0
    with Session(stores.engine) as session:
        patient = session.exec(select(t.Patient)).one()
        assert patient.facilities.startswith("|Organization/") and patient.mrn


def test_cli_exit_codes_and_summary(tmp_path: Path) -> None:
    from carecite.cli import app

    runner = CliRunner()
    data = ["--data-dir", str(tmp_path / "cli")]
    ok = runner.invoke(app, [*data, "ingest", "fhir", "--quiet", str(GOOD)])
    assert ok.exit_code == 0, ok.output
    assert "FHIR ingest: 5/5 files" in ok.output and "Traceback" not in ok.output
    bad = runner.invoke(app, [*data, "ingest", "fhir", "--quiet", str(BAD)])
    assert bad.exit_code == 1
    assert "malformed.json entry[3] Observation/obs-bad-code" in bad.output
    assert "not_json.json" in bad.output and "Traceback" not in bad.output
    stats = runner.invoke(app, [*data, "stats", "--json"])
    assert stats.exit_code == 0
    counts = json.loads(stats.stdout)
    assert counts["patients"] == 3
    assert counts["chunks"]["sql"] == counts["chunks"]["vector"] == counts["chunks"]["lexical"] > 0
    table = runner.invoke(app, [*data, "stats"])
    assert table.exit_code == 0 and "chunks: vector" in table.output
