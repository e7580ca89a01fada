"""BEIR SciFact benchmark: dense, BM25, RRF-fused and fused + re-ranked retrieval in one run.

Fusion and re-ranking are exactly the production code (``retrieval.fusion``, ``retrieval.rerank``);
the two first-stage retrievers are built directly on the embedder + a numpy matrix and on bm25s,
because the production adapters filter by patient and a public corpus has none.

Published reference figures (nDCG@10 on the SciFact test split): BM25 0.665 (BEIR paper),
all-MiniLM-L6-v2 0.645 (sentence-transformers / MTEB), BM25 + MiniLM-L6 cross-encoder 0.688.

Corpus, passage and sentence embeddings are cached under ``<data_dir>/cache/beir-<fingerprint>``
(the fingerprint covers the embedder, the corpus file and the sentence splitter), so only the
first run pays the ~minutes of embedding on a small CPU.
"""

from __future__ import annotations

import csv
import hashlib
import json
import resource
import statistics
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from carecite.domain import Candidate
from carecite.evaluation.metrics import evaluate_run
from carecite.ports import Embedder, Reranker, Vector
from carecite.retrieval.fusion import reciprocal_rank_fusion
from carecite.retrieval.rerank import (
    FEATURE_NAMES,
    EvidenceReranker,
    EvidenceWeights,
    VectorCache,
    sigmoid,
    split_sentences,
)

PUBLISHED_NDCG10: dict[str, float] = {
    "bm25": 0.665,  # BEIR (Thakur et al., 2021), Elasticsearch BM25
    "dense": 0.645,  # all-MiniLM-L6-v2, sentence-transformers / MTEB
    "rerank": 0.688,  # BEIR: BM25 top-100 + cross-encoder ms-marco-MiniLM-L-6-v2
}
PUBLISHED_RECALL100: dict[str, float] = {"bm25": 0.908}  # BEIR paper, Table (BM25 R@100)
TARGET_RERANK_NDCG10 = 0.72


class BeirFormatError(ValueError):
    """The BEIR folder is missing a file or a line does not parse; names the file and line."""


# --------------------------------------------------------------------------- data
@dataclass(frozen=True)
class BeirDoc:
    doc_id: str
    title: str
    text: str

    @property
    def full_text(self) -> str:
        # Title as its own paragraph: the sentence splitter then scores it as a sentence.
        return f"{self.title}\n\n{self.text}" if self.title else self.text


@dataclass
class BeirDataset:
    corpus: dict[str, BeirDoc]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]  # only the queries of the chosen split
    split: str
    path: Path

    @property
    def corpus_ids(self) -> list[str]:
        return list(self.corpus)


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    if not path.is_file():
        raise BeirFormatError(f"missing {path.name} in {path.parent}")
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BeirFormatError(f"{path.name}:{lineno}: not JSON ({exc.msg})") from exc
            if not isinstance(obj, dict) or "_id" not in obj:
                raise BeirFormatError(f"{path.name}:{lineno}: expected an object with an _id")
            yield lineno, obj


def load_qrels(path: Path) -> dict[str, dict[str, int]]:
    """BEIR qrels TSV (``query-id  corpus-id  score`` with a header) → {qid: {doc_id: gain}}."""
    if not path.is_file():
        raise BeirFormatError(f"missing qrels file {path}")
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t")
        for lineno, row in enumerate(reader, start=1):
            if not row or (lineno == 1 and row[0] == "query-id"):
                continue
            if len(row) != 3:
                raise BeirFormatError(f"{path.name}:{lineno}: expected 3 tab-separated columns")
            try:
                gain = int(row[2])
            except ValueError as exc:
                raise BeirFormatError(f"{path.name}:{lineno}: score {row[2]!r} is not an integer") from exc
            qrels.setdefault(row[0], {})[row[1]] = gain
    return qrels


