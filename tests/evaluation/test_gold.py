"""Regression: the gold set through the real pipeline must not fall below the recorded floors.

Floors live in src/carecite/evaluation/floors.json (measured, then set a little below); raising
quality means raising them in the same commit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from carecite.evaluation.gold import load_gold, report, run_gold, score
from carecite.package_data import COMMITTED_WORLD

FLOORS = Path(__file__).resolve().parents[2] / "src" / "carecite" / "evaluation" / "floors.json"
GOLD = COMMITTED_WORLD / "gold.jsonl"


@pytest.fixture(scope="module")
def dev_results(world_pipeline):  # type: ignore[no-untyped-def]
    return run_gold(world_pipeline, load_gold(GOLD, "dev"), progress=False)


def test_offline_answerer_meets_the_recorded_floors(dev_results) -> None:  # type: ignore[no-untyped-def]
    floors = json.loads(FLOORS.read_text())["offline_dev"]
    assert floors, "no floors recorded"
    metrics = score(dev_results)
    below = {k: (metrics[k], floor) for k, floor in floors.items() if metrics[k] < floor}
    assert not below, f"metrics below their floor (got, floor): {below}"


def test_no_denied_question_is_ever_answered(dev_results) -> None:  # type: ignore[no-untyped-def]
    leaks = [r.id for r in dev_results if r.expect == "denied" and r.outcome != "denied"]
    assert not leaks


def test_report_has_per_category_and_gate_sweep(dev_results) -> None:  # type: ignore[no-untyped-def]
    rep = report(dev_results, split="dev", answerer="extractive")
    assert "overdue_tasks" in rep.per_category
    assert [row["threshold"] for row in rep.gate_sweep][:2] == [0.0, 0.1]
    assert rep.latency_ms["total"] and all(v > 0 for v in rep.latency_ms["total"])


def test_scripted_llm_with_invented_citations_never_reaches_the_user(world_settings, embedder) -> None:  # type: ignore[no-untyped-def]
    """A scripted LLM that invents a fact citing [S9] (of at most 6 sources): it never reaches the user."""
    from carecite.answering.pipeline import AskRequest
    from carecite.stores import Stores
    from carecite.wiring import build_pipeline
    from fakes import ScriptedChatModel

    questions = [q for q in load_gold(GOLD, "dev") if q.expect == "answer"][:5]
    replies = [
        "The patient also won the state lottery last week [S9]. Nothing further is documented [S1]."
    ] * 5
    pipeline = build_pipeline(
        world_settings,
        stores=Stores(world_settings, embedder=embedder),
        chat_model=ScriptedChatModel(replies),
    )
    for q in questions:
        answer = pipeline.ask(AskRequest(question=q.question, user_id=q.user_id, patient_id=q.patient_id))
        assert "lottery" not in answer.answer and "[S9]" not in answer.answer
        assert all(c.marker != "S9" for c in answer.citations)
        if not answer.declined:
            assert any("lottery" in s for s in answer.unsupported_sentences)


def test_citation_recall_counts_facts_each_citable_by_any_of_its_sources() -> None:
    """A vaccine dose cited as the Immunization (not also its visit's note) is fully recalled; a list
    of two plans with one cited is half recalled; without facts, every ref is one."""
    from carecite.evaluation.gold import QuestionResult

    def result(cited: list[str], refs: list[str], facts: list[tuple[str, ...]]) -> QuestionResult:
        return QuestionResult(
            id="q", category="c", expect="answer", outcome="answer", decline_reason=None,
            expected_refs=refs, expected_facts=facts, retrieved_refs=cited, cited_refs=cited,
            best_score=1.0, unsupported=0, timings_ms={}, cost_usd=0.0,
        )  # fmt: skip

    dose = result(
        ["Immunization/1"],
        ["Immunization/1", "DocumentReference/9"],
        [("Immunization/1", "DocumentReference/9")],
    )
    assert score([dose])["citation.recall"] == 1.0
    plans = result(["CarePlan/a#activity=1"], ["CarePlan/a", "CarePlan/a#activity=1", "CarePlan/b"],
                   [("CarePlan/a", "CarePlan/a#activity=1"), ("CarePlan/b",)])  # fmt: skip
    assert score([plans])["citation.recall"] == 0.5
    flat = result(["Condition/1"], ["Condition/1", "Condition/2"], [])
    assert score([flat])["citation.recall"] == 0.5
