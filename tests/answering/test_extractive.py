"""The offline extractive answerer: verbatim source sentences only, always verifiable."""

from __future__ import annotations

import re

import pytest

from carecite.answering.citations import verify_draft
from carecite.answering.extractive import ExtractiveAnswerer
from carecite.answering.generate import ExtractiveGenerator
from carecite.answering.text import CANNOT_ANSWER, segment, strip_markers
from carecite.domain import Candidate
from carecite.ports import Embedder
from fakes import record_candidate

QUESTIONS = [
    "What did cardiology recommend at discharge?",
    "What follow-up tasks are outstanding?",
    "When is the echocardiogram due?",
    "What was the most recent HbA1c?",
    "Does Medicare cover CPAP for sleep apnea?",
]


def sentences_with_markers(answer: str) -> list[tuple[str, list[str]]]:
    return [(strip_markers(s.text).strip(), re.findall(r"\[(S\d+)\]", s.text)) for s in segment(answer)]


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_sentence_is_copied_verbatim_from_the_source_it_cites_and_verifies(
    question: str, sources: list[Candidate], embedder: Embedder
) -> None:
    draft = ExtractiveGenerator(embedder).draft(question, sources)
    assert draft.text != CANNOT_ANSWER
    pairs = sentences_with_markers(draft.text)
    assert 1 <= len(pairs) <= 4
    for sentence, markers in pairs:
        assert len(markers) == 1
        source = sources[int(markers[0][1:]) - 1]
        words = " ".join(sentence.rstrip(".").split())
        assert words.replace(" .", ".") in " ".join(source.text.split()), (
            f"{sentence!r} is not in {markers[0]}"
        )
    verified = verify_draft(draft.text, sources, embedder, threshold=0.45)
    assert verified.declined_reason is None
    assert verified.unsupported_sentences == [] and verified.removed_markers == []
    assert verified.text == draft.text  # already in canonical form: nothing to rewrite


def rescored(sources: list[Candidate], scores: dict[str, float]) -> list[Candidate]:
    return [c.model_copy(update={"score": scores.get(c.source_id, c.score)}) for c in sources]


def test_a_record_keeps_its_calibrated_score_as_relevance(
    sources: list[Candidate], embedder: Embedder
) -> None:
    """A terse record statement scored high for this question is picked even if its wording differs."""
    picks = ExtractiveAnswerer(embedder).picks(
        "Anything still pending on the task list?", rescored(sources, {"Task/echo-7": 0.9})
    )
    assert picks[0].source == 2


def test_it_picks_the_sentences_that_answer_the_question(
    sources: list[Candidate], embedder: Embedder
) -> None:
    answerer = ExtractiveAnswerer(embedder)
    # Source scores are the re-ranker's, calibrated per question: the echo task is not about discharge.
    picks = answerer.picks(
        "What did cardiology recommend at discharge?", rescored(sources, {"Task/echo-7": 0.1})
    )
    assert picks[0].source == 1
    assert picks[0].segment.text == "Cardiology recommended increasing furosemide to 40 mg twice daily."
    echo = answerer.picks("When is the echocardiogram due?", sources)
    assert [p.source for p in echo] == [2]


def test_an_unrelated_question_gets_the_cannot_answer_sentinel_and_verification_declines(
    sources: list[Candidate], embedder: Embedder
) -> None:
    low = rescored(
        sources, {c.source_id: 0.05 for c in sources}
    )  # nothing scored as relevant to this question
    draft = ExtractiveGenerator(embedder).draft("Which pharmacy does the patient prefer?", low)
    assert draft.text == CANNOT_ANSWER
    verified = verify_draft(draft.text, low, embedder, threshold=0.45)
    assert (verified.declined_reason, verified.refused) == ("low_confidence", True)


def test_duplicates_are_skipped_and_the_higher_ranked_source_wins(
    sources: list[Candidate], embedder: Embedder
) -> None:
    copy = sources[0].model_copy(
        update={"source_id": "DocumentReference/dc-2#c0", "source_ref": "DocumentReference/dc-2"}
    )
    picks = ExtractiveAnswerer(embedder).picks(
        "What did cardiology recommend at discharge?", [sources[0], copy]
    )
    texts = [p.segment.text for p in picks]
    assert len(texts) == len(set(texts))
    assert all(p.source == 1 for p in picks)


