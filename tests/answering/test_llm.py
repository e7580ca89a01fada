"""OpenAIChatModel against a real HTTP server on 127.0.0.1 speaking /v1/chat/completions."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from carecite.answering.citations import verify_draft
from carecite.answering.generate import LLMGenerator
from carecite.answering.llm import OpenAIChatModel, cost_usd
from carecite.domain import Candidate
from carecite.ports import ChatMessage, Embedder, LLMUnavailable
from carecite.settings import Settings
from llm_server import OpenAICompatibleServer, Quirks, Reply
from llm_server import completion as _completion


def completion(
    text: str, *, model: str = "gpt-4o-mini-2024-07-18", prompt: int = 1200, completion: int = 80
) -> dict[str, Any]:
    return _completion(text, model=model, prompt=prompt, completion=completion)


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[OpenAICompatibleServer] = []

    def start(*replies: Reply, quirks: Quirks | None = None) -> OpenAICompatibleServer:
        s = OpenAICompatibleServer(quirks, script=list(replies)).__enter__()
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.__exit__()


def model_for(server: OpenAICompatibleServer, *, timeout_s: float = 5.0, retries: int = 2) -> OpenAIChatModel:
    settings = Settings(
        OPENAI_BASE_URL=server.base_url,
        OPENAI_API_KEY="sk-test",
        llm_model="gpt-4o-mini",
        llm_timeout_s=timeout_s,
        llm_max_retries=retries,
    )
    return OpenAIChatModel(settings, backoff_base_s=0.01, backoff_max_s=0.05)


MESSAGES = [ChatMessage(role="system", content="rules"), ChatMessage(role="user", content="question")]


def test_server_error_is_retried_and_the_next_reply_is_used(serve: Any) -> None:
    server = serve(
        Reply(500, {"error": {"message": "boom"}}), Reply(200, completion("Echo is overdue [S2]."))
    )
    result = model_for(server).complete(MESSAGES)
    assert result.text == "Echo is overdue [S2]."
    assert len(server.requests) == 2
    sent = server.requests[0]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["auth"] == "Bearer sk-test"
    assert sent["json"]["model"] == "gpt-4o-mini"
    assert [m["role"] for m in sent["json"]["messages"]] == ["system", "user"]


def test_rate_limit_every_time_raises_llm_unavailable_after_bounded_attempts(serve: Any) -> None:
    server = serve(*[Reply(429, {"error": {"message": "slow down"}}, headers={"retry-after": "0.02"})] * 4)
    t0 = time.perf_counter()
    with pytest.raises(LLMUnavailable, match="HTTP 429 after 3 attempt"):
        model_for(server, retries=2).complete(MESSAGES)
    assert len(server.requests) == 3
    assert time.perf_counter() - t0 < 3.0


def test_client_error_is_not_retried(serve: Any) -> None:
    server = serve(Reply(401, {"error": {"message": "bad key"}}))
    with pytest.raises(LLMUnavailable, match="401"):
        model_for(server, retries=3).complete(MESSAGES)
    assert len(server.requests) == 1


def test_a_read_timeout_is_not_retried_and_the_request_is_abandoned(serve: Any) -> None:
    # A CPU-served model may still be generating attempt 1: a retry would run the work twice.
    server = serve(Reply(200, completion("late"), delay_s=6.0))
    t0 = time.perf_counter()
    with pytest.raises(LLMUnavailable, match="not retried"):
        model_for(server, timeout_s=0.25, retries=3).complete(MESSAGES)
    elapsed = time.perf_counter() - t0
    assert elapsed < 3.0, f"one 0.25 s attempt took {elapsed:.2f} s"
    assert len(server.chat_requests()) == 1
    deadline = time.monotonic() + 3.0
    while server.disconnects == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.disconnects == 1  # the connection was closed: the server can stop generating


def test_a_gateway_timeout_is_not_retried(serve: Any) -> None:
    server = serve(Reply(504, {"error": {"message": "upstream timed out"}}))
    with pytest.raises(LLMUnavailable, match="504"):
        model_for(server, retries=3).complete(MESSAGES)
    assert len(server.chat_requests()) == 1


def test_unreadable_reply_raises_llm_unavailable(serve: Any) -> None:
    server = serve(Reply(200, "<html>gateway says hi</html>"))
    with pytest.raises(LLMUnavailable):
        model_for(server, retries=0).complete(MESSAGES)


def test_connection_refused_is_retried_then_raises_llm_unavailable() -> None:
    settings = Settings(
        OPENAI_BASE_URL="http://127.0.0.1:9/v1", llm_model="m", llm_timeout_s=1.0, llm_max_retries=1
    )
    with pytest.raises(LLMUnavailable, match="APIConnectionError after 2 attempt"):  # refused: retried
        OpenAIChatModel(settings, backoff_base_s=0.01).complete(MESSAGES)


def test_usage_from_the_reply_gives_tokens_and_cost(
    serve: Any, sources: list[Candidate], embedder: Embedder
) -> None:
    reply = "Cardiology recommended increasing furosemide to 40 mg twice daily [S1]."
    server = serve(Reply(200, completion(reply, prompt=1200, completion=80)))
    settings = Settings(OPENAI_BASE_URL=server.base_url, OPENAI_API_KEY="sk-test", llm_model="gpt-4o-mini")
    generator = LLMGenerator(OpenAIChatModel(settings), prices=settings.llm_prices, phi_allowed=True)
    draft = generator.draft("What did cardiology recommend?", sources)
    # dated model name billed at gpt-4o-mini prices: (1200 * 0.15 + 80 * 0.60) / 1e6
    assert draft.usage.model == "gpt-4o-mini-2024-07-18"
    assert (draft.usage.prompt_tokens, draft.usage.completion_tokens) == (1200, 80)
    assert draft.usage.cost_usd == pytest.approx(0.000228)
    assert draft.prompt_hash is not None and len(draft.prompt_hash) == 64
    # what reached the server is the rendered prompt with the fenced sources
    user = server.requests[0]["json"]["messages"][1]["content"]
    assert '<source id="S1" ref="DocumentReference/dc-1"' in user
    verified = verify_draft(draft.text, sources, embedder, threshold=0.45)
    assert verified.declined_reason is None
    assert [c.marker for c in verified.citations] == ["S1"]


def test_cost_uses_the_longest_matching_price_and_is_unknown_without_a_price() -> None:
    prices = {"gpt-4o": (2.5, 10.0), "gpt-4o-mini": (0.15, 0.6)}
    assert cost_usd(prices, "gpt-4o-mini-2024-07-18", 1_000_000, 0) == pytest.approx(0.15)
    assert cost_usd(prices, "gpt-4o", 0, 1_000_000) == pytest.approx(10.0)
    assert cost_usd(prices, "llama-3.1-8b", 1_000_000, 1_000_000) is None
