from __future__ import annotations

import math

import pytest

from carecite.evaluation.metrics import (
    evaluate_run,
    hit_at_k,
    mean_metric,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    reciprocal_rank,
)


def test_ndcg_with_graded_relevance_matches_hand_computation() -> None:
    ranked = ["d1", "d2", "d3", "d4"]
    rel = {"d1": 1, "d3": 2, "d9": 1}
    dcg = 1 / math.log2(2) + 2 / math.log2(4)
    idcg = 2 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(ranked, rel, 10) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(["d3", "d1", "d9"], rel, 10) == pytest.approx(1.0)


def test_ndcg_cutoff_ignores_hits_below_k() -> None:
    rel = {"x": 1}
    assert ndcg_at_k(["a", "b", "x"], rel, 2) == 0.0
    assert ndcg_at_k(["a", "b", "x"], rel, 3) == pytest.approx(1 / math.log2(4))


def test_mrr_hit_recall_precision() -> None:
    ranked = ["a", "b", "c", "d", "e"]
    rel = {"c": 1, "e": 1, "z": 1}
    assert reciprocal_rank(ranked, rel) == pytest.approx(1 / 3)
    assert reciprocal_rank(ranked, rel, k=2) == 0.0
    assert hit_at_k(ranked, rel, 2) == 0.0
    assert hit_at_k(ranked, rel, 3) == 1.0
    assert recall_at_k(ranked, rel, 5) == pytest.approx(2 / 3)
    assert recall_at_k(ranked, rel, 3) == pytest.approx(1 / 3)
    assert precision_at_k(ranked, rel, 5) == pytest.approx(2 / 5)


def test_zero_gain_entries_are_not_relevant() -> None:
    rel = {"a": 0, "b": 1}
    assert hit_at_k(["a"], rel, 1) == 0.0
    assert recall_at_k(["a", "b"], rel, 2) == 1.0


def test_no_relevant_docs_scores_zero_and_is_skipped_in_means() -> None:
    assert ndcg_at_k(["a"], {}, 10) == 0.0
    assert recall_at_k(["a"], {}, 10) == 0.0
    assert reciprocal_rank(["a"], {"a": 0}) == 0.0
    qrels = {"q1": {"a": 1}, "q2": {}}
    runs = {"q1": ["a"], "q2": ["b"]}
    assert mean_metric(runs, qrels, lambda r, q: hit_at_k(r, q, 1)) == 1.0
    assert mean_metric(runs, qrels, lambda r, q: hit_at_k(r, q, 1), skip_unjudged=False) == 0.5


def test_duplicates_in_a_ranking_are_not_double_counted() -> None:
    # Repeats are dropped before the cut-off, as trec_eval does with a run's duplicate doc ids.
    assert recall_at_k(["a", "a", "c"], {"a": 1, "b": 1}, 3) == 0.5
    assert recall_at_k(["a", "a", "b"], {"a": 1, "b": 1}, 2) == 1.0
    assert ndcg_at_k(["a", "a"], {"a": 1, "b": 1}, 2) == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_missing_query_in_run_counts_as_empty_and_empty_inputs() -> None:
    report = evaluate_run({"q1": ["a"]}, {"q1": {"a": 1}, "q2": {"b": 1}})
    assert report["hit@1"] == 0.5
    assert report["ndcg@10"] == 0.5
    assert report["mrr@10"] == 0.5
    assert report["recall@100"] == 0.5
    assert evaluate_run({}, {})["ndcg@10"] == 0.0
