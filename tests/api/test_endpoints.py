"""Each endpoint through a real uvicorn server, compared with what the package returns in-process."""

from __future__ import annotations

import json
from urllib.parse import quote

import httpx
import pytest
from api_world import MERCY_PSY, Token, bearer
from sqlmodel import Session, col, select

from carecite.access.scope import compute_scope, patients_in_scope
from carecite.answering.pipeline import AskRequest, Pipeline
from carecite.domain import Answer, SearchResult
from carecite.records import tables as t
from world import gold_questions

GOLD = next(
    q for q in gold_questions() if q["category"] == "outstanding_followups" and q["expect"] == "answer"
)
USER, PATIENT = str(GOLD["user_id"]), str(GOLD["patient_id"])


def comparable(data: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in data.items() if k not in ("request_id", "timings_ms")}


def test_ask_returns_the_ask_json_contract_exactly_as_the_pipeline_does(
    http: httpx.Client, token: Token, world_pipeline: Pipeline
) -> None:
    resp = http.post(
        "/v1/ask", json={"question": GOLD["question"], "patient_id": PATIENT}, headers=bearer(token(USER))
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    answer = Answer.model_validate(body)
    assert not answer.declined and answer.citations, body
    direct = world_pipeline.ask(AskRequest(question=str(GOLD["question"]), user_id=USER, patient_id=PATIENT))
    assert comparable(body) == comparable(direct.model_dump(mode="json"))
    assert world_pipeline.audit.get(answer.request_id) is not None, "the API's ask is audited"


def test_ask_streams_server_sent_events_when_asked(http: httpx.Client, token: Token) -> None:
    with http.stream(
        "POST",
        "/v1/ask",
        json={"question": GOLD["question"], "patient_id": PATIENT},
        headers={**bearer(token(USER)), "Accept": "text/event-stream"},
    ) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        raw = "".join(resp.iter_text())
    events = [block.split("\n") for block in raw.strip().split("\n\n")]
    assert [e[0] for e in events] == ["event: answer", "event: done"]
    answer = Answer.model_validate(json.loads(events[0][1].removeprefix("data: ")))
    assert answer.patient_id == PATIENT and answer.citations


def test_search_returns_guarded_passages_with_citations_and_is_audited(
    http: httpx.Client, token: Token, world_pipeline: Pipeline
) -> None:
    resp = http.post(
        "/v1/search",
        json={"question": "What did cardiology recommend?", "patient_id": PATIENT},
        headers=bearer(token(USER)),
    )
    assert resp.status_code == 200, resp.text
    result = SearchResult.model_validate(resp.json())
    assert result.passages and not result.declined
    assert len(result.passages) <= world_pipeline.settings.search_k
    scores = [p.score for p in result.passages]
    assert scores == sorted(scores, reverse=True)
    for p in result.passages:
        assert p.patient_id in (PATIENT, None) and p.text and p.source_ref.split("/")[0]
        if p.source_type == "note_chunk":
            assert p.span is not None and p.span[1] - p.span[0] == len(p.text)
    entry = world_pipeline.audit.get(result.request_id)
    assert entry is not None and entry.kind == "search"
    assert entry.retrieved_ids == [p.source_id for p in result.passages]
    assert "pk_" not in resp.text, "the index's patient key never leaves the server"


def test_search_narrowing_by_note_type_only_narrows(http: httpx.Client, token: Token) -> None:
    body = {"question": "What did the discharge summary and the progress notes say?", "patient_id": MERCY_PSY}
    headers = bearer(token("md-farah"))
    wide = http.post("/v1/search", json=body, headers=headers).json()
    narrow = http.post(
        "/v1/search", json={**body, "note_types": ["Discharge summary"]}, headers=headers
    ).json()
    wide_types = {p["note_type"] for p in wide["passages"] if p["source_type"] == "note_chunk"}
    notes = [p for p in narrow["passages"] if p["source_type"] == "note_chunk"]
    assert wide_types - {"Discharge summary"}, "without narrowing, other note types come back"
    assert notes and all(p["note_type"] == "Discharge summary" for p in notes)


def _visible_patient_ids(pipe: Pipeline, user: str) -> set[str]:
    with Session(pipe.stores.engine) as s:
        return {p.id for p in patients_in_scope(s, compute_scope(s, user))}


@pytest.mark.parametrize("kind", ["condition", "encounter"])
def test_similar_records_stay_within_the_callers_patients(
    http: httpx.Client, token: Token, world_pipeline: Pipeline, kind: str
) -> None:
    model = t.Condition if kind == "condition" else t.Encounter
    with Session(world_pipeline.stores.engine) as s:
        key = s.get(t.Patient, MERCY_PSY).patient_key  # type: ignore[union-attr]
        anchor = s.exec(
            select(model).where(col(model.patient_key) == key, model.security_labels == "")
        ).first()
    assert anchor is not None
    resp = http.get(
        f"/v1/patients/{MERCY_PSY}/similar",
        params={"kind": kind, "ref": anchor.ref, "k": 8},
        headers=bearer(token("md-farah")),
    )
    assert resp.status_code == 200, resp.text
    items = resp.json()["items"]
    assert items and len(items) <= 8 and anchor.ref not in {i["source_ref"] for i in items}
    assert {i["patient_id"] for i in items} <= _visible_patient_ids(world_pipeline, "md-farah")
    assert all(i["source_ref"].startswith(model.__name__ + "/") for i in items)
    assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)


