"""Smoke tests for the benchmarks: they run on a tiny world and return well-formed reports.

No timing is asserted anywhere: the figures are printed by ``carecite bench``, never tested.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from carecite.evaluation.bench import (
    ASK_STAGES,
    QUERY_STAGES,
    Distribution,
    perturbed_vectors,
    render_ingest,
    render_query,
    replicate_chunks,
    run_ingest_bench,
    run_query_bench,
)
from carecite.ports import Embedder
from carecite.synth.dataset import generate


def _rendered(renderable: object) -> str:
    console = Console(width=160, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def test_percentiles_interpolate_like_numpy() -> None:
    samples = [5.0, 1.0, 3.0, 2.0, 4.0, 10.0]
    d = Distribution.of(samples)
    assert d.n == 6
    assert d.p50 == round(float(np.percentile(samples, 50)), 2)
    assert d.p95 == round(float(np.percentile(samples, 95)), 2)
    assert d.max == 10.0
    assert Distribution.of([]).n == 0


def test_ingest_bench_on_a_three_patient_world_reports_consistent_figures(
    embedder: Embedder, tmp_path: Path
) -> None:
    report = run_ingest_bench([3], embedder=embedder, work_dir=tmp_path, progress=False)
    (scale,) = report.scales
    assert scale.patients == 3
    assert scale.notes > 0 and scale.chunks > 0
    assert scale.consistent  # SQL, Chroma and BM25 hold the same chunks
    assert scale.wall_s > 0 and scale.raw_encode_s > 0 and scale.overhead > 0
    assert scale.embed_s > 0 and scale.peak_rss_mb > 0
    assert json.loads(json.dumps(report.to_json()))["scales"][0]["chunks"] == scale.chunks
    assert "overhead" in _rendered(render_ingest(report))
    assert scale.raw_sampled == scale.texts  # a small world is encoded whole
    assert scale.raw_peak_rss_mb > 0 and report.embedder == embedder.fingerprint


def test_the_stand_in_ingest_bench_measures_the_pipeline_without_a_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from carecite.evaluation.bench.common import StandInEmbedder

    monkeypatch.delenv("CARECITE_CHROMA_HOST", raising=False)  # the embedded store, whatever the shell says

    stand_in = StandInEmbedder()
    a, b = stand_in.embed_documents(["x", "y"]), stand_in.embed_documents(["y"])
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0) and np.array_equal(
        a[1], b[0]
    )  # same text, same vector
    report = run_ingest_bench([3], stand_in=True, work_dir=tmp_path, progress=False)
    (scale,) = report.scales
    assert scale.consistent and scale.chunks > 0 and scale.peak_rss_mb > 0
    assert scale.raw_sampled == scale.texts == 0 and scale.raw_encode_s == 0 and scale.ingest_vs_raw == 0
    assert scale.raw_peak_rss_mb == 0
    assert report.embedder == "stand-in-hash:384" and report.vector_store == "embedded Chroma"
    shown = _rendered(render_ingest(report))
    assert "peak RSS MB (ingest)" in shown and "overhead" not in shown and "stand-in-hash:384" in shown


def test_the_raw_encode_of_a_large_world_times_a_seeded_sample() -> None:
    from carecite.evaluation.bench.ingest import raw_sample

    texts = [f"text {i}" for i in range(100)]
    sample = raw_sample(texts, 10, seed=7)
    assert len(sample) == 10 and set(sample) <= set(texts) and sample == raw_sample(texts, 10, seed=7)
    assert raw_sample(texts, None, seed=7) == texts and raw_sample(texts, 500, seed=7) == texts


def test_replicas_move_onto_index_only_patients_with_their_own_ids(
    embedder: Embedder, tmp_path: Path
) -> None:
    from carecite.domain import Chunk

    real = [
        Chunk(
            chunk_id=f"ch_{i}",
            source_type="note_chunk",
            source_ref=f"DocumentReference/{i}",
            doc_id=f"DocumentReference/{i}",
            patient_key="pk1",
            facility=None,
            note_type="Progress note",
            note_type_code=None,
            start=0,
            end=4,
            text="text",
            index_text="text",
        )
        for i in range(3)
    ]
    full = replicate_chunks(real, 8)
    assert len(full) == 8 and len({c.chunk_id for c, _ in full}) == 8
    assert [src for _, src in full] == [0, 1, 2, 0, 1, 2, 0, 1]
    assert full[3][0].patient_key == "pk1~r1" and full[6][0].patient_key == "pk1~r2"

    base = embedder.embed_documents(["a chest x-ray", "an HbA1c of 7.9"])
    vecs = perturbed_vectors(base, {0: 0, 1: 1}, [src for _, src in full], sigma=0.02, seed=1)
    assert vecs.shape == (8, embedder.dim)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vecs[0], base[0], atol=1e-6)  # a real chunk's own vector is exact
    assert 0.8 < float(vecs[3] @ base[0]) < 0.9999  # its replica is a close, distinct neighbour


def test_query_bench_times_every_stage_and_the_baseline(embedder: Embedder, tmp_path: Path) -> None:
    world = tmp_path / "world"
    generate(3, 7, world, gold=True)
    report = run_query_bench(
        world,
        chunks=300,
        queries=1,
        patients=3,
        sample=20,
        embedder=embedder,
        work_dir=tmp_path / "bench",
        plot_dir=tmp_path / "plot",
        warmup=0,
        progress=False,
        cold_runs=1,
    )
    committed, scale = report.committed, report.scale
    assert committed is not None and scale is not None
    assert set(committed.stages) == set(ASK_STAGES)
    assert committed.answered + committed.declined + committed.denied == committed.questions == 1
    assert scale.chunks == 300 and scale.real_chunks < 300 < scale.index_patients * 300
    assert set(scale.stages) == set(QUERY_STAGES)
    assert scale.queries >= 1 and all(d.n == scale.queries for d in scale.stages.values())
    assert set(scale.baseline) == {"embed_query", "chroma_top5", "total"}
    assert scale.stages["total"].p50 >= scale.stages["dense"].p50
    # The rows are the pipeline's own sub-stage timings (Pipeline.search), not a re-typed copy.
    assert all(scale.stages[s].p50 > 0 for s in ("access", "embed_query", "dense", "lexical", "rerank"))
    assert "perturbation" in scale.vector_method or "noise" in scale.vector_method
    assert committed.cold_ask_s is not None and committed.import_s is not None
    assert committed.cold_ask_s > committed.import_s > 0  # a fresh ask really ran, beside a bare import
    assert committed.ui is not None  # a fresh UI process loaded the Ask page and answered
    assert committed.ui.page_load_s > 0 and committed.ui.first_answer_s > 0 and committed.ui.warm_up_s >= 0
    assert 1.0 <= scale.embedded_per_query <= 2.0  # only the question: sentence vectors came from ingest
    payload = json.loads(json.dumps(report.to_json()))
    assert payload["scale"]["chunks"] == 300 and "samples" not in payload["scale"]
    # The stable fields docs/benchmarks.md promises.
    assert payload["committed"]["total_ms"]["p50"] == committed.stages["total"].p50
    assert payload["scale"]["total_ms"]["p95"] == scale.stages["total"].p95
    assert payload["scale"]["baseline_ms"]["p50"] == scale.baseline["total"].p50
    assert payload["cold_ask_s"] == committed.cold_ask_s and payload["peak_rss_mb"] > 0
    assert payload["ui_first_answer_s"] == committed.ui.first_answer_s
    if committed.browser is not None:  # chromium and Playwright are here: a real browser was answered
        assert (
            committed.browser.page_load_s > 0
            and committed.browser.first_answer_s >= committed.browser.ask_s > 0
        )
        assert payload["ui_browser_first_answer_s"] == committed.browser.first_answer_s
    assert payload["ratios"]["scale_vs_baseline_p50"] > 0
    assert report.plot is None or Path(report.plot).is_file()
    text = _rendered(render_query(report))
    assert "baseline total" in text and "pipeline total" in text and "freshly started UI" in text
