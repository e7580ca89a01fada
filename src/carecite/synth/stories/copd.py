"""The COPD storyline: an admission, home oxygen, follow-ups."""

from __future__ import annotations

from datetime import timedelta

from carecite.synth import vocab as v
from carecite.synth.model import DischargeFact, at, human_date, short_date
from carecite.synth.notes import chance, pick
from carecite.synth.stories.builders import (
    Ctx,
    baseline,
    follow_up_chain,
    later_calls,
    open_admission,
    post_discharge_call,
)
from carecite.synth.writers import (
    consult_note,
    discharge_summary,
    imaging_report,
)


def copd(ctx: Ctx) -> None:
    b, rng = ctx.b, ctx.rng
    branch, discharge, admit, hospitalist = open_admission(ctx, stay_days=(3, 5))
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
