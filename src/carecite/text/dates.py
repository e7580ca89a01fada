"""One date format for everything carecite writes: ISO 8601, ``YYYY-MM-DD`` (``YYYY-MM-DD HH:MM``
when a time of day matters).

ISO is what FHIR stores, sorts as text and reads the same everywhere (``9/16/2026`` is September 16
in the US and nonsense elsewhere; ``4/5/2026`` is April 5 or May 4). Record statements, source cards,
the patient header and the people rows all render dates with ``display_date``/``display_datetime``.

Quoted source text is never rewritten: an answer sentence copied from a note keeps the note's
``9/16/2026`` (citation verification requires every date to appear in the cited source exactly).
``written_dates`` finds such dates so the UI and the terminal can show the ISO form beside the
verbatim one. Numeric dates are read as US month/day/year, the convention of the US clinical notes
and CMS policies carecite ingests; two-digit years and impossible dates are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

# Month names and abbreviations → number: the one table every date reader uses.
MONTHS = {
    name: i
    for i, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_NUMERIC = re.compile(r"(?<![\d/.\-])(\d{1,2})/(\d{1,2})/(\d{4})(?![\d/])")
MONTH_FIRST = re.compile(rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.IGNORECASE)
DAY_FIRST = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH})\.?,?\s+(\d{{4}})\b", re.IGNORECASE)


def display_date(value: date | datetime | None, unknown: str = "unknown date") -> str:
    """``YYYY-MM-DD``: the one way carecite writes a date."""
    if value is None:
        return unknown
    return value.date().isoformat() if isinstance(value, datetime) else value.isoformat()


def display_datetime(value: datetime | None, unknown: str = "unknown time") -> str:
    """``YYYY-MM-DD HH:MM`` when the time of day is set, else ``YYYY-MM-DD``."""
    if value is None:
        return unknown
    return value.strftime("%Y-%m-%d %H:%M") if (value.hour or value.minute) else value.date().isoformat()


@dataclass(frozen=True)
class WrittenDate:
    start: int
    end: int
    iso: str  # the same day as display_date writes it


def _valid(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def written_dates(text: str) -> list[WrittenDate]:
    """Dates in ``text`` written other than as ``YYYY-MM-DD`` ("9/16/2026", "September 16, 2026",
    "16 Sep 2026"), in order, each with its ISO form."""
    found: list[WrittenDate] = []
    for m in _NUMERIC.finditer(text):
        if iso := _valid(int(m.group(3)), int(m.group(1)), int(m.group(2))):
            found.append(WrittenDate(m.start(), m.end(), iso))
    for m in MONTH_FIRST.finditer(text):
        if iso := _valid(int(m.group(3)), MONTHS[m.group(1).lower()], int(m.group(2))):
            found.append(WrittenDate(m.start(), m.end(), iso))
    for m in DAY_FIRST.finditer(text):
        if iso := _valid(int(m.group(3)), MONTHS[m.group(2).lower()], int(m.group(1))):
            found.append(WrittenDate(m.start(), m.end(), iso))
    found.sort(key=lambda d: d.start)
    out: list[WrittenDate] = []
    for d in found:  # overlapping matches ("May 4 2026" inside a longer one): the first wins
        if not out or d.start >= out[-1].end:
            out.append(d)
    return out


# A month and a year ("in July 2010", "December 2009"), and an ISO date: times a sentence may hold
# besides the day-precise forms ``written_dates`` reads.
_MONTH_YEAR = re.compile(rf"\b({_MONTH})\.?,?\s+(\d{{4}})\b", re.IGNORECASE)
_ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


# Verification compares every date a sentence holds with its source's, so it reads them looser than
# ``written_dates`` on purpose: ISO days too, impossible dates kept as written ("2026-13-45" must still
# match the source exactly), and no guard against neighbouring digits or slashes.
_ISO_LOOSE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_NUMERIC_LOOSE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")


def _iso(y: int, m: int, d: int) -> str:
    return f"{y:04d}-{m:02d}-{d:02d}"


def compared_dates(text: str) -> tuple[set[str], str]:
    """Every date in ``text`` as ``YYYY-MM-DD`` (ISO, US numeric, "September 16, 2026", "16 Sep 2026",
    read in that order), and the text with each read date blanked, so its digits are not read again
    as numbers."""
    found: set[str] = set()
    forms: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
        (_ISO_LOOSE, lambda m: _iso(int(m[1]), int(m[2]), int(m[3]))),
        (_NUMERIC_LOOSE, lambda m: _iso(int(m[3]), int(m[1]), int(m[2]))),
        (MONTH_FIRST, lambda m: _iso(int(m[3]), MONTHS[m[1].lower()], int(m[2]))),
        (DAY_FIRST, lambda m: _iso(int(m[3]), MONTHS[m[2].lower()], int(m[1]))),
    )
    for pattern, to_iso in forms:
        for m in pattern.finditer(text):
            found.add(to_iso(m))
        text = pattern.sub(" ", text)
    return found, text


def holds_date(text: str) -> bool:
    """Does ``text`` say when, as a calendar date: a day ("July 25, 2006", "9/16/2026", "2026-09-16")
    or a month and year ("in July 2010")?"""
    return bool(_ISO_DATE.search(text) or _MONTH_YEAR.search(text) or written_dates(text))


# --------------------------------------------------------------------------- a time frame asked for
# "why was she admitted in September", "what shots did he get in 2023", "labs from March 2025": the
# month and/or year a question confines itself to. A month name counts after a preposition or before a
# year only ("may" is also a verb).
_FRAME = re.compile(
    rf"\b(?:in|during|of|last|this|from)\s+(?:(?P<m1>{_MONTH})\.?(?:\s+(?P<y1>(?:19|20)\d{{2}}))?|"
    rf"(?P<y2>(?:19|20)\d{{2}}))\b|\b(?P<m3>{_MONTH})\.?,?\s+(?P<y3>(?:19|20)\d{{2}})\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Frame:
    """A month and/or year the question names, and the words it names them with."""

    month: int | None
    year: int | None
    words: frozenset[str]

    def holds(self, when: date | datetime, today: date) -> bool:
        """Is ``when`` inside the frame? A month without a year is its latest occurrence up to today
        ("in September", asked in December 2026, is September 2026; asked in May, September 2025)."""
        year = self.year
        if year is None and self.month is not None:
            year = today.year if self.month <= today.month else today.year - 1
        if year is not None and when.year != year:
            return False
        return self.month is None or when.month == self.month


def asked_frame(question: str) -> Frame | None:
    """The month/year a question confines itself to, if it names one."""
    found = _FRAME.search(question)
    if found is None:
        return None
    month = found["m1"] or found["m3"]
    year = found["y1"] or found["y2"] or found["y3"]
    words = frozenset(w.lower().rstrip(".") for w in (month, year) if w)
    return Frame(MONTHS[month.lower().rstrip(".")] if month else None, int(year) if year else None, words)
