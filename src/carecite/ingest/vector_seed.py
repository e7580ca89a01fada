"""Vectors shipped beside a corpus that never changes (the committed demo world), so ingesting it does
not embed it again.

Embedding is nearly all of a fresh demo's build (7,300 texts: ~70 s of ~85 s on this 2-core
machine). The seed is a ``.npz`` beside the corpus, one file per embedding model, named by the
model's fingerprint: ``<corpus>/vectors/<fingerprint slug>.npz`` with ``keys`` (``text_key`` of
each text, as the vector cache keys them) and ``vectors`` (float32, as the model gave them). An
ingest puts the seed into its vector cache first; a text the seed lacks (the chunker changed, the
world was regenerated) is simply embedded, and another model's seed is never read. So a stale seed
costs time, never correctness. ``carecite ingest synthetic --write-vectors`` rewrites it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from carecite.ports import Embedder, Vector
from carecite.retrieval.vector_cache import VectorCache

SEED_DIR = "vectors"


def seed_file(corpus: Path, fingerprint: str) -> Path:
    """Where ``corpus``'s seed for the model ``fingerprint`` lives (the fingerprint, file-name safe)."""
    return corpus / SEED_DIR / (re.sub(r"[^A-Za-z0-9._-]+", "_", fingerprint) + ".npz")


@dataclass(frozen=True)
class VectorSeed:
    """Text keys and their unit vectors, for one embedding model."""

    fingerprint: str
    keys: list[str]
    vectors: Vector

    def __len__(self) -> int:
        return len(self.keys)

    def into(self, cache: VectorCache) -> None:
        """Pre-fill ``cache``: what the seed holds is never embedded again."""
        cache.put_keys(self.keys, self.vectors)


def load_seed(corpus: Path, embedder: Embedder) -> VectorSeed | None:
    """The seed for ``embedder``'s model, or None: no seed, another model, or a file that does not
    read as one (a wrong dimension, keys and vectors of different lengths)."""
    path = seed_file(corpus, embedder.fingerprint)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            keys = [str(k) for k in data["keys"]]
            vectors = np.asarray(data["vectors"], dtype=np.float32)
    except (OSError, ValueError, KeyError):
        return None
    if vectors.ndim != 2 or vectors.shape[1] != embedder.dim or len(keys) != len(vectors):
        return None
    return VectorSeed(embedder.fingerprint, keys, vectors)


def write_seed(corpus: Path, embedder: Embedder, cache: VectorCache) -> Path:
    """Write every vector ``cache`` holds as ``corpus``'s seed for ``embedder``'s model, keys sorted
    (the same corpus gives the same file)."""
    keys, vectors = cache.items()
    order = sorted(range(len(keys)), key=keys.__getitem__)
    path = seed_file(corpus, embedder.fingerprint)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path,
        keys=np.array([keys[i] for i in order]),
        vectors=vectors[order] if len(order) else np.zeros((0, embedder.dim), dtype=np.float32),
    )
    return path
