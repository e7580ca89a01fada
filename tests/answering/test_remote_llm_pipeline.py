"""The whole ask path against a real OpenAI-compatible HTTP server, with PHI not allowed to leave.

The server (tests/llm_server.py) records every prompt it receives; Presidio, the stores and the
world are real. What must hold: none of the patient's identifiers reaches the server in any form
(bare MRN, labelled MRN, phone and birth-date formats, address lines, names), clinical terms are not
mangled, answers come back re-identified, and cut-off or echoed replies are declined by name and
recorded in the answer and the audit trail.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlmodel import Session, select

from carecite.answering.llm import OpenAIChatModel
from carecite.answering.pipeline import AskRequest, Pipeline
from carecite.audit import AuditLog
from carecite.privacy.identity import PatientIdentity
from carecite.records import tables as t
from carecite.settings import Settings
from llm_server import OpenAICompatibleServer, Quirks
from world import gold_questions

# Questions whose sources carry note headers ("Patient: Eugene Lewis  MRN: 17000001  DOB: ...",
# "Pt: Eugene Lewis (17000001)"), psychiatry notes included (cc-omar and bh-hana may see PSY).
CATEGORIES = ("discharge_recommendations", "recent_lab", "medication_dose", "restricted_allowed")


def _questions() -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for category in CATEGORIES:
        out += [q for q in gold_questions() if q["category"] == category and q["expect"] == "answer"][:2]
    return out


def identifier_forms(identity: PatientIdentity) -> list[str]:
    """Every written form of the patient's identifiers that must never reach the endpoint."""
    forms: list[str] = [*identity.names, *identity.addresses, *identity.emails]
    forms += [re.sub(r"\d+$", "", w) for n in identity.names for w in n.split() if re.search(r"\D\d+$", w)]
    for ident in identity.identifiers:
        forms.append(ident)
        digits = re.sub(r"\D", "", ident)
        if len(digits) >= 6:
            forms += [digits, f"MRN: {ident}", f"MRN {ident}"]
    for phone in identity.phones:
        d = re.sub(r"\D", "", phone)[-10:]
        forms += [
            phone,
            d,
            f"({d[:3]}) {d[3:6]}-{d[6:]}",
            f"{d[:3]}-{d[3:6]}-{d[6:]}",
            f"{d[:3]}.{d[3:6]}.{d[6:]}",
        ]
    b = identity.birth_date
    if b:
        forms += [
            b.isoformat(),
            f"{b.month}/{b.day}/{b.year}",
            f"{b:%m/%d/%Y}",
            f"{b:%B} {b.day}, {b.year}",
            f"{b:%b} {b.day}, {b.year}",
            f"{b.day} {b:%B} {b.year}",
        ]
    return sorted({f for f in forms if len(f) >= 3}, key=len, reverse=True)


def leaked(sent: str, identity: PatientIdentity) -> list[str]:
    found = []
    for form in identifier_forms(identity):
        # One-word names count as written (a name "Will" is not the verb "will"); the rest in any case.
        flags = 0 if (" " not in form and form.isalpha()) else re.IGNORECASE
        if re.search(rf"(?<![\w]){re.escape(form)}(?![\w])", sent, flags):
            found.append(form)
    return found


@pytest.fixture(scope="module")
def server() -> Iterator[OpenAICompatibleServer]:
    with OpenAICompatibleServer(Quirks()) as s:
        yield s


@pytest.fixture(scope="module")
def remote_pipeline(
    world_settings: Settings, world_pipeline: Pipeline, server: OpenAICompatibleServer
) -> Pipeline:
    from carecite.wiring import build_pipeline

    settings = world_settings.model_copy(
        update={"openai_base_url": server.base_url, "llm_model": "gemma-3-270m-it", "llm_phi_allowed": False}
    )
    model = OpenAIChatModel(settings)
    assert model.remote
    return build_pipeline(
        settings, stores=world_pipeline.stores, chat_model=model, redactor=world_pipeline.redactor
    )


def identity_of(pipeline: Pipeline, patient_id: str) -> PatientIdentity:
    with Session(pipeline.stores.engine) as session:
        patient = session.get(t.Patient, patient_id)
        assert patient is not None
        return PatientIdentity.from_patient(patient)


