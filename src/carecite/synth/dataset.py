"""The deterministic synthetic world: FHIR R4 transaction bundles, users and a gold question set.

    world = generate_world(patients=60, seed=7)       # cheap; patients are generated lazily
    manifest = write_world(world, Path("synthetic_data"))

Output (byte-identical for a given seed and patient count; no wall clock, no uuid4):

* ``fhir/directory.json`` — Organizations (4 facilities) and Practitioners, one transaction bundle;
* ``fhir/patient-NNNNN.json`` — one transaction bundle per patient, ``urn:uuid:`` fullUrls inside,
  ``Organization/<id>`` and ``Practitioner/<id>`` references to the directory;
* ``users.json`` — the users file (DESIGN.md schema);
* ``gold.jsonl`` — gold questions (built from the first ``GOLD_PATIENT_LIMIT`` patients);
* ``manifest.json`` — seed, patient count, as-of date, counts, generator version.

The world is frozen at ``AS_OF`` (2026-11-20): "overdue" means due before it and not done,
"upcoming" means starting after it. ``ingest_synthetic`` loads a written world into a data dir and
records the as-of date so every "today" question is answered against it.

How the world is built: ``synth/`` (vocabulary, FHIR builder, storylines, note writers,
gold questions).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from carecite.synth.gold import GoldQuestion, build_gold
from carecite.synth.model import PatientRecord
from carecite.synth.world import AS_OF, GENERATOR_VERSION, World, generate_world

if TYPE_CHECKING:
    from carecite.ingest.fhir import IngestReport
    from carecite.stores import Stores

__all__ = [
    "AS_OF",
    "GENERATOR_VERSION",
    "GOLD_PATIENT_LIMIT",
    "GoldQuestion",
    "Manifest",
    "PatientRecord",
    "World",
    "generate_world",
    "ingest_synthetic",
    "load_gold",
    "write_world",
]

# Gold questions are built from at most this many patients: the per-category quotas are met long
# before, and a 5,000-patient benchmark world then needs no second pass over its patients.
GOLD_PATIENT_LIMIT = 200
FHIR_DIR = "fhir"


@dataclass
class Manifest:
    seed: int
    patients: int
    as_of: date
    generator_version: str
    counts: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "patients": self.patients,
            "as_of": self.as_of.isoformat(),
            "generator_version": self.generator_version,
            "command": f"carecite synth --patients {self.patients} --seed {self.seed} --out <DIR>",
            "counts": self.counts,
        }


def _dump(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"


@contextmanager
def _progress(enabled: bool, total: int) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=True) as bar:
        yield (bar, bar.add_task("synthetic patients", total=total))


def write_world(world: World, out: Path, *, gold: bool = True, progress: bool = False) -> Manifest:
    """Stream the world to ``out`` (one patient in memory at a time). Returns the manifest written.

    Earlier ``fhir/patient-*.json`` files in ``out`` are removed first, so a smaller world written
    over a larger one leaves no stale patients behind. Nothing else in ``out`` is touched.
    """
    fhir_dir = out / FHIR_DIR
    fhir_dir.mkdir(parents=True, exist_ok=True)
    for stale in fhir_dir.glob("patient-*.json"):
        stale.unlink()
    (fhir_dir / "directory.json").write_text(_dump(world.directory_bundle()), encoding="utf-8")

    resources: Counter[str] = Counter()
    notes: Counter[str] = Counter()
    labelled: Counter[str] = Counter()
    facilities: Counter[str] = Counter()
    storylines: Counter[str] = Counter()
    kept: list[PatientRecord] = []
    with _progress(progress, world.patients) as bar:
        for p in world.iter_patients():
            (fhir_dir / f"patient-{p.index + 1:05d}.json").write_text(_dump(p.bundle), encoding="utf-8")
            for entry in p.bundle["entry"]:
                resources[entry["resource"]["resourceType"]] += 1
            for n in p.facts.notes:
                notes[n.kind] += 1
                for label in n.labels:
                    labelled[label] += 1
            facilities[p.facility.ref] += 1
            storylines[p.facts.storyline] += 1
            if gold and p.index < GOLD_PATIENT_LIMIT:
                kept.append(p)
            if bar is not None:
                bar[0].advance(bar[1])

    (out / "users.json").write_text(json.dumps(world.users_json(), indent=2) + "\n", encoding="utf-8")
    questions = build_gold(kept, world.seed, world.as_of) if gold else []
    gold_path = out / "gold.jsonl"
    if gold:
        gold_path.write_text("".join(_dump(q.as_json()) for q in questions), encoding="utf-8")
    elif gold_path.exists():
        gold_path.unlink()  # a gold file from another world would not match these bundles

    manifest = Manifest(world.seed, world.patients, world.as_of, GENERATOR_VERSION)
    manifest.counts = {
        "resources": dict(sorted(resources.items())),
        "notes": sum(notes.values()),
        "notes_by_type": dict(sorted(notes.items())),
        "labelled_notes": dict(sorted(labelled.items())),
        "patients_by_facility": dict(sorted(facilities.items())),
        "storylines": dict(sorted(storylines.items())),
        "users": len(world.users),
        "gold": len(questions),
        "gold_by_category": dict(sorted(Counter(q.category for q in questions).items())),
        "gold_by_split": dict(sorted(Counter(q.split for q in questions).items())),
    }
    (out / "manifest.json").write_text(json.dumps(manifest.as_json(), indent=2) + "\n", encoding="utf-8")
    return manifest


def load_gold(path: Path) -> list[dict[str, Any]]:
    """The gold file as a list of dicts (one JSON object per line)."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def cited_policies(world: Path) -> set[str]:
    """The coverage policies (``Policy/<ncd_id>``) the world's gold questions cite: the demo's
    default policy set, and what the test world always ingests."""
    return {
        str(ref)
        for q in load_gold(world / "gold.jsonl")
        for ref in q.get("expected_refs", [])
        if str(ref).startswith("Policy/")
    }