def load_beir(path: Path, split: str = "test") -> BeirDataset:
    """Load a BEIR folder (corpus.jsonl, queries.jsonl, qrels/<split>.tsv); queries limited to the split."""
    path = Path(path)
    if not path.is_dir():
        raise BeirFormatError(f"BEIR folder not found: {path}")
    qrels = load_qrels(path / "qrels" / f"{split}.tsv")
    corpus = {
        str(o["_id"]): BeirDoc(str(o["_id"]), str(o.get("title") or ""), str(o.get("text") or ""))
        for _, o in _read_jsonl(path / "corpus.jsonl")
    }
    all_queries = {str(o["_id"]): str(o.get("text") or "") for _, o in _read_jsonl(path / "queries.jsonl")}
    missing = [q for q in qrels if q not in all_queries]
    if missing:
        raise BeirFormatError(f"qrels/{split}.tsv names {len(missing)} unknown queries, e.g. {missing[0]}")
    queries = {q: all_queries[q] for q in qrels}
    return BeirDataset(corpus=corpus, queries=queries, qrels=qrels, split=split, path=path)


# --------------------------------------------------------------------------- progress
class Progress:
    """Rich progress bars, or nothing when quiet (tests, --json)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    @contextmanager
    def track(self, description: str, total: int) -> Iterator[Callable[[int], None]]:
        if self.quiet:
            yield lambda _n: None
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RichProgress

        with RichProgress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as bar:
            task = bar.add_task(description, total=total)
            yield lambda n: bar.advance(task, n)


# --------------------------------------------------------------------------- corpus index
def _corpus_fingerprint(path: Path, embedder: Embedder) -> str:
    h = hashlib.sha256()
    h.update(embedder.fingerprint.encode())
    h.update((path / "corpus.jsonl").read_bytes())
    # The splitter's behaviour is part of the cached sentence vectors.
    h.update(repr(split_sentences("A b c d. E f g h; I j k l.\n\nTitle x y z")).encode())
    return h.hexdigest()[:16]


@dataclass
class CorpusIndex:
    """Doc vectors, sentence vectors and a bm25s index for one BEIR corpus."""

    ids: list[str]
    texts: list[str]
    doc_vectors: Vector
    sentences: list[str]
    sentence_vectors: Vector
    bm25: Any
    embed_seconds: float  # 0 when loaded from cache
    from_cache: bool

    def prime(self, cache: VectorCache) -> None:
        """Hand the precomputed vectors to a re-ranker's cache: it then never re-embeds corpus text."""
        cache.put_many(self.texts, self.doc_vectors)
        cache.put_many(self.sentences, self.sentence_vectors)


def _tokenize_bm25(texts: Sequence[str]) -> Any:
    import bm25s

    return bm25s.tokenize(list(texts), stopwords="en", show_progress=False)


def build_corpus_index(
    dataset: BeirDataset,
    embedder: Embedder,
    cache_dir: Path | None,
    progress: Progress,
    *,
    embed: bool = True,
) -> CorpusIndex:
    """BM25 always; doc and sentence vectors from the cache, else embedded (skipped when ``embed`` is False)."""
    import bm25s

    ids = dataset.corpus_ids
    texts = [dataset.corpus[i].full_text for i in ids]
    bm25 = bm25s.BM25()
    bm25.index(_tokenize_bm25(texts), show_progress=False)
    if not embed:
        empty = np.zeros((0, embedder.dim), dtype=np.float32)
        return CorpusIndex(ids, texts, empty, [], empty, bm25, 0.0, False)
    sentences = sorted({s for t in texts for s in split_sentences(t)})
    cached = None
    if cache_dir is not None:
        cache_dir = cache_dir / f"beir-{dataset.path.name}-{_corpus_fingerprint(dataset.path, embedder)}"
        files = (cache_dir / "docs.npy", cache_dir / "sentences.npy")
        if all(f.is_file() for f in files):
            docs, sents = (np.load(f) for f in files)
            if docs.shape[0] == len(texts) and sents.shape[0] == len(sentences):
                cached = (docs, sents)
    t0 = time.perf_counter()
    if cached is None:
        doc_vecs = _cached_or_embed(embedder, texts, cache_dir, "docs", "embedding abstracts", progress)
        sent_vecs = _cached_or_embed(
            embedder, sentences, cache_dir, "sentences", "embedding sentences", progress
        )
        embed_s = time.perf_counter() - t0
    else:
        doc_vecs, sent_vecs = cached
        embed_s = 0.0
    return CorpusIndex(ids, texts, doc_vecs, sentences, sent_vecs, bm25, embed_s, cached is not None)