def test_the_answer_is_capped(sources: list[Candidate], embedder: Embedder) -> None:
    answerer = ExtractiveAnswerer(embedder, max_sentences=2, relative_floor=0.0, min_relevance=0.0)
    assert len(answerer.picks("What is the plan?", sources)) == 2


def test_the_extractive_draft_costs_nothing_and_uses_no_prompt(
    sources: list[Candidate], embedder: Embedder
) -> None:
    draft = ExtractiveGenerator(embedder).draft(QUESTIONS[0], sources)
    assert draft.usage.model == "extractive" and draft.usage.cost_usd == 0.0
    assert draft.prompt_hash is None


def test_asked_what_the_record_lacks_the_offline_answerer_never_quotes_a_header_line(
    embedder: Embedder,
) -> None:
    # Gold question g125: a question the record lacks was answered with the note's header line.
    from carecite.privacy.identity import PatientIdentity

    header = Candidate(
        source_id="n#0", source_type="note_chunk", source_ref="DocumentReference/n", patient_key="pk",
        text="Name: Charles Mitchell | DOB 8/13/1948 | MRN 17000002\nRIVERSIDE MEDICAL CENTER\n"
             "Charles Mitchell, 17000002, phone 555-201-3344, lives at 12 Oak Street.",
        retriever="dense",
    )  # fmt: skip
    identity = PatientIdentity(
        names=("Charles Mitchell", "Charles", "Mitchell"), identifiers=("17000002",), phones=("555-201-3344",)
    )
    answerer = ExtractiveAnswerer(embedder)
    assert (
        answerer.answer("What is the patient's name, MRN and date of birth?", [header], identity)
        == CANNOT_ANSWER
    )


MTS = (
    "HISTORY OF PRESENT ILLNESS:, The patient has had seasonal allergies for years.,"
    "PAST MEDICAL HISTORY:, Hypertension.,ALLERGIES: , MORPHINE causes hives.,"
    "SOCIAL HISTORY:, He is a nonsmoker.,IMPRESSION:, Methicillin-resistant Staphylococcus aureus infection."
)


def mts_source(text: str = MTS) -> Candidate:
    return Candidate(
        source_id="DocumentReference/mts-1#c0",
        source_type="note_chunk",
        source_ref="DocumentReference/mts-1",
        patient_key="pk",
        text=text,
        score=0.2,
        retriever="dense",
        doc_id="mts-1",
        start=0,
        end=len(text),
        section="HISTORY OF PRESENT ILLNESS / PAST MEDICAL HISTORY / ALLERGIES / SOCIAL HISTORY / IMPRESSION",
    )


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Does the patient have any allergies?", "ALLERGIES: , MORPHINE causes hives."),
        ("What was the impression?", "IMPRESSION:, Methicillin-resistant Staphylococcus aureus infection."),
    ],
)
def test_a_question_for_a_section_is_answered_by_that_section_not_a_sentence_that_shares_its_words(
    question: str, expected: str, embedder: Embedder
) -> None:
    picks = ExtractiveAnswerer(embedder).picks(question, [mts_source()])
    assert [p.segment.text for p in picks] == [expected]  # not "seasonal allergies" in the HPI
    assert all(p.segment.section is not None for p in picks)


def test_the_section_titled_with_the_asked_name_wins_over_a_synonyms_section(embedder: Embedder) -> None:
    """An echo report with an INTERPRETATION (read as the impression) before its IMPRESSION: "What
    was the impression?" quotes the IMPRESSION; a note with only the synonym's section still answers."""
    both = (
        "INTERPRETATION: , The left atrium was mildly dilated. No masses or thrombi were seen.\n"
        "IMPRESSION:, 1. Mildly dilated left atrium. 2. Moderate aortic stenosis."
    )
    picks = ExtractiveAnswerer(embedder).picks("What was the impression?", [mts_source(both)])
    assert picks and all(p.segment.section == "IMPRESSION" for p in picks)
    alone = "INTERPRETATION: , The left atrium was mildly dilated."
    picks = ExtractiveAnswerer(embedder).picks("What was the impression?", [mts_source(alone)])
    assert [p.segment.section for p in picks] == ["INTERPRETATION"]


