"""The selected patient's own identifiers in a question."""

from __future__ import annotations

import pytest

from carecite.privacy.identity import PatientIdentity, as_the_patient

JAMES = PatientIdentity(names=("James Mitchell", "James", "Mitchell"), identifiers=("17000042",))
EVAL = PatientIdentity(names=("Evaluation Coverage", "Evaluation", "Coverage"))
WILL = PatientIdentity(names=("Will Olsen", "Will", "Olsen"))


@pytest.mark.parametrize(
    ("identity", "question", "said"),
    [
        (JAMES, "When was James Mitchell's last colonoscopy?", "When was the patient's last colonoscopy?"),
        (JAMES, "What is Mr. Mitchell's code status?", "What is the patient's code status?"),
        (JAMES, "Any follow-ups for James's mother?", "Any follow-ups for the patient's mother?"),
        # One word of a name stands as a person only after a title or before a possessive: the eval
        # patient "Evaluation Coverage" is not the words of "National Coverage Determination".
        (
            EVAL,
            "What does the National Coverage Determination say?",
            "What does the National Coverage Determination say?",
        ),
        (
            EVAL,
            "Does Medicare cover Pacemaker Evaluation Services?",
            "Does Medicare cover Pacemaker Evaluation Services?",
        ),
        (
            JAMES,
            "Which follow-ups are open for James right now?",
            "Which follow-ups are open for James right now?",
        ),
        # A name is matched as written: "will" the verb stays.
        (WILL, "When will Will's next appointment be?", "When will the patient's next appointment be?"),
        # Someone else's name and the patient's identifiers other than names are left to other rules.
        (JAMES, "What was Ardath's last A1c?", "What was Ardath's last A1c?"),
        (JAMES, "Is MRN 17000042 on warfarin?", "Is MRN 17000042 on warfarin?"),
        (None, "What is Mr. Mitchell's code status?", "What is Mr. Mitchell's code status?"),
        # A clinician who shares the name is not the patient; a title in capitals is a title.
        (JAMES, "What did Dr. Mitchell's note say?", "What did Dr. Mitchell's note say?"),
        (JAMES, "What is MR. MITCHELL's code status?", "What is the patient's code status?"),
    ],
)
def test_the_patients_own_name_is_said_as_the_patient(
    identity: PatientIdentity | None, question: str, said: str
) -> None:
    assert as_the_patient(question, identity) == said


def test_the_patients_name_is_taken_out_of_what_a_record_reader_sees_in_any_case() -> None:
    from carecite.privacy.identity import PatientIdentity

    identity = PatientIdentity(names=("Dewitt635 Haag279",))
    assert identity.without_name("what is dewitt allergic to") == "what is allergic to"
    assert identity.without_name("Is Dewitt's A1c up?") == "Is A1c up?"
    assert identity.without_name("any dew on the window") == "any dew on the window"
