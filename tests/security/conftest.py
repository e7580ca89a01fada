"""Fixtures for the adversarial suite (helpers live in security_world.py)."""

from __future__ import annotations

import pytest
from security_world import WorldIndex
from sqlmodel import Session

from carecite.answering.pipeline import Pipeline
from carecite.settings import Settings


@pytest.fixture(scope="module")
def index(world_settings: Settings, world_pipeline: Pipeline) -> WorldIndex:
    w = WorldIndex(world_settings)
    with Session(world_pipeline.stores.engine) as s:
        w.load(s)
    return w
