"""The six questions the Home page suggests, asked for every patient of the committed world.

Where the record holds the answer (computed from SQL by status and date, and from the notes'
sections), the question must be answered with a citation of a row or note that holds it; where it
does not, it must decline. A suggested question that declines on a record that answers it is the
first thing a new coordinator sees fail.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

import pytest
from sqlmodel import Session, col, select

from carecite.access.scope import compute_scope
from carecite.answering.pipeline import AskRequest, Pipeline
from carecite.package_data import COMMITTED_WORLD
from carecite.records import tables as t
from carecite.records.clock import Clock
from carecite.retrieval.records.statement import OPEN_ACTIVITY, OPEN_REFERRAL, OPEN_TASK, UPCOMING_APPT
from carecite.text.sections import kind_of_header
from carecite.text.sentences import find_sections
from carecite.ui.sources import SUGGESTED_QUESTIONS

GOLD = COMMITTED_WORLD / "gold.jsonl"
Holders = Callable[[Session, str, date], list[t.ResourceRow]]


def _open_tasks(s: Session, pk: str, today: date) -> list[t.ResourceRow]:
    return [
        r for r in s.exec(select(t.Task).where(t.Task.patient_key == pk, col(t.Task.status).in_(OPEN_TASK)))
    ]


def _overdue_tasks(s: Session, pk: str, today: date) -> list[t.ResourceRow]:
    rows = s.exec(select(t.Task).where(t.Task.patient_key == pk, col(t.Task.status).in_(OPEN_TASK))).all()
    return [r for r in rows if r.due is not None and r.due.date() < today]


def _pending_referrals(s: Session, pk: str, today: date) -> list[t.ResourceRow]:
    query = select(t.ServiceRequest).where(
        t.ServiceRequest.patient_key == pk, col(t.ServiceRequest.status).in_(OPEN_REFERRAL)
    )
    return [r for r in s.exec(query)]


def _upcoming(s: Session, pk: str, today: date) -> list[t.ResourceRow]:
    rows = s.exec(
        select(t.Appointment).where(
            t.Appointment.patient_key == pk, col(t.Appointment.status).in_(UPCOMING_APPT)
        )
    ).all()
    return [r for r in rows if r.start is not None and r.start.date() >= today]


def _discharge_followup(s: Session, pk: str, today: date) -> list[t.ResourceRow]:
    notes = s.exec(select(t.Note).where(t.Note.patient_key == pk)).all()
    return [
        n
        for n in notes
        if any(kind_of_header(sec.title) == "follow-up" for sec in find_sections(n.text or ""))
    ]


def _active_plan_work(s: Session, pk: str, today: date) -> list[t.ResourceRow]:
    plans = {
        p.ref
        for p in s.exec(select(t.CarePlan).where(t.CarePlan.patient_key == pk, t.CarePlan.status == "active"))
    }
    rows = s.exec(select(t.CarePlanActivity).where(t.CarePlanActivity.patient_key == pk)).all()
    return [r for r in rows if r.careplan_ref in plans and r.status in OPEN_ACTIVITY]


HOLDERS: dict[str, Holders] = dict(
    zip(
        SUGGESTED_QUESTIONS,
        (_open_tasks, _overdue_tasks, _pending_referrals, _upcoming, _discharge_followup, _active_plan_work),
        strict=True,
    )
)


def _patients_and_users() -> dict[str, str]:
    """Each patient of the world with a user who may see them (from the gold file's answerable rows)."""
    out: dict[str, str] = {}
    for line in GOLD.read_text().splitlines():
        q = json.loads(line)
        if q["expect"] == "answer" and q["category"] not in ("restricted_allowed", "coverage_policy"):
            out.setdefault(q["patient_id"], q["user_id"])
    return out


@pytest.mark.parametrize("question", SUGGESTED_QUESTIONS)
def test_a_suggested_question_is_answered_for_every_patient_whose_record_holds_the_answer(
    world_pipeline: Pipeline, question: str
) -> None:
    engine = world_pipeline.stores.engine
    today = Clock(world_pipeline.settings, engine).today()
    failures: list[str] = []
    asked = held = 0
    for patient_id, user_id in _patients_and_users().items():
        with Session(engine) as s:
            patient = s.get(t.Patient, patient_id)
            assert patient is not None
            # Only what this user may see holds an answer for them (a restricted referral does not).
            allowed = compute_scope(s, user_id).allowed_labels
            holders = {
                r.ref
                for r in HOLDERS[question](s, patient.patient_key, today)
                if set(t.labels_from_str(r.security_labels)) <= allowed
            }
        answer = world_pipeline.ask(AskRequest(question=question, user_id=user_id, patient_id=patient_id))
        asked += 1
        if answer.decline_reason == "access_denied":
            continue
        cited = {c.source_ref for c in answer.citations} | {c.source_id for c in answer.citations}
        if holders:
            held += 1
            if answer.declined:
                failures.append(
                    f"{patient_id}: declined ({answer.decline_detail}) though the record holds {sorted(holders)[:2]}"
                )
            elif not cited & holders:
                failures.append(f"{patient_id}: answered without citing any of {sorted(holders)[:2]}")
        elif not answer.declined and not cited:
            failures.append(f"{patient_id}: answered without a citation")
    assert asked >= 10 and held >= 1, f"{asked} patients asked, {held} held an answer"
    assert not failures, "\n".join(failures)
