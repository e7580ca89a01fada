"""Information-retrieval metrics over a ranked list of ids and a relevance dict.

Generic: ids are strings (chunk ids, record refs, BEIR doc ids); relevance maps id → graded gain
(0 or absent = not relevant). Definitions follow trec_eval / BEIR so our SciFact figures are
comparable with published ones: nDCG uses linear gain rel / log2(rank + 1), the ideal ranking is
all judged-relevant ids sorted by gain, and a query with no relevant ids scores 0 for every metric
(the aggregate helpers skip such queries by default, as trec_eval does with unjudged queries).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

Relevance = Mapping[str, float]


def _dedupe(ranked: Sequence[str]) -> list[str]:
    """A retriever that repeats an id must not be credited twice."""
    seen: set[str] = set()
    out: list[str] = []
    for doc_id in ranked:
        if doc_id not in seen:
            seen.add(doc_id)
            out.append(doc_id)
    return out


def _relevant(relevance: Relevance) -> set[str]:
    return {doc_id for doc_id, gain in relevance.items() if gain > 0}


def hit_at_k(ranked: Sequence[str], relevance: Relevance, k: int) -> float:
    """1.0 if any relevant id is in the top k, else 0.0."""
    rel = _relevant(relevance)
    return 1.0 if any(doc_id in rel for doc_id in _dedupe(ranked)[:k]) else 0.0


def recall_at_k(ranked: Sequence[str], relevance: Relevance, k: int) -> float:
    """Fraction of the relevant ids found in the top k (0.0 when nothing is relevant)."""
    rel = _relevant(relevance)
    if not rel:
        return 0.0
    return sum(1 for doc_id in _dedupe(ranked)[:k] if doc_id in rel) / len(rel)


def precision_at_k(ranked: Sequence[str], relevance: Relevance, k: int) -> float:
    rel = _relevant(relevance)
    if k <= 0:
        return 0.0
    return sum(1 for doc_id in _dedupe(ranked)[:k] if doc_id in rel) / k


def reciprocal_rank(ranked: Sequence[str], relevance: Relevance, k: int | None = None) -> float:
    """1 / rank of the first relevant id (within the top k when given), else 0.0."""
    rel = _relevant(relevance)
    top = _dedupe(ranked) if k is None else _dedupe(ranked)[:k]
    for rank, doc_id in enumerate(top, start=1):
        if doc_id in rel:
            return 1.0 / rank
    return 0.0


def dcg_at_k(gains: Sequence[float], k: int) -> float:
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains[:k]))


def ndcg_at_k(ranked: Sequence[str], relevance: Relevance, k: int = 10) -> float:
    """Normalised discounted cumulative gain with graded relevance (linear gain)."""
    ideal = sorted((g for g in relevance.values() if g > 0), reverse=True)
    idcg = dcg_at_k(ideal, k)
    if idcg == 0.0:
        return 0.0
    gains = [max(float(relevance.get(doc_id, 0.0)), 0.0) for doc_id in _dedupe(ranked)]
    return dcg_at_k(gains, k) / idcg


Metric = Callable[[Sequence[str], Relevance], float]


def mean_metric(
    runs: Mapping[str, Sequence[str]],
    qrels: Mapping[str, Relevance],
    metric: Metric,
    *,
    skip_unjudged: bool = True,
) -> float:
    """Mean of ``metric`` over the queries in ``qrels``.

    A query in qrels that the run lacks counts as an empty ranking (scores 0). With
    ``skip_unjudged`` (default), queries with no relevant id are left out of the mean.
    """
    values: list[float] = []
    for qid, rel in qrels.items():
        if skip_unjudged and not _relevant(rel):
            continue
        values.append(metric(runs.get(qid, ()), rel))
    return sum(values) / len(values) if values else 0.0


def evaluate_run(
    runs: Mapping[str, Sequence[str]],
    qrels: Mapping[str, Relevance],
    *,
    ks: Sequence[int] = (1, 3, 5, 10),
    recall_ks: Sequence[int] = (10, 100),
) -> dict[str, float]:
    """The standard report: nDCG@10, MRR@10, hit@k, recall@k as a flat dict of means."""
    report: dict[str, float] = {
        "ndcg@10": mean_metric(runs, qrels, lambda r, q: ndcg_at_k(r, q, 10)),
        "mrr@10": mean_metric(runs, qrels, lambda r, q: reciprocal_rank(r, q, 10)),
    }
    for k in ks:
        report[f"hit@{k}"] = mean_metric(runs, qrels, lambda r, q, k=k: hit_at_k(r, q, k))  # type: ignore[misc]
    for k in recall_ks:
        report[f"recall@{k}"] = mean_metric(runs, qrels, lambda r, q, k=k: recall_at_k(r, q, k))  # type: ignore[misc]
    return report
