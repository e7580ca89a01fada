"""The offline embedder: the light MiniLM encoders (torch, and numpy for a request's few texts) give
sentence-transformers' vectors, without importing sentence-transformers, or torch for a question
(what a cold `carecite ask` saves)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from carecite.ports import Embedder
from carecite.retrieval.embedder import SMALL_CALL, SentenceTransformerEmbedder, default_model_path
from carecite.retrieval.minilm import LightEncoder, NumpyEncoder
from fakes import FakeEmbedder

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


@pytest.fixture(params=["minilm", "fake"])
def any_embedder(request: pytest.FixtureRequest, embedder: Embedder) -> Embedder:
    """The real embedder and the test fake, held to one contract."""
    return embedder if request.param == "minilm" else FakeEmbedder()


def test_every_embedder_keeps_the_port_contract(any_embedder: Embedder) -> None:
    docs = any_embedder.embed_documents(TEXTS)
    assert docs.shape == (len(TEXTS), any_embedder.dim) and docs.dtype == np.float32
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-5)  # unit length: dot product is cosine
    assert np.allclose(any_embedder.embed_query(TEXTS[1]), docs[1], atol=1e-6)
    assert np.allclose(any_embedder.embed_documents(TEXTS[:2]), docs[:2], atol=1e-6)  # batch-independent
    assert any_embedder.embed_documents([]).shape == (0, any_embedder.dim)
    assert str(any_embedder.dim) in any_embedder.fingerprint
    q = any_embedder.embed_query("furosemide for heart failure")
    related, unrelated = any_embedder.embed_documents(
        ["Continue furosemide for heart failure.", "Knee pain."]
    )
    assert float(q @ related) > float(q @ unrelated)
