"""What every benchmark shares: latency summaries, peak memory, machine facts, progress bars."""

from __future__ import annotations

import math
import os
import resource
import statistics
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from carecite.ports import Embedder, Vector

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")  # before anything imports presidio
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

RAW_ENCODE_BATCH = 64
WARMUP_QUERIES = 3


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


def progress_bar(enabled: bool) -> Progress:
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


class StandInEmbedder:
    """An Embedder with no model, for measuring everything an ingest does but the encode: each text
    maps to a unit vector seeded by its hash (so equal texts get equal vectors, and a re-run the same
    ones). At 5,000 patients the model's encode is ~1.5 h of the ingest's ~1.7 h on this machine; its
    memory is the model plus one batch's activations, the same at every corpus size (measured by the
    MiniLM runs), so what grows with the corpus shows without it, in minutes."""

    dim = 384

    @property
    def fingerprint(self) -> str:
        return f"stand-in-hash:{self.dim}"

    def embed_documents(self, texts: Sequence[str]) -> Vector:
        import hashlib

        import numpy as np

        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")
            v = np.random.default_rng(seed).standard_normal(self.dim)
            out[i] = v / np.linalg.norm(v)
        return out

    def embed_query(self, text: str) -> Vector:
        vector: Vector = self.embed_documents([text])[0]
        return vector


def load_embedder(torch_threads: int | None) -> Embedder:
    from carecite.retrieval.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(batch_size=RAW_ENCODE_BATCH, threads=torch_threads)


@contextmanager
def work_dir_of(work_dir: Path | None) -> Iterator[Path]:
    if work_dir is not None:
        work_dir.mkdir(parents=True, exist_ok=True)
        yield work_dir
        return
    with tempfile.TemporaryDirectory(prefix="carecite-bench-") as tmp:
        yield Path(tmp)
