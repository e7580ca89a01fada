"""Re-ranking behind ``ports.Reranker``: scores are calibrated probabilities of relevance in [0, 1].

Two implementations:

* ``EvidenceReranker`` — the offline default. No cross-encoder ships inside a PyPI package, so this
  scores each candidate from evidence we can compute with the shipped MiniLM bi-encoder and the
  text itself: the best-matching *sentences* (a claim is usually supported by one sentence, which a
  whole-passage vector dilutes), whole-passage similarity, IDF-weighted query-term coverage and a
  BM25 score computed over the candidate set, exact number/code matches, and the retrieval rank
  prior. A logistic model combines them; its output is a probability, which is what lets a fixed
  gate threshold mean the same thing for every question.
* ``CrossEncoderReranker`` — used when ``settings.reranker_model`` names a local
  sentence-transformers CrossEncoder directory (never a hub name: nothing is downloaded).

``build_reranker(settings, embedder)`` picks one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from carecite.domain import Candidate
from carecite.ports import Embedder, Reranker
from carecite.retrieval.vector_cache import VectorCache, shared_cache
from carecite.text.layout import reading
from carecite.text.sentences import find_sections
from carecite.text.sentences import split_sentences as cut_sentences
from carecite.text.terms import content_word_tuple, content_words, words

if TYPE_CHECKING:
    from carecite.settings import Settings

FloatArray = NDArray[np.float64]


class RerankerConfigError(ValueError):
    """The configured re-ranker cannot be used (missing or invalid local model directory)."""


# --------------------------------------------------------------------------- text helpers
_MIN_SENT_WORDS = 4
_MAX_SENTENCES = 40  # bounds cost on a pathological chunk; later sentences are still in the passage vector

_HAS_DIGIT = re.compile(r"\d")


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` by the one splitter (``carecite.text.sentences``, the cuts the answerer and
    the verifier make); fragments shorter than a few words are merged into their neighbour."""
    spans = [
        span for sec in find_sections(text) for span in cut_sentences(text, sec.start, sec.body, sec.end)
    ]
    # A table's row is read with its column headers ("Penicillin — reaction: hives"), as the answerer reads it.
    parts = [part.strip() for part in reading(text, spans) if part.strip()]
    out: list[str] = []
    for part in parts:
        if out and min(len(part.split()), len(out[-1].split())) < _MIN_SENT_WORDS:
            out[-1] = f"{out[-1]} {part}"
        else:
            out.append(part)
    return out[:_MAX_SENTENCES] or ([text.strip()] if text.strip() else [])


# --------------------------------------------------------------------------- features
FEATURE_NAMES: tuple[str, ...] = (
    "passage_cos",  # cosine(question, whole candidate text)
    "sent_max_cos",  # best sentence
    "sent_top2_cos",  # mean of the two best sentences (support spread over two sentences)
    "passage_cos_gap",  # passage_cos minus the best passage_cos among the candidates
    "sent_max_gap",  # sent_max_cos minus the best among the candidates
    "term_coverage",  # IDF-weighted share of question terms present (IDF over the candidate set)
    "bm25_rel",  # BM25 over the candidate set, divided by the set's maximum
    "number_match",  # share of the question's numbers/codes found verbatim (0 if it has none)
    "rank_prior",  # -ln(input rank): the retrieval order the candidates arrived in
    "n_retrievers",  # how many retrievers found it (len(fused_from), at least 1)
)


@dataclass(frozen=True)
class EvidenceWeights:
    """Logistic model over ``FEATURE_NAMES``: P(relevant) = sigmoid(intercept + coef · x)."""

    intercept: float
    coef: tuple[float, ...]
    feature_names: tuple[str, ...] = FEATURE_NAMES

    def __post_init__(self) -> None:
        if len(self.coef) != len(self.feature_names):
            raise ValueError(f"{len(self.coef)} weights for {len(self.feature_names)} features")

    def logit(self, features: FloatArray) -> FloatArray:
        return np.asarray(features @ np.asarray(self.coef) + self.intercept, dtype=np.float64)

    def probability(self, features: FloatArray) -> FloatArray:
        return sigmoid(self.logit(features))


def sigmoid(z: FloatArray) -> FloatArray:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)), dtype=np.float64)  # overflow-free logistic