def _cached_or_embed(
    embedder: Embedder,
    texts: Sequence[str],
    cache_dir: Path | None,
    name: str,
    label: str,
    progress: Progress,
) -> Vector:
    """Each array is saved as soon as it exists, so an interrupted first run keeps what it finished."""
    path = cache_dir / f"{name}.npy" if cache_dir is not None else None
    if path is not None and path.is_file():
        vecs = np.load(path)
        if vecs.shape[0] == len(texts):
            return np.asarray(vecs, dtype=np.float32)
    vecs = _embed_batched(embedder, texts, label, progress)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, vecs)
    return vecs


def _embed_batched(embedder: Embedder, texts: Sequence[str], label: str, progress: Progress) -> Vector:
    out: list[Vector] = []
    step = 256
    with progress.track(label, len(texts)) as advance:
        for i in range(0, len(texts), step):
            batch = texts[i : i + step]
            out.append(embedder.embed_documents(batch))
            advance(len(batch))
    return np.concatenate(out) if out else np.zeros((0, embedder.dim), dtype=np.float32)


# --------------------------------------------------------------------------- retrieval
def _candidate(index: CorpusIndex, row: int, score: float, retriever: Any) -> Candidate:
    # A public abstract has no patient: it travels like a policy chunk (patient_key None).
    return Candidate(
        source_id=index.ids[row],
        source_type="policy",
        source_ref=f"BEIR/{index.ids[row]}",
        patient_key=None,
        text=index.texts[row],
        score=float(score),
        retriever=retriever,
    )


def dense_search(index: CorpusIndex, embedder: Embedder, query: str, k: int) -> list[Candidate]:
    q = embedder.embed_query(query)
    scores = index.doc_vectors @ q
    top = np.argpartition(-scores, min(k, len(scores) - 1))[:k]
    top = top[np.lexsort((top, -scores[top]))]
    return [_candidate(index, int(r), float(scores[r]), "dense") for r in top]


def bm25_search(index: CorpusIndex, query: str, k: int) -> list[Candidate]:
    tokens = _tokenize_bm25([query])
    if not tokens.vocab:
        return []
    rows, scores = index.bm25.retrieve(tokens, k=min(k, len(index.ids)), show_progress=False)
    return [
        _candidate(index, int(r), float(s), "lexical")
        for r, s in zip(rows[0], scores[0], strict=True)
        if s > 0
    ]


@dataclass
class QueryResult:
    dense: list[Candidate]
    lexical: list[Candidate]
    fused: list[Candidate]
    reranked: list[Candidate] = field(default_factory=list)


# --------------------------------------------------------------------------- benchmark
@dataclass
class StageTimes:
    ms: dict[str, list[float]] = field(default_factory=dict)

    @contextmanager
    def time(self, stage: str) -> Iterator[None]:
        t0 = time.perf_counter()
        yield
        self.ms.setdefault(stage, []).append((time.perf_counter() - t0) * 1000.0)

    def summary(self) -> dict[str, dict[str, float]]:
        return {stage: _percentiles(v) for stage, v in self.ms.items()}


def _percentiles(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p95": 0.0}
    s = sorted(values)
    p95 = s[min(len(s) - 1, round(0.95 * (len(s) - 1)))]
    return {"p50": round(statistics.median(s), 2), "p95": round(p95, 2)}


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)  # Linux: KiB


