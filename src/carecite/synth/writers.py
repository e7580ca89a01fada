"""One writer per note type. Each picks one of several layouts; facts arrive already phrased.

A fact a gold question depends on (a discharge recommendation, a missed appointment, a dose) is
written verbatim, as its own bullet or sentence, so it lands inside one section of the note.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from carecite.synth.notes import Doc, chance, pick, sentences, signature


@dataclass(frozen=True)
class Header:
    """Who/when lines at the top of a note. ``patient`` is "" when the note omits the name."""

    patient: str
    mrn: str
    dob: str
    facility: str
    author: str
    when: str  # human date


def _top(doc: Doc, h: Header, title: str, extra: Sequence[str] = ()) -> None:
    rng = doc.rng
    lines: list[str] = []
    layout = rng.randrange(3)
    if layout == 0:
        lines.append(f"{h.facility.upper()}")
        lines.append(title.upper())
        if h.patient:
            lines.append(f"Patient: {h.patient}    MRN: {h.mrn}    DOB: {h.dob}")
        lines.append(f"Date: {h.when}")
    elif layout == 1:
        lines.append(f"{title} - {h.facility}")
        if h.patient:
            lines.append(f"Name: {h.patient} | DOB {h.dob} | MRN {h.mrn}")
        lines.append(f"Date of service: {h.when}")
    else:
        lines.append(f"{title}")
        lines.append(f"{h.when} | {h.facility}")
        if h.patient:
            lines.append(f"Pt: {h.patient} ({h.mrn})")
    lines.extend(extra)
    doc.line("\n".join(lines))


# --------------------------------------------------------------------------- discharge summary
def discharge_summary(
    rng: random.Random,
    h: Header,
    *,
    admit: str,
    discharge: str,
    attending: str,
    diagnoses: Sequence[str],
    hpi: Sequence[str],
    course: Sequence[str],
    procedures: Sequence[str],
    meds: Sequence[str],
    med_changes: Sequence[str],
    recommendations: Sequence[str],
    instructions: Sequence[str],
    condition: str,
    pending: Sequence[str] = (),
    bait: str | None = None,
) -> str:
    doc = Doc.new(rng, md_share=0.25)
    _top(
        doc,
        h,
        pick(rng, ("Discharge Summary", "Hospital Discharge Summary", "Discharge Summary (Inpatient)")),
        [f"Admission date: {admit}", f"Discharge date: {discharge}", f"Attending: {attending}"],
    )
    layout = rng.randrange(3)
    doc.section(pick(rng, ("Discharge diagnoses", "Diagnoses")), list(diagnoses), bullets=True)
    if layout != 2:
        doc.section(pick(rng, ("History of present illness", "Reason for admission")), list(hpi))
    doc.section("Hospital course", sentences(rng, course, shuffle=False))
    if procedures:
        doc.section(pick(rng, ("Procedures", "Procedures performed")), list(procedures), bullets=True)
    if layout == 1:
        doc.section("Condition at discharge", condition)
    med_block = list(meds)
    if med_changes:
        if chance(rng, 0.5):
            doc.section("Discharge medications", med_block, bullets=True)
            doc.section(
                pick(rng, ("Medication changes", "Changes to home medications")),
                list(med_changes),
                bullets=True,
            )
        else:
            doc.section("Discharge medications", [*med_block, *med_changes], bullets=True)
    else:
        doc.section("Discharge medications", med_block, bullets=True)
    if layout == 0:
        doc.section("Condition at discharge", condition)
    follow_title = pick(rng, ("Follow-up", "Follow-up appointments and recommendations", "Recommendations"))
    doc.section(follow_title, list(recommendations), bullets=True)
    if instructions:
        doc.section(
            pick(rng, ("Patient instructions", "Discharge instructions")), list(instructions), bullets=True
        )
    if layout == 2:
        doc.section("Condition at discharge", condition)
    if pending:
        doc.section("Pending results", list(pending), bullets=True)
    if bait:
        doc.section("Additional information", bait)
    doc.line(signature(rng, attending, discharge))
    return doc.text()


# --------------------------------------------------------------------------- progress note (SOAP)
def progress_note(
    rng: random.Random,
    h: Header,
    *,
    title: str,
    subjective: Sequence[str],
    objective: Sequence[str],
    assessment: Sequence[str],
    plan: Sequence[str],
    meds: Sequence[str] = (),
    bait: str | None = None,
) -> str:
    doc = Doc.new(rng, md_share=0.25)
    _top(doc, h, title, [f"Provider: {h.author}"] if chance(rng, 0.5) else [])
    layout = rng.randrange(3)
    doc.section(
        pick(rng, ("Subjective", "Subjective", "Interval history")),
        [subjective[0], *sentences(rng, subjective[1:])],
    )
    if meds and layout != 1:
        doc.section(pick(rng, ("Current medications", "Medications")), list(meds), bullets=True)
    doc.section("Objective", list(objective), bullets=layout == 2)
    if layout == 0:
        doc.section("Assessment and plan", [*assessment, *plan], bullets=True)
    elif layout == 1:
        doc.section("Assessment", list(assessment))
        doc.section("Plan", list(plan), bullets=True)
    else:
        doc.section("Assessment/Plan", list(assessment))
        doc.line("# Plan\n" + "\n".join(f"- {p}" for p in plan))
    if bait:
        doc.section("Other", bait)
    doc.line(signature(rng, h.author, h.when))
    return doc.text()


# --------------------------------------------------------------------------- telephone note
def telephone_note(
    rng: random.Random,
    h: Header,
    *,
    contact: str,
    reason: str,
    discussion: Sequence[str],
    plan: Sequence[str],
    minutes: int,
    bait: str | None = None,
) -> str:
    doc = Doc.new(rng, md_share=0.15, title_share=0.3)
    title = pick(
        rng,
        (
            "Care Management Telephone Note",
            "Telephone Encounter - Care Coordination",
            "Transitions of Care Call",
            "Care Coordination Phone Note",
        ),
    )
    _top(doc, h, title)
    layout = rng.randrange(3)
    if layout == 0:
        doc.section("Reason for call", reason)
        doc.section("Spoke with", contact)
        doc.section("Discussion", list(discussion))
        doc.section("Plan", list(plan), bullets=True)
    elif layout == 1:
        doc.line(f"{pick(rng, ('Outbound call', 'Telephone outreach', 'Call'))} to {contact} re: {reason}.")
        doc.line(" ".join(discussion))
        doc.section("Next steps", list(plan), bullets=True)
    else:
        doc.section("Subjective", [f"Telephone contact with {contact} regarding {reason}.", *discussion])
        doc.section("Assessment and plan", list(plan), bullets=True)
    if bait:
        doc.line(bait)
    doc.line(f"Total time on call: {minutes} minutes.")
    doc.line(signature(rng, h.author, h.when))
    return doc.text()


# --------------------------------------------------------------------------- referral letter
def referral_letter(
    rng: random.Random,
    h: Header,
    *,
    to: str,
    to_service: str,
    reason: str,
    history: Sequence[str],
    meds: Sequence[str],
    request: Sequence[str],
) -> str:
    doc = Doc.new(rng, md_share=0.1, title_share=0.4)
    _top(
        doc,
        h,
        pick(rng, ("Referral Letter", "Referral for Consultation", "Outpatient Referral")),
        [f"To: {to}, {to_service}", f"From: {h.author}"],
    )
    greeting = pick(rng, (f"Dear {to},", f"Dear Colleague ({to_service}),", f"{to} -"))
    opening = pick(
        rng,
        (
            f"Thank you for seeing {h.patient or 'this patient'} for {reason}.",
            f"I am referring {h.patient or 'this patient'} to your {to_service.lower()} service for {reason}.",
            f"Requesting {to_service.lower()} evaluation for {reason}.",
        ),
    )
    doc.line(f"{greeting}\n\n{opening}")
    doc.section(pick(rng, ("Pertinent history", "Background", "History")), list(history))
    doc.section(pick(rng, ("Current medications", "Medications")), list(meds), bullets=True)
    doc.section(
        pick(rng, ("Specific questions", "Request", "Reason for referral")), list(request), bullets=True
    )
    doc.line(
        pick(
            rng,
            (
                "Please do not hesitate to call with questions.",
                "Thank you for your help with this patient.",
                "Records are attached.",
            ),
        )
    )
    doc.line(signature(rng, h.author, h.when))
    return doc.text()


# --------------------------------------------------------------------------- consult note
def consult_note(
    rng: random.Random,
    h: Header,
    *,
    service: str,
    referred_by: str,
    reason: str,
    hpi: Sequence[str],
    exam: Sequence[str],
    data: Sequence[str],
    impression: Sequence[str],
    recommendations: Sequence[str],
) -> str:
    doc = Doc.new(rng, md_share=0.2)
    _top(doc, h, f"{service} Consultation", [f"Referring provider: {referred_by}", f"Consultant: {h.author}"])
    doc.section("Reason for consultation", reason)
    doc.section("History of present illness", sentences(rng, hpi, shuffle=False))
    layout = rng.randrange(2)
    if layout == 0:
        doc.section("Physical examination", list(exam))
        doc.section(pick(rng, ("Data reviewed", "Studies")), list(data), bullets=True)
    else:
        doc.section("Objective", [*exam, *data])
    doc.section(pick(rng, ("Impression", "Assessment")), list(impression))
    doc.section("Recommendations", list(recommendations), bullets=True)
    doc.line(pick(rng, (f"Thank you for this consult. -- {h.author}", signature(rng, h.author, h.when))))
    return doc.text()


# --------------------------------------------------------------------------- nursing / home health
def nursing_note(
    rng: random.Random,
    h: Header,
    *,
    visit: str,
    vitals: Sequence[str],
    assessment: Sequence[str],
    teaching: Sequence[str],
    plan: Sequence[str],
) -> str:
    doc = Doc.new(rng, md_share=0.15, title_share=0.35)
    _top(
        doc,
        h,
        pick(rng, ("Home Health Skilled Nursing Visit", "Nursing Visit Note", "Home Health Nursing Note")),
        [f"Visit type: {visit}"],
    )
    doc.section(pick(rng, ("Vital signs", "Vitals")), ", ".join(vitals) + ".")
    doc.section(pick(rng, ("Assessment", "Nursing assessment")), sentences(rng, assessment))
    if teaching:
        doc.section(pick(rng, ("Teaching", "Education provided")), sentences(rng, teaching))
    doc.section("Plan", list(plan), bullets=True)
    doc.line(signature(rng, h.author, h.when))
    return doc.text()


# --------------------------------------------------------------------------- lab / imaging report
def lab_report(
    rng: random.Random,
    h: Header,
    *,
    panel: str,
    ordering: str,
    rows: Sequence[tuple[str, str, str, str, str]],  # test, value, unit, reference, flag
    comment: str | None = None,
) -> str:
    doc = Doc(rng, "caps")
    _top(doc, h, "Laboratory Report", [f"Ordering provider: {ordering}", f"Panel: {panel}"])
    width = max(len(r[0]) for r in rows) + 2
    table = [f"{'TEST':<{width}}RESULT     UNITS          REFERENCE     FLAG"]
    for test, value, unit, ref, flag in rows:
        table.append(f"{test:<{width}}{value:<11}{unit:<15}{ref:<14}{flag}")
    doc.section("Results", "\n".join(table))
    if comment:
        doc.section("Comment", comment)
    doc.line(f"Verified by {h.author} on {h.when}.")
    return doc.text()


def imaging_report(
    rng: random.Random,
    h: Header,
    *,
    exam: str,
    indication: str,
    technique: str,
    comparison: str,
    findings: Sequence[str],
    impression: Sequence[str],
) -> str:
    doc = Doc(rng, "caps")
    _top(doc, h, "Radiology Report" if "echo" not in exam.lower() else "Echocardiography Report")
    doc.section("Exam", exam)
    doc.section(pick(rng, ("Indication", "Clinical history")), indication)
    doc.section("Technique", technique)
    doc.section("Comparison", comparison)
    doc.section("Findings", sentences(rng, findings, shuffle=False))
    doc.section("Impression", list(impression), bullets=True)
    doc.line(f"Interpreted by {h.author}. Final report {h.when}.")
    return doc.text()


# --------------------------------------------------------------------------- behavioral health
def behavioral_note(
    rng: random.Random,
    h: Header,
    *,
    title: str,
    confidentiality: str,
    subjective: Sequence[str],
    mse: Sequence[str],
    assessment: Sequence[str],
    plan: Sequence[str],
) -> str:
    doc = Doc.new(rng, md_share=0.2)
    _top(doc, h, title)
    doc.line(confidentiality)
    doc.section(pick(rng, ("Subjective", "Session content", "Interval history")), sentences(rng, subjective))
    doc.section(pick(rng, ("Mental status exam", "Mental status")), list(mse))
    doc.section("Assessment", list(assessment))
    doc.section("Plan", list(plan), bullets=True)
    doc.line(signature(rng, h.author, h.when))
    return doc.text()
