"""Section kinds: what a note's headers mean, and which section a question asks about.

Clinical documents name their sections with a small, stable set of headers (HL7 C-CDA section
titles, LOINC document-section names, and the headers transcription services use: "ALLERGIES:",
"DISCHARGE MEDICATIONS:", "IMPRESSION:", "Follow-Up:"). A curated table maps header wordings to
a kind, and question wordings to the kinds that answer them. It is written from those standards'
titles, not from our synthetic generator; every entry is a header a reader would recognise.

One place for this rule: chunking records a chunk's section titles, the offline answerer reads the
answering section's items, and the pipeline declines when no source has the section asked about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class SectionKind:
    name: str  # the kind, as shown to people: "allergies", "discharge medications"
    headers: tuple[str, ...]  # normalised header titles that open a section of this kind
    cues: re.Pattern[str]  # a question asking for this section
    # A word that must appear in the text when no section of this kind exists, for another sentence
    # to answer instead ("discharged on" in prose). None: only the section itself answers.
    prose: re.Pattern[str] | None = None


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I)


# Order matters: the first kind whose cue matches is the question's section (more specific first).
KINDS: tuple[SectionKind, ...] = (
    SectionKind(
        "discharge medications",
        (
            "discharge medications",
            "discharge medication",
            "discharge meds",
            "medications on discharge",
            "medications at discharge",
            "discharge medication list",
            "medications upon discharge",
        ),
        _rx(
            r"\b(discharge[d]?\b.{0,30}\b(medications?|meds|prescriptions?)|(medications?|meds)\b.{0,30}\bdischarge[d]?)\b"
        ),
        _rx(r"\bdischarg\w*"),
    ),
    SectionKind(
        "allergies",
        (
            "allergies",
            "allergy",
            "drug allergies",
            "medication allergies",
            "allergies and adverse reactions",
            "allergies/adverse reactions",
            "known allergies",
        ),
        _rx(r"\ballerg\w*"),
        _rx(r"\ballerg\w*|\bnkda\b"),
    ),
    SectionKind(
        "follow-up",
        (
            "follow-up",
            "followup",
            "follow up",
            "follow-up instructions",
            "follow-up appointments",
            "follow up instructions",
            "discharge instructions",
            "disposition",
            "discharge plan",
            "discharge recommendations",
        ),
        _rx(r"\bfollow[\s-]?ups?\b|\bdischarge (recommendations|instructions|plan)\b|\breturn (to|for)\b"),
        _rx(r"\bfollow[\s-]?up|\breturn|\bsee (him|her|the patient)|\bappointment"),
    ),
    SectionKind(
        "indications",
        (
            "indications",
            "indication",
            "indications for procedure",
            "indication for procedure",
            "indications for operation",
            "indication for operation",
            "indications for surgery",
            "indication for surgery",
            "indications for the procedure",
            "reason for procedure",
            "reason for exam",
            "reason for examination",
            "reason for study",
            "clinical indication",
            "clinical indications",
        ),
        _rx(
            r"\bindicat\w*|\bwhy was (the|this) (procedure|operation|surgery|study|exam)\b|\breason for the (procedure|operation|surgery|study|exam)\b"
        ),
    ),
    SectionKind(
        "findings",
        (
            "findings",
            "operative findings",
            "intraoperative findings",
            "procedure findings",
            "findings at surgery",
        ),
        _rx(r"\bfindings?\b|\bwhat did the (study|scan|exam|procedure|operation) show\b"),
    ),
    SectionKind(
        "impression",
        (
            "impression",
            "impressions",
            "clinical impression",
            "diagnostic impression",
            "conclusion",
            "conclusions",
            "interpretation",
            "summary",
        ),
        _rx(r"\bimpressions?\b|\bconclusions?\b"),
    ),
    SectionKind(
        "plan",
        (
            "plan",
            "assessment and plan",
            "assessment/plan",
            "assessment & plan",
            "impression and plan",
            "impression/plan",
            "plan of care",
            "treatment plan",
            "recommendations",
            "recommendation",
            "plan and recommendations",
        ),
        _rx(r"\b(the|treatment|management) plan\b|\bplan of care\b|\bwhat is planned\b|\brecommendations?\b"),
    ),
    SectionKind(
        "social history",
        ("social history", "social hx", "social and family history", "habits"),
        _rx(r"\bsocial (history|hx)\b"),
    ),
)
BY_NAME = {k.name: k for k in KINDS}
_HEADER_KIND = {h: k.name for k in KINDS for h in k.headers}


def normalise_title(title: str) -> str:
    """'DISCHARGE MEDICATIONS' / 'Discharge Medications' / '## Discharge medications' → one form."""
    return " ".join(re.sub(r"[#:,]+", " ", title).lower().split())


def kind_of_header(title: str | None) -> str | None:
    """The section kind a header opens, if it is one carecite knows."""
    if not title:
        return None
    return _HEADER_KIND.get(normalise_title(title))


def asked_section(question: str) -> SectionKind | None:
    """The section kind a question asks for ("What follow-up was arranged?" → follow-up), if any."""
    for kind in KINDS:
        if kind.cues.search(question):
            return kind
    return None
