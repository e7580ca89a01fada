"""Structured retrieval picks rows by status and date, and never crosses the filter."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from carecite.domain import AccessScope, Narrowing, RetrievalFilter
from carecite.reading.intent import read_intent
from carecite.records import make_engine, session_scope
from carecite.records import tables as t
from carecite.retrieval.records.lookup import StructuredRetriever

TODAY = date(2026, 11, 20)
PK, OTHER = "pk_alice", "pk_bob"


@pytest.fixture
def engine(tmp_path) -> Engine:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with session_scope(engine) as s:
        s.add(
            t.Task(
                ref="Task/overdue",
                fhir_id="overdue",
                patient_key=PK,
                status="requested",
                description="Call patient to schedule cardiology follow-up",
                due=datetime(2026, 11, 10),
            )
        )
        s.add(
            t.Task(
                ref="Task/open",
                fhir_id="open",
                patient_key=PK,
                status="in-progress",
                description="Arrange home health nursing visit",
                due=datetime(2026, 12, 5),
            )
        )
        s.add(
            t.Task(
                ref="Task/done",
                fhir_id="done",
                patient_key=PK,
                status="completed",
                description="Medication reconciliation",
                due=datetime(2026, 11, 1),
            )
        )
        s.add(
            t.Task(
                ref="Task/bob",
                fhir_id="bob",
                patient_key=OTHER,
                status="requested",
                description="Call patient about overdue endocrinology visit",
                due=datetime(2026, 10, 1),
            )
        )
        s.add(
            t.Task(
                ref="Task/psy",
                fhir_id="psy",
                patient_key=PK,
                status="requested",
                security_labels="|PSY|",
                description="Behavioral health follow-up call",
                due=datetime(2026, 11, 2),
            )
        )
        for i, (value, when) in enumerate([(7.1, datetime(2026, 3, 1)), (8.4, datetime(2026, 10, 15))]):
            s.add(
                t.Observation(
                    ref=f"Observation/a1c{i}",
                    fhir_id=f"a1c{i}",
                    patient_key=PK,
                    status="final",
                    display="Hemoglobin A1c/Hemoglobin.total in Blood",
                    value=value,
                    unit="%",
                    effective=when,
                )
            )
        s.add(
            t.Observation(
                ref="Observation/k",
                fhir_id="k",
                patient_key=PK,
                status="final",
                display="Potassium [Moles/volume] in Serum or Plasma",
                value=4.1,
                unit="mmol/L",
                effective=datetime(2026, 10, 20),
            )
        )
        s.add(
            t.Appointment(
                ref="Appointment/next",
                fhir_id="next",
                patient_key=PK,
                status="booked",
                description="Cardiology follow-up visit",
                start=datetime(2026, 12, 2, 10, 30),
            )
        )
        s.add(
            t.Appointment(
                ref="Appointment/missed",
                fhir_id="missed",
                patient_key=PK,
                status="noshow",
                description="Endocrinology visit",
                start=datetime(2026, 11, 3, 9, 0),
            )
        )
    return engine


def _filter(labels: frozenset[str] = frozenset(), narrowing: Narrowing | None = None) -> RetrievalFilter:
    scope = AccessScope(
        user_id="u",
        role="nurse",
        facilities=frozenset({"Organization/f"}),
        patient_keys=None,
        allowed_labels=labels,
    )
    return RetrievalFilter.for_request(scope, PK, narrowing)


def refs(engine: Engine, question: str, flt: RetrievalFilter | None = None, k: int = 10) -> list[str]:
    retriever = StructuredRetriever(engine, TODAY)
    return [c.source_ref for c in retriever.search(retriever.read(question), flt or _filter(), k)]


def test_overdue_question_ranks_the_overdue_open_task_first(engine: Engine) -> None:
    assert refs(engine, "Which follow-up tasks are overdue?")[0] == "Task/overdue"


def test_outstanding_question_ranks_open_tasks_above_completed(engine: Engine) -> None:
    got = refs(engine, "What follow-ups are still outstanding?")
    assert set(got[:2]) == {"Task/overdue", "Task/open"}
    assert "Task/done" not in got  # a completed task has no confidence for an "outstanding" question


def test_overdue_statement_says_overdue_with_due_date(engine: Engine) -> None:
    retriever = StructuredRetriever(engine, TODAY)
    cands = retriever.search(retriever.read("overdue tasks"), _filter(), 5)
    assert "overdue (due 2026-11-10)" in cands[0].text
    assert cands[0].source_type == "record" and cands[0].retriever == "structured"


def test_most_recent_lab_is_the_latest_value(engine: Engine) -> None:
    retriever = StructuredRetriever(engine, TODAY)
    cands = retriever.search(retriever.read("What was the most recent A1c?"), _filter(), 5)
    assert cands[0].source_ref == "Observation/a1c1"
    assert "8.4 %" in cands[0].text and "2026-10-15" in cands[0].text


def test_upcoming_and_missed_appointments_are_told_apart(engine: Engine) -> None:
    assert refs(engine, "Any upcoming appointments?")[0] == "Appointment/next"
    assert refs(engine, "Did the patient miss an appointment?")[0] == "Appointment/missed"


def test_other_patients_rows_never_returned(engine: Engine) -> None:
    assert "Task/bob" not in refs(engine, "overdue endocrinology visit call", k=50)


def test_restricted_row_hidden_without_label_and_visible_with_it(engine: Engine) -> None:
    assert "Task/psy" not in refs(engine, "behavioral health follow-up call", k=50)
    assert "Task/psy" in refs(engine, "behavioral health follow-up call", _filter(frozenset({"PSY"})), k=50)


def test_date_narrowing_applies_inside_the_query(engine: Engine) -> None:
    flt = _filter(narrowing=Narrowing(date_from=date(2026, 12, 1)))
    assert refs(engine, "follow-up tasks", flt) == ["Task/open"]


def test_unrelated_question_returns_nothing(engine: Engine) -> None:
    assert refs(engine, "zebra xylophone") == []


def test_a_named_lab_the_patient_never_had_finds_nothing(engine: Engine) -> None:
    """'latest BNP' must not be answered by the latest A1c or potassium."""
    assert refs(engine, "What's the latest BNP on file?") == []
    assert refs(engine, "latest potassium")[0] == "Observation/k"


def test_a_named_vaccine_or_procedure_the_patient_never_had_is_not_substituted(engine: Engine) -> None:
    with session_scope(engine) as s:
        s.add(t.Immunization(ref="Immunization/flu", fhir_id="flu", patient_key=PK, status="completed",
                             display="Influenza, seasonal, injectable, preservative free",
                             occurrence=datetime(2026, 10, 1)))  # fmt: skip
        s.add(t.Procedure(ref="Procedure/dep", fhir_id="dep", patient_key=PK, status="completed",
                          display="Depression screening (procedure)", performed=datetime(2026, 9, 1)))  # fmt: skip
    # Asked by the words a coordinator uses, the record's own display answers (curated synonym).
    assert refs(engine, "When did the patient last get a flu shot?")[0] == "Immunization/flu"
    assert refs(engine, "When was the last depression screening?")[0] == "Procedure/dep"
    # Asked for what is not on record: nothing, rather than another vaccine or procedure.
    assert "Immunization/flu" not in refs(engine, "When did the patient last get a pneumococcal vaccine?")
    assert "Procedure/dep" not in refs(engine, "When was the patient's last colonoscopy?")


def test_hepatitis_a_and_b_vaccines_are_told_apart(engine: Engine) -> None:
    with session_scope(engine) as s:
        s.add(t.Immunization(ref="Immunization/hepa", fhir_id="hepa", patient_key=PK, status="completed",
                             display="Hep A, adult", occurrence=datetime(2026, 10, 1)))  # fmt: skip
    assert "Immunization/hepa" not in refs(engine, "When did the patient last get a hepatitis B vaccine?")
    assert refs(engine, "When did the patient last get a hep A shot?")[0] == "Immunization/hepa"


@pytest.fixture
def labs(tmp_path) -> Engine:  # type: ignore[no-untyped-def]
    """Lipids and a plain hemoglobin, named as Synthea's LOINC displays name them; no A1c."""
    engine = make_engine(f"sqlite:///{tmp_path / 'labs.sqlite'}")
    rows = [
        ("tc", "Cholesterol [Mass/volume] in Serum or Plasma", 190.0),
        ("ldl", "Low Density Lipoprotein Cholesterol", 110.0),
        ("hdl", "Cholesterol in HDL [Mass/volume] in Serum or Plasma", 48.0),
        ("hb", "Hemoglobin [Mass/volume] in Blood", 13.2),
        ("bmi", "Body mass index (BMI) [Ratio]", 27.1),
        ("bmip", "Body mass index (BMI) [Percentile] Per age and sex", 80.0),
        ("wt", "Body Weight", 81.0),
    ]
    with session_scope(engine) as s:
        for fid, display, value in rows:
            s.add(
                t.Observation(
                    ref=f"Observation/{fid}",
                    fhir_id=fid,
                    patient_key=PK,
                    status="final",
                    display=display,
                    value=value,
                    unit="x",
                    effective=datetime(2026, 9, 1),
                )
            )
    return engine


