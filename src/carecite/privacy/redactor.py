"""``PresidioRedactor``: the real ``ports.Redactor``.

Pipeline per text: Presidio's analyzer (offline spaCy + carecite's recognizer registry) → Presidio
types mapped to carecite's (NER 'PERSON' spans that are clinical vocabulary were already dropped by
``recognizers.ClinicalSpacyRecognizer``) → overlapping
spans merged (the union is redacted, so a partial hit never leaks the rest of a name; the merged span
takes the most specific type) → spans replaced by ``<TYPE>``.

What is redacted, and why (HIPAA Safe Harbor identifiers that appear in notes): names, MRNs and other
labelled identifiers, dates more specific than a year, phone numbers, emails, street addresses and
city/state/ZIP, SSNs, URLs and IPs. Deliberately kept: spaCy DATE (it tags "daily", "two weeks",
"postoperative day 2" — durations, not dates), ORGANIZATION (hospital and payer names are not patient
identifiers and spaCy mostly tags drugs and section labels with it), NRP, and bare years. spaCy
LOCATION is off by default: on the labelled set it added no recall beyond the address recognizer and
only false positives (the numbers are in evaluation.py's docstring).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import Any

from carecite.ports import PhiEntity
from carecite.privacy.presidio_engine import get_analyzer

# carecite's PHI vocabulary. When spans overlap, the merged span takes the type listed first here.
PHI_TYPES: tuple[str, ...] = (
    "DATE_OF_BIRTH",
    "MRN",
    "US_SSN",
    "ID",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "ADDRESS",
    "PERSON",
    "DATE",
    "LOCATION",
    "URL",
    "IP_ADDRESS",
)
DEFAULT_ENTITIES: frozenset[str] = frozenset(PHI_TYPES) - {"LOCATION"}

# Presidio entity → carecite type; Presidio entities not listed keep their name.
_FROM_PRESIDIO = {"DATE_TIME": "DATE", "UUID": "ID", "MEDICAL_LICENSE": "ID"}
_TO_PRESIDIO: dict[str, tuple[str, ...]] = {"DATE": ("DATE",), "ID": ("ID", "UUID")}
_EDGE_JUNK = " \t\r\n,;:.()[]\"'"


class PresidioRedactor:
    """Detects and redacts PHI with Presidio. Thread-safe for reads; build once and share.

    ``entities`` chooses which carecite types are reported and redacted; ``score_threshold`` drops
    weaker Presidio hits (Presidio's phone recognizer scores 0.4 without context words).
    """

    def __init__(
        self,
        entities: Collection[str] = DEFAULT_ENTITIES,
        *,
        score_threshold: float = 0.35,
        analyzer: Any = None,
    ) -> None:
        unknown = set(entities) - set(PHI_TYPES)
        if unknown:
            raise ValueError(f"unknown PHI types: {sorted(unknown)}; known: {list(PHI_TYPES)}")
        self.entities = frozenset(entities)
        self.score_threshold = score_threshold
        self._analyzer = analyzer if analyzer is not None else get_analyzer()
        self._presidio_entities = sorted({p for t in self.entities for p in _TO_PRESIDIO.get(t, (t,))})

    def analyze(self, text: str) -> list[PhiEntity]:
        if not text.strip():
            return []
        results = self._analyzer.analyze(
            text=text,
            language="en",
            entities=self._presidio_entities,
            score_threshold=self.score_threshold,
        )
        found: list[PhiEntity] = []
        for r in results:
            entity_type = _FROM_PRESIDIO.get(r.entity_type, r.entity_type)
            if entity_type not in self.entities:
                continue
            found.append(PhiEntity(entity_type=entity_type, start=r.start, end=r.end, score=r.score, text=""))
        return merge_entities(text, found)

    def redact(self, text: str) -> str:
        return redact_text(text, self.analyze(text))


def merge_entities(text: str, entities: Iterable[PhiEntity]) -> list[PhiEntity]:
    """Union overlapping spans; each merged span gets the most specific type and the best score."""
    rank = {t: i for i, t in enumerate(PHI_TYPES)}
    ordered = sorted(entities, key=lambda e: (e.start, -e.end))
    merged: list[PhiEntity] = []
    group: list[PhiEntity] = []
    group_end = -1

    def flush() -> None:
        if not group:
            return
        start, end = min(e.start for e in group), max(e.end for e in group)
        while start < end and text[start] in _EDGE_JUNK:
            start += 1
        while end > start and text[end - 1] in _EDGE_JUNK:
            end -= 1
        if end > start:
            best = min(group, key=lambda e: (rank.get(e.entity_type, len(rank)), -e.score))
            merged.append(
                PhiEntity(
                    entity_type=best.entity_type,
                    start=start,
                    end=end,
                    score=max(e.score for e in group),
                    text=text[start:end],
                )
            )
        group.clear()

    for e in ordered:
        if e.start >= group_end:
            flush()
            group_end = e.end
        else:
            group_end = max(group_end, e.end)
        group.append(e)
    flush()
    return merged


def redact_text(text: str, entities: Iterable[PhiEntity], template: str = "<{type}>") -> str:
    """Replace each (non-overlapping) span by ``template`` filled with its type."""
    out: list[str] = []
    pos = 0
    for e in sorted(entities, key=lambda e: e.start):
        if e.start < pos:  # overlapping input: the earlier span already covers it
            continue
        out.append(text[pos : e.start])
        out.append(template.format(type=e.entity_type))
        pos = e.end
    out.append(text[pos:])
    return "".join(out)


_TAG = re.compile(r"<([A-Z_]+)>")
