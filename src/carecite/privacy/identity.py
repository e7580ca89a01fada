"""The patient's own identity, built once per request, and where it is found in text.

One ``PatientIdentity`` (from the Patient row and its raw FHIR resource) serves three places:
index-text scrubbing at ingest (``scrub_identifiers``), audit redaction, and the prompt
pseudonymisation before a remote LLM (``privacy.pseudonymize``, through ``identity_spans``). Every
identifier form is matched here and nowhere else: bare MRNs and other identifiers (with any
separators between their digits), phones digit by digit, birth dates in the common written forms,
address lines, e-mails, names (Synthea's digit-suffixed "Alvin56" also without its digits).

Why the indexes are scrubbed: what is embedded and BM25-indexed (``Chunk.index_text``) should not carry the patient's name, MRN,
birth date, phone, address or e-mail: the indexes are not the system of record, and the vectors of
a chunk should be about its clinical content. This is exact matching against identifiers we KNOW
(from the Patient row), so it is fast and precise; detecting unknown PHI (other people's names,
free-text dates) is the job of ``carecite.privacy`` (Presidio) when text leaves the machine.
``Chunk.text`` keeps the original slice: it is what a clinician sees and what offsets point into.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict

from carecite.records import tables

PLACEHOLDERS = ("[PATIENT]", "[MRN]", "[DOB]", "[PHONE]", "[ADDRESS]", "[EMAIL]")

_MONTHS = "January February March April May June July August September October November December".split()
_DIGITS = re.compile(r"\d")
_TRAILING_DIGITS = re.compile(r"^(?P<base>[^\W\d_][\w'’-]*?)\d+$")
# Phone-like runs: digits with the usual separators; compared to the patient's phones digit by digit.
_PHONE_LIKE = re.compile(r"(?<![\w])\+?\(?\d[\d\s().-]{5,}\d(?![\w])")
_REPEATED_PATIENT = re.compile(r"\[PATIENT\](?:[ \t,]+\[PATIENT\])+")
_BOUNDARY_L = r"(?<![\w])"
_BOUNDARY_R = r"(?![\w])"
MIN_NAME_LEN = 2
MIN_IDENTIFIER_LEN = 4


class PatientIdentity(BaseModel):
    """The identifiers of one patient that index text must not carry."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    names: tuple[str, ...] = ()  # full names and name parts ("Alvin56 Jerde200", "Alvin56", "Jerde200")
    identifiers: tuple[str, ...] = ()  # MRN, SSN, driver's licence, FHIR id ...
    birth_date: date | None = None
    phones: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()  # street lines and full one-line addresses
    emails: tuple[str, ...] = ()

    @property
    def display_name(self) -> str | None:
        """The fullest name (names are sorted longest first): what a reidentified answer shows."""
        return self.names[0] if self.names else None

    def without_name(self, text: str) -> str:
        """``text`` without the words of the patient's names, in any case ("is dewitt allergic",
        "does alvin smoke"): for readers that look for what a question names in the record, where a
        name never names a drug, a lab or a condition. Words shorter than three letters stay."""
        words = sorted((w for w in self.name_words() if len(w) >= 3), key=len, reverse=True)
        if not words:
            return text
        pattern = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")(?:'s|’s)?\b", re.I)
        return " ".join(pattern.sub(" ", text).split())

    def name_words(self) -> set[str]:
        """Every word of every name, casefolded, digits kept ("alvin56") and dropped ("alvin")."""
        words = {w.casefold() for n in self.names for w in n.split() if len(w) >= MIN_NAME_LEN}
        return words | {w.rstrip("0123456789") for w in words if len(w.rstrip("0123456789")) >= MIN_NAME_LEN}

    @classmethod
    def from_patient(cls, p: tables.Patient) -> PatientIdentity:
        """Everything the Patient row knows: its columns plus the raw FHIR resource (all names, all
        identifiers, every telecom and address, not just the preferred ones)."""
        raw: dict[str, Any] = {}
        try:
            loaded = json.loads(p.raw) if p.raw else {}
            raw = loaded if isinstance(loaded, dict) else {}
        except ValueError:
            raw = {}
        names: list[str] = [p.name, f"{p.given} {p.family}", *p.given.split(), p.family]
        for hn in _dicts(raw.get("name")):
            given = [g for g in hn.get("given", []) if isinstance(g, str)]
            family = hn.get("family") if isinstance(hn.get("family"), str) else ""
            names += [*given, family or "", " ".join([*given, family or ""])]
            if isinstance(hn.get("text"), str):
                names.append(hn["text"])
        identifiers: list[str] = [p.id, p.mrn or ""]
        for ident in _json_list(p.identifiers) + _dicts(raw.get("identifier")):
            if isinstance(ident, dict) and isinstance(ident.get("value"), str):
                identifiers.append(ident["value"])
        phones: list[str] = [p.phone or ""]
        emails: list[str] = [p.email or ""]
        for tel in _dicts(raw.get("telecom")):
            value = tel.get("value")
            if isinstance(value, str):
                (emails if tel.get("system") == "email" else phones).append(value)
        addresses: list[str] = [p.address or ""]
        for addr in _dicts(raw.get("address")):
            lines = [x for x in addr.get("line", []) if isinstance(x, str)]
            addresses += lines
            if isinstance(addr.get("text"), str):
                addresses.append(addr["text"])
        return cls(
            names=_clean(names, MIN_NAME_LEN),
            identifiers=_clean(identifiers, MIN_IDENTIFIER_LEN),
            birth_date=p.birth_date,
            phones=_clean([ph for ph in phones if len(_digits(ph)) >= 7], 1),
            addresses=_clean(addresses, 4),
            emails=_clean(emails, 3),
        )


