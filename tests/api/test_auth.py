"""Authentication, SMART scopes that only narrow, the no-existence-leak rule, limits and concurrency —
all through a real uvicorn server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from api_world import LAKESIDE_INJECTED, MERCY_PSY, QUESTION, REASON, UNKNOWN_PATIENT, Token, bearer
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlmodel import Session, col, select

from carecite.answering.pipeline import Pipeline
from carecite.api.auth import mint_token
from carecite.api.server import running
from carecite.domain import resource_type_of
from carecite.records import tables as t
from carecite.settings import Settings
from world import gold_questions

ASK = {"question": QUESTION, "patient_id": MERCY_PSY}


# =========================================================================== 401: who is asking
def _expect_401(resp: httpx.Response) -> str:
    assert resp.status_code == 401, resp.text
    assert resp.json()["error"]["code"] == "unauthorized"
    challenge = resp.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="carecite"')
    return challenge


def test_missing_token_is_401_with_a_challenge(http: httpx.Client) -> None:
    _expect_401(http.post("/v1/ask", json=ASK))
    _expect_401(http.post("/v1/ask", json=ASK, headers={"Authorization": "Basic bWQ6cHc="}))


@pytest.mark.parametrize(
    "case",
    [
        "garbage",
        "expired",
        "not_yet_valid",
        "wrong_audience",
        "wrong_issuer",
        "foreign_key",
        "alg_none",
        "hs256",
    ],
)
def test_invalid_tokens_are_401_invalid_token(
    http: httpx.Client, api_settings: Settings, tmp_path: Path, case: str
) -> None:
    s = api_settings
    if case == "garbage":
        tok = "not.a.jwt"
    elif case == "expired":
        tok = mint_token(s, "md-farah", ["user/*.rs"], ttl_s=-(s.api_leeway_s + 60))
    elif case == "not_yet_valid":
        tok = mint_token(s, "md-farah", ["user/*.rs"], not_before_s=s.api_leeway_s + 600)
    elif case == "wrong_audience":
        tok = mint_token(s, "md-farah", ["user/*.rs"], audience="someone-else")
    elif case == "wrong_issuer":
        tok = mint_token(
            s.model_copy(update={"api_issuer": "https://evil.example"}), "md-farah", ["user/*.rs"]
        )
    elif case == "foreign_key":  # same claims, signed by another data dir's key
        tok = mint_token(s.model_copy(update={"data_dir": tmp_path / "other"}), "md-farah", ["user/*.rs"])
    elif case == "alg_none":
        tok = jwt.encode(_claims(s), None, algorithm="none")  # type: ignore[arg-type]
    else:  # HS256 "signed" with the published public key as the secret: the classic confusion attack
        tok = _hs256(_claims(s), (s.data_dir / "api" / "jwks.json").read_bytes())
    challenge = _expect_401(http.post("/v1/ask", json=ASK, headers=bearer(tok)))
    assert 'error="invalid_token"' in challenge


@contextmanager
def _jwks_url(folder: Path) -> Iterator[str]:
    """The folder served over HTTP on loopback, as an identity provider publishes its JWKS."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kw: Any) -> None:
            super().__init__(*args, directory=str(folder), **kw)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    finally:
        server.shutdown()


@pytest.mark.parametrize("source", ["file", "url"])
def test_rs256_tokens_from_a_configured_jwks_are_accepted(
    api_settings: Settings, world_pipeline: Pipeline, tmp_path: Path, source: str
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**jwk, "kid": "idp-1", "alg": "RS256", "use": "sig"}]}))
    with _jwks_url(tmp_path) as url:
        where = str(jwks) if source == "file" else url
        settings = api_settings.model_copy(update={"api_jwks": where, "api_issuer": "https://idp.example"})
        claims = {**_claims(settings), "sub": "ignored", "fhirUser": "Practitioner/md-farah"}
        tok = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "idp-1"})
        with running(settings, world_pipeline) as base, httpx.Client(base_url=base, timeout=300) as client:
            ok = client.post("/v1/search", json=ASK, headers=bearer(tok))
            assert ok.status_code == 200 and ok.json()["user_id"] == "md-farah", "fhirUser names the user"
            dev = client.post(
                "/v1/search", json=ASK, headers=bearer(mint_token(api_settings, "md-farah", ["user/*.rs"]))
            )
            assert dev.status_code == 401, "the dev key is not trusted once a JWKS is configured"


