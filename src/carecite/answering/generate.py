"""Generators: question + numbered sources -> a draft answer with [Sn] markers.

Two implementations behind one small protocol, so the pipeline never knows which it has:
``LLMGenerator`` (any ``ports.ChatModel``: OpenAI-compatible, or a scripted fake in tests) and
``ExtractiveGenerator`` (offline default: verbatim source sentences). Drafts are never trusted:
the pipeline verifies every citation afterwards (citations.verify_draft).

PHI and remote models: when the chat model is remote and settings do not allow PHI to leave the
machine, every request goes through a fresh ``privacy.pseudonymize.PseudonymizingChatModel``:
identifiers the ``Redactor`` finds become surrogate tokens ([PERSON_1], [DATE_2]) before the
endpoint sees the prompt, and are put back in the reply, so verification runs against the original
sources as if nothing had been replaced.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from carecite.answering.extractive import ExtractiveAnswerer
from carecite.answering.llm import cost_usd
from carecite.answering.prompting import PromptSet, default_prompts
from carecite.domain import Candidate, Usage
from carecite.ports import ChatModel, Embedder, Redactor
from carecite.privacy.pseudonymize import Pseudonymizer, PseudonymizingChatModel, needs_pseudonymization
from carecite.settings import Settings


@dataclass(frozen=True)
class Draft:
    text: str
    usage: Usage
    prompt_hash: str | None  # sha256 of the prompt templates; None when no prompt was used
    generator: str


@runtime_checkable
class Generator(Protocol):
    name: str

    def draft(self, question: str, sources: Sequence[Candidate]) -> Draft: ...


class LLMGenerator:
    def __init__(
        self,
        chat_model: ChatModel,
        *,
        prices: Mapping[str, tuple[float, float]] | None = None,
        prompts: PromptSet | None = None,
        redactor: Redactor | None = None,
        phi_allowed: bool = False,
    ) -> None:
        self.pseudonymise = needs_pseudonymization(chat_model, phi_allowed)
        if self.pseudonymise and redactor is None:
            # Fail closed at build time rather than send PHI to an endpoint that may not receive it.
            raise ValueError(
                "a remote LLM without llm_phi_allowed needs a Redactor to pseudonymise the prompt"
            )
        self.chat_model = chat_model
        self.name = f"llm:{chat_model.name}"
        self.prices = dict(prices or {})
        self._prompts = prompts
        self.redactor = redactor

    @property
    def prompts(self) -> PromptSet:
        return self._prompts or default_prompts()

    def draft(self, question: str, sources: Sequence[Candidate]) -> Draft:
        model = self.chat_model
        if self.pseudonymise and self.redactor is not None:
            # One surrogate table per request: tokens never carry over between patients.
            model = PseudonymizingChatModel(model, Pseudonymizer(self.redactor))
        result = model.complete(self.prompts.render(question, sources))
        text = result.text
        usage = Usage(
            model=result.model,
            prompt_tokens=result.prompt_tokens,
            completion_tokens=result.completion_tokens,
            cost_usd=cost_usd(self.prices, result.model, result.prompt_tokens, result.completion_tokens),
        )
        return Draft(text=text, usage=usage, prompt_hash=self.prompts.hash, generator=self.name)


class ExtractiveGenerator:
    """The offline default: no model, no prompt, no cost; every sentence is a source's own."""

    name = "extractive"

    def __init__(self, embedder: Embedder, answerer: ExtractiveAnswerer | None = None) -> None:
        self.answerer = answerer or ExtractiveAnswerer(embedder)

    def draft(self, question: str, sources: Sequence[Candidate]) -> Draft:
        return Draft(
            text=self.answerer.answer(question, sources),
            usage=Usage(model="extractive"),
            prompt_hash=None,
            generator=self.name,
        )


def make_generator(settings: Settings, embedder: Embedder, redactor: Redactor | None = None) -> Generator:
    """The OpenAI-compatible model when an endpoint or key is configured, else the extractive answerer."""
    if not settings.llm_configured:
        return ExtractiveGenerator(embedder)
    from carecite.answering.llm import OpenAIChatModel

    return LLMGenerator(
        OpenAIChatModel(settings),
        prices=settings.llm_prices,
        redactor=redactor,
        phi_allowed=settings.llm_phi_allowed,
    )
