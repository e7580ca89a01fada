"""``carecite bench ingest``: per scale, generate a synthetic world, ingest it into a fresh data dir
(the real ``ingest_synthetic``), then encode the very same texts with the bare embedder. The ratio
of the two throughputs is the pipeline's overhead over "just embedding". Phases are timed by thin
wrappers around the embedder, the vector index and the BM25 index, with the pipeline's own stage
``Timer``, so nothing in the product is instrumented for the benchmark."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.table import Table

from carecite.domain import Candidate, Chunk, RetrievalFilter
from carecite.evaluation.bench.common import (
    RAW_ENCODE_BATCH,
    PeakRss,
    StandInEmbedder,
    load_embedder,
    machine_info,
    progress_bar,
    work_dir_of,
)
from carecite.ports import Embedder, LexicalIndex, Vector, VectorIndex
from carecite.settings import Settings
from carecite.timing import Timer

if TYPE_CHECKING:
    from carecite.stores import Stores


# --------------------------------------------------------------------------- timed wrappers (ingest phases)
class _TimedEmbedder:
    def __init__(self, inner: Embedder, clock: Timer) -> None:
        self.inner, self.clock = inner, clock

    @property
    def fingerprint(self) -> str:
        return self.inner.fingerprint

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed_documents(self, texts: Sequence[str]) -> Vector:
        with self.clock.stage("embed"):
            return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> Vector:
        with self.clock.stage("embed"):
            return self.inner.embed_query(text)


class _TimedVectors:
    def __init__(self, inner: VectorIndex, clock: Timer) -> None:
        self.inner, self.clock = inner, clock

    def upsert(self, chunks: Sequence[Chunk], vectors: Vector) -> None:
        with self.clock.stage("upsert"):
            self.inner.upsert(chunks, vectors)

    def delete(self, chunk_ids: Sequence[str]) -> None:
        with self.clock.stage("upsert"):
            self.inner.delete(chunk_ids)

    def ids(self) -> set[str]:
        return self.inner.ids()

    def count(self) -> int:
        return self.inner.count()

    def query(self, vector: Vector, flt: RetrievalFilter, k: int) -> list[Candidate]:
        return self.inner.query(vector, flt, k)


class _TimedLexical:
    def __init__(self, inner: LexicalIndex, clock: Timer) -> None:
        self.inner, self.clock = inner, clock

    def rebuild(self, chunks: Iterable[Chunk]) -> None:
        with self.clock.stage("bm25"):
            self.inner.rebuild(chunks)

    def ids(self) -> set[str]:
        return self.inner.ids()

    def count(self) -> int:
        return self.inner.count()

    def query(self, text: str, flt: RetrievalFilter, k: int) -> list[Candidate]:
        return self.inner.query(text, flt, k)


def _timed_stores(settings: Settings, embedder: Embedder, clock: Timer) -> Stores:
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
    peak_rss_mb: float  # the ingest's own peak (the raw encode's is raw_peak_rss_mb)
    consistent: bool
    texts: int = 0  # distinct texts embedded: chunk index texts + sentence/segment/statement texts
    ingest_vs_raw: float = 0.0  # pipeline throughput as a share of raw encode (target >= 0.8)
    raw_sampled: int = 0  # texts the raw encode timed (a seeded sample when fewer than ``texts``)
    raw_peak_rss_mb: float = 0.0  # peak while listing the texts and raw-encoding them, after the ingest


@dataclass
class IngestBenchReport:
    seed: int
    scales: list[IngestScale]
    machine: dict[str, Any]
    model_load_s: float
    lifetime_peak_rss_mb: float = 0.0
    embedder: str = ""  # the embedding model's fingerprint ("stand-in-hash:384" with --stand-in-embedder)
    vector_store: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "machine": self.machine,
            "model_load_s": self.model_load_s,
            "lifetime_peak_rss_mb": self.lifetime_peak_rss_mb,
            "embedder": self.embedder,
            "vector_store": self.vector_store,
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

    from carecite.answering.query_texts import query_texts, record_items
    from carecite.records import session_scope
    from carecite.records import tables as t
    from carecite.records.clock import today
    from carecite.retrieval.records.lookup import StructuredRetriever

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
    with progress_bar(progress) as bar:
        task = bar.add_task(label, total=len(texts))
        t0 = time.perf_counter()
        for i in range(0, len(texts), step):
            embedder.embed_documents(texts[i : i + step])
            bar.advance(task, min(step, len(texts) - i))
        return time.perf_counter() - t0


def raw_sample(texts: Sequence[str], limit: int | None, seed: int) -> list[str]:
    """The texts the raw encode times: all of them, or a seeded random sample of ``limit``. The raw
    encode repeats the ingest's whole embedding work, so at 5,000 patients (~670k texts) it would
    double hours of run time; a sample of tens of thousands gives its rate as well."""
    if limit is None or limit >= len(texts):
        return list(texts)
    import random

    return random.Random(seed).sample(list(texts), limit)


def bench_ingest_scale(
    patients: int,
    *,
    seed: int,
    embedder: Embedder,
    work_dir: Path,
    progress: bool = True,
    raw_limit: int | None = None,
    raw: bool = True,
) -> IngestScale:
    """Generate, ingest and raw-encode one world under ``work_dir`` (which the caller owns).
    ``raw=False`` skips the raw encode (its figures stay 0): a stand-in embedder has nothing to compare."""
    from carecite.synth.dataset import generate, ingest_synthetic

    world = work_dir / f"world-{patients}"
    t0 = time.perf_counter()
    manifest = generate(patients, seed, world, gold=False, progress=progress)
    generate_s = time.perf_counter() - t0

    clock = Timer()
    settings = Settings(data_dir=work_dir / f"data-{patients}")
    stores = _timed_stores(settings, embedder, clock)
    with PeakRss() as rss:
        t0 = time.perf_counter()
        report = ingest_synthetic(stores, world, progress=progress)
        wall = time.perf_counter() - t0
    # The raw encode's peak is its own: at 5,000 patients listing every text and encoding random
    # batches of the longest ones weighed more than the ingest (session 6), and hid its figure.
    with PeakRss() as raw_rss:
        n = len(_chunk_texts(stores))
        texts = _ingest_texts(stores) if raw else []
        timed = raw_sample(texts, raw_limit, seed)
        raw_s = (
            raw_encode(embedder, timed, progress=progress, label=f"raw MiniLM encode ({patients} patients)")
            * len(texts)
            / len(timed)  # a sample's time, scaled to every text
            if timed
            else 0.0
        )
    sync = report.sync
    embed_s, upsert_s, bm25_s = (clock.seconds(k) for k in ("embed", "upsert", "bm25"))
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
        raw_peak_rss_mb=raw_rss.peak_mb if raw else 0.0,
        consistent=bool(sync and sync.consistent and sync.sql == n),
        texts=len(texts),
        raw_sampled=len(timed),
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
    raw_limit: int | None = None,
    stand_in: bool = False,
) -> IngestBenchReport:
    """``carecite bench ingest``: one IngestScale per patient count, in temp dirs removed afterwards.
    ``stand_in``: embed with ``StandInEmbedder`` and skip the raw encode (memory and SQL/index figures
    of a large world in minutes; throughput against the model needs the model)."""
    if not patients or any(p < 1 for p in patients):
        raise ValueError("patient counts must be positive integers")
    t0 = time.perf_counter()
    embedder = embedder or (StandInEmbedder() if stand_in else load_embedder(torch_threads))
    embedder.embed_query("warm up")  # the first encode pays lazy initialisation
    model_load_s = round(time.perf_counter() - t0, 2)
    scales: list[IngestScale] = []
    with work_dir_of(work_dir) as root:
        for p in patients:
            scales.append(
                bench_ingest_scale(
                    p,
                    seed=seed,
                    embedder=embedder,
                    work_dir=root,
                    progress=progress,
                    raw_limit=raw_limit,
                    raw=not stand_in,
                )
            )
    return IngestBenchReport(
        seed=seed,
        scales=scales,
        machine=machine_info(torch_threads),
        model_load_s=model_load_s,
        lifetime_peak_rss_mb=PeakRss.lifetime_mb(),
        embedder=embedder.fingerprint,
        vector_store=_vector_store(),
    )


def _vector_store() -> str:
    """Where the bench's chunk vectors live: a Chroma server (``CARECITE_CHROMA_HOST``) keeps the HNSW
    index out of the measured process; the embedded store holds it in memory, growing with the corpus."""
    settings = Settings()
    if settings.chroma_host:
        return f"Chroma server {settings.chroma_host}:{settings.chroma_port}"
    return "embedded Chroma"


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
        ("raw_sampled", "{:,}"),
        ("overhead", "{:.2f}×"),
        ("ingest_vs_raw", "{:.0%}"),
        ("sql_s", "{:.1f}"),
        ("embed_s", "{:.1f}"),
        ("upsert_s", "{:.1f}"),
        ("bm25_s", "{:.1f}"),
        ("generate_s", "{:.1f}"),
        ("peak_rss_mb", "{:.0f}"),
        ("raw_peak_rss_mb", "{:.0f}"),
    ]
    labels = {
        "wall_s": "ingest wall s",
        "notes_per_s": "notes/s (ingest)",
        "chunks_per_s": "chunks/s (ingest)",
        "raw_chunks_per_s": "chunks/s (raw MiniLM encode)",
        "texts": "texts embedded (chunks + sentences + statements)",
        "raw_sampled": "texts timed by the raw encode (sampled beyond --raw-sample)",
        "overhead": "[bold]overhead (raw ÷ ingest)[/]",
        "ingest_vs_raw": "[bold]ingest ÷ raw throughput (target ≥ 80%)[/]",
        "sql_s": "  SQL parse/map/chunk/write s",
        "embed_s": "  embed s",
        "upsert_s": "  Chroma upsert s",
        "bm25_s": "  BM25 rebuild s",
        "generate_s": "world generation s (not in wall)",
        "peak_rss_mb": "[bold]peak RSS MB (ingest)[/]",
        "raw_peak_rss_mb": "peak RSS MB (raw encode, after the ingest)",
    }
    if not any(s.raw_sampled for s in report.scales):  # --stand-in-embedder: no raw encode to compare
        raw_keys = {
            "raw_chunks_per_s",
            "texts",
            "raw_sampled",
            "overhead",
            "ingest_vs_raw",
            "raw_peak_rss_mb",
        }
        rows = [(key, fmt) for key, fmt in rows if key not in raw_keys]
    for key, fmt in rows:
        table.add_row(labels.get(key, key), *(fmt.format(getattr(s, key)) for s in report.scales))
    m = report.machine
    raw_note = (
        f"overhead × = raw encode chunks/s ÷ pipeline chunks/s, where the raw encode embeds every distinct "
        f"text the ingest embeds (chunk texts, their sentences and segments, record statements), same run "
        f"(batch {RAW_ENCODE_BATCH}). "
        if any(s.raw_sampled for s in report.scales)
        else "A stand-in embedder (no model): embed s is not the model's, and there is no raw encode. "
    )
    notes = (
        f"{raw_note}SQL s = parse, map, chunk, write, resolve, diff. Model load "
        f"{report.model_load_s:.1f} s (not in wall). {m['cpu_count']} CPUs, load {m['load_avg_1m']}, "
        f"torch threads {m['torch_threads']}: a shared machine, so timings are noisy. Embedder "
        f"{report.embedder}; vectors in {report.vector_store}."
    )
    bad = [s.patients for s in report.scales if not s.consistent]
    warn = f"\n[bold red]index counts disagree with SQL at {bad} patients[/]" if bad else ""
    return Group(table, notes + warn)
