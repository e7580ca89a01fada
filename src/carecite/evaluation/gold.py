"""The gold-set evaluation behind ``carecite eval``.

Every gold question runs through the real ``Pipeline.ask`` (access, retrieval, gate, generation,
verification, audit). Retrieval is scored on the guarded, re-ranked list the answer reports in
``retrieved`` (deduplicated by FHIR ref: several chunks of one note count once); citations against
the gold ``expected_refs``; declines and denials against ``expect``.
"""

from __future__ import annotations

import statistics
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from rich.progress import Progress

from carecite.answering.pipeline import AskRequest, Pipeline
from carecite.domain import Answer
from carecite.evaluation.metrics import hit_at_k, ndcg_at_k, recall_at_k, reciprocal_rank

Expect = Literal["answer", "decline", "denied"]
STAGES = ("access", "retrieve", "rerank", "generate", "verify", "total")


class GoldQuestion(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    id: str
    split: Literal["dev", "test"]
    category: str
    user_id: str
    patient_id: str | None
    question: str
    expect: Expect
    expected_refs: tuple[str, ...] = ()
    # The facts a complete answer states, each as the refs that support it ("the latest flu shot": the
    # Immunization, or the note of the visit that gave it). Empty: every expected ref is a fact.
    expected_facts: tuple[tuple[str, ...], ...] = ()
    # (ref, start, end) in the decoded note: the answer must cite inside one of them (section questions)
    expected_spans: tuple[tuple[str, int, int], ...] = ()


class QuestionResult(BaseModel):
    """One gold question's outcome: what the pipeline did, reduced to what the metrics need."""

    id: str
    category: str
    expect: Expect
    outcome: Expect
    decline_reason: str | None
    expected_refs: list[str]
    expected_facts: list[tuple[str, ...]] = Field(default_factory=list)
    retrieved_refs: list[str]
    cited_refs: list[str]
    best_score: float
    unsupported: int
    expected_spans: list[tuple[str, int, int]] = Field(default_factory=list)
    cited_spans: list[tuple[str, int, int]] = Field(default_factory=list)  # note offsets of each cited span
    timings_ms: dict[str, float]
    cost_usd: float


class EvalReport(BaseModel):
    run_id: str
    ts: str
    split: str
    question_set: str = "gold"
    answerer: str
    metrics: dict[str, float]
    per_category: dict[str, dict[str, float]]
    # Independent sets: the headline figures per world (categories read "<world>:<what>").
    per_world: dict[str, dict[str, float]] = Field(default_factory=dict)
    latency_ms: dict[str, list[float]]
    cost_usd: list[float]
    gate_sweep: list[dict[str, float]] = Field(default_factory=list)
    results: list[QuestionResult] = Field(default_factory=list)


def load_gold(path: Path, split: str | None = None) -> list[GoldQuestion]:
    questions = [
        GoldQuestion.model_validate_json(line) for line in path.read_text().splitlines() if line.strip()
    ]
    return [q for q in questions if split in (None, "all") or q.split == split]


def _refs(refs: Iterable[str]) -> list[str]:
    out: list[str] = []
    for ref in refs:
        if ref not in out:
            out.append(ref)
    return out


def outcome_of(answer: Answer) -> Expect:
    if answer.decline_reason == "access_denied":
        return "denied"
    return "decline" if answer.declined else "answer"


def note_spans(answer: Answer) -> list[tuple[str, int, int]]:
    """Each note or policy citation's spans: offsets into the decoded document, as ``ask --json`` gives them."""
    return [
        (c.source_ref, a, b)
        for c in answer.citations
        if c.source_type in ("note_chunk", "policy")
        for a, b in (c.spans or (c.span,))
    ]


def _inside(span: tuple[str, int, int], sections: Sequence[tuple[str, int, int]]) -> bool:
    ref, a, b = span
    return any(ref == r and s <= a and b <= e for r, s, e in sections)


def run_question(pipeline: Pipeline, q: GoldQuestion) -> QuestionResult:
    answer = pipeline.ask(AskRequest(question=q.question, user_id=q.user_id, patient_id=q.patient_id))
    return QuestionResult(
        id=q.id,
        category=q.category,
        expect=q.expect,
        outcome=outcome_of(answer),
        decline_reason=answer.decline_reason,
        expected_refs=list(q.expected_refs),
        expected_facts=list(q.expected_facts),
        retrieved_refs=_refs(r.source_ref for r in answer.retrieved),
        cited_refs=_refs(c.source_ref for c in answer.citations),
        best_score=max((r.score for r in answer.retrieved), default=0.0),
        unsupported=len(answer.unsupported_sentences),
        timings_ms=dict(answer.timings_ms),
        cost_usd=answer.usage.cost_usd or 0.0,  # unpriced models count as 0 in eval sums
        expected_spans=list(q.expected_spans),
        cited_spans=note_spans(answer) if q.expected_spans else [],
    )


def run_gold(
    pipeline: Pipeline, questions: Sequence[GoldQuestion], *, progress: bool = True
) -> list[QuestionResult]:
    results: list[QuestionResult] = []
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("gold questions", total=len(questions))
        for q in questions:
            results.append(run_question(pipeline, q))
            bar.advance(task)
    return results


def _mean(values: Sequence[float]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0


def ref_matches(cited: str, expected: str) -> bool:
    """A cited ref supports an expected one when it is that ref, or a part of it: an expected
    ``CarePlan/x`` (the plan as a whole) is cited by ``CarePlan/x#activity=2``; an expected activity
    only by itself."""
    return cited == expected or ("#" not in expected and cited.split("#", 1)[0] == expected)


def _cites(cited: Iterable[str], expected: Iterable[str]) -> bool:
    expected = list(expected)
    return any(ref_matches(c, e) for c in cited for e in expected)


def _fact_recall(r: QuestionResult) -> float:
    facts = r.expected_facts or [(ref,) for ref in r.expected_refs]
    return sum(1 for fact in facts if _cites(r.cited_refs, fact)) / len(facts) if facts else 0.0


def is_right(r: QuestionResult) -> bool:
    """An answer is right when it cites the fact's source: inside an expected span for a note that has
    spans (the right section, not just the right note), by ref for every other expected source."""
    if any(_inside(sp, r.expected_spans) for sp in r.cited_spans):
        return True
    span_refs = {ref for ref, _, _ in r.expected_spans}
    return _cites(r.cited_refs, [ref for ref in r.expected_refs if ref not in span_refs])


def score(results: Sequence[QuestionResult]) -> dict[str, float]:
    """The metrics, flat. Retrieval and citation metrics are over answerable questions only."""
    answerable = [r for r in results if r.expect == "answer"]
    rel = [{ref: 1.0 for ref in r.expected_refs} for r in answerable]
    answered = [r for r in answerable if r.outcome == "answer"]
    m: dict[str, float] = {
        "questions": float(len(results)),
        "retrieval.hit@1": _mean(
            [hit_at_k(r.retrieved_refs, q, 1) for r, q in zip(answerable, rel, strict=True)]
        ),
        "retrieval.hit@5": _mean(
            [hit_at_k(r.retrieved_refs, q, 5) for r, q in zip(answerable, rel, strict=True)]
        ),
        "retrieval.mrr": _mean(
            [reciprocal_rank(r.retrieved_refs, q) for r, q in zip(answerable, rel, strict=True)]
        ),
        "retrieval.ndcg@10": _mean(
            [ndcg_at_k(r.retrieved_refs, q, 10) for r, q in zip(answerable, rel, strict=True)]
        ),
        "retrieval.recall@20": _mean(
            [recall_at_k(r.retrieved_refs, q, 20) for r, q in zip(answerable, rel, strict=True)]
        ),
        # Citation precision: of what an answer cited, how much is gold; recall: of the facts the
        # answer must state, how many it cites a source for.
        "citation.precision": _mean(
            [
                sum(_cites([c], r.expected_refs) for c in r.cited_refs) / len(r.cited_refs)
                for r in answered
                if r.cited_refs
            ]
        ),
        "citation.recall": _mean([_fact_recall(r) for r in answered]),
    }
    # Answer accuracy: an answerable question answered with a citation of the right source. An
    # answer that cites none of them shows a wrong fact: the worst outcome, counted on its own.
    right = [r for r in answered if is_right(r)]
    m["answer.accuracy"] = round(len(right) / len(answerable), 4) if answerable else 1.0
    m["answer.wrong_fact"] = float(len(answered) - len(right))
    should_decline = [r for r in results if r.expect == "decline"]
    declined = [r for r in results if r.outcome == "decline"]
    true_declines = [r for r in declined if r.expect == "decline"]
    m["decline.precision"] = round(len(true_declines) / len(declined), 4) if declined else 1.0
    m["decline.recall"] = round(len(true_declines) / len(should_decline), 4) if should_decline else 1.0
    m["answerable_declined_rate"] = (
        round(sum(r.outcome != "answer" for r in answerable) / len(answerable), 4) if answerable else 0.0
    )
    should_deny = [r for r in results if r.expect == "denied"]
    m["denied.accuracy"] = (
        round(sum(r.outcome == "denied" for r in should_deny) / len(should_deny), 4) if should_deny else 1.0
    )
    # A denial or decline question that produced an answer is the costly failure: count them plainly.
    m["wrongly_answered"] = float(sum(r.outcome == "answer" and r.expect != "answer" for r in results))
    m["absent.wrongly_answered"] = float(
        sum(r.outcome == "answer" and r.expect == "decline" for r in results)
    )
    # Every wrong fact shown as an answer: a wrong value for an answerable question, or an answer
    # where the record holds none (issue 25's headline figure beside accuracy and answerable declined).
    m["wrong_facts"] = m["answer.wrong_fact"] + m["absent.wrongly_answered"]
    m["outcome.accuracy"] = (
        round(sum(r.outcome == r.expect for r in results) / len(results), 4) if results else 0.0
    )
    return m


def gate_sweep(results: Sequence[QuestionResult], thresholds: Sequence[float]) -> list[dict[str, float]]:
    """How decline precision/recall and answerable-declined would move with the gate threshold.

    Replays the gate on each question's best re-ranked score: a question the pipeline answered or
    declined as low_confidence is declined at threshold t when its best score is below t.
    Questions denied, or declined for other reasons (no evidence, out of scope, unsupported), keep
    their outcome. Used to calibrate ``gate_min_score`` on the dev split (docs/evaluation.md).
    """
    rows: list[dict[str, float]] = []
    gated = [r for r in results if r.outcome == "answer" or r.decline_reason == "low_confidence"]
    others = [r for r in results if r not in gated]
    for t in thresholds:
        declined = [r for r in gated if r.best_score < t] + [r for r in others if r.outcome == "decline"]
        should = [r for r in results if r.expect == "decline"]
        answerable = [r for r in results if r.expect == "answer"]
        tp = sum(r.expect == "decline" for r in declined)
        rows.append(
            {
                "threshold": t,
                "decline.precision": round(tp / len(declined), 4) if declined else 1.0,
                "decline.recall": round(tp / len(should), 4) if should else 1.0,
                "answerable_declined_rate": round(
                    sum(r in declined or r.outcome == "denied" for r in answerable) / len(answerable), 4
                )
                if answerable
                else 0.0,
            }
        )
    return rows


# The figures every set is judged by (issue 25): right answers, wrong facts, answerable declines, citations.
HEADLINE = (
    "questions",
    "answer.accuracy",
    "wrong_facts",
    "answer.wrong_fact",
    "absent.wrongly_answered",
    "answerable_declined_rate",
    "citation.precision",
    "citation.recall",
)


def report(
    results: Sequence[QuestionResult], *, split: str, answerer: str, question_set: str = "gold"
) -> EvalReport:
    per_category: dict[str, dict[str, float]] = {}
    by_cat: dict[str, list[QuestionResult]] = defaultdict(list)
    for r in results:
        by_cat[r.category].append(r)
    for cat, rs in sorted(by_cat.items()):
        s = score(rs)
        per_category[cat] = {
            k: v
            for k, v in s.items()
            if k
            in {
                "questions",
                "outcome.accuracy",
                "retrieval.hit@5",
                "retrieval.mrr",
                "citation.precision",
                "citation.recall",
            }
        }
    by_world: dict[str, list[QuestionResult]] = defaultdict(list)
    for r in results:
        if ":" in r.category:
            by_world[r.category.split(":", 1)[0]].append(r)
    per_world = {
        world: {k: v for k, v in score(rs).items() if k in HEADLINE} for world, rs in sorted(by_world.items())
    }
    latency = {stage: [r.timings_ms.get(stage, 0.0) for r in results] for stage in STAGES}
    metrics = score(results)
    for stage in ("retrieve", "rerank", "generate", "verify", "total"):
        values = latency[stage]
        if values:
            metrics[f"latency.{stage}.p50_ms"] = round(statistics.median(values), 1)
    return EvalReport(
        run_id=uuid.uuid4().hex[:12],
        ts=datetime.now(UTC).isoformat(timespec="seconds"),
        split=split,
        question_set=question_set,
        answerer=answerer,
        metrics=metrics,
        per_category=per_category,
        per_world=per_world,
        latency_ms=latency,
        cost_usd=[r.cost_usd for r in results],
        gate_sweep=gate_sweep(results, [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]),
        results=list(results),
    )


def save_report(rep: EvalReport, data_dir: Path) -> Path:
    folder = data_dir / "eval_runs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{rep.ts.replace(':', '')}-{rep.run_id}.json"
    path.write_text(rep.model_dump_json(indent=1))
    return path
