"""UI test fixtures: one small demo data dir per test session (see ui_world.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import ui_world

from carecite.domain import Answer


@pytest.fixture(scope="session")
def cast() -> ui_world.Cast:
    return ui_world.cast()


@pytest.fixture(scope="session")
def ui_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ui_world.shared_data_dir(tmp_path_factory.getbasetemp())


@pytest.fixture
def app_env(ui_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the app at the test data dir (the app reads ``Settings()``, i.e. CARECITE_DATA_DIR)."""
    monkeypatch.setenv("CARECITE_DATA_DIR", str(ui_data_dir))
    yield ui_data_dir


@pytest.fixture(scope="session")
def audited_answer(ui_data_dir: Path, cast: ui_world.Cast) -> Answer:
    """A real cited answer already in the audit trail, asked through the app's cached pipeline (so a
    test run in the same process loads the models once)."""
    import sys

    sys.path.insert(0, str(ui_world.REPO / "app"))
    import ui_common
    from carecite.answering.pipeline import AskRequest

    answer = ui_common.get_pipeline(str(ui_data_dir.resolve())).ask(
        AskRequest(
            question=cast.discharge_question, user_id=cast.coordinator, patient_id=cast.discharge_patient
        )
    )
    assert not answer.declined and answer.citations, answer.decline_detail
    return answer
