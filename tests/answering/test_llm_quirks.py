"""Real servers' quirks, each reproduced by the local OpenAI-compatible server (tests/llm_server.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from carecite.answering.generate import LLMGenerator, make_generator
from carecite.answering.llm import OpenAIChatModel
from carecite.answering.llm_check import run_llm_check
from carecite.answering.llm_check_result import fold_system_prompt, load_check, save_check
from carecite.domain import Candidate
from carecite.ports import ChatMessage, Embedder, LLMUnavailable
from carecite.settings import Settings
from llm_server import OpenAICompatibleServer, Quirks, Reply, completion


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[OpenAICompatibleServer] = []

    def start(quirks: Quirks | None = None, *script: Reply) -> OpenAICompatibleServer:
        s = OpenAICompatibleServer(quirks, script=list(script)).__enter__()
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.__exit__()


def settings_for(server: OpenAICompatibleServer, tmp_path: Any, **kw: Any) -> Settings:
    return Settings(data_dir=tmp_path / "data", OPENAI_BASE_URL=server.base_url, **kw)


def generator_for(settings: Settings, **kw: Any) -> LLMGenerator:
    return LLMGenerator(
        OpenAIChatModel(settings, backoff_base_s=0.01),
        prices=settings.llm_prices,
        phi_allowed=True,
        retry_max_tokens=settings.llm_retry_max_tokens,
        **kw,
    )


# --------------------------------------------------------------------------- the model name
def test_an_unset_model_is_the_one_model_the_endpoint_lists(serve: Any, tmp_path: Any) -> None:
    server = serve(Quirks(models=("gemma-3-270m-it",)))
    model = OpenAIChatModel(settings_for(server, tmp_path))
    result = model.complete([ChatMessage(role="user", content="hi")])
    assert server.chat_requests()[0]["json"]["model"] == "gemma-3-270m-it"
    assert result.model == "gemma-3-270m-it"  # never a hosted model's name, never billed as one


def test_an_unset_model_on_an_endpoint_with_several_is_a_clear_error(serve: Any, tmp_path: Any) -> None:
    server = serve(Quirks(models=("llama-3.1-8b", "qwen2.5-7b")))
    with pytest.raises(LLMUnavailable, match="set CARECITE_LLM_MODEL to one of them"):
        OpenAIChatModel(settings_for(server, tmp_path)).complete([ChatMessage(role="user", content="hi")])
    assert server.chat_requests() == []


def test_a_local_model_without_a_price_has_an_unknown_cost(
    serve: Any, tmp_path: Any, sources: list[Candidate]
) -> None:
    server = serve(Quirks())
    draft = generator_for(settings_for(server, tmp_path)).draft("What did cardiology recommend?", sources)
    assert draft.usage.model == "gemma-3-270m-it"
    assert draft.usage.prompt_tokens > 0 and draft.usage.cost_usd is None


# --------------------------------------------------------------------------- llm check
def test_llm_check_finds_a_dropped_system_role_and_carecite_folds_the_rules_into_the_user_turn(
    serve: Any, tmp_path: Any, embedder: Embedder, sources: list[Candidate]
) -> None:
    server = serve(Quirks(drop_system=True))
    settings = settings_for(server, tmp_path)
    check = run_llm_check(settings, embedder)
    assert check.system_role == "dropped" and check.fold_system
    assert check.model == "gemma-3-270m-it" and check.model_listed
    assert check.canary_ok and check.max_tokens_honoured
    assert any("folded into the user turn" in a for a in check.actions)

    save_check(settings, check)
    assert load_check(settings) == check
    assert fold_system_prompt(settings)  # "auto" follows the stored check
    assert not fold_system_prompt(settings.model_copy(update={"llm_system_prompt": "system"}))

    server.requests.clear()
    # (PHI allowed: this test is about the prompt's shape; pseudonymisation has its own tests)
    generator = make_generator(settings.model_copy(update={"llm_phi_allowed": True}), embedder)
    assert isinstance(generator, LLMGenerator) and generator.fold_system
    generator.draft("What did cardiology recommend?", sources)
    sent = server.chat_requests()[0]["json"]["messages"]
    assert [m["role"] for m in sent] == ["user"]
    assert "Every sentence of your answer ends with one or more citation markers" in sent[0]["content"]


def test_llm_check_on_a_well_behaved_server_keeps_the_system_role(
    serve: Any, tmp_path: Any, embedder: Embedder
) -> None:
    server = serve(Quirks())
    check = run_llm_check(settings_for(server, tmp_path), embedder)
    assert check.system_role == "kept" and not check.fold_system and check.ok


def test_llm_check_reports_a_model_the_endpoint_does_not_list(
    serve: Any, tmp_path: Any, embedder: Embedder
) -> None:
    server = serve(Quirks(models=("gemma-3-270m-it",)))
    check = run_llm_check(settings_for(server, tmp_path, llm_model="gpt-4o-mini"), embedder)
    assert check.model_listed is False
    assert any("does not list gpt-4o-mini" in f for f in check.findings)


def test_llm_check_reports_max_tokens_ignored_and_an_echoing_model(
    serve: Any, tmp_path: Any, embedder: Embedder
) -> None:
    server = serve(Quirks(echo=True, honour_max_tokens=False, ignore_stop_after=50))
    check = run_llm_check(settings_for(server, tmp_path), embedder)
    assert check.max_tokens_honoured is False and check.canary_ok is False
    assert not check.ok


def test_llm_check_on_a_dead_endpoint_says_so(tmp_path: Any, embedder: Embedder) -> None:
    settings = Settings(
        data_dir=tmp_path / "d", OPENAI_BASE_URL="http://127.0.0.1:9/v1", llm_model="m", llm_max_retries=0
    )
    check = run_llm_check(settings, embedder)
    assert not check.reachable and not check.ok
    assert any("did not answer" in f for f in check.findings)


# --------------------------------------------------------------------------- truncation and echo
def test_a_cut_off_reply_is_retried_once_with_room_and_both_calls_are_counted(
    serve: Any, tmp_path: Any, sources: list[Candidate]
) -> None:
    server = serve(Quirks(ignore_stop_after=700))  # rambles for 700 "tokens"
    settings = settings_for(server, tmp_path, llm_max_tokens=600, llm_retry_max_tokens=1200)
    draft = generator_for(settings).draft("What did cardiology recommend?", sources)
    assert [r["json"]["max_tokens"] for r in server.chat_requests()] == [600, 1200]
    assert draft.decline_reason is None and draft.usage.finish_reason == "stop"
    assert draft.usage.completion_tokens == 600 + 700


def test_a_reply_cut_off_twice_is_declined_as_truncated_and_never_shown(
    serve: Any, tmp_path: Any, sources: list[Candidate]
) -> None:
    server = serve(Quirks(ignore_stop_after=5000))
    settings = settings_for(server, tmp_path, llm_max_tokens=600, llm_retry_max_tokens=1200)
    draft = generator_for(settings).draft("What did cardiology recommend?", sources)
    assert draft.decline_reason == "truncated_draft"
    assert draft.usage.finish_reason == "length"
    assert "cut off" in (draft.decline_detail or "")


def test_a_reply_that_echoes_the_prompt_is_declined_as_an_echo(
    serve: Any, tmp_path: Any, sources: list[Candidate]
) -> None:
    server = serve(Quirks(echo=True))
    draft = generator_for(settings_for(server, tmp_path)).draft("What did cardiology recommend?", sources)
    assert draft.decline_reason == "echoed_prompt"


def test_a_grounded_reply_that_quotes_a_source_is_not_an_echo(
    serve: Any, tmp_path: Any, sources: list[Candidate]
) -> None:
    server = serve(Quirks())
    draft = generator_for(settings_for(server, tmp_path)).draft("What did cardiology recommend?", sources)
    assert draft.decline_reason is None and draft.text.endswith("[S1].")


# --------------------------------------------------------------------------- retries
def test_429_with_retry_after_is_retried_after_the_wait_it_asks_for(serve: Any, tmp_path: Any) -> None:
    server = serve(
        Quirks(),
        Reply(429, {"error": {"message": "busy"}}, headers={"retry-after": "0.4"}),
        Reply(200, completion("ok [S1].", model="m", prompt=3, completion=2)),
    )
    model = OpenAIChatModel(settings_for(server, tmp_path, llm_model="m"), backoff_base_s=0.01)
    t0 = time.perf_counter()
    result = model.complete([ChatMessage(role="user", content="hi")])
    assert result.text == "ok [S1]." and len(server.chat_requests()) == 2
    assert time.perf_counter() - t0 >= 0.4


def test_a_slow_server_is_given_up_on_once_and_the_request_abandoned(serve: Any, tmp_path: Any) -> None:
    server = serve(Quirks(delay_s=5.0))
    settings = settings_for(server, tmp_path, llm_model="m", llm_timeout_s=0.3, llm_max_retries=3)
    with pytest.raises(LLMUnavailable, match="not retried"):
        OpenAIChatModel(settings).complete([ChatMessage(role="user", content="hi")])
    assert len(server.chat_requests()) == 1
    deadline = time.monotonic() + 3.0
    while server.disconnects == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.disconnects == 1
