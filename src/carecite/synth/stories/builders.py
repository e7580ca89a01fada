"""Shared builders of the storylines: the per-patient context (``Ctx``), lab wording, the
admission opening every hospital storyline starts with (``open_admission``), the follow-up chain
after a discharge, dose changes and post-discharge calls. Each storyline module composes these."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

from carecite.synth import vocab as v
from carecite.synth.model import Builder, at, human_date, short_date
from carecite.synth.notes import INJECTION_BAIT, chance, pick
from carecite.synth.writers import (
    Header,
    telephone_note,
)


@dataclass
class Ctx:
    b: Builder
    given: str
    family: str
    gender: str
    birth: date
    mrn: str
    facility: v.Facility
    pcp: v.Clinician
    coordinator: v.Clinician
    bait_budget: int = 0
    team: dict[str, tuple[v.Clinician, str]] = field(default_factory=dict)
    phone: str = ""

    @property
    def rng(self) -> random.Random:
        return self.b.rng

    @property
    def as_of(self) -> date:
        return self.b.as_of

    def ago(self, days: int) -> date:
        return self.as_of - timedelta(days=days)

    def age(self, on: date) -> int:
        return on.year - self.birth.year - ((on.month, on.day) < (self.birth.month, self.birth.day))

    @property
    def he(self) -> str:
        return "he" if self.gender == "male" else "she"

    @property
    def his(self) -> str:
        return "his" if self.gender == "male" else "her"

    @property
    def honorific(self) -> str:
        return ("Mr. " if self.gender == "male" else "Ms. ") + self.family

    @property
    def sex_word(self) -> str:
        return (
            pick(self.rng, ("man", "gentleman"))
            if self.gender == "male"
            else pick(self.rng, ("woman", "lady"))
        )

    def who(self) -> str:
        """How a note refers to the patient: sometimes by name (identity scrubbing must catch it)."""
        return pick(
            self.rng, ("the patient", "the patient", self.honorific, f"{self.given} {self.family}", "pt")
        )

    def Who(self) -> str:
        w = self.who()
        return w[0].upper() + w[1:]

    def header(self, author: v.Clinician, when: datetime, facility: v.Facility) -> Header:
        named = chance(self.rng, 0.65)
        return Header(
            patient=f"{self.given} {self.family}" if named else "",
            mrn=self.mrn,
            dob=short_date(self.birth),
            facility=facility.name,
            author=author.display,
            when=human_date(when),
        )

    def add_team(self, clinician: v.Clinician, role: str) -> None:
        self.team.setdefault(clinician.id, (clinician, role))

    def take_bait(self) -> str | None:
        if self.bait_budget <= 0:
            return None
        self.bait_budget -= 1
        return pick(self.rng, INJECTION_BAIT)

    # encounters + notes ------------------------------------------------------------
    def visit(
        self,
        when: datetime,
        clinician: v.Clinician,
        facility: v.Facility,
        kind: str,
        reason: str,
        labels: tuple[str, ...] = (),
    ) -> str:
        return self.b.encounter(
            "AMB", kind, when, when + timedelta(minutes=30), facility, clinician, reason, labels=labels
        )

    def call(
        self,
        when: datetime,
        author: v.Clinician,
        reason: str,
        discussion: list[str],
        plan: list[str],
        contact: str | None = None,
        bait_ok: bool = True,
    ) -> str:
        enc = self.b.encounter(
            "VR", "Telephone encounter", when, when + timedelta(minutes=15), author.facility, author, None
        )
        bait = self.take_bait() if bait_ok and chance(self.rng, 0.6) else None
        text = telephone_note(
            self.rng,
            self.header(author, when, author.facility),
            contact=contact or self.contact(),
            reason=reason,
            discussion=discussion,
            plan=plan,
            minutes=self.rng.choice((6, 8, 10, 12, 15, 18, 22)),
            bait=bait,
        )
        ref = self.b.note("telephone", text, when, author, author.facility, enc)
        if bait:
            self.b.facts.injection_notes.append(ref)
        return ref

    def contact(self) -> str:
        if chance(self.rng, 0.35):
            return f"patient's {pick(self.rng, v.CAREGIVERS)} (patient gave verbal permission)"
        return pick(self.rng, ("patient", self.honorific, "patient at home", f"{self.given} {self.family}"))


def _fmt(x: float, decimals: int) -> str:
    return f"{x:.{decimals}f}"


def lab_value(ctx: Ctx, key: str, value: float) -> str:
    lab = v.LABS[key]
    unit = "" if lab.unit.startswith("{") else f" {lab.unit}"
    return f"{_fmt(value, lab.decimals)}{unit}"


# --------------------------------------------------------------------------- follow-up chains
@dataclass
class FollowUp:
    """One referral → task → appointment chain and the sentences notes use to talk about it."""

    specialty: str
    branch: str
    sr: str
    task: str
    first_appt: date | None = None  # the date the first appointment was booked for
    visit: date | None = None  # fulfilled visit date
    rebooked: date | None = None
    call_lines: list[str] = field(default_factory=list)  # for the post-discharge call
    later_call: tuple[date, list[str], list[str]] | None = None  # (when, discussion, plan)

    @property
    def careplan_status(self) -> str:
        if self.branch == "fulfilled":
            return "completed"
        if self.branch in ("recent", "noshow_rescheduled"):
            return "scheduled"
        return "not-started"


BRANCHES = ("fulfilled", "noshow_rescheduled", "noshow_unreached", "recent", "cancelled", "unscheduled")


def pick_branch(rng: random.Random) -> str:
    return rng.choices(BRANCHES, weights=(30, 16, 10, 18, 12, 14))[0]


def discharge_day(ctx: Ctx, branch: str) -> date:
    if branch == "recent":
        return ctx.ago(ctx.rng.randint(4, 11))
    return ctx.ago(ctx.rng.randint(26, 130))


class Admission(NamedTuple):
    branch: str
    discharge: date
    admit: date
    hospitalist: v.Clinician


def open_admission(ctx: Ctx, stay_days: tuple[int, int]) -> Admission:
    """The opening every hospital storyline shares: the follow-up branch, the discharge day it
    implies, the length of stay and the attending hospitalist, drawn in this order (the order of
    the random draws is what keeps the generated world byte-identical)."""
    branch = pick_branch(ctx.rng)
    discharge = discharge_day(ctx, branch)
    admit = discharge - timedelta(days=ctx.rng.randint(*stay_days))
    hospitalist = pick(ctx.rng, (v.HOSPITALIST_1, v.HOSPITALIST_2))
    return Admission(branch, discharge, admit, hospitalist)


def follow_up_chain(
    ctx: Ctx,
    *,
    specialty: str,
    clinician: v.Clinician,
    start: date,
    within: int,
    branch: str,
    requester: v.Clinician,
    reason: str,
    encounter: str | None,
    why: str,
) -> FollowUp:
    b, rng = ctx.b, ctx.rng
    spec = v.SPECIALTIES[specialty]
    name = spec.display.lower()
    weeks = "2 weeks" if within == 14 else f"{within} days" if within < 14 else f"{within // 7} weeks"
    sr_status = {"fulfilled": "completed"}.get(branch, "active")
    if branch == "unscheduled" and chance(rng, 0.4):
        sr_status = "on-hold"
    sr_note = pick(
        rng,
        (
            f"{why}. Please see within {weeks}.",
            f"{why}; appointment needed within {weeks}.",
            f"Post-discharge {name} evaluation requested ({why.lower()}).",
        ),
    )
    if sr_status == "on-hold":
        sr_note += " On hold pending insurance authorization."
    sr = b.service_request(specialty, sr_status, at(start, 11), requester, reason, sr_note, within, encounter)
    task_desc = pick(
        rng,
        (
            f"Schedule {name} follow-up within {weeks} of discharge",
            f"Arrange {name} appointment within {weeks} after hospital discharge",
            f"Book post-discharge {name} visit (due within {weeks})",
        ),
    )
    due = start + timedelta(days=within)
    who = clinician.display
    fu = FollowUp(specialty, branch, sr, "")
    booked_on = start + timedelta(days=rng.randint(1, 3))
    if branch == "fulfilled":
        visit = start + timedelta(days=rng.randint(max(3, within - 6), within - 1))
        b.appointment(
            specialty,
            "fulfilled",
            at(visit, rng.choice((9, 10, 13, 14)), rng.choice((0, 30))),
            clinician,
            f"Post-discharge {name} follow-up",
            sr,
        )
        fu.task = b.task(
            task_desc,
            "completed",
            at(start, 12),
            due,
            ctx.coordinator,
            sr,
            f"Appointment booked with {who} for {short_date(visit)}; patient attended.",
            at(visit, 17),
        )
        fu.first_appt, fu.visit = visit, visit
        fu.call_lines = [f"{spec.display} follow-up is booked with {who} on {human_date(visit)}."]
    elif branch in ("noshow_rescheduled", "noshow_unreached"):
        missed = start + timedelta(days=rng.randint(max(3, within - 6), within - 1))
        b.appointment(
            specialty,
            "noshow",
            at(missed, rng.choice((8, 10, 15)), 30),
            clinician,
            f"Post-discharge {name} follow-up",
            sr,
        )
        fu.first_appt = missed
        fu.call_lines = [f"{spec.display} appointment scheduled with {who} for {human_date(missed)}."]
        call_day = missed + timedelta(days=rng.randint(1, 3))
        if branch == "noshow_rescheduled":
            new = ctx.as_of + timedelta(days=rng.randint(3, 24))
            b.appointment(
                specialty,
                "booked",
                at(new, rng.choice((9, 11, 14)), 0),
                clinician,
                f"Rescheduled {name} follow-up",
                sr,
            )
            fu.rebooked = new
            fu.task = b.task(
                task_desc,
                "in-progress",
                at(start, 12),
                due,
                ctx.coordinator,
                sr,
                f"No-show {short_date(missed)}. Rebooked for {short_date(new)}.",
                at(call_day, 15),
            )
            discussion = [
                pick(
                    rng,
                    (
                        f"{ctx.Who()} missed the {name} appointment on {human_date(missed)}.",
                        f"Patient did not show for {name} follow-up on {short_date(missed)}.",
                        f"No-show to {who} ({name}) on {human_date(missed)}.",
                    ),
                ),
                pick(
                    rng,
                    (
                        "Reports confusion about the date.",
                        "States transportation fell through that morning.",
                        "Says the reminder call went to an old number.",
                        "Felt too tired to go.",
                    ),
                ),
                f"The appointment was rescheduled for {human_date(new)}.",
            ]
            plan = [
                f"Reminder call 2 days before the {short_date(new)} visit",
                "Updated phone number in chart",
            ]
        else:
            fu.task = b.task(
                task_desc,
                "in-progress",
                at(start, 12),
                due,
                ctx.coordinator,
                sr,
                f"No-show {short_date(missed)}; unable to reach patient to rebook.",
                at(call_day, 15),
            )
            discussion = [
                pick(
                    rng,
                    (
                        f"Patient missed the {name} appointment on {human_date(missed)}.",
                        f"{ctx.Who()} was a no-show for {name} on {short_date(missed)}.",
                    ),
                ),
                pick(
                    rng,
                    (
                        "Called the home number twice; no answer, voicemail left with callback number.",
                        "Unable to reach patient. Left a message asking for a call back to reschedule.",
                    ),
                ),
                f"The {name} follow-up has not been rescheduled yet.",
            ]
            plan = ["Try again in 2 business days", f"Notify {ctx.pcp.short} if still unreachable"]
        fu.later_call = (call_day, discussion, plan)
    elif branch == "recent":
        new = max(start + timedelta(days=rng.randint(within - 5, within)), ctx.as_of + timedelta(days=2))
        b.appointment(
            specialty,
            "booked",
            at(new, rng.choice((9, 10, 13, 15)), 30),
            clinician,
            f"Post-discharge {name} follow-up",
            sr,
        )
        fu.first_appt = new
        fu.task = b.task(
            task_desc,
            "in-progress",
            at(start, 12),
            due,
            ctx.coordinator,
            sr,
            f"Booked with {who} for {short_date(new)}; confirm attendance.",
            at(booked_on, 10),
        )
        fu.call_lines = [f"{spec.display} follow-up is booked with {who} on {human_date(new)}."]
    elif branch == "cancelled":
        orig = start + timedelta(days=rng.randint(max(3, within - 6), within - 1))
        reason_text = pick(rng, ("No transportation", "Patient felt unwell", "Caregiver unavailable"))
        b.appointment(
            specialty,
            "cancelled",
            at(orig, 10, 30),
            clinician,
            f"Post-discharge {name} follow-up",
            sr,
            cancel_reason=reason_text,
        )
        fu.first_appt = orig
        call_day = orig - timedelta(days=1)
        fu.task = b.task(
            task_desc,
            "ready",
            at(start, 12),
            due,
            ctx.coordinator,
            sr,
            f"Patient cancelled {short_date(orig)} ({reason_text.lower()}); needs a new date.",
            at(call_day, 16),
        )
        fu.call_lines = [f"{spec.display} appointment set for {human_date(orig)} with {who}."]
        discussion = [
            f"{ctx.Who()} called to cancel the {name} appointment on {human_date(orig)}: {reason_text.lower()}.",
            pick(
                rng,
                (
                    "Offered to arrange a ride through the health plan.",
                    "Discussed Medicaid transportation benefit.",
                    "Asked about telehealth; cardiology prefers in person for this visit.",
                ),
            ),
            f"A new {name} appointment has not been booked yet.",
        ]
        fu.later_call = (call_day, discussion, ["Call back with new date options", "Ride referral if needed"])
    else:  # unscheduled
        attempts = start + timedelta(days=rng.randint(5, 9))
        fu.task = b.task(
            task_desc,
            "requested",
            at(start, 12),
            due,
            ctx.coordinator,
            sr,
            "Two outreach attempts; referral not yet scheduled.",
            at(attempts, 14),
        )
        fu.call_lines = [
            pick(
                rng,
                (
                    f"{spec.display} office has the referral; they will call the patient to schedule.",
                    f"Left message with {name} scheduling to set up the visit with {who}.",
                ),
            )
        ]
        discussion = [
            pick(
                rng,
                (
                    f"Second attempt to get the {name} visit scheduled.",
                    f"Follow-up on {name} referral from {human_date(start)}.",
                ),
            ),
            "Voicemail left for patient; scheduling says they have not been able to reach the patient either.",
            f"The {name} follow-up is still not scheduled"
            + (" and the referral is on hold pending authorization." if sr_status == "on-hold" else "."),
        ]
        fu.later_call = (
            attempts,
            discussion,
            ["Send letter to patient", "Escalate to PCP if no contact in 1 week"],
        )
    ctx.add_team(clinician, spec.display)
    return fu


# --------------------------------------------------------------------------- shared pieces
def baseline(ctx: Ctx, keys: tuple[str, ...]) -> None:
    for key in keys:
        years = ctx.rng.randint(2, 14)
        ctx.b.condition(key, date(ctx.as_of.year - years, ctx.rng.randint(1, 12), ctx.rng.randint(1, 28)))


def dose_change(
    ctx: Ctx,
    drug: str,
    old: tuple[str, str],
    new: tuple[str, str],
    started: datetime,
    changed: datetime,
    by: v.Clinician,
    reason: str | None,
    labels: tuple[str, ...] = (),
) -> str:
    """A stopped old dose and an active new one: what the record looks like after a titration."""
    ctx.b.medication(
        drug,
        old[0],
        old[1],
        "stopped",
        started,
        by,
        reason,
        labels=labels,
        note=f"Stopped {short_date(changed)}: dose changed.",
    )
    return ctx.b.medication(drug, new[0], new[1], "active", changed, by, reason, labels=labels)


def post_discharge_call(
    ctx: Ctx, discharge: date, fus: list[FollowUp], meds_line: str, extra: list[str], author: v.Clinician
) -> str:
    rng = ctx.rng
    when = at(
        discharge + timedelta(days=rng.randint(1, 3)), rng.choice((10, 11, 14, 15)), rng.choice((0, 15, 40))
    )
    discussion = [
        pick(
            rng,
            (
                f"{ctx.Who()} reached at home after discharge from Mercy General on {short_date(discharge)}.",
                f"Transitions-of-care call after the {human_date(discharge)} discharge.",
                "48-hour post-discharge outreach completed.",
            ),
        ),
        pick(
            rng,
            (
                "Reports feeling better overall.",
                "Says breathing is better but still tired.",
                "Feels weak but is managing at home with family help.",
            ),
        ),
        meds_line,
        *[line for fu in fus for line in fu.call_lines],
        *extra,
    ]
    plan = [
        pick(rng, ("Continue to monitor per care plan", "Next outreach in 1 week")),
        "Patient has care coordinator's direct number",
    ]
    return ctx.call(when, author, "post-discharge follow-up", discussion, plan)


def later_calls(ctx: Ctx, fus: list[FollowUp], author: v.Clinician) -> None:
    for fu in fus:
        if fu.later_call is None:
            continue
        day, discussion, plan = fu.later_call
        if day > ctx.as_of:
            continue
        name = v.SPECIALTIES[fu.specialty].display.lower()
        ctx.call(at(day, ctx.rng.choice((9, 13, 16)), 20), author, f"{name} follow-up", discussion, plan)


# --------------------------------------------------------------------------- heart failure
