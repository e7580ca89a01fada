"""``carecite llm check``: probe the configured OpenAI-compatible endpoint before trusting it.

Real servers differ from the OpenAI API in ways that silently break grounded answering (found on
llama.cpp's server with a small Gemma model): the chat template drops the system message (every
citation rule gone, and the same prompt_tokens with or without it), any model name is accepted and
echoed back, max_tokens cuts every answer short. The check measures each of these with tiny requests,
then runs a canary question over two fixed sources through the real generator and verification:

1. the model exists (``/v1/models`` lists it; unset, the one model it lists is used);
2. the system role survives: prompt tokens with the system message exceed those without it;
3. max_tokens is honoured: a reply asked to stop at 8 tokens stops there;
4. the canary comes back with valid citations.

It says what it found and what carecite will do (fold the system prompt into the user turn when the
template drops it). The result is kept in the data dir (``llm_check.json``) for the endpoint and
model it probed, and ``settings.llm_system_prompt = "auto"`` follows it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from carecite.answering.citations import verify_draft
from carecite.answering.generate import LLMGenerator
from carecite.answering.llm_check_result import LlmCheck
from carecite.answering.prompting import default_prompts
from carecite.domain import Candidate
from carecite.ports import ChatMessage, ChatModel, Embedder, LLMUnavailable, Redactor
from carecite.settings import Settings

CANARY_QUESTION = "What did cardiology recommend at discharge?"
CANARY_SOURCES = (
    Candidate(
        source_id="canary-note",
        source_type="note_chunk",
        source_ref="DocumentReference/canary",
        patient_key=None,
        text="Cardiology recommended increasing furosemide to 40 mg twice daily. Recheck potassium in one week.",
        retriever="dense",
        note_type="Discharge summary",
    ),
    Candidate(
        source_id="Task/canary",
        source_type="record",
        source_ref="Task/canary",
        patient_key=None,
        text="Follow-up task: schedule an echocardiogram; status: requested.",
        retriever="structured",
    ),
)
MAX_TOKENS_PROBE = 8
# The system message must add at least this share of its own rough token count (words / 0.75).
SYSTEM_KEPT_SHARE = 0.5


def run_llm_check(
    settings: Settings,
    embedder: Embedder,
    *,
    chat_model: ChatModel | None = None,
    redactor: Redactor | None = None,
) -> LlmCheck:
    """Probe the endpoint in ``settings`` (or ``chat_model``, for tests). Never raises for a bad
    endpoint: an unreachable one is a finding."""
    from carecite.answering.llm import OpenAIChatModel

    model = chat_model or OpenAIChatModel(settings)
    endpoint = settings.openai_base_url or "https://api.openai.com/v1"
    check = LlmCheck(
        endpoint=endpoint,
        model=settings.llm_model,
        checked_at=datetime.now(UTC).isoformat(timespec="seconds"),
        reachable=True,
    )
    findings, actions = check.findings, check.actions

    # 1. the model
    if isinstance(model, OpenAIChatModel):
        try:
            check.models_listed = model.list_models()
        except LLMUnavailable as exc:
            findings.append(f"/v1/models could not be read: {exc}.")
        if check.models_listed:
            try:
                check.model = model.model
            except LLMUnavailable as exc:
                findings.append(str(exc) + ".")
                actions.append("Set CARECITE_LLM_MODEL; every request fails until then.")
                check.reachable = False
                return check
            check.model_listed = check.model in check.models_listed
            if check.model_listed:
                findings.append(f"The endpoint lists the model {check.model}.")
            else:
                findings.append(
                    f"The endpoint does not list {check.model} (it lists {', '.join(check.models_listed[:5])}); "
                    "it may answer with another model under that name."
                )
                actions.append("Set CARECITE_LLM_MODEL to a model the endpoint lists.")

    # 2. the system role
    try:
        plain = [ChatMessage(role="user", content="Reply with the word OK.")]
        with_system = [ChatMessage(role="system", content=default_prompts().system), *plain]
        base = model.complete(plain, max_tokens=1)
        full = model.complete(with_system, max_tokens=1)
    except LLMUnavailable as exc:
        check.reachable = False
        findings.append(f"The endpoint did not answer: {exc}.")
        actions.append("Questions decline as llm_unavailable until the endpoint answers.")
        return check
    if base.prompt_tokens == 0 or full.prompt_tokens == 0:
        findings.append("The endpoint reports no token usage, so the system role could not be measured.")
    else:
        rough = len(default_prompts().system.split()) / 0.75
        added = full.prompt_tokens - base.prompt_tokens
        check.system_role = "kept" if added >= SYSTEM_KEPT_SHARE * rough else "dropped"
        findings.append(
            f"The system message adds {added} prompt tokens (about {rough:.0f} expected): "
            + ("the system role is kept." if check.system_role == "kept" else "the chat template drops it.")
        )
    check.fold_system = {"fold": True, "system": False}.get(
        settings.llm_system_prompt, check.system_role == "dropped"
    )
    if check.fold_system:
        actions.append("The system prompt is folded into the user turn (CARECITE_LLM_SYSTEM_PROMPT=fold).")
    elif check.system_role == "dropped":
        actions.append(
            "CARECITE_LLM_SYSTEM_PROMPT=system keeps the system message although the template drops it; "
            "set it to auto or fold."
        )

    # 3. max_tokens
    try:
        short = model.complete(
            [ChatMessage(role="user", content="Count from 1 to 200, separated by spaces.")],
            max_tokens=MAX_TOKENS_PROBE,
        )
        check.max_tokens_honoured = short.completion_tokens <= MAX_TOKENS_PROBE
        findings.append(
            f"Asked to stop at {MAX_TOKENS_PROBE} tokens, it wrote {short.completion_tokens} "
            f"(finish reason: {short.finish_reason or 'not given'})."
        )
        if not check.max_tokens_honoured:
            actions.append(
                "max_tokens is not honoured: answers are bounded only by CARECITE_LLM_TIMEOUT_S; "
                "cut-off replies are still declined (finish reason)."
            )
    except LLMUnavailable as exc:
        findings.append(f"The max_tokens probe failed: {exc}.")

    # 4. the canary, through the real generator and verification
    generator = LLMGenerator(
        model,
        prompts=default_prompts(),
        redactor=redactor,
        phi_allowed=redactor is None or settings.llm_phi_allowed,
        fold_system=check.fold_system,
        retry_max_tokens=settings.llm_retry_max_tokens,
    )
    try:
        draft = generator.draft(CANARY_QUESTION, CANARY_SOURCES)
    except LLMUnavailable as exc:
        check.canary_ok = False
        findings.append(f"The canary question failed: {exc}.")
        return check
    if draft.decline_reason is not None:
        check.canary_ok = False
        findings.append(f"The canary answer was declined: {draft.decline_detail}")
    else:
        verified = verify_draft(draft.text, CANARY_SOURCES, embedder, threshold=settings.support_threshold)
        check.canary_ok = verified.declined_reason is None and bool(verified.citations)
        findings.append(
            f"The canary answer kept {len(verified.citations)} valid citation(s) and had "
            f"{len(verified.unsupported_sentences)} unsupported sentence(s)."
        )
    if not check.canary_ok:
        actions.append(
            "This model does not answer with valid citations: expect unsupported_draft declines; "
            "nothing uncited is ever shown."
        )
    return check
