"""The command line as a newcomer meets it: patients listed, --patient by FHIR id or MRN (access
unchanged), help in plain words, the UI started without Streamlit's Deploy button."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from carecite.access.scope import compute_scope, patient_id_for, patients_in_scope
from carecite.cli import app, ui_command
from carecite.records import make_engine
from carecite.records import tables as t
from carecite.settings import Settings


def _run(settings: Settings, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--data-dir", str(settings.data_dir), *args])
    return result.exit_code, result.stdout, result.stderr


def _gold(category: str) -> dict[str, str]:
    from world import gold_questions

    return next(q for q in gold_questions() if q["category"] == category)  # type: ignore[return-value]


def _patient(settings: Settings, patient_id: str) -> t.Patient:
    with Session(make_engine(f"sqlite:///{settings.data_dir / 'carecite.sqlite'}")) as s:
        patient = s.get(t.Patient, patient_id)
    assert patient is not None and patient.mrn
    return patient


def test_patients_lists_exactly_what_the_user_may_see(world_settings: Settings) -> None:
    code, stdout, _ = _run(world_settings, "patients", "--user", "cc-omar", "--json")
    assert code == 0
    listed = json.loads(stdout)
    with Session(make_engine(f"sqlite:///{world_settings.data_dir / 'carecite.sqlite'}")) as s:
        expected = [p.id for p in patients_in_scope(s, compute_scope(s, "cc-omar"))]
    assert [p["id"] for p in listed] == expected and expected
    assert all(p.keys() == {"id", "mrn", "name", "birth_date"} for p in listed)
    code, text, _ = _run(world_settings, "patients", "--user", "cc-omar")
    assert code == 0 and all(p["mrn"] in text for p in listed)
    code, _, _ = _run(world_settings, "patients", "--user", "nobody-at-all")
    assert code == 3


def test_ask_takes_the_mrn_the_ui_shows(world_settings: Settings) -> None:
    q = _gold("overdue_tasks")
    mrn = _patient(world_settings, q["patient_id"]).mrn
    assert mrn is not None
    code, stdout, _ = _run(
        world_settings, "ask", q["question"], "--user", q["user_id"], "--patient", mrn, "--json"
    )
    assert code == 0
    body = json.loads(stdout)
    assert body["patient_id"] == q["patient_id"] and not body["declined"] and body["citations"]


def test_an_out_of_scope_mrn_is_denied_exactly_like_an_unknown_one(world_settings: Settings) -> None:
    q = _gold("other_facility")
    mrn = _patient(world_settings, q["patient_id"]).mrn
    assert mrn is not None
    runs = [
        _run(world_settings, "ask", q["question"], "--user", q["user_id"], "--patient", given, "--json")
        for given in (mrn, "99999999", q["patient_id"])
    ]
    assert [code for code, _, _ in runs] == [3, 3, 3]
    seen = {
        json.dumps(
            {k: v for k, v in json.loads(out).items() if k not in {"request_id", "timings_ms", "patient_id"}}
        )
        for _, out, _ in runs
    }
    assert len(seen) == 1  # the same answer, whatever was given


def test_an_mrn_two_visible_patients_share_names_no_one(world_settings: Settings) -> None:
    with Session(make_engine(f"sqlite:///{world_settings.data_dir / 'carecite.sqlite'}")) as s:
        scope = compute_scope(s, "md-farah")
        visible = patients_in_scope(s, scope)
        assert len(visible) >= 2
        first, second = visible[0], visible[1]
        assert patient_id_for(s, scope, first.id) == first.id
        assert patient_id_for(s, scope, str(first.mrn)) == first.id
        # an MRN two patients in scope share is passed on unresolved (and then denied)
        shared = [type(p)(**{**p.model_dump(), "mrn": "X1"}) for p in (first, second)]

    monkey_visible = pytest.MonkeyPatch()
    monkey_visible.setattr("carecite.access.scope.patients_in_scope", lambda _s, _sc: shared)
    try:
        assert patient_id_for(None, scope, "X1") == "X1"  # type: ignore[arg-type]
    finally:
        monkey_visible.undo()


def test_help_is_plain_words() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "thin over" not in result.stdout and "``" not in result.stdout
    assert "carecite patients" in result.stdout


def test_flags_help_names_only_commands_that_exist() -> None:
    # it offered "raise, review, list", and `carecite flags list` is "No such command"
    result = CliRunner().invoke(app, ["flags", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    summary = result.stdout.split("Options")[0]
    assert "list." not in summary and "raise" in summary and "review" in summary
    assert CliRunner().invoke(app, ["flags", "list"]).exit_code == 2  # still no such command


def test_the_ui_starts_with_a_minimal_toolbar_and_the_chosen_port(tmp_path: Path) -> None:
    cmd = ui_command("python", tmp_path / "Home.py", 8765)
    assert cmd[cmd.index("--client.toolbarMode") + 1] == "minimal"
    assert cmd[cmd.index("--server.port") + 1] == "8765"
    repo_config = Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml"
    assert 'toolbarMode = "minimal"' in repo_config.read_text()


def test_demo_builds_the_world_with_the_policies_its_gold_cites_once_then_starts_the_ui(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make demo`'s build: the committed world (from its shipped vectors) and only the coverage
    policies its gold questions cite; a second start reuses the data dir. The UI server itself is
    the one part not started here (the e2e tests start it): its command is recorded instead."""
    import subprocess

    from carecite.package_data import COMMITTED_WORLD
    from carecite.synth.dataset import cited_policies

    started: list[list[str]] = []
    monkeypatch.setattr(subprocess, "call", lambda cmd, env=None: started.append(cmd) or 0)
    settings = Settings(data_dir=tmp_path / "demo", shared_data_dir=shared_data)
    code, stdout, stderr = _run(settings, "demo", "--port", "8599")
    assert code == 0, stdout + stderr
    assert "1/3" in stdout and "2/3" in stdout and "3/3" in stdout
    assert started and "8599" in started[-1]
    with Session(make_engine(f"sqlite:///{settings.data_dir / 'carecite.sqlite'}")) as s:
        policies = {p.id for p in s.exec(select(t.Policy)).all()}
        assert s.exec(select(t.Patient)).first() is not None
    assert policies == cited_policies(COMMITTED_WORLD)
    assert (settings.data_dir / ".demo-ready").read_text().strip() == "cited"

    code, stdout, _ = _run(settings, "demo", "--port", "8599")  # the second start builds nothing
    assert code == 0 and "1/3" not in stdout and len(started) == 2
