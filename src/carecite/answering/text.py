"""Text primitives shared by the extractive answerer and citation verification.

Both must cut source text into the same sentence segments with the same character offsets: the
extractive answerer copies segments verbatim, and verification highlights segments as spans. So
segmentation, tokenisation and number normalisation live here, in one place.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from carecite.ports import Embedder, Vector
from carecite.retrieval.vector_cache import shared_cache
from carecite.text import terms
from carecite.text.dates import compared_dates
from carecite.text.layout import frame, frames_alone
from carecite.text.sentences import find_sections, split_sentences
from carecite.text.terms import NUMBER_WORDS

# The one sentence a model (or the extractive answerer) gives when the sources do not answer the
# question. Rendered into the prompt; detected in drafts; a draft that is only this is a decline.
CANNOT_ANSWER = "I cannot answer this from the available sources."


def is_cannot_answer(text: str) -> bool:
    """True when the text is (or contains) the sentinel, however it was punctuated or cased."""
    squash = re.sub(r"[^a-z]+", " ", strip_markers(text).lower()).strip()
    return re.sub(r"[^a-z]+", " ", CANNOT_ANSWER.lower()).strip() in squash


# --------------------------------------------------------------------------- header lines

# A line that identifies the patient or the document rather than stating a clinical fact: name, DOB
# and MRN fields, signatures and dictation trailers. It is never an answer sentence (offline or from
# an LLM): asked something the record lacks, an answerer must not fall back on "Name: ... | MRN ...".
_HEADER_FIELD = re.compile(
    r"^\W*(?:patient(?:'s)?\s+name|name|dob|d\.o\.b|date\s+of\s+birth|birth\s*date|mrn|"
    r"medical\s+record(?:\s+(?:number|no))?|account(?:\s+(?:number|no))?|acct|ssn|"
    r"electronically\s+signed|signed|dictated|transcribed|attending\s+physician|cc)\b\.?\s*(?:[:#|]|by\b)",
    re.I,
)
_IDENTITY_FIELD = re.compile(r"\b(?:DOB|D\.O\.B\.?|MRN|date of birth|medical record (?:number|no))\b", re.I)
_SIGNATURE = re.compile(r"\b(?:electronically signed|dictated by|transcribed by|e-signed)\b", re.I)
# "Pt: Charles Mitchell (17000039)": a patient label followed by an identifier-like digit run or a
# surrogate token ("Patient: 45-year-old male with chest pain" is clinical and stays).
_PATIENT_LABEL = re.compile(r"^\W*(?:patient|pt)\s*:.*(?:\d{6,}|\[[A-Z_]+(?:_\d+)?\])", re.I)
# A banner: two or more capitalised words and nothing else (no verb, no number, no colon).
_BANNER = re.compile(r"^[\sA-Z&,.'()-]+$")


def is_header_line(text: str) -> bool:
    """Patient-identity fields, signatures and facility banners: never an answer sentence."""
    body = strip_markers(text).strip()
    if not body:
        return False
    if any(rx.search(body) for rx in (_HEADER_FIELD, _IDENTITY_FIELD, _SIGNATURE, _PATIENT_LABEL)):
        return True
    words = body.split()
    return len(words) >= 2 and bool(_BANNER.match(body)) and not body.endswith(".")


# --------------------------------------------------------------------------- segmentation


@dataclass(frozen=True)
class Segment:
    """A sentence-sized piece of a text, with offsets: ``source[start:end] == text``, except for a
    table row, whose ``text`` is the row read with its column headers ("Penicillin — reaction: hives")
    and whose offsets are the row's.

    ``section`` is the title of the section the sentence sits in, as written ("ALLERGIES"), when the
    text shows it (or the caller knows it: a chunk that continues a section). ``frames``: the piece
    frames the note rather than states anything (its title line, a table's header or separator row,
    a signature): never an answer sentence.
    """

    start: int
    end: int
    text: str
    section: str | None = None
    frames: bool = False


_LIST_PREFIX = re.compile(r"^(?:[-*•·▪‣]|\(?\d{1,2}[.)]|\(?[a-z][.)])\s+", re.I)


def segment(text: str, section: str | None = None, *, at_document_start: bool = False) -> list[Segment]:
    """Sentences with exact offsets, by the one splitter (``carecite.text.sentences``).

    A section's header stays with its first sentence ("ALLERGIES: , MORPHINE." reads as an answer;
    "MORPHINE." alone does not), a header on a line of its own is a segment of its own, and every
    segment knows its section. List bullets are dropped. ``section``: the section the text opens in,
    when it starts inside one (a chunk that continues a section). ``at_document_start``: ``text``
    starts at the note's start, so its first line may be the note's title (``text.layout``).
    """
    out: list[Segment] = []
    layout = frame(text, at_document_start=at_document_start)
    for sec in find_sections(text):
        title = sec.title if sec.title is not None else (section if sec.start == 0 else None)
        for s, e in split_sentences(text, sec.start, sec.body, sec.end):
            piece = text[s:e]
            m = _LIST_PREFIX.match(piece)
            if m and len(piece) > m.end():
                s += m.end()
                piece = text[s:e]
            if not piece.strip():
                continue
            if (found := layout.row_at(s, e)) is not None:
                table, row = found
                out.append(Segment(row.start, row.end, table.render(row), title))
                continue
            frames = layout.frames(s, e) or frames_alone(piece)
            out.append(Segment(s, e, piece, title, frames))
    return out


def is_heading(seg: Segment) -> bool:
    """A header alone ("PLAN:", "## Follow-up"): it names a section and states nothing. A longer line
    ending in a colon is a lead-in that does state something ("CMS covers LAAC with the following
    conditions:")."""
    body = seg.text.strip().rstrip(":,").strip().lstrip("#").strip()
    colon_title = seg.text.rstrip().endswith(":") and len(body.split()) <= 6
    if seg.section is not None and body.upper().startswith(seg.section.upper()):
        # The header and the number of the list item it opens ("IMPRESSION:,1."): the item's words
        # are the next sentence; this one states nothing (a numbered list, as the note writes it).
        rest = body[len(seg.section) :]
        if _ENUMERATOR_ONLY.fullmatch(rest):
            return True
    return colon_title or (seg.section is not None and body == seg.section)


# Nothing but punctuation and a list item's number or letter ("1.", "(a)", "2)").
_ENUMERATOR_ONLY = re.compile(r"[\W_]*(?:\d{1,2}|[A-Za-z]|[ivxIVX]{1,4})?[\W_]*")


# --------------------------------------------------------------------------- tokens


def content_terms(text: str) -> set[str]:
    """The terms verification compares (``carecite.text.terms``), citation markers aside."""
    return terms.content_terms(strip_markers(text))


# --------------------------------------------------------------------------- numbers and dates
# Dates are read by text/dates.py, the one date reader (``compared_dates``).

_NUM = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?:/\d+)?")


