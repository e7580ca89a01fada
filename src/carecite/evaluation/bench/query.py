"""``carecite bench query``: one report of (a) the committed world, (b) retrieval at scale and (c)
the naive baseline, all from the same run; the JSON fields in docs/benchmarks.md are stable."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table

from carecite.evaluation.bench.committed import CommittedReport, bench_committed
from carecite.evaluation.bench.common import (
    WARMUP_QUERIES,
    Distribution,
    PeakRss,
    load_embedder,
    machine_info,
    work_dir_of,
)
from carecite.evaluation.bench.scale import ScaleReport, bench_scale
from carecite.ports import Embedder

TARGET_P50_MS = 80.0
TARGET_P95_MS = 150.0


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
            "ui_first_answer_s": self.committed.ui.first_answer_s
            if self.committed and self.committed.ui
            else None,
            "ui_browser_first_answer_s": self.committed.browser.first_answer_s
            if self.committed and self.committed.browser
            else None,
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
    ui: bool = True,
) -> QueryBenchReport:
    """``carecite bench query``. ``committed_world=None`` skips part (a); ``chunks=0`` skips (b)."""
    if chunks < 0 or queries < 1 or patients < 1 or sample < 1:
        raise ValueError("--chunks must be >= 0 and --queries, --patients, --sample >= 1")
    embedder = embedder or load_embedder(torch_threads)
    embedder.embed_query("warm up")
    with work_dir_of(work_dir) as root:
        committed = (
            bench_committed(
                committed_world,
                embedder=embedder,
                work_dir=root,
                limit=queries,
                warmup=warmup,
                progress=progress,
                cold_runs=cold_runs,
                ui=ui,
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
        if c.ui is not None:
            parts.append(
                f"freshly started UI (AppTest, new process): page load {c.ui.page_load_s:.1f} s, then the first "
                f"answer asked at once [bold]{c.ui.first_answer_s:.1f} s[/] (target ≤ 5 s); the background warm-up "
                f"ends {c.ui.warm_up_s:.1f} s after the page loads, and a first answer asked then takes "
                f"{c.ui.answer_after_warm_up_s:.1f} s."
            )
        if c.browser is not None:
            b = c.browser
            parts.append(
                f"real browser (chromium, server started as `carecite demo` does): server ready {b.server_ready_s:.1f} s, "
                f"page load {b.page_load_s:.1f} s, then sign-in, patient, question and Ask at once: first answer "
                f"[bold]{b.first_answer_s:.1f} s[/] after the page loaded (target ≤ 5 s), {b.ask_s:.1f} s of it after Ask."
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
