"""SciFact nDCG@10 through each VectorIndex and LexicalIndex implementation, so a store swap cannot
silently lose retrieval quality (``carecite bench stores``).

The corpus goes in as patient-less chunks (``source_type="policy"``: public text, no PHI), exactly
how coverage policies travel, so the query path measured is the one policies use — the HNSW path in
pgvector. Documents are embedded once and the same vectors go into every vector store: differences
are the store's (ANN recall, ranking function), not the model's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from carecite.domain import Chunk, RetrievalFilter
from carecite.evaluation.beir import BeirDataset
from carecite.evaluation.metrics import ndcg_at_k
from carecite.ports import Embedder, LexicalIndex, Vector, VectorIndex

POLICIES_ONLY = RetrievalFilter(patient_key="", allowed_labels=frozenset(), include_policies=True)


@dataclass(frozen=True)
class StoreQuality:
    port: str  # "vector" | "lexical"
    store: str
    ndcg_at_10: float
    queries: int


def corpus_chunks(dataset: BeirDataset) -> list[Chunk]:
    out = []
    for doc_id in dataset.corpus_ids:
        text = dataset.corpus[doc_id].full_text
        out.append(
            Chunk(
                chunk_id=f"beir_{doc_id}",
                source_type="policy",
                source_ref=f"BEIR/{doc_id}",
                doc_id=f"BEIR/{doc_id}",
                patient_key=None,
                facility=None,
                note_type="BEIR",
                note_type_code=None,
                start=0,
                end=len(text),
                text=text,
                index_text=text,
            )
        )
    return out


def _mean_ndcg(dataset: BeirDataset, search: Callable[[str], Sequence[str]]) -> float:
    scores = []
    for qid, relevance in dataset.qrels.items():
        ranked = [source_id.removeprefix("beir_") for source_id in search(dataset.queries[qid])]
        scores.append(ndcg_at_k(ranked, relevance, 10))
    return sum(scores) / len(scores) if scores else 0.0


def vector_quality(
    dataset: BeirDataset, embedder: Embedder, doc_vectors: Vector, stores: dict[str, VectorIndex]
) -> list[StoreQuality]:
    chunks = corpus_chunks(dataset)
    qvecs = {qid: embedder.embed_query(dataset.queries[qid]) for qid in dataset.qrels}
    by_text = {dataset.queries[qid]: v for qid, v in qvecs.items()}
    out = []
    for name, index in stores.items():
        index.upsert(chunks, doc_vectors)

        def search(q: str, index: VectorIndex = index) -> list[str]:
            return [c.source_id for c in index.query(by_text[q], POLICIES_ONLY, 10)]

        score = _mean_ndcg(dataset, search)
        out.append(StoreQuality("vector", name, round(score, 4), len(dataset.qrels)))
    return out


def lexical_quality(dataset: BeirDataset, stores: dict[str, LexicalIndex]) -> list[StoreQuality]:
    chunks = corpus_chunks(dataset)
    out = []
    for name, index in stores.items():
        index.rebuild(chunks)

        def search(q: str, index: LexicalIndex = index) -> list[str]:
            return [c.source_id for c in index.query(q, POLICIES_ONLY, 10)]

        score = _mean_ndcg(dataset, search)
        out.append(StoreQuality("lexical", name, round(score, 4), len(dataset.qrels)))
    return out


def embed_corpus(
    dataset: BeirDataset, embedder: Embedder, cache: Path | None, *, quiet: bool = False
) -> Vector:
    """The abstracts' vectors only (no sentence vectors), in beir.py's on-disk cache layout."""
    from carecite.evaluation.beir import Progress, _cached_or_embed, _corpus_fingerprint

    texts = [dataset.corpus[i].full_text for i in dataset.corpus_ids]
    folder = (
        cache / f"beir-{dataset.path.name}-{_corpus_fingerprint(dataset.path, embedder)}" if cache else None
    )
    return _cached_or_embed(embedder, texts, folder, "docs", "embedding abstracts", Progress(quiet))
