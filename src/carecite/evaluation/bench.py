"""``carecite bench ingest`` and ``carecite bench query``: figures printed against a baseline
measured in the same run, on the same machine, at the same moment (never timed assertions).

Ingest bench — per scale: generate a synthetic world, ingest it into a fresh data dir (the real
``ingest_synthetic``), then encode the very same chunk texts with the bare embedder. The ratio of
the two throughputs is the pipeline's overhead over "just embedding". Phases are timed by thin
wrappers around the embedder, the vector index and the BM25 index, so nothing in the product is
instrumented for the benchmark.

Query bench — (a) the committed world through the whole ``Pipeline.ask`` (offline extractive
answerer), per-stage p50/p95 from ``Answer.timings_ms``; (b) the retrieval stages at a scale index
(default 100k chunks) against (c) a naive baseline (embed + Chroma top-5, no filter, fusion or
re-rank) on the same collection. Embedding 100k chunks takes ~30 min on 2 cores, so the scale index
is built from real chunk texts (a generated world, SQL-ingested and chunked by the real chunker,
replicated onto extra index-only patients) with vectors that are real MiniLM embeddings of a sample,
re-used with a small normalised Gaussian perturbation. Every report says so (``vector_method``).
"""

from __future__ import annotations

import json
import math
import os
import random
import resource
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.console import Group, RenderableType
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from carecite.domain import Candidate, Chunk, RetrievalFilter
from carecite.ports import Embedder, LexicalIndex, Vector, VectorIndex
from carecite.settings import Settings

if TYPE_CHECKING:
    from carecite.stores import Stores

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")  # before anything imports presidio
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

RAW_ENCODE_BATCH = 64
QUERY_STAGES = ("access", "embed_query", "dense", "lexical", "structured", "fusion", "rerank", "total")
ASK_STAGES = ("access", "retrieve", "rerank", "generate", "verify", "total")
WARMUP_QUERIES = 3
TARGET_P50_MS = 80.0
TARGET_P95_MS = 150.0


# --------------------------------------------------------------------------- measuring helpers
@dataclass(frozen=True)
class Distribution:
    """Latency summary in milliseconds."""

    n: int
    p50: float
    p95: float
    mean: float
    max: float

    @classmethod
    def of(cls, samples_ms: Sequence[float]) -> Distribution:
        if not samples_ms:
            return cls(0, 0.0, 0.0, 0.0, 0.0)
        ordered = sorted(samples_ms)
        return cls(
            n=len(ordered),
            p50=round(percentile(ordered, 50), 2),
            p95=round(percentile(ordered, 95), 2),
            mean=round(statistics.fmean(ordered), 2),
            max=round(ordered[-1], 2),
        )


def percentile(ordered: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile of already sorted samples (numpy's default method)."""
    if not ordered:
        return 0.0
    pos = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return float(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo))


class PeakRss:
    """Peak resident memory of this process plus its children while the block runs (MB).

    ``ru_maxrss`` is a lifetime peak, useless per phase: a sampling thread (every 50 ms) gives the
    peak of each phase. Sampling can miss a spike shorter than the interval; ``lifetime_mb`` is exact.
    """

    def __init__(self, interval_s: float = 0.05) -> None:
        self.interval_s = interval_s
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self) -> float:
        import psutil

        proc = psutil.Process()
        total = proc.memory_info().rss
        for child in proc.children(recursive=True):
            with suppress(psutil.Error):  # the child exited between listing and reading
                total += child.memory_info().rss
        return float(total) / 1e6

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.peak_mb = max(self.peak_mb, self._sample())

    def __enter__(self) -> PeakRss:
        self.peak_mb = self._sample()
        self._thread = threading.Thread(target=self._run, name="bench-rss", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak_mb = round(max(self.peak_mb, self._sample()), 1)

    @staticmethod
    def lifetime_mb() -> float:
        """``ru_maxrss`` of this process plus the largest waited-for child (Linux reports KB)."""
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        return round((own + children) / 1024, 1)


def machine_info(torch_threads: int | None) -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "cpu_count": os.cpu_count(),
        "load_avg_1m": round(load[0], 2),
        "torch_threads": torch_threads or "torch default",
    }


