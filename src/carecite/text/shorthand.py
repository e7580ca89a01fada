"""Clinical shorthand in a question, written out once before anything reads it.

Coordinators and nurses type the way they chart: "this pt's last INR", "f/u after d/c", "did she
make her BH appt?". Every later reader of the question (intent, the section cues, the term
extractor, the structured retriever's naming groups, BM25, the prompt) would otherwise need its own
copy of each abbreviation. The table is small and curated from the abbreviations of common clinical
use (the kind listed in hospital abbreviation policies), not from any question set.

An abbreviation with two common meanings is written out only where its context says which one:

- "pt" is the patient when it is possessive ("pt's"), opens the question ("Pt has ..."), or follows
  an article ("this pt", "the pt") and is not followed by what physical therapy has (a referral,
  an eval, sessions, "/INR"); "PT" in capitals, "started pt" and "pt referral" stay as typed
  (physical therapy, prothrombin time: the retriever's synonyms read them);
- "d/c" is discharge only in discharge phrases ("at/after/post d/c", "d/c summary/meds/
  instructions/home"); elsewhere ("Which meds were d/c?", "d/c the metformin") it may be
  discontinue, and stays as typed.

A disease abbreviation is replaced by its words ("CHF" → "heart failure"), not kept beside them: a
coverage question must name nothing its policy does not speak of, and policies spell diseases out.
Notes that keep the abbreviation are still found by meaning (the dense retriever).
"""

from __future__ import annotations

import re

_I = re.I
_PT_NOT_PATIENT = (
    r"(?!\s*(?:/|referral|eval\w*|consult\w*|sessions?|visits?|appts?|appointments?|orders?|therap\w*))"
)
_DISCHARGE_NOUNS = (
    r"summary|meds|medications?|instructions?|home|date|plan|paperwork|papers|recommendations?|diagnosis"
)
# (pattern, replacement). Case-sensitive patterns are the ones whose case tells meanings apart.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b[Pp]t(?=['’]s\b)"), "patient"),
    (re.compile(r"^Pt\b" + _PT_NOT_PATIENT), "Patient"),
    (re.compile(r"\b(the|this|that|a|our|my|per)\s+pt(s?)\b" + _PT_NOT_PATIENT, _I), r"\1 patient\2"),
    (re.compile(r"\bpost-?d/c\b", _I), "after discharge"),
    (re.compile(r"\b(at|after|on|upon|before|since|from|prior to|day of)\s+d/c\b", _I), r"\1 discharge"),
    (re.compile(rf"\bd/c\s+(?=(?:{_DISCHARGE_NOUNS})\b)", _I), "discharge "),
    (re.compile(r"\bf/u\b", _I), "follow-up"),
    (re.compile(r"\bappt\b", _I), "appointment"),
    (re.compile(r"\bappts\b", _I), "appointments"),
    (re.compile(r"\bw/o\b", _I), "without"),
    # "w/ CKD", "w/CKD"; never "w/u" (workup) or "w/in" (within).
    (re.compile(r"\bw/(?:\s+|(?=[A-Za-z]{3}))", _I), "with "),
    (re.compile(r"\bhx\b", _I), "history"),
    (re.compile(r"\bdx['’]?d\b", _I), "diagnosed"),
    (re.compile(r"\bdx\b", _I), "diagnosis"),
    (re.compile(r"\bBH\b"), "behavioral health"),
    # "congestive" is not written: a coded "Heart failure with reduced ejection fraction" is CHF too.
    (re.compile(r"\bC?HF\b"), "heart failure"),
    (re.compile(r"\b(?:T2DM|DM2|DM ?II)\b"), "type 2 diabetes"),
    (re.compile(r"\bDM\b"), "diabetes"),
    (re.compile(r"\bHTN\b"), "hypertension"),
    (re.compile(r"\bCKD\b"), "chronic kidney disease"),
    (re.compile(r"\b(?:O2 sats?|pulse ox)\b", _I), "oxygen saturation"),
    (re.compile(r"\brehab\b", _I), "rehabilitation"),
    # Medicare's names for diabetes education ("DSMT classes").
    (re.compile(r"\bDSMT\b"), "diabetes self-management training"),
    (re.compile(r"\bDSMES?\b"), "diabetes self-management education"),
)

# The abbreviations the rules above read, in any case: the published list (``text/abbreviations``)
# leaves them to these rules, including where a rule leaves one as typed ("PT", "d/c": two meanings).
HANDLED = frozenset(
    "pt pts d/c f/u appt appts w/o w hx dx bh chf hf t2dm dm2 dm htn ckd o2 rehab dsmt dsme dsmes".split()
)


def write_out(question: str) -> str:
    """The question with its clinical shorthand written out ("pt's last BH appt" → "patient's last
    behavioral health appointment"); anything else unchanged."""
    for pattern, words in _RULES:
        question = pattern.sub(words, question)
    return question
