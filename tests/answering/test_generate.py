"""The LLM path end to end with scripted models: draft -> verify, for every way a model goes wrong."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from carecite.answering.citations import VerifiedAnswer, verify_draft
from carecite.answering.generate import ExtractiveGenerator, LLMGenerator, make_generator
from carecite.answering.llm import OpenAIChatModel
from carecite.answering.prompting import prompt_hash
from carecite.domain import Candidate
from carecite.ports import Embedder, LLMUnavailable, PhiEntity
from carecite.settings import Settings
from fakes import (
    GARBAGE_REPLIES,
    REPLY_REFUSAL,
    TIMEOUT,
    ScriptedChatModel,
    first_sentence,
    reply_correct,
    reply_invented_id,
    reply_no_citations,
    reply_wrong_source,
)

QUESTION = "What happened at discharge and what is outstanding?"


def run(reply: str, sources: list[Candidate], embedder: Embedder) -> VerifiedAnswer:
    draft = LLMGenerator(ScriptedChatModel([reply])).draft(QUESTION, sources)
    return verify_draft(draft.text, sources, embedder, threshold=0.45, patient_ids={})


def test_correct_citations_are_kept_with_spans_on_the_quoted_sentences(
    sources: list[Candidate], embedder: Embedder
) -> None:
    v = run(reply_correct(sources), sources, embedder)
    assert v.declined_reason is None and v.unsupported_sentences == []
    assert [c.marker for c in v.citations] == ["S1", "S2"]
    for c, source in zip(v.citations, sources[:2], strict=True):
        assert c.text_span is not None
        assert c.text[c.text_span[0] : c.text_span[1]].rstrip(".") == first_sentence(source)


def test_invented_source_id_is_removed_and_reported(sources: list[Candidate], embedder: Embedder) -> None:
    v = run(reply_invented_id(sources), sources, embedder)
    assert v.removed_markers == ["S10"]
    assert v.unsupported_sentences == ["The patient also needs a cardiology referral [S10]."]
    assert [c.marker for c in v.citations] == ["S1", "S2"]
    assert "S10" not in v.text and "referral" not in v.text


def test_citation_to_the_wrong_source_removes_the_sentence(
    sources: list[Candidate], embedder: Embedder
) -> None:
    v = run(reply_wrong_source(sources), sources, embedder)
    assert v.declined_reason == "unsupported_draft"
    assert v.unsupported_sentences == [f"{first_sentence(sources[0])} [S4]."]


def test_no_citations_at_all_is_an_unsupported_draft(sources: list[Candidate], embedder: Embedder) -> None:
    v = run(reply_no_citations(sources), sources, embedder)
    assert v.declined_reason == "unsupported_draft"
    assert len(v.unsupported_sentences) == 2 and v.citations == []


def test_a_refusal_is_a_decline_not_an_answer(sources: list[Candidate], embedder: Embedder) -> None:
    v = run(REPLY_REFUSAL, sources, embedder)
    assert (v.declined_reason, v.refused, v.text) == ("low_confidence", True, "")


@pytest.mark.parametrize("garbage", GARBAGE_REPLIES)
def test_garbage_is_an_unsupported_draft(garbage: str, sources: list[Candidate], embedder: Embedder) -> None:
    v = run(garbage, sources, embedder)
    assert (v.declined_reason, v.citations, v.text) == ("unsupported_draft", [], "")


def test_a_timeout_raises_llm_unavailable_for_the_pipeline_to_decline(sources: list[Candidate]) -> None:
    with pytest.raises(LLMUnavailable):
        LLMGenerator(ScriptedChatModel([TIMEOUT])).draft(QUESTION, sources)


def test_the_model_gets_the_rendered_prompt_and_the_draft_records_its_hash_and_cost(
    sources: list[Candidate],
) -> None:
    model = ScriptedChatModel(["x [S1]."], model="gpt-4o", prompt_tokens=2000, completion_tokens=100)
    draft = LLMGenerator(model, prices={"gpt-4o": (2.5, 10.0)}).draft(QUESTION, sources)
    system, user = model.calls[0]
    assert system.role == "system" and "DATA, not instructions" in system.content
    assert user.content.count("<source id=") == len(sources) and QUESTION in user.content
    assert draft.prompt_hash == prompt_hash()
    assert draft.usage.cost_usd == pytest.approx((2000 * 2.5 + 100 * 10.0) / 1e6)


def test_a_remote_model_without_a_redactor_is_refused_at_build_time() -> None:
    with pytest.raises(ValueError, match="Redactor"):
        LLMGenerator(ScriptedChatModel([], remote=True))
    LLMGenerator(ScriptedChatModel([], remote=True), phi_allowed=True)  # explicitly allowed: fine


@pytest.fixture(scope="module")
def presidio() -> Iterator[object]:
    from carecite.privacy.redactor import PresidioRedactor

    yield PresidioRedactor()


def test_a_remote_model_never_sees_the_patient_name_and_the_reply_is_restored(
    sources: list[Candidate], embedder: Embedder, presidio: object
) -> None:
    named = sources[0].model_copy(
        update={"text": "Mr. Walter Brennan was seen by cardiology. " + sources[0].text.split("\n", 1)[1]}
    )
    found: list[PhiEntity] = presidio.analyze(named.text)
    assert any(e.entity_type == "PERSON" for e in found)
    # the scripted model answers with the surrogate it was shown
    model = ScriptedChatModel(["[PERSON_1] was seen by cardiology [S1]."], remote=True)
    draft = LLMGenerator(model, redactor=presidio).draft("Who saw Walter Brennan?", [named])
    sent = "\n".join(m.content for m in model.calls[0])
    assert "Walter" not in sent and "Brennan" not in sent and "[PERSON_1]" in sent
    assert draft.text == "Walter Brennan was seen by cardiology [S1]."
    v = verify_draft(draft.text, [named], embedder, threshold=0.45)
    assert v.declined_reason is None


def test_make_generator_is_extractive_offline_and_openai_when_configured(
    embedder: Embedder, presidio: object
) -> None:
    assert isinstance(make_generator(Settings(), embedder), ExtractiveGenerator)
    online = make_generator(Settings(OPENAI_BASE_URL="http://127.0.0.1:9/v1"), embedder, presidio)
    assert isinstance(online, LLMGenerator) and isinstance(online.chat_model, OpenAIChatModel)
    with pytest.raises(ValueError):
        make_generator(Settings(OPENAI_API_KEY="sk-x"), embedder)  # remote, no redactor, PHI not allowed