@pytest.mark.parametrize(
    ("question", "ref"),
    [
        ("What was the most recent LDL cholesterol?", "Observation/ldl"),
        ("What was the most recent HDL?", "Observation/hdl"),
        ("What was the most recent total cholesterol?", "Observation/tc"),
        ("What was the most recent hemoglobin?", "Observation/hb"),
        ("What was the most recent BMI?", "Observation/bmi"),
        ("What was the most recent body weight?", "Observation/wt"),
    ],
)
def test_a_named_lab_is_the_row_whose_coded_display_names_exactly_it(
    labs: Engine, question: str, ref: str
) -> None:
    assert refs(labs, question)[:1] == [ref]
    assert len([r for r in refs(labs, question) if r.startswith("Observation/")]) == 1


def test_an_item_the_record_lacks_is_never_substituted_and_is_reported_missing(labs: Engine) -> None:
    retriever = StructuredRetriever(labs, TODAY)
    question = "What was the most recent hemoglobin A1c?"
    assert retriever.search(retriever.read(question), _filter(), 10) == []  # never the plain hemoglobin
    missing = retriever.missing_item(retriever.read(question), _filter())
    assert missing is not None and missing[0] == "hemoglobin A1c"  # as the question wrote it
    assert retriever.missing_item(retriever.read("What was the most recent hemoglobin?"), _filter()) is None
    # Words that name nothing in the record ("checked") neither block an answer nor make one missing.
    assert retriever.missing_item(retriever.read("When was the hemoglobin last checked?"), _filter()) is None
    assert refs(labs, "When was the hemoglobin last checked?")[:1] == ["Observation/hb"]