def test_the_asked_name_is_the_same_name_however_it_is_hyphenated(embedder: Embedder) -> None:
    """ "DISPOSITION:" reads as the follow-up too; "FOLLOWUP:" is the follow-up's own name, spelled
    without its hyphen, so it answers alone."""
    text = (
        "DISPOSITION: , The patient will be going home.\nFOLLOWUP:  ,To follow up with Dr. ABC in two weeks."
    )
    picks = ExtractiveAnswerer(embedder).picks("What follow-up was arranged?", [mts_source(text)])
    assert picks and all(p.segment.section == "FOLLOWUP" for p in picks)


def test_the_asked_name_is_the_same_name_in_any_word_order(embedder: Embedder) -> None:
    """ "MEDICATIONS AT DISCHARGE:" is the discharge medications' own name; "DISCHARGE INSTRUCTIONS:"
    also speaks of discharge but is not their section, and a synonym loses to the own name."""
    text = (
        "DISCHARGE PRESCRIPTIONS: , Lisinopril 10 mg daily.\n"
        "MEDICATIONS AT DISCHARGE: , Metoprolol 25 mg twice daily. Aspirin 81 mg daily."
    )
    picks = ExtractiveAnswerer(embedder).picks(
        "What medications was the patient discharged on?", [mts_source(text)]
    )
    assert picks and all(p.segment.section == "MEDICATIONS AT DISCHARGE" for p in picks)


def test_the_plan_of_care_is_the_coded_care_plan_when_the_record_is_sure_of_one(embedder: Embedder) -> None:
    """ "What is the patient's plan of care?" asks for the plan section, but the CarePlan in force is
    its system of record: a sure CarePlan answers, not a visit note's plan. A sure record of another
    kind does not, and without a sure CarePlan the note's section still answers."""
    note = mts_source("PLAN: , Start physiotherapy twice weekly. Recheck in six weeks.")
    plan = record_candidate("CarePlan/cp1", text="Care plan: diabetes self management plan; status: active.")
    weak = record_candidate("CarePlan/cp2", match=0.1, text="Care plan: dental care; status: completed.")
    other = record_candidate("Condition/c1", text="Condition: diabetes; status: active.")
    answerer, question = ExtractiveAnswerer(embedder), "What is the patient's plan of care?"
    picks = answerer.picks(question, [note, plan])
    assert [p.source for p in picks] == [2]
    for sources in ([note, weak], [note, other]):
        picks = answerer.picks(question, sources)
        assert picks and all(sources[p.source - 1].source_ref == "DocumentReference/mts-1" for p in picks)


def test_without_the_section_only_a_sentence_that_speaks_of_it_may_answer(embedder: Embedder) -> None:
    text = "HOSPITAL COURSE:, He was ordered Demerol 50 mg IM for pain but refused it."
    picks = ExtractiveAnswerer(embedder).picks(
        "What medications was the patient discharged on?", [mts_source(text)]
    )
    assert picks == []  # a medication sentence about something else is not the discharge list


@pytest.mark.parametrize(
    ("question", "text", "stated"),
    [
        # A report with no SOCIAL HISTORY section: its family and past medical history share
        # "history" but are not the social history; a sentence about tobacco or alcohol is.
        (
            "What is the patient's social history?",
            "PAST MEDICAL HISTORY:, Reviewed, very healthy.,FAMILY HISTORY:, Nonsignificant for heart "
            "disease.,HISTORY OF PRESENT ILLNESS:, The patient is a 66-year-old man brought in with obtundation.",
            "He has a history of alcohol abuse and smokes cigarettes.",
        ),
        # An operative report with no plan: its "Next, ..." narrates what was done; it is no next step.
        (
            "What are the next steps for this patient?",
            "PROCEDURE:, The patient was taken to the operating room. Next, a 1 cm incision was made in the "
            "midline and a size 11 step trocar was placed under direct visualization.",
            "I will see the patient back in the next few weeks to review the pathology.",
        ),
    ],
)
def test_without_the_asked_section_only_a_sentence_stating_its_content_answers(
    embedder: Embedder, question: str, text: str, stated: str
) -> None:
    answerer = ExtractiveAnswerer(embedder)
    assert answerer.picks(question, [mts_source(text)]) == []
    picks = answerer.picks(question, [mts_source(f"{text} {stated}")])
    assert [p.segment.text for p in picks] == [stated]


