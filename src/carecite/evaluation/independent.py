"""Question sets written by authors who never saw carecite's code, rules or answers (issue 25).

Each author (a helper session given only the data files and a brief, ``question_sets/independent/
CONTRACT.md``) wrote questions the way their persona types them and computed the ground truth from
the data with their own script (kept beside the set as ``make_truth.py``). The split is by author:
author A's questions are the dev split, author B's the test split, so a rule fitted to one author's
wording is measured on another author's. The test author's set is only ever run; its figures are
read, never its questions one by one.

A set is frozen: ``FROZEN.json`` records the sha256 of its file and of its questions alone (id,
world, patient, question). ``carecite eval`` refuses a set whose file changed, unless only the ground
truth changed and ``FROZEN.json``'s ``truth_changes`` log names the new file hash and why.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from carecite.evaluation.gold import GoldQuestion
from carecite.package_data import QUESTION_SETS

if TYPE_CHECKING:
    from carecite.stores import Stores

INDEPENDENT_DIR = QUESTION_SETS / "independent"
FROZEN_FILE = INDEPENDENT_DIR / "FROZEN.json"
World = Literal["demo", "synthea", "mtsamples"]
WORLDS: tuple[World, ...] = ("demo", "synthea", "mtsamples")
# The reader every independent question is asked as: a physician who may see every patient of the
# store and every sensitivity label, so the ground truth is "what the patient's chart holds" (access
# is measured by the adversarial suite, not here).
INDEPENDENT_USER = "eval-chart-reader"
ALL_SETS = ("independent", *(f"independent-{w}" for w in WORLDS))


class AuthoredQuestion(BaseModel):
    """One line of an author's ``questions.jsonl``, as CONTRACT.md defines it."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    world: World
    patient_id: str
    question: str
    expect: Literal["answer", "decline"]
    expected_facts: tuple[tuple[str, ...], ...] = ()
    expected_spans: tuple[tuple[str, int, int], ...] = ()
    category: str
    truth: str = ""

    def question_key(self) -> str:
        """What the question is, apart from its ground truth: the part that may never change."""
        return json.dumps([self.id, self.world, self.patient_id, self.question], ensure_ascii=False)


class FrozenSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    file: str
    split: Literal["dev", "test"]
    author: str
    frozen_at: str
    sha256: str
    questions_sha256: str
    questions: int


class TruthChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    set: str
    date: str
    from_sha256: str
    to_sha256: str
    why: str


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    comment: str = Field(default="", alias="_comment")
    sets: dict[str, FrozenSet]
    truth_changes: list[TruthChange] = Field(default_factory=list)


class NotFrozen(ValueError):
    """A set's file is not the one frozen: its questions changed, or its truth changed unlogged."""


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def questions_sha256(questions: Iterable[AuthoredQuestion]) -> str:
    return hashlib.sha256("\n".join(q.question_key() for q in questions).encode()).hexdigest()


def read_authored(path: Path) -> list[AuthoredQuestion]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [AuthoredQuestion.model_validate_json(line) for line in lines if line.strip()]


def load_frozen(path: Path = FROZEN_FILE) -> Frozen:
    return Frozen.model_validate_json(path.read_text(encoding="utf-8"))


def checked(name: str, frozen: Frozen, root: Path = INDEPENDENT_DIR) -> list[AuthoredQuestion]:
    """The author's questions, or NotFrozen when the file is not the frozen one."""
    entry = frozen.sets[name]
    path = root / entry.file
    questions = read_authored(path)
    digest = file_sha256(path)
    if digest == entry.sha256:
        return questions
    if questions_sha256(questions) != entry.questions_sha256:
        raise NotFrozen(
            f"question set {name} ({entry.file}) changed its questions since it was frozen; a frozen set's "
            "questions never change (write a new set instead)"
        )
    logged = {c.to_sha256 for c in frozen.truth_changes if c.set == name}
    if digest not in logged:
        raise NotFrozen(
            f"the ground truth of question set {name} ({entry.file}) changed without a log entry: add "
            f"one to {FROZEN_FILE.name}'s truth_changes with to_sha256 {digest} and why"
        )
    return questions


def freeze(
    name: str, file: str, split: Literal["dev", "test"], author: str, *, root: Path = INDEPENDENT_DIR
) -> Frozen:
    """Record a new author's set in FROZEN.json, before carecite answers any of it (a set already
    frozen is never re-frozen: its questions stay as they were first run)."""
    path = root / FROZEN_FILE.name
    frozen = load_frozen(path) if path.exists() else Frozen(sets={})
    if name in frozen.sets:
        raise NotFrozen(f"question set {name} is frozen already")
    questions = read_authored(root / file)
    frozen.sets[name] = FrozenSet(
        file=file,
        split=split,
        author=author,
        frozen_at=datetime.now(UTC).isoformat(timespec="seconds"),
        sha256=file_sha256(root / file),
        questions_sha256=questions_sha256(questions),
        questions=len(questions),
    )
    path.write_text(frozen.model_dump_json(indent=1, by_alias=True) + "\n", encoding="utf-8")
    return frozen


