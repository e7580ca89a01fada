"""The one sentence splitter, as the verifier and the answerer use it on drafts."""

from __future__ import annotations

from carecite.text.sentences import split_sentences


def _split(text: str) -> list[str]:
    return [text[a:b] for a, b in split_sentences(text, 0, 0, len(text))]


def test_a_citation_marker_ends_a_claim_even_before_a_lower_case_word() -> None:
    draft = "No active medications [S1]. lisinopril 10 MG Oral Tablet (active) [S2]. amLODIPine 2.5 MG [S3]."
    assert _split(draft) == [
        "No active medications [S1].",
        "lisinopril 10 MG Oral Tablet (active) [S2].",
        "amLODIPine 2.5 MG [S3].",
    ]


def test_without_a_marker_a_lower_case_word_still_continues_the_sentence() -> None:
    assert _split("Take 5 mg. daily with food.") == ["Take 5 mg. daily with food."]


def _titles(text: str) -> list[str | None]:
    from carecite.text.sentences import find_sections

    return [s.title for s in find_sections(text)]


def test_roman_parts_of_a_lettered_subsection_stay_in_it() -> None:
    """CMS numbers the parts of "B. Nationally Covered Indications" I., II.: they are B's text, so a
    chunk or sentence there is still in the covered indications."""
    text = (
        "A. General\n\nBackground.\n\nB. Nationally Covered Indications\n\nI. Allogeneic HSCT\n\n"
        "Covered for leukemia.\n\nII. Autologous SCT\n\nCovered for myeloma.\n\n"
        "C. Nationally Non-Covered Indications\n\nN/A\n"
    )
    assert _titles(text) == [
        "General",
        "Nationally Covered Indications",
        "Nationally Non-Covered Indications",
    ]


def test_roman_headings_with_no_lettered_parent_and_the_letter_i_after_h_are_sections() -> None:
    assert _titles("I. Introduction\n\nText here.\n\nII. Methods\n\nMore text.\n") == [
        "Introduction",
        "Methods",
    ]
    assert _titles("G. Gee\n\nt.\n\nH. Aitch\n\nt.\n\nI. Eye Section\n\nt.\n") == [
        "Gee",
        "Aitch",
        "Eye Section",
    ]


def test_a_table_row_is_one_sentence_whatever_it_holds() -> None:
    text = "| Medication | Directions |\n|---|---|\n| Aspirin 81 mg. | Take daily. With food |\n| metoprolol | twice daily |"
    assert _split(text) == [
        "| Medication | Directions |",
        "|---|---|",
        "| Aspirin 81 mg. | Take daily. With food |",
        "| metoprolol | twice daily |",
    ]
