"""The Quality page (app/pages/3_Quality.py) reads <data dir>/eval_runs/*.json from `carecite eval`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import ui_world
from streamlit.testing.v1 import AppTest

QUALITY = str(ui_world.REPO / "app" / "pages" / "3_Quality.py")

RUN_1 = {
    "run_id": "run-1",
    "ts": "2026-11-20T10:00:00+00:00",
    "split": "dev",
    "answerer": "extractive",
    "metrics": {"recall@5": 0.71, "citation_precision": 0.80, "decline_accuracy": 0.90, "p50_latency": 900.0},
    "per_category": {"overdue_tasks": {"recall@5": 0.8}, "unanswerable": {"decline_accuracy": 1.0}},
    "latency_ms": {"retrieve": [80.0, 95.5], "rerank": [900.0, 1100.0], "total": [1200.0, 1500.0]},
    "cost_usd": [0.0, 0.0],
}
RUN_2 = {  # a newer run without a decline metric or latencies
    "run_id": "run-2",
    "ts": "2026-11-21T10:00:00+00:00",
    "split": "dev",
    "answerer": "llm",
    "metrics": {"recall@5": 0.75, "citation_precision": 0.78},
    "per_category": {},
    "latency_ms": {},
    "cost_usd": [0.0012, 0.0009],
}
NOT_A_RUN = {"run_id": "run-3", "metrics": {"recall@5": "n/a"}}  # not what `carecite eval --json` writes


@pytest.fixture
def quality_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CARECITE_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_without_runs_the_page_says_how_to_create_them(quality_dir: Path) -> None:
    at = AppTest.from_file(QUALITY, default_timeout=60).run()
    assert not at.exception
    # a command that works as written after `make demo`: the venv's carecite, this data dir
    assert any(f".venv/bin/carecite --data-dir {quality_dir} eval --json" in i.value for i in at.info)


def test_runs_are_charted_and_compared(quality_dir: Path) -> None:
    runs = quality_dir / "eval_runs"
    runs.mkdir(parents=True)
    (runs / "a.json").write_text(json.dumps(RUN_1))
    (runs / "b.json").write_text(json.dumps(RUN_2))
    (runs / "broken.json").write_text("{not json")
    (runs / "partial.json").write_text(json.dumps(NOT_A_RUN))
    at = AppTest.from_file(QUALITY, default_timeout=60).run()
    assert not at.exception, at.exception
    assert any("broken.json" in w.value for w in at.warning)
    assert any("partial.json: not an eval run" in w.value for w in at.warning)
    assert (
        len(at.get("vega_lite_chart")) == 5
    )  # retrieval, citation (run-2 has no valid decline metric), trend, latency, cost
    deltas = at.dataframe[-1].value
    row = deltas[deltas["metric"] == "recall@5"].iloc[0]
    assert row["change"] == pytest.approx(0.04)
    assert any("previous = `run-1`, latest = `run-2`" in c.value for c in at.caption)


def test_live_view_plots_real_traffic_from_the_audit_trail(app_env: Path, audited_answer: object) -> None:
    at = AppTest.from_file(QUALITY, default_timeout=120).run()
    assert not at.exception, at.exception
    headline = {m.label: m.value for m in at.metric}
    assert int(headline["Requests"]) >= 1 and headline["Decline rate"].endswith("%")
    # requests, latency, score vs gate, usage, and the drift chart at least
    assert len(at.get("vega_lite_chart")) >= 5
    captions = " ".join(c.value for c in at.caption)
    assert "alert at cosine shift ≥ 0.1" in captions and "Reference snapshot 20" in captions
    assert not any("Traceback" in e.value for e in at.error)


def test_live_view_without_data_says_how_to_get_some(quality_dir: Path) -> None:
    at = AppTest.from_file(QUALITY, default_timeout=60).run()
    assert not at.exception
    assert any("live quality appears once" in i.value for i in at.info)
