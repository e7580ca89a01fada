"""The ask pipeline end to end over the ingested world: real stores, real Presidio, the offline
extractive answerer by default and a scripted LLM where a test needs a particular draft."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from carecite.answering.pipeline import AskRequest, BadInput, Pipeline
from carecite.answering.text import find_markers
from carecite.domain import Answer, Candidate
from carecite.settings import Settings
from fakes import (
    GARBAGE_REPLIES,
    TIMEOUT,
    ScriptedChatModel,
    SourceScriptedChatModel,
    reply_correct,
    reply_invented_id,
    reply_wrong_source,
)
from world import gold_questions

GOLD = {str(q["id"]): q for q in gold_questions()}


def gold_of(category: str, expect: str = "answer") -> dict[str, object]:
    return next(q for q in GOLD.values() if q["category"] == category and q["expect"] == expect)


def ask_gold(pipeline: Pipeline, q: dict[str, object]) -> Answer:
    return pipeline.ask(
        AskRequest(question=str(q["question"]), user_id=str(q["user_id"]), patient_id=str(q["patient_id"]))
    )


def scripted(world_settings: Settings, pipe: Pipeline, model: ScriptedChatModel) -> Pipeline:
    from carecite.wiring import build_pipeline

    return build_pipeline(world_settings, stores=pipe.stores, chat_model=model, redactor=pipe.redactor)


OVERDUE = gold_of("overdue_tasks")


def test_gold_question_is_answered_with_cited_spans_inside_what_was_retrieved_and_timed(
    world_pipeline: Pipeline,
) -> None:
    answer = ask_gold(world_pipeline, OVERDUE)
    assert not answer.declined and answer.answer
    retrieved = {r.source_id for r in answer.retrieved}
    assert answer.citations and {c.source_id for c in answer.citations} <= retrieved
    for c in answer.citations:
        assert c.text_span is not None
        start, end = c.text_span
        assert 0 <= start < end <= len(c.text)
    assert {f"S{n}" for n in find_markers(answer.answer)} <= {c.marker for c in answer.citations}
    expected = [str(ref) for ref in OVERDUE["expected_refs"]]  # type: ignore[attr-defined]
    assert set(expected) & {c.source_ref for c in answer.citations}
    assert {"access", "retrieve", "rerank", "generate", "verify", "total"} <= set(answer.timings_ms)
    assert answer.timings_ms["total"] >= answer.timings_ms["retrieve"] > 0
    # The parts of retrieve are timed inside it (what `carecite bench query` profiles).
    parts = [f"retrieve.{p}" for p in ("embed_query", "dense", "lexical", "structured", "fusion")]
    assert all(answer.timings_ms[p] >= 0 for p in parts) and answer.timings_ms["retrieve.dense"] > 0
    assert sum(answer.timings_ms[p] for p in parts) <= answer.timings_ms["retrieve"] + 0.05


def test_a_note_citation_span_is_offsets_into_the_decoded_note(world_pipeline: Pipeline) -> None:
    """DESIGN.md: a reviewer finds the cited words in the EHR's note at ``span``."""
    from sqlmodel import Session

    from carecite.records import tables as t

    answer = ask_gold(world_pipeline, OVERDUE)
    notes = [c for c in answer.citations if c.source_type == "note_chunk"]
    if not notes:  # the overdue question is answered from records: ask one a note answers
        answer = ask_gold(world_pipeline, gold_of("discharge_recommendations"))
        notes = [c for c in answer.citations if c.source_type == "note_chunk"]
    assert notes, "no note was cited"
    with Session(world_pipeline.stores.engine) as session:
        for c in notes:
            chunk = session.get(t.ChunkRow, c.source_id)
            assert chunk is not None
            note = session.get(t.Note, chunk.doc_id)
            assert note is not None and c.text_span is not None
            for (a, b), (x, y) in zip(c.spans, c.text_spans, strict=True):
                assert note.text[a:b] == c.text[x:y] != ""
            assert c.span[0] >= chunk.start and c.span[1] <= chunk.end


def test_unanswerable_gold_question_declines_for_lack_of_evidence(world_pipeline: Pipeline) -> None:
    answer = ask_gold(world_pipeline, gold_of("unanswerable", "decline"))
    assert answer.declined and answer.decline_reason in ("no_evidence", "low_confidence", "unsupported_draft")
    assert answer.answer == "" and answer.citations == [] and answer.decline_detail


@pytest.mark.parametrize("habit", ["Does the patient use cocaine?", "Does the patient use heroin?"])
def test_a_habit_the_record_never_mentions_still_declines(world_pipeline: Pipeline, habit: str) -> None:
    """A yes/no question is routed to the social history (issue 26), but only a sentence asserting the
    habit answers it: with none, the evidence gate declines as before."""
    asked = {**OVERDUE, "question": habit}
    answer = ask_gold(world_pipeline, asked)
    assert answer.declined and answer.answer == "" and answer.citations == []


def _ask_scripted(
    world_settings: Settings, pipe: Pipeline, script: Callable[[Sequence[Candidate]], str]
) -> tuple[Answer, SourceScriptedChatModel]:
    model = SourceScriptedChatModel(script)
    return ask_gold(scripted(world_settings, pipe, model), OVERDUE), model


def test_correct_scripted_draft_is_kept(world_settings: Settings, world_pipeline: Pipeline) -> None:
    answer, model = _ask_scripted(world_settings, world_pipeline, reply_correct)
    assert len(model.calls) == 1
    assert not answer.declined and answer.citations and answer.unsupported_sentences == []
    assert answer.usage.model == "scripted" and answer.prompt_hash


