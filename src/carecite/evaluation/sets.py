"""The real-data question sets by name: ``carecite eval --set synthea|synthea-wordings|synthea-shorthand|synthea-items|mtsamples|mtsamples-wordings|cms``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from carecite.evaluation.cms import CMS_POLICIES, cms_questions, prepare_cms
from carecite.evaluation.gold import GoldQuestion
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

if TYPE_CHECKING:
    from carecite.stores import Stores


def prepare_set(
    set_name: str, stores: Stores, shared: Path, *, progress: bool = True, limit: int | None = None
) -> None:
    if set_name in SYNTHEA_SETS:
        prepare_synthea(stores, shared, progress=progress, limit=limit)
    elif set_name in ("mtsamples", "mtsamples-wordings"):
        prepare_mtsamples(stores, shared, progress=progress, n=limit or MTS_NOTES)
    elif set_name == "cms":
        prepare_cms(stores, shared, progress=progress, n=limit or CMS_POLICIES)
    else:
        raise ValueError(f"unknown question set {set_name!r}; known: gold, {', '.join(REAL_SETS)}")


def questions_for(set_name: str, shared: Path, *, limit: int | None = None) -> list[GoldQuestion]:
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
REAL_SETS = (*SYNTHEA_SETS, "mtsamples", "mtsamples-wordings", "cms")