def test_a_negated_status_asks_for_the_open_work_and_draws_no_row_with_that_status(engine: Engine) -> None:
    intent = read_intent("Which tasks haven't been completed yet?")
    assert intent.outstanding and "completed" not in intent.terms
    assert read_intent("Which tasks are not done?").outstanding
    assert "Task/done" not in refs(engine, "Which tasks haven't been completed yet?")[:3]
    assert refs(engine, "Which tasks have been completed?")[0] == "Task/done"


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        # The patient's appointments are with cardiology and endocrinology, none with nephrology.
        ("When is his nephrology appointment?", "nephrology appointment"),
        ("Has the orthopedics follow-up been done?", "orthopedics follow-up"),
        ("When is he supposed to see cardiology?", None),
        ("Did she show up for her endocrinology visit?", None),
        # A specialty's other words name it in a row: "Call patient to schedule cardiology follow-up".
        ("Is the cardiologist follow-up task still open?", None),
        # No specialty by name: nothing is missing.
        ("When is her next appointment?", None),
        # A "cardiology follow-up" may be the appointment, not a task: every work kind is read.
        ("When is her cardiology follow-up?", None),
    ],
)
def test_a_work_question_naming_a_specialty_no_row_is_with_names_what_is_missing(
    engine: Engine, question: str, missing: str | None
) -> None:
    retriever = StructuredRetriever(engine, TODAY)
    found = retriever.missing_item(retriever.read(question), _filter())
    assert (found[0] if found else None) == missing


def test_a_question_about_what_a_note_says_asks_for_no_record_row(engine: Engine) -> None:
    question = "What was documented in the telephone encounter note from November 9?"
    assert read_intent(question).notes
    retriever = StructuredRetriever(engine, TODAY)
    assert retriever.search(retriever.read(question), _filter(), 10) == []


def test_supposed_to_see_is_a_visit_to_come(engine: Engine) -> None:
    assert read_intent("When is he supposed to see cardiology?").upcoming
    assert not read_intent("He was supposed to see cardiology last week; did he go?").upcoming
    assert refs(engine, "When is he supposed to see cardiology?")[0] == "Appointment/next"


def test_work_in_progress_ranks_the_in_progress_task_above_merely_open_ones(engine: Engine) -> None:
    retriever = StructuredRetriever(engine, TODAY)
    found = retriever.search(retriever.read("Which tasks are in progress?"), _filter(), 10)
    assert found[0].source_ref == "Task/open"
    assert all(c.match is not None and c.match < found[0].match for c in found[1:])  # type: ignore[operator]


def test_did_she_show_up_finds_the_past_visit_not_the_upcoming_one(engine: Engine) -> None:
    assert refs(engine, "Did she show up for her endocrinology visit?")[0] == "Appointment/missed"


def test_each_statement_has_a_readable_brief_with_the_same_dates(engine: Engine) -> None:
    retriever = StructuredRetriever(engine, TODAY)
    found = retriever.search(retriever.read("Which tasks are overdue?"), _filter(), 10)
    overdue = next(c for c in found if c.source_ref == "Task/overdue")
    assert overdue.brief == "Overdue: Call patient to schedule cardiology follow-up, due 2026-11-10."
    assert "2026-11-10" in overdue.text  # the statement it is verified against says the same date


@pytest.fixture
def meds(tmp_path) -> Engine:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'meds.sqlite'}")
    with session_scope(engine) as s:
        s.add(
            t.MedicationRequest(
                ref="MedicationRequest/old",
                fhir_id="old",
                patient_key=PK,
                status="stopped",
                medication="amLODIPine 2.5 MG Oral Tablet",
                authored_on=datetime(2019, 5, 6),
            )
        )
        s.add(
            t.Procedure(
                ref="Procedure/clean",
                fhir_id="clean",
                patient_key=PK,
                status="completed",
                display="Removal of supragingival plaque and calculus from all teeth using dental instrument",
                performed=datetime(2024, 5, 27),
            )
        )
    return engine


def test_current_medications_when_every_coded_one_is_stopped_are_reported_missing(meds: Engine) -> None:
    retriever = StructuredRetriever(meds, TODAY)
    missing = retriever.missing_item(
        retriever.read("What medications is the patient currently taking?"), _filter()
    )
    assert missing is not None and missing[0] == "current medication"
    assert (
        retriever.missing_item(retriever.read("What medications has the patient been prescribed?"), _filter())
        is None
    )


def test_current_state_is_left_to_the_notes_when_nothing_of_the_kind_is_coded(engine: Engine) -> None:
    """A notes-only patient's current medications may be in a note's medication list."""
    retriever = StructuredRetriever(engine, TODAY)
    assert (
        retriever.missing_item(retriever.read("What medications is the patient currently taking?"), _filter())
        is None
    )


def test_a_row_naming_the_item_answers_though_the_question_never_says_its_kind(meds: Engine) -> None:
    retriever = StructuredRetriever(meds, TODAY)
    found = retriever.search(retriever.read("When was the last dental cleaning?"), _filter(), 5)
    assert found and found[0].source_ref == "Procedure/clean" and (found[0].match or 0) >= 0.5