def _gold(q: AuthoredQuestion, split: Literal["dev", "test"]) -> GoldQuestion:
    refs: list[str] = []
    for ref in [r for fact in q.expected_facts for r in fact] + [span[0] for span in q.expected_spans]:
        if ref not in refs:
            refs.append(ref)
    return GoldQuestion(
        id=q.id,
        split=split,
        category=f"{q.world}:{q.category}",
        user_id=INDEPENDENT_USER,
        patient_id=q.patient_id,
        question=q.question,
        expect=q.expect,
        expected_refs=tuple(refs),
        expected_facts=q.expected_facts,
        expected_spans=q.expected_spans,
    )


def independent_questions(
    set_name: str = "independent", *, frozen: Frozen | None = None, root: Path = INDEPENDENT_DIR
) -> list[GoldQuestion]:
    """Every frozen author's questions of ``set_name`` (one world, or all), split by author."""
    frozen = frozen or load_frozen(root / FROZEN_FILE.name)
    worlds = WORLDS if set_name == "independent" else (set_name.removeprefix("independent-"),)
    out: list[GoldQuestion] = []
    for name, entry in sorted(frozen.sets.items()):
        out.extend(_gold(q, entry.split) for q in checked(name, frozen, root) if q.world in worlds)
    return out


def worlds_of(questions: Sequence[GoldQuestion]) -> set[str]:
    return {q.category.split(":", 1)[0] for q in questions}


def mtsamples_notes(questions: Sequence[GoldQuestion]) -> list[str]:
    """The MTSamples note ids the questions ask about (patient ``mts-<note_id>``)."""
    return sorted(
        {(q.patient_id or "").removeprefix("mts-") for q in questions if q.category.startswith("mtsamples:")}
    )


def prepare_independent(
    stores: Stores,
    shared: Path,
    questions: Sequence[GoldQuestion],
    *,
    progress: bool = True,
    asked_only: bool = False,
) -> None:
    """Ingest the worlds the questions ask about, then the chart reader. Idempotent. ``asked_only``
    (a fast subset): of the Synthea bundles, only the asked patients' (a full run ingests them all,
    so a question naming another patient meets that patient in the directory)."""
    from sqlmodel import Session, select

    from carecite.evaluation.realdata import (
        bundle_files,
        directory_files,
        load_patient,
        load_reports,
        mtsamples_bundle,
        prepare_synthea,
    )
    from carecite.ingest.fhir import ingest_fhir_paths
    from carecite.package_data import COMMITTED_WORLD
    from carecite.records import tables as t
    from carecite.synth.dataset import ingest_synthetic

    worlds = worlds_of(questions)
    if "demo" in worlds:
        ingest_synthetic(stores, COMMITTED_WORLD, progress=progress)
    if "synthea" in worlds and asked_only:
        asked = {q.patient_id for q in questions if q.category.startswith("synthea:")}
        files = [p for p in bundle_files(shared) if load_patient(p).patient_id in asked]
        ingest_fhir_paths(stores, [*directory_files(shared), *files], progress=progress)
    elif "synthea" in worlds:
        prepare_synthea(stores, shared, progress=progress)
    if "mtsamples" in worlds:
        wanted = set(mtsamples_notes(questions))
        folder = stores.settings.data_dir / "eval_data" / "mtsamples"
        folder.mkdir(parents=True, exist_ok=True)
        for report in load_reports(shared):
            if report.note_id in wanted:
                path = folder / f"{report.note_id}.json"
                payload = json.dumps(mtsamples_bundle(report))
                if not path.exists() or path.read_text(encoding="utf-8") != payload:
                    path.write_text(payload, encoding="utf-8")
        ingest_fhir_paths(stores, [folder], progress=progress)
    with Session(stores.engine) as session:
        facilities = {f for row in session.exec(select(t.Patient.facilities)) for f in row.split("|") if f}
    import_chart_reader(stores, facilities)


def import_chart_reader(stores: Stores, facilities: Iterable[str]) -> None:
    """The independent sets' reader, through the real users-file import."""
    from carecite.access.users import import_users
    from carecite.domain import SENSITIVE_LABELS

    users_file = stores.settings.data_dir / "eval_chart_reader.json"
    reader = {
        "id": INDEPENDENT_USER,
        "name": "Evaluation Chart Reader",
        "role": "physician",
        "facilities": sorted(set(facilities)),
        "care_team_only": False,
        "sensitive_access": list(SENSITIVE_LABELS),
    }
    users_file.write_text(json.dumps([reader], indent=1), encoding="utf-8")
    import_users(stores.engine, users_file)
