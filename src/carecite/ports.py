"""The swappable parts, as Protocols. Only adapter modules import chromadb, openai, presidio,
sentence_transformers or streamlit; everything else talks to these."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict

from carecite.domain import Candidate, Chunk, RetrievalFilter

Vector = NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    """Turns text into unit-length vectors. ``fingerprint`` names the model so indexes never mix models."""

    @property
    def fingerprint(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed_documents(self, texts: Sequence[str]) -> Vector: ...

    def embed_query(self, text: str) -> Vector: ...


@runtime_checkable
class VectorIndex(Protocol):
    def upsert(self, chunks: Sequence[Chunk], vectors: Vector) -> None: ...

    def delete(self, chunk_ids: Sequence[str]) -> None: ...

    def ids(self) -> set[str]: ...

    def count(self) -> int: ...

    def query(self, vector: Vector, flt: RetrievalFilter, k: int) -> list[Candidate]: ...


@runtime_checkable
class LexicalIndex(Protocol):
    # Read in one pass: the ingest streams every chunk from SQL, and no index may need them all at once.
    def rebuild(self, chunks: Iterable[Chunk]) -> None: ...

    def ids(self) -> set[str]: ...

    def count(self) -> int: ...

    def query(self, text: str, flt: RetrievalFilter, k: int) -> list[Candidate]: ...


@runtime_checkable
class Reranker(Protocol):
    """Re-orders candidates for a question; returned scores are calibrated to [0, 1]."""

    name: str

    def rerank(self, question: str, candidates: Sequence[Candidate]) -> list[Candidate]: ...


class ChatMessage(BaseModel):
    model_config = ConfigDict(frozen=True)
    role: str  # "system" | "user" | "assistant"
    content: str


class ChatResult(BaseModel):
    model_config = ConfigDict(frozen=True)
    text: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # "stop" for a finished reply; "length" when max_tokens cut it off (never shown as complete);
    # None when the endpoint did not say.
    finish_reason: str | None = None


class LLMUnavailable(RuntimeError):
    """The model could not produce a reply (timeout, retries exhausted, endpoint down)."""


@runtime_checkable
class ChatModel(Protocol):
    @property
    def name(self) -> str: ...

    remote: bool  # True when text leaves this machine (PHI rules apply)

    def complete(self, messages: Sequence[ChatMessage], *, max_tokens: int | None = None) -> ChatResult:
        """One reply. ``max_tokens`` overrides the configured completion budget for this call."""
        ...


class PhiEntity(BaseModel):
    model_config = ConfigDict(frozen=True)
    entity_type: str
    start: int
    end: int
    score: float
    text: str


@runtime_checkable
class Redactor(Protocol):
    def analyze(self, text: str) -> list[PhiEntity]: ...

    def redact(self, text: str) -> str: ...
