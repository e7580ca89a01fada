from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from carecite.domain import Candidate, RetrieverName
from carecite.ports import Embedder, Vector
from carecite.retrieval.fusion import reciprocal_rank_fusion
from carecite.retrieval.rerank import (
    EVIDENCE_WEIGHTS,
    FEATURE_NAMES,
    CrossEncoderReranker,
    EvidenceReranker,
    EvidenceWeights,
    RerankerConfigError,
    build_reranker,
    sigmoid,
    split_sentences,
)
from carecite.retrieval.vector_cache import VectorCache
from carecite.settings import Settings


def cand(sid: str, text: str, retriever: RetrieverName = "dense") -> Candidate:
    return Candidate(
        source_id=sid,
        source_type="note_chunk",
        source_ref=f"DocumentReference/{sid}",
        patient_key="pk_1",
        text=text,
        retriever=retriever,
    )


CLINICAL = [
    cand("diet", "Diet: low sodium, 2 g per day. Encourage fluids within the restriction. Weigh daily."),
    cand(
        "cardio",
        "Cardiology follow-up: at discharge cardiology recommended starting metoprolol succinate 25 mg daily "
        "and a repeat echocardiogram in 6 weeks. Follow up in heart failure clinic in 2 weeks.",
    ),
    cand("ortho", "Orthopaedics reviewed the left knee. Physical therapy twice weekly for 6 weeks."),
    cand(
        "social", "Social work: patient lives alone, daughter visits on weekends. Meals on wheels arranged."
    ),
    cand("labs", "Labs on admission: sodium 134, potassium 4.1, creatinine 1.3. BNP elevated at 890."),
]


class CountingEmbedder:
    """Wraps the real embedder and counts batches, to check the one-batch-per-call promise."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.calls: list[int] = []

    @property
    def fingerprint(self) -> str:
        return self.inner.fingerprint

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed_documents(self, texts: Sequence[str]) -> Vector:
        self.calls.append(len(texts))
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> Vector:
        return self.embed_documents([text])[0]


def test_obviously_relevant_clinical_passage_is_ranked_first(embedder: Embedder) -> None:
    reranker = EvidenceReranker(embedder)
    # The relevant chunk arrives last: the evidence, not the retrieval order, must lift it.
    order = [CLINICAL[i] for i in (0, 2, 3, 4, 1)]
    ranked = reranker.rerank("What did cardiology recommend at discharge?", order)
    assert ranked[0].source_id == "cardio"
    assert ranked[0].score > ranked[1].score


def test_scores_are_probabilities_sorted_descending_and_inputs_untouched(embedder: Embedder) -> None:
    reranker = EvidenceReranker(embedder)
    ranked = reranker.rerank("potassium and sodium on admission", CLINICAL)
    scores = [c.score for c in ranked]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores == sorted(scores, reverse=True)
    assert sorted(c.source_id for c in ranked) == sorted(c.source_id for c in CLINICAL)
    assert ranked[0].source_id == "labs"
    assert all(c.score == 0.0 for c in CLINICAL)  # frozen inputs, copies returned


def test_rerank_is_deterministic_and_ties_keep_retrieval_order(embedder: Embedder) -> None:
    reranker = EvidenceReranker(embedder)
    first = reranker.rerank("heart failure clinic", CLINICAL)
    again = reranker.rerank("heart failure clinic", CLINICAL)
    assert [(c.source_id, c.score) for c in first] == [(c.source_id, c.score) for c in again]
    flat = EvidenceReranker(embedder, EvidenceWeights(intercept=0.0, coef=(0.0,) * len(FEATURE_NAMES)))
    tied = flat.rerank("heart failure clinic", CLINICAL)
    assert [c.source_id for c in tied] == [c.source_id for c in CLINICAL]
    assert all(c.score == pytest.approx(0.5) for c in tied)


def test_embeds_at_most_one_batch_per_call_and_reuses_vectors(embedder: Embedder) -> None:
    counting = CountingEmbedder(embedder)
    # A fresh cache (the default is the process-wide one other tests have already filled).
    reranker = EvidenceReranker(counting, cache=VectorCache(counting))
    reranker.rerank("repeat echocardiogram", CLINICAL)
    assert len(counting.calls) == 1
    reranker.rerank("repeat echocardiogram", CLINICAL)
    assert len(counting.calls) == 1  # everything cached
    reranker.rerank("a new question", [*CLINICAL, cand("new", "A brand new passage about insulin.")])
    assert len(counting.calls) == 2
    # Only what is new: the question and the passage (which is also its own single sentence).
    assert counting.calls[1] == 2


def test_empty_candidates_and_empty_question_are_handled(embedder: Embedder) -> None:
    reranker = EvidenceReranker(embedder)
    assert reranker.rerank("anything", []) == []
    ranked = reranker.rerank("", CLINICAL[:2])
    assert len(ranked) == 2
    assert all(0.0 <= c.score <= 1.0 for c in ranked)


def test_calibration_is_monotonic_in_the_evidence_score() -> None:
    z = np.linspace(-40, 40, 401)
    p = sigmoid(z)
    assert np.all(np.diff(p) >= 0)
    assert p[0] >= 0.0
    assert p[-1] <= 1.0
    x = np.random.default_rng(0).normal(size=(200, len(FEATURE_NAMES)))
    probs = EVIDENCE_WEIGHTS.probability(x)
    by_logit = np.argsort(EVIDENCE_WEIGHTS.logit(x))
    assert np.all(np.diff(probs[by_logit]) >= 0)


def test_better_sentence_evidence_raises_probability(embedder: Embedder) -> None:
    reranker = EvidenceReranker(embedder)
    question = "Does metformin cause lactic acidosis?"
    weak = cand("weak", "The clinic is open on weekdays. Parking is available.")
    strong = cand(
        "strong", "The clinic is open on weekdays. Metformin can cause lactic acidosis in renal failure."
    )
    ranked = {c.source_id: c.score for c in reranker.rerank(question, [weak, strong])}
    assert ranked["strong"] > ranked["weak"]


def test_number_and_code_matches_are_a_feature(embedder: Embedder) -> None:
    reranker = EvidenceReranker(embedder)
    feats = reranker.features(
        "coverage for E11.9 in 2024",
        [cand("a", "Diagnosis E11.9 documented in 2024."), cand("b", "Diagnosis E11.65 documented in 2023.")],
    )
    col = FEATURE_NAMES.index("number_match")
    assert feats[0, col] == 1.0
    assert feats[1, col] == 0.0


def test_sentence_splitter_merges_fragments() -> None:
    text = "Title of the study here\n\nWe gave 2.5 mg daily, e.g. at night. Results improved markedly in all."
    sents = split_sentences(text)
    assert sents[0] == "Title of the study here"
    assert any("2.5 mg" in s and "e.g. at night" in s for s in sents)
    assert split_sentences("   ") == []


def test_weights_must_match_the_features() -> None:
    with pytest.raises(ValueError, match="weights for"):
        EvidenceWeights(intercept=0.0, coef=(1.0,))


def test_works_on_fused_candidates_end_to_end(embedder: Embedder) -> None:
    dense = [CLINICAL[0], CLINICAL[1], CLINICAL[2]]
    lexical = [c.model_copy(update={"retriever": "lexical"}) for c in (CLINICAL[4], CLINICAL[1])]
    fused = reciprocal_rank_fusion([dense, lexical])
    ranked = EvidenceReranker(embedder).rerank("What did cardiology recommend?", fused)
    assert ranked[0].source_id == "cardio"
    assert ranked[0].fused_from == ("dense", "lexical")


# --------------------------------------------------------------------------- cross-encoder and wiring
def test_missing_cross_encoder_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RerankerConfigError, match="not found"):
        CrossEncoderReranker(tmp_path / "nope")
    with pytest.raises(RerankerConfigError, match=r"no config\.json"):
        CrossEncoderReranker(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(RerankerConfigError, match="could not load"):
        CrossEncoderReranker(tmp_path)


def test_build_reranker_defaults_offline_and_refuses_a_bad_configured_model(
    settings: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    default = build_reranker(settings, embedder)
    assert isinstance(default, EvidenceReranker)
    bad = settings.model_copy(update={"reranker_model": tmp_path / "missing"})
    with pytest.raises(RerankerConfigError):
        build_reranker(bad, embedder)


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised one-layer BERT cross-encoder, built locally (nothing downloaded).

    Its scores are meaningless; it exercises the real sentence-transformers loading and scoring path.
    """
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from carecite.retrieval.embedder import default_model_path

    out = tmp_path_factory.mktemp("tiny-ce")
    tok = AutoTokenizer.from_pretrained(str(default_model_path()), local_files_only=True)
    cfg = BertConfig(
        vocab_size=tok.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=1,
    )
    BertForSequenceClassification(cfg).save_pretrained(str(out))
    tok.save_pretrained(str(out))
    return out


