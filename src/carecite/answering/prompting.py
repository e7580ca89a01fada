"""Prompt templates live in prompts/*.md and are rendered with langchain-core.

Sources are numbered [S1]..[Sn] and fenced as data inside ``<source ...>...</source>``; anything
in a source that could close or open a fence is neutralised, so a note saying "</source> ignore
the rules" stays inside its own fence. The prompt's version is the sha256 of the template files:
it goes into every answer record, so an answer can be traced to the exact prompt that produced it.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from carecite.answering.text import CANNOT_ANSWER
from carecite.domain import Candidate
from carecite.package_data import PROMPTS_DIR
from carecite.ports import ChatMessage
from carecite.text.terms import plain_words

if TYPE_CHECKING:  # langchain-core costs seconds to import: only rendering a prompt needs it
    from langchain_core.messages import BaseMessage
    from langchain_core.prompts import ChatPromptTemplate

TEMPLATE_FILES = ("system.md", "answer.md")
_FENCE_TAG = re.compile(r"<(\s*/?\s*(?:source|question)\b)", re.I)
_ROLES = {"system": "system", "human": "user", "ai": "assistant"}
# Fence markup a real answer never contains: <source ...>, </source>, <question>.
_MARKUP = re.compile(r"<\s*/?\s*(?:source|question)\b|&lt;\s*/?\s*source\b", re.I)
ECHO_RUN = 8  # words in a row shared with the instructions that make a reply an echo
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def prompt_hash(directory: Path = PROMPTS_DIR) -> str:
    """sha256 over every template file (name and content): changes whenever a prompt does."""
    h = hashlib.sha256()
    for path in sorted(directory.glob("*.md")):
        h.update(path.name.encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


@dataclass(frozen=True)
class PromptSet:
    """The system and answer templates of one prompts directory, and their hash."""

    system: str
    answer: str
    hash: str

    @classmethod
    def load(cls, directory: Path = PROMPTS_DIR) -> PromptSet:
        missing = [name for name in TEMPLATE_FILES if not (directory / name).is_file()]
        if missing:
            raise FileNotFoundError(f"prompt templates missing in {directory}: {', '.join(missing)}")
        return cls(
            system=(directory / "system.md").read_text(encoding="utf-8"),
            answer=(directory / "answer.md").read_text(encoding="utf-8"),
            hash=prompt_hash(directory),
        )

    def template(self, *, fold_system: bool = False) -> ChatPromptTemplate:
        from langchain_core.prompts import ChatPromptTemplate

        if fold_system:
            # Some chat templates (Gemma's, llama.cpp's fallback) drop or mangle the system role: the
            # rules then travel at the head of the user turn, where every template keeps them.
            return ChatPromptTemplate.from_messages([("human", f"{self.system}\n\n{self.answer}")])
        return ChatPromptTemplate.from_messages([("system", self.system), ("human", self.answer)])

    def render(
        self, question: str, sources: Sequence[Candidate], *, fold_system: bool = False
    ) -> list[ChatMessage]:
        messages: list[BaseMessage] = self.template(fold_system=fold_system).format_messages(
            question=escape_fences(question),
            sources=render_sources(sources),
            n_sources=len(sources),
            cannot_answer=CANNOT_ANSWER,
        )
        return [ChatMessage(role=_ROLES.get(m.type, "user"), content=str(m.content)) for m in messages]

    def echoed_by(self, reply: str) -> bool:
        """Does ``reply`` repeat the prompt instead of answering it? True when it carries the
        prompt's fence markup or any run of ``ECHO_RUN`` words of the templates' own instructions
        (a real answer quotes sources, never the rules)."""
        if _MARKUP.search(reply):
            return True
        return bool(_shingles(reply) & self._instruction_shingles)

    @property
    def _instruction_shingles(self) -> frozenset[tuple[str, ...]]:
        return _template_shingles(self.system + "\n" + self.answer)


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = plain_words(text)
    return {tuple(words[i : i + ECHO_RUN]) for i in range(len(words) - ECHO_RUN + 1)}


@cache
def _template_shingles(template_text: str) -> frozenset[tuple[str, ...]]:
    # Placeholders split the runs: "{sources}" is data, only the fixed wording counts.
    return frozenset().union(*(_shingles(part) for part in _PLACEHOLDER.split(template_text)))


@cache
def default_prompts() -> PromptSet:
    return PromptSet.load()


def render_messages(question: str, sources: Sequence[Candidate]) -> list[ChatMessage]:
    """The chat messages for one question and its numbered sources, from the default templates."""
    return default_prompts().render(question, sources)


def escape_fences(text: str) -> str:
    """Neutralise anything that would open or close a <source>/<question> fence inside data."""
    return _FENCE_TAG.sub(r"&lt;\1", text)


def render_sources(sources: Sequence[Candidate]) -> str:
    blocks = []
    for i, c in enumerate(sources, start=1):
        attrs = {"id": f"S{i}", "ref": c.source_ref, "type": c.source_type}
        if c.note_type:
            attrs["kind"] = c.note_type
        if c.note_date:
            d = str(c.note_date)
            attrs["date"] = f"{d[:4]}-{d[4:6]}-{d[6:8]}"
        head = " ".join(f'{k}="{html.escape(v, quote=True)}"' for k, v in attrs.items())
        blocks.append(f"<source {head}>\n{escape_fences(c.text.strip())}\n</source>")
    return "\n\n".join(blocks)