def _add_named_rows(engine: Engine) -> None:
    """Rows named like Synthea's: a procedure whose name holds a kind noun, a lab without a specimen,
    a drug whose name holds a lab's name, a COVID test."""
    with session_scope(engine) as s:
        s.add(t.Procedure(ref="Procedure/medrec", fhir_id="medrec", patient_key=PK, status="completed",
                          display="Medication Reconciliation (procedure)", performed=datetime(2022, 8, 5)))  # fmt: skip
        s.add(t.Observation(ref="Observation/glu", fhir_id="glu", patient_key=PK, status="final",
                            display="Glucose", value=72.4, unit="mg/dL", effective=datetime(2024, 2, 15)))  # fmt: skip
        s.add(t.Observation(ref="Observation/covidtest", fhir_id="covidtest", patient_key=PK, status="final",
                            display="SARS-CoV-2 RNA Pnl Resp NAA+probe", value_text="Detected",
                            effective=datetime(2020, 3, 10)))  # fmt: skip
        s.add(t.MedicationRequest(ref="MedicationRequest/penvk", fhir_id="penvk", patient_key=PK, status="stopped",
                                  medication="Penicillin V Potassium 250 MG Oral Tablet",
                                  authored_on=datetime(2023, 7, 18)))  # fmt: skip
        s.add(t.Condition(ref="Condition/hf", fhir_id="hf", patient_key=PK, clinical_status="active",
                          display="Chronic congestive heart failure (disorder)", onset=datetime(2019, 1, 1)))  # fmt: skip
        s.add(t.Condition(ref="Condition/arrest", fhir_id="arrest", patient_key=PK, clinical_status="resolved",
                          display="Cardiac arrest (disorder)", onset=datetime(2015, 1, 1)))  # fmt: skip
        s.add(t.Condition(ref="Condition/osa", fhir_id="osa", patient_key=PK, clinical_status="active",
                          display="Sleep apnea (disorder)", onset=datetime(2018, 1, 1)))  # fmt: skip
        s.add(t.Observation(ref="Observation/fluswab", fhir_id="fluswab", patient_key=PK, status="final",
                            display="Rapid flu test", value_text="Negative", effective=datetime(2025, 1, 5)))  # fmt: skip
        s.add(t.Observation(ref="Observation/uglu", fhir_id="uglu", patient_key=PK, status="final",
                            display="Glucose [Mass/volume] in Urine by Test strip", value_text="Negative",
                            effective=datetime(2025, 6, 1)))  # fmt: skip


def test_a_named_item_is_found_in_the_kind_whose_name_holds_the_noun(engine: Engine) -> None:
    """ "medication reconciliation" is a procedure: the noun "medication" named the wrong kind, and the
    procedure's own name holds it; nothing is reported missing."""
    _add_named_rows(engine)
    retriever = StructuredRetriever(engine, TODAY)
    question = "When was the patient's last medication reconciliation?"
    assert refs(engine, question)[0] == "Procedure/medrec"
    assert retriever.missing_item(retriever.read(question), _filter()) is None


def test_another_kind_never_stands_in_for_a_named_item_the_record_lacks(engine: Engine) -> None:
    """A COVID test is no COVID-19 vaccine; penicillin V potassium is no potassium result (the patient
    has no potassium lab in this test). Both are missing, named as the question wrote them."""
    _add_named_rows(engine)
    with session_scope(engine) as s:
        for row in s.exec(
            select(t.Observation).where(col(t.Observation.display).contains("Potassium"))
        ).all():
            s.delete(row)
    retriever = StructuredRetriever(engine, TODAY)
    vaccine = "When did the patient last get a COVID-19 vaccine?"
    assert "Observation/covidtest" not in refs(engine, vaccine)
    missing = retriever.missing_item(retriever.read(vaccine), _filter())
    assert missing is not None and missing[0] == "COVID-19 vaccine"
    assert "MedicationRequest/penvk" not in refs(engine, "What was the most recent potassium level?")
    # "flu" names the vaccine, it is not the noun: a flu test holds "flu" but is no flu shot.
    shot = "When did the patient last get a flu shot?"
    assert "Observation/fluswab" not in refs(engine, shot)
    assert retriever.missing_item(retriever.read(shot), _filter()) is not None


def test_a_condition_or_allergy_the_record_lacks_is_missing_never_another_one(engine: Engine) -> None:
    """Asked when she was diagnosed with hypertension, a patient with heart failure and sleep apnea has
    no answer in her problem list; asked whether she is allergic to penicillin, a peanut allergy is
    none. The public Synthea bundles answered 19 of 35 such questions with another condition."""
    _add_named_rows(engine)
    with session_scope(engine) as s:
        s.add(t.AllergyIntolerance(ref="AllergyIntolerance/peanut", fhir_id="peanut", patient_key=PK,
                                   clinical_status="active", display="Allergy to peanuts",
                                   recorded=datetime(2010, 1, 1)))  # fmt: skip
        # Another patient's rows: the store's vocabulary knows these names (a word no display holds
        # names nothing), though this patient has none of them.
        s.add(t.Condition(ref="Condition/bob-htn", fhir_id="bob-htn", patient_key=OTHER, clinical_status="active",
                          display="Essential hypertension (disorder)", onset=datetime(2015, 1, 1)))  # fmt: skip
        s.add(t.AllergyIntolerance(ref="AllergyIntolerance/bob-pcn", fhir_id="bob-pcn", patient_key=OTHER,
                                   clinical_status="active", display="Allergy to penicillin",
                                   recorded=datetime(2012, 1, 1)))  # fmt: skip
    retriever = StructuredRetriever(engine, TODAY)
    for question, item in (
        ("When was the patient diagnosed with essential hypertension?", "essential hypertension"),
        ("Is the patient allergic to penicillin?", "penicillin"),
    ):
        assert refs(engine, question) == [], question
        missing = retriever.missing_item(retriever.read(question), _filter())
        assert missing is not None and item in missing[0], (question, missing)
    # What the record has is still found by its name, and a lay name by its display's words.
    assert refs(engine, "When was the patient diagnosed with sleep apnea?")[0] == "Condition/osa"
    assert refs(engine, "Is the patient allergic to peanuts?")[0] == "AllergyIntolerance/peanut"
    assert refs(engine, "When was the patient diagnosed with heart failure?")[0] == "Condition/hf"


