"""``carecite bench query`` part (a): the committed world through the whole ``Pipeline.ask``
(offline extractive answerer), per-stage p50/p95 from ``Answer.timings_ms``, and a cold process."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from carecite.evaluation.bench.common import WARMUP_QUERIES, Distribution, PeakRss, progress_bar
from carecite.evaluation.bench.ui import UiFirstAnswer, ui_first_answer
from carecite.ports import Embedder
from carecite.settings import Settings

if TYPE_CHECKING:  # imported when run: `python -m ...bench.ui_browser` must not find itself loaded
    from carecite.evaluation.bench.ui_browser import BrowserFirstAnswer

ASK_STAGES = ("access", "retrieve", "rerank", "generate", "verify", "total")


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
    ui: UiFirstAnswer | None = None  # the first answer in a freshly started UI (bench/ui.py)
    browser: BrowserFirstAnswer | None = None  # the same in a real browser (bench/ui_browser.py)


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
    ui: bool = True,
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
        with progress_bar(progress) as bar:
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
        with progress_bar(progress) as bar:
            bar.add_task(f"cold `carecite ask` ×{cold_runs}", total=None)
            cold_ask, import_s = cold_process_s(settings.data_dir, gold[0], cold_runs)
    ui_figures = browser = None
    patient_questions = [g for g in gold if g.get("patient_id")]
    if ui and patient_questions:
        with progress_bar(progress) as bar:
            bar.add_task("first answer in a freshly started UI (2 fresh processes)", total=None)
            ui_figures = ui_first_answer(settings.data_dir, patient_questions[0])
        from carecite.evaluation.bench.ui_browser import browser_first_answer

        with progress_bar(progress) as bar:
            bar.add_task("first answer in a real browser (chromium, fresh UI server)", total=None)
            browser = browser_first_answer(settings.data_dir, patient_questions[0])
    return CommittedReport(
        questions=len(gold),
        ingest_s=round(ingest_s, 2),
        stages={s: Distribution.of(v) for s, v in samples.items()},
        peak_rss_mb=rss.peak_mb,
        cold_ask_s=cold_ask,
        import_s=import_s,
        cold_runs=cold_runs if cold_ask is not None else 0,
        ui=ui_figures,
        browser=browser,
        **counts,
    )