def _progress(enabled: bool) -> Progress:
    from rich.console import Console

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),  # stdout carries only the report (and --json)
        disable=not enabled,
        transient=True,
    )


def load_embedder(torch_threads: int | None) -> Embedder:
    from carecite.retrieval.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(batch_size=RAW_ENCODE_BATCH, threads=torch_threads)


# --------------------------------------------------------------------------- timed wrappers (ingest phases)
class _Clock:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0


class _TimedEmbedder:
    def __init__(self, inner: Embedder, clock: _Clock) -> None:
        self.inner, self.clock = inner, clock

    @property
    def fingerprint(self) -> str:
        return self.inner.fingerprint

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed_documents(self, texts: Sequence[str]) -> Vector:
        with self.clock.phase("embed"):
            return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> Vector:
        with self.clock.phase("embed"):
            return self.inner.embed_query(text)


class _TimedVectors:
    def __init__(self, inner: VectorIndex, clock: _Clock) -> None:
        self.inner, self.clock = inner, clock

    def upsert(self, chunks: Sequence[Chunk], vectors: Vector) -> None:
        with self.clock.phase("upsert"):
            self.inner.upsert(chunks, vectors)

    def delete(self, chunk_ids: Sequence[str]) -> None:
        with self.clock.phase("upsert"):
            self.inner.delete(chunk_ids)

    def ids(self) -> set[str]:
        return self.inner.ids()

    def count(self) -> int:
        return self.inner.count()

    def query(self, vector: Vector, flt: RetrievalFilter, k: int) -> list[Candidate]:
        return self.inner.query(vector, flt, k)


class _TimedLexical:
    def __init__(self, inner: LexicalIndex, clock: _Clock) -> None:
        self.inner, self.clock = inner, clock

    def rebuild(self, chunks: Sequence[Chunk]) -> None:
        with self.clock.phase("bm25"):
            self.inner.rebuild(chunks)

    def ids(self) -> set[str]:
        return self.inner.ids()

    def count(self) -> int:
        return self.inner.count()

    def query(self, text: str, flt: RetrievalFilter, k: int) -> list[Candidate]:
        return self.inner.query(text, flt, k)


def _timed_stores(settings: Settings, embedder: Embedder, clock: _Clock) -> Stores:
    from carecite.retrieval.dense import ChromaVectorIndex
    from carecite.retrieval.lexical import Bm25Index
    from carecite.stores import Stores

    timed = _TimedEmbedder(embedder, clock)
    stores = Stores(settings, embedder=timed)
    # ``vectors``/``lexical`` are cached properties: setting the instance attribute first makes the
    # ingest code use the timed wrappers without any hook in the product.
    stores.__dict__["vectors"] = _TimedVectors(ChromaVectorIndex.open(settings, timed), clock)
    stores.__dict__["lexical"] = _TimedLexical(Bm25Index.open(settings.bm25_path), clock)
    return stores


# --------------------------------------------------------------------------- bench ingest
@dataclass(frozen=True)
class IngestScale:
    patients: int
    notes: int
    chunks: int
    generate_s: float
    wall_s: float  # the whole ingest_synthetic call (model already loaded)
    sql_s: float  # parse + map + chunk + SQL write + reference resolution + index diffing
    embed_s: float
    upsert_s: float
    bm25_s: float
    notes_per_s: float
    chunks_per_s: float
    raw_encode_s: float  # the bare embedder on every distinct text the ingest embeds
    raw_chunks_per_s: float
    overhead: float  # raw encode throughput / pipeline throughput (1.0 = no overhead)
    peak_rss_mb: float
    consistent: bool
    texts: int = 0  # distinct texts embedded: chunk index texts + sentence/segment/statement texts
    ingest_vs_raw: float = 0.0  # pipeline throughput as a share of raw encode (target >= 0.8)


@dataclass
class IngestBenchReport:
    seed: int
    scales: list[IngestScale]
    machine: dict[str, Any]
    model_load_s: float
    lifetime_peak_rss_mb: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "machine": self.machine,
            "model_load_s": self.model_load_s,
            "lifetime_peak_rss_mb": self.lifetime_peak_rss_mb,
            "scales": [asdict(s) for s in self.scales],
        }


