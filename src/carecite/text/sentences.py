"""The one sentence splitter and section finder: chunking, re-ranking, the offline answerer and
citation verification all cut text the same way, with the same offsets.

Sections: markdown headers (``# Assessment and Plan``, ``## Plan`` as in Synthea notes), upper-case
headers at a line start or after a comma (``HOSPITAL COURSE:``, MTSamples' ``SUBJECTIVE:,``), short
title-case lines ending in a colon ("Follow-Up:") and lettered subheadings on their own line
("B. Nationally Covered Indications", as in CMS coverage determinations).

Sentences: a sentence ends at ``.``/``!``/``?`` followed by whitespace (or MTSamples' comma) and an
upper-case letter, digit, bullet or quote — unless the word before the period is a known abbreviation
(Dr., Mr., e.g., vs.), a single initial, or a list number ("1."); decimals (98.6) never match because
no space follows the period; after a citation marker ("[S2].") any letter may follow. A line break ends a sentence unless the next line starts in lower case
(a wrapped line: "Alvin56\\n is a 18 year-old ..."), so every line or bullet of a list is its own
sentence. A pipe table's row is one sentence (``text.layout``).

Why a regex splitter rather than spaCy: spaCy's parser costs ~70 ms/KB here (minutes for MTSamples),
and its statistical boundaries are tuned for prose, not for line-structured notes (bullets, wrapped
Synthea lines, MTSamples' ``.,`` joins).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from carecite.text.layout import find_tables

# Words whose trailing period does not end a sentence (lower-cased, without the final period).
ABBREVIATIONS = frozenset(
    "dr mr mrs ms prof sr jr st vs e.g i.e approx no nos fig dept inc ltd co mt ft cf al resp".split()
)
_MD_HEADER = re.compile(r"^[ \t]*#{1,6}[ \t]+(?P<title>[^\r\n]*?)[ \t#]*\r?$", re.MULTILINE)
# Upper-case header: at a line start, after a comma (MTSamples) or after a sentence end.
_CAPS_HEADER = re.compile(
    r"(?:^|[\n,]|\.  ?)[ \t]*(?P<title>[A-Z][A-Z0-9&/()' -]{1,60}?[A-Z0-9)])[ \t]*:",
    re.MULTILINE,
)
# Title-case header alone on its line: "Hospital Course:". Not a lead-in clause ending in a colon
# ("The patient must have:", "It is covered when:"): a header is a short noun phrase, and does not
# open with an article or a pronoun.
_LINE_HEADER = re.compile(
    r"^[ \t]*(?!(?:The|A|An|This|These|Those|It|He|She|They|We|I|You)\b)"
    r"(?P<title>[A-Z][A-Za-z0-9&/()'-]*(?: [A-Za-z0-9&/()'-]+){0,5}?)[ \t]*:[ \t]*\r?$",
    re.MULTILINE,
)
# A lettered subheading alone on its line, as CMS coverage determinations number theirs:
# "B. Nationally Covered Indications". No final period: "A. Patient tolerated it." is a sentence.
_LETTERED_HEADER = re.compile(
    r"^[ \t]*(?P<mark>[A-Z]|[IVX]{1,4})\.[ \t]+(?P<title>[A-Z][A-Za-z0-9,&/()' -]{2,70}?)[ \t]*\r?$",
    re.MULTILINE,
)
# Terminal punctuation, closing quotes/brackets, then whitespace, an MTSamples comma, or the end.
_TERMINAL = re.compile(r"[.!?]+[\"'”’)\]]*(?:,(?=\S)|(?=\s)|$)")
_NEWLINE = re.compile(r"\r\n|\r|\n")
# A citation marker closes a claim: "... [S2]. lisinopril 10 MG ..." is two sentences, whatever the case
# of the next word (coded drug names are often lower case).
_CITED = re.compile(r"\[S\d+(?:[^\]\n]{0,40})\]$")
_TRIM = ","  # besides whitespace


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and (text[start].isspace() or text[start] in _TRIM):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in _TRIM):
        end -= 1
    return start, end


class Section(NamedTuple):
    start: int  # where the header (or the preamble) starts
    body: int  # where sentence splitting may begin (after the header)
    end: int
    title: str | None


def _nested_numerals(text: str) -> set[int]:
    """Starts of roman-numeral subheadings nested in a lettered one: after "B. Nationally Covered
    Indications", "I. Allogeneic ..." and "II. Autologous ..." are parts of B, not sections after it
    (CMS numbers a subsection's parts so). "I." right after "H." is the letter I, a section."""
    nested: set[int] = set()
    letter: str | None = None  # the current lettered heading's letter
    in_letter = False  # the roman sequence running now is inside that letter's subsection
    for m in _LETTERED_HEADER.finditer(text):
        mark = m.group("mark")
        if len(mark) == 1 and (letter is None or mark == chr(ord(letter) + 1) or mark not in "IVX"):
            letter, in_letter = mark, False  # the next letter: a section ("C." after "B.")
        elif mark == "I":
            in_letter = True  # "I." after "B.": the first part of B
            nested.add(m.start())
        elif in_letter:
            nested.add(m.start())  # "II.", "IV." of that sequence
    return nested


def find_sections(text: str) -> list[Section]:
    """Split ``text`` at recognised headers. Text before the first header is a section titled None."""
    heads: dict[int, tuple[int, str]] = {}  # start -> (end of header, title)
    nested = _nested_numerals(text)
    for rx in (_MD_HEADER, _LINE_HEADER, _LETTERED_HEADER, _CAPS_HEADER):
        for m in rx.finditer(text):
            if rx is _LETTERED_HEADER and m.start() in nested:
                continue  # "I. Allogeneic HSCT" under "B. Nationally Covered Indications" stays in B
            title = m.group("title").strip()
            if rx is _CAPS_HEADER and sum(c.isalpha() for c in title) < 3:
                continue  # "BP:", "A:" are labels inside a sentence, not sections
            if not title:
                continue
            start = m.start("title") if rx is _CAPS_HEADER else trim(text, m.start(), m.end())[0]
            if start not in heads and not any(s <= start < e for s, (e, _) in heads.items()):
                heads[start] = (m.end(), title)
    starts = sorted(heads)
    sections: list[Section] = []
    if not starts or starts[0] > 0:
        first = starts[0] if starts else len(text)
        sections.append(Section(0, 0, first, None))
    for i, s in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        sections.append(Section(s, min(heads[s][0], end), end, heads[s][1]))
    return sections


def _is_abbreviation(text: str, sent_start: int, period: int) -> bool:
    """True when the period at ``period`` closes an abbreviation, an initial or a list number."""
    k = period
    while k > sent_start and not text[k - 1].isspace() and text[k - 1] not in ",(":
        k -= 1
    word = text[k:period]
    if not word:
        return False
    if word.lower().lstrip("(\"'") in ABBREVIATIONS:
        return True
    if len(word) == 1 and word.isalpha() and word.isupper():
        return True  # an initial: "J. Smith"
    # "1." / "12." opening a sentence is a list number, not a sentence of its own.
    return word.isdigit() and len(word) <= 2 and text[sent_start:k].strip(" \t,") == ""


def _next_visible(text: str, pos: int, end: int) -> str:
    while pos < end and (text[pos].isspace() or text[pos] == ","):
        pos += 1
    return text[pos] if pos < end else ""


def split_sentences(text: str, start: int, body: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans of ``text[start:end]`` (trimmed); nothing before ``body`` is cut (the header)."""
    cuts: set[int] = set()
    for m in _TERMINAL.finditer(text, body, end):
        nxt = _next_visible(text, m.end(), end)
        cited = _CITED.search(text, max(body, m.start() - 48), m.start()) is not None
        if nxt and not (nxt.isupper() or nxt.isdigit() or nxt in "\"'“‘([#•*-·") and not cited:
            continue  # "e.g. something", "5 mg. daily": lower case follows
        period = m.start()
        if text[period] == "." and _is_abbreviation(text, start, period):
            continue
        cuts.add(m.end())
    for m in _NEWLINE.finditer(text, body, end):
        nxt = _next_visible(text, m.end(), end)
        if nxt and nxt.islower():
            continue  # a wrapped line continues the sentence
        cuts.add(m.end())
    if "|" in text[body:end]:
        # A table row is one sentence, whatever punctuation or case it holds ("| aspirin | 81 mg. |").
        for table in find_tables(text):
            for row in (table.header, table.separator, *table.rows):
                if row is not None and body <= row.start and row.end <= end:
                    cuts = {c for c in cuts if not row.start < c < row.end} | {row.start, row.end}
    spans: list[tuple[int, int]] = []
    prev = start
    for cut in sorted(cuts):
        if cut <= prev:
            continue
        if _is_list_number_only(text, prev, cut):
            continue  # keep "1." with its item
        s, e = trim(text, prev, cut)
        if s < e:
            spans.append((s, e))
        prev = cut
    s, e = trim(text, prev, end)
    if s < e:
        spans.append((s, e))
    return spans


def _is_list_number_only(text: str, start: int, cut: int) -> bool:
    piece = text[start:cut].strip().strip(",")
    return len(piece) <= 3 and piece.endswith(".") and piece[:-1].isdigit()