def test_a_discharge_summarys_recommendations_answer_what_follow_up_it_recommended(
    embedder: Embedder,
) -> None:
    text = (
        "HOSPITAL COURSE:\nDiuresed with IV furosemide.\n\nRECOMMENDATIONS:\n"
        "1. See Dr. Farah in heart failure clinic within 2 weeks\n2. Repeat basic metabolic panel in 1 week\n"
    )
    summary = mts_source(text).model_copy(
        update={"note_type": "Discharge summary", "section": "HOSPITAL COURSE / RECOMMENDATIONS"}
    )
    question = "What follow-up did this patient's discharge summary recommend?"
    picks = ExtractiveAnswerer(embedder).picks(question, [summary])
    assert [p.segment.text.strip() for p in picks] == [
        "See Dr. Farah in heart failure clinic within 2 weeks",
        "Repeat basic metabolic panel in 1 week",
    ]


def _record(ref: str, text: str, brief: str, match: float, score: float = 0.6) -> Candidate:
    return Candidate(
        source_id=ref,
        source_type="record",
        source_ref=ref,
        patient_key="pk",
        text=text,
        brief=brief,
        score=score,
        match=match,
        retriever="structured",
        note_type=ref.split("/")[0],
    )


MEDS = [
    _record(
        "MedicationRequest/a",
        "Medication: lisinopril 10 MG Oral Tablet; status: active; dosage: 1 tablet daily; prescribed: 2024-05-06.",
        "lisinopril 10 MG Oral Tablet (active): 1 tablet daily; prescribed 2024-05-06.",
        0.75,
    ),
    _record(
        "MedicationRequest/b",
        "Medication: amLODIPine 2.5 MG Oral Tablet; status: active; dosage: 1 tablet daily; prescribed: 2024-05-06.",
        "amLODIPine 2.5 MG Oral Tablet (active): 1 tablet daily; prescribed 2024-05-06.",
        0.75,
    ),
    _record(
        "MedicationRequest/c",
        "Medication: metoprolol 25 MG Oral Tablet; status: stopped; prescribed: 2019-01-02.",
        "metoprolol 25 MG Oral Tablet (stopped); prescribed 2019-01-02.",
        0.3,
    ),
]


def test_a_record_question_lists_every_sure_record_readably_and_nothing_else(embedder: Embedder) -> None:
    draft = ExtractiveGenerator(embedder).draft("What medications is the patient currently taking?", MEDS)
    assert draft.text == (
        "lisinopril 10 MG Oral Tablet (active): 1 tablet daily; prescribed 2024-05-06 [S1]. "
        "amLODIPine 2.5 MG Oral Tablet (active): 1 tablet daily; prescribed 2024-05-06 [S2]."
    )
    verified = verify_draft(draft.text, MEDS, embedder, threshold=0.45)
    assert verified.declined_reason is None and verified.unsupported_sentences == []
    assert [c.source_id for c in verified.citations] == ["MedicationRequest/a", "MedicationRequest/b"]


def test_sure_records_answer_even_below_a_note(sources: list[Candidate], embedder: Embedder) -> None:
    """A note ranked first (an old visit's "No active medications") does not outvote the record."""
    note = next(c for c in sources if c.source_type == "note_chunk")
    draft = ExtractiveGenerator(embedder).draft(
        "What medications is the patient currently taking?", [note, *MEDS]
    )
    assert draft.text == (
        "lisinopril 10 MG Oral Tablet (active): 1 tablet daily; prescribed 2024-05-06 [S2]. "
        "amLODIPine 2.5 MG Oral Tablet (active): 1 tablet daily; prescribed 2024-05-06 [S3]."
    )


def _policy(doc: str, text: str, score: float) -> Candidate:
    return Candidate(
        source_id=f"{doc}#0",
        source_type="policy",
        source_ref=doc,
        patient_key=None,
        text=text,
        score=score,
        retriever="dense",
        doc_id=doc,
        start=0,
        end=len(text),
        section="Nationally Covered Indications / Nationally Non-Covered Indications",
    )


