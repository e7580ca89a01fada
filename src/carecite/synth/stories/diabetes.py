"""The diabetes storyline: primary-care visits."""

from __future__ import annotations

from datetime import timedelta

from carecite.synth import vocab as v
from carecite.synth.model import at, human_date, short_date
from carecite.synth.notes import chance, pick
from carecite.synth.stories.builders import (
    Ctx,
    baseline,
    dose_change,
)
from carecite.synth.writers import (
    consult_note,
    lab_report,
    progress_note,
    referral_letter,
)


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
