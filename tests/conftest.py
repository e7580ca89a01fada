"""Shared fixtures: real SQLite, real Chroma, real embeddings — each test gets its own data dir."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):  # tests never reach a real endpoint
    os.environ.pop(var, None)

from carecite.settings import Settings  # noqa: E402

# Real PostgreSQL (+pgvector) and Chroma servers for the scale-out tests (issue 14): session-scoped,
# started only by the tests that ask for them, skipped with the reason when they cannot start.
from servers import chroma, chroma_server, fresh_chroma, pg, pg_server, pg_url  # noqa: E402, F401

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("CARECITE_SHARED_DATA_DIR", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    """The real MiniLM embedder, loaded once per test session (loading costs seconds)."""
    from carecite.retrieval.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(threads=1 if os.environ.get("PYTEST_XDIST_WORKER") else None)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", shared_data_dir=SHARED_DATA)


@pytest.fixture
def stores(settings: Settings, embedder):  # type: ignore[no-untyped-def]
    from carecite.stores import Stores

    return Stores(settings, embedder=embedder)


@pytest.fixture
def shared_data() -> Iterator[Path]:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"public data not found at {SHARED_DATA} (set CARECITE_SHARED_DATA_DIR)")
    yield SHARED_DATA


@pytest.fixture(scope="session")
def world_template(tmp_path_factory: pytest.TempPathFactory, embedder):  # type: ignore[no-untyped-def]
    """The whole synthetic world + gold-cited CMS policies, ingested once per test run."""
    from world import world_template as build

    return build(tmp_path_factory, SHARED_DATA, embedder)


@pytest.fixture(scope="module")
def world_settings(world_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A private copy of the world for one test module (writes never leak between modules)."""
    from world import copy_world

    data_dir = copy_world(world_template, tmp_path_factory.mktemp("world") / "data")
    return Settings(data_dir=data_dir, shared_data_dir=SHARED_DATA)


@pytest.fixture(scope="module")
def world_pipeline(world_settings: Settings, embedder):  # type: ignore[no-untyped-def]
    """The real pipeline over the world copy: real stores, real Presidio, offline extractive answerer."""
    from carecite.stores import Stores
    from carecite.wiring import build_pipeline

    return build_pipeline(
        world_settings, stores=Stores(world_settings, embedder=embedder), redactor=_redactor()
    )


_REDACTOR = None


def _redactor():  # type: ignore[no-untyped-def]
    """Presidio costs seconds to load: one per worker."""
    global _REDACTOR
    if _REDACTOR is None:
        from carecite.wiring import build_redactor

        _REDACTOR = build_redactor()
    return _REDACTOR


@pytest.fixture(autouse=True)
def _carecite_logger_restored() -> Iterator[None]:
    """Entry points configure the ``carecite`` logger (stderr handler, PHI redaction): a test that
    runs one (the CLI, the API) must not leave that behind for the next test in the same worker."""
    import logging

    logger = logging.getLogger("carecite")
    handlers, level = list(logger.handlers), logger.level
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)
