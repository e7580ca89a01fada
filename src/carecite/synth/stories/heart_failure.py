"""The heart failure storyline: CHF admission → discharge → follow-ups."""

from __future__ import annotations

from datetime import timedelta

from carecite.synth import vocab as v
from carecite.synth.model import DischargeFact, at, human_date, short_date
from carecite.synth.notes import chance, pick
from carecite.synth.stories.builders import (
    Ctx,
    _fmt,
    baseline,
    dose_change,
    follow_up_chain,
    lab_value,
    later_calls,
    open_admission,
    post_discharge_call,
)
from carecite.synth.writers import (
    consult_note,
    discharge_summary,
    lab_report,
    nursing_note,
    progress_note,
    referral_letter,
)


def heart_failure(ctx: Ctx) -> None:
    b, rng = ctx.b, ctx.rng
    branch, discharge, admit, hospitalist = open_admission(ctx, stay_days=(3, 6))
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
