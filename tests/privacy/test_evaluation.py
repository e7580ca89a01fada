"""The labelled PHI set, the scoring rule, and the regression floors for the real redactor."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from pathlib import Path

import pytest

from carecite.privacy.evaluation import LABELLED_PATH, evaluate_redactor, load_labelled
from carecite.privacy.redactor import PHI_TYPES, PresidioRedactor
from fakes import FakeRedactor


def test_labelled_set_is_large_varied_and_well_formed() -> None:
    items = load_labelled()
    assert len(items) >= 120
    assert len({i.id for i in items}) == len(items)
    types = Counter(t for i in items for _, _, t in i.spans)
    assert set(types) <= set(PHI_TYPES)
    assert {"PERSON", "MRN", "DATE_OF_BIRTH", "DATE", "PHONE_NUMBER", "EMAIL_ADDRESS", "ADDRESS"} <= set(
        types
    )
    assert sum(1 for i in items if not i.spans) >= 30  # negatives: eponyms, drugs, doses, vitals
    assert {i.split for i in items} == {"dev", "holdout"}
    for item in items:  # spans hold no surrounding whitespace and never overlap
        spans = sorted(item.spans)
        assert all(item.text[s:e] == item.text[s:e].strip() for s, e, _ in spans)
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))


def test_a_span_outside_its_text_is_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "x", "text": "short", "spans": [[0, 50, "PERSON"]]}) + "\n")
    with pytest.raises(ValueError, match="outside the text"):
        load_labelled(bad)


def test_overlap_matching_rule(tmp_path: Path) -> None:
    path = tmp_path / "tiny.jsonl"
    rows = [
        {"id": "a", "text": "Sarah Kim saw Tom Reed", "spans": [[0, 9, "PERSON"], [14, 22, "PERSON"]]},
        {"id": "b", "text": "Lasix 4471903 daily", "spans": []},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    # finds "Kim" only (partial: counts as found, char recall shows the leak), misses Tom Reed,
    # and flags the digit run in the negative as a false positive
    metrics = evaluate_redactor(FakeRedactor(names=["Kim"]), path)
    assert (metrics.gold, metrics.found, metrics.predicted, metrics.correct) == (2, 1, 2, 1)
    assert metrics.recall == 0.5 and metrics.precision == 0.5
    assert metrics.char_recall == pytest.approx(3 / 17)
    assert metrics.per_type["PERSON"].recall == 0.5 and metrics.per_type["ID"].precision == 0.0
    assert [(e.kind, e.text) for e in metrics.errors] == [
        ("missed", "Tom Reed"),
        ("false_positive", "4471903"),
    ]


# Measured (see the report in docs): dev P 1.000 R 1.000; holdout P 0.975 R 0.886; all P 0.994 R 0.971.
# Floors sit a little below so a regression fails CI but noise does not.
@pytest.mark.parametrize(
    ("split", "min_precision", "min_recall"),
    [(None, 0.96, 0.94), ("holdout", 0.93, 0.84)],
)
def test_presidio_redactor_meets_the_measured_floors(
    presidio_redactor: PresidioRedactor, split: str | None, min_precision: float, min_recall: float
) -> None:
    metrics = evaluate_redactor(presidio_redactor, split=split)
    assert metrics.precision >= min_precision, metrics.summary()
    assert metrics.recall >= min_recall, metrics.summary()
    assert metrics.char_recall >= min_recall - 0.03, metrics.summary()


def test_labelled_path_ships_inside_the_package() -> None:
    assert LABELLED_PATH.is_file() and LABELLED_PATH.parent.name == "data"
