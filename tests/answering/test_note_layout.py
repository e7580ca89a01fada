"""Notes read by their layout (issue 26): a table row answers with its column headers and is cited by its
own span; a table's header or separator row, a note's title line and a signature never answer; a question
about the present is answered from the newest note that answers, with that note's date."""

from __future__ import annotations

from carecite.answering.citations import verify_draft
from carecite.answering.extractive import ExtractiveAnswerer
from carecite.answering.text import CANNOT_ANSWER, strip_markers
from carecite.domain import Candidate, patient_key_for
from carecite.ports import Embedder

PK = patient_key_for("pat-0042")
THRESHOLD = 0.45

PREAMBLE = "Allergy Review - Lakeside Family Medicine\nDate of service: September 3, 2026\n\n"
TABLE = (
    "ALLERGIES:\n"
    "| Substance | Reaction | Status |\n"
    "|---|---|---|\n"
    "| Penicillin | hives | active |\n"
    "| Sulfamethoxazole | rash | resolved |\n"
)
ALLERGY_NOTE = PREAMBLE + TABLE + "\nAvoid all penicillins.\n\n-- Dr. Hana Ito, MD, September 3, 2026\n"

CALL_NOTE = (
    "Transitions of Care Call\n"
    "Date of service: November 17, 2026\n\n"
    "# Subjective\n"
    "Telephone contact with the patient's wife regarding post-discharge follow-up. Reports feeling better.\n\n"
    "Ben Okafor, MSW\n"
    "Signed November 17, 2026\n"
)


def note(doc: str, text: str, date: int, *, start: int = 0, score: float = 0.8) -> Candidate:
    return Candidate(
        source_id=f"DocumentReference/{doc}#c0",
        source_type="note_chunk",
        source_ref=f"DocumentReference/{doc}",
        patient_key=PK,
        text=text,
        score=score,
        retriever="dense",
        note_type="Progress note",
        note_date=date,
        doc_id=doc,
        start=start,
        end=start + len(text),
    )


def test_a_table_row_answers_with_its_column_headers_and_is_cited_by_the_rows_span(
    embedder: Embedder,
) -> None:
    sources = [note("allergy-1", ALLERGY_NOTE, 20260903, start=0)]
    answer = ExtractiveAnswerer(embedder).answer("What reaction does she have to penicillin?", sources)
    assert "Penicillin — reaction: hives — status: active [S1]" in answer
    assert "Substance" not in answer and "---" not in answer
    verified = verify_draft(answer, sources, embedder, threshold=THRESHOLD)
    assert verified.declined_reason is None
    row = "| Penicillin | hives | active |"
    at = ALLERGY_NOTE.index(row)
    assert (at, at + len(row)) in verified.citations[0].spans


def test_a_chunk_later_in_the_note_is_cited_in_the_notes_offsets(embedder: Embedder) -> None:
    offset = len(PREAMBLE)
    sources = [note("allergy-1", TABLE, 20260903, start=offset)]
    draft = "Penicillin — reaction: hives — status: active [S1]."
    verified = verify_draft(draft, sources, embedder, threshold=THRESHOLD)
    assert verified.declined_reason is None
    row = "| Penicillin | hives | active |"
    at = ALLERGY_NOTE.index(row)
    assert verified.citations[0].span == (at, at + len(row))
    assert ALLERGY_NOTE[slice(*verified.citations[0].span)] == row


def test_a_header_or_separator_row_is_never_an_answer_sentence(embedder: Embedder) -> None:
    sources = [note("allergy-1", ALLERGY_NOTE, 20260903)]
    for question in (
        "What are the substance, reaction and status columns?",
        "allergy substance reaction status",
    ):
        answer = ExtractiveAnswerer(embedder).answer(question, sources)
        assert "| Substance |" not in answer and "Substance | Reaction" not in answer and "|---" not in answer
    for draft in ("Substance | Reaction | Status [S1].", "| Substance | Reaction | Status | [S1]."):
        verified = verify_draft(draft, sources, embedder, threshold=THRESHOLD)
        assert verified.declined_reason == "unsupported_draft"


def test_a_title_line_and_a_signature_are_never_answer_sentences(embedder: Embedder) -> None:
    sources = [note("toc-1", CALL_NOTE, 20261117)]
    answer = ExtractiveAnswerer(embedder).answer(
        "Who did Ben speak to on the transitions of care call?", sources
    )
    said = strip_markers(answer)
    assert "Transitions of Care Call" not in said and "Ben Okafor, MSW" not in said
    assert answer == CANNOT_ANSWER or "wife" in answer
    for draft in (
        "Transitions of Care Call [S1].",
        "Ben Okafor, MSW [S1].",
        "Signed November 17, 2026 [S1].",
    ):
        verified = verify_draft(draft, sources, embedder, threshold=THRESHOLD)
        assert verified.declined_reason == "unsupported_draft", draft


def test_a_current_question_is_answered_from_the_newer_of_two_disagreeing_notes_with_its_date(
    embedder: Embedder,
) -> None:
    older = note(
        "sw-1",
        "Social Work Note\n\n# Social history\nShe lives with her daughter in a two-story house.\n",
        20260310,
        start=0,
        score=0.9,
    )
    newer = note(
        "sw-2",
        "Social Work Note\n\n# Social history\nShe lives alone in a one-bedroom apartment.\n",
        20261020,
        start=0,
        score=0.7,
    )
    sources = [older, newer]  # the older note ranked first
    answerer = ExtractiveAnswerer(embedder)
    both = answerer.answer("Who does she live with?", sources)
    assert "daughter" in both and "lives alone" in both  # not about now: both notes answer
    answer = answerer.answer("Who does she live with now?", sources)
    assert "lives alone" in answer and "daughter" not in answer
    assert "(note of 2026-10-20) [S2]" in answer
    verified = verify_draft(answer, sources, embedder, threshold=THRESHOLD)
    assert verified.declined_reason is None and "2026-10-20" in verified.text
    wrong = answer.replace("2026-10-20", "2026-03-10")  # a date that is not the cited note's
    assert verify_draft(wrong, sources, embedder, threshold=THRESHOLD).declined_reason == "unsupported_draft"


def test_insurance_now_is_named_by_the_newest_note_that_names_it(embedder: Embedder) -> None:
    older = note(
        "cm-1", "Care Management Note\n\nHer insurance is Medicare Part A and Part B.\n", 20260201, score=0.9
    )
    newer = note(
        "cm-2",
        "Care Management Note\n\nHer insurance changed to a Humana Medicare Advantage plan.\n",
        20260915,
        score=0.6,
    )
    answer = ExtractiveAnswerer(embedder).answer("What insurance does she have now?", [older, newer])
    assert answer == "Her insurance changed to a Humana Medicare Advantage plan (note of 2026-09-15) [S2]."
