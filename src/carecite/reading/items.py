"""The items a question names, and whether a text names them.

A question's words are tokenised (``tokens``: two-word names are one token), read with their curated
synonyms, drug classes and generic names (``naming_groups``), and told apart as terms a terminology
knows (``is_term``) or context. Record texts are tokenised and matched by the same rules
(``names_item``, ``naming_count``), so a question and a row name an item alike.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from carecite.reading.vocabulary import (
    LAB_NAMES,
    QUALIFIERS,
    SPECIMENS,
    SYNONYMS,
    is_generic,
    specialty_words,
)
from carecite.text import drug_names
from carecite.text.drug_classes import BY_TOKEN as DRUG_CLASSES
from carecite.text.drug_classes import members as drug_class_members
from carecite.text.drug_classes import read_classes
from carecite.text.terms import NEGATIONS, STOP_WORDS, plain_words, singular
from carecite.text.vital_signs import VITAL_SIGNS

# A negation is content here as in verification: "not started" asks for the activities not started.
NOT_CONTENT = STOP_WORDS - NEGATIONS
# "plan of care" is the care plan; "right now" is now (not laterality: "right knee" stays right).
# "type 2 diabetes management plan" names a care plan as SNOMED CT titles them ("Diabetes self
# management plan").
_PLAN_OF_CARE = re.compile(r"\bplans?[\s-]+of[\s-]+care\b|\bmanagement[\s-]+plans?\b")
_RIGHT_NOW = re.compile(r"\bright[\s-]+now\b")
# "the telephone encounter note", "her last visit note": a note, named by its encounter; the words do
# not ask for the encounter or visit rows themselves.
_ENCOUNTER_NOTE = re.compile(r"\b(?:encounter|visit)\s+(notes?)\b")
# "these days", "nowadays": what is current ("How much furosemide is he taking these days?"), never an
# item named "days".
_NOWADAYS = re.compile(r"\b(?:these days|nowadays|at the moment|at present)\b")
_BLOOD_GLUCOSE = re.compile(r"\bblood[\s-]+(?:glucose|sugar)\b")
# "Hep B" / "hepatitis B" vaccines differ only by a letter the tokeniser would drop: one token each.
_HEP = re.compile(r"\bhep(?:atitis)?[\s-]*([abc])\b")


# The vital signs of LOINC's panel (85353-1), by their multi-word names (``text/vital_signs``), each
# read as one token: "heart rate" → "heartrate".
_VITAL_WORDS = {name.replace(" ", ""): frozenset(name.split()) for name in VITAL_SIGNS if " " in name}
VITAL_TOKENS = frozenset(_VITAL_WORDS)
_VITAL_ORDER = {joined: i for i, joined in enumerate(_VITAL_WORDS)}
_VITAL_NAME = re.compile(
    r"\b(" + "|".join(name.replace(" ", r"[\s-]+") for name in VITAL_SIGNS if " " in name) + r")\b"
)


def _vital_alternatives() -> dict[str, tuple[frozenset[str], ...]]:
    """Each multi-word vital sign's other written names, as the vital-sign table writes them ("BP",
    "systolic" for blood pressure; "HR" for heart rate): the plain words among its alternatives, less
    any word another sign is also written with ("pulse" is in "pulse ox", an oxygen saturation)."""
    plain = {
        name: [a for a in pattern.pattern.strip(r"\b()").split("|") if re.fullmatch(r"[a-z0-9 ]+", a)]
        for name, pattern in VITAL_SIGNS.items()
    }
    written = {name: set(re.findall(r"[a-z0-9]+", pattern.pattern)) for name, pattern in VITAL_SIGNS.items()}
    out: dict[str, tuple[frozenset[str], ...]] = {}
    for name, alternatives in plain.items():
        if " " not in name:
            continue
        elsewhere = set().union(*(w for other, w in written.items() if other != name))
        alts = [a for a in alternatives if " " not in a and a not in elsewhere]
        out[name.replace(" ", "")] = tuple(frozenset({a}) for a in [name.replace(" ", ""), *alts])
    return out


VITAL_ALTERNATIVES = _vital_alternatives()


def _vital_parts(said: Sequence[str]) -> frozenset[str]:
    """A vital sign named whole is one item: its words name nothing apart ("heart" of "heart rate")."""
    return frozenset(w for tok in said if tok in _VITAL_WORDS for w in _VITAL_WORDS[tok])


def tokens(text: str) -> list[str]:
    # Two-word names are one token: "care plan" is a CarePlan, "care coordination tasks" are tasks.
    lowered = re.sub(
        r"\bcare[\s-]+plans?\b",
        "careplan",
        read_classes(text.lower()).replace("follow-up", "followup").replace("no-show", "noshow"),
    )
    lowered = _PLAN_OF_CARE.sub("careplan", _NOWADAYS.sub("now", _RIGHT_NOW.sub("now", lowered)))
    lowered = _BLOOD_GLUCOSE.sub("glucose", lowered)  # blood is the default specimen
    lowered = _ENCOUNTER_NOTE.sub(r"\1", lowered)
    words = plain_words(_HEP.sub(r"hep\1", lowered))
    # A vital sign's two- or three-word name is one item as well as its words: "heart rate" is no
    # "heart" item (the heart-failure medicines), and a row names it only by naming it whole.
    named = {re.sub(r"[\s-]+", "", m.group(1)) for m in _VITAL_NAME.finditer(lowered)}
    return words + sorted(named, key=_VITAL_ORDER.__getitem__)


def record_terms(text: str, *, asked: bool = False) -> frozenset[str]:
    """The words of a question or a record statement with their curated synonyms ("A1c" is also
    "HbA1c"), for the lexical part of a record's score. ``asked``: the text is a question, whose
    vital sign named whole asks for nothing by its words apart (a row's "Body Height" keeps them,
    so "last height" still meets it)."""
    out: set[str] = set()
    said = tokens(text)
    parts = _vital_parts(said) if asked else frozenset()
    for tok in said:
        if tok in NOT_CONTENT or len(tok) < 2 or tok in parts:
            continue
        out.add(tok)
        out.update(SYNONYMS.get(tok, ()))
        out.update(specialty_words(tok))  # a specialty by name is its words too, as a synonym is
    return frozenset(out)


# One group per word the question names the item with: its alternatives, each a phrase (a set of words
# that must all appear). "BMI" is {bmi} or {body, mass, index}; never "body" alone.
Group = tuple[frozenset[str], ...]


def naming_groups(question: str, vocabulary: frozenset[str] | None = None) -> tuple[Group, ...]:
    """The words that say WHICH item a question names, each with its curated synonyms.

    "most recent hemoglobin A1c" → ({hemoglobin}, {a1c} | {hba1c} | {glycated, hemoglobin}). A row
    names the same item only when every group has an alternative in the row ("hemoglobin" alone is
    not "hemoglobin A1c"). Placeholders of scrubbed identifiers ("[PATIENT]") are stop words.
    ``vocabulary``: the words that name things in this record store (coded displays); a question
    word outside it and outside the curated tables ("checked", "parts") names nothing.
    """
    return tuple(g for _, g in named_tokens(question, vocabulary))


def term_groups(question: str, vocabulary: frozenset[str] | None = None) -> tuple[Group, ...]:
    """The naming groups of the words a terminology knows (``is_term``)."""
    return tuple(g for tok, g in named_tokens(question, vocabulary) if is_term(tok))


def synonyms(tok: str) -> tuple[str, ...]:
    """A word's curated synonyms ("kidneys" as "kidney"), with those of a synonym that has its own
    ("kidney": eGFR, which LOINC displays write "glomerular filtration")."""
    said = SYNONYMS.get(tok) or SYNONYMS.get(singular(tok), ())
    return tuple(dict.fromkeys((*said, *(w for syn in said for w in SYNONYMS.get(syn, ())))))


def named_tokens(question: str, vocabulary: frozenset[str] | None) -> list[tuple[str, Group]]:
    groups: dict[str, Group] = {}
    said = tokens(question)
    parts = _vital_parts(said)
    for tok in said:
        if tok in VITAL_ALTERNATIVES:
            groups[tok] = VITAL_ALTERNATIVES[tok]
            continue
        if tok in parts or tok in NOT_CONTENT or len(tok) < 2 or is_generic(tok) or tok in groups:
            continue
        if vocabulary is not None and not is_known(tok, vocabulary):
            continue
        alts = [frozenset({singular(tok)})]
        alts += [frozenset(singular(w) for w in syn.split()) for syn in synonyms(tok)]
        alts += [frozenset({singular(m)}) for m in drug_class_members(tok)]  # a class: any member
        alts += [frozenset({singular(w)}) for w in specialty_words(tok)]  # a specialty: its words too
        # A brand or synonym by its generic name, as RxNorm displays write it ("lovenox": enoxaparin).
        # A combination by all its parts, as the display lists them ("buprenorphine/naloxone",
        # "fluticasone and salmeterol": the display has no "and").
        alts += [
            frozenset(singular(w) for w in plain_words(g) if w not in NOT_CONTENT)
            for g in drug_names.generic_names(tok)
        ]
        groups[tok] = tuple(dict.fromkeys(alts))
    return list(groups.items())


def is_term(tok: str) -> bool:
    """Does a terminology name an item by this word: a lab or vital (LAB_NAMES, the curated
    abbreviations), a specimen, a drug class, a drug by the drug lexicon, an imaging procedure? A word
    known only from the store's displays ("function", "doing") is context: it ranks, never required."""
    return (
        tok in SYNONYMS
        or singular(tok) in SYNONYMS
        or tok in LAB_NAMES
        or tok in SPECIMENS
        or tok in DRUG_CLASSES
        or drug_names.is_drug(tok)
        or tok in VITAL_TOKENS
    )


