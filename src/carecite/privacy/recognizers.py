"""carecite's PHI recognizers for Presidio, and the registry that holds them.

Presidio's stock recognizers are tuned for general text: on clinical notes its date patterns fire on
pain scores ("3/10"), its spaCy NER calls "Foley" and "Hemoglobin A1c" people, and it has no notion of
an MRN. We keep the stock recognizers that work (email, phone, SSN, UUID, URL, IP, spaCy PERSON and
LOCATION) and add clinical ones in Presidio's own style (``EntityRecognizer`` subclasses with class
constants), most of them *label-anchored*: a value counts as an MRN or a date of birth because of the
label in front of it ("MRN:", "DOB", "born on"), and only the value is reported, never the label.

Entity types emitted (carecite's vocabulary, see ``redactor.PHI_TYPES``): PERSON, MRN, DATE_OF_BIRTH,
DATE, PHONE_NUMBER, EMAIL_ADDRESS, ADDRESS, US_SSN, ID, plus Presidio's LOCATION, URL, IP_ADDRESS,
UUID that the redactor maps.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from presidio_analyzer import EntityRecognizer, RecognizerRegistry, RecognizerResult
from presidio_analyzer.predefined_recognizers import (
    EmailRecognizer,
    IpRecognizer,
    PhoneRecognizer,
    SpacyRecognizer,
    UrlRecognizer,
    UsSsnRecognizer,
    UuidRecognizer,
)

from carecite.privacy.clinical_terms import is_clinical_term

# --------------------------------------------------------------------------- building blocks
MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MON = r"(?:0?[1-9]|1[0-2])"
_YEAR4 = r"(?:19|20)\d{2}"
# Every date form below carries a year or a month name: a bare "3/10" is a pain score or a ratio
# far more often than a date in clinical text.
DATE_FORMS: tuple[str, ...] = (
    rf"{_MON}/{_DAY}/(?:{_YEAR4}|\d{{2}})(?!\d)",  # 11/20/1981, 4/2/57
    rf"{_MON}-{_DAY}-{_YEAR4}(?!\d)",  # 11-20-1981
    rf"{_YEAR4}[-/.]{_MON}[-/.]{_DAY}(?!\d)",  # 1981-11-20
    rf"{_DAY}\.{_MON}\.{_YEAR4}(?!\d)",  # 20.11.1981
    rf"{MONTH}\s+{_DAY}(?:st|nd|rd|th)?(?:,?\s+{_YEAR4})?(?!\d)",  # November 20, 1981 / Nov 20
    rf"{_DAY}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH},?\s+{_YEAR4}(?!\d)",  # 20 November 1981
    rf"{MONTH},?\s+{_YEAR4}(?!\d)",  # October 2022
    rf"{_MON}/{_YEAR4}(?!\d)",  # 10/2022
)
DATE_VALUE = "(?:" + "|".join(DATE_FORMS) + ")"

# One name token: "Sarah", "O'Connor", "Al-Sayed", "McDonald", or Synthea's "Alvin56".
NAME_TOKEN = r"(?:[A-Z]'|Mc|Mac)?[A-Z][a-z]+(?:-[A-Z][a-z]+)?\d{0,4}"
NAME = rf"{NAME_TOKEN}(?:[ \t]+{NAME_TOKEN}){{0,2}}"

# Capitalised words that follow a name without being part of it; a match is cut before them.
NOT_NAME_WORDS = frozenset(
    """
    MD DO RN NP PA LPN Hospital Clinic Center Medical Health Department Unit Service Services
    January February March April May June July August September October November December
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday Today Tomorrow Yesterday
    The A An And Or But On In At To For From With Per Patient Education Care Plan History
    """.split()
)

STREET_SUFFIX = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Drive|Dr|Lane|Ln|Way|Court|Ct|Place|Pl|Terrace|Ter"
    r"|Trafficway|Parkway|Pkwy|Highway|Hwy|Circle|Cir|Square|Sq|Loop|Row|Trail|Path|Pike|Plaza|Alley"
    r"|Crossing|Heights|Park|Run|Walk)"
)
US_STATES = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM "
    "NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR"
).split()
# Two-letter states that are also credentials or words ("Bell, MD", "Smith, PA"): only an address
# when a ZIP code follows.
_AMBIGUOUS_STATES = frozenset({"MD", "DO", "PA", "OR", "ME", "IN", "OK", "HI", "DE", "CO", "ID"})
_UNIT = r"(?:Apt|Apartment|Unit|Suite|Ste|Fl|Floor|Rm|Room|#)\.?\s*#?\s*[A-Z0-9][A-Z0-9-]{0,5}"


class RegexValueRecognizer(EntityRecognizer):  # type: ignore[misc]
    """Regex recognizer that reports only the named group ``value`` of each match.

    Unlike Presidio's ``PatternRecognizer`` (whose registry applies IGNORECASE to every pattern),
    patterns here keep their own flags, because capitalisation is what tells "Dr. Kim" from "dr. of
    the day". Patterns without a ``value`` group report the whole match.
    """

    PATTERNS: Sequence[tuple[str, str, float]] = ()  # (name, regex, score)
    ENTITY = "PHI"

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entities=[self.ENTITY],
            supported_language=supported_language,
            name=self.__class__.__name__,
        )

    def load(self) -> None:
        self._compiled = [(name, re.compile(rx), score) for name, rx, score in self.PATTERNS]

    def accept(self, text: str, match: re.Match[str], start: int, end: int) -> bool:
        """Hook for validation beyond the regex."""
        return True

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        seen: set[tuple[int, int]] = set()
        for _name, rx, score in self._compiled:
            for m in rx.finditer(text):
                group = "value" if "value" in rx.groupindex else 0
                start, end = m.span(group)
                if start < 0 or start == end or (start, end) in seen or not self.accept(text, m, start, end):
                    continue
                seen.add((start, end))
                results.append(RecognizerResult(self.ENTITY, start, end, score))
        return results


class MrnRecognizer(RegexValueRecognizer):
    """Medical record numbers: a value with at least one digit after an MRN-like label."""

    ENTITY = "MRN"
    _LABEL = (
        r"(?i:\bMRN\b|\bMR\s*#|\bmedical\s+record\s+(?:number|no\.?|#)|\bmed\.?\s+rec(?:ord)?\.?\s*(?:#|no\.?|number)?"
        r"|\bchart\s+(?:number|no\.?|#)|\bpatient\s+(?:identifier|id)\b|\bhospital\s+number)"
    )
    _SEP = r"(?:\s*(?:is|was|=|:|#|no\.?|number)\s*)*\s*"
    _VALUE = r"(?P<value>(?=[A-Za-z0-9-]*\d)[A-Za-z0-9][A-Za-z0-9-]{2,40}[A-Za-z0-9])\b"
    PATTERNS = (
        ("mrn-labelled", _LABEL + _SEP + _VALUE, 0.9),
        # carecite's synthetic identifier system: urn:carecite:mrn:<value> or |<value>
        ("mrn-urn", r"urn:carecite:mrn[:|/](?P<value>[\w-]+)", 0.95),
    )


class OtherIdRecognizer(RegexValueRecognizer):
    """Other HIPAA identifiers with a label: NPI, member/account/licence/passport numbers."""

    ENTITY = "ID"
    _VALUE = r"(?P<value>(?=[A-Za-z0-9-]*\d)[A-Za-z0-9][A-Za-z0-9-]{3,30}[A-Za-z0-9])\b"
    _SEP = r"(?:\s*(?:is|was|=|:|#|no\.?|number)\s*)*\s*"
    PATTERNS = (
        ("npi", r"\bNPI\b[\s:#]*(?P<value>\d{10})\b", 0.9),
        (
            "labelled-id",
            r"(?i:\b(?:member|subscriber|insurance|policy|group|medicare|medicaid|beneficiary)\s+(?:id|number|no\.?|#)"
            r"|\baccount\s+(?:number|no\.?|#)|\bdriver'?s?\s+licen[cs]e(?:\s+(?:number|no\.?|#))?"
            r"|\bpassport(?:\s+(?:number|no\.?|#))?)" + _SEP + _VALUE,
            0.85,
        ),
    )


class DateOfBirthRecognizer(RegexValueRecognizer):
    """A date that a label marks as a birth date: "DOB: 11/20/1981", "born on November 20, 1981"."""

    ENTITY = "DATE_OF_BIRTH"
    PATTERNS = (
        (
            "dob",
            r"(?i:\bDOB\b|\bD\.O\.B\.?|\bdate\s+of\s+birth\b|\bbirth\s*date\b|\bborn\b(?:\s+on)?|\bb\.)"
            r"[\s:#,(-]*(?:is\s+|was\s+|of\s+)?(?P<value>" + DATE_VALUE + ")",
            0.95,
        ),
    )


class ClinicalDateRecognizer(RegexValueRecognizer):
    """Calendar dates with a year or a month name (Presidio's DateRecognizer also fires on "3/10")."""

    ENTITY = "DATE"
    PATTERNS = (("date", r"(?<![\w/.-])" + DATE_VALUE + r"(?![\w/])", 0.8),)


class PhoneNumberPatternRecognizer(RegexValueRecognizer):
    """North-American phone layouts that ``phonenumbers`` rejects (fictional 555 numbers, spaced)."""

    ENTITY = "PHONE_NUMBER"
    PATTERNS = (
        (
            "nanp",
            r"(?<![\w-])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?![\w-])",
            0.7,
        ),
    )


class LabelledSsnRecognizer(RegexValueRecognizer):
    """SSNs after an explicit label; Presidio's UsSsnRecognizer rejects well-known test numbers."""

    ENTITY = "US_SSN"
    PATTERNS = (
        (
            "ssn",
            r"(?i:\bSSN\b|\bSS#|\bsocial\s+security(?:\s+(?:number|no\.?|#))?)[\s:#]*(?P<value>\d{3}-?\d{2}-?\d{4})\b",
            0.95,
        ),
    )


class UsAddressRecognizer(RegexValueRecognizer):
    """US street lines ("324 Glover Trafficway", "1128 Maple Street, Apt 4B"), "City, ST 02138", PO boxes."""

    ENTITY = "ADDRESS"
    _STREET_NAME = r"(?:(?:[NSEW]\.?\s+)?(?:\d+(?:st|nd|rd|th)|[A-Z][a-z]+)\s+){1,3}"
    PATTERNS = (
        (
            "street",
            r"(?<![\w-])\d{1,6}\s+" + _STREET_NAME + STREET_SUFFIX + r"\b\.?(?:,?\s+" + _UNIT + r")?",
            0.85,
        ),
        (
            "city-state-zip",
            r"\b(?P<value>(?:[A-Z][a-z]+\s+){0,2}[A-Z][a-z]+,\s+(?P<state>"
            + "|".join(US_STATES)
            + r")\b(?P<zip>\s+\d{5}(?:-\d{4})?)?)(?![\w-])",
            0.8,
        ),
        ("po-box", r"\bP\.?\s?O\.?\s+Box\s+\d+\b", 0.85),
    )

    def accept(self, text: str, match: re.Match[str], start: int, end: int) -> bool:
        if "state" in match.groupdict() and match.group("state"):
            return bool(match.group("zip")) or match.group("state") not in _AMBIGUOUS_STATES
        return True


def _trim_name(text: str, start: int, end: int) -> tuple[int, int]:
    """Cut a name match before the first word that is never part of a name ("Dr. Kim Monday")."""
    pos = start
    for token in re.finditer(r"\S+", text[start:end]):
        if token.group(0) in NOT_NAME_WORDS:
            break
        pos = start + token.end()
    return start, pos


class ContextNameRecognizer(RegexValueRecognizer):
    """Names the surrounding words vouch for: a title, a label, a relation, or a credential after it.

    spaCy's small model misses many names in clinical prose and invents others; these patterns find
    "Dr. O'Connor", "Mrs. Whitaker", "her son David", "Attending: Marcus Bell", "Lucy Chang, RN".
    """

    ENTITY = "PERSON"
    PATTERNS = (
        ("title", rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?[ \t]+(?P<value>{NAME})", 0.85),
        ("patient", rf"\b(?:[Pp]atient|Nurse|Doctor)[ \t]+(?P<value>{NAME})", 0.6),
        (
            "label",
            r"(?i:\b(?:patient\s+)?name|\bpatient(?=\s*:)|\bpt\.?(?=\s*:)|\battending(?:\s+physician)?|\bdictated\s+by|\bsigned\s+by|\bprimary\s+care\s+"
            r"(?:provider|physician)|\bPCP|\breferring\s+(?:physician|provider)|\bemergency\s+contact|\bcontact\s+person"
            r"|\bcase\s+manager|\bsocial\s+worker|\bspoke\s+(?:with|to)|\bseen\s+by|\baccompanied\s+by|\bhealth\s+care\s+proxy"
            r"|\bguardian|\bconsent\s+was\s+signed\s+by)"
            rf"\s*[:,-]?[ \t]*(?:(?:Dr|Mr|Mrs|Ms)\.?[ \t]+)?(?P<value>{NAME})",
            0.85,
        ),
        (
            "relation",
            r"(?i:\b(?:son|daughter|wife|husband|mother|father|brother|sister|partner|spouse|niece|nephew"
            r"|grandson|granddaughter|friend|caregiver))"
            rf"\s*,?[ \t]+(?P<value>{NAME})",
            0.75,
        ),
        (
            "credential",
            rf"(?P<value>{NAME_TOKEN}[ \t]+{NAME_TOKEN}(?:[ \t]+{NAME_TOKEN})?),?[ \t]+(?:MD|RN|NP|PA-C|PA|DO|LPN|CNA|LCSW|PharmD)\b",
            0.8,
        ),
    )

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        results = []
        for r in super().analyze(text, entities, nlp_artifacts):
            start, end = _trim_name(text, r.start, r.end)
            if end > start:
                results.append(RecognizerResult(self.ENTITY, start, end, r.score))
        return results


class SyntheaNameRecognizer(RegexValueRecognizer):
    """Synthea's generated names carry digits ("Alvin56 Jerde200"): distinctive enough on their own."""

    ENTITY = "PERSON"
    PATTERNS = (("synthea", r"\b[A-Z][a-z]+\d{1,4}(?:[ \t]+[A-Z][a-z]+\d{1,4}){0,3}\b", 0.9),)


class ClinicalSpacyRecognizer(SpacyRecognizer):  # type: ignore[misc]
    """spaCy NER, minus the PERSON spans that are clinical vocabulary ("Foley", "Zoloft 50 mg", "G2P1").

    Single-word PERSON spans at the start of a sentence, list item or field, or in capitals, are dropped
    too: on MTSamples those are section words and sentence-initial verbs ("Denies", "Soft",
    "EXAMINATION"). Measured on 60 MTSamples notes this cut PERSON hits from 141 to 52 at no recall cost
    on the labelled set; dropping *every* single-word span (``min_person_words=2``) cut them to 20 but lost
    3 of 19 held-out names ("Carla", "Renee"), so it is an option, not the default.

    The filter runs inside the recognizer, before Presidio de-duplicates results across recognizers,
    so a name that a context recognizer also found is never lost to it.
    """

    def __init__(self, *, min_person_words: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.min_person_words = min_person_words

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        results: list[RecognizerResult] = super().analyze(text, entities, nlp_artifacts)
        return [r for r in results if r.entity_type != "PERSON" or self._is_name(text, r.start, r.end)]

    def _is_name(self, text: str, start: int, end: int) -> bool:
        span = text[start:end]
        if len(span.split()) < self.min_person_words:
            return False
        if len(span.split()) == 1:
            before = text[max(0, start - 3) : start].rstrip(" \t")
            # sentence- or list-initial single words ("Denies", "Soft", "EXAMINATION") are rarely names
            if not before or before[-1] in ".:;,!?\n" or span.isupper():
                return False
        return not is_clinical_term(span, text[end : end + 40])


CUSTOM_RECOGNIZERS: tuple[type[RegexValueRecognizer], ...] = (
    MrnRecognizer,
    OtherIdRecognizer,
    DateOfBirthRecognizer,
    ClinicalDateRecognizer,
    PhoneNumberPatternRecognizer,
    LabelledSsnRecognizer,
    UsAddressRecognizer,
    ContextNameRecognizer,
    SyntheaNameRecognizer,
)


def stock_recognizers(min_person_words: int = 1) -> list[EntityRecognizer]:
    """The Presidio recognizers that earn their keep on clinical text (see docs in redactor.py)."""
    return [
        ClinicalSpacyRecognizer(supported_entities=["PERSON", "LOCATION"], min_person_words=min_person_words),
        EmailRecognizer(),
        PhoneRecognizer(supported_regions=("US", "CA")),
        UsSsnRecognizer(),
        UuidRecognizer(),
        UrlRecognizer(),
        IpRecognizer(),
    ]


def build_registry(extra: Iterable[EntityRecognizer] = (), min_person_words: int = 1) -> RecognizerRegistry:
    """A registry with the stock recognizers above, carecite's clinical ones, and any ``extra``."""
    registry = RecognizerRegistry(supported_languages=["en"])
    for recognizer in [*stock_recognizers(min_person_words), *(cls() for cls in CUSTOM_RECOGNIZERS), *extra]:
        registry.add_recognizer(recognizer)
    return registry
