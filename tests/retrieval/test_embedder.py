"""The offline embedder: the light MiniLM encoders (torch, and numpy for a request's few texts) give
sentence-transformers' vectors, without importing sentence-transformers, or torch for a question
(what a cold `carecite ask` saves)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from carecite.retrieval.embedder import SMALL_CALL, SentenceTransformerEmbedder, default_model_path
from carecite.retrieval.minilm import LightEncoder, NumpyEncoder

TEXTS = [
    "Which follow-ups are open for Hannah Delgado right now?",
    "  Continue furosemide 40 mg by mouth daily.  ",
    "# Assessment and Plan\nHeart failure with reduced ejection fraction, improving on diuretics. " * 30,
    "x",
]


def test_the_shipped_model_uses_the_light_encoder_and_matches_sentence_transformers() -> None:
    from sentence_transformers import SentenceTransformer

    path = default_model_path()
    assert LightEncoder.supports(path)
    embedder = SentenceTransformerEmbedder(path)
    small = embedder.embed_documents(TEXTS)  # a few texts, torch not loaded: the numpy encoder
    assert isinstance(embedder._small, NumpyEncoder) and embedder._model is None
    ours = embedder.embed_documents(TEXTS * (SMALL_CALL // len(TEXTS) + 1))[: len(TEXTS)]  # bulk: torch
    assert isinstance(embedder.model, LightEncoder)
    reference = SentenceTransformer(str(path), device="cpu", local_files_only=True).encode(
        TEXTS, normalize_embeddings=True
    )
    for got in (ours, small):
        assert got.shape == (len(TEXTS), embedder.dim) and got.dtype == np.float32
        assert float(np.abs(got - reference).max()) < 1e-5  # long text truncated at 256 tokens alike
    assert float(np.abs(small - ours).max()) < 1e-6  # numpy and torch: the same vectors
    assert np.allclose(embedder.embed_query(TEXTS[0]), ours[0], atol=1e-6)


def test_embedding_a_question_never_imports_sentence_transformers() -> None:
    code = (
        "import sys\n"
        "from carecite.retrieval.embedder import SentenceTransformerEmbedder\n"
        "SentenceTransformerEmbedder().embed_query('open follow-ups?')\n"
        "assert 'sentence_transformers' not in sys.modules and 'transformers' not in sys.modules\n"
        "assert 'torch' not in sys.modules  # a question is embedded by the numpy encoder\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-600:]


def test_a_model_directory_of_another_layout_is_left_to_sentence_transformers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "modules.json").write_text('[{"type": "sentence_transformers.models.Transformer"}]')
    assert not LightEncoder.supports(tmp_path)
    assert not LightEncoder.supports(tmp_path / "missing")
