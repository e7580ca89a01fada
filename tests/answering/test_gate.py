"""The evidence gate, before any generation."""

from __future__ import annotations

import pytest

from carecite.answering.gate import gate
from carecite.domain import Candidate


def test_no_candidates_is_no_evidence() -> None:
    decision = gate([], min_score=0.3)
    assert (decision.ok, decision.reason) == (False, "no_evidence")


def test_policy_only_candidates_are_no_evidence_for_a_patient_question(sources: list[Candidate]) -> None:
    policy_only = [c for c in sources if c.source_type == "policy"]
    assert gate(policy_only, min_score=0.3, patient_required=True).reason == "no_evidence"
    # for a coverage question the same policy is evidence
    assert gate(policy_only, min_score=0.3, patient_required=False).ok


def test_best_score_below_minimum_is_low_confidence(sources: list[Candidate]) -> None:
    weak = [c.model_copy(update={"score": 0.12}) for c in sources]
    decision = gate(weak, min_score=0.3)
    assert (decision.ok, decision.reason) == (False, "low_confidence")
    assert decision.best_score == 0.12 and "0.12" in (decision.detail or "")


def test_strong_patient_evidence_passes(sources: list[Candidate]) -> None:
    decision = gate(sources, min_score=0.3, patient_required=True)
    assert decision.ok and decision.reason is None
    assert decision.counted == 3  # the policy chunk does not count for a patient question
    assert decision.best_score == 0.91


def test_a_section_no_source_has_or_mentions_declines_with_what_is_missing() -> None:
    from carecite.text.sections import BY_NAME

    note = Candidate(
        source_id="DocumentReference/n#c0",
        source_type="note_chunk",
        source_ref="DocumentReference/n",
        patient_key="pk",
        text="HOSPITAL COURSE:, Demerol was ordered for pain.",
        score=0.9,
        retriever="dense",
        section="HOSPITAL COURSE",
    )
    decision = gate([note], min_score=0.3, patient_required=True, asked=BY_NAME["discharge medications"])
    assert not decision.ok and decision.reason == "no_evidence"
    assert (
        decision.detail
        == "No discharge medications section or statement was found in the sources for this patient."
    )
    with_section = note.model_copy(update={"section": "DISCHARGE MEDICATIONS"})
    assert gate(
        [with_section], min_score=0.3, patient_required=True, asked=BY_NAME["discharge medications"]
    ).ok


def _note(text: str) -> Candidate:
    return Candidate(
        source_id="DocumentReference/n#c0",
        source_type="note_chunk",
        source_ref="DocumentReference/n",
        patient_key="pk",
        text=text,
        score=0.7,
        retriever="dense",
        doc_id="DocumentReference/n",
    )


def test_an_item_the_record_lacks_may_be_answered_only_by_a_note_sentence_naming_all_of_it() -> None:
    """ "LDL" in the family history and "cholesterol" in the labs do not make an LDL cholesterol: the
    words must stand in one sentence."""
    from carecite.answering.gate import missing_item_gate
    from carecite.reading.items import naming_groups

    missing = ("LDL cholesterol", naming_groups("What was the most recent LDL cholesterol?"))
    apart = _note("Family history of high LDL in her father. Total cholesterol 212 mg/dL on 2024-01-02.")
    together = _note("LDL cholesterol 131 mg/dL on 2024-01-02.")
    refused = missing_item_gate(missing, [apart])
    assert not refused.ok and refused.detail == "No LDL cholesterol is on record for this patient."
    assert missing_item_gate(missing, [together]).ok


def test_hep_b_is_a_known_name_even_in_a_store_where_no_one_has_it() -> None:
    """Otherwise "When was the last hepatitis B vaccine?" names nothing, is never missing, and a
    note's other vaccines answer it."""
    from carecite.reading.items import naming_groups

    assert naming_groups("When did the patient last get a hepatitis B vaccine?", frozenset({"influenza"}))


@pytest.mark.parametrize(
    ("question", "ok"),
    [
        # Quoted from another patient's discharge summary: this patient's tasks would answer another question.
        (
            'The discharge summary said: "Cardiology follow-up with Dr. Bell within 14 days". Has that happened?',
            False,
        ),
        # Quoted from this patient's own note: the note is found.
        (
            'The note said: "Follow up with orthopedics in 2 weeks for staple removal". Has that happened?',
            True,
        ),
        # Too short to be a passage.
        ('Is "CPAP" still ordered?', True),
        ("Has the orthopedics follow-up happened?", True),
        # Compared as typed, hyphens split: "Follow-up" is the note's "Follow up".
        ('The note said: "Follow-up with orthopedics in 2 weeks for staple removal". Done?', True),
    ],
)
def test_a_quoted_passage_must_be_in_a_note_found_for_the_patient(question: str, ok: bool) -> None:
    from carecite.answering.gate import quoted_gate

    note = _note(
        "PLAN: Follow up with orthopedics (Dr. [PATIENT]) in 2 weeks for wound check and staple removal."
    )
    decision = quoted_gate(question, [note])
    assert decision.ok is ok
    if not ok:
        assert decision.reason == "no_evidence" and "quotes" in (decision.detail or "")
