"""Reciprocal rank fusion (Cormack et al., SIGIR 2009): merge ranked lists by rank, not by score.

Scores from dense, lexical and structured retrievers live on incomparable scales; ranks do not.
A source found by several retrievers accumulates evidence, so it rises.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from carecite.domain import Candidate, RetrieverName


@dataclass
class _Acc:
    score: float
    best_rank: int  # best (smallest) 1-based rank seen in any list
    best_list: int  # index of the list that gave that rank (earlier list wins a tie)
    candidate: Candidate
    retrievers: list[RetrieverName] = field(default_factory=list)


def reciprocal_rank_fusion(ranked_lists: Sequence[Sequence[Candidate]], k: int = 60) -> list[Candidate]:
    """Merge by ``source_id``; score = Σ 1/(k + rank), rank counted from 1 in each list.

    The returned candidate is the object from the list where it ranked best (its text and metadata
    are that retriever's), with ``score`` set to the fused score and ``fused_from`` naming every
    retriever that found it, in the order of ``ranked_lists``. A duplicate id inside one list counts
    once, at its best rank. Ties on score break deterministically: best single rank, then list
    order, then ``source_id``.
    """
    if k < 0:
        raise ValueError(f"rrf k must be >= 0, got {k}")
    acc: dict[str, _Acc] = {}
    for li, ranked in enumerate(ranked_lists):
        seen: set[str] = set()
        for rank, cand in enumerate(ranked, start=1):
            sid = cand.source_id
            if sid in seen:
                continue
            seen.add(sid)
            contribution = 1.0 / (k + rank)
            a = acc.get(sid)
            if a is None:
                acc[sid] = _Acc(contribution, rank, li, cand, [cand.retriever])
                continue
            a.score += contribution
            if cand.retriever not in a.retrievers:
                a.retrievers.append(cand.retriever)
            if rank < a.best_rank:
                a.best_rank, a.best_list, a.candidate = rank, li, cand
    ordered = sorted(acc.items(), key=lambda kv: (-kv[1].score, kv[1].best_rank, kv[1].best_list, kv[0]))
    return [
        a.candidate.model_copy(update={"score": a.score, "fused_from": tuple(a.retrievers)})
        for _, a in ordered
    ]