def _dicts(value: object) -> list[dict[str, Any]]:
    return [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []


def _json_list(value: str) -> list[Any]:
    try:
        loaded = json.loads(value or "[]")
    except ValueError:
        return []
    return loaded if isinstance(loaded, list) else []


def _clean(values: list[str], min_len: int) -> tuple[str, ...]:
    out = {" ".join(v.split()) for v in values if v and len(v.strip()) >= min_len}
    return tuple(sorted(out, key=lambda v: (-len(v), v)))


def _digits(value: str) -> str:
    return "".join(_DIGITS.findall(value))


def _flexible(literal: str) -> str:
    """A literal whose internal whitespace may be any run of whitespace (line-wrapped notes)."""
    return r"\s+".join(re.escape(part) for part in literal.split())


def _date_patterns(d: date) -> list[str]:
    m, dd, y = d.month, d.day, d.year
    month = _MONTHS[m - 1]
    mon = month[:3]
    day = rf"0?{dd}(?:st|nd|rd|th)?"
    month_names = rf"(?:{month}|{mon}\.?)"
    numeric_m, numeric_d = rf"0?{m}", rf"0?{dd}"
    yy = f"{y % 100:02d}"
    return [
        rf"{y}[-/.]0?{m}[-/.]0?{dd}",  # 1981-11-20, 1981/11/20
        rf"{numeric_m}[/.-]{numeric_d}[/.-](?:{y}|{yy})",  # US: 11/20/1981, 11-20-81
        rf"{numeric_d}[/.]{numeric_m}[/.]{y}",  # day first: 20.11.1981
        rf"{month_names}\s+{day},?\s+{y}",  # Nov 20, 1981 / November 20th 1981
        rf"{day}\s+{month_names},?\s+{y}",  # 20 November 1981
        rf"{day}-{month_names}-(?:{y}|{yy})",  # 20-Nov-1981
    ]


class _Scrubber:
    """Compiled patterns for one identity. ``strict_case``: a one-word name matches only as written
    or in capitals ("Will" the name, never "will" the verb) — for prompts, where a replaced verb
    corrupts the text; index scrubbing stays case-insensitive (it only loses a word of recall)."""

    def __init__(self, identity: PatientIdentity, strict_case: bool = False) -> None:
        parts: list[tuple[str, str]] = []
        for email in identity.emails:
            parts.append((re.escape(email), "[EMAIL]"))
        for addr in identity.addresses:
            parts.append((_flexible(addr), "[ADDRESS]"))
        if identity.birth_date:
            parts += [(p, "[DOB]") for p in _date_patterns(identity.birth_date)]
        for ident in identity.identifiers:
            digits = _digits(ident)
            if len(digits) >= 6 and len(digits) >= len(ident) - 2:
                # Mostly digits (SSN, phone-like MRN): allow any separators between the digits.
                parts.append((r"[\s.-]?".join(digits), "[MRN]"))
            parts.append((re.escape(ident), "[MRN]"))
        self._labels = [label for _, label in parts]
        self._group_rx = [re.compile(f"{_BOUNDARY_L}(?:{p}){_BOUNDARY_R}", re.IGNORECASE) for p, _ in parts]
        # Names: exact spelling case-insensitively; Synthea's digit-suffixed names ("Alvin56") also
        # without the digits, but then only capitalised, so "young" never matches a patient Young.
        multi = [n for n in identity.names if len(n.split()) > 1 or not strict_case]
        single = [n for n in identity.names if len(n.split()) == 1 and strict_case]
        exact = [_flexible(n) for n in multi]
        bare = sorted(
            {m.group("base") for n in identity.names for w in n.split() if (m := _TRAILING_DIGITS.match(w))},
            key=lambda v: (-len(v), v),
        )
        bare = [b for b in bare if len(b) >= MIN_NAME_LEN]
        self._names_exact = (
            re.compile("|".join(f"{_BOUNDARY_L}{n}{_BOUNDARY_R}" for n in exact), re.IGNORECASE)
            if exact
            else None
        )
        self._names_bare = (
            re.compile("|".join(f"{_BOUNDARY_L}{re.escape(b)}{_BOUNDARY_R}" for b in bare)) if bare else None
        )
        self._names_as_written = (
            re.compile(
                "|".join(
                    f"{_BOUNDARY_L}(?:{re.escape(n)}|{re.escape(n.upper())}){_BOUNDARY_R}" for n in single
                )
            )
            if single
            else None
        )
        self._phones = {_digits(p)[-10:] for p in identity.phones}

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        found: list[tuple[int, int, str]] = []
        for rx, label in zip(self._group_rx, self._labels, strict=True):
            found += [(m.start(), m.end(), label) for m in rx.finditer(text)]
        if self._phones:
            for m in _PHONE_LIKE.finditer(text):
                if _digits(m.group())[-10:] in self._phones and len(_digits(m.group())) <= 11:
                    s, e = m.start(), m.end()
                    while e > s and text[e - 1] in " .-(":
                        e -= 1
                    found.append((s, e, "[PHONE]"))
        for rx_or_none in (self._names_exact, self._names_as_written, self._names_bare):
            if rx_or_none is not None:
                found += [(m.start(), m.end(), "[PATIENT]") for m in rx_or_none.finditer(text)]
        # Earliest first, longest first at the same start; drop anything overlapping a kept span.
        found.sort(key=lambda x: (x[0], -(x[1] - x[0])))
        kept: list[tuple[int, int, str]] = []
        for s, e, label in found:
            if kept and s < kept[-1][1]:
                continue
            kept.append((s, e, label))
        return kept

    def scrub(self, text: str) -> str:
        out: list[str] = []
        pos = 0
        for s, e, label in self.spans(text):
            out += [text[pos:s], label]
            pos = e
        out.append(text[pos:])
        return _REPEATED_PATIENT.sub("[PATIENT]", "".join(out))


@lru_cache(maxsize=256)
def _scrubber(identity: PatientIdentity, strict_case: bool = False) -> _Scrubber:
    return _Scrubber(identity, strict_case)


def identity_spans(text: str, identity: PatientIdentity, *, strict_case: bool = True) -> list[IdentitySpan]:
    """Where the patient's known identifiers occur in ``text``: non-overlapping, in order."""
    if not text:
        return []
    return [IdentitySpan(s, e, label) for s, e, label in _scrubber(identity, strict_case).spans(text)]


@dataclass(frozen=True)
class IdentitySpan:
    start: int
    end: int
    placeholder: str  # one of PLACEHOLDERS


def scrub_identifiers(text: str, identity: PatientIdentity | None) -> str:
    """``text`` with the patient's known identifiers replaced by placeholders (unchanged when None)."""
    if identity is None or not text:
        return text
    return _scrubber(identity).scrub(text)


# A title before the patient's name goes with it: "Mr. Olsen's code status" → "the patient's code status".
_HONORIFIC_BEFORE = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx)\.?\s+$", re.I)
# A clinician who shares the name ("Dr. Olsen's note") is not the patient.
_CLINICIAN_BEFORE = re.compile(r"\b(?:Dr|Doctor|Nurse)\.?\s+$", re.I)