# Letters only, not ``terms.plain_words``: a word glued to a number ("twice2", "10mg") still names
# its word ("twice", "mg"), as the number and assertion checks have always read it.
_LETTERS = re.compile(r"[a-z]+")


def _letter_words(text: str) -> list[str]:
    return _LETTERS.findall(text.lower())


def numbers(text: str) -> set[str]:
    """Every date (normalised to YYYY-MM-DD) and number in the text, as exact strings.

    A sentence's numbers must all appear in the source that supports it: "due 2026-12-01" is not
    supported by "due 2026-11-01", however similar the words are.
    """
    found, text = compared_dates(strip_markers(text))
    for m in _NUM.finditer(text):
        value = m.group().replace(",", "")
        if "." in value:
            value = value.rstrip("0").rstrip(".") or "0"
        found.add(value)
    for word in _letter_words(text):
        if word in NUMBER_WORDS:
            found.add(NUMBER_WORDS[word])
    return found


# --------------------------------------------------------------------------- assertions

# Words that flip a clinical fact while barely moving lexical overlap or an embedding ("furosemide
# was stopped" vs "increase furosemide"). A sentence using one of these groups is supported only by
# a window that uses the same group: the same kind of check as for numbers, applied to verbs.
ASSERTION_GROUPS: dict[str, frozenset[str]] = {
    "negated": frozenset({"no", "not", "never", "without", "denies", "denied", "negative", "none"}),
    "stopped": frozenset(
        "stop stops stopped stopping discontinue discontinued discontinuing hold held holding cease ceased "
        "withdrawn".split()
    ),
    "started": frozenset(
        "start starts started starting begin began initiate initiated commence commenced".split()
    ),
    "increased": frozenset(
        "increase increased increasing raise raised raising uptitrate uptitrated higher elevated".split()
    ),
    "decreased": frozenset(
        "decrease decreased decreasing reduce reduced reducing lower lowered lowering taper tapered".split()
    ),
    "completed": frozenset("complete completed done performed finished resulted".split()),
    "cancelled": frozenset("cancel cancelled canceled cancelling declined refused rejected".split()),
    "overdue": frozenset("overdue late lapsed missed".split()),
    "abnormal": frozenset("abnormal elevated high low positive critical".split()),
}


def assertions(text: str) -> set[str]:
    words = set(_letter_words(strip_markers(text)))
    return {name for name, group in ASSERTION_GROUPS.items() if words & group}


# --------------------------------------------------------------------------- citation markers

# [S1] [S1][S2] [S1, S2] [S1-S3] [s1; S4] [1] (S2) — lenient on the way in, normalised on the way out.
MARKER = re.compile(
    r"\[\s*(S?\s*\d+(?:\s*(?:,|;|-|–|—|and|&)\s*S?\s*\d+)*)\s*\]"
    r"|\(\s*(S\s*\d+(?:\s*(?:,|;|-|–|—|and|&)\s*S\s*\d+)*)\s*\)"
    r"|【\s*(S?\s*\d+)\s*】",
    re.I,
)
_MAX_RANGE = 50  # "[S1-S999]" is a broken marker, not 999 citations


def marker_ids(inner: str) -> list[int]:
    """Source numbers named by one marker's inside, ranges expanded, in order."""
    ids: list[int] = []
    parts = re.split(r"\s*(?:,|;|and|&)\s*", inner, flags=re.I)
    for part in parts:
        bounds = [int(x) for x in re.findall(r"\d+", part)]
        if len(bounds) == 2 and re.search(r"[-–—]", part):
            lo, hi = min(bounds), max(bounds)
            ids.extend(range(lo, min(hi, lo + _MAX_RANGE) + 1))
        else:
            ids.extend(bounds)
    return ids


def find_markers(text: str) -> list[int]:
    ids: list[int] = []
    for m in MARKER.finditer(text):
        ids.extend(marker_ids(next(g for g in m.groups() if g is not None)))
    return ids


def strip_markers(text: str) -> str:
    return MARKER.sub("", text)


def normalise_space(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\s+([.,;:!?])", r"\1", text)


# --------------------------------------------------------------------------- embeddings


def embed_texts(embedder: Embedder, texts: Sequence[str]) -> Vector:
    """``embedder.embed_documents`` through the process-wide vector cache (``vector_cache``).

    The re-ranker, the extractive answerer and verification embed the same source sentences; the
    source-vector store pre-loads them from ingest, so a request normally embeds only its question.
    """
    return shared_cache(embedder).vectors(texts)
