"""The statement renderer: the patient's rows of each record kind, read under the filter and
rendered as citable statements with a prior for how well each matches the question's status and
date modifiers. One table says which kinds are read and how.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache, partial
from typing import Any, NamedTuple

import snowballstemmer
from sqlalchemy import and_, not_
from sqlmodel import Session, col, select

from carecite.domain import RetrievalFilter
from carecite.reading.intent import PERSON_KINDS, Intent
from carecite.reading.items import synonyms, tokens
from carecite.reading.vocabulary import (
    KIND_VOCABULARY,
    KIND_WORDS,
    SPECIALTIES,
    is_generic,
)
from carecite.records import tables as t
from carecite.retrieval.records.naming import best_named, named_count, named_key
from carecite.retrieval.records.statement import (
    ENCOUNTER_CLASSES,
    OPEN_ACTIVITY,
    OPEN_REFERRAL,
    OPEN_REQUEST,
    OPEN_TASK,
    UPCOMING_APPT,
    Statement,
    kind_resource_type,
)
from carecite.text.dates import display_date, display_datetime
from carecite.text.terms import singular


def _d(value: datetime | date | None) -> str:
    return display_date(value)  # the product's one date format (text/dates.py)


def _dt(value: datetime | None) -> str:
    return display_datetime(value)


@lru_cache(maxsize=1024)
def _label_conditions(model: Any, disallowed: tuple[str, ...]) -> tuple[Any, ...]:
    """One condition per label the filter disallows. Built once per table and label set (SQL
    expressions are immutable): every request read up to seven tables with nine conditions each."""
    return tuple(not_(col(model.security_labels).contains(f"|{label}|")) for label in disallowed)


def _from_int(value: int, *, end_of_day: bool = False) -> datetime:
    d = date(value // 10000, value // 100 % 100, value % 100)
    dt = datetime(d.year, d.month, d.day)
    if end_of_day:
        dt += timedelta(days=1)
    return dt


class SimpleKind(NamedTuple):
    """A kind whose rows are said alike: its table, the column dating a row, and the statement's label."""

    model: Any
    date_attr: str
    label: str


# The kinds read by ``Renderer._simple``, in rendering order.
_SIMPLE: dict[str, SimpleKind] = {
    "AllergyIntolerance": SimpleKind(t.AllergyIntolerance, "recorded", "Allergy"),
    "Immunization": SimpleKind(t.Immunization, "occurrence", "Immunization"),
    "Procedure": SimpleKind(t.Procedure, "performed", "Procedure"),
    "Encounter": SimpleKind(t.Encounter, "start", "Encounter"),
}

# How one kind's rows are rendered: (session, filter, intent) -> statements.
Render = Callable[[Session, RetrievalFilter, Intent], Iterable[Statement]]


