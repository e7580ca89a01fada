"""The shared vector cache bounds memory by its item count: it keeps no views of whole batches."""

from __future__ import annotations

import numpy as np

from carecite.ports import Embedder
from carecite.retrieval.vector_cache import VectorCache


def test_cached_vectors_own_their_memory_so_the_cap_bounds_it(embedder: Embedder) -> None:
    cache = VectorCache(embedder, max_items=2)
    texts = ["Metformin 500 mg twice daily.", "Follow up in two weeks.", "No known drug allergies."]
    vectors = cache.vectors(texts)
    assert len(cache) == 2  # the oldest was evicted
    stored = [cache.vectors([t])[0] for t in texts[1:]]
    assert np.allclose(stored, vectors[1:], atol=1e-6)
    # Each cached row is its own array, not a view pinning the 3-row batch it was embedded in.
    assert all(v.base is None for v in cache._store.values())
    cache.put_many(["a", "b"], np.ones((2, embedder.dim), dtype=np.float32))
    assert all(v.base is None for v in cache._store.values())