def test_a_procedure_named_with_an_encounter_noun_is_found_before_any_admission(engine: Engine) -> None:
    """ "Admission to orthopedic department" is a SNOMED CT procedure: "admission" routes the question to
    encounters, but the row whose name is everything asked answers first, not the ER admission."""
    with session_scope(engine) as s:
        s.add(t.Encounter(ref="Encounter/er", fhir_id="er", patient_key=PK, status="finished",
                          display="Emergency room admission (procedure)", start=datetime(2023, 8, 14)))  # fmt: skip
        s.add(t.Procedure(ref="Procedure/ortho", fhir_id="ortho", patient_key=PK, status="completed",
                          display="Admission to orthopedic department", performed=datetime(2023, 8, 14)))  # fmt: skip
    question = "When did the patient last have Admission to orthopedic department?"
    assert refs(engine, question)[0] == "Procedure/ortho"
    retriever = StructuredRetriever(engine, TODAY)
    assert retriever.missing_item(retriever.read(question), _filter()) is None


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # A category is no item: the displays do not spell "food", "heart problems" or "medical".
        ("Any food allergies?", "AllergyIntolerance/peanut"),
        ("What heart problems does the patient have?", "Condition/hf"),
        ("What are the patient's active medical problems?", "Condition/osa"),
    ],
)
def test_a_question_naming_a_category_of_conditions_or_allergies_is_answered_from_them(
    engine: Engine, question: str, expected: str
) -> None:
    _add_named_rows(engine)
    with session_scope(engine) as s:
        s.add(t.AllergyIntolerance(ref="AllergyIntolerance/peanut", fhir_id="peanut", patient_key=PK,
                                   clinical_status="active", display="Allergy to peanuts",
                                   recorded=datetime(2010, 1, 1)))  # fmt: skip
    assert expected in refs(engine, question)
    retriever = StructuredRetriever(engine, TODAY)
    assert retriever.missing_item(retriever.read(question), _filter()) is None


def test_blood_is_the_default_specimen_and_another_specimen_is_another_quantity(engine: Engine) -> None:
    """ "blood glucose" is Synthea's "Glucose"; a urine glucose is not; "blood" alone names no lab."""
    _add_named_rows(engine)
    blood = refs(engine, "What was the most recent blood glucose?")
    assert blood[0] == "Observation/glu" and "Observation/uglu" not in blood
    urine = refs(engine, "What was the most recent urine glucose?")
    assert urine[0] == "Observation/uglu" and "Observation/glu" not in urine
    assert "Observation/glu" not in refs(engine, "What was the most recent blood test?")


def test_a_coverage_question_finds_the_patients_condition_it_names(engine: Engine) -> None:
    _add_named_rows(engine)
    retriever = StructuredRetriever(engine, TODAY)
    named = retriever.named_conditions(
        retriever.read("Does Medicare cover cardiac rehab for this patient's heart failure?"), _filter()
    )
    assert [c.source_ref for c in named] == ["Condition/hf"] and named[0].match == 1.0
    assert (
        retriever.named_conditions(
            retriever.read("Does Medicare cover cardiac rehab for this patient's COPD?"), _filter()
        )
        == []
    )
    # The service in a "for" clause names no condition, even where the store never says "rehabilitation".
    criteria = "What are the Medicare criteria for cardiac rehabilitation?"
    assert retriever.named_conditions(retriever.read(criteria), _filter()) == []
    # The last clause that names something: "for this patient" names nothing.
    osa = retriever.named_conditions(
        retriever.read("Does Medicare cover CPAP for sleep apnea for this patient?"), _filter()
    )
    assert [c.source_ref for c in osa] == ["Condition/osa"]
    # A token without Condition scope reads none.
    no_conditions = _filter().model_copy(update={"resource_types": frozenset({"Observation"})})
    assert (
        retriever.named_conditions(
            retriever.read("Is cardiac rehab covered for her heart failure?"), no_conditions
        )
        == []
    )


@pytest.mark.parametrize(
    "question",
    [
        "When was the patient's last medication reconciliation?",
        "When did the patient last get a COVID-19 vaccine?",
        "What was the most recent blood glucose?",
        "What was the most recent hemoglobin A1c?",
        "What medications is the patient currently taking?",
        "What are the patient's active problems?",
        "Which follow-up tasks are overdue?",
    ],
)
def test_one_lookup_finds_what_the_separate_questions_find(engine: Engine, question: str) -> None:
    """The pipeline's single pass (one reading of the question, one session) gives the ranked records
    and the missing item exactly as ``search`` and ``missing_item`` do, and a coverage lookup leads
    with ``named_conditions``."""
    _add_named_rows(engine)
    retriever = StructuredRetriever(engine, TODAY)
    found = retriever.lookup(retriever.read(question), _filter(), 8)
    assert found.candidates == retriever.search(retriever.read(question), _filter(), 8)
    assert found.missing == retriever.missing_item(retriever.read(question), _filter())
    coverage = "Does Medicare cover cardiac rehab for this patient's heart failure?"
    led = retriever.lookup(retriever.read(coverage), _filter(), 8, coverage=True)
    assert led.missing is None
    assert led.candidates[:1] == retriever.named_conditions(retriever.read(coverage), _filter())


def test_only_the_latest_result_is_sure_when_the_latest_is_asked(engine: Engine) -> None:
    """ "the most recent A1c" is one value: the earlier A1c results are found but never clear the
    floor that puts a record in the answer, whatever words the question and the statement share."""
    from carecite.retrieval.records.lookup import NAMED_RECORD_FLOOR

    for question in ("What was the most recent hemoglobin A1c?", "latest A1c", "last HbA1c result"):
        retriever = StructuredRetriever(engine, TODAY)
        found = retriever.search(retriever.read(question), _filter(), 8)
        a1c = [c for c in found if "A1c" in c.text]
        assert len(a1c) >= 2, question  # the fixture holds several
        sure = [c for c in a1c if (c.match or 0.0) >= NAMED_RECORD_FLOOR]
        assert [c.note_date for c in sure] == [max(c.note_date for c in a1c)], question


