"""Citation verification: every sentence of a draft must be supported by a source it cites.

The draft is split into sentences; each sentence's [Sn] markers are parsed leniently ([S1][S2],
[S1, S2], [S1-S3], [1], (S2)) and ids outside 1..n are removed and reported. A sentence is then
checked against each source it cites, one sentence-sized window of the source at a time:

    support = LEXICAL_WEIGHT * content-word recall (sentence terms found in the window)
            + (1 - LEXICAL_WEIGHT) * embedding cosine (sentence vs window)

and every number and date in the sentence must appear in the supporting windows exactly (a
sentence saying "due 2026-12-01" is not supported by "due 2026-11-01", however alike the words),
as must every fact-flipping word group it uses (negation, stopped/started, increased/decreased,
completed, cancelled, overdue, abnormal: "furosemide was stopped" is not supported by "increase
furosemide"); and nothing it asserts plainly may be only negated in the sources ("she smokes" is not
supported by "denies tobacco or smoking": medSpaCy's ConText scopes, ``text.assertion``). A sentence citing several sources may combine them: a second source that scores
below the threshold is kept when it contributes words the first does not have.
Citations below the threshold are dropped; a sentence left with none is removed and reported.
The best window's character offsets become the citation's span, for highlighting.

The final text is rewritten so its markers are exactly the surviving citations, numbered as the
sources were in the prompt (S1..Sn stay stable, so an answer can be read beside the prompt).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from carecite.answering.recency import NOTE_DATE, iso_date
from carecite.answering.text import (
    CANNOT_ANSWER,
    Segment,
    assertions,
    content_terms,
    embed_texts,
    find_markers,
    is_cannot_answer,
    is_header_line,
    normalise_space,
    numbers,
    segment,
    strip_markers,
)
from carecite.domain import Candidate, Citation, DeclineReason
from carecite.ports import Embedder, Vector
from carecite.text.assertion import affirmed_terms, negated_terms
from carecite.text.layout import frames_alone
from carecite.text.terms import plain_words

LEXICAL_WEIGHT = 0.5
# A two-sentence window must beat a one-sentence window by this much: tighter spans are better.
PAIR_PENALTY = 0.03
# A co-cited source below the threshold still counts when it adds words and scores at least this.
CONTRIBUTION_FLOOR = 0.30

__all__ = [
    "CANNOT_ANSWER",
    "MAX_UNSUPPORTED",
    "SentenceCheck",
    "VerifiedAnswer",
    "reportable",
    "verify_draft",
]


@dataclass(frozen=True)
class SentenceCheck:
    """What verification concluded about one sentence of the draft (for tests, eval and debugging)."""

    sentence: str  # as the draft wrote it, markers included
    cited: tuple[int, ...]  # valid source numbers the draft cited
    supported_by: tuple[int, ...]  # the ones that survived
    scores: dict[int, float]  # source number -> best support score
    reason: str | None = None  # why it was removed, None when kept


@dataclass(frozen=True)
class VerifiedAnswer:
    text: str
    citations: list[Citation]
    unsupported_sentences: list[str]
    removed_markers: list[str]  # "S9": cited ids that name no source
    declined_reason: DeclineReason | None
    refused: bool = False  # the draft said it cannot answer
    checks: list[SentenceCheck] = field(default_factory=list)


@dataclass(frozen=True)
class _Claim:
    raw: str  # the sentence as drafted, markers included
    body: str  # markers stripped, whitespace normalised
    ids: tuple[int, ...]  # every cited number, in order, duplicates removed


@dataclass(frozen=True)
class _Window:
    start: int  # offsets into the source text
    end: int
    terms: frozenset[str]
    numbers: frozenset[str]
    assertions: frozenset[str]
    vector: Vector
    pair: bool
    text: str = ""


@dataclass(frozen=True)
class _Support:
    score: float
    window: _Window


def verify_draft(
    draft: str,
    sources: Sequence[Candidate],
    embedder: Embedder,
    *,
    threshold: float,
    patient_ids: Mapping[str, str] | None = None,
) -> VerifiedAnswer:
    """Keep only what the cited sources support. ``patient_ids`` maps patient_key -> FHIR Patient id."""
    n = len(sources)
    claims, refused = _claims(draft)
    removed: list[str] = []
    for claim in claims:
        for i in claim.ids:
            if not 1 <= i <= n and f"S{i}" not in removed:
                removed.append(f"S{i}")
    if not claims:
        reason: DeclineReason = "low_confidence" if refused else "unsupported_draft"
        return VerifiedAnswer("", [], [], removed, reason, refused=refused)

    valid = [tuple(i for i in c.ids if 1 <= i <= n) for c in claims]
    windows, framing = _windows(sources, sorted({i for ids in valid for i in ids}), embedder)
    # "(note of 2026-11-17)" states the cited note's date: checked against it, not against the words.
    bodies = [NOTE_DATE.sub("", c.body) for c in claims]
    claim_vecs = embed_texts(embedder, bodies)

    checks: list[SentenceCheck] = []
    kept: list[tuple[_Claim, dict[int, _Support]]] = []
    for claim, ids, vec, body in zip(claims, valid, claim_vecs, bodies, strict=True):
        if is_header_line(body):
            checks.append(
                SentenceCheck(claim.raw, ids, (), {}, "a header line identifies, it does not answer")
            )
            continue
        if frames_alone(body) or any(_plain(body) in framing.get(i, ()) for i in ids):
            checks.append(
                SentenceCheck(claim.raw, ids, (), {}, "a title, table header or signature frames the note")
            )
            continue
        if not ids:
            checks.append(SentenceCheck(claim.raw, (), (), {}, "no valid citation"))
            continue
        dates = set(NOTE_DATE.findall(claim.body))
        if dates and not dates <= {iso_date(sources[i - 1].note_date) for i in ids}:
            checks.append(SentenceCheck(claim.raw, ids, (), {}, "the note date is not the cited note's"))
            continue
        terms = content_terms(body)
        best = {i: _best_window(terms, vec, windows.get(i, [])) for i in ids}
        scores = {i: round(s.score, 4) if s else 0.0 for i, s in best.items()}
        supporting = {i: s for i, s in best.items() if s is not None and s.score >= threshold}
        if not supporting:
            checks.append(SentenceCheck(claim.raw, ids, (), scores, "no cited source supports it"))
            continue
        covered = set().union(*(s.window.terms for s in supporting.values()))
        for i, s in best.items():
            if (
                i not in supporting
                and s is not None
                and s.score >= CONTRIBUTION_FLOOR
                and (s.window.terms & terms) - covered
            ):
                supporting[i] = s
                covered |= s.window.terms
        why = _mismatch(body, [s.window for s in supporting.values()])
        if why:
            checks.append(SentenceCheck(claim.raw, ids, (), scores, why))
            continue
        checks.append(SentenceCheck(claim.raw, ids, tuple(supporting), scores))
        kept.append((claim, supporting))

    unsupported = reportable([c.sentence for c in checks if c.reason is not None])
    if not kept:
        return VerifiedAnswer("", [], unsupported, removed, "unsupported_draft", refused, checks)
    text = " ".join(_rewrite(claim.body, sorted(sup)) for claim, sup in kept)
    citations = _citations(kept, sources, patient_ids or {})
    return VerifiedAnswer(text, citations, unsupported, removed, None, refused, checks)


# At most this many removed sentences are reported: a model that rambles or echoes must not turn the
# answer (and the audit record) into a copy of the prompt.
MAX_UNSUPPORTED = 10
_MARKUP = re.compile(r"<\s*/?\s*(?:source|question)\b[^>]*>?", re.I)


def reportable(sentences: Sequence[str]) -> list[str]:
    """Removed sentences as reported to the user: prompt markup stripped, empty ones dropped, bounded."""
    out: list[str] = []
    for sentence in sentences:
        text = normalise_space(_MARKUP.sub(" ", sentence))
        if re.search(r"[A-Za-z0-9]{2}", strip_markers(text)) and text not in out:
            out.append(text)
        if len(out) == MAX_UNSUPPORTED:
            break
    return out


# --------------------------------------------------------------------------- draft parsing


def _claims(draft: str) -> tuple[list[_Claim], bool]:
    """The draft's factual sentences, and whether it (also) said it cannot answer."""
    pieces: list[str] = []
    for seg in segment(draft):
        text = seg.text
        # "Sentence one. [S1] Sentence two." — a marker opening a piece belongs to the sentence before.
        lead = re.match(r"^(?:\s*(?:\[[^\]]*\]|\(\s*S\d[^)]*\)))+", text)
        if lead and pieces and find_markers(lead.group()):
            pieces[-1] += " " + lead.group().strip()
            text = text[lead.end() :]
        if text.strip():
            pieces.append(text)
    claims: list[_Claim] = []
    refused = False
    for raw in pieces:
        body = normalise_space(strip_markers(raw))
        if not re.search(r"[A-Za-z0-9]", body):
            continue
        if is_cannot_answer(body):
            refused = True
            continue
        ids = tuple(dict.fromkeys(find_markers(raw)))
        if not ids and body.endswith(":"):
            continue  # a heading ("Outstanding tasks:") states nothing
        claims.append(_Claim(raw.strip(), body, ids))
    return claims, refused