def _chunk_texts(stores: Stores) -> list[str]:
    from sqlmodel import col, select

    from carecite.records import session_scope
    from carecite.records import tables as t

    with session_scope(stores.engine) as s:
        return list(s.exec(select(t.ChunkRow.index_text).order_by(col(t.ChunkRow.chunk_id))).all())


def _ingest_texts(stores: Stores) -> list[str]:
    """Every distinct text the ingest embeds: chunk index texts, the chunks' query-time texts
    (passage, sentences, segments) and each patient's record statements (``source_vectors``)."""
    from sqlmodel import col, select

    from carecite.answering.source_vectors import query_texts, record_items
    from carecite.records import session_scope
    from carecite.records import tables as t
    from carecite.records.clock import today
    from carecite.retrieval.structured import StructuredRetriever

    with session_scope(stores.engine) as s:
        rows = s.exec(select(t.ChunkRow.index_text, t.ChunkRow.text).order_by(col(t.ChunkRow.chunk_id))).all()
        keys = sorted(k for k in s.exec(select(t.Patient.patient_key)).all() if k)
    texts: dict[str, None] = dict.fromkeys(index_text for index_text, _ in rows)
    for _, text in rows:
        texts.update(dict.fromkeys(query_texts(text)))
    retriever = StructuredRetriever(stores.engine, today(stores.settings, stores.engine))
    for key in keys:
        texts.update(dict.fromkeys(record_items(retriever.statement_texts(key), key).texts))
    return list(texts)


def raw_encode(embedder: Embedder, texts: Sequence[str], *, progress: bool, label: str) -> float:
    """Seconds to encode ``texts`` with the bare embedder, in batches of RAW_ENCODE_BATCH."""
    step = RAW_ENCODE_BATCH * 8  # the embedder batches by 64 inside; the bar advances per 512
    with _progress(progress) as bar:
        task = bar.add_task(label, total=len(texts))
        t0 = time.perf_counter()
        for i in range(0, len(texts), step):
            embedder.embed_documents(texts[i : i + step])
            bar.advance(task, min(step, len(texts) - i))
        return time.perf_counter() - t0


def bench_ingest_scale(
    patients: int, *, seed: int, embedder: Embedder, work_dir: Path, progress: bool = True
) -> IngestScale:
    """Generate, ingest and raw-encode one world under ``work_dir`` (which the caller owns)."""
    from carecite.synth.dataset import generate, ingest_synthetic

    world = work_dir / f"world-{patients}"
    t0 = time.perf_counter()
    manifest = generate(patients, seed, world, gold=False, progress=progress)
    generate_s = time.perf_counter() - t0

    clock = _Clock()
    settings = Settings(data_dir=work_dir / f"data-{patients}")
    stores = _timed_stores(settings, embedder, clock)
    with PeakRss() as rss:
        t0 = time.perf_counter()
        report = ingest_synthetic(stores, world, progress=progress)
        wall = time.perf_counter() - t0
        n = len(_chunk_texts(stores))
        texts = _ingest_texts(stores)
        raw_s = raw_encode(
            embedder, texts, progress=progress, label=f"raw MiniLM encode ({patients} patients)"
        )
    sync = report.sync
    embed_s, upsert_s, bm25_s = (clock.seconds.get(k, 0.0) for k in ("embed", "upsert", "bm25"))
    notes = int(manifest.counts["notes"])
    pipe_rate = n / wall if wall else 0.0
    raw_rate = n / raw_s if raw_s else 0.0
    return IngestScale(
        patients=patients,
        notes=notes,
        chunks=n,
        generate_s=round(generate_s, 2),
        wall_s=round(wall, 2),
        sql_s=round(wall - embed_s - upsert_s - bm25_s, 2),
        embed_s=round(embed_s, 2),
        upsert_s=round(upsert_s, 2),
        bm25_s=round(bm25_s, 2),
        notes_per_s=round(notes / wall, 2) if wall else 0.0,
        chunks_per_s=round(pipe_rate, 2),
        raw_encode_s=round(raw_s, 2),
        raw_chunks_per_s=round(raw_rate, 2),
        overhead=round(raw_rate / pipe_rate, 2) if pipe_rate else 0.0,
        peak_rss_mb=rss.peak_mb,
        consistent=bool(sync and sync.consistent and sync.sql == n),
        texts=len(texts),
        ingest_vs_raw=round(pipe_rate / raw_rate, 2) if raw_rate else 0.0,
    )


