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

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("CARECITE_SHARED_DATA_DIR", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    """The real MiniLM embedder, loaded once per test session (loading costs seconds)."""
    from carecite.retrieval.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", shared_data_dir=SHARED_DATA)


@pytest.fixture
def stores(settings: Settings, embedder):  # type: ignore[no-untyped-def]
    from carecite.wiring import Stores

    return Stores(settings, embedder=embedder)


@pytest.fixture
def shared_data() -> Iterator[Path]:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"public data not found at {SHARED_DATA} (set CARECITE_SHARED_DATA_DIR)")
    yield SHARED_DATA
