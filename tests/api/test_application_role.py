"""The application served as PostgreSQL's APPLICATION role, not the table owner: row-level security
binds every SQL read it makes, so each request-scoped read must carry that request's scope.

The owner ingests the small world (PostgreSQL + pgvector + PostgreSQL full-text); the same world is
ingested embedded (SQLite + Chroma + bm25s). Asked as the application role, every gold question gets
the same answer and the same citations as embedded; a clinical user opens a cited source through the
API; a source or patient outside the scope stays denied."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from carecite.settings import Settings
from servers import PgServer, ingest_small_world, small_world_gold

pytestmark = pytest.mark.slow
OUTSIDER = "cc-amy"  # another facility (Lakeside), care team only


@pytest.fixture(scope="module")
def setups(pg_server: PgServer, tmp_path_factory: pytest.TempPathFactory, embedder) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    from carecite.records.postgres import grant_app_role
    from carecite.stores import Stores
    from carecite.wiring import build_pipeline

    embedded = Settings(data_dir=tmp_path_factory.mktemp("embedded"), api_rate_limit_per_minute=0)
    ingest_small_world(Stores(embedded, embedder=embedder))

    db = pg_server.create_database()
    owner = Settings(
        data_dir=tmp_path_factory.mktemp("owner"),
        database_url=pg_server.url(db),
        vector_store="pgvector",
        lexical_store="postgres",
    )
    owner_stores = Stores(owner, embedder=embedder)
    ingest_small_world(owner_stores)
    role = f"app_{uuid.uuid4().hex[:8]}"
    with owner_stores.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
    app_dir = tmp_path_factory.mktemp("app")
    grant_app_role(  # the scope-signing key goes to the application's data dir, never to the role
        owner_stores.engine,
        role,
        extra_tables=["chunk_vectors", "chunk_lexical", "carecite_index_meta"],
        key_file=app_dir / "db-scope.key",
    )
    app = Settings(  # built afresh: model_copy would carry owner's cached resolved_database_url
        data_dir=app_dir,
        database_url=pg_server.url(db, user=role),
        vector_store="pgvector",
        lexical_store="postgres",
        api_rate_limit_per_minute=0,
    )
    gold = small_world_gold(tmp_path_factory.mktemp("gold") / "gold.jsonl")
    return {
        "embedded": (embedded, build_pipeline(embedded, stores=Stores(embedded, embedder=embedder))),
        "app_role": (app, build_pipeline(app, stores=Stores(app, embedder=embedder))),
        "gold": [json.loads(line) for line in gold.read_text().splitlines() if line.strip()],
        "role": role,
    }


def _essence(answer: Any) -> dict[str, Any]:
    """The same facts from the same sources. Marker numbers are left out: they follow the order of the
    sources in the prompt, and PostgreSQL's BM25 and bm25s may order two equally relevant notes apart."""
    from carecite.answering.text import strip_markers

    return {
        "answer": " ".join(strip_markers(answer.answer or "").split()),
        "declined": answer.declined,
        "decline_reason": answer.decline_reason,
        "cited": sorted((c.source_id, c.source_ref) for c in answer.citations),
    }