def run_ingest_bench(
    patients: Sequence[int],
    *,
    seed: int = 7,
    torch_threads: int | None = 1,
    embedder: Embedder | None = None,
    work_dir: Path | None = None,
    progress: bool = True,
) -> IngestBenchReport:
    """``carecite bench ingest``: one IngestScale per patient count, in temp dirs removed afterwards."""
    if not patients or any(p < 1 for p in patients):
        raise ValueError("patient counts must be positive integers")
    t0 = time.perf_counter()
    embedder = embedder or load_embedder(torch_threads)
    embedder.embed_query("warm up")  # the first encode pays lazy initialisation
    model_load_s = round(time.perf_counter() - t0, 2)
    scales: list[IngestScale] = []
    with _work_dir(work_dir) as root:
        for p in patients:
            scales.append(
                bench_ingest_scale(p, seed=seed, embedder=embedder, work_dir=root, progress=progress)
            )
    return IngestBenchReport(
        seed=seed,
        scales=scales,
        machine=machine_info(torch_threads),
        model_load_s=model_load_s,
        lifetime_peak_rss_mb=PeakRss.lifetime_mb(),
    )


@contextmanager
def _work_dir(work_dir: Path | None) -> Iterator[Path]:
    if work_dir is not None:
        work_dir.mkdir(parents=True, exist_ok=True)
        yield work_dir
        return
    with tempfile.TemporaryDirectory(prefix="carecite-bench-") as tmp:
        yield Path(tmp)


def render_ingest(report: IngestBenchReport) -> RenderableType:
    # One column per scale: 13 figures side by side do not fit a terminal.
    table = Table(title="carecite bench ingest (synthetic world → SQL + Chroma + BM25)")
    table.add_column("figure")
    for s in report.scales:
        table.add_column(f"{s.patients:,} patients", justify="right")
    rows: list[tuple[str, str]] = [
        ("notes", "{:,}"),
        ("chunks", "{:,}"),
        ("wall_s", "{:.1f}"),
        ("notes_per_s", "{:.1f}"),
        ("chunks_per_s", "{:.1f}"),
        ("raw_chunks_per_s", "{:.1f}"),
        ("texts", "{:,}"),
        ("overhead", "{:.2f}×"),
        ("ingest_vs_raw", "{:.0%}"),
        ("sql_s", "{:.1f}"),
        ("embed_s", "{:.1f}"),
        ("upsert_s", "{:.1f}"),
        ("bm25_s", "{:.1f}"),
        ("generate_s", "{:.1f}"),
        ("peak_rss_mb", "{:.0f}"),
    ]
    labels = {
        "wall_s": "ingest wall s",
        "notes_per_s": "notes/s (ingest)",
        "chunks_per_s": "chunks/s (ingest)",
        "raw_chunks_per_s": "chunks/s (raw MiniLM encode)",
        "texts": "texts embedded (chunks + sentences + statements)",
        "overhead": "[bold]overhead (raw ÷ ingest)[/]",
        "ingest_vs_raw": "[bold]ingest ÷ raw throughput (target ≥ 80%)[/]",
        "sql_s": "  SQL parse/map/chunk/write s",
        "embed_s": "  embed s",
        "upsert_s": "  Chroma upsert s",
        "bm25_s": "  BM25 rebuild s",
        "generate_s": "world generation s (not in wall)",
        "peak_rss_mb": "peak RSS MB",
    }
    for key, fmt in rows:
        table.add_row(labels.get(key, key), *(fmt.format(getattr(s, key)) for s in report.scales))
    m = report.machine
    notes = (
        f"overhead × = raw encode chunks/s ÷ pipeline chunks/s, where the raw encode embeds every distinct "
        f"text the ingest embeds (chunk texts, their sentences and segments, record statements), same run "
        f"(batch {RAW_ENCODE_BATCH}). SQL s = parse, map, chunk, write, resolve, diff. Model load "
        f"{report.model_load_s:.1f} s (not in wall). {m['cpu_count']} CPUs, load {m['load_avg_1m']}, "
        f"torch threads {m['torch_threads']}: a shared machine, so timings are noisy."
    )
    bad = [s.patients for s in report.scales if not s.consistent]
    warn = f"\n[bold red]index counts disagree with SQL at {bad} patients[/]" if bad else ""
    return Group(table, notes + warn)


