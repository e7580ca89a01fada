"""Section kinds: headers as written map to a kind, questions to the kind that answers them."""

from __future__ import annotations

import pytest

from carecite.text.sections import asked_section, kind_of_header


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        ("ALLERGIES", "allergies"),
        ("DISCHARGE MEDICATIONS", "discharge medications"),
        ("Medications on discharge", "discharge medications"),
        ("Follow-up appointments and recommendations", "follow-up"),
        ("FOLLOWUP", "follow-up"),
        ("Assessment and Plan", "plan"),
        ("IMPRESSION AND PLAN", "plan"),  # the plan is what it ends with
        ("IMPRESSION", "impression"),
        ("INDICATIONS FOR PROCEDURE", "indications"),
        ("OPERATIVE FINDINGS", "findings"),
        ("SOCIAL HISTORY", "social history"),
        ("## Discharge diagnoses", None),
        ("Hospital course", None),
        ("Next steps", "plan"),
        ("CURRENT MEDICATIONS", None),  # medications now are records, not the discharge list
    ],
)
def test_a_header_as_written_opens_a_section_of_its_kind(header: str, kind: str | None) -> None:
    assert kind_of_header(header) == kind


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Does the patient have any allergies?", "allergies"),
        ("What medications was the patient discharged on?", "discharge medications"),
        ("What follow-up was arranged?", "follow-up"),
        ("What were the discharge recommendations?", "follow-up"),
        ("What was the indication for the procedure?", "indications"),
        ("What is the plan?", "plan"),
        ("What was the impression?", "impression"),
        # Everyday wordings of the same sections.
        ("What are the next steps for this patient?", "plan"),
        ("What was found?", "findings"),
        ("What did the study find?", "findings"),
        ("What meds was the patient sent home on?", "discharge medications"),
        ("What did the patient find helpful?", None),
        # ... but a question naming a record, or a clause about something else, asks for no section.
        ("What was found on the last colonoscopy?", None),
        ("What was found in the urine culture?", None),
        ("What are the next steps for her referral to cardiology?", None),
        ("What medications is she on, and is she going home today?", None),
        ("What meds is she on? When is she going home?", None),
        ("What are the next steps for this patient?", "plan"),
        # Records, not sections: open follow-up tasks, the coded care plan.
        ("Which follow-ups are open for Hannah right now?", None),
        ("What follow-up tasks are outstanding?", None),
        ("What is the patient's current care plan?", None),
        # The patient's payer, asked of their record; a drug the patient is "on" is not a payer.
        ("Is the patient on Medicaid?", "insurance"),
        ("What dose of metformin is the patient on now?", None),
        # What a payer requires is its coverage criteria; whether it requires prior authorization is
        # another question (the policy's rule, not its covered indications).
        ("What does Medicare require to cover cardiac rehabilitation?", "covered indications"),
        ("Medicare requirements for home oxygen?", "covered indications"),
        ("Does Medicare require prior authorization for an MRI?", None),
        # The discharge summary's follow-up, in other word orders.
        ("What follow-up did this patient's discharge summary recommend?", "follow-up"),
        ("Per the discharge summary, what needs to happen post-discharge?", "follow-up"),
        ("What follow-up appointments are planned?", None),
    ],
)
def test_a_question_asks_for_the_section_that_answers_it(question: str, kind: str | None) -> None:
    found = asked_section(question)
    assert (found.name if found else None) == kind


def test_a_discharge_summarys_recommendations_are_its_follow_up_as_well_as_its_plan() -> None:
    from carecite.text.sections import section_kinds

    assert section_kinds("RECOMMENDATIONS", "Discharge summary") == {"plan", "follow-up"}
    # Elsewhere (a consultant's recommendations) they are the plan only; other headers keep their kind.
    assert section_kinds("RECOMMENDATIONS", "Consult note") == {"plan"}
    assert section_kinds("Recommendations", None) == {"plan"}
    assert section_kinds("PLAN", "Discharge summary") == {"plan"}
    assert section_kinds("HOSPITAL COURSE", "Discharge summary") == frozenset()