# Fitted on BEIR SciFact TRAIN qrels only (809 claims, 80,900 candidate pairs, 875 relevant; the test
# split is never seen) by ``carecite.evaluation.beir.fit_evidence_weights`` (reproduce with
# ``python -c "from carecite.evaluation.beir import main_fit; main_fit()"``): the top-100 RRF-fused
# (MiniLM dense + BM25, k=60) candidates of each train claim, label 1 for a qrels-relevant abstract,
# L2-regularised (λ=1) logistic regression by IRLS, features exactly as ``EvidenceReranker.features``.
# Fitted on 2/3 of the train claims, it lifted nDCG@10 on the held-out 1/3 from 0.690 (fusion) to 0.737.
# Note the weights are joint: e.g. passage_cos is negative only because passage_cos_gap carries it.
EVIDENCE_WEIGHTS = EvidenceWeights(
    intercept=-2.9471,
    coef=(-0.4102, 1.8741, 1.6614, 3.8996, 5.36, 1.2514, 2.0369, 0.4172, 0.7336, -0.606),
)


class EvidenceReranker:
    """Offline default re-ranker: sentence-level evidence + lexical signals + rank prior → P(relevant).

    Candidates are expected in retrieval order (e.g. the output of ``reciprocal_rank_fusion``):
    that order is one of the features.
    """

    name = "evidence-minilm-v1"

    def __init__(
        self,
        embedder: Embedder,
        weights: EvidenceWeights = EVIDENCE_WEIGHTS,
        cache: VectorCache | None = None,
    ) -> None:
        self.embedder = embedder
        self.weights = weights
        self.cache = cache if cache is not None else shared_cache(embedder)  # an empty cache is falsy

    def features(self, question: str, candidates: Sequence[Candidate]) -> FloatArray:
        """One row of ``FEATURE_NAMES`` per candidate (public so the weights can be re-fitted)."""
        n = len(candidates)
        if n == 0:
            return np.zeros((0, len(FEATURE_NAMES)), dtype=np.float64)
        texts = [c.text for c in candidates]
        sentences = [split_sentences(t) for t in texts]
        # One cache lookup → at most one embedding batch: question, passages and all their sentences.
        flat = [question, *texts, *(s for sents in sentences for s in sents)]
        vecs = self.cache.vectors(flat).astype(np.float64)
        q, passages, sent_vecs = vecs[0], vecs[1 : 1 + n], vecs[1 + n :]

        passage_cos = passages @ q
        sent_cos = sent_vecs @ q
        sent_max = np.empty(n)
        sent_top2 = np.empty(n)
        offset = 0
        for i, sents in enumerate(sentences):
            s = np.sort(sent_cos[offset : offset + len(sents)])[::-1] if sents else np.array([passage_cos[i]])
            offset += len(sents)
            sent_max[i] = s[0]
            sent_top2[i] = s[:2].mean()

        coverage, bm25 = _lexical_scores(question, texts)
        bm25_rel = bm25 / bm25.max() if bm25.max() > 0 else np.zeros(n)
        numbers = _number_match(question, texts)
        ranks = np.arange(1, n + 1, dtype=np.float64)
        n_retrievers = np.array([max(len(c.fused_from), 1) for c in candidates], dtype=np.float64)
        return np.column_stack(
            [
                passage_cos,
                sent_max,
                sent_top2,
                passage_cos - passage_cos.max(),
                sent_max - sent_max.max(),
                coverage,
                bm25_rel,
                numbers,
                -np.log(ranks),
                n_retrievers,
            ]
        )

    def rerank(self, question: str, candidates: Sequence[Candidate]) -> list[Candidate]:
        if not candidates:
            return []
        probs = self.weights.probability(self.features(question, candidates))
        # Stable: equal probabilities keep their retrieval order.
        order = sorted(range(len(candidates)), key=lambda i: (-probs[i], i))
        return [candidates[i].model_copy(update={"score": float(probs[i])}) for i in order]