# --------------------------------------------------------------------------- bench query: (a) committed world
@dataclass
class CommittedReport:
    questions: int
    answered: int
    declined: int
    denied: int
    ingest_s: float
    stages: dict[str, Distribution]
    peak_rss_mb: float
    cold_ask_s: float | None = None  # median wall time of a fresh `carecite ask --json` process
    import_s: float | None = None  # median wall time of a bare `python -c "import carecite"`
    cold_runs: int = 0


def _wall_s(cmd: Sequence[str], env: dict[str, str], cwd: Path) -> float:
    import subprocess

    t0 = time.perf_counter()
    done = subprocess.run(list(cmd), env=env, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])}… exited {done.returncode}: {done.stderr.strip()[-400:]}")
    return wall


def cold_process_s(data_dir: Path, question: dict[str, Any], runs: int) -> tuple[float, float]:
    """Median wall seconds of a fresh ``carecite ask --json`` on ``data_dir`` (offline answerer), and
    of a bare ``python -c "import carecite"`` (the interpreter's own floor), run alternately."""
    import sys

    env = {k: v for k, v in os.environ.items() if "OPENAI" not in k}  # never a remote LLM here
    env["CARECITE_DATA_DIR"] = str(data_dir.resolve())
    ask = [sys.executable, "-c", "from carecite.cli import app; app()", "ask", question["question"]]
    ask += ["--user", question["user_id"], "--json"]
    if question.get("patient_id"):
        ask += ["--patient", question["patient_id"]]
    asks, imports = [], []
    for _ in range(runs):
        imports.append(_wall_s([sys.executable, "-c", "import carecite"], env, data_dir))
        asks.append(_wall_s(ask, env, data_dir))
    return round(statistics.median(asks), 2), round(statistics.median(imports), 3)


