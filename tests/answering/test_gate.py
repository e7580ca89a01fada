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


def _policy(doc: str, score: float = 0.8) -> Candidate:
    return Candidate(
        source_id=f"{doc}#c0",
        source_type="policy",
        source_ref=doc,
        patient_key=None,
        text="Coverage criteria.",
        score=score,
        retriever="dense",
        doc_id=doc,
    )


TEXTS = {
    "Policy/220.2": "MRI of the knee, spine and brain is covered when reasonable and necessary.",
    "Policy/329": "The CMS does not cover a procedure performed on the wrong patient, whatever body it was.",
    "Policy/20.10.1": "Covered for stable chronic heart failure; see also rehabilitation after a heart transplant.",
    "Policy/190.11": "Covered for patients with mechanical heart valves or chronic atrial fibrillation.",
    "Policy/10.1": "Emergency ambulance transport is covered when other transport would endanger health.",
    "Policy/20.10": "Covered under 42 CFR §410.49 for beneficiaries with stable chronic heart failure.",
    "Policy/280.3": "Mobility assistive equipment (canes, crutches, walkers, wheelchairs) is covered when ...",
    "Policy/160.27": "TENS is covered for CLBP only in an approved clinical study. "
    "See §10.2 for an explanation of coverage of TENS for acute post-operative pain.",
    "Policy/240.8": "Pulmonary rehabilitation is a program of care for patients with chronic respiratory "
    "impairment.",
    "Policy/240.2": "Home oxygen therapy is covered for significant hypoxemia, as in severe COPD.",
    "Policy/240.2.2": "Home oxygen use to treat cluster headache is covered in an approved clinical study.",
    "Policy/240.2.1": "Home use of oxygen in approved clinical trials: routine costs of oxygen.",
    "Policy/260.3.1": "Routine costs are covered for beneficiaries in an NIH-sponsored clinical trial.",
    "Policy/210.4.1": "Screening for lung cancer with computed tomography (LDCT) is covered annually.",
    "Policy/40.1": "Diabetes self-management training is covered in individual and group sessions.",
    "Policy/20.8.3": "Cardiac pacemakers are covered for symptomatic bradycardia; evaluation by a physician.",
}
TITLES = {
    "Policy/329": "Surgical or Other Invasive Procedure Performed on the Wrong Patient",
    "Policy/20.31": "Intensive Cardiac Rehabilitation (ICR) Programs",
    "Policy/20.10.1": "Cardiac Rehabilitation Programs for Chronic Heart Failure",
    "Policy/220.2": "Magnetic Resonance Imaging",
    "Policy/160.27": "Transcutaneous Electrical Nerve Stimulation (TENS) for Chronic Low Back Pain (CLBP)",
    "Policy/190.11": "Home Prothrombin Time/International Normalized Ratio (PT/INR) Monitoring for "
    "Anticoagulation Management",
    "Policy/10.1": "Ambulance Services for Emergency Transport",
    "Policy/20.10": "Cardiac Rehabilitation Programs",
    "Policy/240.8": "Pulmonary Rehabilitation Services",
    "Policy/240.2": "Home Use of Oxygen",
    "Policy/240.2.2": "Home Oxygen Use to Treat Cluster Headache (CH) - RETIRED",
    "Policy/240.2.1": "Home Use of Oxygen in Approved Clinical Trials",
    "Policy/260.3.1": "Islet Cell Transplantation in the Context of a Clinical Trial",
    "Policy/210.4.1": "Lung Cancer Screening with Low Dose Computed Tomography (LDCT)",
    "Policy/40.1": "Diabetes Outpatient Self-Management Training",
    "Policy/20.8.3": "Single Chamber and Dual Chamber Permanent Cardiac Pacemakers",
    "Policy/280.3": "Mobility Assistive Equipment (MAE)",
}


