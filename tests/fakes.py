"""Hand-written fakes. In every product-path test only the LLM is faked; everything else is real.

``FakeEmbedder`` and ``InMemoryVectorIndex`` serve fast unit tests of code that only needs the port
(no model load, no Chroma); both are held to the same contract tests as the real adapters
(tests/retrieval/test_embedder.py, tests/retrieval/test_filter_contract.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from carecite.answering.text import CANNOT_ANSWER, segment
from carecite.domain import Candidate, Chunk, RetrievalFilter, resource_type_of
from carecite.ports import ChatMessage, ChatResult, LLMUnavailable, PhiEntity, Vector

# --------------------------------------------------------------------------- candidates


def record_candidate(
    ref: str, match: float | None = 1.0, *, score: float | None = None, **fields: object
) -> Candidate:
    """A record as the structured retriever returns it: its score is its match confidence unless a
    later stage (fusion, re-ranking) has re-scored it; ``match=None`` is a record found by text only."""
    base: dict[str, object] = {"text": ref, "patient_key": "pk", "retriever": "structured"}
    return Candidate(
        source_id=ref, source_type="record", source_ref=ref, match=match,
        score=match if score is None and match is not None else (score or 0.0), **(base | fields),  # type: ignore[arg-type]
    )  # fmt: skip


def chunk_candidate(sid: str, *, score: float = 0.0, retriever: str = "dense", **fields: object) -> Candidate:
    """A note chunk as a text retriever returns it."""
    base: dict[str, object] = {
        "text": f"text of {sid}",
        "patient_key": "pk",
        "source_ref": f"DocumentReference/{sid}",
    }
    return Candidate(
        source_id=sid, source_type="note_chunk", score=score, retriever=retriever, **(base | fields),  # type: ignore[arg-type]
    )  # fmt: skip


# --------------------------------------------------------------------------- scripted LLM


class ScriptedChatModel:
    """A ports.ChatModel that replies from a script: a string is a reply, an Exception is raised, a
    ChatResult is returned as is (finish reasons, token counts).

    Every call's messages are kept in ``calls`` so tests can assert on the prompt that was sent.
    """

    def __init__(
        self,
        replies: Sequence[str | Exception | ChatResult],
        *,
        model: str = "scripted",
        remote: bool = False,
        prompt_tokens: int = 100,
        completion_tokens: int = 20,
    ) -> None:
        self.replies = list(replies)
        self.name = f"scripted:{model}"
        self.model = model
        self.remote = remote
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens
        self.calls: list[list[ChatMessage]] = []
        self.max_tokens_asked: list[int | None] = []

    def complete(self, messages: Sequence[ChatMessage], *, max_tokens: int | None = None) -> ChatResult:
        self.calls.append(list(messages))
        self.max_tokens_asked.append(max_tokens)
        if not self.replies:
            raise AssertionError("ScriptedChatModel: the script has no reply left")
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, ChatResult):
            return reply
        return ChatResult(
            text=reply,
            model=self.model,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
        )


class SourceScriptedChatModel(ScriptedChatModel):
    """A ScriptedChatModel whose reply is computed from the sources the prompt actually numbered.

    The pipeline decides the sources at run time, so a script such as ``reply_correct`` is applied
    to the ``<source id="Sn" ...>`` blocks parsed from the last message (their text as sent).
    """

    def __init__(self, script: Callable[[Sequence[Candidate]], str], **kwargs: object) -> None:
        super().__init__([], **kwargs)  # type: ignore[arg-type]
        self.script = script

    def complete(self, messages: Sequence[ChatMessage], *, max_tokens: int | None = None) -> ChatResult:
        import re

        blocks = re.findall(r'<source id="S(\d+)"[^>]*>\n(.*?)\n</source>', messages[-1].content, re.S)
        sources = [
            Candidate(
                source_id=f"S{n}",
                source_type="note_chunk",
                source_ref=f"S{n}",
                patient_key=None,
                text=text,
                retriever="dense",
            )
            for n, text in blocks
        ]
        self.replies = [self.script(sources)]
        return super().complete(messages, max_tokens=max_tokens)


# Ready-made scripts. Each takes the sources the prompt will number S1..Sn, so they fit any data:
# they quote the sources' own first sentences, so "correct" really is supported.


def first_sentence(source: Candidate) -> str:
    segs = [s.text for s in segment(source.text) if len(s.text.split()) >= 3]
    return (segs or [source.text])[0].rstrip(".")


def reply_correct(sources: Sequence[Candidate]) -> str:
    return " ".join(f"{first_sentence(c)} [S{i}]." for i, c in enumerate(sources[:2], start=1))


def reply_invented_id(sources: Sequence[Candidate]) -> str:
    """A correct answer plus a sentence citing a source number that was never given."""
    bogus = len(sources) + 6
    return f"{reply_correct(sources)} The patient also needs a cardiology referral [S{bogus}]."


def reply_wrong_source(sources: Sequence[Candidate]) -> str:
    """S1's first sentence, cited as the last source (which says something else)."""
    return f"{first_sentence(sources[0])} [S{len(sources)}]."


def reply_no_citations(sources: Sequence[Candidate]) -> str:
    return " ".join(f"{first_sentence(c)}." for c in sources[:2])


REPLY_REFUSAL = CANNOT_ANSWER
GARBAGE_REPLIES: tuple[str, ...] = (
    "",
    "   \n\t ",
    '{"choices": [], "error": null}',
    "\x00\x1b[31m\ufffd\ufffd\x7f",
    "lorem ipsum dolor sit amet",
    "[S1]",
    "<source id='S1'>",
)
TIMEOUT = LLMUnavailable("timed out after 30.0s (scripted)")

