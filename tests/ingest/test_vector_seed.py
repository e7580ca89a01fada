"""Shipped vectors: a seeded ingest embeds only what the seed lacks, and ends in the same state."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from carecite.domain import RetrievalFilter
from carecite.ingest.vector_seed import load_seed, seed_file
from carecite.package_data import COMMITTED_WORLD
from carecite.ports import Vector
from carecite.settings import Settings
from carecite.stores import Stores
from carecite.synth.dataset import ingest_synthetic, write_world
from carecite.synth.world import generate_world


class CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed at ingest."""

    def __init__(self, inner: Any, fingerprint: str | None = None) -> None:
        self.inner = inner
        self._fingerprint = fingerprint or inner.fingerprint
        self.documents = 0

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    @property
    def dim(self) -> int:
        return int(self.inner.dim)

    def embed_documents(self, texts: Sequence[str]) -> Vector:
        self.documents += len(texts)
        out: Vector = self.inner.embed_documents(texts)
        return out

    def embed_query(self, text: str) -> Vector:
        out: Vector = self.inner.embed_query(text)
        return out


def _stores(root: Path, embedder: Any) -> Stores:
    return Stores(Settings(data_dir=root), embedder=embedder)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("seeded") / "world"
    write_world(generate_world(2, 11), out)
    return out


def test_a_seeded_ingest_embeds_nothing_the_seed_holds_and_ends_in_the_same_state(
    world: Path, tmp_path: Path, embedder: Any
) -> None:
    writer = CountingEmbedder(embedder)
    first = _stores(tmp_path / "a", writer)
    assert ingest_synthetic(first, world, progress=False, write_vectors=True).ok
    assert writer.documents > 0
    seed = load_seed(world, embedder)
    assert seed is not None and len(seed) == writer.documents

    reader = CountingEmbedder(embedder)
    second = _stores(tmp_path / "b", reader)
    report = ingest_synthetic(second, world, progress=False)
    assert report.ok and report.sync is not None and report.sync.added == first.vectors.count()
    assert reader.documents == 0
    assert second.vectors.ids() == first.vectors.ids()
    probe = embedder.embed_query("follow-up appointment after discharge")
    from sqlmodel import Session, select

    from carecite.records import tables as t

    with Session(first.engine) as session:
        key = session.exec(select(t.Patient.patient_key)).first()
    assert key
    flt = RetrievalFilter(patient_key=key, allowed_labels=frozenset({"PSY", "SUD", "HIV", "ETH", "SDV"}))
    a = first.vectors.query(probe, flt, 5)
    b = second.vectors.query(probe, flt, 5)
    assert [c.source_id for c in a] == [c.source_id for c in b]
    assert np.allclose([c.score for c in a], [c.score for c in b], atol=1e-5)


def test_a_seed_for_another_model_is_never_read(world: Path, embedder: Any) -> None:
    other = CountingEmbedder(embedder, fingerprint="another/model:384:0")
    assert load_seed(world, other) is None
    seed_file(world, other.fingerprint).parent.mkdir(parents=True, exist_ok=True)
    seed_file(world, other.fingerprint).write_bytes(b"not an npz")
    assert load_seed(world, other) is None  # unreadable: embedded as if absent, never an error


def test_a_seed_missing_texts_embeds_only_those(world: Path, tmp_path: Path, embedder: Any) -> None:
    writer = CountingEmbedder(embedder)
    assert ingest_synthetic(_stores(tmp_path / "a", writer), world, progress=False, write_vectors=True).ok
    path = seed_file(world, embedder.fingerprint)
    with np.load(path) as data:
        keys, vectors = data["keys"], data["vectors"]
    np.savez_compressed(path, keys=keys[10:], vectors=vectors[10:])  # a stale seed: ten texts unknown
    reader = CountingEmbedder(embedder)
    assert ingest_synthetic(_stores(tmp_path / "b", reader), world, progress=False).ok
    assert reader.documents == 10


def test_the_committed_world_ships_vectors_for_nearly_all_its_texts(tmp_path: Path, embedder: Any) -> None:
    """What keeps `make demo` short: if the chunker or the world changed, rewrite the seed with
    `carecite --data-dir <empty dir> ingest synthetic --no-policies --write-vectors`."""
    counting = CountingEmbedder(embedder)
    report = ingest_synthetic(_stores(tmp_path / "demo", counting), COMMITTED_WORLD, progress=False)
    assert report.ok
    seed = load_seed(COMMITTED_WORLD, embedder)
    assert seed is not None
    assert counting.documents <= 0.05 * len(seed), f"{counting.documents} of {len(seed)} texts embedded"
