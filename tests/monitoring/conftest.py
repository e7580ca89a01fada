"""A one-patient synthetic world with the real pipeline (real SQLite, Chroma, embeddings, Presidio)."""

from __future__ import annotations

import json
import shutil

import pytest

from carecite.package_data import COMMITTED_WORLD
from carecite.settings import Settings

SYNTHETIC = COMMITTED_WORLD
BUNDLE = "00025"  # a Mercy patient; cc-ben may ask about them


def tiny_patient_id() -> str:
    data = json.loads((SYNTHETIC / "fhir" / f"patient-{BUNDLE}.json").read_text(encoding="utf-8"))
    return next(e["resource"]["id"] for e in data["entry"] if e["resource"]["resourceType"] == "Patient")


@pytest.fixture(scope="module")
def patient_id() -> str:
    return tiny_patient_id()


@pytest.fixture(scope="module")
def tiny_world(tmp_path_factory: pytest.TempPathFactory, embedder):  # type: ignore[no-untyped-def]
    """(settings, stores) for a data dir holding one patient, ingested once per module."""
    from carecite.stores import Stores
    from carecite.synth.dataset import ingest_synthetic

    base = tmp_path_factory.mktemp("tiny")
    world = base / "world"
    (world / "fhir").mkdir(parents=True)
    for name in ("directory.json", f"patient-{BUNDLE}.json"):
        shutil.copy(SYNTHETIC / "fhir" / name, world / "fhir" / name)
    for name in ("users.json", "manifest.json"):
        shutil.copy(SYNTHETIC / name, world / name)
    settings = Settings(data_dir=base / "data", drift_min_samples=3)
    stores = Stores(settings, embedder=embedder)
    report = ingest_synthetic(stores, world, progress=False)
    assert report.ok, report
    return settings, stores


@pytest.fixture(scope="module")
def tiny_pipeline(tiny_world):  # type: ignore[no-untyped-def]
    from carecite.wiring import build_pipeline, build_redactor

    settings, stores = tiny_world
    return build_pipeline(settings, stores=stores, redactor=build_redactor())