def run_queries(
    dataset: BeirDataset,
    index: CorpusIndex,
    embedder: Embedder,
    reranker: Reranker | None,
    *,
    depth: int = 100,
    rrf_k: int = 60,
    progress: Progress,
    times: StageTimes | None = None,
    label: str = "queries",
) -> dict[str, QueryResult]:
    times = times or StageTimes()
    results: dict[str, QueryResult] = {}
    with progress.track(label, len(dataset.queries)) as advance:
        for qid, query in dataset.queries.items():
            with times.time("dense"):
                dense = dense_search(index, embedder, query, depth)
            with times.time("bm25"):
                lexical = bm25_search(index, query, depth)
            with times.time("fuse"):
                fused = reciprocal_rank_fusion([dense, lexical], k=rrf_k)[:depth]
            result = QueryResult(dense, lexical, fused)
            if reranker is not None:
                with times.time("rerank"):
                    result.reranked = reranker.rerank(query, fused)
            results[qid] = result
            advance(1)
    return results


@dataclass
class BenchReport:
    dataset: str
    split: str
    n_queries: int
    n_docs: int
    reranker: str
    depth: int
    systems: dict[str, dict[str, float]]
    timings_ms: dict[str, dict[str, float]]
    corpus_embed_s: float
    corpus_from_cache: bool
    cold_rerank20_ms: dict[str, float]
    calibration: dict[str, float]
    peak_rss_mb: float

    def to_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "split": self.split,
            "n_queries": self.n_queries,
            "n_docs": self.n_docs,
            "reranker": self.reranker,
            "rerank_depth": self.depth,
            "systems": self.systems,
            "published_ndcg@10": PUBLISHED_NDCG10,
            "target_rerank_ndcg@10": TARGET_RERANK_NDCG10,
            "timings_ms": self.timings_ms,
            "corpus_embed_s": round(self.corpus_embed_s, 1),
            "corpus_from_cache": self.corpus_from_cache,
            "cold_rerank20_ms": self.cold_rerank20_ms,
            "calibration": self.calibration,
            "peak_rss_mb": self.peak_rss_mb,
        }


def calibration_report(
    results: Mapping[str, QueryResult], qrels: Mapping[str, Mapping[str, int]], bins: int = 10
) -> dict[str, float]:
    """Expected calibration error and Brier score of the re-ranker's probabilities (all re-ranked pairs)."""
    probs: list[float] = []
    labels: list[float] = []
    for qid, res in results.items():
        rel = qrels.get(qid, {})
        for c in res.reranked:
            probs.append(c.score)
            labels.append(1.0 if rel.get(c.source_id, 0) > 0 else 0.0)
    if not probs:
        return {}
    p, y = np.asarray(probs), np.asarray(labels)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    ece = sum(
        abs(float(p[which == b].mean()) - float(y[which == b].mean())) * float((which == b).mean())
        for b in range(bins)
        if (which == b).any()
    )
    top1 = [res.reranked[0] for res in results.values() if res.reranked]
    top1_hits = [
        1.0 if qrels.get(q, {}).get(r.reranked[0].source_id, 0) > 0 else 0.0
        for q, r in results.items()
        if r.reranked
    ]
    return {
        "ece": round(ece, 4),
        "brier": round(float(((p - y) ** 2).mean()), 5),
        "top1_mean_prob": round(float(np.mean([c.score for c in top1])), 4),
        "top1_precision": round(float(np.mean(top1_hits)), 4),
    }


def cold_rerank_latency(
    dataset: BeirDataset,
    results: Mapping[str, QueryResult],
    embedder: Embedder,
    n_queries: int = 10,
    n_candidates: int = 20,
) -> dict[str, float]:
    """p50/p95 of re-ranking ``n_candidates`` with an EMPTY sentence cache: the production worst case."""
    times: list[float] = []
    for qid in list(results)[:n_queries]:
        fresh = EvidenceReranker(embedder)
        cands = results[qid].fused[:n_candidates]
        t0 = time.perf_counter()
        fresh.rerank(dataset.queries[qid], cands)
        times.append((time.perf_counter() - t0) * 1000.0)
    return _percentiles(times)


