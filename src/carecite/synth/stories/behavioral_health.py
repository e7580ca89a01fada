"""Behavioral health (labelled PSY): a primary storyline or a secondary thread."""

from __future__ import annotations

from datetime import timedelta

from carecite.synth import vocab as v
from carecite.synth.model import RestrictedFact, at, human_date
from carecite.synth.notes import chance, pick
from carecite.synth.stories.builders import (
    Ctx,
    dose_change,
)
from carecite.synth.writers import (
    behavioral_note,
)

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