def test_local_cross_encoder_scores_are_sigmoid_probabilities_sorted(
    tiny_cross_encoder: Path, settings: Settings, embedder: Embedder
) -> None:
    reranker = build_reranker(settings.model_copy(update={"reranker_model": tiny_cross_encoder}), embedder)
    assert isinstance(reranker, CrossEncoderReranker)
    ranked = reranker.rerank("cardiology follow-up", CLINICAL)
    scores = [c.score for c in ranked]
    assert all(0.0 < s < 1.0 for s in scores)
    assert scores == sorted(scores, reverse=True)
    logits = reranker.logits("cardiology follow-up", CLINICAL)
    assert sorted(sigmoid(logits).tolist(), reverse=True) == pytest.approx(scores)


def test_real_local_cross_encoder_ranks_the_relevant_passage_first(embedder: Embedder) -> None:
    model_dir = os.environ.get("CARECITE_RERANKER_MODEL")
    if not model_dir or not Path(model_dir).is_dir():
        pytest.skip(
            "no local cross-encoder on this machine (none ships in a PyPI package); "
            "set CARECITE_RERANKER_MODEL to a local sentence-transformers CrossEncoder directory"
        )
    ranked = CrossEncoderReranker(Path(model_dir)).rerank(
        "What did cardiology recommend at discharge?", CLINICAL
    )
    assert ranked[0].source_id == "cardio"


def test_the_reranker_reads_a_table_row_with_its_column_headers() -> None:
    text = (
        "ALLERGIES:\n| Substance | Reaction | Status |\n|---|---|---|\n"
        "| Penicillin | hives with facial swelling | active |\n\nAvoid all penicillins in the future."
    )
    sentences = split_sentences(text)
    assert "Penicillin — reaction: hives with facial swelling — status: active" in sentences
    assert not any("| Penicillin |" in s for s in sentences)
