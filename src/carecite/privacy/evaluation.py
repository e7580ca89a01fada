"""Measure a ``Redactor`` on a labelled set: per-type and overall precision / recall.

Labelled set (``data/phi_labelled.jsonl``): one JSON object a line, ``{"id", "text", "spans":
[[start, end, TYPE], ...]}``, hand-written clinical sentences with names, MRNs, dates of birth and
other dates, phones, emails, addresses, SSNs and other identifiers, plus negatives (eponyms, drugs,
doses, vitals, labs) that carry no span and must stay untouched.

Matching rule (span overlap, type-agnostic, because for privacy what matters is that the characters
are masked, not what they are called):
  * a gold span is *found* when any predicted span shares at least one character with it;
  * a predicted span is *correct* when it shares at least one character with any gold span;
  * recall = found gold / all gold, precision = correct predictions / all predictions;
  * ``char_recall`` = gold characters covered by predictions / all gold characters — the strict
    counterpart that exposes partial masking ("Alvin56 <PERSON>" leaks);
  * per type: recall is grouped by the gold span's type, precision by the predicted span's type;
    ``type_accuracy`` is the share of found gold spans that some overlapping prediction labels with
    the same type.

Run ``python -m carecite.privacy.evaluation [PATH]`` to print the numbers.

Measured (PresidioRedactor defaults, span overlap rule above):
  * dev (139 sentences, 129 spans; the recognizers were tuned on it): P 1.000, R 1.000, char-R 0.997.
  * holdout (47 sentences, 44 spans; written after the recognizers were frozen, in new formats):
    P 0.975, R 0.886, char-R 0.892. Misses: an all-caps name ("JOHN DOE"), a bare first name with no
    cue ("I saw Beatrice"), "DOB 20-Nov-1981", "Acct # 4402918", a unit before its street ("Apt 12C,").
  * Presidio stock (default registry, all entities) on the same sets: dev P 0.730 R 0.899, holdout
    P 0.612 R 0.886 — carecite's recognizers mainly buy precision, plus MRN / DOB / address recall.
  * Adding spaCy LOCATION (measured before the sentence-initial name rule): holdout precision 0.951 → 0.830 with no recall gain, hence off by default.
  * Independent check, the 442 Synthea notes in shared data: 594 of 594 occurrences of the patient's
    own name masked.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from carecite.ports import PhiEntity, Redactor

LABELLED_PATH = Path(__file__).parent / "data" / "phi_labelled.jsonl"


class LabelledText(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    split: str = "dev"  # "dev" (recognizers were tuned on it) or "holdout" (written after they were frozen)
    text: str
    spans: list[tuple[int, int, str]] = Field(default_factory=list)


class TypeMetrics(BaseModel):
    model_config = ConfigDict(frozen=True)
    gold: int = 0
    found: int = 0
    predicted: int = 0
    correct: int = 0

    @property
    def recall(self) -> float:
        return self.found / self.gold if self.gold else 1.0

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0


class Miss(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    kind: str  # "missed" (gold not found) or "false_positive"
    entity_type: str
    text: str


class PhiMetrics(BaseModel):
    model_config = ConfigDict(frozen=True)
    documents: int
    gold: int
    predicted: int
    found: int
    correct: int
    char_recall: float
    type_accuracy: float
    per_type: dict[str, TypeMetrics]
    errors: list[Miss] = Field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.found / self.gold if self.gold else 1.0

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def summary(self) -> dict[str, object]:
        return {
            "documents": self.documents,
            "gold_spans": self.gold,
            "predicted_spans": self.predicted,
            "precision": round(self.precision, 3),
            "recall": round(self.recall, 3),
            "f1": round(self.f1, 3),
            "char_recall": round(self.char_recall, 3),
            "type_accuracy": round(self.type_accuracy, 3),
            "per_type": {
                t: {
                    "gold": m.gold,
                    "recall": round(m.recall, 3),
                    "predicted": m.predicted,
                    "precision": round(m.precision, 3),
                }
                for t, m in sorted(self.per_type.items())
            },
        }


def load_labelled(path: Path = LABELLED_PATH, split: str | None = None) -> list[LabelledText]:
    """The labelled texts in ``path`` (all of them, or one ``split``); a bad span raises ValueError."""
    items: list[LabelledText] = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            item = LabelledText.model_validate(json.loads(line))
            for start, end, _ in item.spans:
                if not 0 <= start < end <= len(item.text):
                    raise ValueError(f"{path}:{n}: span {start}-{end} outside the text")
            if split is None or item.split == split:
                items.append(item)
    return items


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def score_predictions(items: Iterable[tuple[LabelledText, list[PhiEntity]]]) -> PhiMetrics:
    """Score precomputed predictions (lets callers compare redactor configurations cheaply)."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    errors: list[Miss] = []
    docs = gold_chars = covered_chars = typed_ok = 0
    for item, predicted in items:
        docs += 1
        pred_spans = [(p.start, p.end) for p in predicted]
        for start, end, gtype in item.spans:
            counts[gtype]["gold"] += 1
            hits = [p for p in predicted if _overlaps((p.start, p.end), (start, end))]
            gold_chars += end - start
            covered_chars += sum(1 for i in range(start, end) if any(s <= i < e for s, e in pred_spans))
            if hits:
                counts[gtype]["found"] += 1
                typed_ok += any(p.entity_type == gtype for p in hits)
            else:
                errors.append(Miss(id=item.id, kind="missed", entity_type=gtype, text=item.text[start:end]))
        for p in predicted:
            counts[p.entity_type]["predicted"] += 1
            if any(_overlaps((p.start, p.end), (s, e)) for s, e, _ in item.spans):
                counts[p.entity_type]["correct"] += 1
            else:
                errors.append(Miss(id=item.id, kind="false_positive", entity_type=p.entity_type, text=p.text))
    per_type = {t: TypeMetrics(**c) for t, c in counts.items()}
    found = sum(m.found for m in per_type.values())
    return PhiMetrics(
        documents=docs,
        gold=sum(m.gold for m in per_type.values()),
        predicted=sum(m.predicted for m in per_type.values()),
        found=found,
        correct=sum(m.correct for m in per_type.values()),
        char_recall=covered_chars / gold_chars if gold_chars else 1.0,
        type_accuracy=typed_ok / found if found else 1.0,
        per_type=per_type,
        errors=errors,
    )


def evaluate_redactor(redactor: Redactor, path: Path = LABELLED_PATH, split: str | None = None) -> PhiMetrics:
    """Run ``redactor.analyze`` over the labelled set and score it (matching rule in the module doc)."""
    items = load_labelled(path, split)
    return score_predictions((item, redactor.analyze(item.text)) for item in items)


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - a console helper
    from carecite.privacy.redactor import PresidioRedactor

    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else LABELLED_PATH
    redactor = PresidioRedactor()
    for split in ("dev", "holdout", None):
        metrics = evaluate_redactor(redactor, path, split)
        print(f"== split: {split or 'all'}")
        print(json.dumps(metrics.summary()))
        for err in metrics.errors:
            print(f"  {err.kind:15} {err.entity_type:14} {err.id}  {err.text!r}")


if __name__ == "__main__":  # pragma: no cover
    main()
