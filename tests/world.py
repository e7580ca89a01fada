"""The ingested synthetic world, shared by the tests that need the whole product.

Built ONCE per test run (across pytest-xdist workers, guarded by a file lock) into a template data
dir, then copied per test module, so tests that write (audit records, re-ingests) never see each
other's state. Policies: the CMS NCDs the gold questions cite plus 40 others as distractors, read
from ../shared/data (absent → the world has no policies and coverage tests skip).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from filelock import FileLock

from carecite.package_data import COMMITTED_WORLD
from carecite.settings import Settings

SYNTHETIC = COMMITTED_WORLD
GOLD = SYNTHETIC / "gold.jsonl"
DISTRACTOR_POLICIES = 40


def gold_questions() -> list[dict[str, object]]:
    return [json.loads(line) for line in GOLD.read_text().splitlines() if line.strip()]


def _policy_subset(shared: Path, dest: Path) -> Path | None:
    source = shared / "cms_ncd" / "ncd_documents.jsonl"
    if not source.is_file():
        return None
    from carecite.synth.dataset import cited_policies

    wanted = {ref.removeprefix("Policy/") for ref in cited_policies(SYNTHETIC)}
    lines = source.read_text().splitlines()
    keep = [line for line in lines if json.loads(line)["ncd_id"] in wanted]
    keep += [line for line in lines if json.loads(line)["ncd_id"] not in wanted][:DISTRACTOR_POLICIES]
    dest.write_text("\n".join(keep) + "\n")
    return dest


def build_world(data_dir: Path, shared: Path, embedder: object) -> None:
    from carecite.ingest.policies import ingest_policies
    from carecite.stores import Stores
    from carecite.synth.dataset import ingest_synthetic

    stores = Stores(Settings(data_dir=data_dir, shared_data_dir=shared), embedder=embedder)  # type: ignore[arg-type]
    report = ingest_synthetic(stores, SYNTHETIC, progress=False)
    assert report.ok, report.problems
    policies = _policy_subset(shared, data_dir.parent / f"{data_dir.name}-policies.jsonl")
    if policies is not None:
        ingest_policies(stores, policies, progress=False)
    # Fold the WAL into the database and close every connection now: otherwise the engine closes
    # whenever it is garbage-collected, deleting carecite.sqlite-wal while another xdist worker is
    # copying the template.
    with stores.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    stores.engine.dispose()
    (data_dir / ".built").write_text("ok")


def world_template(tmp_path_factory: pytest.TempPathFactory, shared: Path, embedder: object) -> Path:
    """The built template dir, shared by all xdist workers of this run."""
    root = tmp_path_factory.getbasetemp()
    if root.name.startswith("popen-gw"):  # xdist: share one build across workers
        root = root.parent
    template = root / "world-template"
    with FileLock(str(root / "world-template.lock")):
        if not (template / ".built").exists():
            shutil.rmtree(template, ignore_errors=True)
            build_world(template, shared, embedder)
    return template


def copy_world(template: Path, dest: Path) -> Path:
    # The template's WAL was checkpointed and its connections closed (build_world): any -wal/-shm
    # file left is empty bookkeeping, and copying it could race with its deletion.
    shutil.copytree(template, dest, ignore=shutil.ignore_patterns("*.sqlite-wal", "*.sqlite-shm"))
    return dest