def bench_committed(
    world: Path,
    *,
    embedder: Embedder,
    work_dir: Path,
    limit: int | None = None,
    warmup: int = WARMUP_QUERIES,
    progress: bool = True,
    cold_runs: int = 3,
) -> CommittedReport:
    """Ingest ``world`` (a written synthetic world with gold.jsonl) and time every gold question
    through ``Pipeline.ask`` with the offline extractive answerer (no LLM is configured)."""
    from carecite.answering.pipeline import AskRequest
    from carecite.stores import Stores
    from carecite.synth.dataset import ingest_synthetic, load_gold
    from carecite.wiring import build_pipeline

    gold = load_gold(world / "gold.jsonl")
    if limit is not None:
        gold = gold[:limit]
    # Never a remote LLM here, whatever the environment says: the offline extractive answerer.
    settings = Settings(data_dir=work_dir / "committed").model_copy(
        update={"openai_api_key": None, "openai_base_url": None}
    )
    stores = Stores(settings, embedder=embedder)
    samples: dict[str, list[float]] = {s: [] for s in ASK_STAGES}
    counts = {"answered": 0, "declined": 0, "denied": 0}
    with PeakRss() as rss:
        t0 = time.perf_counter()
        ingest_synthetic(stores, world, progress=progress)
        ingest_s = time.perf_counter() - t0
        pipeline = build_pipeline(settings, stores=stores)
        for g in gold[:warmup]:  # first asks load spaCy/Presidio lazily
            pipeline.ask(
                AskRequest(question=g["question"], user_id=g["user_id"], patient_id=g.get("patient_id"))
            )
        with _progress(progress) as bar:
            task = bar.add_task("gold questions through Pipeline.ask", total=len(gold))
            for g in gold:
                answer = pipeline.ask(
                    AskRequest(question=g["question"], user_id=g["user_id"], patient_id=g.get("patient_id"))
                )
                bar.advance(task)
                if answer.decline_reason == "access_denied":
                    counts["denied"] += 1
                    continue  # a denial stops before retrieval: it would flatter every stage
                counts["declined" if answer.declined else "answered"] += 1
                for stage in ASK_STAGES:
                    samples[stage].append(float(answer.timings_ms.get(stage, 0.0)))
    cold_ask = import_s = None
    if cold_runs > 0 and gold:
        with _progress(progress) as bar:
            bar.add_task(f"cold `carecite ask` ×{cold_runs}", total=None)
            cold_ask, import_s = cold_process_s(settings.data_dir, gold[0], cold_runs)
    return CommittedReport(
        questions=len(gold),
        ingest_s=round(ingest_s, 2),
        stages={s: Distribution.of(v) for s, v in samples.items()},
        peak_rss_mb=rss.peak_mb,
        cold_ask_s=cold_ask,
        import_s=import_s,
        cold_runs=cold_runs if cold_ask is not None else 0,
        **counts,
    )


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
    with _progress(progress) as bar:
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

    from carecite.access.scope import AccessDenied, compute_scope, resolve_patient
    from carecite.answering.intent import classify
    from carecite.answering.source_vectors import chunk_items
    from carecite.ingest.indexing import ingest_cache, sync_record_vectors
    from carecite.privacy.identity import PatientIdentity, scrub_identifiers
    from carecite.records import tables as t
    from carecite.records.clock import today
    from carecite.retrieval.dense import COLLECTION, CarecitEmbeddingFunction, ChromaVectorIndex
    from carecite.retrieval.fusion import reciprocal_rank_fusion
    from carecite.retrieval.lexical import Bm25Index
    from carecite.retrieval.rerank import EvidenceReranker, build_reranker
    from carecite.retrieval.structured import StructuredRetriever, blend_structured
    from carecite.retrieval.vector_cache import VectorCache
    from carecite.stores import Stores
    from carecite.synth.dataset import generate

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
        with _progress(progress) as bar:
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
        with _progress(progress) as bar:
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
        structured = StructuredRetriever(stores.engine, today(settings, stores.engine))
        reranker = build_reranker(settings, embedder)
        s = settings
        samples: dict[str, list[float]] = {k: [] for k in (*QUERY_STAGES, "rerank_warm")}
        embedded: list[int] = []
        base_samples: dict[str, list[float]] = {"embed_query": [], "chroma_top5": [], "total": []}

        def ms(t_start: float) -> float:
            return (time.perf_counter() - t_start) * 1000

        with _progress(progress) as bar:
            task = bar.add_task("queries: pipeline stages + baseline", total=len(asked))
            for n, q in enumerate(asked):
                record = n >= warmup
                row: dict[str, float] = {}
                # A cold process per question: an empty vector cache, nothing loaded from the store.
                cache = VectorCache(embedder)
                store.cache = cache
                store.forget()
                if isinstance(reranker, EvidenceReranker):
                    reranker.cache = cache
                # The same stages, in the same order, as Pipeline.ask/_retrieve (no generation).
                t_all = time.perf_counter()
                t0 = time.perf_counter()
                try:
                    with Session(stores.engine) as session:
                        scope = compute_scope(session, q.user_id)
                        key = resolve_patient(session, scope, q.patient_id)
                        patient = session.get(t.Patient, q.patient_id)
                except AccessDenied:
                    bar.advance(task)
                    continue
                kind = classify(q.question)
                if kind.multi_patient:  # declined before retrieval by the pipeline
                    bar.advance(task)
                    continue
                flt = RetrievalFilter.for_request(scope, key).model_copy(
                    update={"include_policies": kind.coverage}
                )
                question = kind.clean
                row["access"] = ms(t0)
                t0 = time.perf_counter()
                identity = PatientIdentity.from_patient(patient) if patient is not None else None
                query_text = scrub_identifiers(question, identity)
                qvec = cache.vectors([query_text, question])[0]  # as Pipeline._retrieve
                row["embed_query"] = ms(t0)
                t0 = time.perf_counter()
                dense_hits = dense.query(qvec, flt, s.dense_k)
                row["dense"] = ms(t0)
                t0 = time.perf_counter()
                lexical_hits = lexical.query(query_text, flt, s.lexical_k)
                row["lexical"] = ms(t0)
                t0 = time.perf_counter()
                struct_hits = structured.search(question, flt, s.structured_k)
                row["structured"] = ms(t0)
                t0 = time.perf_counter()
                fused = reciprocal_rank_fusion([dense_hits, lexical_hits, struct_hits], k=s.rrf_k)
                row["fusion"] = ms(t0)
                t0 = time.perf_counter()
                # As Pipeline.ask: load the candidates' stored sentence vectors, then re-rank.
                store.preload([*fused[: s.rerank_k], *struct_hits])
                blend_structured(reranker.rerank(question, fused[: s.rerank_k]), struct_hits)
                row["rerank"] = ms(t0)
                row["total"] = ms(t_all)
                t0 = time.perf_counter()
                reranker.rerank(question, fused[: s.rerank_k])
                row["rerank_warm"] = ms(t0)
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


