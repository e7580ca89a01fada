"""The one place a request's SQL reads get their row-level-security scope.

On PostgreSQL every patient table answers only rows the transaction's scope allows
(records/postgres.py: ``SET LOCAL carecite.patient_keys`` / ``carecite.label_sets``). Every
request-scoped read therefore runs inside ``scoped_session`` (or, inside an open session, after
``apply_scope``) with the patients and labels the access decision allowed. On SQLite both are no-ops:
the application's own filter is the only rule there, exactly as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session

from carecite.domain import RetrievalFilter
from carecite.records.postgres import set_scope


@dataclass(frozen=True)
class RowScope:
    """Which patients' rows, with which sensitive labels, one transaction may read."""

    patient_keys: frozenset[str]
    allowed_labels: frozenset[str]

    @classmethod
    def of(cls, patient_keys: Iterable[str], allowed_labels: frozenset[str]) -> RowScope:
        return cls(frozenset(k for k in patient_keys if k), frozenset(allowed_labels))

    @classmethod
    def of_filter(cls, flt: RetrievalFilter) -> RowScope:
        """The filter's one patient (none for a policy-only request) and its allowed labels."""
        return cls.of([flt.patient_key] if flt.patient_key else [], flt.allowed_labels)


def apply_scope(session: Session, scope: RowScope) -> None:
    """Set ``scope`` for the rest of ``session``'s current transaction (replacing any earlier one)."""
    set_scope(session.connection(), scope.patient_keys, scope.allowed_labels)


@contextmanager
def scoped_session(engine: Engine, scope: RowScope) -> Iterator[Session]:
    """A read session whose one transaction carries ``scope``; rolled back (read-only) at the end."""
    with Session(engine, expire_on_commit=False) as session:
        apply_scope(session, scope)
        yield session
