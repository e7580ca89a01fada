"""Which coverage policy names the service asked: titles, indications, and what a policy's text
speaks of; and the gate that declines when no policy found is about it."""

from __future__ import annotations

import pytest

from carecite.answering.coverage import AskedService, PolicyView, names_service, on_service
from carecite.domain import Candidate


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
    from carecite.answering.gate import named_service_gate

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
    title = "Sleep Testing for Obstructive Sleep Apnea (OSA)"
    policy = PolicyView(title, "")
    assert names_service(AskedService.of(f"When is {title} not covered by Medicare?"), policy)
    assert names_service(AskedService.of(f"When is {title} non-covered?"), policy)


def test_a_title_with_no_indication_of_its_own_names_the_service_whatever_the_patients_condition() -> None:
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
