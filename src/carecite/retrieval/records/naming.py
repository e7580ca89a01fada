"""Which of a patient's rows name what the question names: counts of the question's naming groups a
row's coded name holds, the best-named rows of a kind, and one item per named quantity.
"""

from __future__ import annotations

from collections.abc import Sequence

from carecite.reading.intent import NAMED_KINDS, Intent
from carecite.reading.items import Group, naming_count, tokens
from carecite.retrieval.records.statement import Statement, loinc_component, loinc_quantity
from carecite.text import drug_names
from carecite.text.terms import singular


def names_asked(intent: Intent, s: Statement) -> bool:
    """Does the row's coded name name what the question names (qualifiers checked for labs)?"""
    return bool(intent.naming) and named_count(intent, s.name, s.kind) > 0


def named_count(intent: Intent, name: str, kind: str) -> int:
    if kind == "Observation":  # a lab is named by its quantity, never by its method
        return naming_count(intent.naming, intent.required, loinc_quantity(name), qualified=True)
    if kind == "MedicationRequest":  # a brand display ("Camila 28 Day Pack") by its generic names too
        name = " ".join((name, *(g for w in tokens(name) for g in drug_names.generic_names(w))))
    return naming_count(intent.naming, intent.required, name)


def best_named(
    intent: Intent, names: Sequence[tuple[str, str]], kind: str
) -> frozenset[tuple[str, str]] | None:
    """Of the (display, code) pairs of a kind's rows, those that name the asked item best: the most
    naming groups named, then the tightest display (a LOINC display names one quantity: "Hemoglobin
    [Mass/volume] in Blood" for "hemoglobin", not a longer one), every display of a code kept (one
    LOINC code is one quantity, whatever display it was ingested with). None when no row names it."""
    if not intent.naming:
        return None
    counts = {pair: named_count(intent, pair[0], kind) for pair in set(names)}
    named = {pair: n for pair, n in counts.items() if n > 0}
    if not named:
        return None
    most = max(named.values())
    best = [pair for pair, n in named.items() if n == most]
    if kind != "Observation":
        return frozenset(best)

    def size(display: str) -> int:
        return len(tokens(loinc_component(display)))

    tight = min(size(display) for display, _ in best)
    codes = {code for display, code in best if size(display) == tight}
    return frozenset(pair for pair in best if pair[1] in codes or size(pair[0]) == tight)


# The patient's work, whose rows name what they are about in free words (a task's description).
WORK_ROWS = frozenset({"Task", "ServiceRequest", "Appointment", "CarePlanActivity"})


def named_text(s: Statement) -> str:
    """What names a row: a coded row by its coded name, a work row by all its words."""
    return s.name if s.kind in NAMED_KINDS else s.text


def named_hits(intent: Intent, text: str, groups: Sequence[Group] | None = None) -> int:
    """How many of ``groups`` (the question's naming groups) ``text`` names."""
    words = {singular(w) for w in tokens(text)}
    return sum(1 for g in (intent.naming if groups is None else groups) if any(alt <= words for alt in g))


def named_key(intent: Intent, display: str) -> str:
    """One item per set of naming groups a lab's quantity names: eGFR under any LOINC code or display
    is one quantity ("most recent" is the newest of them), a creatinine beside it another."""
    words = {singular(w) for w in tokens(loinc_quantity(display))}
    named = [str(i) for i, g in enumerate(intent.naming) if any(alt <= words for alt in g)]
    return "\0named " + " ".join(named)


def tightest(statements: list[Statement], intent: Intent) -> list[Statement]:
    """Among rows of a named kind that name the asked item, only the best-named (``best_named``)."""
    if not intent.naming:
        return statements
    drop: set[str] = set()
    # A work row that names more of the question than a named row does (``_better_named_work``).
    work_best = max((named_hits(intent, s.text) for s in statements if s.kind in WORK_ROWS), default=0)
    for s in statements:
        if s.kind in intent.named_kinds and names_asked(intent, s) and named_hits(intent, s.name) < work_best:
            drop.add(s.ref)
    for kind in intent.named_kinds:
        rows = [s for s in statements if s.kind == kind]
        keep = best_named(intent, [(s.name, "") for s in rows], kind) if kind != "Observation" else None
        if keep is not None:
            drop |= {s.ref for s in rows if (s.name, "") not in keep}
    return [s for s in statements if s.ref not in drop]