def test_the_application_role_connects_as_itself_and_is_bound_by_rls(setups: dict[str, Any]) -> None:
    _, pipeline = setups["app_role"]
    with pipeline.stores.engine.connect() as conn:
        who = conn.exec_driver_sql(
            "SELECT current_user, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        user, bypass = who.one()
        assert user == setups["role"] and bypass is False
        assert conn.exec_driver_sql("SELECT count(*) FROM note").scalar_one() == 0, "no scope: no notes"
        assert conn.exec_driver_sql("SELECT count(*) FROM patient").scalar_one() == 0
    # BM25's corpus statistics list words of every patient's notes: the role gets idf values only
    # through the SECURITY DEFINER function, for the lexemes it asks about.
    with (
        pytest.raises(sa.exc.ProgrammingError, match="permission denied"),
        pipeline.stores.engine.connect() as conn,
    ):
        conn.exec_driver_sql("SELECT lexeme FROM chunk_lexical_df LIMIT 1").all()
    with pipeline.stores.engine.connect() as conn:
        idf = conn.exec_driver_sql(
            "SELECT lexeme, idf FROM carecite_lexical_idf(ARRAY['discharg', 'zzzz'])"
        ).all()
    assert [row[0] for row in idf] == ["discharg"] and idf[0][1] > 0


def test_every_question_gets_the_embedded_answer_as_the_application_role(setups: dict[str, Any]) -> None:
    from carecite.answering.pipeline import AskRequest

    _, embedded = setups["embedded"]
    _, app = setups["app_role"]
    gold = setups["gold"]
    assert gold, "the small world has gold questions"
    patient = str(gold[0]["patient_id"])
    # The gold questions, plus record questions that exercise the structured retriever's SQL.
    asks = [(str(i["question"]), str(i["user_id"]), str(i["patient_id"])) for i in gold] + [
        (q, "cc-ben", patient)
        for q in (
            "Which follow-ups are open right now?",
            "What medications is the patient on?",
            "What are the patient's active conditions?",
            "When is the next appointment?",
        )
    ]
    answered = 0
    for question, user, patient_id in asks:
        req = AskRequest(question=question, user_id=user, patient_id=patient_id)
        want, got = _essence(embedded.ask(req)), _essence(app.ask(req))
        assert got == want, question
        answered += bool(got["cited"])
    assert answered >= 4, "most questions are answered with citations, not declined"
    declined = {str(i["question"]) for i in gold if i["expect"] == "decline"}
    for question in declined:  # the access and injection declines hold under the app role too
        user = next(str(i["user_id"]) for i in gold if i["question"] == question)
        assert app.ask(AskRequest(question=question, user_id=user, patient_id=patient)).declined


def test_the_api_as_the_application_role_answers_and_opens_the_cited_source(setups: dict[str, Any]) -> None:
    from carecite.api.auth import mint_token
    from carecite.api.server import running

    settings, pipeline = setups["app_role"]
    item = next(i for i in setups["gold"] if i["expect"] == "answer")
    token = mint_token(settings, str(item["user_id"]), ["user/*.rs"])
    headers = {"Authorization": f"Bearer {token}"}
    with running(settings, pipeline) as base, httpx.Client(base_url=base, timeout=300) as http:
        resp = http.post(
            "/v1/ask", json={"question": item["question"], "patient_id": item["patient_id"]}, headers=headers
        )
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert not body["declined"] and body["citations"], body
        cited = body["citations"][0]["source_id"]
        opened = http.get(f"/v1/sources/{cited}", headers=headers)
        assert opened.status_code == 200, opened.text
        view = opened.json()
        assert (
            view["source_id"] == cited and view["patient_id"] == item["patient_id"] and view["text"].strip()
        )
        # A user without that patient on a care team: denied, exactly as an unknown id is.
        other = mint_token(settings, OUTSIDER, ["user/*.rs"])
        denied = http.get(f"/v1/sources/{cited}", headers={"Authorization": f"Bearer {other}"})
        unknown = http.get("/v1/sources/Note/does-not-exist", headers=headers)
        assert denied.status_code == unknown.status_code == 403
        assert denied.json()["error"]["message"] == unknown.json()["error"]["message"]


def test_similar_records_and_notes_match_embedded_as_the_application_role(setups: dict[str, Any]) -> None:
    from carecite.retrieval.similar import find_similar

    _, embedded = setups["embedded"]
    _, app = setups["app_role"]
    item = next(i for i in setups["gold"] if i["expect"] == "answer")
    user, patient = str(item["user_id"]), str(item["patient_id"])
    with embedded.stores.engine.connect() as conn:  # SQLite: no RLS, any anchor of the patient
        anchors = {
            kind: str(
                conn.exec_driver_sql(
                    f"SELECT ref FROM {table} WHERE security_labels = '' ORDER BY ref LIMIT 1"
                ).scalar_one()
            )
            for kind, table in (("condition", "condition"), ("note", "note"), ("encounter", "encounter"))
        }
    found = 0
    for kind, ref in anchors.items():
        want = find_similar(embedded.stores, embedded.audit, user, patient, kind, ref, 5)  # type: ignore[arg-type]
        got = find_similar(app.stores, app.audit, user, patient, kind, ref, 5)  # type: ignore[arg-type]
        assert [(i.source_ref, i.patient_id, i.text) for i in got.items] == [
            (i.source_ref, i.patient_id, i.text) for i in want.items
        ], kind
        found += len(got.items)
    assert found > 0, "the anchors have neighbours to compare"


@pytest.mark.parametrize("setup", ["embedded", "app_role"])
def test_nul_and_lone_surrogates_are_cleaned_before_any_store_on_either_backend(
    setups: dict[str, Any], setup: str
) -> None:
    """Issue 28: NUL in almost any field was a 500 on PostgreSQL (a NUL question was answered, then
    its audit INSERT failed); a lone surrogate was one on SQLite. Both are cleaned at the pipeline's
    edge, so the request runs and leaves exactly one audit record."""
    from carecite.answering.pipeline import AskRequest
    from carecite.domain import Narrowing

    _, pipeline = setups[setup]
    patient = str(setups["gold"][0]["patient_id"])
    requests = [
        AskRequest(question="Which follow-ups are open\x00 right now?", user_id="cc-ben", patient_id=patient),
        AskRequest(question="Which follow-ups are open \udc00?", user_id="cc-ben", patient_id=patient),
        AskRequest(question="Which follow-ups are open?", user_id="cc-ben\x00", patient_id=patient),
        AskRequest(question="Which follow-ups are open?", user_id="cc-ben", patient_id=patient + "\x00"),
        AskRequest(
            question="Which follow-ups are open?",
            user_id="cc-ben",
            patient_id=patient,
            narrowing=Narrowing(note_types=("Discharge\x00summary", "\udc00"), facility="Organization/\x00x"),
        ),
        AskRequest(
            question="What are the active problems?",
            user_id="md-farah",
            patient_id=patient,
            break_glass="Unresponsive\x00 in the ED, \ud800 needs history",
        ),
    ]
    for req in requests:
        before = pipeline.audit.count()
        pipeline.ask(req)
        pipeline.search(req)
        assert pipeline.audit.count() == before + 2
    assert pipeline.audit.verify().ok


def test_readiness_as_the_application_role_counts_the_whole_index(setups: dict[str, Any]) -> None:
    """/readyz reported ``lexical_chunks: 0`` as the application role: its own count(*) saw only the
    rows of an (absent) scope. It now counts through the owner's SECURITY DEFINER functions: a
    number, while the role's own SELECT still sees no patient chunk."""
    from carecite.api.server import running

    settings, pipeline = setups["app_role"]
    _, embedded = setups["embedded"]
    expected = embedded.stores.lexical.count()
    assert expected > 0
    with running(settings, pipeline) as base:
        ready = httpx.get(f"{base}/readyz", timeout=120)
    assert ready.status_code == 200 and ready.json()["ready"] is True, ready.text
    checks = ready.json()["checks"]
    assert checks["lexical_chunks"] == checks["vector_chunks"] == expected, checks
    with pipeline.stores.engine.connect() as conn:  # the wall still holds for rows
        assert conn.exec_driver_sql("SELECT count(*) FROM chunk_lexical").scalar() == 0
        assert conn.exec_driver_sql("SELECT count(*) FROM chunk_vectors").scalar() == 0
