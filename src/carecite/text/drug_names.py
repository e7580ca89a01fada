"""Drug names by terminology (issue 27: "is he still on the lovenox shots" declined).

A question names a drug by a brand ("Lovenox", "Coumadin", "EpiPen") or a synonym, while the record's
RxNorm displays use the generic name ("enoxaparin sodium 100 MG/ML Prefilled Syringe"). The
``drug-named-entity-recognition`` package ships, offline, a lexicon of drug names, brand names and
synonyms linked to MeSH / DrugBank (variant → canonical generic name); its own stop list keeps common
English words ("oxygen", "iron", "control") from being read as drugs. Measured here: loading takes
about 2.7 s once per process (a pickled lexicon), a look-up well under a millisecond.

Only single words are looked up (a question's token); the canonical name is returned as the words
the record's displays use ("Folic Acid" → "folic acid").
"""

from __future__ import annotations

import re
from functools import lru_cache
from types import ModuleType

MIN_VARIANT = 5  # shorter lexicon variants are codes and abbreviations, never a typo's target


@lru_cache(maxsize=1)
def _finder() -> ModuleType:
    """The package's finder module (its lexicon is read on import: ~2.7 s, once per process)."""
    import drug_named_entity_recognition.drugs_finder as finder

    module: ModuleType = finder
    return module


@lru_cache(maxsize=4096)
def generic_names(word: str) -> tuple[str, ...]:
    """The generic names the lexicon gives a single word, lowercased: "lovenox" → ("enoxaparin",),
    "warfarin" → ("warfarin",); () for a word that names no drug."""
    word = word.lower()
    if not word.isalpha():
        return ()
    found = _finder().find_drugs([word], is_fuzzy_match=False)
    return tuple(dict.fromkeys(str(data["name"]).lower() for data, _, _ in found if data.get("name")))


def is_drug(word: str) -> bool:
    return bool(generic_names(word))


def names_drug(text: str) -> bool:
    """Does ``text`` name a drug (a brand, generic or synonym of the lexicon: "Keppra", "Diovan")?"""
    # Candidate names, not ``terms.plain_words``: hyphenated names stay whole ("co-trimoxazole") and
    # nothing under three letters or holding a digit is looked up.
    return any(is_drug(w) for w in re.findall(r"[A-Za-z][A-Za-z-]{2,}", text))


@lru_cache(maxsize=1)
def variant_words() -> tuple[str, ...]:
    """Every single-word drug name of the lexicon (brands, generics, synonyms) of ``MIN_VARIANT``
    letters or more: the words a misspelt drug ("cumadin") is corrected toward."""
    variants: dict[str, object] = _finder().drug_variant_to_canonical
    return tuple(sorted(w for w in variants if w.isalpha() and len(w) >= MIN_VARIANT))


def warm() -> None:
    """Load the lexicon ahead of the first question."""
    generic_names("aspirin")