def _rewrite(body: str, ids: Sequence[int]) -> str:
    m = re.match(r"^(.*?)([.!?]+[\"')\]]*)?$", body, re.S)
    core, punct = (m.group(1), m.group(2)) if m else (body, None)
    markers = "".join(f"[S{i}]" for i in ids)
    return f"{core.rstrip()} {markers}{punct or '.'}"


# --------------------------------------------------------------------------- support


def _plain(text: str) -> str:
    """A line's words alone: "| Substance | Reaction |" and "Substance | Reaction." compare equal."""
    return " ".join(plain_words(text))


def _windows(
    sources: Sequence[Candidate], ids: Sequence[int], embedder: Embedder
) -> tuple[dict[int, list[_Window]], dict[int, frozenset[str]]]:
    """Sentence windows (single sentences and adjacent pairs) of every cited source, embedded once;
    and each source's framing lines (title, table header, signature), which no claim may be."""
    segs: dict[int, list[Segment]] = {}
    framing: dict[int, frozenset[str]] = {}
    for i in ids:
        cand = sources[i - 1]
        # A structured record is one rendered statement: it is one window, cited whole.
        found = (
            [Segment(0, len(cand.text), cand.text)]
            if cand.source_type == "record"
            else segment(cand.text, at_document_start=cand.start == 0)
        )
        segs[i] = [s for s in found if s.text.strip()]
        framing[i] = frozenset(_plain(s.text) for s in segs[i] if s.frames)
    flat = [s.text for i in ids for s in segs[i]]
    vectors = embed_texts(embedder, flat)
    out: dict[int, list[_Window]] = {}
    k = 0
    for i in ids:
        text = sources[i - 1].text
        vecs = vectors[k : k + len(segs[i])]
        k += len(segs[i])
        wins: list[_Window] = []
        for j, s in enumerate(segs[i]):
            # A table row's words are its rendering's (its cells with their column names).
            row = text[s.start : s.end] != s.text
            wins.append(_window(text, s.start, s.end, vecs[j], pair=False, piece=s.text if row else None))
            if j + 1 < len(segs[i]):
                nxt = segs[i][j + 1]
                both = vecs[j] + vecs[j + 1]
                both = both / (float(np.linalg.norm(both)) or 1.0)
                rows = row or text[nxt.start : nxt.end] != nxt.text
                two = f"{s.text} {nxt.text}" if rows else None
                wins.append(_window(text, s.start, nxt.end, both, pair=True, piece=two))
        out[i] = wins
    return out, framing


