"""Citation verification with the real MiniLM embedder: what survives is supported and located."""

from __future__ import annotations

import re

import pytest

from carecite.answering.citations import MAX_UNSUPPORTED, VerifiedAnswer, verify_draft
from carecite.domain import Candidate
from carecite.ports import Embedder

THRESHOLD = 0.45
FUROSEMIDE = "Cardiology recommended increasing furosemide to 40 mg twice daily."


def verify(
    draft: str, sources: list[Candidate], embedder: Embedder, patient_ids: dict[str, str] | None = None
) -> VerifiedAnswer:
    return verify_draft(draft, sources, embedder, threshold=THRESHOLD, patient_ids=patient_ids)


def markers_in(text: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r"\[(S\d+)\]", text)))


def test_supported_sentences_are_kept_with_spans_on_the_supporting_sentence(
    sources: list[Candidate], embedder: Embedder, patient_ids: dict[str, str]
) -> None:
    draft = (
        "Cardiology advised raising the furosemide dose to 40 mg twice a day [S1]. "
        "The transthoracic echocardiogram is overdue; it was due on 2026-11-01 [S2]."
    )
    v = verify(draft, sources, embedder, patient_ids)
    assert v.declined_reason is None and v.unsupported_sentences == []
    assert [c.marker for c in v.citations] == ["S1", "S2"]
    s1, s2 = v.citations
    assert s1.text[s1.span[0] : s1.span[1]] == FUROSEMIDE
    assert s1.source_ref == "DocumentReference/dc-1" and s1.patient_id == "pat-0042"
    assert s2.span == (0, len(s2.text))  # a structured record is cited whole
    assert s1.score >= THRESHOLD and s2.score >= THRESHOLD
    assert markers_in(v.text) == ["S1", "S2"]


def test_invented_source_ids_are_removed_and_reported(sources: list[Candidate], embedder: Embedder) -> None:
    draft = f"{FUROSEMIDE[:-1]} [S1][S9]. The patient also needs a colonoscopy referral [S12]."
    v = verify(draft, sources, embedder)
    assert v.removed_markers == ["S9", "S12"]
    assert v.text == f"{FUROSEMIDE[:-1]} [S1]."
    assert v.unsupported_sentences == ["The patient also needs a colonoscopy referral [S12]."]
    assert [c.marker for c in v.citations] == ["S1"]


def test_citation_to_a_source_that_does_not_say_it_is_dropped(
    sources: list[Candidate], embedder: Embedder
) -> None:
    # cited to the diabetes note only: removed; cited to both: the wrong one is dropped
    alone = verify(f"{FUROSEMIDE[:-1]} [S3].", sources, embedder)
    assert alone.declined_reason == "unsupported_draft" and alone.citations == []
    assert alone.checks[0].reason == "no cited source supports it"
    both = verify(f"{FUROSEMIDE[:-1]} [S1][S3].", sources, embedder)
    assert both.text == f"{FUROSEMIDE[:-1]} [S1]."
    assert [c.marker for c in both.citations] == ["S1"]


def test_a_sentence_may_combine_two_cited_sources(sources: list[Candidate], embedder: Embedder) -> None:
    v = verify("The patient has heart failure and diabetes [S1][S3].", sources, embedder)
    assert v.declined_reason is None
    assert [c.marker for c in v.citations] == ["S1", "S3"]


def test_a_date_that_does_not_match_the_source_is_unsupported(
    sources: list[Candidate], embedder: Embedder
) -> None:
    wrong = verify("The echocardiogram is due 2026-12-01 [S2].", sources, embedder)
    assert wrong.declined_reason == "unsupported_draft"
    assert "2026-12-01" in (wrong.checks[0].reason or "")
    # the same date in another format is the same date
    right = verify("The echocardiogram was due on November 1, 2026 [S2].", sources, embedder)
    assert right.declined_reason is None
    wrong_dose = verify(
        "Cardiology recommended increasing furosemide to 80 mg twice daily [S1].", sources, embedder
    )
    assert wrong_dose.declined_reason == "unsupported_draft"


def test_a_flipped_fact_is_unsupported_even_when_the_words_overlap(
    sources: list[Candidate], embedder: Embedder
) -> None:
    v = verify("Furosemide was stopped at discharge [S1].", sources, embedder)
    assert v.declined_reason == "unsupported_draft"
    assert "stopped" in (v.checks[0].reason or "")


def test_sentences_without_citations_are_removed_and_reported(
    sources: list[Candidate], embedder: Embedder
) -> None:
    draft = f"{FUROSEMIDE[:-1]} [S1]. The patient is doing well overall."
    v = verify(draft, sources, embedder)
    assert v.text == f"{FUROSEMIDE[:-1]} [S1]."
    assert v.unsupported_sentences == ["The patient is doing well overall."]