# --------------------------------------------------------------------------- bench query: the report
@dataclass
class QueryBenchReport:
    machine: dict[str, Any]
    committed: CommittedReport | None
    scale: ScaleReport | None
    lifetime_peak_rss_mb: float = 0.0
    plot: str | None = None

    @property
    def meets_target(self) -> bool | None:
        if self.scale is None:
            return None
        total = self.scale.stages["total"]
        return total.p50 <= TARGET_P50_MS and total.p95 <= TARGET_P95_MS

    def ratios(self) -> dict[str, float]:
        """Scale pipeline ÷ naive baseline (target ≤ 2 at p50)."""
        if self.scale is None:
            return {}
        total, base = self.scale.stages["total"], self.scale.baseline["total"]
        return {
            "scale_vs_baseline_p50": round(total.p50 / max(base.p50, 1e-9), 2),
            "scale_vs_baseline_p95": round(total.p95 / max(base.p95, 1e-9), 2),
        }

    def to_json(self) -> dict[str, Any]:
        """The stable fields (docs/benchmarks.md) are ``committed.total_ms.{p50,p95}``,
        ``scale.total_ms.{p50,p95}``, ``scale.baseline_ms.p50``, ``cold_ask_s``, ``peak_rss_mb``."""

        def ms(d: Distribution) -> dict[str, float]:
            return {"p50": d.p50, "p95": d.p95}

        committed = None
        if self.committed is not None:
            committed = {**asdict(self.committed), "total_ms": ms(self.committed.stages["total"])}
        scale = None
        if self.scale is not None:
            scale = {k: v for k, v in asdict(self.scale).items() if k != "samples"}
            scale["total_ms"] = ms(self.scale.stages["total"])
            scale["baseline_ms"] = ms(self.scale.baseline["total"])
        return {
            "machine": self.machine,
            "committed": committed,
            "scale": scale,
            "ratios": self.ratios(),
            "cold_ask_s": self.committed.cold_ask_s if self.committed else None,
            "import_s": self.committed.import_s if self.committed else None,
            "peak_rss_mb": self.lifetime_peak_rss_mb,
            "target_ms": {"p50": TARGET_P50_MS, "p95": TARGET_P95_MS},
            "meets_target": self.meets_target,
            "lifetime_peak_rss_mb": self.lifetime_peak_rss_mb,
            "plot": self.plot,
        }


def run_query_bench(
    committed_world: Path | None,
    *,
    chunks: int = 100_000,
    queries: int = 50,
    patients: int = 1000,
    sample: int = 3000,
    seed: int = 7,
    torch_threads: int | None = 1,
    embedder: Embedder | None = None,
    work_dir: Path | None = None,
    plot_dir: Path | None = None,
    warmup: int = WARMUP_QUERIES,
    progress: bool = True,
    cold_runs: int = 3,
) -> QueryBenchReport:
    """``carecite bench query``. ``committed_world=None`` skips part (a); ``chunks=0`` skips (b)."""
    if chunks < 0 or queries < 1 or patients < 1 or sample < 1:
        raise ValueError("--chunks must be >= 0 and --queries, --patients, --sample >= 1")
    embedder = embedder or load_embedder(torch_threads)
    embedder.embed_query("warm up")
    with _work_dir(work_dir) as root:
        committed = (
            bench_committed(
                committed_world,
                embedder=embedder,
                work_dir=root,
                limit=queries,
                warmup=warmup,
                progress=progress,
                cold_runs=cold_runs,
            )
            if committed_world is not None
            else None
        )
        scale = (
            bench_scale(
                chunks=chunks,
                queries=queries,
                patients=patients,
                sample=sample,
                seed=seed,
                embedder=embedder,
                work_dir=root,
                warmup=warmup,
                progress=progress,
            )
            if chunks
            else None
        )
    report = QueryBenchReport(
        machine=machine_info(torch_threads),
        committed=committed,
        scale=scale,
        lifetime_peak_rss_mb=PeakRss.lifetime_mb(),
    )
    if plot_dir is not None and scale is not None:
        from carecite.evaluation.bench_plot import write_latency_plot

        report.plot = write_latency_plot(scale.samples, plot_dir)
    return report


