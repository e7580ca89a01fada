"""``carecite bench query`` parts (b) and (c): the retrieval stages at a scale index (default 100k
chunks) against a naive baseline (embed + Chroma top-5, no filter, fusion or re-rank) on the same
collection. Embedding 100k chunks takes ~30 min on 2 cores, so the scale index is built from real
chunk texts (a generated world, SQL-ingested and chunked by the real chunker, replicated onto extra
index-only patients) with vectors that are real MiniLM embeddings of a sample, re-used with a small
normalised Gaussian perturbation. Every report says so (``vector_method``)."""

from __future__ import annotations

import json
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from carecite.domain import Chunk
from carecite.evaluation.bench.common import (
    RAW_ENCODE_BATCH,
    WARMUP_QUERIES,
    Distribution,
    PeakRss,
    progress_bar,
)
from carecite.ports import Embedder, Vector
from carecite.settings import Settings

if TYPE_CHECKING:
    from carecite.answering.pipeline import Pipeline
    from carecite.retrieval.vector_cache import VectorCache
    from carecite.stores import Stores

QUERY_STAGES = ("access", "embed_query", "dense", "lexical", "structured", "fusion", "rerank", "total")


# --------------------------------------------------------------------------- bench query: (b) scale index
@dataclass
class ScaleReport:
    chunks: int
    real_chunks: int  # chunked from the generated world by the real chunker
    base_patients: int  # patients in SQL (and queried)
    index_patients: int  # distinct patient keys in the indexes (base + index-only replicas)
    embedded_sample: int  # chunks given a real MiniLM embedding
    noise_sigma: float
    vector_method: str
    build_s: dict[str, float]
    queries: int
    stages: dict[str, Distribution]
    rerank_warm: Distribution  # the same re-rank again: sentence vectors now cached
    baseline: dict[str, Distribution]  # embed_query, chroma_top5, total
    peak_rss_mb: float
    samples: dict[str, list[float]] = field(default_factory=dict, repr=False)
    embedded_per_query: float = 0.0  # texts embedded per question (1.0: only the question itself)


def _sql_only_ingest(stores: Stores, world: Path, *, progress: bool) -> None:
    """``ingest_synthetic`` without the index sync: SQL rows (records, notes, chunks), users, as-of."""
    from carecite.access.users import import_users
    from carecite.ingest.fhir import IngestReport, ingest_file, iter_json_files, resolve_pending
    from carecite.records import session_scope
    from carecite.records.clock import AS_OF_KEY
    from carecite.records.tables import Meta

    report = IngestReport()
    files = sorted(iter_json_files([world / "fhir"], report), key=lambda p: p.name != "directory.json")
    with progress_bar(progress) as bar:
        task = bar.add_task("SQL ingest (no embedding)", total=len(files))
        for path in files:
            ingest_file(stores, path, report)
            bar.advance(task)
    if report.problems:
        raise RuntimeError(f"benchmark world failed to load: {report.problems[0]}")
    with session_scope(stores.engine) as session:
        resolve_pending(session, report)
        manifest = json.loads((world / "manifest.json").read_text(encoding="utf-8"))
        session.merge(Meta(key=AS_OF_KEY, value=str(manifest["as_of"])))
    import_users(stores.engine, world / "users.json")


def _sql_chunks(stores: Stores) -> list[Chunk]:
    from sqlmodel import col, select

    from carecite.ingest.indexing import row_to_chunk
    from carecite.records import session_scope
    from carecite.records import tables as t

    with session_scope(stores.engine) as s:
        rows = s.exec(select(t.ChunkRow).order_by(col(t.ChunkRow.chunk_id))).all()
        return [row_to_chunk(r) for r in rows]


def replicate_chunks(real: Sequence[Chunk], total: int) -> list[tuple[Chunk, int]]:
    """``total`` chunks: the real ones first, then copies moved onto index-only patients
    (``<key>~r<n>``) with their own ids. Returns (chunk, index into ``real`` it was copied from)."""
    if not real:
        raise ValueError("the benchmark world produced no chunks")
    out: list[tuple[Chunk, int]] = [(c, i) for i, c in enumerate(real[:total])]
    replica = 1
    while len(out) < total:
        for i, c in enumerate(real):
            if len(out) >= total:
                break
            suffix = f"~r{replica}"
            key = f"{c.patient_key}{suffix}" if c.patient_key else None
            copy = c.model_copy(
                update={
                    "chunk_id": f"{c.chunk_id}{suffix}",
                    "patient_key": key,
                    "doc_id": f"{c.doc_id}{suffix}",
                    "source_ref": f"{c.source_ref}{suffix}",
                }
            )
            out.append((copy, i))
        replica += 1
    return out


