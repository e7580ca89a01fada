"""The OpenAI-compatible chat model adapter (the only module that imports ``openai``).

Retries are ours, not the SDK's (``max_retries=0`` on the client): a bounded loop with exponential
backoff and full jitter on 429, 5xx, timeouts and connection errors, honouring Retry-After up to
the backoff cap. Owning the loop makes it testable against a real local HTTP server and lets the
total time be bounded: at most ``1 + llm_max_retries`` attempts of ``llm_timeout_s`` each, plus
backoff. Other errors (400, 401, 404...) are not retried: retrying cannot fix them.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import openai

from carecite.ports import ChatMessage, ChatResult, LLMUnavailable
from carecite.settings import Settings

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
# An OpenAI-compatible server on loopback (vLLM, llama.cpp, Ollama) often needs no key at all,
# but the SDK insists on one.
PLACEHOLDER_KEY = "not-needed"


def cost_usd(
    prices: Mapping[str, tuple[float, float]], model: str, prompt_tokens: int, completion_tokens: int
) -> float:
    """USD for one call; prices are per 1M tokens (prompt, completion). Unknown model: 0.0.

    Providers answer with dated model names ("gpt-4o-mini-2024-07-18"): the longest price key the
    name starts with wins, so "gpt-4o-mini-…" is never billed as "gpt-4o".
    """
    keys = [k for k in prices if model == k or model.startswith(k + "-")]
    if not keys:
        return 0.0
    p_in, p_out = prices[max(keys, key=len)]
    return round((prompt_tokens * p_in + completion_tokens * p_out) / 1_000_000, 8)


class OpenAIChatModel:
    """``ports.ChatModel`` over any OpenAI-compatible /v1/chat/completions endpoint."""

    remote = True  # text leaves this process for an endpoint we do not control: PHI rules apply

    def __init__(
        self,
        settings: Settings,
        *,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.model = settings.llm_model
        self.name = f"openai:{settings.llm_model}"
        self.timeout_s = settings.llm_timeout_s
        self.max_retries = max(0, settings.llm_max_retries)
        self.temperature = settings.llm_temperature
        self.max_tokens = settings.llm_max_tokens
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._client = openai.OpenAI(
            api_key=settings.openai_api_key or PLACEHOLDER_KEY,
            base_url=settings.openai_base_url,
            timeout=settings.llm_timeout_s,
            max_retries=0,
        )

    def complete(self, messages: Sequence[ChatMessage]) -> ChatResult:
        attempts = 1 + self.max_retries
        last: Exception | None = None
        for attempt in range(attempts):
            try:
                return self._once(messages)
            except (openai.APITimeoutError, openai.APIConnectionError) as exc:  # timeout is a subclass
                last = exc
                wait = self._backoff(attempt)
            except openai.APIStatusError as exc:
                if exc.status_code not in RETRYABLE_STATUS:
                    raise LLMUnavailable(f"{self.name}: HTTP {exc.status_code} (not retried)") from exc
                last = exc
                wait = self._backoff(attempt, retry_after=_retry_after(exc))
            except (openai.OpenAIError, ValueError, AttributeError) as exc:
                # A 200 we cannot read (HTML from a proxy, truncated JSON): retrying will not help.
                raise LLMUnavailable(f"{self.name}: unreadable reply ({type(exc).__name__})") from exc
            if attempt + 1 < attempts:
                log.warning(
                    "LLM call failed (%s), retry %d/%d in %.2fs",
                    _describe(last),
                    attempt + 1,
                    self.max_retries,
                    wait,
                )
                self._sleep(wait)
        raise LLMUnavailable(f"{self.name}: {_describe(last)} after {attempts} attempt(s)") from last

    def _once(self, messages: Sequence[ChatMessage]) -> ChatResult:
        payload: list[Any] = [{"role": m.role, "content": m.content} for m in messages]
        resp = self._client.chat.completions.create(
            model=self.model,
            messages=payload,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            timeout=self.timeout_s,
        )
        if not hasattr(resp, "choices"):  # the SDK hands back a plain string for non-JSON bodies
            raise ValueError("not a chat completion")
        text = ""
        if resp.choices:
            text = resp.choices[0].message.content or ""
        usage = resp.usage
        return ChatResult(
            text=text,
            model=resp.model or self.model,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
        )

    def _backoff(self, attempt: int, retry_after: float | None = None) -> float:
        # Full jitter (AWS architecture blog): uniform in [0, base * 2^attempt], capped.
        cap = min(self.backoff_max_s, self.backoff_base_s * (2**attempt))
        wait = self._rng.uniform(0, cap)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.backoff_max_s))
        return wait


def _retry_after(exc: openai.APIStatusError) -> float | None:
    value = exc.response.headers.get("retry-after") if exc.response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: ignore, the jittered backoff applies


def _describe(exc: Exception | None) -> str:
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}"
    return type(exc).__name__ if exc else "no reply"