def _hs256(claims: dict[str, object], secret: bytes) -> str:
    # Built by hand: PyJWT itself refuses to use key material as an HMAC secret.
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    kid = json.loads(secret)["keys"][0]["kid"]
    signing = f"{part(json.dumps({'alg': 'HS256', 'typ': 'JWT', 'kid': kid}).encode())}.{part(json.dumps(claims).encode())}"
    return f"{signing}.{part(hmac.new(secret, signing.encode(), hashlib.sha256).digest())}"


def _claims(s: Settings) -> dict[str, object]:
    now = int(time.time())
    return {
        "iss": s.api_issuer,
        "aud": s.api_audience,
        "sub": "md-farah",
        "iat": now,
        "exp": now + 600,
        "scope": "user/*.rs",
    }


# =========================================================================== 403: scopes
def test_token_without_a_clinical_scope_is_403_insufficient_scope(http: httpx.Client, token: Token) -> None:
    for scopes in (["openid", "fhirUser"], ["user/Observation.c"], ["system/*.rs"], ["user/*.rs?category=x"]):
        resp = http.post("/v1/ask", json=ASK, headers=bearer(token("md-farah", *scopes)))
        assert resp.status_code == 403, scopes
        assert resp.json()["error"]["code"] == "insufficient_scope"
        assert 'error="insufficient_scope"' in resp.headers["WWW-Authenticate"]


def test_reviewer_token_without_the_audit_scope_is_403(http: httpx.Client, token: Token) -> None:
    resp = http.get("/v1/audit", headers=bearer(token("rv-ivan", "user/Observation.rs")))
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "insufficient_scope"


def _types(body: dict[str, object], key: str) -> set[str]:
    return {resource_type_of(str(item["source_ref"])) for item in body[key]}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("scope", "allowed"),
    [
        ("user/Observation.rs", {"Observation", "Policy"}),
        ("user/DocumentReference.rs", {"DocumentReference", "Policy"}),
        ("user/Task.rs user/ServiceRequest.rs", {"Task", "ServiceRequest", "Policy"}),
    ],
)
def test_resource_scopes_narrow_what_is_retrieved(
    http: httpx.Client, token: Token, scope: str, allowed: set[str]
) -> None:
    gold = [q for q in gold_questions() if q["expect"] == "answer" and q["user_id"] == "md-farah"][:3]
    assert gold
    seen: set[str] = set()
    for q in gold:
        body = {"question": q["question"], "patient_id": q["patient_id"]}
        wide = http.post("/v1/search", json=body, headers=bearer(token("md-farah"))).json()
        narrow = http.post("/v1/search", json=body, headers=bearer(token("md-farah", *scope.split()))).json()
        assert _types(narrow, "passages") <= allowed
        assert {p["source_id"] for p in narrow["passages"]} - {p["source_id"] for p in wide["passages"]} <= {
            p["source_id"] for p in narrow["passages"] if resource_type_of(p["source_ref"]) in allowed
        }
        answer = http.post("/v1/ask", json=body, headers=bearer(token("md-farah", *scope.split()))).json()
        assert {resource_type_of(c["source_ref"]) for c in answer["citations"]} <= allowed
        assert {resource_type_of(r["source_ref"]) for r in answer["retrieved"]} <= allowed
        seen |= _types(wide, "passages")
    assert seen - allowed, "the wide token did see other types: the narrowing is real"


def test_a_wildcard_scope_never_widens_beyond_the_users_labels(
    http: httpx.Client, token: Token, world_pipeline: Pipeline
) -> None:
    with Session(world_pipeline.stores.engine) as s:
        psy = {
            c.chunk_id
            for c in s.exec(select(t.ChunkRow).where(col(t.ChunkRow.security_labels).contains("|PSY|")))
        }
    body = {"question": "What stressors has the patient been discussing in therapy?", "patient_id": MERCY_PSY}
    farah = http.post(
        "/v1/search", json=body, headers=bearer(token("md-farah", "user/*.rs", "patient/*.rs"))
    ).json()
    assert not {p["source_id"] for p in farah["passages"]} & psy
    dana = http.post("/v1/search", json=body, headers=bearer(token("rn-dana"))).json()
    assert {p["source_id"] for p in dana["passages"]} & psy, (
        "the label holder sees them: the query does reach them"
    )