def run_benchmark(
    path: Path,
    embedder: Embedder,
    reranker: Reranker,
    *,
    cache_dir: Path | None,
    split: str = "test",
    depth: int = 100,
    rrf_k: int = 60,
    limit: int | None = None,
    quiet: bool = False,
) -> BenchReport:
    """Dense, BM25, fused and fused + re-ranked on one split, in one run, with timings."""
    progress = Progress(quiet)
    dataset = load_beir(path, split)
    if limit is not None:
        dataset.queries = dict(list(dataset.queries.items())[:limit])
        dataset.qrels = {q: dataset.qrels[q] for q in dataset.queries}
    index = build_corpus_index(dataset, embedder, cache_dir, progress)
    if isinstance(reranker, EvidenceReranker):
        index.prime(reranker.cache)
    embedder.embed_query("warm-up")  # the first forward pass pays one-off setup; keep it out of p95
    times = StageTimes()
    results = run_queries(
        dataset, index, embedder, reranker, depth=depth, rrf_k=rrf_k, progress=progress, times=times
    )
    runs = {
        "dense": {q: [c.source_id for c in r.dense] for q, r in results.items()},
        "bm25": {q: [c.source_id for c in r.lexical] for q, r in results.items()},
        "fused": {q: [c.source_id for c in r.fused] for q, r in results.items()},
        "fused+rerank": {q: [c.source_id for c in r.reranked] for q, r in results.items()},
    }
    systems = {
        name: {k: round(v, 4) for k, v in evaluate_run(run, dataset.qrels).items()}
        for name, run in runs.items()
    }
    cold = cold_rerank_latency(dataset, results, embedder) if isinstance(reranker, EvidenceReranker) else {}
    return BenchReport(
        dataset=path.name,
        split=split,
        n_queries=len(dataset.queries),
        n_docs=len(dataset.corpus),
        reranker=reranker.name,
        depth=depth,
        systems=systems,
        timings_ms=times.summary(),
        corpus_embed_s=index.embed_seconds,
        corpus_from_cache=index.from_cache,
        cold_rerank20_ms=cold,
        calibration=calibration_report(results, dataset.qrels),
        peak_rss_mb=peak_rss_mb(),
    )


# --------------------------------------------------------------------------- fitting the re-ranker
def fit_logistic(
    x: NDArray[np.float64], y: NDArray[np.float64], l2: float = 1.0, iters: int = 100
) -> tuple[float, NDArray[np.float64]]:
    """L2-regularised logistic regression by Newton/IRLS (intercept not penalised)."""
    xb = np.column_stack([np.ones(len(x)), x])
    w = np.zeros(xb.shape[1])
    reg = np.full(xb.shape[1], l2)
    reg[0] = 0.0
    for _ in range(iters):
        p = sigmoid(xb @ w)
        grad = xb.T @ (p - y) + reg * w
        hess = xb.T @ (xb * (p * (1.0 - p))[:, None]) + np.diag(reg) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return float(w[0]), w[1:]


def fit_evidence_weights(
    path: Path,
    embedder: Embedder,
    *,
    cache_dir: Path | None,
    depth: int = 100,
    rrf_k: int = 60,
    l2: float = 1.0,
    limit: int | None = None,
    quiet: bool = False,
) -> EvidenceWeights:
    """Fit ``EVIDENCE_WEIGHTS`` on the TRAIN qrels (never test) and print them as a Python literal."""
    progress = Progress(quiet)
    dataset = load_beir(path, "train")
    if limit is not None:
        dataset.queries = dict(list(dataset.queries.items())[:limit])
        dataset.qrels = {q: dataset.qrels[q] for q in dataset.queries}
    index = build_corpus_index(dataset, embedder, cache_dir, progress)
    scorer = EvidenceReranker(embedder)
    index.prime(scorer.cache)
    results = run_queries(
        dataset, index, embedder, None, depth=depth, rrf_k=rrf_k, progress=progress, label="train queries"
    )
    rows: list[NDArray[np.float64]] = []
    labels: list[NDArray[np.float64]] = []
    for qid, res in results.items():
        rel = dataset.qrels[qid]
        rows.append(scorer.features(dataset.queries[qid], res.fused))
        labels.append(np.array([1.0 if rel.get(c.source_id, 0) > 0 else 0.0 for c in res.fused]))
    x, y = np.concatenate(rows), np.concatenate(labels)
    intercept, coef = fit_logistic(x, y, l2=l2)
    weights = EvidenceWeights(intercept=round(intercept, 4), coef=tuple(round(float(c), 4) for c in coef))
    if not quiet:
        print(f"# fitted on {len(results)} train queries, {len(y)} pairs, {int(y.sum())} relevant")
        print("EVIDENCE_WEIGHTS = EvidenceWeights(")
        print(f"    intercept={weights.intercept},")
        print("    coef=(")
        for name, c in zip(FEATURE_NAMES, weights.coef, strict=True):
            print(f"        {c},  # {name}")
        print("    ),")
        print(")")
    return weights