def is_known(tok: str, vocabulary: frozenset[str]) -> bool:
    return is_term(tok) or singular(tok) in vocabulary


def names_item(groups: Sequence[Group], text: str, *, qualified: bool = False) -> bool:
    """Does ``text`` name the item? ``qualified``: also refuse a text that names a qualifier (LDL,
    A1c, percentile) the question did not ask for (for coded observation names)."""
    words = {singular(w) for w in tokens(text)}
    if not groups or not all(any(alt <= words for alt in g) for g in groups):
        return False
    if qualified:
        asked = set().union(*(alt for g in groups for alt in g))
        return not any(q <= words and not q <= asked for q in QUALIFIERS)
    return True


def naming_count(
    groups: Sequence[Group], required: Sequence[Group], text: str, *, qualified: bool = False
) -> int:
    """How many of the question's naming groups ``text`` names when it names the item, else 0.

    With terms a terminology knows (``required``), the text names the item when it names one of them
    and every qualifier asked ("LDL", "A1c", a specimen); context words ("kidneys doing") only add to
    the count the best-named rows are chosen by. Without such terms every group must be named.
    ``qualified``: also refuse a text naming a qualifier the question did not ask for."""
    words = {singular(w) for w in tokens(text)}
    named = [g for g in groups if any(alt <= words for alt in g)]
    if not named:
        return 0
    if required:
        asked_qualifiers = [g for g in required if any(alt in QUALIFIERS for alt in g)]
        ok = any(g in named for g in required) and all(g in named for g in asked_qualifiers)
    else:
        ok = len(named) == len(groups)
    if not ok:
        return 0
    if qualified:
        asked = set().union(*(alt for g in groups for alt in g))
        if any(q <= words and not q <= asked for q in QUALIFIERS):
            return 0
    return len(named)
