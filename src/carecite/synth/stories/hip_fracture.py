"""The hip fracture storyline: an admission and its follow-ups."""

from __future__ import annotations

from datetime import timedelta

from carecite.synth import vocab as v
from carecite.synth.model import DischargeFact, at, human_date
from carecite.synth.notes import pick
from carecite.synth.stories.builders import (
    Ctx,
    baseline,
    follow_up_chain,
    later_calls,
    open_admission,
    post_discharge_call,
)
from carecite.synth.writers import (
    discharge_summary,
    imaging_report,
    nursing_note,
)


def hip_fracture(ctx: Ctx) -> None:
    b, rng = ctx.b, ctx.rng
    branch, discharge, admit, hospitalist = open_admission(ctx, stay_days=(3, 5))
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
