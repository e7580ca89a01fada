"""Typing slips in a question, corrected once before anything reads it (issue 27: "Typos and shorthand").

"wat were the dischrage recomendations" scored 0.04 against the discharge summary itself: every reader
downstream (section match, structured kinds, BM25) compares words, and a misspelt word matches
nothing. This module corrects only words that no vocabulary knows, toward the nearest word that one
does, by optimal-string-alignment distance (a transposition is one edit: "dischrage" → "discharge"):

- the **domain vocabulary** first: the words of the store's own coded displays (RxNorm, SNOMED CT,
  LOINC, CVX as ingested) and the record kinds' words, so "rechek" → "recheck" and a misspelt drug
  reaches the drug the store knows;
- then a **published English word-frequency list**: SymSpell's 82,765-word dictionary (built from
  Google Books Ngram counts), shipped inside the ``symspellpy`` wheel and read from there, so
  "hosptial" → "hospital"; the more frequent word wins a tie.

A word is never changed when either list knows it, when it is short (≤ 3 letters: abbreviations such
as "pt", "hx", "inr"), when it is written with a capital inside the question (a name or an acronym:
"Dennis", "INR"), when it holds a digit, or when it is one of ``keep`` (the selected patient's name
words), or when it is an inflection of a known word ("stressors", "titrated"). Nothing here knows any
question of any set: the distances and lists decide.
"""

from __future__ import annotations

import importlib.resources
import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from carecite.text.terms import singular

# A word as typed: letters, with inner apostrophes ("she's"); digits make a token a code, never a typo.
_WORD = re.compile(r"[A-Za-z][A-Za-z']*[A-Za-z]|[A-Za-z]")
MIN_LEN = 4  # shorter tokens are abbreviations far more often than slips
DICTIONARY = "frequency_dictionary_en_82_765.txt"
# Domain words rank above any English word at the same distance: the store names what is asked about.
DOMAIN_COUNT = 10**12
_INFLECTIONS = ("s", "es", "ed", "d", "ing", "ly")


@lru_cache(maxsize=1)
def english() -> Mapping[str, int]:
    """The published word-frequency list, word → count (read once per process, ~60 ms)."""
    text = (importlib.resources.files("symspellpy") / DICTIONARY).read_text(encoding="utf-8")
    out: dict[str, int] = {}
    for line in text.splitlines():
        word, _, count = line.partition(" ")
        if word:
            out[word] = int(count or 0)
    return out


def max_edits(word: str) -> int:
    """One slip in a short word, two in a long one (SymSpell's and most spellers' default bound)."""
    return 1 if len(word) <= 5 else 2


@dataclass(frozen=True)
class Corrected:
    text: str
    fixes: tuple[tuple[str, str], ...] = ()  # (as typed, as read), in question order


@dataclass
class Speller:
    """Corrects a question against ``domain`` (the store's words) and the English list."""

    domain: frozenset[str]
    _english: Mapping[str, int] = field(default_factory=english, repr=False)
    # Drug names of a terminology (brands and generics, ``text/drug_names.py``): a misspelt drug
    # ("cumadin") is read as the nearest one ("coumadin") when no English word is nearer.
    drugs: tuple[str, ...] = ()
    _domain_list: list[str] = field(init=False, repr=False)
    _english_list: list[str] = field(init=False, repr=False)
    _drug_set: frozenset[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.domain = frozenset(w.lower() for w in self.domain if len(w) >= MIN_LEN and w.isalpha())
        self._domain_list = sorted(self.domain)
        self._english_list = [w for w in self._english if len(w) >= MIN_LEN - 1]
        self._drug_set = frozenset(self.drugs)

    def known(self, word: str) -> bool:
        """Known as written or as an inflection of a known word: a plural, a past or a gerund
        ("stressors", "titrated") is no slip, even where the list holds only the stem."""
        forms = {word, singular(word), *(word[: -len(end)] for end in _INFLECTIONS if word.endswith(end))}
        if word in self._drug_set:
            return True
        return any(f in self.domain or f in self._english for f in forms if len(f) >= MIN_LEN - 1)

    def suggest(self, word: str) -> str | None:
        """The nearest known word within ``max_edits``; the domain's first, then the nearer of a drug
        name and an English word (the most frequent English word on a tie)."""
        limit = max_edits(word)
        if (domain := _nearest(word, self._domain_list, limit)) is not None:
            return domain[1][0]
        english = _nearest(word, self._english_list, limit)
        drug = _nearest(word, self.drugs, limit) if self.drugs else None
        if drug is not None and (english is None or drug[0] < english[0]):
            return min(drug[1])
        if english is not None:
            return max(english[1], key=lambda w: self._english.get(w, 0))
        return None

    def started(self, word: str) -> list[str]:
        """The domain words ``word`` is the start of, two letters or more short of them: clinicians
        shorten by truncation ("creat", "dispo", "pulm"), and a truncation is no typing slip."""
        at = bisect_left(self._domain_list, word)
        out: list[str] = []
        for w in self._domain_list[at:]:
            if not w.startswith(word):
                break
            if len(w) >= len(word) + 2:
                out.append(w)
        return out

    def correct(self, question: str, keep: Iterable[str] = ()) -> Corrected:
        keep_words = {w.lower() for w in keep}
        out: list[str] = []
        fixes: list[tuple[str, str]] = []
        last = 0
        for m in _WORD.finditer(question):
            typed = m.group(0)
            word = typed.lower()
            if (
                len(word) < MIN_LEN
                or "'" in word
                or (typed != word and m.start() > 0)  # a capital inside the question: a name, an acronym
                or word in keep_words
                or self.known(word)
            ):
                continue
            starts = self.started(word)
            if len(starts) > 1:
                continue  # the start of several domain words: clinical shorthand ("dispo"), no slip
            fixed = starts[0] if starts else self.suggest(word)
            if fixed is None or fixed == word:
                continue
            out.append(question[last : m.start()])
            out.append(fixed.capitalize() if typed[0].isupper() else fixed)
            last = m.end()
            fixes.append((typed, fixed))
        if not fixes:
            return Corrected(question)
        out.append(question[last:])
        return Corrected("".join(out), tuple(fixes))


def _nearest(word: str, choices: Sequence[str], limit: int) -> tuple[int, list[str]] | None:
    """The least distance within ``limit`` and the choices at it, or None."""
    found = process.extract(word, choices, scorer=OSA.distance, score_cutoff=limit, limit=None)
    if not found:
        return None
    best = min(d for _, d, _ in found)
    return best, [w for w, d, _ in found if d == best]
