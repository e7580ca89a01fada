"""Chunking: exact slices, section-aware, within the embedder's token budget, whole-sentence overlap."""

from __future__ import annotations

import base64
import csv
import itertools
import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carecite.ingest.chunking import (
    TextSpan,
    chunk_text,
    chunk_texts,
    count_tokens,
    find_sections,
    split_sentences,
)


def assert_valid(text: str, spans: list[TextSpan], max_tokens: int) -> None:
    """The invariants every chunking must keep."""
    prev_start = -1
    for s in spans:
        piece = text[s.start : s.end]
        assert 0 <= s.start < s.end <= len(text)
        assert piece == piece.strip() and piece.strip(","), f"untrimmed chunk {piece!r}"
        # One character is indivisible: a Hangul syllable decomposes into three word pieces.
        assert count_tokens(piece) <= max_tokens or len(piece) == 1, f"{count_tokens(piece)} > {max_tokens}"
        assert s.start > prev_start, "spans must advance"
        prev_start = s.start
    # Nothing is lost: every visible character lies in some chunk (separator commas may be dropped).
    covered = bytearray(len(text))
    for s in spans:
        covered[s.start : s.end] = b"\x01" * (s.end - s.start)
    lost = [i for i, c in enumerate(text) if not covered[i] and not c.isspace() and c != ","]
    assert not lost, f"characters outside every chunk: {[text[i] for i in lost[:10]]}"


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text, 0, 0, len(text))]


# --------------------------------------------------------------------------- sentences
def test_abbreviations_decimals_and_list_numbers_do_not_end_sentences() -> None:
    text = (
        "Seen by Dr. Smith, e.g. for CHF. Temp 98.6 today. Given 5 mg. daily. 1. Aspirin daily. Next visit."
    )
    assert sentences(text) == [
        "Seen by Dr. Smith, e.g. for CHF.",
        "Temp 98.6 today.",
        "Given 5 mg. daily.",
        "1. Aspirin daily.",
        "Next visit.",
    ]


def test_each_line_or_bullet_is_a_sentence_but_wrapped_lines_continue() -> None:
    text = "Alvin56\r\n is a 18 year-old male.\r\n- lisinopril 10 MG\r\n- metformin 500 MG\r\nFollow up"
    assert sentences(text) == [
        "Alvin56\r\n is a 18 year-old male.",
        "- lisinopril 10 MG",
        "- metformin 500 MG",
        "Follow up",
    ]


def test_mtsamples_comma_joins_split_sentences_and_drop_the_comma() -> None:
    text = "Right inguinal hernia.,She tolerated it well.  She went home."
    assert sentences(text) == ["Right inguinal hernia.", "She tolerated it well.", "She went home."]


# --------------------------------------------------------------------------- sections
def test_recognises_markdown_caps_and_mtsamples_headers() -> None:
    text = (
        "1981-11-20\r\n\r\n# Chief Complaint\r\nNo complaints.\r\n\r\n## Plan\r\nRecheck.\r\n"
        "HOSPITAL COURSE: Uneventful.\r\nSUBJECTIVE:,  Feels well.,ALLERGIES: , None.\r\nBP: 120/80."
    )
    titles = [s.title for s in find_sections(text)]
    assert titles == [None, "Chief Complaint", "Plan", "HOSPITAL COURSE", "SUBJECTIVE", "ALLERGIES"]


def test_chunks_stay_within_a_section_when_sections_are_large() -> None:
    course = " ".join(f"On day {i} the patient was stable and ambulating." for i in range(30))
    plan = " ".join(f"Item {i} is to follow up with cardiology in clinic." for i in range(30))
    text = f"HOSPITAL COURSE:\n{course}\n\nPLAN:\n{plan}\n"
    spans = chunk_text(text, max_tokens=120)
    assert_valid(text, spans, 120)
    assert {s.section for s in spans} == {"HOSPITAL COURSE", "PLAN"}
    boundary = text.index("PLAN:")
    for s in spans:
        assert s.end <= boundary or s.start >= boundary, "a chunk crosses the section boundary"
    assert text[spans[0].start :].startswith("HOSPITAL COURSE:"), "the header stays with its section"


def test_tiny_sections_are_joined_with_their_neighbours() -> None:
    text = "ALLERGIES: None.\nMEDICATIONS: Aspirin.\nSOCIAL HISTORY: Nonsmoker."
    spans = chunk_text(text)
    assert len(spans) == 1
    assert spans[0].section == "ALLERGIES / MEDICATIONS / SOCIAL HISTORY"


def test_consecutive_chunks_overlap_by_whole_sentences() -> None:
    sents = [f"Sentence number {i} talks about diuretics and weight." for i in range(40)]
    text = " ".join(sents)
    spans = chunk_text(text, max_tokens=60, overlap_sentences=1)
    assert len(spans) > 3
    for a, b in itertools.pairwise(spans):
        assert b.start < a.end, "no overlap"
        shared = text[b.start : a.end]
        assert shared in sents, f"overlap is not exactly one whole sentence: {shared!r}"
    no_overlap = chunk_text(text, max_tokens=60, overlap_sentences=0)
    assert all(b.start >= a.end for a, b in itertools.pairwise(no_overlap))