def test_a_covered_section_that_says_n_a_is_answered_by_the_same_policys_non_covered_one(
    embedder: Embedder,
) -> None:
    never_event = _policy(
        "Policy/329",
        "B. Nationally Covered Indications\n\nN/A\n\nC. Nationally Non-Covered Indications\n\n"
        "The CMS does not cover a surgical procedure performed on the wrong patient.\n",
        0.8,
    )
    other = _policy(
        "Policy/12",
        "B. Nationally Covered Indications\n\nN/A\n\nC. Nationally Non-Covered Indications\n\n"
        "The CMS does not cover acupuncture.\n",
        0.5,
    )
    picks = ExtractiveAnswerer(embedder).picks(
        "When does Medicare cover surgery on the wrong patient?", [never_event, other]
    )
    assert [(p.source, p.segment.text) for p in picks] == [
        (1, "The CMS does not cover a surgical procedure performed on the wrong patient.")
    ]


def test_a_coverage_question_gets_the_policys_criteria_in_order_without_its_subheadings(
    embedder: Embedder,
) -> None:
    """The service's name picks the policy, not the sentences: the criteria are quoted as written,
    and a subheading line ("Noninvasive Stimulator") names a part but states nothing."""
    text = (
        "B. Nationally Covered Indications\n\n- Noninvasive Stimulator\n\n"
        "The noninvasive stimulator device is covered only for the following indications:\n\n"
        "- Nonunion of long bone fractures;\n\n- Failed fusion, where a minimum of 9 months has elapsed;\n"
    )
    picks = ExtractiveAnswerer(embedder).picks(
        "When does Medicare cover Osteogenic Stimulators?", [_policy("Policy/65", text, 0.7)]
    )
    assert [p.segment.text for p in picks] == [
        "The noninvasive stimulator device is covered only for the following indications:",
        "Nonunion of long bone fractures;",
        "Failed fusion, where a minimum of 9 months has elapsed;",
    ]


def test_a_coverage_answer_quotes_the_covered_subsection_not_its_parents_preamble(embedder: Embedder) -> None:
    text = (
        "## Indications and Limitations of Coverage\nThe devices are described in section 150.2 of the manual.\n\n"
        "B. Nationally Covered Indications\n\nThe device is covered for nonunion of long bone fractures.\n"
    )
    chunk = _policy("Policy/65", text, 0.7).model_copy(
        update={"section": "Indications and Limitations of Coverage / Nationally Covered Indications"}
    )
    picks = ExtractiveAnswerer(embedder).picks("When does Medicare cover Osteogenic Stimulators?", [chunk])
    assert [p.segment.text for p in picks] == ["The device is covered for nonunion of long bone fractures."]


def test_a_coverage_question_is_never_answered_by_the_patients_record_alone(embedder: Embedder) -> None:
    """ "Is cardiac rehab covered for this patient's heart failure?" (no section cue): the sure heart
    failure record stands beside the policy, it does not replace it."""
    condition = _record(
        "Condition/hf",
        "Condition: Chronic congestive heart failure (disorder); clinical status: active; onset: 2019-01-01.",
        "Chronic congestive heart failure (disorder) (active), onset 2019-01-01.",
        1.0,
        score=1.0,
    )
    policy = _policy(
        "Policy/20.10.1",
        "Medicare covers cardiac rehabilitation programs for beneficiaries with stable, chronic heart failure.",
        0.8,
    )
    picks = ExtractiveAnswerer(embedder).picks(
        "Is cardiac rehab covered for this patient's heart failure?", [condition, policy]
    )
    assert any(p.source == 2 for p in picks)


OPERATIVE = Candidate(
    source_id="DocumentReference/op#0",
    source_type="note_chunk",
    source_ref="DocumentReference/op",
    patient_key="pk",
    text=(
        "PREOPERATIVE DIAGNOSIS:  Symptomatic cholelithiasis.\n"
        "OPERATION PERFORMED:  Laparoscopic cholecystectomy.\n"
        "SPECIMENS:  Gallbladder with stones.\n"
        "HOME MEDICATIONS:  Lisinopril 10 mg daily.\nMetformin 500 mg twice daily."
    ),
    score=0.6,
    retriever="dense",
    doc_id="DocumentReference/op",
    section="PREOPERATIVE DIAGNOSIS / OPERATION PERFORMED / SPECIMENS / HOME MEDICATIONS",
    start=0,
)


