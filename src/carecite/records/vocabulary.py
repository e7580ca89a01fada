"""The record's own clinical vocabulary: the words of the code displays as ingested.

SNOMED CT, LOINC, RxNorm and CVX displays ("Albuterol 0.09 MG/ACTUAT Metered Dose Inhaler",
"Hemoglobin A1c/Hemoglobin.total in Blood") name clinical things, never people. Pseudonymisation
keeps a detected "name" whose every word is one of these, so a drug or a device is not sent to an
LLM as ``[PERSON_1]``. Words of a patient's own name are excluded by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session

from carecite.records.directory import DISPLAYS

_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{2,}")


def display_words(engine: Engine) -> frozenset[str]:
    """Casefolded words (three letters or more) of every distinct code display in the record.

    Read from the directory view (records/directory.py): displays only, across patients, so the
    application role needs no row scope for it on PostgreSQL."""
    return words_of(display_texts(engine))


def words_of(displays: Iterable[str]) -> frozenset[str]:
    """The casefolded words (three letters or more) of ``displays``."""
    return frozenset(w.casefold() for display in displays for w in _WORD.findall(display))


def display_texts(engine: Engine) -> tuple[str, ...]:
    """Every distinct code display in the record, as ingested (the phrases an abbreviation's sense is
    chosen against: "Heart rate", "Potassium [Moles/volume] in Serum or Plasma")."""
    with Session(engine) as session:
        return tuple(d for d in session.execute(sa.select(DISPLAYS.c.display)).scalars() if d)
