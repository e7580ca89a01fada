"""The one term toolkit: how every stage turns text into words it can compare.

Structured retrieval (which record a question names), re-ranking (how much of the question a sentence
holds) and verification (does the source support the claim) all read words through this module:

- ``STOP_WORDS``: function words, and the words a question or a record uses about itself ("tell me",
  "please list", "currently", "documented in the record"). They never name or support anything.
- ``words``: lower-cased tokens; a code, a decimal, a time or an ISO date stays one token ("pt/inr",
  "98.6", "10:30", "2026-09-19"), a hyphen otherwise splits ("follow-up" is "follow up").
- ``singular``: the plural stripper names and ranking share ("therapies" = "therapy").
- ``stem``: the cruder suffix stripper verification uses ("scheduled" = "schedule").
- ``content_words``: the stop-word-free singular words of a text, in order (re-ranking's features).
- ``content_terms``: the set verification compares: stems, numbers written as digits, negations as
  "not" (a negation is content: "no chest pain" never supports "chest pain"), and words of time,
  order and direction (``CLAIM_WORDS``: "before" is not "after").

``STOP_WORDS`` holds "no" and "not" for ranking; every other reader keeps negations as content.

Record names are tokenised by ``carecite.reading.items.tokens``, which splits every
punctuation mark ("PT/INR" names PT and INR) and joins the clinical two-word names first.
"""

from __future__ import annotations

import re
from functools import lru_cache

STOP_WORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing done down during each either few for from further
    get gets getting give got had has have having he her here hers him his how i if in into is it its
    itself just list may me might more most must my neither no nor not now of off on once only onto or
    other our out over own per please same shall she should show shows so some such tell than that the
    their them then there these they this those through to too under until up us very via was we were
    what when where which while who whom whose why will with would yes you your
    still current currently patient patients patient's s
    according source sources record records note notes document documented states stated listed""".split()
)
# In a claim, words of time, order, direction and state are content: "stopped before surgery" is not
# "stopped after surgery", "A1c above 7" not "below 7" (a question's "currently" or "tell me" only asks).
CLAIM_WORDS = frozenset(
    "above after again against because before below between current currently doing down during few "
    "further get gets getting give got itself just list now off once out patient's please still tell "
    "through too until up while".split()
)
# "pt" is the patient in a note ("Pt tolerated the procedure") but physical therapy in a question
# naming a service: verification drops it, matching and ranking keep it.
_CLAIM_STOP = (STOP_WORDS - CLAIM_WORDS) | {"pt"}
# Negations matter clinically; they are content, never stop words.
NEGATIONS = frozenset({"no", "not", "never", "without", "denies", "denied", "negative"})
NUMBER_WORDS = {
    "zero": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "once": "1",
    "twice": "2",
}
# Hyphens split words ("follow-up" = "follow up") but not ISO dates.
WORD = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|[a-z0-9]+(?:[.'/:][a-z0-9]+)*", re.I)
_SUFFIXES = ("ations", "ation", "ings", "ing", "edly", "ed", "ies", "es", "s", "ly")


def words(text: str) -> list[str]:
    return WORD.findall(text.lower())


# The plain word tokenizer: lowercase runs of letters and digits, every other character a separator
# ("follow-up" → follow, up; "Hep B" → hep, b; "2026-11-01" → 2026, 11, 01). ``words`` differs on
# purpose: it keeps ISO dates and dotted, slashed or elided compounds ("b.i.d.", "don't") whole, as
# verification and section matching compare them.
PLAIN_WORD = re.compile(r"[a-z0-9]+")


def plain_words(text: str) -> list[str]:
    """``text``'s plain words (``PLAIN_WORD``), lowercased, in order."""
    return PLAIN_WORD.findall(text.lower())


def singular(word: str) -> str:
    """A deliberately tiny plural stripper: "cells" = "cell", "therapies" = "therapy"; "glass",
    "virus", "diagnosis" stay whole."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def stem(word: str) -> str:
    """A deliberately crude suffix stripper: enough to match "scheduled" with "schedule"."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    # "schedule" and "scheduled" meet at "schedul"
    return word[:-1] if word.endswith("e") and len(word) >= 5 else word


def content_words(text: str) -> list[str]:
    """Stop-word-free, singular words in text order (numbers and codes kept whole)."""
    return [singular(w) for w in words(text) if w not in STOP_WORDS]


@lru_cache(maxsize=16_384)
def content_word_tuple(text: str) -> tuple[str, ...]:
    """``content_words`` of a text that recurs across questions (a patient's notes, a payer's
    policies): each is tokenised once."""
    return tuple(content_words(text))


_POSSESSIVE = re.compile(r"['’]s$")


def content_terms(text: str) -> set[str]:
    """Stemmed content words and normalised numbers; stop words dropped, negations kept as "not"."""
    out: set[str] = set()
    for word in words(text):
        raw = _POSSESSIVE.sub("", word)  # "patient's" is "patient": the clitic is no part of the word
        if raw in NUMBER_WORDS:
            out.add(NUMBER_WORDS[raw])
        elif raw in NEGATIONS:
            out.add("not")
        elif raw not in _CLAIM_STOP and (len(raw) > 1 or raw.isdigit()):
            out.add(raw if any(ch.isdigit() for ch in raw) else stem(raw))
    return out
