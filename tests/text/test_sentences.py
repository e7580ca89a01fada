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
