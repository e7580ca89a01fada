"""Sleep apnea: a secondary thread."""

from __future__ import annotations

from datetime import timedelta

from carecite.synth import vocab as v
from carecite.synth.model import at
from carecite.synth.notes import pick
from carecite.synth.stories.builders import (
    Ctx,
)
from carecite.synth.writers import (
    consult_note,
)


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
