"""A small demo data dir for the UI tests: 7 patients of the committed synthetic world.

Built once per test session (ingesting all 60 patients takes minutes on a loaded machine). The
people and questions below come from ``synthetic_data/gold.jsonl``, so each one exercises a real
product path: an answer, a decline, a denial, a break-the-glass request.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from carecite.package_data import COMMITTED_WORLD

REPO = Path(__file__).resolve().parents[2]
SYNTHETIC = COMMITTED_WORLD

# patient-00001/17/21/25 belong to Mercy; 00003 to Harbor; 00018 and 00030 to Lakeside.
BUNDLES = ("00001", "00003", "00017", "00018", "00021", "00025", "00030")


@dataclass(frozen=True)
class Cast:
    """Who and what the UI tests use (ids are FHIR ids; names never appear in test logs)."""

    coordinator: str = "cc-ben"  # care coordinator, Mercy, every Mercy patient
    nurse: str = "rn-eli"  # nurse, Lakeside, own care team only: may break the glass
    reviewer: str = "rv-ivan"  # reviewer, every facility, no sensitive labels
    admin: str = "ad-kim"
    answered_patient: str = ""  # patient-00025 (Mercy)
    discharge_patient: str = ""  # patient-00001 (Mercy): discharge summary note
    declined_patient: str = ""  # patient-00021 (Mercy)
    other_facility_patient: str = ""  # patient-00003 (Harbor): outside cc-ben's scope
    break_glass_patient: str = ""  # patient-00018 (Lakeside, not on rn-eli's care team)
    overdue_question: str = "Which tasks are overdue for Samuel?"
    discharge_question: str = "What were the discharge recommendations after the November admission?"
    decline_question: str = "What days does the patient go to dialysis?"  # gold: unanswerable


def patient_id(bundle: str) -> str:
    data = json.loads((SYNTHETIC / "fhir" / f"patient-{bundle}.json").read_text(encoding="utf-8"))
    for entry in data["entry"]:
        if entry["resource"]["resourceType"] == "Patient":
            return str(entry["resource"]["id"])
    raise LookupError(bundle)


def cast() -> Cast:
    return Cast(
        answered_patient=patient_id("00025"),
        discharge_patient=patient_id("00001"),
        declined_patient=patient_id("00021"),
        other_facility_patient=patient_id("00003"),
        break_glass_patient=patient_id("00018"),
    )


def copy_subset(out: Path) -> Path:
    """A synthetic world folder holding only ``BUNDLES`` (plus directory, users and manifest)."""
    (out / "fhir").mkdir(parents=True, exist_ok=True)
    shutil.copy(SYNTHETIC / "fhir" / "directory.json", out / "fhir" / "directory.json")
    for bundle in BUNDLES:
        shutil.copy(SYNTHETIC / "fhir" / f"patient-{bundle}.json", out / "fhir" / f"patient-{bundle}.json")
    for name in ("users.json", "manifest.json"):
        shutil.copy(SYNTHETIC / name, out / name)
    return out


def build(data_dir: Path, work: Path) -> Path:
    """Ingest the subset into ``data_dir`` (a fresh folder) and return it."""
    from carecite.settings import Settings
    from carecite.stores import Stores
    from carecite.synth.dataset import ingest_synthetic

    world = copy_subset(work / "synthetic_subset")
    stores = Stores(Settings(data_dir=data_dir))
    report = ingest_synthetic(stores, world, progress=False)
    if not report.ok:
        raise RuntimeError(f"test world did not ingest cleanly: {report}")
    return data_dir


def shared_data_dir(basetemp: Path) -> Path:
    """The data dir for this test run, built once; pytest-xdist workers share it through a file lock.

    ``basetemp`` is ``tmp_path_factory.getbasetemp()``; under xdist its parent is the run's root.
    """
    root = basetemp.parent if os.environ.get("PYTEST_XDIST_WORKER") else basetemp
    base = root / "carecite-ui-world"
    base.mkdir(parents=True, exist_ok=True)
    data = base / "data"
    with (base / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (base / ".ready").exists():
            build(data, base)
            (base / ".ready").write_text("ok\n")
    return data