def test_patient_scope_limits_the_token_to_its_launch_patient(
    http: httpx.Client, token: Token, world_pipeline: Pipeline
) -> None:
    tok = token("md-farah", "patient/*.rs", patient=MERCY_PSY)
    assert http.post("/v1/search", json=ASK, headers=bearer(tok)).status_code == 200
    with Session(world_pipeline.stores.engine) as s:
        from carecite.access.scope import compute_scope, patients_in_scope

        other = next(p.id for p in patients_in_scope(s, compute_scope(s, "md-farah")) if p.id != MERCY_PSY)
    assert (
        http.post(
            "/v1/search", json={**ASK, "patient_id": other}, headers=bearer(token("md-farah"))
        ).status_code
        == 200
    )
    denied = http.post("/v1/search", json={**ASK, "patient_id": other}, headers=bearer(tok))
    unknown = http.post("/v1/search", json={**ASK, "patient_id": UNKNOWN_PATIENT}, headers=bearer(tok))
    assert denied.status_code == unknown.status_code == 403 and denied.content == unknown.content
    # A patient scope without a launch patient grants nothing.
    assert (
        http.post("/v1/search", json=ASK, headers=bearer(token("md-farah", "patient/*.rs"))).status_code
        == 403
    )


# =========================================================================== 403: no existence leak
@pytest.mark.parametrize("path", ["/v1/ask", "/v1/search"])
def test_unknown_and_out_of_scope_patients_get_the_same_403_body(
    http: httpx.Client, token: Token, path: str
) -> None:
    responses = [
        http.post(path, json={**ASK, "patient_id": p}, headers=bearer(token("md-farah")))
        for p in (UNKNOWN_PATIENT, LAKESIDE_INJECTED, "' OR 1=1 --", "%")
    ]
    assert {r.status_code for r in responses} == {403}
    assert len({r.content for r in responses}) == 1
    assert responses[0].json()["error"]["code"] == "access_denied"
    assert all(r.headers["X-Request-ID"] for r in responses), "each denial has its own audit record"


def test_similar_and_sources_deny_unknown_and_hidden_alike(
    http: httpx.Client, token: Token, world_pipeline: Pipeline
) -> None:
    with Session(world_pipeline.stores.engine) as s:
        hidden_key = s.get(t.Patient, LAKESIDE_INJECTED).patient_key  # type: ignore[union-attr]
        hidden_condition = s.exec(select(t.Condition).where(t.Condition.patient_key == hidden_key)).first()
        psy_chunk = s.exec(
            select(t.ChunkRow).where(col(t.ChunkRow.security_labels).contains("|PSY|"))
        ).first()
    assert hidden_condition is not None and psy_chunk is not None
    h = bearer(token("md-farah"))
    before = world_pipeline.audit.count()
    similar = [
        http.get(
            f"/v1/patients/{p}/similar", params={"kind": "condition", "ref": hidden_condition.ref}, headers=h
        )
        for p in (UNKNOWN_PATIENT, LAKESIDE_INJECTED, MERCY_PSY)
    ]
    sources = [
        http.get(f"/v1/sources/{ref}", headers=h)
        for ref in (hidden_condition.ref, "Condition/does-not-exist", psy_chunk.chunk_id.replace("#", "%23"))
    ]
    bodies = {r.content for r in similar + sources}
    assert {r.status_code for r in similar + sources} == {403} and len(bodies) == 1
    assert world_pipeline.audit.count() == before + 6, "every denial is audited"
    assert {e.kind for e in world_pipeline.audit.records(limit=6)} == {"denied"}


def test_break_glass_over_the_api_is_honoured_and_audited(
    http: httpx.Client, token: Token, world_pipeline: Pipeline
) -> None:
    body = {"question": QUESTION, "patient_id": LAKESIDE_INJECTED}
    assert http.post("/v1/ask", json=body, headers=bearer(token("rn-eli"))).status_code == 403
    resp = http.post("/v1/ask", json={**body, "break_glass": REASON}, headers=bearer(token("rn-eli")))
    assert resp.status_code == 200 and resp.json()["break_glass"] is True
    entry = world_pipeline.audit.get(resp.json()["request_id"])
    assert entry is not None and entry.kind == "break_glass" and entry.break_glass_reason == REASON


# =========================================================================== limits
def test_body_over_the_limit_is_413(http: httpx.Client, token: Token, api_settings: Settings) -> None:
    big = {**ASK, "question": "x" * (api_settings.api_max_body_bytes + 10)}
    resp = http.post("/v1/ask", json=big, headers=bearer(token("md-farah")))
    assert resp.status_code == 413 and resp.json()["error"]["code"] == "payload_too_large"