@pytest.fixture
def plans(tmp_path) -> Engine:  # type: ignore[no-untyped-def]
    """An active and a completed care plan, an active and a stopped prescription, one encounter."""
    engine = make_engine(f"sqlite:///{tmp_path / 'plans.sqlite'}")
    with session_scope(engine) as s:
        for fid, status in (("now", "active"), ("old", "completed")):
            s.add(t.CarePlan(ref=f"CarePlan/{fid}", fhir_id=fid, patient_key=PK, status=status,
                             display=f"{fid} plan", period_start=datetime(2024, 1, 1)))  # fmt: skip
            s.add(t.CarePlanActivity(ref=f"CarePlan/{fid}#activity=1", fhir_id=f"{fid}-1", patient_key=PK,
                                     careplan_ref=f"CarePlan/{fid}", index=1, status="in-progress",
                                     display=f"Exercise therapy ({fid})"))  # fmt: skip
        for fid, status in (("lisinopril", "active"), ("amlodipine", "stopped")):
            s.add(t.MedicationRequest(ref=f"MedicationRequest/{fid}", fhir_id=fid, patient_key=PK, status=status,
                                      medication=f"{fid} 10 MG Oral Tablet", authored_on=datetime(2023, 1, 1)))  # fmt: skip
        s.add(t.Encounter(ref="Encounter/wellness", fhir_id="wellness", patient_key=PK, status="finished",
                          display="General examination of patient", start=datetime(2025, 3, 3)))  # fmt: skip
    return engine


def _sure(engine: Engine, question: str) -> set[str]:
    from carecite.retrieval.records.lookup import is_sure_record

    retriever = StructuredRetriever(engine, TODAY)
    return {
        c.source_ref for c in retriever.search(retriever.read(question), _filter(), 10) if is_sure_record(c)
    }


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # "right now", plural kind nouns and "active" read as the current medications
        ("What meds is the patient on right now?", {"MedicationRequest/lisinopril"}),
        ("List the patient's active prescriptions.", {"MedicationRequest/lisinopril"}),
        ("Which medications are active?", {"MedicationRequest/lisinopril"}),
        # the care plan is the plan in force; a finished plan answers a question about the past
        ("What is the patient's plan of care?", {"CarePlan/now#activity=1"}),
        (
            "What was in the patient's previous care plan?",
            {"CarePlan/now#activity=1", "CarePlan/old#activity=1"},
        ),
        # a question naming no kind matches a row by what it names, never by a field label ("date:")
        ("Date of the most recent spirometry?", set()),
        # a question naming a plan reads it whatever its status; "recently" never names an item
        (
            "What was in the exercise therapy care plan?",
            {"CarePlan/now#activity=1", "CarePlan/old#activity=1"},
        ),
        ("What medications was she recently prescribed?", {"MedicationRequest/lisinopril"}),
    ],
)
def test_everyday_wordings_find_the_records_they_mean(
    plans: Engine, question: str, expected: set[str]
) -> None:
    """Found on a dev-only paraphrase probe of the synthea set (docs/evaluation.md)."""
    assert _sure(plans, question) == expected


def test_most_recently_asks_for_the_latest(engine: Engine) -> None:
    retriever = StructuredRetriever(engine, TODAY)
    found = retriever.search(retriever.read("What was the patient's A1c most recently?"), _filter(), 8)
    sure = [c for c in found if "A1c" in c.text and (c.match or 0.0) >= 0.5]
    assert len(sure) == 1


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        # asked for without "current", a care plan is still the one in force (a public Synthea
        # patient's old note had answered "dental care" for a plan completed years ago)
        ("What is the patient's plan of care?", "current care plan"),
        ("What is the patient's current care plan?", "current care plan"),
        # history, or a plan named, is asked for as it was
        ("What was in the patient's previous care plan?", None),
        ("What was in the exercise therapy care plan?", None),
    ],
)
def test_a_care_plan_asked_for_when_every_coded_plan_is_finished_is_reported_missing(
    tmp_path, question: str, missing: str | None
) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'old-plan.sqlite'}")
    with session_scope(engine) as s:
        s.add(t.CarePlan(ref="CarePlan/old", fhir_id="old", patient_key=PK, status="completed",
                         display="old plan", period_start=datetime(2019, 1, 1)))  # fmt: skip
        s.add(t.CarePlanActivity(ref="CarePlan/old#activity=1", fhir_id="old-1", patient_key=PK,
                                 careplan_ref="CarePlan/old", index=1, status="completed",
                                 display="Exercise therapy"))  # fmt: skip
    retriever = StructuredRetriever(engine, TODAY)
    found = retriever.missing_item(retriever.read(question), _filter())
    assert (found[0] if found else None) == missing


def _care_teams(engine: Engine) -> None:
    with session_scope(engine) as s:
        s.add(
            t.CareTeam(
                ref="CareTeam/heart", fhir_id="heart", patient_key=PK, status="active", name="Heart team"
            )
        )
        s.add(
            t.CareTeam(
                ref="CareTeam/old", fhir_id="old", patient_key=PK, status="inactive", name="Previous team"
            )
        )
        s.add(
            t.CareTeam(
                ref="CareTeam/bob", fhir_id="bob", patient_key=OTHER, status="active", name="Bob's team"
            )
        )
        for n, (team, role, who) in enumerate(
            [
                ("heart", "Cardiology", "Dr. Marcus Bell, MD"),
                ("heart", "Care coordinator", "Carla Mendes, RN"),
                ("heart", "Patient", "Alice Example"),
                ("old", "Care coordinator", "Omar Haddad, LSW"),
                ("bob", "Therapist", "Maya Goldberg, LCSW"),
            ]
        ):
            s.add(
                t.CareTeamMember(
                    id=f"CareTeam/{team}#{n}",
                    careteam_ref=f"CareTeam/{team}",
                    patient_key=OTHER if team == "bob" else PK,
                    role=role,
                    display=who,
                )
            )


