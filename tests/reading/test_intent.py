"""Reading a record question: which kinds, modifiers and items it asks for (``read_intent``), and
how its words name items (``reading.items``)."""

from __future__ import annotations

import pytest

from carecite.reading.intent import read_intent


def test_intent_reads_kinds_and_modifiers() -> None:
    intent = read_intent("Which referrals are still pending?")
    assert "ServiceRequest" in intent.kinds and intent.outstanding
    assert read_intent("latest potassium").recent


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        # A kind named by noun wins over one a modifier implies ("outstanding" is tasks or referrals).
        ("What follow-up tasks are still outstanding?", {"Task"}),
        ("Which referrals are still pending?", {"ServiceRequest"}),
        # "care plan" is one name; "care coordination tasks" are tasks.
        ("List the open care coordination tasks for the patient.", {"Task"}),
        ("What is the patient's current care plan?", {"CarePlanActivity"}),
        # Open work with no kind named is the patient's to-dos.
        ("What do we still need to get done for this patient?", {"Task"}),
        ("What's still left to do for this patient?", {"Task"}),
        ("Did she show up for behavioral health?", {"Appointment"}),
        ("When is he supposed to see cardiology?", {"Appointment"}),
        # A note named by its encounter is a note, not the encounter rows.
        ("What was documented in the telephone encounter note from November 9?", set()),
        # SNOMED CT titles care plans "... management plan".
        ("What's on the patient's type 2 diabetes management plan?", {"CarePlanActivity"}),
    ],
)
def test_intent_reads_the_kind_the_question_names(question: str, kinds: set[str]) -> None:
    assert read_intent(question).kinds == kinds


def test_intent_reads_work_in_progress_and_attendance() -> None:
    assert read_intent("What is she actively working on in the care plan?").in_progress
    assert read_intent("What referrals does she have in progress?").in_progress
    assert read_intent("Any referrals in process right now?").in_progress
    assert read_intent("Did the patient make it to the cardiology appointment?").attended
    assert read_intent("Did she make her behavioral health appointment?").attended
    assert read_intent("Did he keep his pulmonology appointment?").attended
    assert not read_intent("What referrals are pending?").in_progress


def test_these_days_is_now_and_names_no_item() -> None:
    intent = read_intent("How much furosemide is he taking these days?")
    assert intent.recent and intent.kinds == {"MedicationRequest"}
    assert intent.naming == ((frozenset({"furosemide"}),),)


def test_a_negation_is_content_when_matching_records() -> None:
    """The one stop-word list holds "no"/"not" for ranking; record matching keeps them, as
    verification does: "not started" asks for the activities not started."""
    from carecite.reading.items import record_terms

    assert "not" in record_terms("Which parts of the care plan are not started?")
    assert "please" not in record_terms("Please list the current medications")


def test_fhir_status_words_say_how_a_record_stands_never_which_one() -> None:
    """A store whose displays hold "completed" or "progress" ("Progress note") still reads "Which
    referrals haven't been completed?" as naming no item: status words come from the FHIR status codes."""
    from carecite.reading.items import naming_groups

    vocabulary = frozenset({"completed", "progress", "hold", "cardiology"})
    assert naming_groups("Which referrals haven't been completed yet?", vocabulary) == ()
    assert naming_groups("What procedures are in progress or on hold?", vocabulary) == ()
    assert naming_groups("Is the cardiology referral completed?", vocabulary) != ()


def test_words_that_name_a_service_or_a_quantity_stay_names() -> None:
    """ "PT" names physical therapy and "complete" is part of "complete blood count": neither is a stop
    word nor a status word in matching."""
    from carecite.reading.items import naming_groups

    assert naming_groups("When was her last PT session?", frozenset({"pt"}))
    groups = naming_groups("latest complete blood count", frozenset({"complete", "blood", "count"}))
    assert any(frozenset({"complete"}) in g for g in groups)


def test_an_er_question_reads_emergency_encounters_only() -> None:
    assert read_intent("has he been to the ER?").encounter_class == {"EMER"}
    assert "Appointment" not in read_intent("any ED visits?").kinds  # an ER visit is never booked


def test_a_visit_that_happened_is_an_encounter_and_a_booked_one_is_not() -> None:
    assert "Encounter" in read_intent("when was she last seen").kinds
    assert "Encounter" in read_intent("when was his last visit with us").kinds
    assert "Encounter" not in read_intent("when is her next visit").kinds
    # A phone call is a virtual encounter (ActEncounterCode VR: "telephone conference, ...").
    assert read_intent("when was our last phone call with him").encounter_class == {"VR"}


@pytest.mark.parametrize(
    ("question", "visit"),
    [
        ("when does she see endocrinology", True),
        ("when will she see dr osei", True),
        ("does she see the lungs doctor", True),
        ("did she see her earlier results", False),  # "ear" (ENT) is no prefix match
        ("let me see her meds", False),
    ],
)
def test_seeing_a_clinician_or_a_specialty_is_a_visit(question: str, visit: bool) -> None:
    assert ("Appointment" in read_intent(question).kinds) is visit