class Renderer:
    """Renders the patient's rows as statements (``statements``), as of ``today``."""

    def __init__(self, today: date) -> None:
        self.today = today

    # ----------------------------------------------------------------- rendering
    def statements(self, session: Session, flt: RetrievalFilter, intent: Intent) -> Iterable[Statement]:
        """The statements of every kind the question asks for (``intent.kinds``; every kind when it
        names none), in the order of the ``_kinds`` table, under the filter (and the token's resource types)."""
        # Without a recognised kind, every kind is considered and lexical overlap decides; but a
        # question about what a note says ("What was documented in the telephone note?") asks for
        # no record row.
        if not intent.kinds and intent.notes:
            return
        # "Who is coordinating her heart care?" names no kind: a person answers it, so only the rows that
        # name people are read (never the heart failure drugs that share its words), and, as for any
        # question naming no kind, a row answers only by naming what the question names: "who does she
        # live with" is no care team's member.
        kinds = intent.kinds or (PERSON_KINDS if intent.person else frozenset(KIND_WORDS))
        if flt.resource_types is not None:  # a token's SMART scopes: only the granted resource types
            kinds = frozenset(k for k in kinds if kind_resource_type(k) in flt.resource_types)
        for kind, render in self._kinds():
            if kind in kinds:
                yield from render(session, flt, intent)

    def _kinds(self) -> tuple[tuple[str, Render], ...]:
        """The table: each record kind with the method that renders its rows, in rendering order (a
        kind may have more than one: a care team's members and the patient's primary care provider)."""
        return (
            ("Task", self._tasks),
            ("ServiceRequest", self._referrals),
            ("Appointment", self._appointments),
            ("Observation", self._observations),
            ("MedicationRequest", self._medications),
            ("CarePlanActivity", self._careplan_activities),
            ("Condition", self._conditions),
            ("CareTeam", self._care_teams),
            ("CareTeam", self._primary_care),
            *((kind, partial(self._simple, kind=kind, simple=simple)) for kind, simple in _SIMPLE.items()),
        )

    def _rows(
        self, session: Session, model: Any, flt: RetrievalFilter, date_attr: str | None
    ) -> Sequence[Any]:
        conditions = [
            col(model.patient_key) == flt.patient_key,
            *_label_conditions(model, flt.disallowed_labels),
        ]
        if flt.facility is not None:
            conditions.append(col(model.facility) == flt.facility)
        if date_attr is not None and (flt.date_from or flt.date_to):
            column = col(getattr(model, date_attr))
            if flt.date_from:
                conditions.append(column >= _from_int(flt.date_from))
            if flt.date_to:
                conditions.append(column < _from_int(flt.date_to, end_of_day=True))
        return session.exec(select(model).where(and_(*conditions))).all()

    def _tasks(self, session: Session, flt: RetrievalFilter, intent: Intent) -> Iterable[Statement]:
        for row in self._rows(session, t.Task, flt, "due"):
            status = row.status or "unknown"
            is_open = status in OPEN_TASK
            overdue = is_open and row.due is not None and row.due.date() < self.today
            state = f"{status}, overdue (due {_d(row.due)})" if overdue else status
            parts = [f"Follow-up task: {row.description or row.display or 'task'}", f"status: {state}"]
            if row.due and not overdue:
                parts.append(f"due: {_d(row.due)}")
            if row.owner:
                parts.append(f"owner: {row.owner}")
            if row.authored_on:
                parts.append(f"created: {_d(row.authored_on)}")
            if row.note:
                parts.append(f"note: {row.note.rstrip('. ')}")
            prior = 0.0
            if intent.overdue:
                prior += 1.0 if overdue else -0.6
            if intent.outstanding:
                prior += 0.6 if is_open else -0.6
            if intent.in_progress:
                prior += _in_progress_prior(status, is_open)
            if not (intent.overdue or intent.outstanding or intent.in_progress) and is_open:
                prior += 0.2
            brief = (
                f"{'Overdue' if overdue else status.capitalize()}: {row.description or row.display or 'task'}"
            )
            if row.due:
                brief += f", due {_d(row.due)}"
            if row.note:
                brief += f"; {row.note.rstrip('. ')}"
            if row.owner:
                brief += f" (owner {row.owner})"
            when = row.due or row.authored_on
            yield Statement.of(row, "Task", "; ".join(parts) + ".", when, prior, brief + ".")

    def _referrals(self, session: Session, flt: RetrievalFilter, intent: Intent) -> Iterable[Statement]:
        for row in self._rows(session, t.ServiceRequest, flt, "authored_on"):
            status = row.status or "unknown"
            is_open = status in OPEN_REFERRAL
            label = "Referral" if (row.category or "").lower().find("referral") >= 0 else "Order"
            parts = [f"{label}: {row.display or 'service request'}", f"status: {status}"]
            if row.authored_on:
                parts.append(f"ordered: {_d(row.authored_on)}")
            if row.performer:
                parts.append(f"to: {row.performer}")
            if row.requester:
                parts.append(f"requested by: {row.requester}")
            if row.reason:
                parts.append(f"reason: {row.reason}")
            if row.note:
                parts.append(f"note: {row.note.rstrip('. ')}")
            prior = (
                (0.6 if is_open else -0.6)
                if (intent.outstanding or intent.overdue or intent.in_progress)
                else (0.2 if is_open else 0.0)
            )
            brief = f"{row.display or 'service request'}: {status}"
            if row.authored_on:
                brief += f", ordered {_d(row.authored_on)}"
            if row.requester:  # who referred: the answer to "who referred her", said in the row
                brief += f", by {row.requester}"
            if row.performer:
                brief += f", to {row.performer}"
            if row.reason:
                brief += f", for {row.reason}"
            yield Statement.of(
                row, "ServiceRequest", "; ".join(parts) + ".", row.authored_on, prior, brief + "."
            )

    def _appointments(self, session: Session, flt: RetrievalFilter, intent: Intent) -> Iterable[Statement]:
        for row in self._rows(session, t.Appointment, flt, "start"):
            status = row.status or "unknown"
            future = row.start is not None and row.start.date() >= self.today
            upcoming = future and status in UPCOMING_APPT
            missed = status == "noshow"
            state = {"noshow": "missed (no-show)", "fulfilled": "attended"}.get(status, status)
            if upcoming:
                state += ", upcoming"
            parts = [
                f"Appointment: {row.description or row.service_type or 'appointment'}",
                f"status: {state}",
                f"start: {_dt(row.start)}",
            ]
            if row.practitioner:
                parts.append(f"with: {row.practitioner}")
            if row.location:
                parts.append(f"location: {row.location}")
            prior = 0.0
            if intent.upcoming:
                prior += 1.0 if upcoming else -0.6
            if intent.missed:
                prior += 1.0 if missed else -0.6
            if intent.attended:  # "did she show up for X": the visit that was due, kept or missed
                prior += 0.6 if not future else -0.4
            brief = f"{state.capitalize()}: {row.description or row.service_type or 'appointment'} on {_dt(row.start)}"
            if row.practitioner:
                brief += f" with {row.practitioner}"
            if row.location:
                brief += f" at {row.location}"
            yield Statement.of(row, "Appointment", "; ".join(parts) + ".", row.start, prior, brief + ".")

    def _observations(self, session: Session, flt: RetrievalFilter, intent: Intent) -> Iterable[Statement]:
        rows = sorted(
            self._rows(session, t.Observation, flt, "effective"),
            key=lambda r: r.effective or datetime.min,
            reverse=True,
        )
        # "most recent" is per quantity: every code the question's name names is one item (eGFR by
        # several LOINC displays, BP panels), otherwise one code; only the best-named rows are read.
        keep = best_named(intent, [(r.display or r.code or "", r.code or "") for r in rows], "Observation")
        seen: dict[str, int] = {}
        for row in rows:
            name = row.display or row.code or "observation"
            if keep is not None and (row.display or row.code or "", row.code or "") not in keep:
                continue
            key = named_key(intent, name) if keep is not None else (row.code or name)
            nth = seen.get(key, 0)
            seen[key] = nth + 1
            if row.value is not None:
                value = f"{row.value:g} {row.unit or ''}".strip()
            else:
                value = row.value_text or "no value"
            recency = "most recent" if nth == 0 else "earlier result"
            text = f"Lab/observation: {name} = {value} on {_d(row.effective)} ({recency})"
            if row.interpretation:
                text += f"; interpretation: {row.interpretation}"
            prior = (0.5 if nth == 0 else _earlier(nth)) if intent.recent else (0.2 if nth == 0 else 0.0)
            brief = f"{name}: {value} on {_d(row.effective)} ({recency})"
            if row.interpretation:
                brief += f", {row.interpretation}"
            yield Statement.of(row, "Observation", text + ".", row.effective, prior, brief + ".")

    def _medications(self, session: Session, flt: RetrievalFilter, intent: Intent) -> Iterable[Statement]:
        for row in self._rows(session, t.MedicationRequest, flt, "authored_on"):
            status = row.status or "unknown"
            parts = [f"Medication: {row.medication or row.display or 'medication'}", f"status: {status}"]
            if row.dosage:
                parts.append(f"dosage: {row.dosage}")
            if row.authored_on:
                parts.append(f"prescribed: {_d(row.authored_on)}")
            if row.reason:
                parts.append(f"reason: {row.reason}")
            active = status == "active"
            prior = (
                (0.5 if active else -0.4)
                if (intent.recent or intent.outstanding or intent.in_progress)
                else (0.2 if active else 0.0)
            )
            if intent.naming and named_count(
                intent, Statement.of(row, "", "", None, 0).name, "MedicationRequest"
            ):
                # "Is he still on the Lovenox?": the named drug's row answers whatever its status says
                # (an active one first).
                prior = max(prior, 0.3) + (0.2 if active else 0.0)
            brief = f"{row.medication or row.display or 'medication'} ({status})"
            if row.dosage:
                brief += f": {row.dosage}"
            if row.authored_on:
                brief += f"; prescribed {_d(row.authored_on)}"
            if row.reason:
                brief += f" for {row.reason}"
            when = row.authored_on
            yield Statement.of(row, "MedicationRequest", "; ".join(parts) + ".", when, prior, brief + ".")

    def _careplan_activities(
        self, session: Session, flt: RetrievalFilter, intent: Intent
    ) -> Iterable[Statement]:
        plans = {p.ref: p for p in self._rows(session, t.CarePlan, flt, None)}
        for row in self._rows(session, t.CarePlanActivity, flt, None):
            plan = plans.get(row.careplan_ref)
            if plan is None:  # the plan itself is filtered out (labels): so are its activities
                continue
            # A care plan is what is planned now: a finished plan's activities answer a question about
            # the past ("What was in her previous care plan?") or one naming that plan ("her fracture
            # care plan"), never "What is the plan of care?" nor "the current care plan".
            in_force = plan.status is None or plan.status in OPEN_REQUEST
            if plan_in_force(intent) and not in_force:
                continue  # "the current care plan" is an active one, never a completed plan's steps
            title = plan.display or plan.category or "care plan"
            status = row.status or "unknown"
            text = f"Care plan activity ({title}, plan {plan.status or 'unknown'}): {row.display or 'activity'}; status: {status}"
            if row.scheduled:
                text += f"; scheduled: {_d(row.scheduled)}"
            is_open = status in OPEN_ACTIVITY
            if intent.in_progress:
                prior = _in_progress_prior(status, is_open)
            else:
                prior = (0.5 if is_open else -0.4) if intent.outstanding else (0.2 if is_open else 0.0)
            brief = f"{row.display or 'activity'} ({status}"
            brief += f", scheduled {_d(row.scheduled)})" if row.scheduled else ")"
            brief += f", in the {title}"
            yield Statement.of(row, "CarePlanActivity", text + ".", plan.period_start, prior, brief + ".")

    def _conditions(self, session: Session, flt: RetrievalFilter, intent: Intent) -> Iterable[Statement]:
        for row in self._rows(session, t.Condition, flt, "onset"):
            status = row.clinical_status or row.status or "unknown"
            text = f"Condition: {row.display or row.code}; clinical status: {status}; onset: {_d(row.onset)}"
            if row.abatement:
                text += f"; resolved: {_d(row.abatement)}"
            active = status == "active"
            prior = (
                (0.5 if active else -0.4)
                if (intent.in_progress or intent.recent)
                else (0.2 if active else 0.0)
            )
            brief = f"{row.display or row.code} ({status}), onset {_d(row.onset)}"
            if row.abatement:
                brief += f", resolved {_d(row.abatement)}"
            yield Statement.of(row, "Condition", text + ".", row.onset, prior, brief + ".")

    def _care_teams(self, session: Session, flt: RetrievalFilter, intent: Intent) -> Iterable[Statement]:
        """One statement per care team: every member with their role, and the role's specialty in
        words a question uses ("Cardiology (cardiac, heart)"). The team is the cited source (the
        CareTeam resource a reviewer opens); a member the team lists as former counts as past."""
        # A care team answers who someone is, never what was done: "the program the therapist
        # documented" or "treatment for substance use" is not answered by a team's member list.
        if not intent.person:
            return
        teams = {row.ref: row for row in self._rows(session, t.CareTeam, flt, None)}
        if not teams:
            return
        members: dict[str, list[t.CareTeamMember]] = {}
        rows = session.exec(
            select(t.CareTeamMember).where(col(t.CareTeamMember.careteam_ref).in_(list(teams)))
        ).all()
        for m in sorted(rows, key=lambda m: m.id):
            if (m.role or "").casefold() != "patient":
                members.setdefault(m.careteam_ref, []).append(m)
        for ref, team in teams.items():
            people = members.get(ref, [])
            if not people:
                continue
            status = team.status or "unknown"
            said = [f"{m.display or m.member_ref} — {_role_words(m.role)}" for m in people]
            since = f", since {_d(team.period_start)}" if team.period_start else ""
            title = team.name or team.display or "Care team"
            text = f"Care team: {title} ({status}{since}); members: {'; '.join(said)}."
            # The answer names the members whose role the question names ("who is coordinating her
            # heart care": the cardiology care coordinator), not the whole team; the team stays the
            # cited source (the CareTeam resource lists them).
            asked = [m for m, n in _asked_members(intent, said) if n]
            brief = f"Care team: {title} ({status}{since}); {'; '.join(asked)}." if asked else text
            current = status == "active"
            prior = (0.3 if current else -0.3) if not intent.past else (0.0 if current else 0.3)
            yield Statement.of(team, "CareTeam", text, team.period_start, prior, brief)

    def _primary_care(self, session: Session, flt: RetrievalFilter, intent: Intent) -> Iterable[Statement]:
        """The patient's primary care provider, from Patient.generalPractitioner (the Patient resource
        is the cited source: it is where the record says who the PCP is), when the question asks for it."""
        if not intent.pcp:
            return
        conditions = [
            col(t.Patient.patient_key) == flt.patient_key,
            *_label_conditions(t.Patient, flt.disallowed_labels),
        ]
        for row in session.exec(select(t.Patient).where(and_(*conditions))).all():
            try:
                raw = json.loads(row.raw or "{}")
            except ValueError:
                continue
            gps = [g for g in raw.get("generalPractitioner") or [] if isinstance(g, dict)]
            names = [str(g.get("display") or g.get("reference") or "") for g in gps]
            names = [n for n in names if n]
            if not names:
                continue
            text = f"Primary care provider (general practitioner): {'; '.join(names)}."
            labels = t.labels_from_str(row.security_labels)
            yield Statement(f"Patient/{row.id}", "CareTeam", text, None, None, labels, 0.6, "", text)

    def _simple(
        self, session: Session, flt: RetrievalFilter, intent: Intent, *, kind: str, simple: SimpleKind
    ) -> Iterable[Statement]:
        """The rows of a kind said as "<label>: <display>; status; date" (``_SIMPLE``)."""
        model, date_attr = simple.model, simple.date_attr
        rows = sorted(
            self._rows(session, model, flt, date_attr),
            key=lambda r: getattr(r, date_attr) or datetime.min,
            reverse=True,
        )
        keep = (
            best_named(intent, [(r.display or r.code or kind, "") for r in rows], kind)
            if kind in intent.named_kinds
            else None
        )
        seen: dict[str, int] = {}
        for row in rows:
            if keep is not None and (row.display or row.code or kind, "") not in keep:
                continue
            klass = getattr(row, "class_code", None) if kind == "Encounter" else None
            if kind == "Encounter" and intent.encounter_class and klass not in intent.encounter_class:
                continue
            when = getattr(row, date_attr)
            # "last" is per named item (the latest Hep B dose, not the latest of any vaccine); every row
            # that names what the question names is one item ("depression screening", whatever tool).
            name = row.display or row.code or kind
            key = "\0named" if intent.naming and named_count(intent, name, kind) > 0 else name
            if kind == "Encounter" and not intent.naming:  # "the last visit": the newest of them all
                key = "\0visit"
            nth = seen.get(key, 0)
            seen[key] = nth + 1
            text = f"{simple.label}: {name}; status: {row.status or 'unknown'}; date: {_d(when)}"
            if kind in ("Immunization", "Procedure"):
                text += " (most recent)" if nth == 0 else " (earlier)"
            stay = _length_of_stay(when, getattr(row, "end", None)) if kind == "Encounter" else None
            if kind == "Encounter" and getattr(row, "end", None):
                text += f" to {_d(row.end)}" + (f" ({stay})" if stay else "")
            if klass:
                text += f"; class: {ENCOUNTER_CLASSES.get(klass, klass)}"
            if kind == "Encounter" and getattr(row, "reason", None):
                text += f"; reason: {row.reason}"
            prior = (0.4 if nth == 0 else _earlier(nth)) if intent.recent else 0.0
            brief = f"{name} ({row.status or 'unknown'}) on {_d(when)}"
            if stay:  # a stay says when it ended and how long it was, as its statement does
                brief = f"{name} ({row.status or 'unknown'}) from {_d(when)} to {_d(row.end)} ({stay})"
            if kind in ("Immunization", "Procedure"):
                brief += " (most recent)" if nth == 0 else " (earlier)"
            yield Statement.of(row, kind, text + ".", when, prior, brief + ".")


