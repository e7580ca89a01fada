"""A real uvicorn server over the ingested world (one per test module), driven with httpx."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "security"))  # security_world helpers

from api_world import Token  # tests/api is on sys.path (pytest's rootdir-less import, like tests/security)

from carecite.answering.pipeline import Pipeline
from carecite.api.auth import mint_token
from carecite.api.server import running
from carecite.settings import Settings


@pytest.fixture(scope="module")
def api_settings(world_settings: Settings) -> Settings:
    # The rate limit has its own test (its own server); here it would only throttle the suite.
    return world_settings.model_copy(update={"api_rate_limit_per_minute": 0})


@pytest.fixture(scope="module")
def base_url(api_settings: Settings, world_pipeline: Pipeline) -> Iterator[str]:
    with running(api_settings, world_pipeline) as url:
        yield url


@pytest.fixture(scope="module")
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=300) as client:
        yield client


@pytest.fixture(scope="module")
def token(api_settings: Settings) -> Token:
    """``token("md-farah", "user/*.rs", patient=None, ttl_s=None, ...)`` → a signed dev JWT."""

    def make(user: str, *scopes: str, **kw: Any) -> str:
        return mint_token(api_settings, user, list(scopes or ("user/*.rs",)), **kw)

    return make


@pytest.fixture(scope="module")
def small_api(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[tuple[Settings, str]]:  # type: ignore[no-untyped-def]
    """A real uvicorn over the small world (one patient), access log on: for the HTTP edge's tests."""
    from carecite.stores import Stores
    from carecite.wiring import build_pipeline
    from servers import ingest_small_world

    settings = Settings(data_dir=tmp_path_factory.mktemp("small-api") / "data", api_rate_limit_per_minute=0)
    stores = Stores(settings, embedder=embedder)
    ingest_small_world(stores)
    with running(settings, build_pipeline(settings, stores=stores), log_level="info") as base:
        yield settings, base