@pytest.mark.parametrize(
    ("question", "quoted"),
    [
        # A header outside the curated kinds, named by the question: its items are the answer.
        ("what specimens were sent", ["SPECIMENS:  Gallbladder with stones."]),
        # A header the vocabulary files under medications, asked in shorthand: the whole list.
        (
            "what meds is she on",
            ["HOME MEDICATIONS:  Lisinopril 10 mg daily.", "Metformin 500 mg twice daily."],
        ),
    ],
)
def test_a_section_named_by_any_header_is_quoted_whole(
    question: str, quoted: list[str], embedder: Embedder
) -> None:
    picks = ExtractiveAnswerer(embedder).picks(question, [OPERATIVE])
    assert [p.segment.text.strip() for p in picks] == quoted


def test_a_sure_record_answers_before_a_notes_section(embedder: Embedder) -> None:
    """The coded record is the system of record: "what meds is she on" lists the active orders even
    when a note has a HOME MEDICATIONS section."""
    picks = ExtractiveAnswerer(embedder).picks("what meds is she on", [*MEDS, OPERATIVE])
    assert {p.source for p in picks} == {1, 2}


# --------------------------------------------------------------------------- yes/no questions (issue 26)


def _note(text: str, section: str | None = None) -> Candidate:
    return Candidate(
        source_id="DocumentReference/yn#c0", source_type="note_chunk", source_ref="DocumentReference/yn",
        patient_key="pk", text=text, retriever="dense", score=0.6, section=section,
    )  # fmt: skip


def test_no_known_allergies_answers_any_allergies_with_a_no_lead(embedder: Embedder) -> None:
    note = _note(
        "ALLERGIES:\nNo known allergies.\n\nMEDICATIONS:\nLisinopril 10 mg daily.", "ALLERGIES / MEDICATIONS"
    )
    draft = ExtractiveGenerator(embedder).draft("Any allergies?", [note])
    assert draft.text == "No known allergies [S1]."
    assert draft.lead is not None and draft.lead.sentence() == "No [S1]."
    verified = verify_draft(draft.text, [note], embedder, threshold=0.45)
    assert verified.declined_reason is None and verified.text == draft.text


def test_a_smoking_status_row_answers_does_the_patient_smoke(embedder: Embedder) -> None:
    status = record_candidate(
        "Observation/smoking",
        0.85,
        text="Lab/observation: Tobacco smoking status = Never smoked tobacco (finding) on 2025-01-03 (most recent).",
        brief="Tobacco smoking status: Never smoked tobacco (finding) on 2025-01-03 (most recent).",
    )
    other = _note("Patient presents for a well visit. Blood pressure is well controlled.")
    draft = ExtractiveGenerator(embedder).draft("Does the patient smoke?", [status, other])
    assert (
        draft.text
        == "Tobacco smoking status: Never smoked tobacco (finding) on 2025-01-03 (most recent) [S1]."
    )
    assert draft.lead is not None and draft.lead.sentence() == "No [S1]."
    assert verify_draft(draft.text, [status, other], embedder, threshold=0.45).declined_reason is None


def test_a_yes_no_question_quotes_the_sentences_asserting_its_topic(embedder: Embedder) -> None:
    note = _note(
        "SOCIAL HISTORY: She is married with four children. The patient is a life long nonsmoker. "
        "She works as a manager.",
        "SOCIAL HISTORY",
    )
    draft = ExtractiveGenerator(embedder).draft("Is she a smoker?", [note])
    assert draft.text == "The patient is a life long nonsmoker [S1]."
    assert draft.lead is not None and draft.lead.text == "No"


def test_sentences_that_leave_a_habit_open_get_no_lead(embedder: Embedder) -> None:
    note = _note("# Follow-up\n- Quit smoking - resources given\n- No smoking near oxygen\n", "Follow-up")
    draft = ExtractiveGenerator(embedder).draft("Does the patient smoke?", [note])
    assert draft.lead is None


