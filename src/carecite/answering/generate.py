"""Generators: question + numbered sources -> a draft answer with [Sn] markers.

Two implementations behind one small protocol, so the pipeline never knows which it has:
``LLMGenerator`` (any ``ports.ChatModel``: OpenAI-compatible, or a scripted fake in tests) and
``ExtractiveGenerator`` (offline default: verbatim source sentences). Drafts are never trusted:
the pipeline verifies every citation afterwards (citations.verify_draft).

PHI and remote models: when the chat model is remote and settings do not allow PHI to leave the
machine, every request goes through a fresh ``privacy.pseudonymize.PseudonymizingChatModel``:
the asked-about patient's identity (every form: bare MRN, birth-date formats, phones, address
lines, names) and whatever else the ``Redactor`` finds become surrogate tokens ([PATIENT],
[PERSON_1], [DATE_2]) before the endpoint sees the prompt, and are put back in the reply, so
verification runs against the original sources as if nothing had been replaced.

Real servers' quirks handled here: a reply cut off by max_tokens (``finish_reason`` "length") is
retried once with more room, then declined ``truncated_draft``; a reply that echoes the prompt or its
source markup is declined ``echoed_prompt``; where the chat template drops the system role, the rules
are folded into the user turn (``settings.llm_system_prompt``, found by ``carecite llm check``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from carecite.answering.extractive import ExtractiveAnswerer, Lead
from carecite.domain import Candidate, DeclineReason, Usage
from carecite.ports import ChatModel, Embedder, Redactor
from carecite.privacy.identity import PatientIdentity
from carecite.privacy.pseudonymize import Pseudonymizer, PseudonymizingChatModel, needs_pseudonymization
from carecite.reading.reading import Reading
from carecite.settings import Settings

if TYPE_CHECKING:  # openai and langchain cost ~2 s to import: the offline path never needs them
    from carecite.answering.prompting import PromptSet


@dataclass(frozen=True)
class Draft:
    text: str
    usage: Usage
    prompt_hash: str | None  # sha256 of the prompt templates; None when no prompt was used
    generator: str
    # Set when the draft must not be verified or shown at all (cut off twice, or an echo of the prompt).
    decline_reason: DeclineReason | None = None
    decline_detail: str | None = None
    # A yes/no question's one-sentence answer ("No [S1]."), shown before the verified sentences only
    # when verification keeps every source it rests on (the offline answerer's; see extractive.Lead).
    lead: Lead | None = None


@runtime_checkable
class Generator(Protocol):
    name: str

    def draft(
        self,
        question: str,
        sources: Sequence[Candidate],
        *,
        identity: PatientIdentity | None = None,
        reading: Reading | None = None,
    ) -> Draft:
        """``identity``: the asked-about patient's, replaced in every form before a remote prompt leaves.
        ``reading``: the request's reading of ``question`` (``reading.Reading``); a generator that
        needs to know what was asked takes it from there, never by reading ``question`` again."""
        ...


class LLMGenerator:
    def __init__(
        self,
        chat_model: ChatModel,
        *,
        prices: Mapping[str, tuple[float, float]] | None = None,
        prompts: PromptSet | None = None,
        redactor: Redactor | None = None,
        phi_allowed: bool = False,
        fold_system: bool = False,
        retry_max_tokens: int = 0,
        vocabulary: Callable[[], frozenset[str]] | None = None,
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
        self.fold_system = fold_system
        self.retry_max_tokens = retry_max_tokens
        self._vocabulary = vocabulary
        self._keep_terms: frozenset[str] | None = None

    @property
    def prompts(self) -> PromptSet:
        from carecite.answering.prompting import default_prompts

        return self._prompts or default_prompts()

    def keep_terms(self) -> frozenset[str]:
        """Words of the record's own code displays, never pseudonymised (read once per generator)."""
        if self._keep_terms is None:
            self._keep_terms = self._vocabulary() if self._vocabulary else frozenset()
        return self._keep_terms

    def draft(
        self,
        question: str,
        sources: Sequence[Candidate],
        *,
        identity: PatientIdentity | None = None,
        reading: Reading | None = None,
    ) -> Draft:
        model = self.chat_model
        if self.pseudonymise and self.redactor is not None:
            # One surrogate table per request: tokens never carry over between patients.
            model = PseudonymizingChatModel(
                model, Pseudonymizer(self.redactor, identity, keep_terms=self.keep_terms())
            )
        messages = self.prompts.render(question, sources, fold_system=self.fold_system)
        result = model.complete(messages)
        tokens = (result.prompt_tokens, result.completion_tokens)
        if result.finish_reason == "length" and self.retry_max_tokens > tokens[1]:
            # Cut off: once more with room. Both calls are paid for, so both are counted.
            result = model.complete(messages, max_tokens=self.retry_max_tokens)
            tokens = (tokens[0] + result.prompt_tokens, tokens[1] + result.completion_tokens)
        usage = Usage(
            model=result.model,
            prompt_tokens=tokens[0],
            completion_tokens=tokens[1],
            cost_usd=_cost(self.prices, result.model, *tokens),
            finish_reason=result.finish_reason,
        )
        draft = Draft(text=result.text, usage=usage, prompt_hash=self.prompts.hash, generator=self.name)
        if result.finish_reason not in (None, "stop"):
            return replace(
                draft,
                decline_reason="truncated_draft",
                decline_detail=(
                    f"The model's reply was cut off (finish reason: {result.finish_reason}, "
                    f"{result.completion_tokens} tokens); an incomplete answer is never shown."
                ),
            )
        if self.prompts.echoed_by(result.text):
            return replace(
                draft,
                decline_reason="echoed_prompt",
                decline_detail="The model repeated the prompt instead of answering it; nothing was shown.",
            )
        return draft


class ExtractiveGenerator:
    """The offline default: no model, no prompt, no cost; every sentence is a source's own."""

    name = "extractive"

    def __init__(self, embedder: Embedder, answerer: ExtractiveAnswerer | None = None) -> None:
        self.answerer = answerer or ExtractiveAnswerer(embedder)

    def draft(
        self,
        question: str,
        sources: Sequence[Candidate],
        *,
        identity: PatientIdentity | None = None,
        reading: Reading | None = None,
    ) -> Draft:
        text, lead = self.answerer.compose(question, sources, identity=identity, reading=reading)
        return Draft(
            text=text,
            usage=Usage(model="extractive"),
            prompt_hash=None,
            generator=self.name,
            lead=lead,
        )


def make_generator(
    settings: Settings,
    embedder: Embedder,
    redactor: Redactor | None = None,
    *,
    vocabulary: Callable[[], frozenset[str]] | None = None,
) -> Generator:
    """The OpenAI-compatible model when an endpoint or key is configured, else the extractive answerer."""
    if not settings.llm_configured:
        return ExtractiveGenerator(embedder)
    from carecite.answering.llm import OpenAIChatModel
    from carecite.answering.llm_check_result import fold_system_prompt

    return LLMGenerator(
        OpenAIChatModel(settings),
        prices=settings.llm_prices,
        redactor=redactor,
        phi_allowed=settings.llm_phi_allowed,
        fold_system=fold_system_prompt(settings),
        retry_max_tokens=settings.llm_retry_max_tokens,
        vocabulary=vocabulary,
    )


def _cost(
    prices: Mapping[str, tuple[float, float]], model: str, prompt: int, completion: int
) -> float | None:
    from carecite.answering.llm import cost_usd

    return cost_usd(prices, model, prompt, completion)