def perturbed_vectors(
    base: Vector, embedded: dict[int, int], sources: Sequence[int], *, sigma: float, seed: int
) -> Vector:
    """One unit vector per entry of ``sources`` (indexes into the real chunks).

    A source with its own real embedding (``embedded``: real index → row of ``base``) starts from
    it; any other from a random sampled row. Every vector except the real chunk's own first copy
    gets N(0, sigma²) noise per dimension, then is re-normalised (sigma 0.02 on 384 dims: cosine
    ≈ 0.93 to the vector it came from), so no two index entries are identical.
    """
    rng = np.random.default_rng(seed)
    rows = np.empty(len(sources), dtype=np.int64)
    exact = np.zeros(len(sources), dtype=bool)
    seen: set[int] = set()
    for j, src in enumerate(sources):
        row = embedded.get(src)
        if row is None:
            rows[j] = int(rng.integers(0, len(base)))
        else:
            rows[j] = row
            exact[j] = src not in seen
            seen.add(src)
    out = base[rows].astype(np.float32)
    noise = rng.normal(0.0, sigma, size=out.shape).astype(np.float32)
    out[~exact] += noise[~exact]
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


@dataclass(frozen=True)
class _Query:
    user_id: str
    patient_id: str
    question: str


def _queries(world: Path, count: int) -> list[_Query]:
    from carecite.synth.dataset import load_gold

    gold = [
        _Query(g["user_id"], g["patient_id"], g["question"])
        for g in load_gold(world / "gold.jsonl")
        if g.get("patient_id")
    ]
    if not gold:
        raise ValueError(f"no patient questions in {world / 'gold.jsonl'}")
    return [gold[i % len(gold)] for i in range(count)]


def stage_row(timings_ms: dict[str, float]) -> dict[str, float]:
    """The pipeline's own stage timings as the scale report's rows: access, the retrieval sub-stages
    (``retrieve.<part>``), re-rank, and the pipeline's total (up to its answer; no audit write)."""
    return {
        stage: float(timings_ms.get(f"retrieve.{stage}", timings_ms.get(stage, 0.0)))
        for stage in QUERY_STAGES
    }


def cold_cache(pipeline: Pipeline) -> VectorCache:
    """Give ``pipeline`` what a freshly started process has: an empty shared vector cache, nothing
    loaded from the source-vector store yet. Returns the new cache (it counts what gets embedded)."""
    from carecite.retrieval.rerank import EvidenceReranker
    from carecite.retrieval.vector_cache import reset_shared_caches, shared_cache

    reset_shared_caches()
    cache = shared_cache(pipeline.stores.embedder)
    store = pipeline.stores.source_vectors
    store.cache = cache
    store.forget()
    if isinstance(pipeline.reranker, EvidenceReranker):
        pipeline.reranker.cache = cache
    return cache