def test_a_yes_no_question_about_a_medication_gets_no_lead(embedder: Embedder) -> None:
    # "stopped" is a status ConText does not read: a "Yes" here would be a wrong fact.
    med = record_candidate(
        "MedicationRequest/lisinopril", 0.9, text="Medication: lisinopril 10 MG Oral Tablet; status: stopped."
    )
    draft = ExtractiveGenerator(embedder).draft("Is she on lisinopril?", [med])
    assert "lisinopril" in draft.text and draft.lead is None


def test_what_a_study_showed_is_its_impression_then_its_findings_without_the_bare_list_number(
    embedder: Embedder,
) -> None:
    """A procedure report's result: the IMPRESSION first, then the FINDINGS it rests on (DICOM CID
    7001), in the note's order within each; "IMPRESSION:,1." (a header and an item number) is no item."""
    text = (
        "FINDINGS:, The endoscope was passed into the esophagus. The junction was irregular.\n"
        "IMPRESSION:,1.  Gastroesophageal reflux disease, biopsied.,2.  Distal esophageal stricture.\n"
        "PLAN:, Proton pump inhibitor twice daily."
    )
    picks = ExtractiveAnswerer(embedder).picks("what did they find on the scope", [mts_source(text)])
    sections = [p.segment.section for p in picks]
    assert sections[:2] == ["IMPRESSION", "IMPRESSION"] and set(sections[2:]) == {"FINDINGS"}
    assert not any(p.segment.text.strip().endswith(",1.") for p in picks)


def test_a_study_named_by_its_own_section_is_answered_by_that_section(embedder: Embedder) -> None:
    """ "What did the xrays show" of a visit note with a RADIOGRAPHS section: that section, not the
    visit's impression."""
    text = (
        "RADIOGRAPHS:, Those of his foot show chronic changes over the navicular. No fracture is seen.\n"
        "IMPRESSION:, Left Chopart joint sprain."
    )
    picks = ExtractiveAnswerer(embedder).picks("what did the xrays show", [mts_source(text)])
    assert picks and all(p.segment.section == "RADIOGRAPHS" for p in picks)


@pytest.mark.parametrize(
    ("question", "quoted"),
    [
        ("what was her blood pressure at this visit", "Blood pressure today is 182/78."),
        ("what were his vitals", "His weight is 164 pounds, blood pressure 108/60, pulse 88."),
    ],
)
def test_a_vital_sign_is_answered_by_the_sentence_stating_its_value_under_any_header(
    question: str, quoted: str, embedder: Embedder
) -> None:
    """Vital signs written under PHYSICAL EXAMINATION or OBJECTIVE, with no header of their own: the
    sentence stating the value answers, not one that only names the vital sign."""
    text = (
        "HISTORY OF PRESENT ILLNESS:, She had stable blood pressure for the past 12 years on lisinopril. "
        "Her blood pressure started to go up to over 200s.\n"
        "PHYSICAL EXAMINATION:, Blood pressure today is 182/78. Lungs are clear.\n"
        "OBJECTIVE:, His weight is 164 pounds, blood pressure 108/60, pulse 88.\n"
    )
    picks = ExtractiveAnswerer(embedder).picks(question, [mts_source(text)])
    assert quoted in [p.segment.text.split(":,")[-1].strip() for p in picks]
    assert all(re.search(r"\d", p.segment.text) for p in picks)


def test_a_medication_question_over_a_note_without_a_medication_list_quotes_only_a_drug(
    embedder: Embedder,
) -> None:
    """An EEG report with no medication list: "what seizure meds is he on" is not answered by a
    sentence that names no drug ("on several seizure meds"); a sentence naming one may answer."""
    text = (
        "HISTORY:, This is a digital EEG performed on a 75-year-old male with seizures.\n"
        "INDICATION:, He has been on several seizure meds over the years.\n"
        "IMPRESSION:, Normal awake and drowsy EEG."
    )
    assert ExtractiveAnswerer(embedder).picks("what seizure meds is he on", [mts_source(text)]) == []
    with_drug = text + "\nCOMMENTS:, He continues on Keppra 500 mg twice daily for his seizures."
    picks = ExtractiveAnswerer(embedder).picks("what seizure meds is he on", [mts_source(with_drug)])
    assert picks and all("Keppra" in p.segment.text for p in picks)