def test_similar_notes_never_include_labelled_notes_the_caller_lacks(
    http: httpx.Client, token: Token, world_pipeline: Pipeline
) -> None:
    with Session(world_pipeline.stores.engine) as s:
        key = s.get(t.Patient, MERCY_PSY).patient_key  # type: ignore[union-attr]
        anchor = s.exec(select(t.Note).where(t.Note.patient_key == key, t.Note.security_labels == "")).first()
        psy = {n.ref for n in s.exec(select(t.Note).where(col(t.Note.security_labels).contains("|PSY|")))}
    assert anchor is not None and psy
    resp = http.get(
        f"/v1/patients/{MERCY_PSY}/similar",
        params={"kind": "note", "ref": anchor.ref},
        headers=bearer(token("md-farah")),
    )
    assert resp.status_code == 200, resp.text
    refs = {i["source_ref"] for i in resp.json()["items"]}
    assert refs and not refs & psy and anchor.ref not in refs
    # The PSY holder, same anchor: her results may include them (the filter, not luck, kept them out).
    dana = http.get(
        f"/v1/patients/{MERCY_PSY}/similar",
        params={"kind": "note", "ref": anchor.ref},
        headers=bearer(token("rn-dana")),
    )
    assert dana.status_code == 200


def test_source_opens_what_the_caller_may_see_and_is_audited(
    http: httpx.Client, token: Token, world_pipeline: Pipeline
) -> None:
    answer = http.post(
        "/v1/ask", json={"question": GOLD["question"], "patient_id": PATIENT}, headers=bearer(token(USER))
    ).json()
    cited = answer["citations"][0]
    resp = http.get(f"/v1/sources/{quote(cited['source_id'], safe='/')}", headers=bearer(token(USER)))
    assert resp.status_code == 200, resp.text
    view = resp.json()
    assert view["source_ref"] == cited["source_ref"] and view["patient_id"] == PATIENT
    assert cited["text"] in view["text"] or view["source_type"] == "record"
    entry = world_pipeline.audit.get(view["view_request_id"])
    assert entry is not None and entry.kind == "source_view" and entry.cited_ids == [cited["source_id"]]


def test_audit_list_and_verify_for_reviewers(http: httpx.Client, token: Token) -> None:
    headers = bearer(token("rv-ivan", "user/AuditEvent.rs"))
    listed = http.get("/v1/audit", params={"limit": 5}, headers=headers)
    assert listed.status_code == 200, listed.text
    rows = listed.json()
    assert 1 <= len(rows) <= 5 and rows[0]["seq"] > rows[-1]["seq"]
    verified = http.get("/v1/audit/verify", headers=headers)
    assert verified.status_code == 200 and verified.json()["ok"] is True
    searches = http.get("/v1/audit", params={"kind": "search"}, headers=headers).json()
    assert all(r["kind"] == "search" for r in searches)


def test_clinicians_may_not_read_the_audit_trail(http: httpx.Client, token: Token) -> None:
    resp = http.get("/v1/audit", headers=bearer(token("md-farah", "user/*.rs")))
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "access_denied"
    # said as a role refusal, and nothing about patients
    message = resp.json()["error"]["message"]
    assert "role" in message and "reviewer" in message and "patient" not in message.lower()


def test_a_whole_note_opens_as_a_note(http: httpx.Client, token: Token, world_pipeline: Pipeline) -> None:
    with Session(world_pipeline.stores.engine) as s:
        patient = s.get(t.Patient, PATIENT)
        assert patient is not None
        note_ref = next(
            n.ref
            for n in s.exec(select(t.Note).where(t.Note.patient_key == patient.patient_key))
            if not n.security_labels
        )
    resp = http.get(f"/v1/sources/{quote(note_ref, safe='/')}", headers=bearer(token(USER)))
    assert resp.status_code == 200, resp.text
    assert resp.json()["source_type"] == "note" and resp.json()["source_ref"] == note_ref


def test_health_readiness_metrics_and_schema(http: httpx.Client, token: Token) -> None:
    assert http.get("/healthz").json() == {"status": "ok"}
    ready = http.get("/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    assert ready.json()["checks"]["vector_chunks"] == ready.json()["checks"]["lexical_chunks"] > 0
    http.post(
        "/v1/ask",
        json={"question": "What is the weather?", "patient_id": PATIENT},
        headers=bearer(token(USER)),
    )
    metrics = http.get("/metrics").text
    assert 'carecite_http_requests_total{method="POST",route="/v1/ask",status="200"}' in metrics
    assert 'carecite_stage_seconds_bucket{endpoint="ask",le="0.01",stage="retrieve"}' in metrics
    assert "carecite_declines_total" in metrics
    schema = http.get("/openapi.json").json()
    assert {
        "/v1/ask",
        "/v1/search",
        "/v1/patients/{patient_id}/similar",
        "/v1/audit",
        "/v1/audit/verify",
    } <= set(schema["paths"])
    assert http.get("/docs").status_code == 200


def test_unknown_route_and_method_are_json_errors(http: httpx.Client) -> None:
    missing = http.get("/v2/nothing")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong = http.get("/v1/ask")
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"


def test_the_dev_jwks_is_published(http: httpx.Client) -> None:
    keys = http.get("/.well-known/jwks.json").json()["keys"]
    assert len(keys) == 1 and keys[0]["alg"] == "ES256" and "d" not in keys[0], "public half only"
