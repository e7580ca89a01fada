"""Hand-built, realistic sources for the answering tests (S1..S4 in this order)."""

from __future__ import annotations

import pytest

from carecite.domain import Candidate, patient_key_for

PATIENT_ID = "pat-0042"
PK = patient_key_for("pat-0042")

DISCHARGE = (
    "DISCHARGE PLAN:\n"
    "Patient admitted with acute decompensated heart failure and discharged home on 2026-02-10. "
    "Cardiology recommended increasing furosemide to 40 mg twice daily. "
    "Follow up with Dr. Patel in cardiology clinic within 2 weeks. "
    "Repeat basic metabolic panel on 2026-02-17 to check potassium and creatinine.\n"
    "- Daily weights; call the clinic if weight increases more than 3 lb in a day."
)
ECHO_TASK = (
    "Follow-up task: Schedule transthoracic echocardiogram; status: requested, overdue (due 2026-11-01); "
    "due: 2026-11-01; owner: Care coordination team"
)
DIABETES = (
    "Diabetic foot exam performed today; monofilament sensation intact bilaterally. "
    "HbA1c was 8.4% on 2026-01-15, up from 7.9% in October. "
    "Plan to start metformin 500 mg daily and refer to diabetes self-management education. "
    "Retinal screening is due this year."
)
CPAP_POLICY = (
    "Medicare covers CPAP therapy for adults with obstructive sleep apnea for an initial 12-week period "
    "when the apnea-hypopnea index is at least 15 events per hour. "
    "Continued coverage beyond 12 weeks requires documented adherence and clinical benefit."
)


def make_sources() -> list[Candidate]:
    return [
        Candidate(
            source_id="DocumentReference/dc-1#c0",
            source_type="note_chunk",
            source_ref="DocumentReference/dc-1",
            patient_key=PK,
            text=DISCHARGE,
            score=0.91,
            retriever="dense",
            note_type="Discharge summary",
            note_date=20260210,
            doc_id="dc-1",
            start=0,
            end=len(DISCHARGE),
        ),
        Candidate(
            source_id="Task/echo-7",
            source_type="record",
            source_ref="Task/echo-7",
            patient_key=PK,
            text=ECHO_TASK,
            score=0.84,
            retriever="structured",
            note_type="Task",
            note_date=20261101,
        ),
        Candidate(
            source_id="DocumentReference/pn-3#c1",
            source_type="note_chunk",
            source_ref="DocumentReference/pn-3",
            patient_key=PK,
            text=DIABETES,
            score=0.62,
            retriever="lexical",
            note_type="Progress note",
            note_date=20260115,
            doc_id="pn-3",
            start=120,
            end=120 + len(DIABETES),
        ),
        Candidate(
            source_id="Policy/ncd-240.4#c0",
            source_type="policy",
            source_ref="Policy/ncd-240.4",
            patient_key=None,
            text=CPAP_POLICY,
            score=0.40,
            retriever="dense",
        ),
    ]


@pytest.fixture
def sources() -> list[Candidate]:
    return make_sources()


@pytest.fixture
def patient_ids() -> dict[str, str]:
    return {PK: PATIENT_ID}