def test_what_a_patient_is_taking_is_their_medication_list(embedder: Embedder) -> None:
    text = (
        "HISTORY OF PRESENT ILLNESS:, She comes in for an oncology consultation today.\n"
        "CURRENT MEDICATIONS:, Diovan 80/12.5 mg daily, Lipitor 10 mg daily.\n"
        "ALLERGIES:, No known drug allergies."
    )
    picks = ExtractiveAnswerer(embedder).picks("what is she currently taking", [mts_source(text)])
    assert [p.segment.section for p in picks] == ["CURRENT MEDICATIONS"]


def test_a_when_question_is_answered_by_the_relevant_sentence_holding_the_date(embedder: Embedder) -> None:
    text = (
        "HISTORY OF PRESENT ILLNESS:, She was referred to gastroenterology and underwent an ERCP. "
        "On August 24, 2010, she underwent the ERCP and a biliary stent was placed. "
        "The ERCP showed a stricturing mass of the common bile duct."
    )
    picks = ExtractiveAnswerer(embedder).picks("when did she have the ERCP", [mts_source(text)])
    assert picks and all("August 24, 2010" in p.segment.text for p in picks)


def test_a_yes_no_question_is_answered_by_the_sentence_asserting_the_finding_not_one_hedging_it(
    embedder: Embedder,
) -> None:
    """ "Did she aspirate on the swallow study": "to rule out aspiration" names the finding only as
    possible and the study's other sentences name only its setting; "No aspiration was noted" asserts it."""
    text = (
        "SUBJECTIVE:, A modified barium swallow study was ordered to evaluate her swallowing and to rule "
        "out aspiration.\n"
        "OBJECTIVE:, Modified barium swallow study was performed in the Radiology Suite with Dr. ABC.\n"
        "DIAGNOSTIC IMPRESSION:, No aspiration was noted during this evaluation."
    )
    picks = ExtractiveAnswerer(embedder).picks("did she aspirate on the swallow study", [mts_source(text)])
    assert [p.segment.text.split(":,")[-1].strip() for p in picks] == [
        "No aspiration was noted during this evaluation."
    ]


def _session(doc: str, text: str, score: float) -> Candidate:
    return Candidate(
        source_id=f"DocumentReference/{doc}#c0", source_type="note_chunk",
        source_ref=f"DocumentReference/{doc}", patient_key="pk", text=text, retriever="dense",
        score=score, doc_id=doc, start=0, end=len(text),
    )  # fmt: skip


def test_a_line_carried_forward_into_every_note_does_not_answer_when_one_notes_own_sentence_does(
    embedder: Embedder,
) -> None:
    """ "Relapse-prevention plan updated" is in both sessions' plans, word for word: the template's
    line; the later session's own report of the relapse answers."""
    first = _session(
        "s1",
        "Interval history: Reports no alcohol use since intake.\nPlan:\n- Relapse-prevention plan updated\n",
        0.4,
    )
    second = _session(
        "s2",
        "Session content: Reports a one-day relapse on July 18 after a family funeral.\n"
        "Plan:\n- Relapse-prevention plan updated\n",
        0.3,
    )
    picks = ExtractiveAnswerer(embedder).picks("did she have a relapse with drinking", [first, second])
    assert [p.segment.text.split(": ")[-1] for p in picks] == [
        "Reports a one-day relapse on July 18 after a family funeral."
    ]


def test_a_diagnosis_question_is_answered_by_the_impression_when_the_note_has_no_diagnosis_section(
    embedder: Embedder,
) -> None:
    text = (
        "CHIEF COMPLAINT:, Left foot pain.\n"
        "RADIOGRAPHS:, Those of his foot show chronic changes over the navicular.\n"
        "IMPRESSION:, Left Chopart joint sprain.\n"
    )
    picks = ExtractiveAnswerer(embedder).picks("whats the diagnosis for his foot", [mts_source(text)])
    assert [p.segment.section for p in picks] == ["IMPRESSION"]
    with_own = text + "DIAGNOSIS:, Midfoot sprain.\n"
    picks = ExtractiveAnswerer(embedder).picks("whats the diagnosis for his foot", [mts_source(with_own)])
    assert [p.segment.section for p in picks] == ["DIAGNOSIS"]
