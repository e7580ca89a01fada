"""The published abbreviation list (``text/abbreviations``) set against one record store: each
abbreviation's sense is chosen by the store's coded displays and the standard vocabularies the
readers use, and the words the curated readers already read are left to them."""

from __future__ import annotations

from collections.abc import Iterable

from carecite.reading.vocabulary import FHIR_STATUS_WORDS, KIND_WORDS, LAB_NAMES, SPECIALTIES, SYNONYMS
from carecite.text import drug_names, sections, shorthand
from carecite.text.abbreviations import Abbreviations
from carecite.text.drug_classes import BY_TOKEN as DRUG_CLASSES
from carecite.text.section_vocabulary import VOCABULARY as SECTION_VOCABULARY
from carecite.text.vital_signs import VITAL_SIGNS


def standard_phrases() -> list[str]:
    """The phrases of the standard and curated vocabularies the readers use: section headers
    (medSpaCy's sectionizer rules) and their categories, the record kinds' words, the specialties
    (ABMS / NUCC), the vital signs (LOINC 85353-1), the labs and their synonyms."""
    out = [
        *SECTION_VOCABULARY,
        *(c.replace("_and_", " ").replace("_", " ") for c in set(SECTION_VOCABULARY.values())),
    ]
    out += [*sections.SHORTHAND.values(), *VITAL_SIGNS, *LAB_NAMES]
    out += [w for words in KIND_WORDS.values() for w in words]
    out += [w for names, words in SPECIALTIES.values() for w in (*names, *words)]
    out += [s for said in SYNONYMS.values() for s in said]
    return out


def curated_words() -> frozenset[str]:
    """The words the curated readers read themselves (their tables' keys, the kind, status and
    specialty words, the section shorthand and header names), which the published list leaves alone."""
    words = {
        *shorthand.HANDLED,
        *SYNONYMS,
        *LAB_NAMES,
        *FHIR_STATUS_WORDS,
        *DRUG_CLASSES,
        *sections.SHORTHAND,
    }
    words |= {w for kind_words in KIND_WORDS.values() for w in kind_words}
    words |= {w for names, more in SPECIALTIES.values() for w in (*names, *more)}
    words |= {k for k in SECTION_VOCABULARY if " " not in k}
    return frozenset(words)


def for_store(displays: Iterable[str], vocabulary: frozenset[str]) -> Abbreviations:
    """The list read against a store whose coded displays are ``displays`` and whose display words
    (singular, casefolded) are ``vocabulary``: a word the store itself displays is read as written."""
    curated = curated_words()

    def known(word: str) -> bool:
        return word in curated or word in vocabulary or drug_names.is_drug(word)

    return Abbreviations([*displays, *standard_phrases()], known, name_words=vocabulary)