def test_a_sentence_longer_than_the_budget_is_cut_on_whitespace() -> None:
    text = "word " * 500 + "end."
    spans = chunk_text(text, max_tokens=50)
    assert_valid(text, spans, 50)
    assert len(spans) >= 10
    for s in spans:
        assert (s.start == 0 or text[s.start - 1].isspace()) and (s.end == len(text) or text[s.end].isspace())


def test_a_giant_word_is_cut_on_token_boundaries() -> None:
    text = "x" + "ab" * 2000
    spans = chunk_text(text, max_tokens=30)
    assert_valid(text, spans, 30)
    assert "".join(text[s.start : s.end] for s in spans) == text


def test_empty_and_whitespace_text_have_no_chunks() -> None:
    assert chunk_text("") == []
    assert chunk_text(" \r\n\t ") == []


def test_bad_budget_is_rejected() -> None:
    with pytest.raises(ValueError):
        chunk_text("x", max_tokens=0)


def test_batch_chunking_equals_one_by_one() -> None:
    texts = ["A. B. C.", "", "HOSPITAL COURSE: fine.\nPLAN: home.", "naïve café 漢字 \ud800 end."]
    assert chunk_texts(texts) == [chunk_text(t) for t in texts]


# --------------------------------------------------------------------------- properties
PIECES = st.one_of(
    st.text(alphabet=st.sampled_from(list("abc XYZ.,:;!?#-\r\n\t0123456789")), max_size=30),
    st.sampled_from(["HOSPITAL COURSE:", "# Plan\r\n", "Dr.", "\r\n", ".,", "98.6", "e.g.", "é", "漢", "🙂"]),
    st.text(max_size=20),  # arbitrary unicode, lone surrogates included
    st.just("supercalifragilistic" * 20),  # one huge word
)
TEXT = st.lists(PIECES, max_size=40).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXT, max_tokens=st.integers(min_value=1, max_value=80), overlap=st.integers(0, 2))
def test_chunks_are_exact_trimmed_slices_within_budget_for_any_text(
    text: str, max_tokens: int, overlap: int
) -> None:
    assert_valid(text, chunk_text(text, max_tokens=max_tokens, overlap_sentences=overlap), max_tokens)


# --------------------------------------------------------------------------- the real corpora
def _mtsamples(shared: Path) -> list[str]:
    with (shared / "mtsamples" / "mtsamples.csv").open(encoding="utf-8", newline="") as fh:
        return [row["transcription"] or "" for row in csv.DictReader(fh)]


def _synthea_notes(shared: Path) -> list[str]:
    notes = []
    for f in sorted((shared / "synthea_fhir" / "wasee11_synthea_v3").glob("*.json")):
        for entry in json.loads(f.read_text()).get("entry", []):
            res = entry.get("resource", {})
            if res.get("resourceType") == "DocumentReference":
                for content in res.get("content", []):
                    data = content.get("attachment", {}).get("data")
                    if data:
                        notes.append(base64.b64decode(data).decode("utf-8"))
    return notes


@pytest.mark.shared_data
def test_every_mtsamples_and_synthea_note_chunks_into_exact_slices(shared_data: Path) -> None:
    mt = _mtsamples(shared_data)
    syn = _synthea_notes(shared_data)
    assert len(mt) == 4999 and syn, "corpus changed"
    texts = mt + syn
    t0 = time.perf_counter()
    all_spans = chunk_texts(texts)
    elapsed = time.perf_counter() - t0
    bad = 0
    for text, spans in zip(texts, all_spans, strict=True):
        if not text.strip():
            assert spans == []
            continue
        assert spans
        for s in spans:
            piece = text[s.start : s.end]
            bad += piece != piece.strip() or s.end > len(text)
    assert bad == 0
    # Exact token budget, checked on a sample (re-tokenising every chunk would double the cost).
    for text, spans in list(zip(texts, all_spans, strict=True))[::25]:
        assert_valid(text, spans, 200)
    # Synthea notes carry \r\n and markdown sections; their chunks are labelled with them.
    assert any(
        s.section and "Assessment and Plan" in s.section for spans in all_spans[len(mt) :] for s in spans
    )
    print(f"\nchunked {len(texts)} notes in {elapsed:.1f}s ({len(texts) / elapsed:.0f} notes/s)")


def test_a_table_is_kept_in_one_chunk_with_its_header_row() -> None:
    table = "| Substance | Reaction | Status |\n|---|---|---|\n" + "".join(
        f"| Drug{i} | reaction{i} | active |\n" for i in range(8)
    )
    for n in range(2, 14):  # wherever the section's budget runs out, the table is not cut
        prose = " ".join(f"Sentence number {i} describes the history in some detail." for i in range(n))
        text = f"ALLERGIES:\n{prose}\n{table}"  # the section does not fit; its table does
        spans = chunk_text(text, max_tokens=120, overlap_sentences=0)
        assert_valid(text, spans, 120)
        holding = [s for s in spans if "Drug" in text[s.start : s.end]]
        assert holding and all("| Substance | Reaction | Status |" in text[s.start : s.end] for s in holding)
