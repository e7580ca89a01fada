"""The stored result of ``carecite llm check`` (``llm_check.json`` in the data dir) and what it
decides: whether the system prompt is folded into the user turn. Kept apart from the probe so the
generator can read it without importing the probe (which drives the generator)."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel

from carecite.settings import Settings


class LlmCheck(BaseModel):
    """What the probe found about one endpoint and model, and what carecite will do about it."""

    endpoint: str
    model: str | None
    checked_at: str
    reachable: bool
    models_listed: list[str] = []
    model_listed: bool | None = None  # None: /v1/models could not be read
    system_role: Literal["kept", "dropped", "unknown"] = "unknown"
    max_tokens_honoured: bool | None = None
    canary_ok: bool | None = None
    findings: list[str] = []
    actions: list[str] = []
    fold_system: bool = False

    @property
    def ok(self) -> bool:
        return self.reachable and bool(self.canary_ok)


def save_check(settings: Settings, check: LlmCheck) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.llm_check_path.write_text(check.model_dump_json(indent=2), encoding="utf-8")


def load_check(settings: Settings) -> LlmCheck | None:
    """The stored check, when it probed the endpoint and model configured now."""
    try:
        check = LlmCheck.model_validate(json.loads(settings.llm_check_path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None
    endpoint = settings.openai_base_url or "https://api.openai.com/v1"
    if check.endpoint != endpoint or (settings.llm_model and check.model != settings.llm_model):
        return None
    return check


def fold_system_prompt(settings: Settings) -> bool:
    """Where the system prompt goes: the setting when explicit, else what the last check found."""
    if settings.llm_system_prompt != "auto":
        return settings.llm_system_prompt == "fold"
    check = load_check(settings)
    return bool(check and check.system_role == "dropped")
