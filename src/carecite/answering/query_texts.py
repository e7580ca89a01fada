"""The texts a question may embed about a source: what ingest embeds ahead of the first question.

They are a pure function of the source text, cut as the answerer and the verifier cut it (their
segments, the extractive answerer's cited claims), so they live with answering; the store that keeps
their vectors is ``retrieval.source_vectors``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from carecite.retrieval.source_vectors import OwnerTexts, records_owner

if TYPE_CHECKING:
    from carecite.domain import Chunk


def query_texts(text: str) -> list[str]:
    """The texts a question may embed about a source whose text is ``text``: the passage, the
    re-ranker's sentences, the answerer's and verifier's segments, and each quotable segment as it
    comes back as a claim once the extractive answerer cites it (``cite`` → strip markers → normalise
    space: often the segment plus a full stop)."""
    from carecite.answering.extractive import cite
    from carecite.answering.text import content_terms, normalise_space, segment, strip_markers
    from carecite.retrieval.rerank import split_sentences

    out: dict[str, None] = dict.fromkeys([text, *split_sentences(text)])
    for seg in segment(text):
        if not seg.text.strip():
            continue
        out[seg.text] = None
        if len(content_terms(seg.text)) >= 3:  # fragments are never quoted, so never claims
            for piece in segment(cite(seg.text, 1)):
                out[normalise_space(strip_markers(piece.text))] = None
    return [x for x in out if x.strip()]


def chunk_items(chunks: Sequence[Chunk]) -> list[OwnerTexts]:
    return [OwnerTexts(c.chunk_id, query_texts(c.text)) for c in chunks]


def record_items(statements: Sequence[str], patient_key: str) -> OwnerTexts:
    texts: dict[str, None] = {}
    for statement in statements:
        texts.update(dict.fromkeys(query_texts(statement)))
    return OwnerTexts(records_owner(patient_key), list(texts))