def _lexical_scores(
    question: str, texts: Sequence[str], k1: float = 1.2, b: float = 0.75
) -> tuple[FloatArray, FloatArray]:
    """IDF-weighted query-term coverage and BM25, both with IDF computed over the candidate set.

    The set is what we are ranking, so a term every candidate shares carries little weight here —
    exactly the terms that cannot separate them.
    """
    q_terms = list(dict.fromkeys(content_words(question)))
    n = len(texts)
    if not q_terms:
        return np.zeros(n), np.zeros(n)
    docs = [Counter(content_word_tuple(t)) for t in texts]
    lengths = np.array([sum(d.values()) for d in docs], dtype=np.float64)
    avgdl = float(lengths.mean()) or 1.0
    df = np.array([sum(1 for d in docs if t in d) for t in q_terms], dtype=np.float64)
    idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5))
    tf = np.array([[d.get(t, 0) for t in q_terms] for d in docs], dtype=np.float64)
    coverage = (tf > 0).astype(np.float64) @ idf / idf.sum()
    norm = k1 * (1.0 - b + b * lengths / avgdl)
    bm25 = ((tf * (k1 + 1.0)) / (tf + norm[:, None])) @ idf
    return coverage, bm25


def _number_match(question: str, texts: Sequence[str]) -> FloatArray:
    """Share of the question's numeric tokens (doses, dates, codes like E11.9) found verbatim."""
    wanted = {t for t in words(question) if _HAS_DIGIT.search(t)}
    if not wanted:
        return np.zeros(len(texts))
    out = np.empty(len(texts))
    for i, text in enumerate(texts):
        have = set(words(text))
        out[i] = len(wanted & have) / len(wanted)
    return out


# --------------------------------------------------------------------------- cross-encoder
class CrossEncoderReranker:
    """A local sentence-transformers CrossEncoder (single relevance logit); sigmoid(logit) → [0, 1]."""

    def __init__(self, model_dir: Path, batch_size: int = 32, max_length: int = 512) -> None:
        model_dir = Path(model_dir)
        if not model_dir.is_dir():
            raise RerankerConfigError(
                f"re-ranker model directory not found: {model_dir} "
                "(CARECITE_RERANKER_MODEL must name a local CrossEncoder directory; hub names are not fetched)"
            )
        if not (model_dir / "config.json").is_file():
            raise RerankerConfigError(
                f"{model_dir} is not a sentence-transformers CrossEncoder directory (no config.json)"
            )
        try:
            from sentence_transformers import CrossEncoder

            self._model: Any = CrossEncoder(
                str(model_dir), device="cpu", local_files_only=True, max_length=max_length
            )
        except Exception as exc:  # surfaced as a config error: the user pointed us at a bad directory
            raise RerankerConfigError(f"could not load cross-encoder from {model_dir}: {exc}") from exc
        num_labels = int(getattr(self._model, "num_labels", 1))
        if num_labels != 1:
            raise RerankerConfigError(
                f"{model_dir} has {num_labels} output labels; a relevance cross-encoder has exactly one"
            )
        self.model_dir = model_dir
        self.batch_size = batch_size
        self.name = f"cross-encoder:{model_dir.name}"

    def logits(self, question: str, candidates: Sequence[Candidate]) -> FloatArray:
        import torch

        pairs = [(question, c.text) for c in candidates]
        raw = self._model.predict(
            pairs, batch_size=self.batch_size, activation_fn=torch.nn.Identity(), show_progress_bar=False
        )
        return np.asarray(raw, dtype=np.float64).reshape(len(candidates))

    def rerank(self, question: str, candidates: Sequence[Candidate]) -> list[Candidate]:
        if not candidates:
            return []
        probs = sigmoid(self.logits(question, candidates))
        order = sorted(range(len(candidates)), key=lambda i: (-probs[i], i))
        return [candidates[i].model_copy(update={"score": float(probs[i])}) for i in order]


def build_reranker(settings: Settings, embedder: Embedder) -> Reranker:
    """The configured local cross-encoder when ``settings.reranker_model`` is set, else the offline default.

    A configured but unusable directory is an error, not a silent fallback: the operator asked for it.
    """
    if settings.reranker_model is not None:
        return CrossEncoderReranker(settings.reranker_model)
    return EvidenceReranker(embedder)


__all__ = [
    "EVIDENCE_WEIGHTS",
    "FEATURE_NAMES",
    "CrossEncoderReranker",
    "EvidenceReranker",
    "EvidenceWeights",
    "RerankerConfigError",
    "VectorCache",
    "build_reranker",
    "sigmoid",
    "split_sentences",
]