@pytest.mark.parametrize(
    ("question", "titles_held", "ok"),
    [
        # The policy about the service answers; a stem ("rehab") and initials ("MRI") name it too.
        ("Does Medicare cover cardiac rehab for this patient's heart failure?", ["Policy/20.10.1"], True),
        ("Does an MRI need prior authorization?", ["Policy/220.2"], True),
        # Only a neighbouring policy is held: its criteria are another service's.
        ("Does Medicare cover Benson-Henry Institute Cardiac Wellness Program?", ["Policy/20.31"], False),
        ("Does Medicare cover Infrared Therapy Devices?", ["Policy/20.31", "Policy/220.2"], False),
        # A word the title leaves out must be in the policy: a knee MRI is; a wrong body part is the
        # sibling policy's service (NCD 140.7), not the wrong-patient one's.
        ("Does Medicare cover an MRI of the knee?", ["Policy/220.2"], True),
        ("Does Medicare cover a procedure performed on the wrong body part?", ["Policy/329"], False),
        # The title's service must be named, not only its indication: heart transplants are no cardiac
        # rehabilitation, though the rehab policy speaks of heart transplants.
        ("Does Medicare cover heart transplants?", ["Policy/20.10.1"], False),
        # A title's indication narrows the policy: TENS for low back pain says nothing of TENS in
        # general, and a cross-reference to another section's service does not make it this one's.
        (
            "Does Medicare cover Transcutaneous Electrical Nerve Stimulation (TENS) for chronic low back pain?",
            ["Policy/160.27"],
            True,
        ),
        ("Does Medicare cover TENS?", ["Policy/160.27"], False),
        # A question naming its own indication ("the AFib") needs it spoken of in the policy's text.
        (
            "Could this patient get home INR monitoring covered by Medicare for the AFib?",
            ["Policy/190.11"],
            True,
        ),
        # "like" introduces an example of the service: the example is spoken of, "like" names nothing.
        (
            "What does Medicare require for mobility assistive equipment like a walker?",
            ["Policy/280.3"],
            True,
        ),
        # "non-emergency" names a service of its own, not a non-covered question about emergencies.
        ("Does Medicare cover non-emergency ambulance transport?", ["Policy/10.1"], False),
        # A sentence citing a regulation ("§410.49") states this policy's own criteria.
        ("Does Medicare cover cardiac rehab for heart failure?", ["Policy/20.10"], True),
        # The service may come after the patient's condition.
        ("Is a patient with heart failure eligible for cardiac rehab?", ["Policy/20.10.1"], True),
        (
            "Does Medicare cover Transcutaneous Electrical Nerve Stimulation (TENS) for acute post-operative pain?",
            ["Policy/160.27"],
            False,
        ),
        # A title's service ends at its first qualifier ("in", "with"): islet cell transplants in a
        # trial are not routine trial costs, LDCT lung screening is not computed tomography at large.
        ("Does Medicare cover Routine Costs in Clinical Trials?", ["Policy/260.3.1"], False),
        ("Does Medicare cover Computed Tomography?", ["Policy/210.4.1"], False),
        ("Does Medicare cover lung cancer screening?", ["Policy/210.4.1"], True),
        # "to treat" and "in" narrow a title as "for" does: the general policy answers home oxygen.
        ("What are the Medicare coverage criteria for home oxygen?", ["Policy/240.2.2"], False),
        ("What are the Medicare coverage criteria for home oxygen?", ["Policy/240.2.1"], False),
        ("What are the Medicare coverage criteria for home oxygen?", ["Policy/240.2"], True),
        # A policy whose title names no indication covers the service for the patient's condition,
        # though its text never spells the condition.
        ("Is pulmonary rehab covered by Medicare for this patient's COPD?", ["Policy/240.8"], True),
        ("Will Medicare pay for home oxygen for this patient's COPD?", ["Policy/240.2"], True),
        # "conditions for covering" asks for the criteria; it names no service.
        ("What are Medicare's conditions for covering home oxygen?", ["Policy/240.2"], True),
        # ... when its text speaks of the condition: the general policy is no answer for cluster headache.
        ("Does Medicare cover home oxygen for cluster headache?", ["Policy/240.2"], False),
        ("Is pulmonary rehab covered by Medicare for this patient's asthma?", ["Policy/240.8"], False),
        # "classes" holds the service without naming it ("DSMT" is written out before: test_shorthand).
        ("Will Medicare pay for diabetes self-management training classes?", ["Policy/40.1"], True),
        # ... but stays with the word before it: pacemaker evaluation services are a service of their own.
        ("Does Medicare cover Cardiac Pacemaker Evaluation Services?", ["Policy/20.8.3"], False),
    ],
)
def test_a_coverage_answer_needs_a_policy_about_the_service_asked(
    question: str, titles_held: list[str], ok: bool
) -> None:
    from carecite.answering.gate import PolicyView, named_service_gate

    evidence = [_policy(doc) for doc in titles_held]
    decision = named_service_gate(
        question, {d: PolicyView(TITLES[d], TEXTS.get(d, "")) for d in titles_held}, evidence
    )
    assert decision.ok is ok
    if not ok:
        assert (
            decision.reason == "no_evidence"
            and decision.detail
            and "no policy that names it" in decision.detail
        )


def test_not_covered_asks_about_coverage_and_names_no_service() -> None:
    """ "When is X not covered?" names X: "not" is a coverage word, so X's own policy is named whole
    (and keeps its floor) for the non-covered question as for the covered one."""
    from carecite.answering.gate import AskedService, PolicyView, names_service

    title = "Sleep Testing for Obstructive Sleep Apnea (OSA)"
    policy = PolicyView(title, "")
    assert names_service(AskedService.of(f"When is {title} not covered by Medicare?"), policy)
    assert names_service(AskedService.of(f"When is {title} non-covered?"), policy)


def test_a_title_with_no_indication_of_its_own_names_the_service_whatever_the_patients_condition() -> None:
    from carecite.answering.gate import AskedService, PolicyView, names_service

    question = "Will Medicare pay for home oxygen for this patient's COPD?"

    def view(doc: str) -> PolicyView:
        return PolicyView(TITLES[doc], TEXTS[doc])

    assert names_service(AskedService.of(question), view("Policy/240.2"))
    assert not names_service(AskedService.of(question), view("Policy/240.2.2"))  # "to treat cluster headache"
    assert not names_service(AskedService.of(question), view("Policy/240.8"))
    # The condition must be one its text speaks of.
    assert not names_service(
        AskedService.of("Does Medicare cover home oxygen for cluster headache?"), view("Policy/240.2")
    )


def test_a_coverage_answer_quotes_only_the_policies_about_the_service() -> None:
    """A neighbour ranked beside the policy asked about leaves the evidence; records and notes stay."""
    from carecite.answering.gate import AskedService, PolicyView, on_service

    held = ["Policy/20.10.1", "Policy/20.31"]
    views = {d: PolicyView(TITLES[d], TEXTS.get(d, "")) for d in held}
    evidence = [_policy("Policy/20.31", 0.9), _policy("Policy/20.10.1", 0.7), _note("Chronic heart failure.")]
    asked = AskedService.of("Does Medicare cover cardiac rehab for this patient's heart failure?")
    kept = on_service(asked, views, evidence)
    assert [c.source_ref for c in kept] == ["Policy/20.10.1", "DocumentReference/n"]


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
