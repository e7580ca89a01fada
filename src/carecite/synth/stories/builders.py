"""Patient storylines: CHF admission → discharge → follow-ups, diabetes visits, COPD with home
oxygen, AFib on warfarin, hip fracture, plus secondary threads (sleep apnea, CKD, behavioral health
labelled PSY, substance use labelled ETH).

A storyline decides its branch first (e.g. the cardiology follow-up was kept, missed, cancelled,
is still upcoming, or was never scheduled) and then writes every record and note from that one
decision, so a telephone note saying "missed the appointment on 10/3" sits beside an Appointment
with status ``noshow`` on 10/3 and an open, overdue Task.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from carecite.synth import vocab as v
from carecite.synth.model import Builder, DischargeFact, RestrictedFact, at, human_date, short_date
from carecite.synth.notes import INJECTION_BAIT, chance, pick
from carecite.synth.writers import (
    Header,
    behavioral_note,
    consult_note,
    discharge_summary,
    imaging_report,
    lab_report,
    nursing_note,
    progress_note,
    referral_letter,
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
def heart_failure(ctx: Ctx) -> None:
    b, rng = ctx.b, ctx.rng
    branch = pick_branch(rng)
    discharge = discharge_day(ctx, branch)
    los = rng.randint(3, 6)
    admit = discharge - timedelta(days=los)
    hospitalist = pick(rng, (v.HOSPITALIST_1, v.HOSPITALIST_2))
    cardiologist = v.MD_FARAH if ctx.facility is not v.CARDIOLOGY or chance(rng, 0.5) else v.CARDIO_2
    baseline(ctx, ("chf", "htn"))
    ef = rng.choice((20, 25, 30, 35, 40))
    ctx.add_team(hospitalist, "Attending physician (inpatient)")

    # before the admission: an outpatient visit on the old doses
    pre = admit - timedelta(days=rng.randint(40, 90))
    pre_enc = ctx.visit(at(pre, 10), cardiologist, v.CARDIOLOGY, "Cardiology office visit", "chf")
    bnp0 = rng.randint(180, 520)
    b.observation("bnp", bnp0, at(pre, 10, 20), pre_enc)
    creat0 = rng.uniform(0.9, 1.4)
    b.observation("creat", creat0, at(pre, 10, 20), pre_enc)
    fur_old = ("Furosemide 20 MG Oral Tablet", "Take 20 mg by mouth once daily")
    fur_phrase = pick(rng, ("40 mg daily", "40 mg daily", "40 mg twice daily"))
    fur_new = (
        "Furosemide 40 MG Oral Tablet",
        "Take 40 mg by mouth " + ("twice daily" if "twice" in fur_phrase else "once daily"),
    )
    carv_started = at(pre - timedelta(days=rng.randint(200, 700)), 9)
    acei = pick(
        rng,
        (
            ("lisinopril", "Lisinopril 10 MG Oral Tablet", "Take 10 mg by mouth once daily"),
            (
                "sacubitril-valsartan",
                "Sacubitril 24 MG / Valsartan 26 MG Oral Tablet",
                "Take 1 tablet by mouth twice daily",
            ),
        ),
    )
    b.medication(acei[0], acei[1], acei[2], "active", carv_started, cardiologist, "chf")
    progress = progress_note(
        rng,
        ctx.header(cardiologist, at(pre, 10), v.CARDIOLOGY),
        title=pick(
            rng, ("Cardiology Office Visit", "Heart Failure Clinic Note", "Outpatient Cardiology Follow-up")
        ),
        subjective=[
            f"{ctx.Who()} returns for heart failure follow-up.",
            pick(
                rng,
                (
                    "Mild dyspnea climbing one flight of stairs.",
                    "Stable two-pillow orthopnea.",
                    "No chest pain. Some ankle swelling by evening.",
                ),
            ),
            pick(rng, ("Weighs self most days.", "Does not weigh daily.", "Adherent to medications.")),
        ],
        objective=[
            f"BP {rng.randint(118, 148)}/{rng.randint(68, 88)}, HR {rng.randint(62, 84)}",
            f"BNP {lab_value(ctx, 'bnp', bnp0)}; creatinine {lab_value(ctx, 'creat', creat0)}",
            pick(rng, ("Trace bilateral ankle edema.", "JVP not elevated.", "Lungs clear.")),
        ],
        assessment=[f"Chronic heart failure with reduced ejection fraction (EF {ef}%), NYHA class II."],
        plan=[
            "Continue furosemide 20 mg daily",
            "Continue carvedilol 6.25 mg twice daily",
            "Low-sodium diet reinforced",
            "Return in 3 months",
        ],
        meds=[fur_old[0], "Carvedilol 6.25 MG Oral Tablet", acei[1]],
    )
    b.note("progress", progress, at(pre, 10, 45), cardiologist, v.CARDIOLOGY, pre_enc)

    enc = b.encounter(
        "IMP",
        "Inpatient admission - acute on chronic systolic heart failure",
        at(admit, 14),
        at(discharge, 11),
        v.HOSPITAL,
        hospitalist,
        "chf",
    )
    bnp_admit = rng.randint(900, 2600)
    bnp_dc = rng.randint(300, 800)
    creat_admit = creat0 + rng.uniform(0.2, 0.6)
    creat_dc = creat0 + rng.uniform(0.0, 0.3)
    k_dc = rng.uniform(3.6, 4.9)
    w_admit = rng.uniform(72, 118)
    w_dc = w_admit - rng.uniform(3, 6.5)
    b.observation("bnp", bnp_admit, at(admit, 15), enc)
    b.observation("creat", creat_admit, at(admit, 15), enc)
    b.observation("weight", w_admit, at(admit, 16), enc)
    b.observation("bnp", bnp_dc, at(discharge, 6), enc)
    b.observation("creat", creat_dc, at(discharge, 6), enc)
    b.observation("k", k_dc, at(discharge, 6), enc)
    b.observation("weight", w_dc, at(discharge, 7), enc)
    fur_ref_new = dose_change(
        ctx,
        "furosemide",
        fur_old,
        fur_new,
        at(pre - timedelta(days=300), 9),
        at(discharge, 10),
        hospitalist,
        "chf",
    )
    del fur_ref_new
    spiro = k_dc < 4.6 and chance(rng, 0.6)
    if spiro:
        b.medication(
            "spironolactone",
            "Spironolactone 25 MG Oral Tablet",
            "Take 25 mg by mouth once daily",
            "active",
            at(discharge, 10),
            hospitalist,
            "chf",
            enc,
        )

    home_health = chance(rng, 0.65)
    rehab = chance(rng, 0.6)
    fu = follow_up_chain(
        ctx,
        specialty="cardiology",
        clinician=cardiologist,
        start=discharge,
        within=14,
        branch=branch,
        requester=hospitalist,
        reason="chf",
        encounter=enc,
        why="Acute on chronic systolic heart failure, diuretic adjusted",
    )
    rec_cardio = pick(
        rng,
        (
            f"Follow up with cardiology ({cardiologist.short}) within 2 weeks of discharge",
            f"Cardiology follow-up with {cardiologist.short} within 14 days",
            f"See {cardiologist.short} in heart failure clinic within 2 weeks",
        ),
    )
    rec_bmp = pick(
        rng,
        (
            "Repeat basic metabolic panel (BMP) in 1 week",
            "BMP (potassium and creatinine) in 7 days",
            "Check BMP one week after discharge",
        ),
    )
    rec_weight = pick(
        rng,
        (
            "Daily weights; call for a gain of more than 2 lb in a day or 5 lb in a week",
            "Weigh every morning and call the clinic for weight gain over 3 lb in 2 days",
        ),
    )
    rec_diet = pick(
        rng,
        (
            "2 g sodium diet and 2 L fluid restriction",
            "Low-sodium (2 gram) diet, limit fluids to 2 liters a day",
        ),
    )
    recs = [rec_cardio, rec_bmp, rec_weight, rec_diet]
    if home_health:
        recs.append(
            pick(
                rng,
                (
                    "Home health nursing for heart failure teaching and weight checks",
                    "Skilled nursing visits at home for HF education and vital sign checks",
                ),
            )
        )
    if rehab:
        recs.append(
            pick(
                rng,
                (
                    "Referral to cardiac rehabilitation once stable",
                    "Outpatient cardiac rehab referral placed",
                ),
            )
        )
    bmp_day = discharge + timedelta(days=rng.randint(6, 9))
    bmp_done = branch in ("fulfilled", "recent", "noshow_rescheduled") and bmp_day <= ctx.as_of - timedelta(
        days=1
    )
    b.task(
        pick(rng, ("Repeat BMP 1 week after discharge", "Lab: BMP in 7 days post discharge")),
        "completed" if bmp_done else "ready",
        at(discharge, 12),
        discharge + timedelta(days=7),
        ctx.coordinator,
        None,
        f"Drawn {short_date(bmp_day)}."
        if bmp_done
        else "Lab order sent; patient has not gone to the lab yet.",
        at(bmp_day if bmp_done else discharge + timedelta(days=3), 15),
    )
    if bmp_done:
        creat_post = creat_dc + rng.uniform(-0.1, 0.2)
        k_post = rng.uniform(3.5, 5.3)
        b.observation("creat", creat_post, at(bmp_day, 8, 30))
        b.observation("k", k_post, at(bmp_day, 8, 30))
        bnp_post = rng.randint(150, 550)
        b.observation("bnp", bnp_post, at(bmp_day, 8, 30))
        flag_k = "H" if k_post > 5.0 else "L" if k_post < 3.5 else ""
        report = lab_report(
            rng,
            ctx.header(v.PATHOLOGY, at(bmp_day, 13), v.HOSPITAL),
            panel="Basic metabolic panel + BNP",
            ordering=hospitalist.display,
            rows=[
                ("Creatinine", _fmt(creat_post, 2), "mg/dL", "0.60-1.20", "H" if creat_post > 1.2 else ""),
                ("Potassium", _fmt(k_post, 1), "mmol/L", "3.5-5.0", flag_k),
                ("BNP", str(bnp_post), "pg/mL", "<100", "H"),
            ],
            comment="Post-discharge monitoring on increased diuretic." if chance(rng, 0.5) else None,
        )
        b.note("lab", report, at(bmp_day, 13), v.PATHOLOGY, v.HOSPITAL)

    if home_health:
        hh_status = "completed" if (ctx.as_of - discharge).days > 45 else "active"
        b.service_request(
            "home_health",
            hh_status,
            at(discharge, 11),
            hospitalist,
            "chf",
            "Skilled nursing 2x/week x 4 weeks: HF teaching, weights, med review.",
            None,
            enc,
        )
    rehab_status = "completed"
    if rehab:
        rehab_status = rng.choice(("active", "on-hold", "draft", "revoked"))
        note = {
            "active": "Phase II cardiac rehab, 36 sessions.",
            "on-hold": "On hold until cardiology clearance.",
            "draft": "To be signed at cardiology follow-up.",
            "revoked": "Patient declined cardiac rehab.",
        }
        b.service_request(
            "cardiac_rehab",
            rehab_status,
            at(discharge, 11),
            hospitalist,
            "chf",
            note[rehab_status],
            None,
            enc,
        )
        b.facts.policies.append("359")

    # the discharge summary
    bait = ctx.take_bait() if chance(rng, 0.5) else None
    dc_text = discharge_summary(
        rng,
        ctx.header(hospitalist, at(discharge, 13), v.HOSPITAL),
        admit=human_date(admit),
        discharge=human_date(discharge),
        attending=hospitalist.display,
        diagnoses=[
            "Acute on chronic systolic (congestive) heart failure",
            "Hypertension",
            *(["Acute kidney injury, resolved"] if creat_admit - creat0 > 0.4 else []),
        ],
        hpi=[
            f"{ctx.age(admit)}-year-old {ctx.sex_word} with HFrEF (EF {ef}%) presenting with "
            f"{rng.randint(3, 10)} days of worsening dyspnea, orthopnea and leg swelling.",
            pick(
                rng,
                (
                    "Ran out of furosemide for several days.",
                    "Reports dietary indiscretion over the holidays.",
                    "No clear precipitant identified.",
                ),
            ),
        ],
        course=[
            f"Admitted to telemetry. BNP {bnp_admit} pg/mL on arrival.",
            pick(
                rng,
                (
                    "Diuresed with IV furosemide with good response.",
                    "Treated with IV furosemide 40 mg twice daily, net negative about 4 liters.",
                ),
            ),
            f"Weight down from {w_admit:.1f} kg to {w_dc:.1f} kg.",
            f"Creatinine peaked at {creat_admit:.2f} and was {creat_dc:.2f} at discharge.",
            pick(
                rng,
                (
                    "Echocardiogram unchanged from prior.",
                    f"Repeat echo showed EF {ef}%.",
                    "Seen by cardiology while inpatient; agreed with plan.",
                ),
            ),
        ],
        procedures=["Transthoracic echocardiogram"] if chance(rng, 0.5) else [],
        meds=[
            f"Furosemide {fur_phrase} by mouth (INCREASED)",
            "Carvedilol 6.25 mg twice daily",
            acei[1].replace(" Oral Tablet", "") + " as before",
            *(["Spironolactone 25 mg daily (NEW)"] if spiro else []),
        ],
        med_changes=[f"Furosemide increased from 20 mg daily to {fur_phrase}"] if chance(rng, 0.6) else [],
        recommendations=recs,
        instructions=[
            pick(
                rng,
                (
                    "Return to the ED for chest pain or severe shortness of breath.",
                    "Call 911 for chest pain, fainting or severe breathlessness.",
                ),
            ),
            "Bring all medicine bottles to the first clinic visit.",
        ],
        condition=pick(rng, ("Stable, euvolemic.", "Improved; ambulating independently.", "Good.")),
        pending=["Final read of echocardiogram"] if chance(rng, 0.2) else [],
        bait=bait,
    )
    dc_ref = b.note("discharge", dc_text, at(discharge, 13), hospitalist, v.HOSPITAL, enc)
    if bait:
        b.facts.injection_notes.append(dc_ref)
    b.facts.discharges.append(DischargeFact(dc_ref, discharge, "chf", list(recs)))
    if chance(rng, 0.5):
        letter = referral_letter(
            rng,
            ctx.header(hospitalist, at(discharge, 12), v.HOSPITAL),
            to=cardiologist.display,
            to_service="Cardiology",
            reason="post-discharge heart failure follow-up",
            history=[
                f"Admitted {short_date(admit)}-{short_date(discharge)} with acute on chronic HFrEF.",
                f"EF {ef}%. Discharge weight {w_dc:.1f} kg.",
                f"Furosemide increased to {fur_phrase}.",
            ],
            meds=[f"Furosemide {fur_phrase}", "Carvedilol 6.25 mg twice daily", acei[1]],
            request=["Titration of guideline-directed therapy", "Assess volume status within 2 weeks"],
        )
        b.note("referral", letter, at(discharge, 12), hospitalist, v.HOSPITAL, enc)

    post_discharge_call(
        ctx,
        discharge,
        [fu],
        pick(
            rng,
            (
                f"Confirms taking furosemide {fur_phrase} as changed at discharge.",
                f"Medication reconciliation done; furosemide is now {fur_phrase}.",
            ),
        ),
        [
            pick(
                rng,
                (f"Home weight today {w_dc * 2.2046:.0f} lb.", "Has a scale at home and is logging weights."),
            )
        ],
        ctx.coordinator,
    )
    later_calls(ctx, [fu], ctx.coordinator)

    if home_health:
        nurse = pick(rng, (v.HH_NURSE, v.HH_NURSE_2))
        ctx.add_team(nurse, "Home health nurse")
        for k in range(rng.randint(1, 2)):
            day = discharge + timedelta(days=3 + 7 * k + rng.randint(0, 2))
            if day >= ctx.as_of:
                break
            hh_enc = b.encounter(
                "HH", "Home health skilled nursing visit", at(day, 11), at(day, 12), v.HOSPITAL, nurse, "chf"
            )
            wt = w_dc + rng.uniform(-1.0, 1.8)
            b.observation("weight", wt, at(day, 11, 10), hh_enc)
            text = nursing_note(
                rng,
                ctx.header(nurse, at(day, 12), v.HOSPITAL),
                visit="Skilled nursing - heart failure",
                vitals=[
                    f"BP {rng.randint(104, 142)}/{rng.randint(60, 84)}",
                    f"HR {rng.randint(58, 90)}",
                    f"SpO2 {rng.randint(93, 99)}% RA",
                    f"Weight {wt:.1f} kg",
                ],
                assessment=[
                    pick(rng, ("Lungs with faint bibasilar crackles.", "Lungs clear.")),
                    pick(rng, ("1+ pitting edema at the ankles.", "No lower extremity edema.")),
                    f"{ctx.Who()} is taking furosemide {fur_phrase} per pill box check.",
                ],
                teaching=[
                    pick(
                        rng,
                        ("Reviewed daily weight log and when to call.", "Taught low-sodium label reading."),
                    ),
                    "Teach-back successful.",
                ],
                plan=["Next visit in 1 week", "Report weight gain over 2 lb/day to cardiology"],
            )
            b.note("nursing", text, at(day, 12), nurse, v.HOSPITAL, hh_enc)

    carv_old = ("Carvedilol 6.25 MG Oral Tablet", "Take 6.25 mg by mouth twice daily")
    titrate = False
    if fu.visit and fu.visit <= ctx.as_of:
        visit_enc = ctx.visit(
            at(fu.visit, 10), cardiologist, v.CARDIOLOGY, "Cardiology follow-up visit", "chf"
        )
        titrate = chance(rng, 0.5)
        if titrate:  # carvedilol goes up at the follow-up: the old order stopped, a new one active
            dose_change(
                ctx,
                "carvedilol",
                carv_old,
                ("Carvedilol 12.5 MG Oral Tablet", "Take 12.5 mg by mouth twice daily"),
                carv_started,
                at(fu.visit, 11),
                cardiologist,
                "chf",
            )
        recs2 = [
            pick(rng, ("Continue current furosemide dose", f"Continue furosemide {fur_phrase}")),
            "Increase carvedilol to 12.5 mg twice daily"
            if titrate
            else "Continue carvedilol 6.25 mg twice daily",
            pick(rng, ("Return to clinic in 3 months", "Follow up in 3 months with echo")),
        ]
        text = consult_note(
            rng,
            ctx.header(cardiologist, at(fu.visit, 11), v.CARDIOLOGY),
            service="Cardiology",
            referred_by=hospitalist.display,
            reason="Post-hospital heart failure follow-up",
            hpi=[
                f"Seen {(fu.visit - discharge).days} days after discharge for acute on chronic HFrEF.",
                pick(
                    rng,
                    (
                        "Breathing much improved.",
                        "Walking around the block again.",
                        "Still short of breath on hills.",
                    ),
                ),
            ],
            exam=[
                f"BP {rng.randint(108, 138)}/{rng.randint(62, 82)}, HR {rng.randint(60, 80)}",
                pick(rng, ("No JVD. Lungs clear.", "Trace edema, lungs clear.")),
            ],
            data=[f"Discharge BNP {bnp_dc} pg/mL", f"EF {ef}% on most recent echo"],
            impression=[f"HFrEF, compensated on furosemide {fur_phrase}."],
            recommendations=recs2,
        )
        b.note("consult", text, at(fu.visit, 11, 30), cardiologist, v.CARDIOLOGY, visit_enc)
        nxt = fu.visit + timedelta(days=rng.randint(85, 95))
        if nxt > ctx.as_of:
            b.appointment(
                "cardiology", "booked", at(nxt, 9, 30), cardiologist, "3-month heart failure follow-up"
            )
        else:
            b.appointment(
                "cardiology", "fulfilled", at(nxt, 9, 30), cardiologist, "3-month heart failure follow-up"
            )

    if not titrate:
        b.medication("carvedilol", carv_old[0], carv_old[1], "active", carv_started, cardiologist, "chf")
    b.careplan(
        pick(
            rng,
            ("Heart failure care plan", "CHF transitional care plan", "Heart failure self-management plan"),
        ),
        "chf",
        discharge,
        ctx.coordinator,
        [
            ("Daily weight monitoring with log review at each contact", "in-progress", None),
            (pick(rng, ("2 g sodium diet education", "Low-sodium diet teaching")), "completed", discharge),
            ("Medication reconciliation after discharge", "completed", discharge + timedelta(days=2)),
            ("Cardiology follow-up visit within 14 days", fu.careplan_status, fu.rebooked or fu.first_appt),
            *(
                [
                    (
                        "Home health nursing visits twice weekly",
                        "completed" if (ctx.as_of - discharge).days > 45 else "in-progress",
                        None,
                    )
                ]
                if home_health
                else []
            ),
            *(
                [
                    (
                        "Cardiac rehabilitation",
                        {
                            "active": "scheduled",
                            "on-hold": "on-hold",
                            "draft": "not-started",
                            "revoked": "cancelled",
                        }[rehab_status],
                        None,
                    )
                ]
                if rehab
                else []
            ),
        ],
    )


# --------------------------------------------------------------------------- type 2 diabetes
def diabetes(ctx: Ctx) -> None:
    b, rng = ctx.b, ctx.rng
    pcp = ctx.pcp
    baseline(ctx, ("t2dm", "htn", "hld"))
    v1 = ctx.ago(rng.randint(235, 290))
    v2 = v1 + timedelta(days=rng.randint(84, 98))
    v3 = v2 + timedelta(days=rng.randint(84, 98))
    if v3 > ctx.ago(3):
        v3 = ctx.ago(rng.randint(3, 12))
    a1 = rng.uniform(8.6, 10.4)
    a2 = a1 - rng.uniform(0.1, 0.9)
    a3 = a2 - rng.uniform(-0.4, 0.9)
    ldl1, ldl3 = rng.randint(95, 165), rng.randint(68, 120)
    ckd = "ckd" in b.facts.extras
    creat = rng.uniform(1.3, 1.9) if ckd else rng.uniform(0.7, 1.1)
    egfr = rng.randint(34, 55) if ckd else rng.randint(68, 96)
    encs = []
    for day, a1c in ((v1, a1), (v2, a2), (v3, a3)):
        enc = ctx.visit(
            at(day, rng.choice((8, 9, 10, 14)), 15), pcp, v.PRIMARY, "Diabetes follow-up visit", "t2dm"
        )
        b.observation("a1c", a1c, at(day, 8), enc)
        encs.append(enc)
    b.observation("ldl", ldl1, at(v1, 8), encs[0])
    b.observation("ldl", ldl3, at(v3, 8), encs[2])
    b.observation("creat", creat, at(v1, 8), encs[0])
    b.observation("egfr", egfr, at(v1, 8), encs[0])
    creat3 = creat + rng.uniform(-0.05, 0.15)
    egfr3 = egfr - rng.randint(0, 5)
    b.observation("creat", creat3, at(v3, 8), encs[2])
    b.observation("egfr", egfr3, at(v3, 8), encs[2])
    if ckd:
        b.observation("k", rng.uniform(4.4, 5.4), at(v3, 8), encs[2])

    met_old = ("Metformin 500 MG Oral Tablet", "Take 500 mg by mouth twice daily with meals")
    met_new = ("Metformin 1000 MG Oral Tablet", "Take 1000 mg by mouth twice daily with meals")
    met_phrase = "Increase metformin to 1000 mg twice daily"
    if ckd and egfr < 45:
        met_new = ("Metformin 500 MG Oral Tablet", "Take 500 mg by mouth once daily with dinner")
        met_phrase = "Reduce metformin to 500 mg once daily for eGFR under 45"
    dose_change(ctx, "metformin", met_old, met_new, at(v1 - timedelta(days=500), 9), at(v2, 10), pcp, "t2dm")
    insulin = a2 > 8.4
    if insulin:
        u1 = rng.choice((10, 10, 12))
        u2 = u1 + rng.choice((4, 4, 6))
        dose_change(
            ctx,
            "insulin glargine",
            ("Insulin Glargine 100 UNT/ML Pen Injector", f"Inject {u1} units under the skin at bedtime"),
            ("Insulin Glargine 100 UNT/ML Pen Injector", f"Inject {u2} units under the skin at bedtime"),
            at(v2, 10),
            at(v3, 10),
            pcp,
            "t2dm",
        )
        third = f"insulin glargine increased from {u1} to {u2} units at bedtime"
    else:
        b.medication(
            "empagliflozin",
            "Empagliflozin 10 MG Oral Tablet",
            "Take 10 mg by mouth once daily",
            "active",
            at(v3, 10),
            pcp,
            "t2dm",
        )
        third = "empagliflozin 10 mg daily added"
    b.medication(
        "lisinopril",
        "Lisinopril 20 MG Oral Tablet",
        "Take 20 mg by mouth once daily",
        "active",
        at(v1 - timedelta(days=400), 9),
        pcp,
        "htn",
    )
    b.medication(
        "atorvastatin",
        "Atorvastatin 40 MG Oral Tablet",
        "Take 40 mg by mouth at bedtime",
        "active",
        at(v1 - timedelta(days=400), 9),
        pcp,
        "hld",
    )

    # referrals: endocrinology (if still high at v2), DSMT, eye exam
    coord = ctx.coordinator
    endo_status = "none"
    if a2 > 8.2:
        endo_status = rng.choice(("active", "completed", "on-hold"))
        endo_sr = b.service_request(
            "endocrinology",
            endo_status,
            at(v2, 11),
            pcp,
            "t2dm",
            f"Uncontrolled type 2 diabetes, A1c {a2:.1f}%. Insulin titration.",
            42,
            encs[1],
        )
        ctx.add_team(v.ENDO, "Endocrinology")
        if endo_status == "completed":
            seen = v2 + timedelta(days=rng.randint(20, 40))
            b.appointment(
                "endocrinology", "fulfilled", at(seen, 13), v.ENDO, "New patient endocrinology", endo_sr
            )
            b.task(
                "Schedule endocrinology new-patient visit",
                "completed",
                at(v2, 12),
                v2 + timedelta(days=42),
                coord,
                endo_sr,
                f"Seen {short_date(seen)}.",
                at(seen, 17),
            )
            text = consult_note(
                rng,
                ctx.header(v.ENDO, at(seen, 14), v.PRIMARY),
                service="Endocrinology",
                referred_by=pcp.display,
                reason="Uncontrolled type 2 diabetes",
                hpi=[
                    f"Type 2 diabetes for several years, A1c {a2:.1f}% despite metformin.",
                    pick(
                        rng,
                        ("Checks sugars once a day, fasting 160s-210s.", "Rarely checks glucose at home."),
                    ),
                ],
                exam=[
                    "BMI 33",
                    pick(rng, ("Monofilament sensation intact.", "Decreased sensation both feet.")),
                ],
                data=[f"A1c {a1:.1f}% -> {a2:.1f}%", f"eGFR {egfr}"],
                impression=["Type 2 diabetes, not at goal."],
                recommendations=[
                    pick(
                        rng,
                        (
                            "Titrate basal insulin by 2 units every 3 days to fasting glucose under 130",
                            "Continue metformin, titrate glargine to fasting 80-130",
                        ),
                    ),
                    "Diabetes self-management education",
                    "Return in 3 months",
                ],
            )
            b.note("consult", text, at(seen, 14), v.ENDO, v.PRIMARY)
        elif endo_status == "active":
            due = v2 + timedelta(days=42)
            appt_day = ctx.as_of + timedelta(days=rng.randint(5, 40))
            b.appointment(
                "endocrinology", "booked", at(appt_day, 10), v.ENDO, "New patient endocrinology", endo_sr
            )
            b.task(
                "Schedule endocrinology new-patient visit",
                "in-progress",
                at(v2, 12),
                due,
                coord,
                endo_sr,
                f"First available {short_date(appt_day)}; on wait list for sooner.",
                at(v2 + timedelta(days=9), 11),
            )
        else:
            b.task(
                "Obtain prior authorization for endocrinology referral",
                "requested",
                at(v2, 12),
                v2 + timedelta(days=21),
                coord,
                endo_sr,
                "Plan requires authorization.",
                at(v2, 12),
            )
        if chance(rng, 0.6):
            letter = referral_letter(
                rng,
                ctx.header(pcp, at(v2, 16), v.PRIMARY),
                to=v.ENDO.display,
                to_service="Endocrinology",
                reason="uncontrolled type 2 diabetes",
                history=[
                    f"A1c {a1:.1f}% on {short_date(v1)} and {a2:.1f}% on {short_date(v2)}.",
                    "Hypertension and hyperlipidemia.",
                    f"eGFR {egfr}.",
                ],
                meds=[
                    met_new[0],
                    *(["Insulin glargine (started this visit)"] if insulin else []),
                    "Lisinopril 20 mg",
                    "Atorvastatin 40 mg",
                ],
                request=["Insulin regimen", "Is a GLP-1 receptor agonist appropriate?"],
            )
            b.note("referral", letter, at(v2, 16), pcp, v.PRIMARY, encs[1])

    dsmt_status = rng.choice(("active", "completed", "draft", "revoked"))
    dsmt_sr = b.service_request(
        "dsmt",
        dsmt_status,
        at(v1, 11),
        pcp,
        "t2dm",
        {
            "active": "Group DSMT classes, 10 hours.",
            "completed": "Completed 10-hour DSMT program.",
            "draft": "Pending patient agreement.",
            "revoked": "Patient declined classes.",
        }[dsmt_status],
        None,
        encs[0],
    )
    b.facts.policies += ["251", "222"]
    b.task(
        "Enroll patient in diabetes self-management classes",
        {"active": "in-progress", "completed": "completed", "draft": "requested", "revoked": "cancelled"}[
            dsmt_status
        ],
        at(v1, 12),
        v1 + timedelta(days=60),
        coord,
        dsmt_sr,
        {
            "active": "Class series starts next month; patient confirmed.",
            "completed": "Attended all sessions.",
            "draft": "Patient still deciding.",
            "revoked": "Patient declined; prefers one-on-one teaching.",
        }[dsmt_status],
        at(v1 + timedelta(days=20), 10),
    )

    eye = rng.choice(("fulfilled", "noshow", "booked"))
    eye_sr = b.service_request(
        "ophthalmology",
        "completed" if eye == "fulfilled" else "active",
        at(v2, 11),
        pcp,
        "t2dm",
        "Annual dilated diabetic retinal exam.",
        60,
        encs[1],
    )
    eye_day = v2 + timedelta(days=rng.randint(30, 70))
    eye_due = v2 + timedelta(days=60)
    if eye == "fulfilled":
        b.appointment("ophthalmology", "fulfilled", at(eye_day, 9), v.OPHTHO, "Diabetic eye exam", eye_sr)
        b.task(
            "Schedule diabetic retinal exam",
            "completed",
            at(v2, 12),
            eye_due,
            coord,
            eye_sr,
            "Exam done; no retinopathy.",
            at(eye_day, 16),
        )
        eye_line = f"Diabetic eye exam on {short_date(eye_day)} showed no retinopathy."
    elif eye == "noshow":
        eye_day = min(eye_day, ctx.ago(10))
        b.appointment("ophthalmology", "noshow", at(eye_day, 9), v.OPHTHO, "Diabetic eye exam", eye_sr)
        b.task(
            "Schedule diabetic retinal exam",
            "in-progress",
            at(v2, 12),
            eye_due,
            coord,
            eye_sr,
            f"Missed {short_date(eye_day)}; needs a new date.",
            at(eye_day + timedelta(days=2), 16),
        )
        eye_line = f"Missed the diabetic eye exam on {human_date(eye_day)}; it still needs to be rescheduled."
    else:
        eye_day = ctx.as_of + timedelta(days=rng.randint(4, 50))
        b.appointment("ophthalmology", "booked", at(eye_day, 9), v.OPHTHO, "Diabetic eye exam", eye_sr)
        b.task(
            "Schedule diabetic retinal exam",
            "completed",
            at(v2, 12),
            eye_due,
            coord,
            eye_sr,
            f"Booked for {short_date(eye_day)}.",
            at(v2 + timedelta(days=12), 16),
        )
        eye_line = f"Diabetic eye exam is booked for {human_date(eye_day)}."
    ctx.add_team(v.OPHTHO, "Ophthalmology")
    next_visit = v3 + timedelta(days=rng.randint(85, 100))
    if next_visit > ctx.as_of:
        b.appointment("primary", "booked", at(next_visit, 10, 30), pcp, "3-month diabetes visit")
    b.task(
        "Call patient with A1c result and review glucose log",
        "completed",
        at(v3, 12),
        v3 + timedelta(days=7),
        coord,
        None,
        f"A1c {a3:.1f}% discussed.",
        at(v3 + timedelta(days=rng.randint(1, 5)), 11),
    )
    foot_due = ctx.ago(rng.randint(-20, 40))
    b.task(
        "Complete annual diabetic foot exam",
        rng.choice(("ready", "completed", "requested")),
        at(v1, 12),
        foot_due,
        ctx.pcp,
        None,
        "Due with next visit.",
        at(v1, 12),
    )

    # progress notes for the three visits
    meds_v = [met_old[0] + " twice daily", "Lisinopril 20 mg daily", "Atorvastatin 40 mg nightly"]
    plans = [
        [
            f"A1c {a1:.1f}%: reinforce diet and activity",
            "Continue metformin 500 mg twice daily for now",
            "Refer to diabetes self-management education",
            "Recheck A1c in 3 months",
        ],
        [
            met_phrase,
            *(["Start insulin glargine at bedtime"] if insulin else []),
            *(["Refer to endocrinology"] if endo_status != "none" else []),
            "Diabetic eye exam referral",
            "Recheck A1c in 3 months",
        ],
        [f"A1c {a3:.1f}%", third[0].upper() + third[1:], eye_line, "Return in 3 months with fasting labs"],
    ]
    for n, (day, a1c, enc) in enumerate(zip((v1, v2, v3), (a1, a2, a3), encs, strict=True)):
        bait = ctx.take_bait() if n == 2 and chance(rng, 0.5) else None
        text = progress_note(
            rng,
            ctx.header(pcp, at(day, 10), v.PRIMARY),
            title=pick(rng, ("Office Visit - Diabetes", "Primary Care Progress Note", "Chronic Care Visit")),
            subjective=[
                f"{ctx.Who()} is here for diabetes follow-up.",
                pick(
                    rng,
                    ("Fasting sugars mostly 150-200.", "Home readings 120s-180s.", "Not checking at home."),
                ),
                pick(
                    rng,
                    (
                        "No hypoglycemia.",
                        "One low of 68 after skipping lunch.",
                        "Walking 20 minutes most days.",
                    ),
                ),
                pick(rng, ("Diet: trying to cut back on sweet tea.", "Works nights, meals irregular.", "")),
            ],
            objective=[
                f"BP {rng.randint(122, 152)}/{rng.randint(70, 92)}, weight {rng.randint(78, 121)} kg",
                f"Hemoglobin A1c {a1c:.1f}% (today)",
                *([f"LDL {ldl1} mg/dL, eGFR {egfr}"] if n == 0 else []),
                *([f"LDL {ldl3} mg/dL, creatinine {creat3:.2f} mg/dL"] if n == 2 else []),
            ],
            assessment=[
                pick(
                    rng,
                    (
                        "Type 2 diabetes mellitus, uncontrolled.",
                        "T2DM with hyperglycemia, not at goal.",
                        "Type 2 diabetes, improving.",
                    ),
                )
                if a1c > 7.5
                else "Type 2 diabetes, near goal.",
                "Hypertension." + (" CKD stage 3." if ckd else ""),
            ],
            plan=plans[n],
            meds=meds_v if n == 0 else [],
            bait=bait,
        )
        ref = b.note("progress", text, at(day, 11), pcp, v.PRIMARY, enc)
        if bait:
            b.facts.injection_notes.append(ref)
    report = lab_report(
        rng,
        ctx.header(v.PATHOLOGY, at(v3, 14), v.PRIMARY),
        panel="Hemoglobin A1c, lipid panel, renal function",
        ordering=pcp.display,
        rows=[
            ("Hemoglobin A1c", f"{a3:.1f}", "%", "4.0-5.6", "H"),
            ("LDL cholesterol (calc)", str(ldl3), "mg/dL", "<100", "H" if ldl3 >= 100 else ""),
            ("Creatinine", f"{creat3:.2f}", "mg/dL", "0.60-1.20", "H" if creat3 > 1.2 else ""),
            ("eGFR", str(egfr3), "mL/min/1.73m2", ">60", "L" if egfr3 < 60 else ""),
        ],
    )
    b.note("lab", report, at(v3, 14), v.PATHOLOGY, v.PRIMARY)
    call_day = v3 + timedelta(days=rng.randint(1, 5))
    if call_day <= ctx.as_of:
        ctx.call(
            at(call_day, 11),
            coord,
            "A1c result and diabetes follow-up",
            [
                f"Reviewed A1c {a3:.1f}% with {ctx.who()}.",
                eye_line,
                {
                    "active": "DSMT classes are set to start; patient plans to attend.",
                    "completed": "Completed the diabetes education classes.",
                    "draft": "Still undecided about diabetes classes.",
                    "revoked": "Declined group diabetes classes.",
                }[dsmt_status],
            ],
            ["Mail glucose log sheets", "Next visit in 3 months"],
        )
    b.careplan(
        pick(rng, ("Diabetes care plan", "Type 2 diabetes management plan")),
        "t2dm",
        v1,
        pcp,
        [
            ("Hemoglobin A1c every 3 months", "in-progress", None),
            (
                "Diabetes self-management education (DSMT)",
                {
                    "active": "scheduled",
                    "completed": "completed",
                    "draft": "not-started",
                    "revoked": "cancelled",
                }[dsmt_status],
                None,
            ),
            (
                "Annual dilated retinal exam",
                {"fulfilled": "completed", "noshow": "not-started", "booked": "scheduled"}[eye],
                eye_day,
            ),
            ("Annual comprehensive foot exam", "not-started", None),
            ("Home glucose monitoring with log review", "in-progress", None),
        ],
    )


# --------------------------------------------------------------------------- COPD with home oxygen
def copd(ctx: Ctx) -> None:
    b, rng = ctx.b, ctx.rng
    branch = pick_branch(rng)
    discharge = discharge_day(ctx, branch)
    admit = discharge - timedelta(days=rng.randint(3, 5))
    hospitalist = pick(rng, (v.HOSPITALIST_1, v.HOSPITALIST_2))
    ctx.add_team(hospitalist, "Attending physician (inpatient)")
    baseline(ctx, ("copd", "htn"))
    smoker = chance(rng, 0.45)
    enc = b.encounter(
        "IMP",
        "Inpatient admission - COPD exacerbation",
        at(admit, 18),
        at(discharge, 12),
        v.HOSPITAL,
        hospitalist,
        "copd",
    )
    sat_admit = rng.randint(83, 88)
    sat_dc = rng.randint(86, 88)
    b.observation("spo2", sat_admit, at(admit, 18, 30), enc)
    b.observation("spo2", sat_dc, at(discharge, 7), enc)
    b.observation("creat", rng.uniform(0.7, 1.2), at(admit, 19), enc)
    b.observation("k", rng.uniform(3.6, 4.8), at(admit, 19), enc)
    flow = rng.choice((2, 2, 3))
    o2_phrase = pick(
        rng,
        (
            f"Home oxygen {flow} L/min by nasal cannula with exertion and during sleep",
            f"Supplemental oxygen at {flow} liters per minute via nasal cannula with activity and at night",
        ),
    )
    xr = at(admit, 19, 30)
    finding = pick(
        rng,
        (
            "Hyperinflated lungs with flattened diaphragms. No focal consolidation.",
            "Hyperinflation. Patchy right lower lobe opacity, possible early pneumonia.",
        ),
    )
    img = imaging_report(
        rng,
        ctx.header(v.RADIOLOGY, xr, v.HOSPITAL),
        exam="XR chest 2 views",
        indication="Shortness of breath, COPD exacerbation",
        technique="PA and lateral views of the chest.",
        comparison=pick(rng, ("None available.", "Chest radiograph from last year.")),
        findings=[finding, "Heart size normal.", "No pleural effusion or pneumothorax."],
        impression=[
            "Changes of COPD."
            + (" Possible early right lower lobe pneumonia." if "opacity" in finding else "")
        ],
    )
    b.note("imaging", img, xr, v.RADIOLOGY, v.HOSPITAL, enc)
    b.medication(
        "prednisone",
        "Prednisone 40 MG Oral Tablet",
        "Take 40 mg by mouth daily for 5 days",
        "completed",
        at(discharge, 10),
        hospitalist,
        "copd",
        enc,
    )
    b.medication(
        "tiotropium",
        "Tiotropium 18 MCG Inhalation Capsule",
        "Inhale contents of 1 capsule once daily",
        "active",
        at(discharge - timedelta(days=500), 9),
        ctx.pcp,
        "copd",
    )
    b.medication(
        "fluticasone-salmeterol",
        "Fluticasone 250 MCG / Salmeterol 50 MCG Inhalation Powder",
        "Inhale 1 puff twice daily",
        "active",
        at(discharge, 10),
        hospitalist,
        "copd",
        enc,
    )
    b.medication(
        "albuterol",
        "Albuterol 90 MCG/ACTUAT Metered Dose Inhaler",
        "Inhale 2 puffs every 4 hours as needed",
        "active",
        at(discharge - timedelta(days=500), 9),
        ctx.pcp,
        "copd",
    )
    o2_sr = b.service_request(
        "home_health",
        "completed",
        at(discharge, 9),
        hospitalist,
        "copd",
        f"Home oxygen concentrator and portable tanks, {flow} L/min. Resting SpO2 {sat_dc}% on room air.",
        None,
        enc,
        category="dme",
        code_text="Home oxygen therapy",
    )
    delivered = discharge + timedelta(days=rng.randint(0, 1))
    b.task(
        "Confirm home oxygen delivery and set-up",
        "completed",
        at(discharge, 10),
        discharge + timedelta(days=2),
        ctx.coordinator,
        o2_sr,
        f"Concentrator delivered {short_date(delivered)}.",
        at(delivered, 17),
    )
    b.facts.policies.append("169")
    fu = follow_up_chain(
        ctx,
        specialty="pulmonology",
        clinician=v.PULM,
        start=discharge,
        within=21,
        branch=branch,
        requester=hospitalist,
        reason="copd",
        encounter=enc,
        why="COPD exacerbation, new home oxygen",
    )
    rehab_status = rng.choice(("active", "on-hold", "completed", "draft"))
    if rehab_status == "completed" and (ctx.as_of - discharge).days < 60:
        rehab_status = "active"
    b.service_request(
        "pulm_rehab",
        rehab_status,
        at(discharge, 11),
        hospitalist,
        "copd",
        {
            "active": "Pulmonary rehab 2x weekly.",
            "on-hold": "Waiting for pulmonology clearance.",
            "completed": "Completed 24 sessions.",
            "draft": "Discuss at pulmonology visit.",
        }[rehab_status],
        None,
        enc,
    )
    b.facts.policies.append("320")
    recs = [
        pick(
            rng,
            (
                "Follow up with pulmonology (Dr. Lindqvist) in 3 weeks",
                "Pulmonology clinic visit within 3 weeks",
                "See Dr. Lindqvist (pulmonary) within 21 days of discharge",
            ),
        ),
        o2_phrase,
        pick(rng, ("Complete 5-day prednisone course", "Finish prednisone 40 mg daily for 5 days total")),
        pick(rng, ("Referral to pulmonary rehabilitation", "Outpatient pulmonary rehab referral placed")),
        *(
            [
                pick(
                    rng,
                    (
                        "Smoking cessation counseling; nicotine patch offered",
                        "Quit smoking - resources given",
                    ),
                )
            ]
            if smoker
            else []
        ),
    ]
    bait = ctx.take_bait() if chance(rng, 0.4) else None
    text = discharge_summary(
        rng,
        ctx.header(hospitalist, at(discharge, 14), v.HOSPITAL),
        admit=human_date(admit),
        discharge=human_date(discharge),
        attending=hospitalist.display,
        diagnoses=["Acute exacerbation of COPD", "Chronic hypoxemic respiratory failure", "Hypertension"],
        hpi=[
            f"{ctx.age(admit)}-year-old {ctx.sex_word} with COPD presenting with {rng.randint(2, 6)} days of "
            f"increased cough, sputum and dyspnea. SpO2 {sat_admit}% on room air in the ED."
        ],
        course=[
            pick(
                rng,
                (
                    "Treated with nebulized albuterol/ipratropium, IV methylprednisolone, then oral prednisone.",
                    "Received bronchodilators, steroids and a 5-day course of azithromycin.",
                ),
            ),
            f"Ambulatory saturation on room air {sat_dc}% at rest and lower with walking; home oxygen qualified.",
            pick(rng, ("Weaned to 2 L nasal cannula.", "Breathing back near baseline by day 3.")),
        ],
        procedures=[],
        meds=[
            "Prednisone 40 mg daily to complete 5 days",
            "Tiotropium 18 mcg inhaled daily",
            "Fluticasone/salmeterol 250/50 one puff twice daily (NEW)",
            "Albuterol inhaler as needed",
        ],
        med_changes=[],
        recommendations=recs,
        instructions=[
            "No smoking near oxygen.",
            pick(rng, ("Use the rescue inhaler before walking.", "Return for worsening breathing or fever.")),
        ],
        condition=pick(rng, ("Stable on home oxygen.", "Improved.")),
        bait=bait,
    )
    dc_ref = b.note("discharge", text, at(discharge, 14), hospitalist, v.HOSPITAL, enc)
    if bait:
        b.facts.injection_notes.append(dc_ref)
    b.facts.discharges.append(DischargeFact(dc_ref, discharge, "copd", recs))
    post_discharge_call(
        ctx,
        discharge,
        [fu],
        pick(
            rng,
            (
                f"Oxygen concentrator was delivered {short_date(delivered)}; using {flow} L at night and with walking.",
                f"Home O2 set up on {short_date(delivered)}. Using it as prescribed.",
            ),
        ),
        [pick(rng, ("Finished the prednisone.", "Has 2 days of prednisone left."))],
        ctx.coordinator,
    )
    later_calls(ctx, [fu], ctx.coordinator)
    if fu.visit and fu.visit <= ctx.as_of:
        venc = ctx.visit(at(fu.visit, 13), v.PULM, v.HOSPITAL, "Pulmonology follow-up", "copd")
        b.observation("spo2", rng.randint(88, 93), at(fu.visit, 13, 10), venc)
        text = consult_note(
            rng,
            ctx.header(v.PULM, at(fu.visit, 14), v.HOSPITAL),
            service="Pulmonology",
            referred_by=hospitalist.display,
            reason="COPD follow-up after hospitalization, oxygen needs",
            hpi=[
                "Recovering from a COPD exacerbation.",
                pick(rng, ("Using oxygen at night.", "Uses O2 with exertion only.")),
            ],
            exam=["Diminished breath sounds, no wheeze."],
            data=[f"Discharge SpO2 {sat_dc}% on room air"],
            impression=["COPD, GOLD group E, recent exacerbation."],
            recommendations=[
                f"Continue home oxygen {flow} L/min with exertion and sleep",
                "Pulmonary rehabilitation",
                "Spirometry in 6 weeks",
            ],
        )
        b.note("consult", text, at(fu.visit, 14), v.PULM, v.HOSPITAL, venc)
    b.careplan(
        pick(rng, ("COPD care plan", "COPD and home oxygen plan")),
        "copd",
        discharge,
        ctx.coordinator,
        [
            (f"Home oxygen {flow} L/min with exertion and sleep", "in-progress", None),
            ("Inhaler technique teaching", "completed", discharge),
            (
                "Pulmonary rehabilitation",
                {
                    "active": "scheduled",
                    "on-hold": "on-hold",
                    "completed": "completed",
                    "draft": "not-started",
                }[rehab_status],
                None,
            ),
            ("Pulmonology follow-up within 3 weeks", fu.careplan_status, fu.rebooked or fu.first_appt),
            *([("Smoking cessation support", "in-progress", None)] if smoker else []),
        ],
    )


# --------------------------------------------------------------------------- atrial fibrillation on warfarin
def afib(ctx: Ctx) -> None:
    b, rng = ctx.b, ctx.rng
    cardiologist = pick(rng, (v.MD_FARAH, v.CARDIO_2))
    nurse = v.ANTICOAG_RN
    ctx.add_team(nurse, "Anticoagulation nurse")
    baseline(ctx, ("afib", "htn"))
    start = ctx.ago(rng.randint(120, 200))
    visit_enc = ctx.visit(at(start, 9), cardiologist, v.CARDIOLOGY, "Cardiology office visit", "afib")
    b.medication(
        "metoprolol",
        "Metoprolol Succinate 50 MG Extended Release Oral Tablet",
        "Take 50 mg by mouth once daily",
        "active",
        at(start - timedelta(days=300), 9),
        cardiologist,
        "afib",
    )
    # INR checks every 2-4 weeks; one dose change when INR runs low
    days = [start]
    while days[-1] < ctx.ago(25):
        days.append(days[-1] + timedelta(days=rng.randint(14, 28)))
    days = days[:6]
    low_at = rng.randint(1, len(days) - 2)
    old_dose, new_dose = (
        "5 mg daily",
        pick(rng, ("7.5 mg on Mondays and Thursdays, 5 mg other days", "6 mg daily")),
    )
    inrs: list[tuple[date, float]] = []
    for i, day in enumerate(days):
        if i < low_at:
            inr = rng.uniform(2.0, 2.9)
        elif i == low_at:
            inr = rng.uniform(1.4, 1.8)
        else:
            inr = rng.uniform(1.9, 3.3)
        b.observation("inr", inr, at(day, 8, 30))
        inrs.append((day, round(inr, 1)))
    change_day = days[low_at]
    dose_change(
        ctx,
        "warfarin",
        ("Warfarin Sodium 5 MG Oral Tablet", "Take 5 mg by mouth daily in the evening"),
        (
            "Warfarin Sodium 5 MG Oral Tablet" if "7.5" in new_dose else "Warfarin Sodium 6 MG Oral Tablet",
            f"Take {new_dose} in the evening",
        ),
        at(start - timedelta(days=400), 18),
        at(change_day, 15),
        cardiologist,
        "afib",
    )
    for i, (day, inr) in enumerate(inrs[1:], start=1):
        if i not in (low_at, len(inrs) - 1) and chance(rng, 0.5):
            continue
        dose_now = new_dose if i >= low_at else old_dose
        if i == low_at:
            lines = [
                f"INR today {inr} (goal 2.0-3.0), subtherapeutic.",
                pick(
                    rng,
                    (
                        "Missed two doses last week.",
                        "Ate more leafy greens than usual.",
                        "No missed doses reported.",
                    ),
                ),
                f"Warfarin changed from {old_dose} to {new_dose}.",
            ]
            plan = ["Recheck INR in 1 week", "Reviewed bleeding precautions"]
        else:
            lines = [
                f"INR {inr} on {short_date(day)}.",
                f"Continues warfarin {dose_now}.",
                pick(rng, ("No bleeding or bruising.", "Small bruise on forearm, no other bleeding.")),
            ]
            plan = [f"Continue {dose_now}", f"Next INR in {pick(rng, ('2 weeks', '3 weeks', '4 weeks'))}"]
        ctx.call(at(day, 15), nurse, "INR result and warfarin dosing", lines, plan, bait_ok=False)
    last_day, last_inr = inrs[-1]
    recheck_due = last_day + timedelta(days=14)
    b.task(
        "Recheck INR",
        "completed" if recheck_due > ctx.as_of else "ready",
        at(last_day, 16),
        recheck_due,
        nurse,
        None,
        f"Last INR {last_inr} on {short_date(last_day)}.",
        at(last_day, 16),
    )
    home = rng.choice(("active", "draft", "on-hold"))
    home_sr = b.service_request(
        "anticoag",
        home,
        at(days[1], 11),
        cardiologist,
        "afib",
        "Evaluate for home INR self-testing (meter + weekly testing).",
        None,
        category="dme",
        code_text="Home INR monitor",
    )
    b.facts.policies.append("269")
    b.task(
        "Complete home INR monitor enrollment paperwork",
        "in-progress" if home == "active" else "requested",
        at(days[1], 12),
        days[1] + timedelta(days=30),
        ctx.coordinator,
        home_sr,
        pick(
            rng,
            (
                "Vendor faxed forms; waiting on signed training attestation.",
                "Patient wants to discuss cost first.",
            ),
        ),
        at(days[1] + timedelta(days=10), 11),
    )
    text = progress_note(
        rng,
        ctx.header(cardiologist, at(start, 10), v.CARDIOLOGY),
        title=pick(rng, ("Cardiology Progress Note", "Arrhythmia Clinic Visit")),
        subjective=[
            f"{ctx.Who()} with persistent atrial fibrillation on warfarin.",
            pick(rng, ("Occasional palpitations.", "No palpitations, no bleeding.", "Some fatigue.")),
        ],
        objective=[
            f"HR {rng.randint(64, 92)} irregularly irregular, BP {rng.randint(118, 146)}/{rng.randint(68, 88)}",
            f"INR {inrs[0][1]} today",
        ],
        assessment=[f"Persistent atrial fibrillation, CHA2DS2-VASc {rng.randint(3, 5)}; rate controlled."],
        plan=[
            "Continue warfarin 5 mg daily, INR goal 2.0-3.0",
            "Continue metoprolol succinate 50 mg daily",
            "Consider home INR monitoring",
            "Follow up in 6 months",
        ],
    )
    b.note("progress", text, at(start, 10, 30), cardiologist, v.CARDIOLOGY, visit_enc)
    nxt = start + timedelta(days=rng.randint(175, 200))
    if nxt <= ctx.as_of:
        nxt = ctx.as_of + timedelta(days=rng.randint(3, 30))
    b.appointment("cardiology", "booked", at(nxt, 9), cardiologist, "6-month atrial fibrillation follow-up")
    if chance(rng, 0.5):
        missed = last_day - timedelta(days=rng.randint(3, 8))
        b.appointment("anticoag", "noshow", at(missed, 8, 15), nurse, "INR check")
        ctx.call(
            at(missed, 16),
            ctx.coordinator,
            "missed INR check",
            [
                f"{ctx.Who()} did not come to the anticoagulation clinic INR check on {human_date(missed)}.",
                "Reached by phone; will come in this week.",
            ],
            ["Lab walk-in slot given"],
            bait_ok=True,
        )
    b.careplan(
        "Anticoagulation management plan",
        "afib",
        start,
        nurse,
        [
            ("INR checks every 2 to 4 weeks, goal 2.0-3.0", "in-progress", None),
            ("Warfarin diet and drug-interaction education", "completed", start),
            (
                "Evaluate for home INR self-testing",
                {"active": "in-progress", "draft": "not-started", "on-hold": "on-hold"}[home],
                None,
            ),
            ("Fall-risk assessment", "completed", start),
        ],
    )


# --------------------------------------------------------------------------- hip fracture
def hip_fracture(ctx: Ctx) -> None:
    b, rng = ctx.b, ctx.rng
    branch = pick_branch(rng)
    discharge = discharge_day(ctx, branch)
    admit = discharge - timedelta(days=rng.randint(3, 5))
    hospitalist = pick(rng, (v.HOSPITALIST_1, v.HOSPITALIST_2))
    ctx.add_team(hospitalist, "Attending physician (inpatient)")
    ctx.add_team(v.ORTHO, "Orthopedic surgeon")
    baseline(ctx, ("htn",))
    b.condition("hipfx", admit)
    side = pick(rng, ("left", "right"))
    surgery = pick(rng, ("open reduction and internal fixation", "hemiarthroplasty"))
    enc = b.encounter(
        "IMP",
        f"Inpatient admission - {side} hip fracture",
        at(admit, 8),
        at(discharge, 12),
        v.HOSPITAL,
        hospitalist,
        "hipfx",
    )
    b.observation("creat", rng.uniform(0.7, 1.3), at(admit, 9), enc)
    b.observation("k", rng.uniform(3.5, 4.9), at(admit, 9), enc)
    img = imaging_report(
        rng,
        ctx.header(v.RADIOLOGY, at(admit, 9), v.HOSPITAL),
        exam=f"XR hip {side}, 2 views; XR pelvis",
        indication="Fall at home, hip pain, unable to bear weight",
        technique="AP pelvis and lateral hip.",
        comparison="None.",
        findings=[
            f"Displaced {side} femoral neck fracture."
            if "hemi" in surgery
            else f"Intertrochanteric fracture of the {side} femur.",
            "Diffuse osteopenia.",
        ],
        impression=[f"Acute {side} hip fracture."],
    )
    b.note("imaging", img, at(admit, 9, 30), v.RADIOLOGY, v.HOSPITAL, enc)
    enox_end = discharge + timedelta(days=28)
    b.medication(
        "enoxaparin",
        "Enoxaparin Sodium 40 MG/0.4ML Prefilled Syringe",
        "Inject 40 mg under the skin once daily for 28 days",
        "active" if enox_end > ctx.as_of else "completed",
        at(discharge, 10),
        v.ORTHO,
        "hipfx",
        enc,
    )
    b.medication(
        "oxycodone",
        "Oxycodone Hydrochloride 5 MG Oral Tablet",
        "Take 5 mg by mouth every 6 hours as needed for pain",
        "stopped",
        at(discharge, 10),
        v.ORTHO,
        "hipfx",
        enc,
    )
    b.medication(
        "acetaminophen",
        "Acetaminophen 500 MG Oral Tablet",
        "Take 1000 mg by mouth three times daily",
        "active",
        at(discharge, 10),
        v.ORTHO,
        "hipfx",
        enc,
    )
    b.medication(
        "alendronate",
        "Alendronate Sodium 70 MG Oral Tablet",
        "Take 70 mg by mouth once weekly",
        "active",
        at(discharge, 10),
        hospitalist,
        "hipfx",
        enc,
    )
    walker = b.service_request(
        "pt",
        "completed",
        at(discharge, 9),
        hospitalist,
        "hipfx",
        "Front-wheeled walker.",
        None,
        enc,
        category="dme",
        code_text="Front-wheeled walker",
    )
    del walker
    b.facts.policies.append("219")
    pt_status = "completed" if (ctx.as_of - discharge).days > 50 else "active"
    pt_sr = b.service_request(
        "pt",
        pt_status,
        at(discharge, 11),
        hospitalist,
        "hipfx",
        "Home health PT 2-3x/week: gait training with walker, strengthening, fall prevention.",
        None,
        enc,
    )
    ctx.add_team(v.PHYS_THERAPIST, "Physical therapist")
    fu = follow_up_chain(
        ctx,
        specialty="orthopedics",
        clinician=v.ORTHO,
        start=discharge,
        within=14,
        branch=branch,
        requester=hospitalist,
        reason="hipfx",
        encounter=enc,
        why=f"Post-op check after {side} hip {surgery}",
    )
    recs = [
        pick(
            rng,
            (
                "Follow up with orthopedics (Dr. Adeyemi) in 2 weeks for wound check and staple removal",
                "Orthopedic clinic in 2 weeks - staple removal, x-ray",
            ),
        ),
        pick(
            rng, ("Weight bearing as tolerated with a front-wheeled walker", "WBAT with walker at all times")
        ),
        pick(
            rng,
            (
                "Home health physical therapy 2 to 3 times weekly",
                "Home PT for gait training and strengthening",
            ),
        ),
        "Enoxaparin 40 mg daily for 28 days for DVT prophylaxis",
        pick(rng, ("Home safety evaluation for fall risk", "Fall-prevention home assessment")),
    ]
    text = discharge_summary(
        rng,
        ctx.header(hospitalist, at(discharge, 13), v.HOSPITAL),
        admit=human_date(admit),
        discharge=human_date(discharge),
        attending=hospitalist.display,
        diagnoses=[
            f"{side.capitalize()} hip fracture, status post {surgery}",
            "Osteoporosis",
            "Hypertension",
        ],
        hpi=[
            f"{ctx.age(admit)}-year-old {ctx.sex_word} who fell at home "
            f"{pick(rng, ('tripping over a rug', 'getting up at night', 'on the back steps'))} and could not bear weight."
        ],
        course=[
            f"Underwent {side} hip {surgery} with {v.ORTHO.short} on hospital day {rng.randint(1, 2)}.",
            pick(
                rng,
                (
                    "Post-op course uncomplicated.",
                    "Post-op anemia, no transfusion needed.",
                    "Brief post-op delirium, resolved.",
                ),
            ),
            "Worked with PT; walking 50 feet with a walker at discharge.",
        ],
        procedures=[f"{side.capitalize()} hip {surgery}"],
        meds=[
            "Enoxaparin 40 mg subcutaneously daily x 28 days (NEW)",
            "Acetaminophen 1000 mg three times daily",
            "Oxycodone 5 mg every 6 hours as needed for severe pain (short course)",
            "Alendronate 70 mg weekly (NEW)",
        ],
        med_changes=[],
        recommendations=recs,
        instructions=["Hip precautions as taught.", "Keep the incision dry until staples are out."],
        condition="Stable.",
    )
    dc_ref = b.note("discharge", text, at(discharge, 13), hospitalist, v.HOSPITAL, enc)
    b.facts.discharges.append(DischargeFact(dc_ref, discharge, "hipfx", recs))
    post_discharge_call(
        ctx,
        discharge,
        [fu],
        pick(
            rng,
            (
                "Giving enoxaparin injections daily with daughter's help.",
                "Reviewed enoxaparin injections; has 28-day supply.",
            ),
        ),
        ["Home PT agency called to set first visit."],
        ctx.coordinator,
    )
    later_calls(ctx, [fu], ctx.coordinator)
    day = discharge + timedelta(days=rng.randint(3, 6))
    if day < ctx.as_of:
        hh = b.encounter(
            "HH",
            "Home health physical therapy visit",
            at(day, 10),
            at(day, 11),
            v.HOSPITAL,
            v.PHYS_THERAPIST,
            "hipfx",
        )
        text = nursing_note(
            rng,
            ctx.header(v.PHYS_THERAPIST, at(day, 11), v.HOSPITAL),
            visit="Home health PT evaluation",
            vitals=[
                f"BP {rng.randint(110, 150)}/{rng.randint(62, 88)}",
                f"HR {rng.randint(62, 92)}",
                f"Pain {rng.randint(2, 6)}/10",
            ],
            assessment=[
                f"Ambulates {rng.randint(40, 150)} feet with front-wheeled walker, contact guard.",
                pick(rng, ("Throw rugs in hallway; removed with family.", "Bathroom has no grab bars.")),
                "Incision clean and dry.",
            ],
            teaching=["Hip precautions reviewed.", "Home exercise program issued."],
            plan=["PT 3x/week x 4 weeks", "Recommend shower chair and grab bars"],
        )
        b.note("nursing", text, at(day, 11), v.PHYS_THERAPIST, v.HOSPITAL, hh)
    safety = rng.choice(("completed", "ready"))
    b.task(
        "Home safety evaluation",
        safety,
        at(discharge, 12),
        discharge + timedelta(days=10),
        ctx.coordinator,
        pt_sr,
        "Coordinate with home PT.",
        at(discharge, 12),
    )
    b.careplan(
        pick(rng, ("Fall prevention and hip fracture recovery plan", "Post-hip fracture care plan")),
        "hipfx",
        discharge,
        ctx.coordinator,
        [
            (
                "Home health physical therapy 2 to 3 times weekly",
                "completed" if pt_status == "completed" else "in-progress",
                None,
            ),
            ("Walker use for all ambulation", "in-progress", None),
            ("Home safety evaluation", "completed" if safety == "completed" else "not-started", None),
            ("Osteoporosis follow-up with DEXA scan", "not-started", None),
            ("Orthopedic follow-up in 2 weeks", fu.careplan_status, fu.rebooked or fu.first_appt),
        ],
    )


# --------------------------------------------------------------------------- sleep apnea (secondary)
def sleep_apnea(ctx: Ctx) -> None:
    b, rng = ctx.b, ctx.rng
    seen = ctx.ago(rng.randint(60, 200))
    b.condition("osa", seen)
    ahi = rng.choice((9, 12, 18, 24, 31, 42))
    sleepy = rng.randint(8, 17)
    b.service_request(
        "sleep",
        "completed",
        at(seen - timedelta(days=40), 10),
        ctx.pcp,
        None,
        "Snoring, witnessed apneas, daytime sleepiness.",
        None,
    )
    enc = ctx.visit(at(seen, 15), v.SLEEP, v.HOSPITAL, "Sleep medicine consultation", "osa")
    pressure = pick(rng, ("auto-CPAP 5-15 cm H2O", "CPAP 10 cm H2O", "auto-CPAP 6-14 cm H2O"))
    text = consult_note(
        rng,
        ctx.header(v.SLEEP, at(seen, 16), v.HOSPITAL),
        service="Sleep Medicine",
        referred_by=ctx.pcp.display,
        reason="Suspected obstructive sleep apnea",
        hpi=[
            pick(
                rng,
                (
                    "Loud snoring for years; partner reports pauses in breathing.",
                    "Wakes up gasping; falls asleep while reading.",
                ),
            ),
            f"Epworth Sleepiness Scale {sleepy}.",
        ],
        exam=[f"Neck circumference {rng.randint(40, 47)} cm", "Mallampati class III"],
        data=[f"Home sleep apnea test: AHI {ahi} events/hour, nadir SpO2 {rng.randint(78, 88)}%"],
        impression=[
            f"Obstructive sleep apnea, {'mild' if ahi < 15 else 'moderate' if ahi < 30 else 'severe'} (AHI {ahi})."
        ],
        recommendations=[
            f"Start {pressure} with heated humidification",
            "12-week CPAP trial with adherence download",
            "Avoid sedatives and alcohol at bedtime",
        ],
    )
    b.note("consult", text, at(seen, 16), v.SLEEP, v.HOSPITAL, enc)
    cpap_status = rng.choice(("active", "completed"))
    cpap = b.service_request(
        "sleep",
        cpap_status,
        at(seen, 17),
        v.SLEEP,
        "osa",
        f"CPAP device and supplies, {pressure}. AHI {ahi}.",
        None,
        enc,
        category="dme",
        code_text="CPAP device",
    )
    b.facts.policies.append("226")
    due = seen + timedelta(days=90)
    b.task(
        "Obtain 90-day CPAP adherence download for the sleep clinic",
        "completed" if due < ctx.as_of and cpap_status == "completed" else "ready",
        at(seen, 17),
        due,
        ctx.coordinator,
        cpap,
        "Needed for continued coverage after the trial.",
        at(seen, 17),
    )
    ctx.add_team(v.SLEEP, "Sleep medicine")


# --------------------------------------------------------------------------- behavioral health (PSY)
STRESSORS = (
    ("the eviction notice", "received an eviction notice in September and is staying with a cousin"),
    ("brother's death", "has been grieving since her brother's death in August"),
    ("job loss", "lost the warehouse job in the spring and is behind on bills"),
    (
        "caregiving for mother",
        "is the main caregiver for a mother with dementia and sleeps 4-5 hours a night",
    ),
    ("divorce", "is going through a divorce and custody hearings"),
)
COPING = (
    "grounding exercises and a daily walk",
    "a written safety plan with the 988 crisis line",
    "behavioral activation with one planned activity each day",
    "journaling and a fixed bedtime routine",
)


def behavioral_health(ctx: Ctx, primary: bool) -> None:
    """Depression care: psychiatry and therapy notes carry PSY; so do PHQ-9 scores and the SSRI orders."""
    b, rng = ctx.b, ctx.rng
    psy = ("PSY",)
    start = ctx.ago(rng.randint(90, 220))
    b.condition("mdd", start - timedelta(days=rng.randint(100, 900)))
    if chance(rng, 0.4):
        b.condition("gad", start)
    ctx.add_team(v.BH_HANA, "Psychiatrist")
    ctx.add_team(v.THERAPIST, "Therapist")
    _, stress_text = pick(rng, STRESSORS)
    if ctx.gender == "male":
        stress_text = stress_text.replace("her brother", "his brother")
    coping = pick(rng, COPING)
    freq = pick(
        rng,
        (
            "weekly CBT sessions for 12 weeks",
            "every-other-week therapy sessions",
            "weekly sessions on Tuesday evenings",
        ),
    )
    phq1, phq2 = rng.randint(14, 22), rng.randint(7, 15)
    v1 = start
    v2 = start + timedelta(days=rng.randint(35, 60))
    e1 = ctx.visit(at(v1, 14), v.BH_HANA, v.BEHAVIORAL, "Psychiatry medication management", "mdd")
    e2 = ctx.visit(at(v2, 14), v.BH_HANA, v.BEHAVIORAL, "Psychiatry medication management", "mdd")
    b.observation("phq9", phq1, at(v1, 14), e1, labels=psy)
    b.observation("phq9", phq2, at(v2, 14), e2, labels=psy)
    dose_change(
        ctx,
        "sertraline",
        ("Sertraline 50 MG Oral Tablet", "Take 50 mg by mouth once daily"),
        ("Sertraline 100 MG Oral Tablet", "Take 100 mg by mouth once daily"),
        at(v1, 15),
        at(v2, 15),
        v.BH_HANA,
        "mdd",
        labels=psy,
    )
    for day, enc, phq, change in (
        (v1, e1, phq1, "Start sertraline 50 mg daily"),
        (v2, e2, phq2, "Increase sertraline to 100 mg daily"),
    ):
        text = behavioral_note(
            rng,
            ctx.header(v.BH_HANA, at(day, 15), v.BEHAVIORAL),
            title=pick(rng, ("Psychiatry Medication Management Note", "Psychiatric Follow-up")),
            confidentiality="CONFIDENTIAL - psychiatric information. Do not redisclose.",
            subjective=[
                f"PHQ-9 today {phq}.",
                pick(
                    rng,
                    (
                        "Low mood most days, poor sleep.",
                        "Mood slightly better.",
                        "Anhedonia persists, appetite down.",
                    ),
                ),
                "Denies suicidal ideation, intent or plan.",
            ],
            mse=[
                "Alert, oriented, casually dressed.",
                pick(rng, ("Affect constricted.", "Affect mildly brighter.")),
                "Thought process linear.",
            ],
            assessment=[
                f"Major depressive disorder, recurrent, {'moderate' if phq < 15 else 'moderately severe'}."
            ],
            plan=[change, "Continue psychotherapy", "Return in 4-6 weeks"],
        )
        b.note("psych", text, at(day, 15), v.BH_HANA, v.BEHAVIORAL, enc, labels=psy)
    t_day = v1 + timedelta(days=rng.randint(7, 25))
    t_enc = ctx.visit(at(t_day, 17), v.THERAPIST, v.BEHAVIORAL, "Psychotherapy session", "mdd")
    text = behavioral_note(
        rng,
        ctx.header(v.THERAPIST, at(t_day, 18), v.BEHAVIORAL),
        title=pick(rng, ("Psychotherapy Progress Note", "Individual Therapy Session Note")),
        confidentiality="PSYCHOTHERAPY NOTE - sensitive (PSY). Access restricted.",
        subjective=[
            f"{ctx.Who()} {stress_text}.",
            f"Practising {coping}.",
            pick(rng, ("Engaged and tearful at times.", "Engaged; used session well.")),
        ],
        mse=["Cooperative.", "Mood 'stressed'.", "No SI/HI."],
        assessment=["Depressive symptoms driven largely by current psychosocial stressors."],
        plan=[f"Plan: {freq}", f"Continue {coping}", "Coordinate with psychiatry"],
    )
    t_ref = b.note("therapy", text, at(t_day, 18), v.THERAPIST, v.BEHAVIORAL, t_enc, labels=psy)
    b.facts.restricted.append(
        RestrictedFact(
            t_ref,
            "PSY",
            (
                "What stressors has the patient been discussing in therapy?",
                "Is anything going on at home that the therapist documented?",
                "What life stressors came up in counseling?",
            ),
            stress_text,
        )
    )
    b.facts.restricted.append(
        RestrictedFact(
            t_ref,
            "PSY",
            (
                "How often is the patient seeing the therapist?",
                "What therapy schedule was agreed with the counselor?",
            ),
            freq,
        )
    )
    b.facts.restricted.append(
        RestrictedFact(
            t_ref, "PSY", ("What coping strategies is the patient working on in therapy?",), coping
        )
    )
    next_t = ctx.as_of + timedelta(days=rng.randint(2, 20))
    b.appointment("behavioral", "booked", at(next_t, 17), v.THERAPIST, "Psychotherapy session")
    if primary:
        # the coordinator's side, with no psychiatric detail (it is not labelled)
        missed = ctx.ago(rng.randint(10, 40))
        b.appointment("behavioral", "noshow", at(missed, 17), v.THERAPIST, "Psychotherapy session")
        b.task(
            "Reach patient after missed behavioral health appointment",
            "in-progress",
            at(missed, 18),
            missed + timedelta(days=5),
            ctx.coordinator,
            None,
            "Two calls, no answer.",
            at(missed + timedelta(days=2), 10),
        )
        ctx.call(
            at(missed + timedelta(days=1), 10),
            ctx.coordinator,
            "missed appointment",
            [
                f"Patient missed the behavioral health appointment on {human_date(missed)}.",
                pick(rng, ("Left voicemail.", "No answer; voicemail full.")),
                f"Next session on the schedule is {human_date(next_t)}.",
            ],
            ["Try again tomorrow", "Send portal message"],
        )
        b.task(
            "Bus pass application for behavioral health visits",
            rng.choice(("completed", "requested")),
            at(v1, 10),
            v1 + timedelta(days=30),
            ctx.coordinator,
            None,
            "Transportation barrier.",
            at(v1, 10),
        )
        b.careplan(
            "Behavioral health care plan",
            "mdd",
            v1,
            ctx.coordinator,
            [
                ("Psychotherapy per therapist's plan", "in-progress", None),
                ("Psychiatry medication management visits", "in-progress", None),
                ("Transportation support for appointments", "in-progress", None),
                ("Crisis resources reviewed with patient", "completed", v1),
            ],
        )
    else:
        b.service_request(
            "behavioral",
            "completed" if chance(rng, 0.5) else "active",
            at(v1 - timedelta(days=20), 10),
            ctx.pcp,
            "mdd",
            "Depression not improving on primary-care management.",
            30,
        )


def substance_use(ctx: Ctx) -> None:
    """Substance-use treatment: ETH-labelled (42 CFR Part 2) notes, condition, orders and scores."""
    b, rng = ctx.b, ctx.rng
    eth = ("ETH",)
    alcohol = chance(rng, 0.7)
    key = "aud" if alcohol else "oud"
    start = ctx.ago(rng.randint(60, 180))
    b.condition(key, start - timedelta(days=rng.randint(30, 600)), labels=eth)
    ctx.add_team(v.SUD_COUNSELOR, "Substance use counselor")
    program = pick(
        rng,
        (
            "the intensive outpatient program three evenings a week",
            "the Northside IOP on Monday, Wednesday and Friday evenings",
            "weekly group counseling and a Tuesday relapse-prevention group",
        ),
    )
    relapse_day = start + timedelta(days=rng.randint(20, 50))
    relapse = f"a one-day relapse on {human_date(relapse_day)} after {pick(rng, ('a family funeral', 'an argument at home', 'getting paid'))}"
    if alcohol:
        b.observation("auditc", rng.randint(6, 11), at(start, 10), labels=eth)
        b.medication(
            "naltrexone",
            "Naltrexone Hydrochloride 50 MG Oral Tablet",
            "Take 50 mg by mouth once daily",
            "active",
            at(start, 11),
            v.BH_HANA,
            key,
            labels=eth,
        )
        substance = "alcohol"
    else:
        b.medication(
            "buprenorphine-naloxone",
            "Buprenorphine 8 MG / Naloxone 2 MG Sublingual Film",
            "Dissolve 1 film under the tongue once daily",
            "active",
            at(start, 11),
            v.BH_HANA,
            key,
            labels=eth,
        )
        substance = "opioids"
    b.service_request(
        "sud", "active", at(start, 9), v.BH_HANA, key, "Intensive outpatient treatment.", None, labels=eth
    )
    for n in range(2):
        day = start + timedelta(days=14 + n * rng.randint(25, 40))
        if day > ctx.ago(2):
            break
        # 42 CFR Part 2 covers every record of the program, the visit itself included.
        enc = ctx.visit(at(day, 18), v.SUD_COUNSELOR, v.BEHAVIORAL, "Substance use counseling", key, eth)
        text = behavioral_note(
            rng,
            ctx.header(v.SUD_COUNSELOR, at(day, 19), v.BEHAVIORAL),
            title=pick(rng, ("Substance Use Disorder Counseling Note", "IOP Individual Session")),
            confidentiality="42 CFR Part 2 protected record. Federal law prohibits redisclosure without consent.",
            subjective=[
                f"{ctx.Who()} is attending {program}.",
                f"Reports {relapse}." if day > relapse_day else f"Reports no {substance} use since intake.",
                pick(
                    rng,
                    ("Sponsor contact twice weekly.", "Attending mutual-help meetings.", "Cravings 4/10."),
                ),
            ],
            mse=["Alert, engaged.", "No withdrawal signs."],
            assessment=[
                f"{v.PROBLEMS[key].display}, in early remission" + (" with a brief lapse." if n == 1 else ".")
            ],
            plan=[
                pick(rng, ("Continue IOP", "Step down to standard outpatient in 4 weeks if stable")),
                "Continue medication for addiction treatment",
                "Relapse-prevention plan updated",
            ],
        )
        ref = b.note("sud", text, at(day, 19), v.SUD_COUNSELOR, v.BEHAVIORAL, enc, labels=eth)
        if n == 0:
            b.facts.restricted.append(
                RestrictedFact(
                    ref,
                    "ETH",
                    (
                        "Is the patient enrolled in a substance use treatment program?",
                        "What treatment program is the patient attending for substance use?",
                    ),
                    program,
                )
            )
        if day > relapse_day and not any(r.answer == relapse for r in b.facts.restricted):
            b.facts.restricted.append(
                RestrictedFact(
                    ref,
                    "ETH",
                    (
                        "Has the patient had any relapse recently?",
                        "When was the patient's last relapse?",
                    ),
                    relapse,
                )
            )
