from __future__ import annotations

import pytest
from access_world import World, build_world

from carecite.settings import Settings


@pytest.fixture
def world(settings: Settings) -> World:
    """A fresh world per test (for tests that write, e.g. audit records)."""
    return build_world(settings)


@pytest.fixture(scope="module")
def shared_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """One world per module for read-only tests: building the schema costs ~0.5 s per database."""
    return build_world(Settings(data_dir=tmp_path_factory.mktemp("world") / "data"))
