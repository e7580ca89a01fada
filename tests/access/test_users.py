from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from carecite.access.users import UsersFileError, import_users, load_users_file
from carecite.cli import app
from carecite.records import make_engine
from carecite.records.tables import User
from carecite.settings import Settings

AMY = {
    "id": "cc-amy",
    "name": "Amy Lee",
    "role": "care_coordinator",
    "facilities": ["Organization/north"],
    "care_team_only": True,
    "sensitive_access": [],
}
DEE = {
    "id": "doc-dee",
    "name": "Dee Park",
    "role": "physician",
    "facilities": ["Organization/north", "Organization/south"],
    "care_team_only": False,
    "sensitive_access": ["PSY", "ETH"],
}


def _write(tmp_path: Path, users: object, name: str = "users.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(users))
    return path


def _users(settings: Settings) -> dict[str, User]:
    with Session(make_engine(settings.resolved_database_url)) as s:
        return {u.id: u for u in s.exec(select(User))}


def test_valid_file_imports_every_user(tmp_path: Path, settings: Settings) -> None:
    engine = make_engine(settings.resolved_database_url)
    assert import_users(engine, _write(tmp_path, [AMY, DEE])) == 2
    users = _users(settings)
    assert users["doc-dee"].role == "physician"
    assert json.loads(users["doc-dee"].facilities) == ["Organization/north", "Organization/south"]
    assert json.loads(users["doc-dee"].sensitive_access) == ["ETH", "PSY"]
    assert users["doc-dee"].care_team_only is False


def test_reimport_updates_existing_users(tmp_path: Path, settings: Settings) -> None:
    engine = make_engine(settings.resolved_database_url)
    import_users(engine, _write(tmp_path, [AMY]))
    import_users(engine, _write(tmp_path, [{**AMY, "name": "Amy Lee-Smith", "role": "nurse"}]))
    users = _users(settings)
    assert len(users) == 1
    assert (users["cc-amy"].name, users["cc-amy"].role) == ("Amy Lee-Smith", "nurse")


def test_omitted_optional_fields_default_to_least_privilege(tmp_path: Path) -> None:
    (spec,) = load_users_file(_write(tmp_path, [{"id": "u1", "name": "U", "role": "nurse"}]))
    assert spec.care_team_only is True and spec.facilities == [] and spec.sensitive_access == []


@pytest.mark.parametrize(
    ("bad_user", "expected"),
    [
        ({**DEE, "colour": "blue"}, "user #1 (id 'doc-dee'), field 'colour'"),
        ({**DEE, "role": "surgeon"}, "user #1 (id 'doc-dee'), field 'role'"),
        (
            {**DEE, "sensitive_access": ["PSY", "XYZ"]},
            "field 'sensitive_access': Value error, unknown label(s) ['XYZ']",
        ),
        ({**DEE, "facilities": ["north"]}, "field 'facilities'"),
        ({**DEE, "care_team_only": "sometimes"}, "field 'care_team_only'"),
        ({**DEE, "id": ""}, "field 'id'"),
        ({k: v for k, v in DEE.items() if k != "role"}, "field 'role': Field required"),
        ({**AMY}, "user #1, field 'id': duplicate of user #0"),
    ],
)
def test_invalid_user_is_named_and_nothing_is_imported(
    tmp_path: Path, settings: Settings, bad_user: dict[str, object], expected: str
) -> None:
    engine = make_engine(settings.resolved_database_url)
    with pytest.raises(UsersFileError) as exc:
        import_users(engine, _write(tmp_path, [AMY, bad_user]))
    assert expected in str(exc.value)
    assert _users(settings) == {}  # the valid first user was not imported either


@pytest.mark.parametrize(
    ("content", "expected"),
    [("[{", "not valid JSON (line 1"), ('{"id": "x"}', "expected a JSON list of users, got dict")],
)
def test_unreadable_file_gives_a_clear_error(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "users.json"
    path.write_text(content)
    with pytest.raises(UsersFileError, match=r"users\.json") as exc:
        load_users_file(path)
    assert expected in str(exc.value)


def test_missing_file_gives_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UsersFileError, match="no such file"):
        load_users_file(tmp_path / "absent.json")


def test_cli_users_import_reports_the_count(tmp_path: Path, settings: Settings) -> None:
    result = CliRunner().invoke(
        app, ["--data-dir", str(settings.data_dir), "users", "import", str(_write(tmp_path, [AMY, DEE]))]
    )
    assert result.exit_code == 0, result.output
    assert "imported 2 users" in result.output
    assert set(_users(settings)) == {"cc-amy", "doc-dee"}


def test_cli_users_import_bad_file_exits_2_without_traceback(tmp_path: Path, settings: Settings) -> None:
    path = _write(tmp_path, [AMY, {**DEE, "role": "surgeon"}])
    result = CliRunner().invoke(app, ["--data-dir", str(settings.data_dir), "users", "import", str(path)])
    assert result.exit_code == 2
    said = " ".join(result.output.split())  # Rich wraps a long temporary path anywhere in the line
    assert "user #1 (id 'doc-dee'), field 'role'" in said
    assert "nothing imported" in said
    assert "Traceback" not in result.output
    assert _users(settings) == {}