def _length_of_stay(start: datetime | None, end: datetime | None) -> str | None:
    """An encounter's length of stay, the discharge day less the admission day ("5 days"); None
    for a visit within one day or without both dates."""
    if start is None or end is None or (days := (end.date() - start.date()).days) <= 0:
        return None
    return f"{days} day{'s' if days != 1 else ''}"


def _role_words(role: str | None) -> str:
    """A care-team role with its specialty's everyday words: "Cardiology (cardiac, heart)"."""
    role = role or "member"
    said = {singular(w) for w in tokens(role)}
    for names, words in SPECIALTIES.values():
        if said & {singular(n) for n in names} or said & {singular(w) for w in words}:
            extra = [w for w in words if w not in said]
            return f"{role} ({', '.join(extra)})" if extra else role
    return role


_STEMMER = snowballstemmer.stemmer("english")


def _stems(text: str) -> set[str]:
    """The Porter2 (Snowball) stems of a text's words: "coordinating" and "coordinator" share one."""
    return set(_STEMMER.stemWords(tokens(text)))


# The care-team nouns that name a role ("coordinator", "nurse", "therapist"), not the team itself: they
# say which member is asked, where the other kind words ("team", "member") say nothing.
_ROLE_WORDS = frozenset(KIND_VOCABULARY["CareTeam"][0].split()) - {"team", "teams", "careteam"}