Script = Callable[[Sequence[Candidate]], str]


# --------------------------------------------------------------------------- redactor


class FakeRedactor:
    """A deterministic ports.Redactor for unit tests: the given names, and digit runs, are PHI.

    Names match as whole words (case-sensitive) and are typed PERSON; runs of ``min_digits`` or more
    digits (dashes and slashes allowed inside) are typed ID. Overlaps resolve to the earlier, longer span.
    """

    def __init__(self, names: Sequence[str] = (), *, min_digits: int = 4) -> None:
        import re

        self._patterns: list[tuple[re.Pattern[str], str]] = [
            (re.compile(rf"(?<!\w){re.escape(n)}(?!\w)"), "PERSON")
            for n in sorted(names, key=len, reverse=True)
        ]
        self._patterns.append((re.compile(rf"(?<!\w)\d(?:[-/]?\d){{{min_digits - 1},}}(?!\w)"), "ID"))

    def analyze(self, text: str) -> list[PhiEntity]:
        found = sorted((m.start(), -m.end(), kind) for rx, kind in self._patterns for m in rx.finditer(text))
        entities: list[PhiEntity] = []
        for start, neg_end, kind in found:
            if entities and start < entities[-1].end:
                continue
            entities.append(
                PhiEntity(entity_type=kind, start=start, end=-neg_end, score=1.0, text=text[start:-neg_end])
            )
        return entities

    def redact(self, text: str) -> str:
        out, pos = [], 0
        for e in self.analyze(text):
            out += [text[pos : e.start], f"<{e.entity_type}>"]
            pos = e.end
        return "".join([*out, text[pos:]])


# --------------------------------------------------------------------------- embedder and vector index


class FakeEmbedder:
    """A ports.Embedder with no model: each lower-cased word hashes to a signed unit direction, a text
    is the normalised sum of its words. Deterministic across processes (blake2b, not ``hash``); texts
    that share words are close, texts that share none are orthogonal (up to collisions)."""

    def __init__(self, dim: int = 64) -> None:
        self._dim = dim

    @property
    def fingerprint(self) -> str:
        return f"fake-hashed-words:{self._dim}"

    @property
    def dim(self) -> int:
        return self._dim

    def _word(self, word: str) -> Vector:
        import hashlib

        seed = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big")
        v = np.random.default_rng(seed).standard_normal(self._dim).astype(np.float32)
        return v / np.linalg.norm(v)

    def embed_documents(self, texts: Sequence[str]) -> Vector:
        import re

        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for i, text in enumerate(texts):
            words = re.findall(r"\w+", text.lower()) or ["<empty>"]
            v = np.sum([self._word(w) for w in words], axis=0)
            out[i] = v / (np.linalg.norm(v) or 1.0)
        return out

    def embed_query(self, text: str) -> Vector:
        vector: Vector = self.embed_documents([text])[0]
        return vector


def filter_allows(c: Chunk, flt: RetrievalFilter) -> bool:
    """domain.RetrievalFilter's semantics, transcribed literally (as every store must implement them)."""
    if c.source_type == "policy" and flt.include_policies:
        return True
    return (
        bool(flt.patient_key)
        and c.patient_key == flt.patient_key
        and not any(label in flt.disallowed_labels for label in c.security_labels)
        and (flt.facility is None or c.facility == flt.facility)
        and (flt.resource_types is None or resource_type_of(c.source_ref) in flt.resource_types)
        and (not flt.note_types or c.note_type in flt.note_types)
        and (flt.date_from == 0 or c.note_date >= flt.date_from)
        and (flt.date_to == 0 or c.note_date <= flt.date_to)
    )


class InMemoryVectorIndex:
    """A ports.VectorIndex in a dict: exact cosine search over the chunks the filter allows."""

    def __init__(self, dim: int = 384) -> None:
        self.dim = dim  # like a Chroma collection or a pgvector column: one dimension, fixed
        self._rows: dict[str, tuple[Chunk, Vector]] = {}

    def upsert(self, chunks: Sequence[Chunk], vectors: Vector) -> None:
        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        if len(vectors) and np.asarray(vectors).shape[1] != self.dim:
            raise ValueError(f"vector dimension {np.asarray(vectors).shape[1]}, the index holds {self.dim}")
        for c, v in zip(chunks, vectors, strict=True):
            self._rows[c.chunk_id] = (c, np.asarray(v, dtype=np.float32))

    def delete(self, chunk_ids: Sequence[str]) -> None:
        for cid in chunk_ids:
            self._rows.pop(cid, None)

    def ids(self) -> set[str]:
        return set(self._rows)

    def count(self) -> int:
        return len(self._rows)

    def query(self, vector: Vector, flt: RetrievalFilter, k: int) -> list[Candidate]:
        scored = sorted(
            ((float(np.dot(vector, v)), c) for c, v in self._rows.values() if filter_allows(c, flt)),
            key=lambda sc: (-sc[0], sc[1].chunk_id),
        )
        return [
            Candidate(
                source_id=c.chunk_id,
                source_type=c.source_type,
                source_ref=c.source_ref,
                patient_key=c.patient_key,
                text=c.text,
                score=score,
                retriever="dense",
                facility=c.facility,
                note_type=c.note_type,
                note_date=c.note_date,
                security_labels=c.security_labels,
                doc_id=c.doc_id,
                start=c.start,
                end=c.end,
            )
            for score, c in scored[: max(k, 0)]
        ]
