"""What a line of a note is, by its structure: a table row, a table's header or separator row, the
note's title line, or a signature. One place for it: the splitter keeps a table's rows whole
(``sentences``), the chunker keeps a table in one chunk, and the answerer and verification read a
row with its column headers and never answer with a line that only frames the note (issue 26).

Tables are pipe tables as notes write them: a header row of cells separated by ``|``, then either a
separator row (``|---|---|``, markdown) or, without one, at least two more rows with the same number
of cells under a header row of column names (capitalised, a few words, no digits). A table longer
than a chunk is cut between chunks; a later chunk's rows then have no header row to be read with. A row is read as its cells under their headers:
"| Penicillin | hives | active |" under "Substance | Reaction | Status" reads "Penicillin — reaction:
hives — status: active", and is cited by the row's own character range.

Lines that frame the note rather than state anything, recognised by their shape, not their words:
  * the title: a note's first line when it has no sentence end and at most ``TITLE_WORDS`` words
    ("Transitions of Care Call", "Radiology Report - Mercy General Hospital");
  * a dated banner: a date and a place or document name between pipes ("September 18, 2026 | Mercy
    General Hospital");
  * a signature: a person's name with credentials ("Ben Okafor, MSW", "-- Dr. Irene Walsh, MD,
    September 18, 2026", "Signed: Amy Lee, RN (September 22, 2026)"), or a signing word with only a
    date ("Signed November 17, 2026").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from carecite.text.dates import MONTH_FIRST

TITLE_WORDS = 12

_SEPARATOR_CELL = re.compile(r"^\s*:?-{3,}:?\s*$")


def cells(line: str) -> list[str]:
    """A pipe row's cells ("| a | b |" and "a | b" both give ["a", "b"])."""
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|"):
        body = body[:-1]
    return [c.strip() for c in body.split("|")]


def is_pipe_row(line: str) -> bool:
    return "|" in line and len(cells(line)) >= 2


def is_separator_row(line: str) -> bool:
    """ "|---|:---:|" — a markdown table's rule under its header row."""
    return "|" in line and all(_SEPARATOR_CELL.match(p) for p in cells(line))


@dataclass(frozen=True)
class Row:
    start: int  # the row's character range in the text (trimmed)
    end: int
    cells: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    start: int  # from the header row's start to the last row's end
    end: int
    header: Row
    separator: Row | None
    rows: tuple[Row, ...]

    def render(self, row: Row) -> str:
        """A row read with its column headers: "Penicillin — reaction: hives — status: active"."""
        parts: list[str] = []
        for i, cell in enumerate(row.cells):
            if not cell:
                continue
            name = self.header.cells[i] if i < len(self.header.cells) else ""
            if not parts:
                parts.append(cell)  # the first cell names the row's item
            elif name:
                parts.append(f"{name.lower()}: {cell}")
            else:
                parts.append(cell)
        return " — ".join(parts)


def _lines(text: str) -> list[tuple[int, int]]:
    """Each line's trimmed range."""
    out: list[tuple[int, int]] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        s, e = pos, pos + len(line.rstrip("\r\n"))
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        out.append((s, e))
        pos += len(line)
    return out


def _is_label(cell: str) -> bool:
    """A column name: a few words, capitalised, no digits ("Start date", "Reaction")."""
    return bool(cell) and cell[0].isupper() and len(cell.split()) <= 4 and not any(c.isdigit() for c in cell)


def find_tables(text: str) -> list[Table]:
    """The pipe tables in ``text``."""
    if "|" not in text:
        return []
    lines = _lines(text)
    tables: list[Table] = []
    i = 0
    while i < len(lines):
        s, e = lines[i]
        line = text[s:e]
        if not is_pipe_row(line) or is_separator_row(line):
            i += 1
            continue
        width = len(cells(line))
        header = Row(s, e, tuple(cells(line)))
        j = i + 1
        separator: Row | None = None
        if j < len(lines) and is_separator_row(text[lines[j][0] : lines[j][1]]):
            separator = Row(lines[j][0], lines[j][1], ())
            j += 1
        rows: list[Row] = []
        while j < len(lines):
            rs, re_ = lines[j]
            row = text[rs:re_]
            if not is_pipe_row(row) or is_separator_row(row):
                break
            if separator is None and len(cells(row)) != width:
                break
            rows.append(Row(rs, re_, tuple(cells(row))))
            j += 1
        plain_ok = separator is None and len(rows) >= 2 and all(map(_is_label, header.cells))
        if rows and (separator is not None or plain_ok):
            tables.append(Table(s, rows[-1].end, header, separator, tuple(rows)))
            i = j
        else:
            i += 1
    return tables


# --------------------------------------------------------------------------- lines that frame a note

