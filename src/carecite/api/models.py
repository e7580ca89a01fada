"""Request bodies and small response shapes of the HTTP API (answers use ``domain.Answer`` as is)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from carecite.answering.pipeline import AskRequest
from carecite.domain import Grant, Narrowing


class AskBody(BaseModel):
    """POST /v1/ask and /v1/search. Narrowing fields can only shrink what the caller may see."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(description="The question, in plain words (limit: CARECITE_MAX_QUESTION_CHARS).")
    patient_id: str | None = Field(default=None, description="FHIR Patient id the question is about.")
    note_types: list[str] = Field(default_factory=list, description="Only these note types.")
    date_from: date | None = Field(default=None, description="Encounter / note date from (inclusive).")
    date_to: date | None = Field(default=None, description="Encounter / note date to (inclusive).")
    facility: str | None = Field(
        default=None, description="Only sources of this facility (Organization/<id>)."
    )
    break_glass: str | None = Field(
        default=None, description="Physicians and nurses: the written reason to see beyond their scope."
    )

    def to_request(self, user_id: str, grant: Grant) -> AskRequest:
        return AskRequest(
            question=self.question,
            user_id=user_id,
            patient_id=self.patient_id,
            narrowing=Narrowing(
                note_types=tuple(self.note_types),
                date_from=self.date_from,
                date_to=self.date_to,
                facility=self.facility,
            ),
            break_glass=self.break_glass,
            grant=grant,
        )


class Health(BaseModel):
    status: str = "ok"


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, Any]