def ingest_synthetic(
    stores: Stores, data: Path, *, progress: bool = True, write_vectors: bool = False
) -> IngestReport:
    """Load a written world into ``stores``: the FHIR bundles, the users, and the as-of date
    (``Meta["as_of"]``, read by ``carecite.records.clock.today``). The world's vector seed, when it
    ships one for this model, spares embedding what it holds (``ingest.vector_seed``);
    ``write_vectors`` ignores it, embeds everything and writes a new one."""
    from carecite.access.users import import_users
    from carecite.ingest.fhir import ingest_fhir_paths
    from carecite.ingest.indexing import ingest_cache
    from carecite.ingest.vector_seed import load_seed, write_seed
    from carecite.records import session_scope
    from carecite.records.clock import AS_OF_KEY
    from carecite.records.tables import Meta

    manifest = json.loads((data / "manifest.json").read_text(encoding="utf-8"))
    # The as-of date first: the sync renders each patient's record statements relative to "today"
    # (overdue, upcoming), and embeds them; rendered against the machine's date they were wrong
    # until the next sync re-embedded them all.
    with session_scope(stores.engine) as session:
        session.merge(Meta(key=AS_OF_KEY, value=str(manifest["as_of"])))
    cache = ingest_cache(stores.embedder)
    seed = None if write_vectors else load_seed(data, stores.embedder)
    if seed is not None:
        seed.into(cache)
    report = ingest_fhir_paths(stores, [data / FHIR_DIR], progress=progress, cache=cache)
    if write_vectors:
        write_seed(data, stores.embedder, cache)
    import_users(stores.engine, data / "users.json")
    return report


def generate(patients: int, seed: int, out: Path, *, gold: bool = True, progress: bool = False) -> Manifest:
    """``carecite synth``: generate and write in one call."""
    return write_world(generate_world(patients, seed), out, gold=gold, progress=progress)