def test_a_care_team_role_in_everyday_words_finds_the_team_that_names_it(engine: Engine) -> None:
    _care_teams(engine)
    retriever = StructuredRetriever(engine, TODAY)
    cands = retriever.search(retriever.read("who is his heart doctor"), _filter(), 5)
    assert cands[0].source_ref == "CareTeam/heart"
    assert "Dr. Marcus Bell, MD — Cardiology (cardiac, heart)" in cands[0].text
    assert "Alice Example" not in cands[0].text  # the patient is on the team, not one of its people


def test_the_current_team_leads_and_a_past_one_is_asked_for_by_past_words(engine: Engine) -> None:
    _care_teams(engine)
    assert refs(engine, "who is the care coordinator")[0] == "CareTeam/heart"
    assert refs(engine, "who was the previous care coordinator")[0] == "CareTeam/old"
    assert "CareTeam/bob" not in refs(engine, "who is the therapist", k=50)  # another patient's team


def test_a_care_team_answers_who_someone_is_never_what_was_done(engine: Engine) -> None:
    _care_teams(engine)
    assert "CareTeam/heart" not in refs(engine, "What did the cardiology doctor document?", k=50)
    assert "CareTeam/heart" not in refs(
        engine, "What treatment program is she attending for cardiology?", k=50
    )


def test_a_who_question_naming_no_kind_reads_the_people_and_names_the_asked_member(engine: Engine) -> None:
    _care_teams(engine)
    with session_scope(engine) as s:
        s.add(t.MedicationRequest(ref="MedicationRequest/c", fhir_id="c", patient_key=PK, status="active",
                                  medication="Carvedilol 6.25 MG Oral Tablet", reason="Heart failure"))  # fmt: skip
    assert read_intent("who is coordinating her heart care").person
    retriever = StructuredRetriever(engine, TODAY)
    cands = retriever.search(retriever.read("who is coordinating her heart care"), _filter(), 5)
    assert cands[0].source_ref == "CareTeam/heart"
    assert "MedicationRequest/c" not in [c.source_ref for c in cands]  # never the heart failure drug
    # The team is cited; the answer's sentence names the member the question's words name, by their
    # stems ("coordinating": coordinator), not every member of the team.
    assert "Carla Mendes" in cands[0].brief and "Marcus Bell" not in cands[0].brief
    doctor = retriever.search(retriever.read("who is her heart doctor"), _filter(), 1)[0]
    # A row answers a who question naming no kind only by naming what the question names.
    assert retriever.search(retriever.read("who does she live with"), _filter(), 5) == []
    assert "Marcus Bell" in doctor.brief and "Carla Mendes" not in doctor.brief


def test_overdue_with_a_lab_named_asks_for_the_work_never_the_results(engine: Engine) -> None:
    with session_scope(engine) as s:
        s.add(t.Task(ref="Task/k", fhir_id="k", patient_key=PK, status="requested",
                     description="Recheck potassium", due=datetime(2026, 11, 1)))  # fmt: skip
    assert "Observation" not in read_intent("is her potassium recheck overdue").kinds
    assert refs(engine, "is her potassium recheck overdue")[0] == "Task/k"
    assert not any(r.startswith("Observation/") for r in refs(engine, "is her potassium recheck overdue"))


def test_a_why_question_is_never_answered_by_a_row_that_states_no_reason(engine: Engine) -> None:
    # The missed appointment row says that it was missed, not why: the notes answer.
    assert "Appointment/missed" in refs(engine, "did she miss her endocrinology visit")
    assert "Appointment/missed" not in refs(engine, "why did she miss her endocrinology visit")


def test_a_word_no_display_knows_may_be_what_is_asked_so_the_named_row_is_not_sure(engine: Engine) -> None:
    from carecite.retrieval.records.lookup import is_sure_record

    with session_scope(engine) as s:
        for n, year in enumerate((2022, 2023)):
            s.add(t.Immunization(ref=f"Immunization/hpv{n}", fhir_id=f"hpv{n}", patient_key=PK,
                                 status="completed", display="HPV, quadrivalent",
                                 occurrence=datetime(year, 5, 1)))  # fmt: skip
    retriever = StructuredRetriever(engine, TODAY)
    assert all(
        is_sure_record(c)
        for c in retriever.search(retriever.read("has she had the HPV vaccine"), _filter(), 5)
    )
    # "cost" is in no code display: it may be the very attribute asked, which no row states.
    costly = retriever.search(retriever.read("how much did the HPV vaccine cost"), _filter(), 5)
    assert not any(is_sure_record(c) for c in costly)


def test_a_month_asked_for_keeps_only_the_rows_dated_in_it(engine: Engine) -> None:
    with session_scope(engine) as s:
        for ref, when, reason in (
            ("Encounter/sep", datetime(2026, 9, 18), "Heart failure exacerbation"),
            ("Encounter/may", datetime(2026, 5, 2), "Pneumonia"),
        ):
            s.add(t.Encounter(ref=ref, fhir_id=ref, patient_key=PK, status="finished", class_code="IMP",
                              display="Inpatient admission", start=when, reason=reason))  # fmt: skip
    found = refs(engine, "why was she admitted in September")
    assert found[:1] == ["Encounter/sep"] and "Encounter/may" not in found
    assert {"Encounter/sep", "Encounter/may"} <= set(refs(engine, "why was she admitted"))


