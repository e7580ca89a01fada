"""The OpenAI-compatible chat model adapter (the only module that imports ``openai``).

Retries are ours, not the SDK's (``max_retries=0`` on the client), and only where a retry cannot
run a generation twice:
- connection refused or a connect timeout (nothing reached the server);
- 429 and 500/502/503 (the server answered and is not generating), honouring Retry-After.
A read timeout is NOT retried: a CPU-served model may still be generating the first attempt, and a
second attempt would only queue behind it (measured on llama.cpp: attempts 1 and 4 both ran to the
end). When carecite gives up, the HTTP connection is closed, which is how a server learns the
client went away. 504 (a gateway gave up while the model may still run) and 4xx are not retried.

The read timeout defaults to 120 s because one answer from a small model on two CPU cores takes
tens of seconds; a hosted endpoint answers far sooner and is unaffected by the generous bound.

The model name: ``CARECITE_LLM_MODEL`` when set; else ``gpt-4o-mini`` on OpenAI itself; else, for a
custom ``OPENAI_BASE_URL``, the one model its ``/v1/models`` lists (several: a clear error asking to
choose). Never a hosted model's name sent to a local server, which would echo it back and be billed
at the hosted price.
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

# The server answered without generating: a retry cannot duplicate work. (408 and 504 say a
# timeout happened somewhere while the model may still run: not retried.)
RETRYABLE_STATUS = frozenset({429, 500, 502, 503})
# An OpenAI-compatible server on loopback (vLLM, llama.cpp, Ollama) often needs no key at all,
# but the SDK insists on one.
PLACEHOLDER_KEY = "not-needed"
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"


def cost_usd(
    prices: Mapping[str, tuple[float, float]], model: str, prompt_tokens: int, completion_tokens: int
) -> float | None:
    """USD for one call; prices are per 1M tokens (prompt, completion). None when ``model`` has no
    configured price: an unknown cost is reported as unknown, never as a guess or as free.

    Providers answer with dated model names ("gpt-4o-mini-2024-07-18"): the longest price key the
    name starts with wins, so "gpt-4o-mini-…" is never billed as "gpt-4o".
    """
    keys = [k for k in prices if model == k or model.startswith(k + "-")]
    if not keys:
        return None
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
        self._configured_model = settings.llm_model
        self._model: str | None = settings.llm_model or (
            None if settings.openai_base_url else DEFAULT_OPENAI_MODEL
        )
        self.base_url = settings.openai_base_url
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
            timeout=openai.Timeout(settings.llm_timeout_s, connect=settings.llm_connect_timeout_s),
            max_retries=0,
        )

    @property
    def name(self) -> str:
        return f"openai:{self._model or 'unresolved'}"

    # ------------------------------------------------------------------ model
    def list_models(self) -> list[str]:
        """The model ids the endpoint's /v1/models lists (LLMUnavailable when it cannot be read)."""
        try:
            return sorted(m.id for m in self._client.models.list(timeout=self._short_timeout()))
        except (openai.OpenAIError, ValueError, AttributeError, TypeError) as exc:
            raise LLMUnavailable(f"cannot list the endpoint's models ({_describe(exc)})") from exc

    @property
    def model(self) -> str:
        """The model sent with every request, resolved once (see the module docstring)."""
        if self._model is None:
            served = self.list_models()
            if len(served) != 1:
                listed = ", ".join(served[:10]) or "none"
                raise LLMUnavailable(
                    f"CARECITE_LLM_MODEL is not set and the endpoint serves {len(served)} models "
                    f"({listed}): set CARECITE_LLM_MODEL to one of them"
                )
            self._model = served[0]
            log.info("LLM model resolved from the endpoint: %s", self._model)
        return self._model

    # ------------------------------------------------------------------ completion
    def complete(self, messages: Sequence[ChatMessage], *, max_tokens: int | None = None) -> ChatResult:
        model = self.model
        attempts = 1 + self.max_retries
        last: Exception | None = None
        for attempt in range(attempts):
            try:
                return self._once(model, messages, max_tokens or self.max_tokens)
            except openai.APITimeoutError as exc:
                if not _never_sent(exc):
                    raise LLMUnavailable(
                        f"{self.name}: no reply within {self.timeout_s:g} s; not retried (the server "
                        "may still be generating); the request was abandoned"
                    ) from exc
                last, wait = exc, self._backoff(attempt)
            except openai.APIConnectionError as exc:
                if not _never_sent(exc):
                    # The connection broke after the request was sent: the server may be generating.
                    raise LLMUnavailable(f"{self.name}: connection lost mid-request (not retried)") from exc
                last, wait = exc, self._backoff(attempt)
            except openai.APIStatusError as exc:
                if exc.status_code not in RETRYABLE_STATUS:
                    raise LLMUnavailable(f"{self.name}: HTTP {exc.status_code} (not retried)") from exc
                last, wait = exc, self._backoff(attempt, retry_after=_retry_after(exc))
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

    def _once(self, model: str, messages: Sequence[ChatMessage], max_tokens: int) -> ChatResult:
        payload: list[Any] = [{"role": m.role, "content": m.content} for m in messages]
        resp = self._client.chat.completions.create(
            model=model,
            messages=payload,
            temperature=self.temperature,
            max_tokens=max_tokens,
        )
        if not hasattr(resp, "choices"):  # the SDK hands back a plain string for non-JSON bodies
            raise ValueError("not a chat completion")
        text, finish = "", None
        if resp.choices:
            text = resp.choices[0].message.content or ""
            finish = resp.choices[0].finish_reason
        usage = resp.usage
        return ChatResult(
            text=text,
            # The configured/resolved name, not the echo: a local server echoes whatever it is sent.
            model=resp.model if resp.model and resp.model.startswith(model) else model,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            finish_reason=finish,
        )

    def _short_timeout(self) -> openai.Timeout:
        return openai.Timeout(min(self.timeout_s, 10.0), connect=min(self.timeout_s, 5.0))

    def _backoff(self, attempt: int, retry_after: float | None = None) -> float:
        # Full jitter (AWS architecture blog): uniform in [0, base * 2^attempt], capped.
        cap = min(self.backoff_max_s, self.backoff_base_s * (2**attempt))
        wait = self._rng.uniform(0, cap)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.backoff_max_s))
        return wait


def _never_sent(exc: Exception) -> bool:
    """Did the request fail while connecting (so the server never saw it)? The SDK wraps the HTTP
    library's ConnectError / ConnectTimeout (httpx or httpx2, by SDK version): matched by name."""
    return type(exc.__cause__).__name__ in {"ConnectError", "ConnectTimeout"}


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