def main_fit() -> None:
    """Entry point used to produce the committed weights (see ``retrieval/rerank.py``)."""
    from carecite.retrieval.embedder import SentenceTransformerEmbedder
    from carecite.settings import Settings

    settings = Settings()
    fit_evidence_weights(
        settings.shared_data_dir / "beir_scifact",
        SentenceTransformerEmbedder(settings.embedding_model_path, settings.embedding_batch_size),
        cache_dir=settings.data_dir / "cache",
    )


def render_report(report: BenchReport) -> Any:
    """Rich renderables: metrics beside the published figures, then timings and resources."""
    from rich.console import Group, RenderableType
    from rich.table import Table

    metrics = Table(
        title=f"BEIR {report.dataset} ({report.split}, {report.n_queries} queries, {report.n_docs} docs)"
    )
    for col in ("system", "nDCG@10", "R@100", "MRR@10", "hit@1", "published"):
        metrics.add_column(col, justify="left" if col == "system" else "right")
    labels = {
        "dense": "dense (MiniLM-L6)",
        "bm25": "BM25 (bm25s)",
        "fused": "RRF fused",
        "fused+rerank": "fused + re-rank",
    }
    reference = {"dense": "0.645", "bm25": "0.665", "fused+rerank": "0.688 (BM25+CE)"}
    for name, m in report.systems.items():
        metrics.add_row(
            labels.get(name, name),
            f"{m['ndcg@10']:.3f}",
            f"{m['recall@100']:.3f}",
            f"{m['mrr@10']:.3f}",
            f"{m['hit@1']:.3f}",
            reference.get(name, "—"),
        )
    timing = Table(title="per-query latency (ms; 2 shared CPU cores, noisy)")
    timing.add_column("stage")
    timing.add_column("p50", justify="right")
    timing.add_column("p95", justify="right")
    for stage, pct in report.timings_ms.items():
        timing.add_row(stage, f"{pct['p50']:.1f}", f"{pct['p95']:.1f}")
    if report.cold_rerank20_ms:
        timing.add_row(
            "rerank 20, cold cache",
            f"{report.cold_rerank20_ms['p50']:.1f}",
            f"{report.cold_rerank20_ms['p95']:.1f}",
        )
    embed = "cached" if report.corpus_from_cache else f"{report.corpus_embed_s:.0f} s"
    lines: list[RenderableType] = [
        metrics,
        f"re-ranker {report.reranker} over the top {report.depth} fused; target nDCG@10 ≥ {TARGET_RERANK_NDCG10}",
        timing,
        f"corpus embedding (abstracts + sentences): {embed}; peak RSS {report.peak_rss_mb:.0f} MB",
    ]
    if report.calibration:
        c = report.calibration
        lines.append(
            f"re-ranker calibration: ECE {c['ece']:.3f}, Brier {c['brier']:.4f}, "
            f"top-1 mean P {c['top1_mean_prob']:.2f} vs top-1 precision {c['top1_precision']:.2f}"
        )
    return Group(*lines)