def test_a_referral_says_who_referred_and_to_whom(engine: Engine) -> None:
    with session_scope(engine) as s:
        s.add(t.ServiceRequest(ref="ServiceRequest/cards", fhir_id="cards", patient_key=PK, status="active",
                               category="Referral", display="Referral to cardiology service",
                               requester="Dr. Anita Kowalski, MD", performer="Dr. Leila Farah, MD",
                               authored_on=datetime(2026, 11, 15)))  # fmt: skip
    retriever = StructuredRetriever(engine, TODAY)
    found = retriever.search(retriever.read("who referred her to cardiology"), _filter(), 1)
    assert found and found[0].source_ref == "ServiceRequest/cards"
    assert "by Dr. Anita Kowalski, MD, to Dr. Leila Farah, MD" in found[0].brief


def _encounters(engine: Engine) -> None:
    with session_scope(engine) as s:
        for ref, klass, display, when in (
            ("Encounter/er1", "EMER", "Emergency room admission (procedure)", datetime(2023, 4, 8)),
            ("Encounter/amb1", "AMB", "General examination of patient (procedure)", datetime(2024, 10, 25)),
        ):
            s.add(
                t.Encounter(
                    ref=ref, fhir_id=ref, patient_key=PK, status="finished", class_code=klass,
                    display=display, start=when,
                )
            )  # fmt: skip


def test_er_visits_are_the_emergency_class_and_an_admission_the_record_lacks_is_named(engine: Engine) -> None:
    _encounters(engine)
    retriever = StructuredRetriever(engine, TODAY)
    found = retriever.lookup(retriever.read("has he been to the ER"), _filter(), 10)
    assert [c.source_ref for c in found.candidates if c.source_ref.startswith("Encounter/")] == [
        "Encounter/er1"
    ]
    assert "class: emergency" in found.candidates[0].text
    missing = retriever.lookup(
        retriever.read("when was he last admitted to the hospital"), _filter(), 10
    ).missing
    assert missing is not None and missing[0] == "inpatient admission"


def test_the_last_visit_is_the_newest_encounter_of_any_kind(engine: Engine) -> None:
    _encounters(engine)
    retriever = StructuredRetriever(engine, TODAY)
    found = retriever.lookup(retriever.read("when was he last seen"), _filter(), 10)
    encounters = [c for c in found.candidates if c.source_ref.startswith("Encounter/")]
    assert encounters and encounters[0].source_ref == "Encounter/amb1"  # 2024-10-25, the newest
    assert all(c.score < encounters[0].score for c in encounters[1:])


def test_a_question_that_names_only_the_kind_is_answered_by_every_row_of_it_above_the_gate(
    engine: Engine,
) -> None:
    """ "What is she allergic to?" asks for every allergy: the kind word is answered by the rows being
    allergies (they scored 0.25, under the gate, because no row repeats the word "allergic")."""
    from carecite.settings import Settings

    with session_scope(engine) as s:
        for ref, display in (("peanut", "Allergy to peanuts"), ("mould", "Allergy to mould")):
            s.add(t.AllergyIntolerance(ref=f"AllergyIntolerance/{ref}", fhir_id=ref, patient_key=PK,
                                       clinical_status="active", display=display,
                                       recorded=datetime(2010, 1, 1)))  # fmt: skip
        s.add(t.Encounter(ref="Encounter/imp1", fhir_id="imp1", patient_key=PK, status="finished",
                          class_code="IMP", display="Inpatient admission", reason="Hip fracture",
                          start=datetime(2026, 11, 10)))  # fmt: skip
    retriever = StructuredRetriever(engine, TODAY)
    gate = Settings().gate_min_score
    found = retriever.lookup(retriever.read("what is she allergic to"), _filter(), 10).candidates
    allergies = [c for c in found if c.source_ref.startswith("AllergyIntolerance/")]
    assert {c.source_ref for c in allergies} == {"AllergyIntolerance/peanut", "AllergyIntolerance/mould"}
    assert all(c.score >= gate for c in allergies)
    admitted = retriever.lookup(retriever.read("when was he admitted and why"), _filter(), 10).candidates
    assert admitted and admitted[0].source_ref == "Encounter/imp1" and admitted[0].score >= gate


def test_work_of_the_kind_none_in_the_status_asked_is_reported_as_none(engine: Engine) -> None:
    retriever = StructuredRetriever(engine, TODAY)
    # Alice has an overdue task: the question is answered, nothing is missing.
    assert retriever.missing_item(retriever.read("Which tasks are overdue?"), _filter()) is None
    # A day before its due date nothing is overdue, though tasks are open: "none", said by the record.
    earlier = StructuredRetriever(engine, date(2026, 11, 9))
    found = earlier.missing_item(earlier.read("Which tasks are overdue?"), _filter())
    assert found is not None and found[0] == "overdue follow-up"


def test_a_stay_states_its_dates_and_length_in_its_statement_and_brief(engine: Engine) -> None:
    with session_scope(engine) as s:
        s.add(t.Encounter(ref="Encounter/stay", fhir_id="stay", patient_key=PK, status="finished", class_code="IMP",
                          display="Inpatient admission - right hip fracture", start=datetime(2026, 7, 8, 14),
                          end=datetime(2026, 7, 13, 11)))  # fmt: skip
    retriever = StructuredRetriever(engine, TODAY)
    found = [c for c in retriever.search(retriever.read("LOS for the hip fracture admit?"), _filter(), 10)]
    stay = next(c for c in found if c.source_ref == "Encounter/stay")
    assert "2026-07-08 to 2026-07-13 (5 days)" in stay.text
    assert stay.brief is not None and "from 2026-07-08 to 2026-07-13 (5 days)" in stay.brief
