"""The security-label part of the access filter as ONE indexed condition per store.

"The source carries no disallowed label" used to be one condition per sensitive label
(``lbl_PSY == False AND lbl_HIV == False ...``); Chroma evaluates each as a scan over the whole
collection. Instead every source stores one *access key*: its patient key plus the sorted set of
the sensitive labels it carries (``"pk_…#HIV|PSY"``, ``"pk_…#"`` when none). A filter allows a
source exactly when its access key is one of the finitely many keys the filter allows: the
patient's key joined with every subset of the allowed sensitive labels. Patient and labels become
one ``$in`` over an indexed field: each value is an index lookup that only touches that patient's
sources. Non-sensitive codes (anything outside ``SENSITIVE_LABELS``) never restrict access, so they
are not part of the key.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from itertools import combinations

from carecite.domain import SENSITIVE_LABELS, RetrievalFilter

SEPARATOR = "#"


def label_set(labels: Iterable[str]) -> str:
    """The canonical sensitive-label set of a source: ``SENSITIVE_LABELS`` order, "|"-joined."""
    present = set(labels)
    return "|".join(label for label in SENSITIVE_LABELS if label in present)


def access_key(patient_key: str | None, labels: Iterable[str]) -> str:
    return f"{patient_key or ''}{SEPARATOR}{label_set(labels)}"


@lru_cache(maxsize=64)
def allowed_label_sets(allowed: frozenset[str]) -> tuple[str, ...]:
    """Every label set a source may carry and still be allowed: the subsets of the allowed
    sensitive labels (at most 2^9 = 512 strings, computed once per distinct scope)."""
    usable = [label for label in SENSITIVE_LABELS if label in allowed]
    return tuple("|".join(combo) for size in range(len(usable) + 1) for combo in combinations(usable, size))


def allowed_access_keys(flt: RetrievalFilter) -> list[str]:
    """The access keys ``flt`` allows (empty when it names no patient: policies have no patient)."""
    if not flt.patient_key:
        return []
    return [f"{flt.patient_key}{SEPARATOR}{s}" for s in allowed_label_sets(flt.allowed_labels)]