def test_lenient_marker_forms_are_normalised_to_match_the_citations(
    sources: list[Candidate], embedder: Embedder
) -> None:
    draft = (
        "Outstanding items:\n"
        "- The echocardiogram is overdue (S2)\n"
        f"- {FUROSEMIDE} [S1, S3]\n"
        "Follow up with Dr. Patel in cardiology clinic within 2 weeks. [1]"
    )
    v = verify(draft, sources, embedder)
    assert v.text == (
        "The echocardiogram is overdue [S2]. "
        f"{FUROSEMIDE[:-1]} [S1]. "
        "Follow up with Dr. Patel in cardiology clinic within 2 weeks [S1]."
    )
    assert markers_in(v.text) == [c.marker for c in v.citations] == ["S2", "S1"]
    s1 = v.citations[1]
    # two sentences cite S1: both supporting spans are kept, the best one is `span`
    assert len(s1.spans) == 2 and s1.span in s1.spans
    assert {s1.text[a:b] for a, b in s1.spans} == {
        FUROSEMIDE,
        "Follow up with Dr. Patel in cardiology clinic within 2 weeks.",
    }


def test_policy_citation_has_no_patient(
    sources: list[Candidate], embedder: Embedder, patient_ids: dict[str, str]
) -> None:
    v = verify(
        "Medicare covers CPAP for an initial 12-week period when the apnea-hypopnea index is at least 15 events per hour [S4].",
        sources,
        embedder,
        patient_ids,
    )
    assert [(c.marker, c.source_type, c.patient_id) for c in v.citations] == [("S4", "policy", None)]


@pytest.mark.parametrize("draft", ["", "   ", "[S1][S2]", "Outstanding tasks:"])
def test_nothing_to_verify_is_unsupported_draft(
    draft: str, sources: list[Candidate], embedder: Embedder
) -> None:
    v = verify(draft, sources, embedder)
    assert (v.text, v.citations, v.declined_reason) == ("", [], "unsupported_draft")


HEADER_NOTE = (
    "Name: Charles Mitchell | DOB 8/13/1948 | MRN 17000002\n"
    "Cardiology recommended increasing furosemide to 40 mg twice daily.\n"
    "Electronically signed by Dr. Sarah Kim, MD"
)


def test_a_header_line_is_never_an_answer_sentence_even_when_its_source_says_it(embedder: Embedder) -> None:
    note = Candidate(
        source_id="n#0", source_type="note_chunk", source_ref="DocumentReference/n", patient_key="pk",
        text=HEADER_NOTE, retriever="dense",
    )  # fmt: skip
    draft = (
        "Name: Charles Mitchell | DOB 8/13/1948 | MRN 17000002 [S1]. "
        "Cardiology recommended increasing furosemide to 40 mg twice daily [S1]. "
        "Electronically signed by Dr. Sarah Kim, MD [S1]."
    )
    verified = verify_draft(draft, [note], embedder, threshold=0.45)
    assert verified.text == "Cardiology recommended increasing furosemide to 40 mg twice daily [S1]."
    assert len(verified.unsupported_sentences) == 2
    assert [c.reason for c in verified.checks if c.reason] == [
        "a header line identifies, it does not answer"
    ] * 2


def test_unsupported_sentences_are_bounded_and_free_of_prompt_markup(
    sources: list[Candidate], embedder: Embedder
) -> None:
    # An echoing model: the prompt's source markup and dozens of uncited lines.
    lines = [f'<source id="S{i % 4 + 1}" ref="DocumentReference/dc-1" type="note_chunk">' for i in range(20)]
    lines += [f"Uncited rambling line number {i} about nothing." for i in range(30)]
    verified = verify_draft("\n".join(lines), sources, embedder, threshold=0.45)
    assert verified.declined_reason == "unsupported_draft"
    assert 0 < len(verified.unsupported_sentences) <= MAX_UNSUPPORTED
    assert not any("<source" in s or "</source" in s for s in verified.unsupported_sentences)


def test_a_negated_mention_never_supports_a_positive_claim(embedder: Embedder) -> None:
    note = Candidate(
        source_id="n#0", source_type="note_chunk", source_ref="DocumentReference/n", patient_key="pk",
        text="SOCIAL HISTORY: He lives alone. He denies alcohol, tobacco, or illicit drug use.",
        retriever="dense",
    )  # fmt: skip
    claimed = verify("He uses alcohol and tobacco [S1].", [note], embedder)
    assert claimed.declined_reason == "unsupported_draft"
    assert claimed.checks[0].reason is not None and claimed.checks[0].reason.startswith(
        "the cited sources deny it"
    )
    quoted = verify("He denies alcohol, tobacco, or illicit drug use [S1].", [note], embedder)
    assert quoted.declined_reason is None
