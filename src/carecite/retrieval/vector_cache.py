"""The one place a text's vector is looked up: a bounded in-memory LRU per embedding model.

The re-ranker, the extractive answerer and citation verification all ask ``shared_cache(embedder)``
for their vectors, so a sentence is embedded (or loaded from the source-vector store, see
``source_vectors``) once per process, whoever needs it first. Keys are a hash of the text; the
cache is per embedder fingerprint, so two models never share vectors.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from carecite.ports import Embedder, Vector


def text_key(text: str) -> str:
    """A short, stable key for ``text`` (what the store persists next to each vector)."""
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


class VectorCache:
    """Bounded LRU of text → unit vector.

    ``vectors`` embeds every missing text in ONE ``embed_documents`` call (batching is where the
    speed is) and returns rows in the order asked. Thread-safe: the UI serves several sessions.
    """

    def __init__(self, embedder: Embedder, max_items: int = 200_000) -> None:
        self.embedder = embedder
        self.max_items = max_items
        self._store: OrderedDict[str, Vector] = OrderedDict()
        self._lock = threading.Lock()
        self.embedded = 0  # texts this cache had to embed (a miss): what the benchmarks count

    @staticmethod
    def _key(text: str) -> str:
        return text_key(text)

    def __len__(self) -> int:
        return len(self._store)

    def __contains__(self, text: str) -> bool:
        return self._key(text) in self._store

    def put_many(self, texts: Sequence[str], vectors: Vector) -> None:
        self.put_keys([self._key(t) for t in texts], vectors)

    def put_keys(self, keys: Sequence[str], vectors: Vector) -> None:
        if len(keys) != len(vectors):
            raise ValueError(f"{len(keys)} keys but {len(vectors)} vectors")
        with self._lock:
            for key, vec in zip(keys, vectors, strict=True):
                self._put(key, vec)

    def _put(self, key: str, vec: Vector) -> Vector:
        # A copy: a row view would keep its whole batch alive while the row is cached, and the cap
        # would not bound memory (an ingest embeds thousands of texts a call).
        own: Vector = np.array(vec, dtype=np.float32)
        self._store[key] = own
        self._store.move_to_end(key)
        while len(self._store) > self.max_items:
            self._store.popitem(last=False)
        return own

    def items(self) -> tuple[list[str], Vector]:
        """Every key and its vector, oldest first (what a vector seed is written from)."""
        with self._lock:
            keys = list(self._store)
            vecs = [self._store[k] for k in keys]
        if not vecs:
            return [], np.zeros((0, self.embedder.dim), dtype=np.float32)
        return keys, np.stack(vecs)

    def vectors(self, texts: Sequence[str]) -> Vector:
        keys = [self._key(t) for t in texts]
        found: dict[str, Vector] = {}
        missing: dict[str, str] = {}
        with self._lock:
            for key, text in zip(keys, texts, strict=True):
                vec = self._store.get(key)
                if vec is not None:
                    self._store.move_to_end(key)
                    found[key] = vec
                elif key not in missing:
                    missing[key] = text
        if missing:
            fresh = self.embedder.embed_documents(list(missing.values()))
            self.embedded += len(missing)
            with self._lock:
                for key, vec in zip(missing, fresh, strict=True):
                    found[key] = self._put(key, vec)
        if not keys:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return np.stack([found[k] for k in keys])

    def vector(self, text: str) -> Vector:
        vec: Vector = self.vectors([text])[0]
        return vec


_SHARED: dict[str, VectorCache] = {}
_SHARED_LOCK = threading.Lock()


def shared_cache(embedder: Embedder) -> VectorCache:
    """The process-wide cache for ``embedder``'s model (one per fingerprint)."""
    with _SHARED_LOCK:
        cache = _SHARED.get(embedder.fingerprint)
        if cache is None:
            cache = _SHARED[embedder.fingerprint] = VectorCache(embedder)
        return cache


def reset_shared_caches() -> None:
    """Forget every cached vector (a benchmark's "cold process")."""
    with _SHARED_LOCK:
        _SHARED.clear()