def _asked_members(intent: Intent, members: Sequence[str]) -> list[tuple[str, int]]:
    """Each member (as listed) with how many of the question's own words (not its kind words:
    "team", "care", but its role words: "coordinator") the member's name and role name, a word
    counting once with its synonyms ("heart": cardiology); only the members naming the most count."""
    said = [w for w in intent.words if not is_generic(w) or w in _ROLE_WORDS]
    asked = [_stems(" ".join((w, *synonyms(w)))) for w in said]
    hits = [sum(1 for stems in asked if stems & _stems(m)) for m in members]
    best = max(hits, default=0)
    return [(m, n if n == best else 0) for m, n in zip(members, hits, strict=True)]


def _earlier(nth: int) -> float:
    """The prior of the ``nth`` earlier result of an item when the question asks for the latest: low
    enough that no wording lifts it to ``NAMED_RECORD_FLOOR`` (kind 1 + overlap at most 1 + this stays
    under the raw 1.5 the floor needs), so "the most recent A1c" is one value, never a list of them;
    older results rank lower still."""
    return -0.6 - 0.1 * min(nth - 1, 2)


def plan_in_force(intent: Intent) -> bool:
    """Does a care plan question ask for the plan in force: "the current care plan", "What is the plan
    of care?", not "her previous care plan" nor one naming a plan ("her fracture care plan")?"""
    return intent.recent or not (intent.past or intent.naming)


def _in_progress_prior(status: str, is_open: bool) -> float:
    """ "What is she actively working on?": work under way, not work merely open (not started, on hold)."""
    return 0.6 if status == "in-progress" else (-0.2 if is_open else -0.6)