# Clinical and allied-health credentials written after a name (degrees, licences, certifications):
# "Hypertension, CKD" is a diagnosis line, "Ben Okafor, MSW" a signature.
CREDENTIALS = frozenset(
    "MD DO MBBS MBChB PhD PharmD PsyD DNP DPT DMD DDS DPM RN BSN MSN LPN LVN NP APRN FNP CRNP CNM "
    "CRNA PA-C MSW LSW LCSW LICSW LMSW LMFT LPC LPCC LMHC LADC LCADC CADC CASAC RD RDN CDE "
    "CDCES CCM CNA RMA OTR SLP CCC-SLP RRT MPH MSc FACC FACP FACS FAAP FAAFP".split()
)
_CRED = "(?:" + "|".join(re.escape(c) for c in sorted(CREDENTIALS, key=len, reverse=True)) + r")\b"
# A person's name: "Dr." and one name, or a given and a family name (an initial between).
_WORD = r"[A-Z][A-Za-z'’-]+"
_NAME = (
    rf"(?:Dr\.?\s+{_WORD}(?:\s+[A-Z]\.)?(?:\s+{_WORD}){{0,2}}|{_WORD}(?:\s+[A-Z]\.)?(?:\s+{_WORD}){{1,2}})"
)
_DATE = rf"(?i:{MONTH_FIRST.pattern}|\d{{1,2}}/\d{{1,2}}/\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}})"
_LEAD = (
    r"(?:[-–—~]{1,3}\s*)?"
    r"(?i:(?:electronically\s+)?(?:signed|verified|interpreted|reviewed|dictated|e-signed)(?:\s+by)?\s*:?\s*)?"
)
_SIGNED_NAME = re.compile(
    rf"^{_LEAD}{_NAME}(?:,\s*{_CRED})+(?:\s*[,(]?\s*(?:on\s+)?{_DATE}\)?)?\s*\.?$",
)
_SIGNED_DATE = re.compile(
    rf"^(?:[-–—~]{{1,3}}\s*)?(?:electronically\s+)?(?:signed|e-signed|dictated|verified)\s*(?:on\s+)?:?\s*{_DATE}\.?$",
    re.I,
)


def is_signature(line: str) -> bool:
    """A name with credentials (and perhaps a date), or a signing word and a date: it signs, it does
    not state anything."""
    body = line.strip()
    return bool(_SIGNED_NAME.match(body) or _SIGNED_DATE.match(body))


_DATE_ONLY = re.compile(rf"^{_DATE}$")
_TITLE_CASE = re.compile(
    r"^(?:[A-Z0-9][\w&'’.()-]*|of|and|for|the|at|&|-)(?:\s+(?:[A-Z0-9][\w&'’.()-]*|of|and|for|the|at|&|-))*$"
)


def is_dated_banner(line: str) -> bool:
    """A date and a place or document name between pipes ("September 18, 2026 | Mercy General
    Hospital"): it heads the note, it states nothing."""
    parts = [p.strip() for p in line.strip().split("|")]
    if len(parts) < 2 or not all(parts):
        return False
    dates = [p for p in parts if _DATE_ONLY.match(p)]
    return bool(dates) and all(p in dates or _TITLE_CASE.match(p) for p in parts)


def frames_alone(line: str) -> bool:
    """A line that frames a note wherever it stands: a signature or a dated banner."""
    return is_signature(line) or is_dated_banner(line)


def title_range(text: str) -> tuple[int, int] | None:
    """The note's title line: its first non-empty line, when short and with no sentence end (the
    document's name: "Transitions of Care Call"). ``text`` must start at the note's start."""
    for s, e in _lines(text):
        if s == e:
            continue
        line = text[s:e]
        if (
            line.rstrip().endswith((".", "!", "?", ":"))
            or len(line.split()) > TITLE_WORDS
            or is_pipe_row(line)
            or not any(c.isalpha() for c in line)
        ):
            return None
        return s, e
    return None


@dataclass(frozen=True)
class Frame:
    """Where the framing lines of a text are: a table's header and separator rows, the title."""

    tables: tuple[Table, ...]
    title: tuple[int, int] | None

    def row_at(self, start: int, end: int) -> tuple[Table, Row] | None:
        """The data row whose range is [start, end) (a sentence that is exactly one row)."""
        for t in self.tables:
            if t.start <= start and end <= t.end:
                for r in t.rows:
                    if r.start <= start and end <= r.end:
                        return t, r
        return None

    def frames(self, start: int, end: int) -> bool:
        """Is [start, end) a header row, a separator row or the title line (or within one)?"""
        if self.title is not None and self.title[0] <= start and end <= self.title[1]:
            return True
        for t in self.tables:
            for r in (t.header, t.separator):
                if r is not None and r.start <= start and end <= r.end:
                    return True
        return False


def reading(text: str, spans: list[tuple[int, int]]) -> list[str]:
    """What each span of ``text`` says: a table's data row read with its column headers, any other
    span as written."""
    layout = Frame(tuple(find_tables(text)), None)
    out: list[str] = []
    for s, e in spans:
        found = layout.row_at(s, e)
        out.append(found[0].render(found[1]) if found else text[s:e])
    return out


def frame(text: str, *, at_document_start: bool = False) -> Frame:
    """The framing lines of ``text``; its title only when ``text`` starts at the note's start."""
    return Frame(tuple(find_tables(text)), title_range(text) if at_document_start else None)
