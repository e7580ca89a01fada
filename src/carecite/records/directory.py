"""The access directory: what deciding access must read BEFORE a request has a row scope.

Row-level security hides every patient row until a transaction's scope names the patient
(records/scoped.py), but the access decision is what computes that scope: it must find the patient
by id, their facilities and labels, and the care teams that list the user. These views expose
exactly that and nothing clinical (no names, no notes, no record content), plus two lists the
request path needs across patients: which patient each source id belongs to (to scope the read of
that one source), and the code displays of the record (drug and test names, for pseudonymisation —
they name clinical things, never people).

On PostgreSQL a view runs with its OWNER's rights (``security_invoker`` off, the default), and the
owner (who ran the migration) is not bound by RLS, so the application role reads the directory
without a scope while every table underneath stays hidden from it. On SQLite they are plain views.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection

from carecite.records import tables as t

# Tables whose code displays make the record's vocabulary (vocabulary.py).
CODED_TABLES: tuple[type[t.ResourceRow], ...] = (
    t.Condition,
    t.MedicationRequest,
    t.Observation,
    t.AllergyIntolerance,
    t.Procedure,
    t.Immunization,
    t.CarePlan,
    t.CarePlanActivity,
)

_META = sa.MetaData()  # not SQLModel's: create_all must never turn these views into tables


def _view(name: str, *columns: str) -> sa.Table:
    return sa.Table(name, _META, *(sa.Column(c, sa.String) for c in columns))


PATIENTS = _view("carecite_patient_directory", "id", "patient_key", "facilities", "security_labels")
CARE_TEAMS = _view("carecite_care_team_directory", "patient_key", "member_ref", "member_identifier", "status")
SOURCES = _view("carecite_source_directory", "source_id", "patient_key", "security_labels")
DISPLAYS = _view("carecite_display_vocabulary", "display")


def _name(model: type[object]) -> str:
    return str(model.__tablename__)  # type: ignore[attr-defined]


def _definitions() -> dict[str, str]:
    record_tables: list[type[t.ResourceRow]] = [t.Note, t.CarePlanActivity, *t.RECORD_TABLES.values()]
    sources = [f'SELECT chunk_id AS source_id, patient_key, security_labels FROM "{_name(t.ChunkRow)}"'] + [
        f'SELECT ref, patient_key, security_labels FROM "{_name(m)}"' for m in record_tables
    ]
    displays = [f'SELECT display FROM "{_name(m)}" WHERE display IS NOT NULL' for m in CODED_TABLES]
    member, team = _name(t.CareTeamMember), _name(t.CareTeam)
    return {
        str(PATIENTS.name): f'SELECT id, patient_key, facilities, security_labels FROM "{_name(t.Patient)}"',
        str(CARE_TEAMS.name): (
            f'SELECT m.patient_key, m.member_ref, m.member_identifier, c.status FROM "{member}" m '
            f'JOIN "{team}" c ON c.ref = m.careteam_ref'
        ),
        str(SOURCES.name): " UNION ALL ".join(sources),  # columns named by the first SELECT
        str(DISPLAYS.name): " UNION ".join(displays),
    }


VIEW_NAMES: tuple[str, ...] = tuple(str(v.name) for v in (PATIENTS, CARE_TEAMS, SOURCES, DISPLAYS))


def create_views(conn: Connection) -> None:
    """Create (PostgreSQL: replace) the directory views; idempotent."""
    for name, select in _definitions().items():
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"CREATE OR REPLACE VIEW {name} AS {select}")
        else:  # SQLite has no OR REPLACE; IF NOT EXISTS keeps concurrent starts safe
            conn.exec_driver_sql(f"CREATE VIEW IF NOT EXISTS {name} AS {select}")
