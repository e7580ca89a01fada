"""Clinical shorthand in a question, written out once before anything reads it.

Coordinators and nurses type the way they chart: "this pt's last INR", "f/u after d/c", "did she
make her BH appt?". Every later reader of the question (intent, the section cues, the term
extractor, the structured retriever's naming groups, BM25, the prompt) would otherwise need its own
copy of each abbreviation. The table is small and curated from the abbreviations of common clinical
use (the kind listed in hospital abbreviation policies), not from any question set; an abbreviation
with two common meanings is written out only where its context says which one:

- "pt" (lower case, as typed for the patient) is the patient; "PT" stays as typed (physical
  therapy, prothrombin time: the retriever's synonyms read it);
- "d/c" is discharge, except as a verb on a drug ("d/c'd", "d/c the metformin": discontinue).
"""

from __future__ import annotations

import re

_FLAGS_CASELESS = re.I
# (pattern, replacement). Case-sensitive patterns are the ones whose case tells meanings apart.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b[Pp]t(s?)\b"), r"patient\1"),
    (re.compile(r"\bpost-?d/c\b", _FLAGS_CASELESS), "after discharge"),
    # "d/c'd" and "d/c the <drug>" are discontinue; left as typed.
    (
        re.compile(r"\bd/c\b(?!'?d\b)(?!\s+(?:the|her|his|their|this|that|it)\b)", _FLAGS_CASELESS),
        "discharge",
    ),
    (re.compile(r"\bf/u\b", _FLAGS_CASELESS), "follow-up"),
    (re.compile(r"\bappt\b", _FLAGS_CASELESS), "appointment"),
    (re.compile(r"\bappts\b", _FLAGS_CASELESS), "appointments"),
    (re.compile(r"\bw/o\b", _FLAGS_CASELESS), "without"),
    (re.compile(r"\bw/\s*(?=\w)", _FLAGS_CASELESS), "with "),
    (re.compile(r"\bhx\b", _FLAGS_CASELESS), "history"),
    (re.compile(r"\bdx\b", _FLAGS_CASELESS), "diagnosis"),
    (re.compile(r"\bBH\b"), "behavioral health"),
    (re.compile(r"\bCHF\b"), "congestive heart failure"),
    (re.compile(r"\bHF\b"), "heart failure"),
    (re.compile(r"\b(?:T2DM|DM2|DM ?II)\b"), "type 2 diabetes"),
    (re.compile(r"\bDM\b"), "diabetes"),
    (re.compile(r"\bHTN\b"), "hypertension"),
    (re.compile(r"\bCKD\b"), "chronic kidney disease"),
    (re.compile(r"\b(?:O2 sats?|pulse ox|sats)\b", _FLAGS_CASELESS), "oxygen saturation"),
    (re.compile(r"\brehab\b", _FLAGS_CASELESS), "rehabilitation"),
    (re.compile(r"\bglucometers?\b", _FLAGS_CASELESS), "blood glucose monitor"),
)


def write_out(question: str) -> str:
    """The question with its clinical shorthand written out ("pt's last BH appt" → "patient's last
    behavioral health appointment"); anything else unchanged."""
    for pattern, words in _RULES:
        question = pattern.sub(words, question)
    return question
