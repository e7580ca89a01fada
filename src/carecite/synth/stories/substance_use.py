"""Substance use (labelled ETH): a secondary thread."""

from __future__ import annotations

from datetime import timedelta

from carecite.synth import vocab as v
from carecite.synth.model import RestrictedFact, at, human_date
from carecite.synth.notes import chance, pick
from carecite.synth.stories.builders import (
    Ctx,
)
from carecite.synth.writers import (
    behavioral_note,
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
