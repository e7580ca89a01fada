"""Section- and sentence-aware chunking with exact character offsets.

A chunk is always a slice of the note: ``text[span.start:span.end]`` is what the UI shows and what a
citation points at, so offsets are never computed on a normalised copy. Spans are trimmed of
surrounding whitespace (and of the stray commas MTSamples leaves between sentences).

How a note is cut:
  1. Section headers split the note: markdown headers (``# Assessment and Plan``, ``## Plan`` as in
     Synthea notes), upper-case headers at a line start or after a comma (``HOSPITAL COURSE:``,
     MTSamples' ``SUBJECTIVE:,``) and short title-case lines ending in a colon. A header stays with the
     first sentence of its section.
  2. Each section is split into sentences by a rule-based splitter (below); a pipe table (header
     row, separator, rows: ``text.layout``) is one unit when it fits the budget.
  3. Sentences are packed greedily into windows of at most ``max_tokens`` tokens, counted with the
     embedder's own tokenizer; consecutive windows of a section share ``overlap_sentences`` whole
     sentences. A single sentence longer than the budget is cut on whitespace at the budget.
  4. Whole sections that are tiny (a one-line "Allergies" section) are joined with a neighbouring
     section when the result still fits, because five-token chunks embed poorly and lose context.

Why a regex splitter rather than spaCy: spaCy's parser costs ~70 ms/KB here (minutes for MTSamples),
and its statistical boundaries are tuned for prose, not for line-structured notes (bullets, wrapped
Synthea lines, MTSamples' ``.,`` joins). The rules are: a sentence ends at ``.``/``!``/``?`` followed by
whitespace (or MTSamples' comma) and an upper-case letter, digit, bullet or quote — unless the word
before the period is a known abbreviation (Dr., Mr., e.g., vs.), a single initial, or a list number
("1."); decimals (98.6) never match because no space follows the period. A line break ends a sentence
unless the next line starts in lower case (a wrapped line: "Alvin56\\n is a 18 year-old ..."), so every
line or bullet of a list is its own sentence.

Token counting: the note is tokenised ONCE with the embedder's fast (Rust) tokenizer, keeping token
offsets; the token count of any span is then two binary searches. BERT pre-tokenisation splits on
whitespace and punctuation, and every cut we make falls on one of those, so the counts are exact.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from carecite.text.layout import Table, find_tables
from carecite.text.sentences import Section, find_sections, split_sentences, trim

if TYPE_CHECKING:
    from tokenizers import Tokenizer


class TextSpan(NamedTuple):
    start: int
    end: int
    section: str | None


# Bump when chunk boundaries change, so content-hash idempotence re-chunks existing documents (notes
# and policies). 2: lettered subheadings are section headers; 3: roman ones nested in them are not,
# nor is a lead-in line ending in a colon ("The patient must have:"); notes too are re-chunked.
# 4: a pipe table is kept in one chunk when it fits, so every row is read with its header row.
CHUNKER_VERSION = "4"
# Tiny sections are joined with a neighbour when the result fits: below this many tokens.
SMALL_SECTION_TOKENS = 48

_SURROGATE = re.compile(r"[\ud800-\udfff]")


# --------------------------------------------------------------------------- tokenizer
@lru_cache(maxsize=1)
def _tokenizer() -> Tokenizer:
    """The embedder's tokenizer, from the model directory shipped in the package (never the hub).

    ``tokenizer.json`` is the very file ``AutoTokenizer`` builds its fast tokenizer from (verified
    token-identical on MTSamples); reading it directly skips the ~4 s ``transformers`` import.
    """
    from tokenizers import Tokenizer

    from carecite.retrieval.embedder import default_model_path

    model_dir = default_model_path()
    if (model_dir / "tokenizer.json").is_file():
        tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    else:  # pragma: no cover - every shipped MiniLM has tokenizer.json
        from transformers import AutoTokenizer

        hf = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
        tok = Tokenizer.from_str(hf.backend_tokenizer.to_str())
    # The model config pads/truncates to 128; counting needs every token.
    tok.no_truncation()
    tok.no_padding()
    return tok


def _safe(text: str) -> str:
    # Lone surrogates cannot cross into Rust; replacing them keeps every offset unchanged.
    return _SURROGATE.sub("?", text)


def _is_bert_space(c: str) -> bool:
    return c in " \t\n\r" or unicodedata.category(c) == "Zs"


def _is_bert_punct(c: str) -> bool:
    o = ord(c)
    return (
        33 <= o <= 47
        or 58 <= o <= 64
        or 91 <= o <= 96
        or 123 <= o <= 126
        or unicodedata.category(c)[0] == "P"
    )


def _is_cjk(c: str) -> bool:
    # BERT puts spaces around CJK ideographs (tokenize_chinese_chars), so each is its own word.
    o = ord(c)
    return (
        0x4E00 <= o <= 0x9FFF
        or 0x3400 <= o <= 0x4DBF
        or 0x20000 <= o <= 0x2A6DF
        or 0x2A700 <= o <= 0x2CEAF
        or 0xF900 <= o <= 0xFAFF
        or 0x2F800 <= o <= 0x2FA1F
    )


def _is_boundary_char(c: str) -> bool:
    return _is_bert_space(c) or _is_bert_punct(c) or _is_cjk(c)


class _TokenCounter:
    """Exact token counts of any span of one text, from one tokenizer call.

    BERT tokenises words independently, so counting a span by the offsets of the whole-text
    tokenisation is exact when both ends fall on a word boundary (next to whitespace, punctuation or
    a CJK character). A cut inside a word (only the last-resort split of a giant word, or next to a
    control character the normaliser deletes) changes that word's pieces: the partial words at the
    ends are then tokenised on their own and added to the offset count of the clean middle.
    """

    def __init__(self, text: str, starts: list[int]) -> None:
        self.text = text
        self.starts = starts
        self._clean: list[int] | None = None  # every clean cut position, built on first need

    @classmethod
    def of(cls, text: str) -> _TokenCounter:
        return cls(text, [s for s, _ in _tokenizer().encode(_safe(text), add_special_tokens=False).offsets])

    def _is_clean(self, pos: int) -> bool:
        t = self.text
        return pos <= 0 or pos >= len(t) or _is_boundary_char(t[pos - 1]) or _is_boundary_char(t[pos])

    def _clean_positions(self) -> list[int]:
        if self._clean is None:
            self._clean = [p for p in range(len(self.text) + 1) if self._is_clean(p)]
        return self._clean

    @staticmethod
    def _exact(piece: str) -> int:
        return len(_tokenizer().encode(_safe(piece), add_special_tokens=False).offsets) if piece else 0

    def count(self, start: int, end: int) -> int:
        if start >= end:
            return 0
        if self._is_clean(start) and self._is_clean(end):
            return bisect_left(self.starts, end) - bisect_left(self.starts, start)
        clean = self._clean_positions()
        a = clean[bisect_left(clean, start)]  # first clean position >= start
        if a >= end:
            return self._exact(self.text[start:end])
        b = clean[bisect_left(clean, end + 1) - 1]  # last clean position <= end (>= a)
        middle = bisect_left(self.starts, b) - bisect_left(self.starts, a)
        return self._exact(self.text[start:a]) + middle + self._exact(self.text[b:end])

    def index(self, pos: int) -> int:
        """Index of the first token (of the whole-text tokenisation) starting at or after ``pos``."""
        return bisect_left(self.starts, pos)


def count_tokens(text: str) -> int:
    """Content tokens of ``text`` for the embedder (no [CLS]/[SEP])."""
    return len(_TokenCounter.of(text).starts)


def _hard_split(text: str, counter: _TokenCounter, s: int, e: int, max_tokens: int) -> list[tuple[int, int]]:
    """Cut one over-long sentence on whitespace at the token budget; a giant word with no whitespace
    is cut inside (on a word-piece boundary, each piece re-checked exactly)."""
    pieces: list[tuple[int, int]] = []
    starts = counter.starts
    cur = s
    while counter.count(cur, e) > max_tokens:
        first = counter.index(cur)
        hi = min(first + max_tokens, len(starts) - 1)
        end = 0
        for k in range(hi, first, -1):
            p = starts[k]
            if cur < p < e and _is_bert_space(text[p - 1]) and counter.count(cur, p) <= max_tokens:
                end = p
                break
        if not end:  # no whitespace in reach: cut inside the word, as far as still fits
            lo, top = cur + 1, e - 1  # `lo` fits, or is one indivisible character
            while lo < top:
                mid = (lo + top + 1) // 2
                if counter.count(cur, mid) <= max_tokens:
                    lo = mid
                else:
                    top = mid - 1
            end = lo
        a, b = trim(text, cur, end)
        if a < b:
            pieces.append((a, b))
        cur = end
    a, b = trim(text, cur, e)
    if a < b:
        pieces.append((a, b))
    return pieces


class _Window(NamedTuple):
    start: int
    end: int
    titles: tuple[str, ...]
    whole: bool  # the window is one or more complete sections


def _pack_section(
    text: str,
    counter: _TokenCounter,
    sec: Section,
    max_tokens: int,
    overlap: int,
    tables: Sequence[Table] = (),
) -> list[_Window]:
    sents: list[tuple[int, int]] = []
    for s, e in split_sentences(text, sec.start, sec.body, sec.end):
        if counter.count(s, e) > max_tokens:
            sents.extend(_hard_split(text, counter, s, e, max_tokens))
        else:
            sents.append((s, e))
    sents = _keep_tables(sents, tables, counter, max_tokens)
    titles = (sec.title,) if sec.title else ()
    if not sents:
        return []
    if counter.count(sents[0][0], sents[-1][1]) <= max_tokens:
        return [_Window(sents[0][0], sents[-1][1], titles, True)]
    windows: list[_Window] = []
    i, n = 0, len(sents)
    while i < n:
        j = i + 1
        while j < n and counter.count(sents[i][0], sents[j][1]) <= max_tokens:
            j += 1
        windows.append(_Window(sents[i][0], sents[j - 1][1], titles, False))
        if j >= n:
            break
        # Start the next window `overlap` sentences back, fewer if they would not fit with sentence j.
        nxt = max(j - overlap, i + 1)
        while nxt < j and counter.count(sents[nxt][0], sents[j][1]) > max_tokens:
            nxt += 1
        i = nxt
    return windows


def _keep_tables(
    sents: list[tuple[int, int]], tables: Sequence[Table], counter: _TokenCounter, max_tokens: int
) -> list[tuple[int, int]]:
    """A table's rows packed as one unit when the whole table fits the budget: a chunk holding a row
    then holds its header row too, so the row is read with its column names."""
    out: list[tuple[int, int]] = []
    for s, e in sents:
        table = next((t for t in tables if t.start <= s and e <= t.end), None)
        if (
            out
            and table is not None
            and table.start <= out[-1][0]
            and counter.count(table.start, table.end) <= max_tokens
        ):
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def chunk_text(text: str, *, max_tokens: int = 200, overlap_sentences: int = 1) -> list[TextSpan]:
    """Cut ``text`` into citable spans: ``text[start:end]`` is the chunk, trimmed, within budget.

    Every span holds at most ``max_tokens`` embedder tokens (excluding [CLS]/[SEP]; a single character,
    which cannot be cut, may exceed a budget of 1-2 tokens: "암" is three word pieces); every
    non-whitespace character of ``text`` (except stray separator commas) lies in at least one span.
    """
    _check(max_tokens, overlap_sentences)
    if not text or text.isspace():
        return []
    return _chunk(text, _TokenCounter.of(text), max_tokens, overlap_sentences)


def chunk_texts(
    texts: Sequence[str], *, max_tokens: int = 200, overlap_sentences: int = 1
) -> list[list[TextSpan]]:
    """``chunk_text`` over many texts; tokenises them in one batch call (uses every core)."""
    _check(max_tokens, overlap_sentences)
    encs = _tokenizer().encode_batch([_safe(t) for t in texts], add_special_tokens=False)
    return [
        _chunk(t, _TokenCounter(t, [s for s, _ in enc.offsets]), max_tokens, overlap_sentences)
        if t and not t.isspace()
        else []
        for t, enc in zip(texts, encs, strict=True)
    ]


def _check(max_tokens: int, overlap_sentences: int) -> None:
    if max_tokens < 1:
        raise ValueError("max_tokens must be at least 1")
    if overlap_sentences < 0:
        raise ValueError("overlap_sentences must be >= 0")


def _chunk(text: str, counter: _TokenCounter, max_tokens: int, overlap: int) -> list[TextSpan]:
    windows: list[_Window] = []
    tables = find_tables(text)
    for sec in find_sections(text):
        windows.extend(_pack_section(text, counter, sec, max_tokens, overlap, tables))

    merged: list[_Window] = []
    for w in windows:
        if merged:
            prev = merged[-1]
            small = (
                counter.count(prev.start, prev.end) < SMALL_SECTION_TOKENS
                or counter.count(w.start, w.end) < SMALL_SECTION_TOKENS
            )
            if prev.whole and w.whole and small and counter.count(prev.start, w.end) <= max_tokens:
                merged[-1] = _Window(prev.start, w.end, prev.titles + w.titles, True)
                continue
        merged.append(w)
    return [TextSpan(w.start, w.end, " / ".join(dict.fromkeys(w.titles)) or None) for w in merged]