def test_question_over_the_limit_and_bad_dates_are_clear_errors(
    http: httpx.Client, token: Token, api_settings: Settings
) -> None:
    long = {**ASK, "question": "why " * (api_settings.max_question_chars // 4 + 5)}
    resp = http.post("/v1/ask", json=long, headers=bearer(token("md-farah")))
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "bad_request"
    assert "limit" in resp.json()["error"]["message"]
    bad = http.post("/v1/ask", json={**ASK, "date_from": "yesterday"}, headers=bearer(token("md-farah")))
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"
    assert "date_from" in bad.json()["error"]["message"]
    glass = http.post("/v1/ask", json={**ASK, "break_glass": "   "}, headers=bearer(token("md-farah")))
    assert glass.status_code == 400


def test_rate_limit_is_per_user_with_retry_after(api_settings: Settings, world_pipeline: Pipeline) -> None:
    settings = api_settings.model_copy(update={"api_rate_limit_per_minute": 2})
    with running(settings, world_pipeline) as url, httpx.Client(base_url=url, timeout=300) as client:
        farah = bearer(mint_token(settings, "md-farah", ["user/*.rs"]))
        codes = [client.get("/v1/sources/Policy%2Fnothing", headers=farah).status_code for _ in range(3)]
        assert codes[:2] == [403, 403] and codes[2] == 429
        limited = client.get("/v1/sources/Policy%2Fnothing", headers=farah)
        assert limited.json()["error"]["code"] == "rate_limited" and int(limited.headers["Retry-After"]) >= 1
        dana = bearer(mint_token(settings, "rn-dana", ["user/*.rs"]))
        assert client.get("/v1/sources/Policy%2Fnothing", headers=dana).status_code == 403, "per user"


def test_request_timeout_is_504(api_settings: Settings, world_pipeline: Pipeline) -> None:
    settings = api_settings.model_copy(update={"api_request_timeout_s": 0.001})
    before = world_pipeline.audit.count()
    with running(settings, world_pipeline) as url, httpx.Client(base_url=url, timeout=300) as client:
        resp = client.post(
            "/v1/ask", json=ASK, headers=bearer(mint_token(settings, "md-farah", ["user/*.rs"]))
        )
    assert resp.status_code == 504 and resp.json()["error"]["code"] == "timeout"
    deadline = time.monotonic() + 120
    while world_pipeline.audit.count() == before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert world_pipeline.audit.count() == before + 1, "the request still finishes and is audited"


# =========================================================================== concurrency
def test_concurrent_asks_leave_one_audit_record_each_and_the_chain_verifies(
    http: httpx.Client, token: Token, world_pipeline: Pipeline
) -> None:
    gold = [q for q in gold_questions() if q["expect"] == "answer"][:8]
    before = world_pipeline.audit.count()

    def one(q: dict[str, object]) -> httpx.Response:
        return http.post(
            "/v1/ask",
            json={"question": q["question"], "patient_id": q["patient_id"]},
            headers=bearer(token(str(q["user_id"]))),
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(one, gold))
    assert [r.status_code for r in responses] == [200] * len(gold)
    ids = {r.json()["request_id"] for r in responses}
    assert len(ids) == len(gold)
    assert world_pipeline.audit.count() == before + len(gold)
    assert all(world_pipeline.audit.get(i) is not None for i in ids)
    assert world_pipeline.audit.verify().ok


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
def test_a_date_claim_given_as_a_string_is_401(
    http: httpx.Client, api_settings: Settings, claim: str
) -> None:
    """Issue 28: `"exp": "9999999999"` was accepted (PyJWT casts it). RFC 7519 NumericDates are numbers."""
    from carecite.api.auth import ensure_dev_key

    key, kid = ensure_dev_key(api_settings)
    now = int(time.time())
    claims = {
        "iss": api_settings.api_issuer,
        "aud": api_settings.api_audience,
        "sub": "md-farah",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "scope": "user/*.rs",
    }
    claims[claim] = str(claims[claim])
    tok = jwt.encode(claims, key, algorithm="ES256", headers={"kid": kid})
    challenge = _expect_401(http.post("/v1/search", json=ASK, headers=bearer(tok)))
    assert claim in challenge