def as_the_patient(question: str, identity: PatientIdentity | None) -> str:
    """``question`` with the selected patient's own name said as "the patient".

    The patient is already chosen, so the name says nothing about what is asked; left in, it matches
    every note line that only names the patient ("SPOKE WITH: James Mitchell" as an answer to "When
    was James Mitchell's last colonoscopy?"). Names match as written (``strict_case``): "will" the
    verb stays. One word of a name is the patient only where it stands as a person: after a title
    ("Mr. Olsen") or before a possessive ("Rosa's"); "Coverage" or "Evaluation" as a word of a
    question is not the patient Evaluation Coverage.
    """
    if identity is None or not question:
        return question
    out: list[str] = []
    pos = 0
    for span in identity_spans(question, identity):
        if span.placeholder != "[PATIENT]":
            continue
        before = question[pos : span.start]
        if _CLINICIAN_BEFORE.search(before):
            continue
        honorific = _HONORIFIC_BEFORE.search(before)
        one_word = len(question[span.start : span.end].split()) == 1
        if one_word and not honorific and question[span.end : span.end + 2] not in ("'s", "’s"):
            continue
        if honorific:
            before = before[: honorific.start()]
        out += [before, "the patient"]
        pos = span.end
    out.append(question[pos:])
    return "".join(out)