def test_no_identifier_of_the_patient_reaches_the_endpoint_in_any_form(
    remote_pipeline: Pipeline, server: OpenAICompatibleServer
) -> None:
    asked = 0
    for q in _questions():
        server.requests.clear()
        answer = remote_pipeline.ask(
            AskRequest(
                question=str(q["question"]), user_id=str(q["user_id"]), patient_id=str(q["patient_id"])
            )
        )
        sent = server.sent_text()
        if not sent:
            continue  # declined before generation: nothing left the machine
        asked += 1
        identity = identity_of(remote_pipeline, str(q["patient_id"]))
        assert leaked(sent, identity) == [], f"{q['id']}: identifiers sent to the endpoint"
        assert "[PATIENT]" in sent or "[MRN_" in sent or "[PATIENT_DOB]" in sent or not identity.names
        # The answer is shown with the originals back in place: no surrogate survives.
        assert not re.search(r"\[(?:PATIENT|PERSON_\d+|MRN_\d+|PATIENT_DOB)\]", answer.answer)
    assert asked >= 4, "too few questions reached generation to say anything"


def test_the_patient_header_line_goes_out_with_surrogates_for_name_mrn_and_birth_date(
    remote_pipeline: Pipeline,
) -> None:
    # The exact leak the issue measured: a note header rendered as "Pt: [PERSON_2] (17000039)".
    from carecite.privacy.pseudonymize import Pseudonymizer

    identity = PatientIdentity(names=("Eugene Lewis", "Eugene", "Lewis"), identifiers=("17000001",),
                               birth_date=date(1940, 10, 13), phones=("(217) 555-4115",),
                               addresses=("8446 Lakeview Blvd",))  # fmt: skip
    p = Pseudonymizer(remote_pipeline.redactor, identity)
    out = p.pseudonymize(
        "Patient: Eugene Lewis    MRN: 17000001    DOB: 10/13/1940\nPt: Eugene Lewis (17000001)\n"
        "Home: 8446 Lakeview Blvd, call 217-555-4115 or 217.555.4115. LEWIS, EUGENE seen 1940-10-13."
    )
    for secret in ("Eugene", "Lewis", "LEWIS", "EUGENE", "17000001", "10/13/1940", "1940-10-13", "Lakeview",
                   "555-4115", "555.4115"):  # fmt: skip
        assert secret not in out, secret
    assert "Pt: [PATIENT] ([MRN_1])" in out


def test_clinical_terms_reach_the_endpoint_intact(remote_pipeline: Pipeline) -> None:
    from carecite.privacy.pseudonymize import Pseudonymizer

    p = Pseudonymizer(remote_pipeline.redactor, PatientIdentity(names=("Walter Baker", "Walter", "Baker")))
    text = (
        "Medication: Albuterol 90 MCG/ACTUAT Metered Dose Inhaler, 2 puffs every 4 hours as needed. "
        "Fluticasone Propionate 50 MCG/ACTUAT Nasal Spray daily. History of Parkinson disease."
    )
    assert p.pseudonymize(text) == text


def test_record_code_displays_are_kept_even_where_the_ner_model_calls_them_people(
    remote_pipeline: Pipeline,
) -> None:
    from carecite.records.vocabulary import display_words

    words = display_words(remote_pipeline.stores.engine)
    assert {"inhaler", "hemoglobin"} <= words
    assert not {"eugene", "lewis"} & words  # displays name things, not people


@pytest.fixture(scope="module")
def cutoff_server() -> Iterator[OpenAICompatibleServer]:
    with OpenAICompatibleServer(Quirks(ignore_stop_after=5000)) as s:
        yield s


def test_a_cut_off_answer_is_declined_by_name_and_its_finish_reason_audited(
    world_settings: Settings, world_pipeline: Pipeline, cutoff_server: OpenAICompatibleServer
) -> None:
    from carecite.wiring import build_pipeline

    settings = world_settings.model_copy(
        update={"openai_base_url": cutoff_server.base_url, "llm_model": "local", "llm_retry_max_tokens": 800}
    )
    pipe = build_pipeline(
        settings,
        stores=world_pipeline.stores,
        chat_model=OpenAIChatModel(settings),
        redactor=world_pipeline.redactor,
    )
    q = next(q for q in gold_questions() if q["category"] == "discharge_recommendations")
    answer = pipe.ask(
        AskRequest(question=str(q["question"]), user_id=str(q["user_id"]), patient_id=str(q["patient_id"]))
    )
    assert answer.declined and answer.decline_reason == "truncated_draft" and not answer.answer
    assert answer.usage.finish_reason == "length" and answer.usage.cost_usd is None
    assert [r["json"]["max_tokens"] for r in cutoff_server.chat_requests()] == [600, 800]
    as_json: dict[str, Any] = json.loads(answer.model_dump_json())
    assert as_json["usage"]["finish_reason"] == "length" and as_json["usage"]["cost_usd"] is None

    with Session(pipe.stores.engine) as session:
        record = session.exec(
            select(t.AuditRecord).where(t.AuditRecord.request_id == answer.request_id)
        ).one()
    details = json.loads(record.details)
    assert record.decline_reason == "truncated_draft"
    assert details["llm"] == {"finish_reason": "length", "cost_priced": False}
    assert AuditLog(pipe.stores.engine).verify().ok
