"""The e2e test reuses the UI tests' small data dir (tests/app/ui_world.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))

import ui_world


@pytest.fixture(scope="session")
def e2e_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ui_world.shared_data_dir(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="session")
def e2e_cast() -> ui_world.Cast:
    return ui_world.cast()
