"""The atrial fibrillation storyline: AFib on warfarin."""

from __future__ import annotations

from datetime import date, timedelta

from carecite.synth import vocab as v
from carecite.synth.model import at, human_date, short_date
from carecite.synth.notes import chance, pick
from carecite.synth.stories.builders import (
    Ctx,
    baseline,
    dose_change,
)
from carecite.synth.writers import (
    progress_note,
)


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
