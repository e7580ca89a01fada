"""Sources that hold the asked section (carecite.retrieval.section_match), coverage above all."""

from __future__ import annotations

import re

from carecite.domain import Candidate
from carecite.retrieval.section_match import SECTION_FLOOR, favour_section, headers, section_pool
from carecite.text.sections import BY_NAME, SectionKind

COVERED = BY_NAME["covered indications"]


def _chunk(doc: str, n: int, score: float, section: str) -> Candidate:
    return Candidate(
        source_id=f"{doc}#{n}",
        source_type="policy",
        source_ref=doc,
        patient_key=None,
        text="Text.",
        score=score,
        retriever="dense",
        doc_id=doc,
        section=section,
    )


def test_the_policy_whose_title_names_the_service_is_chosen_and_keeps_the_floor() -> None:
    """The re-ranker put a neighbour first at 0.25; the policy named by the question (its title
    names every word of the service) is the one asked about, as a record found by its code."""
    ranked = [
        _chunk("Policy/20.31", 0, 0.25, "General"),
        _chunk("Policy/20.10.1", 0, 0.22, "General"),
        _chunk("Policy/20.10.1", 3, 0.05, "Nationally Covered Indications"),
    ]
    out = favour_section(ranked, COVERED, named={"Policy/20.10.1"})
    assert [c.source_id for c in out[:2]] == ["Policy/20.10.1#0", "Policy/20.10.1#3"]
    assert all(c.score == SECTION_FLOOR for c in out[:2])
    assert out[2].score == 0.25  # the neighbour is not lowered, only passed


def test_with_no_named_policy_the_covered_section_never_raises_the_best_score() -> None:
    ranked = [
        _chunk("Policy/20.31", 0, 0.25, "General"),
        _chunk("Policy/20.31", 2, 0.05, "Nationally Covered Indications"),
        _chunk("Policy/9", 1, 0.04, "Nationally Covered Indications"),
    ]
    out = favour_section(ranked, COVERED)
    assert [(c.source_id, c.score) for c in out] == [
        ("Policy/20.31#0", 0.25),
        ("Policy/20.31#2", 0.25),  # the chosen policy's subsection ranks beside it
        ("Policy/9#1", 0.04),  # another policy's is not lifted
    ]


def test_the_chosen_policys_non_covered_section_joins_the_pool_for_when_covered_says_n_a() -> None:
    top = _chunk("Policy/329", 0, 0.5, "Nationally Covered Indications")
    below = [
        _chunk("Policy/329", 1, 0.01, "Nationally Non-Covered Indications"),
        _chunk("Policy/7", 1, 0.01, "Other"),
    ]
    pool = section_pool([top, *below], [top], COVERED)
    assert [c.source_id for c in pool] == ["Policy/329#0", "Policy/329#1"]


# ------------------------------------------------------------------ any header a note has (issue 26)
def _note(doc: str, n: int, score: float, section: str, text: str = "Text.", date: int = 0) -> Candidate:
    return Candidate(
        source_id=f"{doc}#{n}",
        source_type="note_chunk",
        source_ref=doc,
        patient_key="pk",
        text=text,
        score=score,
        retriever="dense",
        doc_id=doc,
        section=section,
        note_date=date,
    )


def _header_kind(titles: set[str], *, latest: bool = True) -> SectionKind:
    return SectionKind(min(titles), re.compile("x"), re.compile("x"), titles=frozenset(titles), latest=latest)


def test_a_chunk_holding_a_header_outside_the_curated_kinds_keeps_the_floor() -> None:
    ranked = [
        _note("Doc/op", 0, 0.3, "PROCEDURE"),
        _note("Doc/op", 1, 0.1, "PREOPERATIVE DIAGNOSIS / SPECIMENS"),
    ]
    out = favour_section(ranked, _header_kind({"specimens"}))
    assert out[0].source_id == "Doc/op#1" and out[0].score == SECTION_FLOOR
    assert out[1].score == 0.3


def test_a_question_naming_more_than_the_section_lifts_only_the_note_ranked_first() -> None:
    """ "when is his ortho follow up": the ortho note ranked first has no Follow-up section; another
    note's Follow-up is not raised over it."""
    ranked = [
        _note("Doc/ortho", 0, 0.35, "Plan", date=1),
        _note("Doc/cardio", 0, 0.2, "Follow-up", date=2),
    ]
    out = favour_section(ranked, _header_kind({"follow-up"}, latest=False))
    assert [c.source_id for c in out] == ["Doc/ortho#0", "Doc/cardio#0"]
    assert out[1].score == 0.2


def test_headers_are_read_from_the_chunks_with_their_first_line() -> None:
    chunk = _note("Doc/op", 0, 0.1, "", text="SPECIMENS:  Gallbladder.\nVITALS:\nINJECTATE USED: Omnipaque.")
    found = {h.title: h.first_line for h in headers([chunk])}
    assert found["SPECIMENS"] == "Gallbladder."
    assert found["VITALS"] == ""
    assert found["INJECTATE USED"] == "Omnipaque."