def test_invented_source_number_is_removed(world_settings: Settings, world_pipeline: Pipeline) -> None:
    answer, _ = _ask_scripted(world_settings, world_pipeline, reply_invented_id)
    assert "cardiology referral" not in answer.answer
    assert all(int(c.marker[1:]) <= world_pipeline.settings.context_k for c in answer.citations)
    assert answer.declined or answer.citations  # still a valid answer, or an honest decline
    assert any("cardiology referral" in s for s in answer.unsupported_sentences)


def test_sentence_citing_the_wrong_source_is_reported_unsupported(
    world_settings: Settings, world_pipeline: Pipeline
) -> None:
    answer, _ = _ask_scripted(world_settings, world_pipeline, reply_wrong_source)
    assert answer.unsupported_sentences
    assert answer.declined and answer.decline_reason == "unsupported_draft"


@pytest.mark.parametrize("garbage", GARBAGE_REPLIES[:4])
def test_garbage_reply_is_an_unsupported_draft(
    world_settings: Settings, world_pipeline: Pipeline, garbage: str
) -> None:
    answer = ask_gold(scripted(world_settings, world_pipeline, ScriptedChatModel([garbage])), OVERDUE)
    assert answer.declined and answer.decline_reason == "unsupported_draft" and answer.answer == ""


def test_llm_timeout_declines_as_llm_unavailable(world_settings: Settings, world_pipeline: Pipeline) -> None:
    answer = ask_gold(scripted(world_settings, world_pipeline, ScriptedChatModel([TIMEOUT])), OVERDUE)
    assert answer.declined and answer.decline_reason == "llm_unavailable"
    assert answer.retrieved and answer.citations == []


@pytest.mark.parametrize("question", ["", "   \n\t ", "x" * 1001])
def test_bad_question_is_bad_input_and_leaves_no_record(world_pipeline: Pipeline, question: str) -> None:
    before = world_pipeline.audit.count()
    with pytest.raises(BadInput):
        world_pipeline.ask(
            AskRequest(question=question, user_id="cc-ben", patient_id=str(OVERDUE["patient_id"]))
        )
    assert world_pipeline.audit.count() == before


def test_every_ask_leaves_exactly_one_record_and_the_chain_verifies(world_pipeline: Pipeline) -> None:
    requests = [
        OVERDUE,  # answer
        gold_of("unanswerable", "decline"),  # decline
        gold_of("other_facility", "denied"),  # denied
    ]
    for q in requests:
        before = world_pipeline.audit.count()
        answer = ask_gold(world_pipeline, q)
        assert world_pipeline.audit.count() == before + 1
        entry = world_pipeline.audit.get(answer.request_id)
        assert entry is not None and entry.retrieved_ids == [r.source_id for r in answer.retrieved]
        assert entry.cited_ids == [c.source_id for c in answer.citations]
    assert world_pipeline.audit.verify().ok


def test_a_question_naming_someone_other_than_the_selected_patient_is_declined_not_answered(
    world_pipeline: Pipeline,
) -> None:
    q = gold_of("recent_lab")
    answer = world_pipeline.ask(
        AskRequest(
            question="What was Mr. Zebulon's most recent creatinine?",
            user_id=str(q["user_id"]),
            patient_id=str(q["patient_id"]),
        )
    )
    assert answer.declined and answer.decline_reason == "out_of_scope"
    assert "Zebulon" in (answer.decline_detail or "") and not answer.citations and not answer.retrieved


def test_another_patient_of_the_directory_named_in_lower_case_is_declined_before_retrieval(
    world_pipeline: Pipeline,
) -> None:
    """Issue 27: "what oxygen flow is dorothy jones on" asked with Carol Jones selected was answered
    with Carol's record. A full name of another patient the user may see declines, retrieving nothing."""
    from sqlmodel import Session, select

    from carecite.records import tables as t

    q = gold_of("recent_lab")
    with Session(world_pipeline.stores.engine) as s:
        me = s.get(t.Patient, str(q["patient_id"]))
        assert me is not None
        others = s.exec(select(t.Patient).where(t.Patient.id != me.id)).all()
    scope_ok = []
    for other in others:
        answer = world_pipeline.ask(
            AskRequest(
                question=f"what was {other.given.lower()} {other.family.lower()}'s latest creatinine",
                user_id=str(q["user_id"]),
                patient_id=str(q["patient_id"]),
            )
        )
        if answer.decline_reason == "out_of_scope":
            assert not answer.retrieved and not answer.citations
            assert "another patient" in (answer.decline_detail or "")
            assert other.family.lower() not in (answer.decline_detail or "").lower()  # never repeated
            scope_ok.append(other.id)
            break
    assert scope_ok, "no other patient named in full was declined"
    mine = world_pipeline.ask(
        AskRequest(
            question=f"what was {me.given.lower()} {me.family.lower()}'s latest creatinine",
            user_id=str(q["user_id"]),
            patient_id=str(q["patient_id"]),
        )
    )
    assert mine.decline_reason != "out_of_scope"


def test_a_quote_from_no_note_of_the_patient_is_declined_not_answered_with_their_tasks(
    world_pipeline: Pipeline,
) -> None:
    """Cross-patient bait: another chart's discharge summary quoted, "Has that happened?". Without the
    quote check the patient's own open tasks answered it."""
    q = gold_of("overdue_tasks")
    answer = world_pipeline.ask(
        AskRequest(
            question='The discharge summary from July 17 said: "Follow up with Dr. Quill in 10 days for '
            'suture removal and wound check". Has that happened?',
            user_id=str(q["user_id"]),
            patient_id=str(q["patient_id"]),
        )
    )
    assert answer.declined and answer.decline_reason == "no_evidence" and not answer.citations
    assert "quotes" in (answer.decline_detail or "")
