"""Vital signs: which ones a question asks for, and which sentence states a value for them.

A note records vital signs wherever its author put them: under "VITAL SIGNS:", inside "PHYSICAL
EXAMINATION:" ("Blood pressure today is 182/78.") or in a SOAP note's "OBJECTIVE:" ("His weight is
164 pounds, blood pressure 108/60, pulse 88"). "What was her blood pressure?" asks for the value, so
a sentence that names blood pressure without one ("her blood pressure started to go up") does not
answer it while a sentence stating one exists.

The names are the members of LOINC's vital signs panel (85353-1 "Vital signs, weight, height, head
circumference, oxygen saturation and BMI panel": 85354-9 blood pressure with 8480-6 systolic and
8462-4 diastolic, 8867-4 heart rate, 9279-1 respiratory rate, 8310-5 body temperature, 2708-6 /
59408-5 oxygen saturation, 29463-7 body weight, 8302-2 body height, 39156-5 BMI, 9843-4 head
circumference), each with the short forms the HL7 C-CDA Vital Signs Section's narrative tables and
clinicians write for them (BP, HR, RR, temp, SpO2, wt, ht).
"""

from __future__ import annotations

import re

# Each vital sign's written names (LOINC 85353-1 members, see above), as a pattern.
VITAL_SIGNS: dict[str, re.Pattern[str]] = {
    name: re.compile(rf"\b({pattern})\b", re.I)
    for name, pattern in {
        "blood pressure": r"blood pressures?|bp|systolic|diastolic",
        "heart rate": r"heart rate|pulse|hr",
        "respiratory rate": r"respiratory rate|respirations?|resp|rr",
        "body temperature": r"temperature|temp",
        "oxygen saturation": r"oxygen saturation|o2 sat\w*|sats?|spo2|sao2|pulse ox\w*",
        "body weight": r"weight|wt",
        "body height": r"height|ht",
        "body mass index": r"body mass index|bmi",
        "head circumference": r"head circumference|ofc",
    }.items()
}
# The section's own name (C-CDA "Vital Signs Section", LOINC 8716-3), and its shorthand: all of them.
_ALL = re.compile(r"\bvital(s| signs?)\b", re.I)
# A measured value: a number, a ratio ("182/78") or a decimal ("98.6") right after the name, or after
# the words that link a name to its reading ("blood pressure today is 182/78", "pulse of 88"); not
# any number nearby ("blood pressure for the past 12-15 years").
_VALUE_AFTER = r"\W+(?:(?:is|was|were|of|today|now|currently|measured|reading|recorded|at)\W+){0,3}\d"


# Any vital sign stated with its value: the sentences a vital signs section holds, under any header.
STATES_VITAL_SIGN = re.compile(
    "(" + "|".join(p.pattern for p in VITAL_SIGNS.values()) + ")" + _VALUE_AFTER, re.I
)


def asked_vital_signs(question: str) -> frozenset[str]:
    """The vital signs a question names ("what were his vitals": all of them)."""
    if _ALL.search(question):
        return frozenset(VITAL_SIGNS)
    return frozenset(name for name, pattern in VITAL_SIGNS.items() if pattern.search(question))


def states_vital_sign(text: str, asked: frozenset[str]) -> bool:
    """Does ``text`` state a value for one of the ``asked`` vital signs ("Blood pressure today is
    182/78", "pulse 88")?"""
    return any(
        re.search(VITAL_SIGNS[name].pattern + _VALUE_AFTER, text, re.I)
        for name in asked
        if name in VITAL_SIGNS
    )
