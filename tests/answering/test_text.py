"""Sentence segmentation, citation markers, numbers: the primitives verification stands on."""

from __future__ import annotations

from carecite.answering.text import (
    CANNOT_ANSWER,
    assertions,
    content_terms,
    find_markers,
    is_cannot_answer,
    numbers,
    segment,
    strip_markers,
)


def test_segments_have_exact_offsets_and_respect_clinical_abbreviations() -> None:
    text = (
        "PLAN:\n1. Follow up with Dr. Patel in 2 weeks. Repeat BMP on 03/14/2026.\n"
        "- Continue furosemide 40 mg. daily. HbA1c was 7.2%."
    )
    segs = segment(text)
    assert [s.text for s in segs] == [
        "PLAN:",
        "Follow up with Dr. Patel in 2 weeks.",
        "Repeat BMP on 03/14/2026.",
        "Continue furosemide 40 mg. daily.",
        "HbA1c was 7.2%.",
    ]
    assert all(text[s.start : s.end] == s.text for s in segs)
    assert {s.section for s in segs} == {"PLAN"}


def test_mtsamples_comma_joined_sections_split_into_their_items() -> None:
    text = "He is a nonsmoker.,ALLERGIES: , MORPHINE.,CURRENT MEDICATIONS:  ,Abilify."
    segs = segment(text)
    assert [(s.text, s.section) for s in segs] == [
        ("He is a nonsmoker.", None),
        ("ALLERGIES: , MORPHINE.", "ALLERGIES"),
        ("CURRENT MEDICATIONS:  ,Abilify.", "CURRENT MEDICATIONS"),
    ]
    assert all(text[s.start : s.end] == s.text for s in segs)


def test_a_chunk_that_continues_a_section_keeps_its_title() -> None:
    segs = segment("Aspirin 81 mg daily.\nMetoprolol 25 mg twice daily.", section="DISCHARGE MEDICATIONS")
    assert [s.section for s in segs] == ["DISCHARGE MEDICATIONS"] * 2


def test_markers_are_parsed_leniently() -> None:
    assert find_markers("a [S1][s2].") == [1, 2]
    assert find_markers("b [S1, S4] c [S2-S4] d (S7) e [3] f [S1 and S2] g [S5; S6]") == [
        1,
        4,
        2,
        3,
        4,
        7,
        3,
        1,
        2,
        5,
        6,
    ]
    assert len(find_markers("broken [S1-S999]")) == 51  # bounded, the rest reported as invalid later
    assert strip_markers("Echo is overdue [S2][S3].") == "Echo is overdue ."


def test_dates_are_normalised_so_formats_compare_but_values_must_match() -> None:
    assert (
        numbers("due 2026-12-01")
        == numbers("due 12/01/2026")
        == numbers("due December 1, 2026")
        == {"2026-12-01"}
    )
    assert numbers("due 2026-11-01") != numbers("due 2026-12-01")
    assert numbers("40 mg twice, BP 140/90, HbA1c 7.20%") == {"40", "2", "140/90", "7.2"}
    assert numbers("Echo overdue [S12].") == set()  # markers are not numbers


def test_content_terms_drop_stopwords_keep_negation_and_match_word_forms() -> None:
    assert content_terms("The follow-up was scheduled [S1].") == content_terms("follow up schedule")
    assert "not" in content_terms("Patient denies chest pain")
    assert assertions("Furosemide was discontinued.") == {"stopped"}
    assert assertions("Increase furosemide.") == {"increased"}


def test_cannot_answer_sentinel_is_detected_however_punctuated() -> None:
    assert is_cannot_answer(CANNOT_ANSWER)
    assert is_cannot_answer('"i cannot answer this from the available sources"')
    assert not is_cannot_answer("The echo is overdue [S2].")
