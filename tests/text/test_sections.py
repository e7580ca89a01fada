"""Section kinds: headers as written map to a kind, questions to the kind that answers them."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest

from carecite.ports import Embedder
from carecite.text.sections import (
    Header,
    asked_header,
    asked_section,
    category_of,
    holds_kind,
    kind_of_header,
    section_terms,
)


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
        # The diagnosis: its own headers and the assessment (C-CDA Assessment Section, LOINC 51848-0).
        ("## Discharge diagnoses", "diagnosis"),
        ("FINAL DIAGNOSIS", "diagnosis"),
        ("ASSESSMENT", "diagnosis"),
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
        # The diagnosis reached, not a diagnosis of a named condition nor whether one was made.
        ("whats the diagnosis for his foot", "diagnosis"),
        ("When was the diagnosis of diabetes made?", None),
        ("Was she diagnosed with asthma?", None),
        # Everyday wordings of the same sections.
        ("What are the next steps for this patient?", "plan"),
        ("What was found?", "findings"),
        # What a study showed: its impression, then its findings (DICOM CID 7001).
        ("What did the study find?", "study result"),
        ("what did the hart cath show", "study result"),
        ("what did they find on the scope", "study result"),
        ("what did her echo show", "study result"),
        # The sections a question names first is the one asked for; what follows qualifies it.
        ("what is the plan for her allergy symptoms", "plan"),
        ("What were the swallow recommendations?", "plan"),
        # A vital signs section by its name.
        ("what were his vitals", "vital signs"),
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


# ------------------------------------------------------------------ any header a note has (issue 26)
def _similarity(embedder: Embedder) -> Callable[[str, Sequence[str]], list[float]]:
    def similarity(question: str, texts: Sequence[str]) -> list[float]:
        vecs = np.asarray(embedder.embed_documents([question, *texts]))
        return [float(v) for v in vecs[1:] @ vecs[0]]

    return similarity


OPERATIVE_NOTE = [
    Header("PREOPERATIVE DIAGNOSIS", "Cholelithiasis."),
    Header("SPECIMENS", "Gallbladder sent to pathology."),
    Header("INJECTATE USED", "Omnipaque 300 and Depo-Medrol 80 mg."),
    Header("CHEST", "Clear to auscultation."),
    Header("VITALS", ""),
    Header("HOME MEDICATIONS", "Lisinopril 10 mg daily."),
    Header("ALLERGIES TO MEDICATIONS", "Penicillin."),
]


@pytest.mark.parametrize(
    ("question", "titles"),
    [
        # Headers outside the curated kinds answer a question that names them, whatever their wording.
        ("what specimens were sent", {"specimens"}),
        ("what did they inject", {"injectate used"}),
        # The vocabulary (medSpaCy's rules) files HOME MEDICATIONS under medications; "meds" is shorthand.
        ("what meds is she on", {"home medications"}),
        ("list her current medications", {"home medications"}),
        # Words that match no section, and a header with nothing under it, decline.
        ("what was her hemoglobin", None),
        ("what were her vital signs", None),
        # "chest" is not what a chest x-ray question asks for: "radiograph" names a section of its own.
        ("what did her chest xray show", None),
    ],
)
def test_a_question_is_matched_to_any_header_the_note_has_by_its_words_and_meaning(
    question: str, titles: set[str] | None, embedder: Embedder
) -> None:
    asked = asked_header(question, OPERATIVE_NOTE, _similarity(embedder))
    assert (asked.titles if asked else None) == (frozenset(titles) if titles else None)


def test_the_header_naming_most_of_the_question_wins_over_a_shorter_one(embedder: Embedder) -> None:
    goals = [
        Header("GOALS", "Improve gait."),
        Header("SHORT TERM GOALS", "Walk 50 feet."),
        Header("LONG TERM GOALS", "Return home."),
    ]
    asked = asked_header("what are his short term goals", goals, _similarity(embedder))
    assert asked is not None and asked.titles == {"short term goals"}
    assert holds_kind(asked, "SHORT TERM GOALS:") and not holds_kind(asked, "LONG TERM GOALS")


def test_shorthand_and_plurals_name_the_same_section() -> None:
    assert section_terms("Meds") == section_terms("MEDICATIONS")
    assert section_terms("what are his diagnoses") == section_terms("DIAGNOSIS")
    assert section_terms("x-rays") == section_terms("RADIOGRAPHS")
    assert kind_of_header("SHX") == "social history"  # the curated kind, reached through shorthand
    assert category_of("Home Medications:") == "medications"


def test_a_headers_own_shorthand_in_the_question_is_read_as_the_header() -> None:
    from carecite.text.sections import header_shorthand

    titles = ["ESTIMATED BLOOD LOSS", "ASSESSMENT AND PLAN", "DISPOSITION", "RECOMMENDATIONS", "URINE OUTPUT"]
    assert header_shorthand("EBL?", titles) == "estimated blood loss?"
    assert header_shorthand("A/P", titles) == "assessment and plan"
    assert header_shorthand("dispo", titles) == "disposition"
    assert header_shorthand("recs from cards", titles) == "recommendations from cards"
    # An English word is never shorthand ("plan"), nor one that two headers would read.
    assert header_shorthand("what was the plan", titles) == "what was the plan"
    assert header_shorthand("uo", [*titles, "UPPER OUTLET"]) == "uo"


def test_a_header_the_standard_vocabulary_files_with_the_question_is_named_whole() -> None:
    from carecite.text.sections import header_coverage

    assert header_coverage("home meds?", "MEDICATIONS") == (1, 1.0)  # both medSpaCy's medications
    assert header_coverage("what are the discharge meds", "ADMISSION MEDICATIONS") == (0, 0.0)


def test_a_header_named_by_its_own_words_ranks_above_one_named_by_its_category() -> None:
    from carecite.text.sections import header_coverage

    asked = "past medical history"
    assert (
        header_coverage(asked, "PAST MEDICAL HISTORY")[0] > header_coverage(asked, "PAST SURGICAL HISTORY")[0]
    )