def bench_scale(
    *,
    chunks: int,
    queries: int,
    patients: int,
    sample: int,
    seed: int,
    embedder: Embedder,
    work_dir: Path,
    sigma: float = 0.02,
    warmup: int = WARMUP_QUERIES,
    progress: bool = True,
) -> ScaleReport:
    """Build the scale index (see module docstring) and time the retrieval stages vs the baseline."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from sqlmodel import Session

    from carecite.answering.pipeline import AskRequest
    from carecite.answering.query_texts import chunk_items
    from carecite.ingest.indexing import ingest_cache, sync_record_vectors
    from carecite.records import tables as t
    from carecite.retrieval.dense import COLLECTION, CarecitEmbeddingFunction, ChromaVectorIndex
    from carecite.retrieval.lexical import Bm25Index
    from carecite.stores import Stores
    from carecite.synth.dataset import generate
    from carecite.wiring import build_pipeline

    build: dict[str, float] = {}
    world = work_dir / "scale-world"
    settings = Settings(data_dir=work_dir / "scale-data")
    stores = Stores(settings, embedder=embedder)
    with PeakRss() as rss:
        t0 = time.perf_counter()
        generate(patients, seed, world, gold=True, progress=progress)
        build["generate"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        _sql_only_ingest(stores, world, progress=progress)
        real = _sql_chunks(stores)
        build["sql_ingest"] = time.perf_counter() - t0

        asked = _queries(world, queries + warmup)
        with Session(stores.engine) as session:
            keys = {p.patient_key for q in asked if (p := session.get(t.Patient, q.patient_id)) is not None}
        # Embed for real: every chunk of a queried patient, then a random sample up to ``sample``.
        must = [i for i, c in enumerate(real) if c.patient_key in keys]
        rest = [i for i in range(len(real)) if real[i].patient_key not in keys]
        random.Random(seed).shuffle(rest)
        chosen = must + rest[: max(0, sample - len(must))]
        texts = [real[i].index_text for i in chosen]
        t0 = time.perf_counter()
        base = np.zeros((0, embedder.dim), dtype=np.float32)
        step = RAW_ENCODE_BATCH * 8
        parts: list[Vector] = []
        with progress_bar(progress) as bar:
            task = bar.add_task("MiniLM sample embeddings", total=len(texts))
            for i in range(0, len(texts), step):
                parts.append(embedder.embed_documents(texts[i : i + step]))
                bar.advance(task, len(texts[i : i + step]))
        base = np.vstack(parts) if parts else base
        build["embed_sample"] = time.perf_counter() - t0

        # What ingest stores for the queried patients: their chunks' sentence vectors and their
        # record statements' vectors (the index-only replicas are never candidates: other patients).
        t0 = time.perf_counter()
        items = chunk_items([real[i] for i in must])
        store = stores.source_vectors
        once = ingest_cache(embedder)
        store.write(items, once.vectors([x for item in items for x in item.texts]))
        sync_record_vectors(stores, progress=progress, only=sorted(keys), cache=once)
        build["source_vectors"] = time.perf_counter() - t0

        full = replicate_chunks(real, chunks)
        vectors = perturbed_vectors(
            base,
            {src: row for row, src in enumerate(chosen)},
            [src for _, src in full],
            sigma=sigma,
            seed=seed,
        )
        index_chunks = [c for c, _ in full]

        t0 = time.perf_counter()
        dense = ChromaVectorIndex.open(settings, embedder)
        upsert_step = 5000
        with progress_bar(progress) as bar:
            task = bar.add_task("Chroma upsert", total=len(index_chunks))
            for i in range(0, len(index_chunks), upsert_step):
                dense.upsert(index_chunks[i : i + upsert_step], vectors[i : i + upsert_step])
                bar.advance(task, len(index_chunks[i : i + upsert_step]))
        build["chroma_upsert"] = time.perf_counter() - t0
        del vectors

        t0 = time.perf_counter()
        lexical = Bm25Index.open(settings.bm25_path)
        lexical.rebuild(index_chunks)
        build["bm25_rebuild"] = time.perf_counter() - t0

        # The naive baseline reads the very same collection through Chroma's own API.
        client: Any = chromadb.PersistentClient(
            path=str(settings.chroma_path.resolve()), settings=ChromaSettings(anonymized_telemetry=False)
        )
        collection = client.get_collection(COLLECTION, embedding_function=CarecitEmbeddingFunction(embedder))
        # The pipeline itself, over these stores: its retrieval stages are what is timed, not a copy.
        stores.__dict__["lexical"] = lexical  # the index just rebuilt (same files)
        pipeline = build_pipeline(settings.model_copy(update={"drift_record_queries": False}), stores=stores)
        samples: dict[str, list[float]] = {k: [] for k in (*QUERY_STAGES, "rerank_warm")}
        embedded: list[int] = []
        base_samples: dict[str, list[float]] = {"embed_query": [], "chroma_top5": [], "total": []}

        def ms(t_start: float) -> float:
            return (time.perf_counter() - t_start) * 1000

        with progress_bar(progress) as bar:
            task = bar.add_task("queries: pipeline stages + baseline", total=len(asked))
            for n, q in enumerate(asked):
                record = n >= warmup
                # A cold process per question: an empty vector cache, nothing loaded from the store.
                cache = cold_cache(pipeline)
                req = AskRequest(question=q.question, user_id=q.user_id, patient_id=q.patient_id)
                result = pipeline.search(req)  # access → retrieve → re-rank → guard, audited
                if result.declined and result.decline_reason in ("access_denied", "out_of_scope"):
                    bar.advance(task)  # ended before retrieval: it would flatter every stage
                    continue
                row = stage_row(result.timings_ms)
                row["rerank_warm"] = pipeline.search(req).timings_ms.get("rerank", 0.0)  # same question, warm
                if record:
                    embedded.append(cache.embedded)

                t0 = time.perf_counter()
                bvec = embedder.embed_query(q.question)
                b_embed = ms(t0)
                t1 = time.perf_counter()
                collection.query(query_embeddings=[bvec], n_results=5, include=["metadatas", "distances"])
                b_query = ms(t1)
                if record:
                    for k, v in row.items():
                        samples[k].append(v)
                    base_samples["embed_query"].append(b_embed)
                    base_samples["chroma_top5"].append(b_query)
                    base_samples["total"].append(b_embed + b_query)
                bar.advance(task)
    all_samples = {**samples, **{f"baseline_{k}": v for k, v in base_samples.items()}}
    return ScaleReport(
        chunks=len(index_chunks),
        real_chunks=len(real),
        base_patients=patients,
        index_patients=len({c.patient_key for c in index_chunks if c.patient_key}),
        embedded_sample=len(chosen),
        noise_sigma=sigma,
        vector_method=(
            f"real MiniLM embeddings of {len(chosen):,} chunk texts (every chunk of the queried patients plus a "
            f"random sample), re-used for the other chunks with N(0, {sigma}²) noise per dimension, re-normalised"
        ),
        build_s={k: round(v, 2) for k, v in build.items()},
        queries=len(samples["total"]),
        stages={k: Distribution.of(samples[k]) for k in QUERY_STAGES},
        rerank_warm=Distribution.of(samples["rerank_warm"]),
        baseline={k: Distribution.of(v) for k, v in base_samples.items()},
        peak_rss_mb=rss.peak_mb,
        samples=all_samples,
        embedded_per_query=round(statistics.fmean(embedded), 2) if embedded else 0.0,
    )
