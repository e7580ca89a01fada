"""The audit trail as FHIR R4 AuditEvents (audit/fhir_export.py), validated with fhir.resources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fhir.resources.R4B.auditevent import AuditEvent
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError
from sqlalchemy import Engine
from typer.testing import CliRunner

from carecite.audit import AuditLog
from carecite.audit.fhir_export import export_fhir, validate_bundle
from carecite.cli import app
from carecite.records import make_engine, session_scope
from carecite.records import tables as t
from carecite.settings import Settings


@pytest.fixture
def engine(settings: Settings) -> Engine:
    engine = make_engine(settings.resolved_database_url)
    with session_scope(engine) as s:
        s.add(t.Patient(id="pat-1", patient_key="pk_1", name="Ann Example"))
        s.add(
            t.ChunkRow(
                chunk_id="ch_1",
                doc_id="DocumentReference/d1",
                source_type="note_chunk",
                source_ref="DocumentReference/d1",
                patient_key="pk_1",
                start=0,
                end=1,
                text="x",
                index_text="x",
            )
        )
    log = AuditLog(engine)
    log.append(
        {
            "kind": "ask",
            "request_id": "r-ask",
            "user_id": "cc-amy",
            "role": "care_coordinator",
            "patient_key": "pk_1",
            "question": "secret question",
            "answer": "secret answer [S1]",
            "retrieved_ids": ["ch_1", "Task/t1"],
            "cited_ids": ["ch_1", "CarePlan/cp1#activity=2"],
        }
    )
    log.append(
        {
            "kind": "decline",
            "request_id": "r-dec",
            "user_id": "cc-amy",
            "patient_key": "pk_1",
            "decline_reason": "low_confidence",
        }
    )
    log.append(
        {
            "kind": "denied",
            "request_id": "r-den",
            "user_id": "cc-ben",
            "details": {"reason": "access denied: no such patient in your scope"},
        }
    )
    log.append(
        {
            "kind": "break_glass",
            "request_id": "r-bg",
            "user_id": "rn-eli",
            "patient_key": "pk_1",
            "break_glass_reason": "unresponsive in ED",
        }
    )
    log.append({"kind": "security_event", "request_id": "r-sec", "user_id": "cc-amy", "patient_key": "pk_1"})
    return engine


def _events(bundle: dict[str, object]) -> dict[str, dict[str, object]]:
    entries = bundle["entry"]
    assert isinstance(entries, list)
    return {e["resource"]["subtype"][1]["code"]: e["resource"] for e in entries}


def test_bundle_is_valid_fhir_r4_with_one_audit_event_per_record(engine: Engine) -> None:
    bundle = export_fhir(engine, AuditLog(engine))
    parsed = Bundle.model_validate(bundle)
    assert parsed.type == "collection" and len(parsed.entry or []) == 5
    for entry in parsed.entry or []:
        assert isinstance(AuditEvent.model_validate(entry.resource.model_dump()), AuditEvent)


def test_balp_shape_agent_user_patient_and_cited_sources(engine: Engine) -> None:
    ask = _events(export_fhir(engine, AuditLog(engine)))["ask"]
    user = ask["agent"][0]
    assert user["requestor"] is True and user["who"]["identifier"]["value"] == "cc-amy"
    assert ask["subtype"][0]["code"] == "search" and ask["outcome"] == "0"
    whats = [e["what"].get("reference") for e in ask["entity"]]
    assert whats[:3] == ["Patient/pat-1", "DocumentReference/d1", "CarePlan/cp1"]
    assert ask["entity"][0]["role"]["code"] == "1"  # Patient
    text = json.dumps(ask)
    assert "secret" not in text and "Ann Example" not in text  # no question, answer or name


def test_outcomes_for_denials_declines_security_and_break_glass(engine: Engine) -> None:
    events = _events(export_fhir(engine, AuditLog(engine)))
    assert events["denied"]["outcome"] == "8" and "access denied" in events["denied"]["outcomeDesc"]
    assert (
        events["decline"]["outcome"] == "0" and events["decline"]["outcomeDesc"] == "declined: low_confidence"
    )
    assert events["security_event"]["type"]["code"] == "110113" and events["security_event"]["outcome"] == "4"
    assert events["break_glass"]["purposeOfEvent"][0]["coding"][0]["code"] == "ETREAT"
    assert events["ask"]["purposeOfEvent"][0]["coding"][0]["code"] == "TREAT"


def test_validation_catches_a_broken_event(engine: Engine) -> None:
    bundle = export_fhir(engine, AuditLog(engine))
    bundle["entry"][0]["resource"]["outcome"] = 3  # type: ignore[index]
    bundle["entry"][0]["resource"]["recorded"] = "not a time"  # type: ignore[index]
    with pytest.raises(ValidationError):
        validate_bundle(bundle)


def test_cli_export_to_file_and_since(settings: Settings, engine: Engine, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "audit.json"
    base = ["--data-dir", str(settings.data_dir), "audit", "export"]
    result = runner.invoke(app, [*base, "--format", "fhir", "--since", "1d", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert Bundle.model_validate(json.loads(out.read_text())).total == 5
    future = runner.invoke(app, [*base, "--since", "2999-01-01"])
    assert future.exit_code == 0 and json.loads(future.stdout)["total"] == 0
    assert runner.invoke(app, [*base, "--format", "csv"]).exit_code == 2