def _window(
    text: str, start: int, end: int, vector: Vector, *, pair: bool, piece: str | None = None
) -> _Window:
    piece = text[start:end] if piece is None else piece
    return _Window(
        start,
        end,
        frozenset(content_terms(piece)),
        frozenset(numbers(piece)),
        frozenset(assertions(piece)),
        vector,
        pair,
        piece,
    )


def _mismatch(sentence: str, windows: Sequence[_Window]) -> str | None:
    """Facts that must match exactly: every number/date and fact-flipping word of the sentence."""
    missing = numbers(sentence) - set().union(*(w.numbers for w in windows))
    if missing:
        return "numbers or dates not in the cited sources: " + ", ".join(sorted(missing))
    flipped = assertions(sentence) - set().union(*(w.assertions for w in windows))
    if flipped:
        return "the cited sources do not say it is " + " / ".join(sorted(flipped))
    if any("negated" in w.assertions for w in windows):
        # "She smokes" is not supported by "She denies tobacco": what the sentence asserts plainly, the
        # sources mention only negated (ConText's scopes, text.assertion), never plainly.
        denied = set().union(*(negated_terms(w.text) for w in windows)) - set().union(
            *(affirmed_terms(w.text) for w in windows)
        )
        if denied_said := affirmed_terms(sentence) & denied:
            return "the cited sources deny it: " + ", ".join(sorted(denied_said))
    return None


def _best_window(terms: set[str], vec: Vector, windows: Sequence[_Window]) -> _Support | None:
    best: _Support | None = None
    rank = -1.0
    for w in windows:
        cosine = max(0.0, float(np.dot(vec, w.vector)))
        recall = len(terms & w.terms) / len(terms) if terms else cosine
        score = LEXICAL_WEIGHT * recall + (1 - LEXICAL_WEIGHT) * cosine
        r = score - (PAIR_PENALTY if w.pair else 0.0)
        if r > rank:
            best, rank = _Support(score, w), r
    return best


# --------------------------------------------------------------------------- citations


def _citations(
    kept: Sequence[tuple[_Claim, Mapping[int, _Support]]],
    sources: Sequence[Candidate],
    patient_ids: Mapping[str, str],
) -> list[Citation]:
    """One Citation per cited source, in order of first appearance in the answer."""
    order: list[int] = []
    support: dict[int, list[_Support]] = {}
    for _claim, sup in kept:
        for i in sorted(sup):
            if i not in support:
                order.append(i)
                support[i] = []
            support[i].append(sup[i])
    out: list[Citation] = []
    for i in order:
        cand = sources[i - 1]
        best = max(support[i], key=lambda s: s.score)
        local = sorted({(s.window.start, s.window.end) for s in support[i]})
        best_local = (best.window.start, best.window.end)
        # A chunk's spans are given in the document's offsets; a record is its own document.
        at = cand.start if cand.source_type != "record" and cand.start is not None else 0
        out.append(
            Citation(
                marker=f"S{i}",
                source_id=cand.source_id,
                source_type=cand.source_type,
                source_ref=cand.source_ref,
                patient_id=patient_ids.get(cand.patient_key) if cand.patient_key else None,
                text=cand.text,
                span=(at + best_local[0], at + best_local[1]),
                score=round(best.score, 4),
                spans=tuple((at + a, at + b) for a, b in local),
                text_span=best_local,
                text_spans=tuple(local),
            )
        )
    return out
