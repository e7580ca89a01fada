"""Every question set by name: ``carecite eval --set NAME``, and ``carecite eval --list``.

Two kinds (docs/evaluation.md): ``independent`` sets, written by authors who never saw the code and
frozen by hash, are the evidence of how carecite does on questions nobody here wrote; ``templated``
sets (gold and the real-data sets made from our own templates) are regression checks only.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

from carecite.evaluation.cms import CMS_POLICIES, cms_questions, prepare_cms
from carecite.evaluation.gold import GoldQuestion
from carecite.evaluation.independent import (
    ALL_SETS as INDEPENDENT_SETS,
)
from carecite.evaluation.independent import (
    independent_questions,
    load_frozen,
    prepare_independent,
    questions_sha256,
    read_authored,
)
from carecite.evaluation.realdata import (
    MTS_NOTES,
    bundle_files,
    load_patient,
    mtsamples_questions,
    prepare_mtsamples,
    prepare_synthea,
    synthea_item_questions,
    synthea_questions,
    synthea_shorthand_questions,
)
from carecite.package_data import COMMITTED_WORLD, QUESTION_SETS

if TYPE_CHECKING:
    from carecite.stores import Stores


def prepare_set(
    set_name: str, stores: Stores, shared: Path, *, progress: bool = True, limit: int | None = None
) -> None:
    if set_name in INDEPENDENT_SETS:
        prepare_independent(
            stores,
            shared,
            questions_for(set_name, shared, limit=limit),
            progress=progress,
            asked_only=limit is not None,
        )
    elif set_name in SYNTHEA_SETS:
        prepare_synthea(stores, shared, progress=progress, limit=limit)
    elif set_name in ("mtsamples", "mtsamples-wordings"):
        prepare_mtsamples(stores, shared, progress=progress, n=limit or MTS_NOTES)
    elif set_name == "cms":
        prepare_cms(stores, shared, progress=progress, n=limit or CMS_POLICIES)
    else:
        raise ValueError(f"unknown question set {set_name!r}; known: gold, {', '.join(REAL_SETS)}")


def questions_for(set_name: str, shared: Path, *, limit: int | None = None) -> list[GoldQuestion]:
    if set_name in INDEPENDENT_SETS:
        questions = independent_questions(set_name)
        return _first_per_split(questions, limit) if limit else questions
    if set_name in SYNTHEA_SETS:
        if set_name == "synthea-shorthand":
            questions = synthea_shorthand_questions(shared)
        elif set_name == "synthea-items":
            questions = synthea_item_questions(shared)
        else:
            questions = synthea_questions(shared, wordings=set_name == "synthea-wordings")
        if limit:
            keep = {load_patient(p).patient_id for p in bundle_files(shared)[:limit]}
            questions = [q for q in questions if q.patient_id in keep]
        return questions
    if set_name in ("mtsamples", "mtsamples-wordings"):
        return mtsamples_questions(shared, limit or MTS_NOTES, wordings=set_name == "mtsamples-wordings")
    if set_name == "cms":
        return cms_questions(shared, limit or CMS_POLICIES)
    raise ValueError(f"unknown question set {set_name!r}; known: gold, {', '.join(REAL_SETS)}")


SYNTHEA_SETS = ("synthea", "synthea-wordings", "synthea-shorthand", "synthea-items")
TEMPLATED_SETS = (*SYNTHEA_SETS, "mtsamples", "mtsamples-wordings", "cms")
REAL_SETS = (*INDEPENDENT_SETS, *TEMPLATED_SETS)


def _first_per_split(questions: list[GoldQuestion], limit: int) -> list[GoldQuestion]:
    """A fast subset of an independent set: the first ``limit`` questions of each split and world."""
    seen: dict[tuple[str, str], int] = {}
    out: list[GoldQuestion] = []
    for q in questions:
        key = (q.split, q.category.split(":", 1)[0])
        seen[key] = seen.get(key, 0) + 1
        if seen[key] <= limit:
            out.append(q)
    return out


class SetInfo(BaseModel):
    """One row of ``carecite eval --list``."""

    name: str
    authoring: Literal["independent", "templated"]
    questions: int | None
    frozen_sha256: str | None
    splits: dict[str, int]
    note: str = ""


def _info(
    name: str, authoring: Literal["independent", "templated"], qs: list[GoldQuestion], sha: str
) -> SetInfo:
    splits = {split: sum(q.split == split for q in qs) for split in ("dev", "test")}
    return SetInfo(name=name, authoring=authoring, questions=len(qs), frozen_sha256=sha, splits=splits)


def list_sets(shared: Path) -> list[SetInfo]:
    """Every set with its size and hash. Independent sets are hashed as frozen (the questions alone,
    every author in order); templated sets by the questions they generate today."""
    from carecite.evaluation.gold import load_gold

    frozen = load_frozen()
    by_author = {
        name: read_authored(QUESTION_SETS / "independent" / entry.file)
        for name, entry in sorted(frozen.sets.items())
    }
    rows: list[SetInfo] = []
    for set_name in INDEPENDENT_SETS:
        qs = independent_questions(set_name, frozen=frozen)
        world = set_name.removeprefix("independent-")
        authored = [q for a in by_author.values() for q in a if set_name == "independent" or q.world == world]
        rows.append(_info(set_name, "independent", qs, questions_sha256(authored)))
    gold = load_gold(COMMITTED_WORLD / "gold.jsonl")
    rows.append(_info("gold", "templated", gold, _sha(gold)))
    for set_name in TEMPLATED_SETS:
        if not shared.is_dir():
            rows.append(
                SetInfo(
                    name=set_name,
                    authoring="templated",
                    questions=None,
                    frozen_sha256=None,
                    splits={},
                    note=f"generated from public data, not found at {shared}",
                )
            )
            continue
        qs = questions_for(set_name, shared)
        rows.append(_info(set_name, "templated", qs, _sha(qs)))
    return rows


def _sha(questions: list[GoldQuestion]) -> str:
    return hashlib.sha256("\n".join(q.model_dump_json() for q in questions).encode()).hexdigest()
