"""The Quality page's question-set runs: the ``EvalReport`` files ``carecite eval --json`` writes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from carecite.evaluation.gold import EvalReport


def load_eval_runs(folder: Path) -> tuple[list[EvalReport], list[str]]:
    """Every ``*.json`` run in ``folder`` (oldest first), read as the ``EvalReport`` that
    ``carecite eval --json`` wrote, and a problem line per file that is not one."""
    runs: list[EvalReport] = []
    problems: list[str] = []
    if not folder.is_dir():
        return runs, problems
    for path in sorted(folder.glob("*.json")):
        try:
            runs.append(EvalReport.model_validate_json(path.read_bytes()))
        except OSError as exc:
            problems.append(f"{path.name}: not readable ({exc.__class__.__name__})")
        except ValidationError as exc:
            problems.append(f"{path.name}: not an eval run ({exc.error_count()} problem(s))")
    runs.sort(key=lambda r: (r.ts, r.run_id))
    return runs, problems


# Checked in this order: "citation_precision" is a citation metric, not a retrieval one.
METRIC_GROUPS: dict[str, tuple[str, ...]] = {
    "citation": ("citation", "cite", "support", "faithful", "grounded"),
    "decline": ("decline", "abstain", "refus", "denied", "access", "leak"),
    "retrieval": ("recall", "ndcg", "mrr", "hit", "precision", "retriev"),
}


def metric_group(name: str) -> str:
    low = name.lower()
    for group, needles in METRIC_GROUPS.items():
        if any(n in low for n in needles):
            return group
    return "other"


def metric_rows(runs: Sequence[EvalReport]) -> list[dict[str, object]]:
    """Long-form rows (run, ts, split, group, metric, value) for charts."""
    return [
        {
            "run": r.run_id,
            "ts": r.ts,
            "split": r.split,
            "group": metric_group(name),
            "metric": name,
            "value": v,
        }
        for r in runs
        for name, v in r.metrics.items()
    ]


def latency_rows(runs: Sequence[EvalReport]) -> list[dict[str, object]]:
    return [
        {"run": r.run_id, "stage": stage, "ms": v}
        for r in runs
        for stage, values in r.latency_ms.items()
        for v in values
    ]


def cost_rows(runs: Sequence[EvalReport]) -> list[dict[str, object]]:
    return [{"run": r.run_id, "request": i, "cost_usd": v} for r in runs for i, v in enumerate(r.cost_usd)]


def run_deltas(runs: Sequence[EvalReport]) -> list[dict[str, object]]:
    """Each metric of the newest run (``latest``) beside the run before it (``previous``), and the change."""
    if len(runs) < 2:
        return []
    prev, last = runs[-2], runs[-1]
    out: list[dict[str, object]] = []
    for name in sorted(set(prev.metrics) | set(last.metrics)):
        before, after = prev.metrics.get(name), last.metrics.get(name)
        out.append(
            {
                "metric": name,
                "group": metric_group(name),
                "previous": before,
                "latest": after,
                "change": None if before is None or after is None else round(after - before, 4),
            }
        )
    return out


# The figures issue 25 asks of every set, in the order a reader weighs them: a wrong fact shown as
# an answer is the worst outcome, an answerable question declined is a failure too.
SET_FIGURES: tuple[tuple[str, str], ...] = (
    ("answer.accuracy", "accuracy"),
    ("wrong_facts", "wrong facts"),
    ("answerable_declined_rate", "answerable declined"),
    ("citation.precision", "citation precision"),
    ("citation.recall", "citation recall"),
)


def authoring_of(question_set: str) -> str:
    """Only sets written by authors who never saw the code are evidence of generalisation."""
    return "independent" if question_set.startswith("independent") else "templated"


def set_rows(runs: Sequence[EvalReport]) -> list[dict[str, object]]:
    """The latest run of each (set, split): the five figures per set, independent sets first."""
    latest: dict[tuple[str, str], EvalReport] = {}
    for r in runs:  # oldest first: later runs replace earlier ones
        latest[(r.question_set, r.split)] = r
    rows: list[dict[str, object]] = []
    for (name, split), r in latest.items():
        row: dict[str, object] = {
            "set": name,
            "split": split,
            "authoring": authoring_of(name),
            "questions": int(r.metrics.get("questions", len(r.results))),
        }
        for key, label in SET_FIGURES:
            value = r.metrics.get(key)
            if value is None and key == "wrong_facts":  # runs saved before the figure existed
                parts = [r.metrics.get("answer.wrong_fact"), r.metrics.get("absent.wrongly_answered")]
                value = sum(p for p in parts if p is not None) if any(p is not None for p in parts) else None
            row[label] = value
        row["run"] = r.run_id
        row["when"] = r.ts
        rows.append(row)
    rows.sort(key=lambda row: (row["authoring"] != "independent", str(row["set"]), str(row["split"])))
    return rows
