"""A small hospital world built directly in SQL: two facilities, care teams, users, note chunks.

A plain module (not conftest) so tests can import its names; the fixture lives in conftest.py."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session

from carecite.domain import patient_key_for
from carecite.records import make_engine, session_scope
from carecite.records.tables import (
    CareTeam,
    CareTeamMember,
    ChunkRow,
    Identifier,
    Patient,
    Practitioner,
    Task,
    User,
    labels_to_str,
)
from carecite.settings import Settings

NORTH = "Organization/north"
SOUTH = "Organization/south"


@dataclass(frozen=True)
class World:
    engine: Engine

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)


def key(patient_id: str) -> str:
    return patient_key_for(patient_id)


def _patient(pid: str, facilities: list[str], labels: tuple[str, ...] = ()) -> Patient:
    return Patient(
        id=pid,
        patient_key=key(pid),
        name=f"Name {pid}",
        given=pid,
        family="Test",
        managing_organization=facilities[0],
        facilities=labels_to_str(facilities),
        security_labels=labels_to_str(labels),
    )


def _team(
    team: str, pid: str, *, status: str | None = "active", ref: str | None = None, ident: str | None = None
) -> list[CareTeam | CareTeamMember]:
    return [
        CareTeam(ref=f"CareTeam/{team}", fhir_id=team, patient_key=key(pid), status=status),
        CareTeamMember(
            id=f"CareTeam/{team}#1",
            careteam_ref=f"CareTeam/{team}",
            patient_key=key(pid),
            member_ref=ref,
            member_identifier=ident,
        ),
    ]


def _user(uid: str, role: str, facilities: list[str], care_team_only: bool, labels: list[str]) -> User:
    return User(
        id=uid,
        name=uid,
        role=role,
        facilities=json.dumps(facilities),
        care_team_only=care_team_only,
        sensitive_access=json.dumps(labels),
    )


def _chunk(chunk_id: str, pid: str, text: str, labels: tuple[str, ...] = ()) -> ChunkRow:
    return ChunkRow(
        chunk_id=chunk_id,
        doc_id=f"DocumentReference/{chunk_id}",
        source_type="note_chunk",
        source_ref=f"DocumentReference/{chunk_id}",
        patient_key=key(pid),
        facility=NORTH,
        security_labels=labels_to_str(labels),
        start=0,
        end=len(text),
        text=text,
        index_text=text,
    )


def build_world(settings: Settings) -> World:
    """Patients (all at north unless said):

    ann  care team lists Practitioner/cc-amy
    bob  care team lists Practitioner/prac-9, whose identifier value is "cc-amy"
    fay  care team member identifier "cc-amy"
    cat  care team member identifier "cc-amy" but the team is inactive
    dan  no care team with amy
    eve  at south, care team lists amy
    vip  labelled R (restricted), care team lists amy
    """
    engine = make_engine(settings.resolved_database_url)
    rows: list[object] = [
        _patient("ann", [NORTH]),
        _patient("bob", [NORTH]),
        _patient("fay", [NORTH]),
        _patient("cat", [NORTH]),
        _patient("dan", [NORTH]),
        _patient("eve", [SOUTH]),
        _patient("vip", [NORTH], ("R",)),
        Practitioner(id="prac-9", name="Dr Nine"),
        Identifier(key="Practitioner|urn:carecite:user|cc-amy", ref="Practitioner/prac-9"),
        # a value that merely ends with "|cc-amy" must not match
        Identifier(key="Practitioner|urn:other|x|cc-amy", ref="Practitioner/prac-x"),
        *_team("t-ann", "ann", ref="Practitioner/cc-amy"),
        *_team("t-bob", "bob", ref="Practitioner/prac-9", status=None),
        *_team("t-fay", "fay", ident="cc-amy"),
        *_team("t-cat", "cat", ident="cc-amy", status="inactive"),
        *_team("t-dan", "dan", ref="Practitioner/someone-else"),
        *_team("t-dan-x", "dan", ref="Practitioner/prac-x"),
        *_team("t-eve", "eve", ref="Practitioner/cc-amy"),
        *_team("t-vip", "vip", ref="Practitioner/cc-amy"),
        _user("cc-amy", "care_coordinator", [NORTH], True, []),
        _user("nurse-ned", "nurse", [NORTH], False, []),
        _user("doc-dee", "physician", [NORTH], True, ["PSY"]),
        _user("rev-rita", "reviewer", [NORTH], False, ["PSY"]),
        _user("admin-al", "admin", [NORTH], False, []),
        _chunk("c-ann-1", "ann", "Follow up with cardiology in two weeks."),
        _chunk("c-ann-psy", "ann", "Psychiatry consult notes.", ("PSY",)),
        _chunk("c-ann-eth", "ann", "Substance use treatment.", ("ETH",)),
        _chunk("c-eve-1", "eve", "South clinic note."),
        Task(ref="Task/t1", fhir_id="t1", patient_key=key("ann"), display="Call patient", raw='{"id":"t1"}'),
    ]
    with session_scope(engine) as session:
        for row in rows:
            session.add(row)
    return World(engine)