def _dist_cells(d: Distribution) -> list[str]:
    return [f"{d.p50:.1f}", f"{d.p95:.1f}", f"{d.mean:.1f}", f"{d.max:.1f}"]


def render_query(report: QueryBenchReport) -> RenderableType:
    parts: list[RenderableType] = []
    c = report.committed
    if c is not None:
        table = Table(
            title=(
                f"(a) committed world: {c.questions} gold questions through Pipeline.ask "
                f"(offline extractive answerer) — ms"
            )
        )
        for name in ("stage", "p50", "p95", "mean", "max"):
            table.add_column(name, justify="right" if name != "stage" else "left")
        for stage, d in c.stages.items():
            table.add_row(stage, *_dist_cells(d))
        parts.append(table)
        parts.append(
            f"answered {c.answered}, declined {c.declined}, access denied {c.denied} (not timed); "
            f"ingest {c.ingest_s:.1f} s; peak RSS {c.peak_rss_mb:.0f} MB"
        )
        if c.cold_ask_s is not None:
            parts.append(
                f"cold `carecite ask --json` (fresh process, median of {c.cold_runs}): [bold]{c.cold_ask_s:.2f} s[/] "
                f'wall, beside a bare `python -c "import carecite"`: {c.import_s:.2f} s (target ≤ 5 s).'
            )
    sc = report.scale
    if sc is not None:
        table = Table(
            title=(
                f"(b) retrieval at {sc.chunks:,} chunks, {sc.index_patients:,} patient keys — "
                f"{sc.queries} queries — ms"
            )
        )
        for name in ("stage", "p50", "p95", "mean", "max"):
            table.add_column(name, justify="right" if name != "stage" else "left")
        for stage, d in sc.stages.items():
            label = "[bold]pipeline total[/]" if stage == "total" else stage
            table.add_row(label, *_dist_cells(d))
        table.add_row("(rerank again, warm cache)", *_dist_cells(sc.rerank_warm))
        table.add_section()
        for stage, d in sc.baseline.items():
            label = "[bold](c) baseline total[/]" if stage == "total" else f"baseline {stage}"
            table.add_row(label, *_dist_cells(d))
        parts.append(table)
        total = sc.stages["total"]
        verdict = "[green]meets[/]" if report.meets_target else "[red]misses[/]"
        worst = max((k for k in sc.stages if k != "total"), key=lambda k: sc.stages[k].p50)
        parts.append(
            f"target p50 ≤ {TARGET_P50_MS:.0f} ms, p95 ≤ {TARGET_P95_MS:.0f} ms: pipeline p50 {total.p50:.1f} / "
            f"p95 {total.p95:.1f} → {verdict}; slowest stage by p50: {worst}. "
            f"Pipeline ÷ baseline (p50): {total.p50 / max(sc.baseline['total'].p50, 1e-9):.1f}× (target ≤ 2×). "
            f"Texts embedded per question: {sc.embedded_per_query:.2f} (1.00 = only the question)."
        )
        parts.append(
            f"Scale index: {sc.real_chunks:,} real chunks from {sc.base_patients:,} generated patients (real "
            f"chunker, in SQL), replicated onto index-only patients to {sc.chunks:,}. Vectors: {sc.vector_method}. "
            f"Build s: {', '.join(f'{k} {v:.1f}' for k, v in sc.build_s.items())}. Peak RSS {sc.peak_rss_mb:.0f} MB."
        )
    m = report.machine
    parts.append(
        f"{m['cpu_count']} CPUs, load {m['load_avg_1m']}, torch threads {m['torch_threads']}; a shared machine, "
        f"so timings are noisy. Lifetime peak RSS {report.lifetime_peak_rss_mb:.0f} MB."
        + (f"\nplot: {report.plot}" if report.plot else "")
    )
    return Group(*parts)
