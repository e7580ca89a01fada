"""The independent question sets (issue 25): frozen by hash, split by author, scored like every set,
and a fast subset run through the real pipeline in CI."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from carecite.evaluation.gold import QuestionResult, is_right, ref_matches, score
from carecite.evaluation.independent import (
    FROZEN_FILE,
    INDEPENDENT_DIR,
    INDEPENDENT_USER,
    NotFrozen,
    TruthChange,
    checked,
    file_sha256,
    independent_questions,
    load_frozen,
    read_authored,
)


def test_every_shipped_set_is_the_file_that_was_frozen() -> None:
    frozen = load_frozen()
    assert frozen.sets, "no independent set is frozen"
    for name in frozen.sets:
        assert checked(name, frozen)  # raises NotFrozen when the file is not the frozen one


def test_the_sets_hold_400_questions_from_two_authors_over_every_world_with_declines() -> None:
    frozen = load_frozen()
    by_author = {name: read_authored(INDEPENDENT_DIR / e.file) for name, e in frozen.sets.items()}
    assert len(by_author) >= 2
    assert sum(len(qs) for qs in by_author.values()) >= 400
    assert {e.split for e in frozen.sets.values()} == {"dev", "test"}  # split by author
    for name, qs in by_author.items():
        worlds = Counter((q.world, q.expect) for q in qs)
        for world in ("demo", "synthea", "mtsamples"):
            assert worlds[(world, "answer")] >= 20, (name, world)
            assert worlds[(world, "decline")] >= 5, (name, world)
        assert all(q.expected_facts or q.expected_spans for q in qs if q.expect == "answer"), name
        assert len({q.id for q in qs}) == len(qs), name


def test_each_author_is_one_split_and_every_question_is_asked_as_the_chart_reader() -> None:
    frozen = load_frozen()
    questions = independent_questions()
    split_of_author = {name: e.split for name, e in frozen.sets.items()}
    for q in questions:
        assert q.split == split_of_author[q.id.split("-", 1)[0]]
        assert q.user_id == INDEPENDENT_USER
    demo = independent_questions("independent-demo")
    assert demo and all(q.category.startswith("demo:") for q in demo)


def _copy_sets(tmp_path: Path) -> Path:
    root = tmp_path / "independent"
    shutil.copytree(INDEPENDENT_DIR, root)
    return root


def test_a_changed_question_is_refused(tmp_path: Path) -> None:
    root = _copy_sets(tmp_path)
    _, entry = next(iter(sorted(load_frozen(root / FROZEN_FILE.name).sets.items())))
    path = root / entry.file
    lines = path.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    first["question"] += " please"
    path.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n", encoding="utf-8")
    with pytest.raises(NotFrozen, match="changed its questions"):
        independent_questions(root=root)


def test_a_truth_change_is_accepted_only_once_it_is_logged(tmp_path: Path) -> None:
    root = _copy_sets(tmp_path)
    frozen_path = root / FROZEN_FILE.name
    name, entry = next(iter(sorted(load_frozen(frozen_path).sets.items())))
    path = root / entry.file
    lines = path.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    first["truth"] = "corrected after a review of the data"
    path.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n", encoding="utf-8")
    with pytest.raises(NotFrozen, match="without a log entry"):
        independent_questions(root=root)
    frozen = load_frozen(frozen_path)
    frozen.truth_changes.append(
        TruthChange(
            set=name, date="2026-12-07", from_sha256=entry.sha256, to_sha256=file_sha256(path), why="test"
        )
    )
    frozen_path.write_text(frozen.model_dump_json(by_alias=True), encoding="utf-8")
    assert independent_questions(root=root)


def _result(**kw: object) -> QuestionResult:
    base: dict[str, object] = {
        "id": "q",
        "category": "c",
        "expect": "answer",
        "outcome": "answer",
        "decline_reason": None,
        "expected_refs": [],
        "retrieved_refs": [],
        "cited_refs": [],
        "best_score": 1.0,
        "unsupported": 0,
        "timings_ms": {},
        "cost_usd": 0.0,
    }
    base.update(kw)
    return QuestionResult.model_validate(base)


def test_a_plan_expected_as_a_whole_is_cited_by_any_of_its_activities_but_not_the_reverse() -> None:
    assert ref_matches("CarePlan/p#activity=2", "CarePlan/p")
    assert not ref_matches("CarePlan/p", "CarePlan/p#activity=2")
    assert not ref_matches("CarePlan/p#activity=1", "CarePlan/p#activity=2")


def test_a_note_with_spans_is_right_only_inside_them_and_a_record_by_its_ref() -> None:
    note = "DocumentReference/n"
    spans = [(note, 100, 200)]
    inside = _result(expected_refs=[note, "Observation/o"], expected_spans=spans, cited_refs=[note])
    assert not is_right(inside.model_copy(update={"cited_spans": [(note, 250, 260)]}))
    assert is_right(inside.model_copy(update={"cited_spans": [(note, 120, 160)]}))
    assert is_right(inside.model_copy(update={"cited_refs": ["Observation/o"]}))


def test_wrong_facts_add_wrong_values_and_answered_absent_questions() -> None:
    results = [
        _result(expected_refs=["Observation/a"], cited_refs=["Observation/b"]),  # wrong value
        _result(expect="decline", cited_refs=["Observation/b"]),  # absent, answered
        _result(expected_refs=["Observation/a"], cited_refs=["Observation/a"]),  # right
        _result(expected_refs=["Observation/a"], outcome="decline"),  # answerable, declined
    ]
    m = score(results)
    assert m["wrong_facts"] == 2.0
    assert m["answer.accuracy"] == pytest.approx(1 / 3, abs=1e-3)
    assert m["answerable_declined_rate"] == pytest.approx(1 / 3, abs=1e-3)


def test_eval_list_names_every_set_with_its_authoring_hash_and_splits(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from carecite.cli import app

    res = CliRunner().invoke(app, ["--data-dir", str(tmp_path / "d"), "eval", "--list", "--json"])
    assert res.exit_code == 0, res.output
    rows = {r["name"]: r for r in json.loads(res.stdout)}
    frozen = load_frozen()
    independent = rows["independent"]
    assert independent["authoring"] == "independent"
    assert independent["questions"] == sum(e.questions for e in frozen.sets.values())
    assert independent["splits"]["dev"] > 0 and independent["splits"]["test"] > 0
    assert len(independent["frozen_sha256"]) == 64
    assert rows["gold"]["authoring"] == "templated" and rows["gold"]["questions"] == 190
    assert {"synthea", "mtsamples", "cms", "independent-demo"} <= set(rows)


@pytest.mark.shared_data
@pytest.mark.slow
def test_a_fast_subset_runs_through_the_real_pipeline_and_holds_its_floors(
    shared_data: Path, tmp_path: Path, embedder: object
) -> None:
    """The CI subset: the first questions of each author and world, through ingest, access,
    retrieval, the gate, the answerer and verification. Floors are regression checks under the
    first-run figures of the whole sets (docs/evaluation.md), not targets."""
    from carecite.evaluation.gold import run_gold
    from carecite.evaluation.sets import prepare_set, questions_for
    from carecite.settings import Settings
    from carecite.stores import Stores
    from carecite.wiring import build_pipeline, build_redactor

    settings = Settings(data_dir=tmp_path / "data", shared_data_dir=shared_data)
    stores = Stores(settings, embedder=embedder)  # type: ignore[arg-type]
    subset = [q for q in questions_for("independent-mtsamples", shared_data, limit=6)]
    subset += questions_for("independent-synthea", shared_data, limit=3)
    prepare_set("independent-mtsamples", stores, shared_data, progress=False, limit=6)
    prepare_set("independent-synthea", stores, shared_data, progress=False, limit=3)
    pipeline = build_pipeline(settings, stores=stores, redactor=build_redactor())
    results = run_gold(pipeline, subset, progress=False)
    m = score(results)
    assert m["questions"] == len(subset) == 18
    assert {r.outcome for r in results} <= {"answer", "decline"}  # the chart reader is never denied
    assert m["outcome.accuracy"] >= FLOORS["outcome.accuracy"]
    assert m["wrong_facts"] <= FLOORS["wrong_facts"]


@pytest.mark.slow
def test_a_fast_demo_subset_runs_over_the_committed_world(world_pipeline: object, shared_data: Path) -> None:
    """The demo-world part of the CI subset, over the test run's one ingest of the committed world."""
    from carecite.answering.pipeline import Pipeline
    from carecite.evaluation.gold import run_gold
    from carecite.evaluation.independent import import_chart_reader
    from carecite.evaluation.sets import questions_for

    assert isinstance(world_pipeline, Pipeline)
    facilities = [f"Organization/org-{o}" for o in ("mercy", "lakeside", "harbor", "northside")]
    import_chart_reader(world_pipeline.stores, facilities)
    subset = questions_for("independent-demo", shared_data, limit=10)
    results = run_gold(world_pipeline, subset, progress=False)
    m = score(results)
    assert m["questions"] == len(subset) == 20
    assert {r.outcome for r in results} <= {"answer", "decline"}
    assert m["outcome.accuracy"] >= DEMO_FLOORS["outcome.accuracy"]
    assert m["wrong_facts"] <= DEMO_FLOORS["wrong_facts"]


# Measured on these subsets at the session-12 code (docs/evaluation.md): outcome accuracy 0.72 with 1 wrong
# fact (MTSamples + Synthea, 18 questions), 0.65 with 5 (demo, 20). A change that answers more wrongly fails.
FLOORS = {"outcome.accuracy": 0.70, "wrong_facts": 1.0}
DEMO_FLOORS = {"outcome.accuracy": 0.60, "wrong_facts": 5.0}
