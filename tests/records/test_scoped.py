"""The request scope on SQLite: the directory views exist and agree with their tables, and a scoped
session is a no-op (the application's own filter is the rule there; RLS is PostgreSQL's)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import select

from carecite.records import directory, make_engine, session_scope
from carecite.records.scoped import RowScope, scoped_session
from carecite.records.tables import Note, Patient, Task


def _seed(engine: sa.Engine) -> None:
    with session_scope(engine) as s:
        for key in ("pk-a", "pk-b"):
            s.add(Patient(id=f"p-{key}", patient_key=key, family="X", facilities="|Organization/o|"))
            s.add(Task(ref=f"Task/{key}", fhir_id=key, patient_key=key, display="Hemoglobin A1c"))
            s.add(
                Note(
                    ref=f"DocumentReference/{key}",
                    fhir_id=key,
                    patient_key=key,
                    text="note",
                    security_labels="|PSY|",
                )
            )


def test_on_sqlite_a_scoped_session_reads_as_before(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'c.sqlite'}")
    _seed(engine)
    with scoped_session(engine, RowScope.of(["pk-a"], frozenset())) as session:
        assert len(session.exec(select(Task)).all()) == 2, "SQLite has no RLS: the filter is the rule"


def test_on_sqlite_the_directory_views_list_patients_and_sources(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'c.sqlite'}")
    _seed(engine)
    make_engine(f"sqlite:///{tmp_path / 'c.sqlite'}")  # a second start: the views are kept, not re-made
    with engine.connect() as conn:
        patients = conn.execute(sa.select(directory.PATIENTS.c.patient_key)).scalars().all()
        sources = {
            r["source_id"]: (r["patient_key"], r["security_labels"])
            for r in conn.execute(sa.select(directory.SOURCES)).mappings()
        }
        displays = conn.execute(sa.select(directory.DISPLAYS.c.display)).scalars().all()
    assert sorted(patients) == ["pk-a", "pk-b"]
    assert sources["Task/pk-a"] == ("pk-a", "") and sources["DocumentReference/pk-b"] == ("pk-b", "|PSY|")
    assert displays == [], "Task is not a coded table: its display is no vocabulary"
