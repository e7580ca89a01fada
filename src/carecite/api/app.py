"""The FastAPI app: authentication, limits, error translation and serialisation over one Pipeline.

One Pipeline is built per process at startup (lifespan) and shared by every request; blocking work
runs in the thread pool under the request timeout. Routes hold no logic of their own: they call
``Pipeline.ask`` / ``Pipeline.search`` (the CLI's and the UI's path), ``access.sources.open_source``,
``retrieval.similar.find_similar`` and the audit log.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from functools import partial
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy import Engine, text
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from carecite.access.scope import AUDIT_READER_ROLES, AccessDenied, RoleDenied, require_role
from carecite.access.sources import SourceView, open_source
from carecite.answering.pipeline import BadInput, Pipeline
from carecite.api.access_log import AccessLogPaths
from carecite.api.auth import Principal, TokenVerifier
from carecite.api.errors import (
    STATUS_CODES,
    ApiError,
    ErrorBody,
    ErrorDetail,
    access_denied,
    insufficient_scope,
    role_refused,
)
from carecite.api.limits import BodySizeLimit, HeaderSizeLimit, RateLimiter
from carecite.api.metrics import Metrics
from carecite.api.models import AskBody, Health, Readiness
from carecite.api.scopes import AUDIT_SCOPE, CLINICAL_SCOPE_EXAMPLE
from carecite.audit.log import AUDIT_KINDS, AuditEntry, VerifyResult
from carecite.domain import Answer, Grant, SearchResult
from carecite.retrieval.similar import SimilarKind, SimilarResult, find_similar
from carecite.settings import Settings
from carecite.text.storable import storable, storable_or_none

T = TypeVar("T")

_AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "missing, invalid or expired token (WWW-Authenticate says why)"},
    403: {
        "model": ErrorBody,
        "description": "insufficient_scope, or access_denied (same body whether or not it exists)",
    },
    404: {"model": ErrorBody, "description": "the path matches no route (e.g. a control character in an id)"},
    413: {"model": ErrorBody, "description": "body too large"},
    431: {"model": ErrorBody, "description": "request headers too large"},
    422: {"model": ErrorBody, "description": "body or query does not match the schema"},
    429: {"model": ErrorBody, "description": "rate limited; see Retry-After"},
    503: {"model": ErrorBody, "description": "a store (the database, the vector index) is unreachable"},
    504: {"model": ErrorBody, "description": "request timeout"},
}


class ApiState:
    """What every request shares: built once in the lifespan."""

    def __init__(self, settings: Settings, pipeline: Pipeline) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.verifier = TokenVerifier(settings)
        self.limiter = RateLimiter(settings.api_rate_limit_per_minute)
        self.metrics = Metrics()


# --------------------------------------------------------------------------- dependencies
def state(request: Request) -> ApiState:
    st: ApiState = request.app.state.api
    return st


def principal(request: Request, st: Annotated[ApiState, Depends(state)]) -> Principal:
    who = st.verifier.verify(request.headers.get("authorization"))
    st.limiter.check(who.user_id)
    return who


def clinical_grant(who: Annotated[Principal, Depends(principal)]) -> Grant:
    grant = who.scopes.grant()
    if grant is None:
        raise insufficient_scope(CLINICAL_SCOPE_EXAMPLE)
    return grant


def audit_reader(
    st: Annotated[ApiState, Depends(state)], who: Annotated[Principal, Depends(principal)]
) -> str:
    if not who.scopes.may_read_audit:
        raise insufficient_scope(AUDIT_SCOPE)
    try:
        with Session(st.pipeline.stores.engine) as session:
            require_role(session, who.user_id, AUDIT_READER_ROLES)
    except RoleDenied:
        raise role_refused(AUDIT_READER_ROLES) from None
    except AccessDenied:  # an unknown user: the one body every denial shares
        raise access_denied() from None
    except Exception as exc:  # the database down: 503 naming it, like every route
        if (down := store_down(st.settings, exc)) is None:
            raise
        raise down from None
    return who.user_id


# Blocking work is handed to a thread at once, so a request that times out still runs to its end and
# leaves its audit record: a pool whose hand-off can be cancelled (anyio's, while it waits for a
# worker) could drop a timed-out request before it ran at all.
_WORKERS = ThreadPoolExecutor(max_workers=40, thread_name_prefix="carecite-api")


async def run(st: ApiState, fn: Callable[..., T], *args: Any) -> T:
    """Blocking work in the thread pool, under the request timeout; access and input errors mapped."""
    work = asyncio.get_running_loop().run_in_executor(
        _WORKERS, partial(contextvars.copy_context().run, fn, *args)
    )
    try:
        return await asyncio.wait_for(asyncio.shield(work), st.settings.api_request_timeout_s)
    except TimeoutError:
        raise ApiError(
            504, "timeout", f"the request took over {st.settings.api_request_timeout_s:g} s"
        ) from None
    except AccessDenied:
        raise access_denied() from None
    except BadInput as exc:
        raise ApiError(400, "bad_request", str(exc)) from None
    except Exception as exc:  # a shared store down mid-request: 503, retryable, not a 500
        if (down := store_down(st.settings, exc)) is None:
            raise
        raise down from None


def store_down(settings: Settings, exc: BaseException) -> ApiError | None:
    """503 ``not_ready`` naming the store and its kind of server (never its address) when ``exc``
    says a store cannot be reached; None for anything else."""
    from carecite.store_errors import server_kind, store_unavailable

    if (store := store_unavailable(exc)) is None:
        return None
    kind = server_kind(store, settings)
    named = f"{store} ({kind})" if kind else store
    return ApiError(503, "not_ready", f"{named} is unreachable; try again shortly", {"Retry-After": "5"})


class PrivilegedRoleError(RuntimeError):
    """The API's database role is not bound by row-level security."""


def refuse_privileged_role(settings: Settings, engine: Engine) -> None:
    """The API serves only as a role row-level security binds: not a superuser, not BYPASSRLS, not
    the tables' owner (docs/security.md). ``CARECITE_DB_ALLOW_PRIVILEGED_ROLE`` is for benchmarks and
    fault tests on a throwaway database, never for serving PHI."""
    from carecite.records.postgres import role_problems

    problems = role_problems(engine)
    if problems and not settings.db_allow_privileged_role:
        raise PrivilegedRoleError(
            "refusing to serve: "
            + "; ".join(problems)
            + ". Row-level security would not bind it. Serve as the application role "
            "(`carecite db migrate --app-role ROLE`, then CARECITE_DATABASE_URL with that role)."
        )


Who = Annotated[Principal, Depends(principal)]
Clinical = Annotated[Grant, Depends(clinical_grant)]
State = Annotated[ApiState, Depends(state)]


def create_app(settings: Settings, *, pipeline: Pipeline | None = None) -> FastAPI:
    """The ASGI app. ``pipeline``: an already built one (tests, benchmarks); default: built at startup."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        built = pipeline
        if built is None:
            from carecite.privacy.log_redaction import configure_logging
            from carecite.stores import Stores
            from carecite.wiring import build_pipeline

            stores = Stores(settings)
            await run_in_threadpool(refuse_privileged_role, settings, stores.engine)
            built = await run_in_threadpool(partial(build_pipeline, settings, stores=stores))
            configure_logging(built.redactor)  # whatever the API logs passes PHI redaction first
            await run_in_threadpool(_warm_up, built)
        else:
            await run_in_threadpool(refuse_privileged_role, settings, built.stores.engine)
        app.state.api = ApiState(settings, built)
        # uvicorn's access log names the route, never the ids in the URL (patients, sources, refs)
        access_paths = AccessLogPaths(app)
        access_log = logging.getLogger("uvicorn.access")
        access_log.addFilter(access_paths)
        try:
            yield
        finally:
            access_log.removeFilter(access_paths)

    # /docs and /redoc with Swagger UI and ReDoc from the fastapi-offline wheel, served by the app
    # itself (FastAPI's defaults load them from a CDN: blank pages offline).
    app = FastAPIOffline(
        title="carecite",
        version="1",
        summary="Cited answers and retrieval about one patient, with access decided before retrieval.",
        lifespan=lifespan,
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.api_max_body_bytes)
    _install_error_handlers(app, settings)
    _install_metrics_middleware(app)
    app.add_middleware(HeaderSizeLimit, max_bytes=settings.api_max_header_bytes)  # outermost

    # ------------------------------------------------------------------ answering and retrieval
    @app.post(
        "/v1/ask",
        response_model=Answer,
        responses={**_AUTH_ERRORS, 400: {"model": ErrorBody}, 200: {"content": {"text/event-stream": {}}}},
        tags=["answers"],
    )
    async def ask(body: AskBody, request: Request, st: State, who: Who, grant: Clinical) -> Response:
        """The `ask --json` contract. With `Accept: text/event-stream` the answer comes as server-sent
        events (`answer`, then `done`); the offline answerer returns at once."""
        answer = await run(st, st.pipeline.ask, body.to_request(who.user_id, grant))
        st.metrics.observe_answer(answer)
        if answer.decline_reason == "access_denied":
            raise _denied_with_id(answer.request_id)
        if "text/event-stream" in request.headers.get("accept", ""):
            return StreamingResponse(_sse(answer), media_type="text/event-stream")
        return JSONResponse(answer.model_dump(mode="json"))

    @app.post(
        "/v1/search",
        response_model=SearchResult,
        responses={**_AUTH_ERRORS, 400: {"model": ErrorBody}},
        tags=["answers"],
    )
    async def search(body: AskBody, st: State, who: Who, grant: Clinical) -> SearchResult:
        """Retrieval only: the guarded, re-ranked passages and records with citations, under the same
        filters as an ask. Audited (kind `search`)."""
        result = await run(st, st.pipeline.search, body.to_request(who.user_id, grant))
        st.metrics.observe_search(result)
        if result.decline_reason == "access_denied":
            raise _denied_with_id(result.request_id)
        return result

    @app.get(
        "/v1/patients/{patient_id}/similar",
        response_model=SimilarResult,
        responses=_AUTH_ERRORS,
        tags=["answers"],
    )
    async def similar(
        st: State,
        who: Who,
        grant: Clinical,
        patient_id: Annotated[str, Path(description="FHIR Patient id the anchor belongs to.")],
        kind: Annotated[SimilarKind, Query(description="encounter | condition | note")],
        ref: Annotated[
            str, Query(description="The anchor: Encounter/<id>, Condition/<id> or DocumentReference/<id>.")
        ],
        k: Annotated[int, Query(ge=1, le=50)] = 10,
    ) -> SimilarResult:
        """The encounters, problems or notes most similar to `ref`, among the patients the caller may see."""

        def work() -> SimilarResult:
            p = st.pipeline
            return find_similar(
                p.stores, p.audit, who.user_id, storable(patient_id), kind, storable(ref), k, grant=grant
            )

        return await run(st, work)

    @app.get(
        "/v1/sources/{source_id:path}", response_model=SourceView, responses=_AUTH_ERRORS, tags=["sources"]
    )
    async def source(
        st: State,
        who: Who,
        grant: Clinical,
        source_id: Annotated[str, Path(description="A source id or ref; percent-encode '#' as %23.")],
        cited_by: Annotated[
            str | None, Query(description="Reviewers: the audited request that cited this source.")
        ] = None,
    ) -> SourceView:
        """Open a source the caller may see (a note chunk, a note, a record, a policy). Audited."""

        def work() -> SourceView:
            p = st.pipeline
            with Session(p.stores.engine) as session:
                return open_source(
                    session,
                    p.audit,
                    who.user_id,
                    storable(source_id),  # cleaned: an id no store can hold is an unknown id
                    grant=grant,
                    cited_by=storable_or_none(cited_by),
                )

        return await run(st, work)

    # ------------------------------------------------------------------ audit (reviewers and admins)
    @app.get("/v1/audit", response_model=list[AuditEntry], responses=_AUTH_ERRORS, tags=["audit"])
    async def audit_list(
        st: State,
        _reader: Annotated[str, Depends(audit_reader)],
        kind: Annotated[Literal[AUDIT_KINDS] | None, Query()] = None,  # type: ignore[valid-type]
        user: Annotated[str | None, Query(description="Only this user's records.")] = None,
        request_id: Annotated[str | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[AuditEntry]:
        """Audit records, newest first (question and answer text is stored redacted)."""
        return await run(
            st,
            lambda: st.pipeline.audit.records(
                kind=kind,
                user_id=storable_or_none(user),
                request_id=storable_or_none(request_id),
                limit=limit,
            ),
        )

    @app.get("/v1/audit/verify", response_model=VerifyResult, responses=_AUTH_ERRORS, tags=["audit"])
    async def audit_verify(st: State, _reader: Annotated[str, Depends(audit_reader)]) -> VerifyResult:
        """Walk the hash chain; `ok` false names the first bad record."""
        return await run(st, st.pipeline.audit.verify)

    # ------------------------------------------------------------------ operations
    @app.get("/healthz", response_model=Health, tags=["operations"])
    async def healthz() -> Health:
        """The process is up."""
        return Health()

    @app.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}}, tags=["operations"])
    async def readyz(st: State) -> JSONResponse:
        """Stores reachable and models loaded."""
        checks = await run_in_threadpool(_readiness, st.pipeline)
        ready = all(v is True or isinstance(v, int) for v in checks.values())
        return JSONResponse(
            Readiness(ready=ready, checks=checks).model_dump(), status_code=200 if ready else 503
        )

    @app.get("/metrics", response_class=Response, tags=["operations"])
    async def metrics(st: State) -> Response:
        """Prometheus text: requests, latency per route and stage, declines by reason, tokens, cost."""
        return Response(st.metrics.render(), media_type="text/plain; version=0.0.4")

    @app.get("/.well-known/jwks.json", tags=["operations"])
    async def jwks(st: State) -> JSONResponse:
        """The dev JWKS tokens from `carecite token mint` are checked against (when no JWKS is configured)."""
        if st.settings.api_jwks:
            raise ApiError(404, "not_found", "this server uses an external JWKS")
        from carecite.api.auth import dev_jwks_path

        return JSONResponse(json.loads(dev_jwks_path(st.settings).read_text()))

    return app


# --------------------------------------------------------------------------- helpers
def _denied_with_id(request_id: str) -> ApiError:
    err = access_denied()
    err.headers["X-Request-ID"] = request_id  # the audit record; the body stays identical
    return err


def _sse(answer: Answer) -> Iterator[str]:
    yield f"event: answer\ndata: {answer.model_dump_json()}\n\n"
    yield "event: done\ndata: {}\n\n"


def _warm_up(pipeline: Pipeline) -> None:
    """Load the models now, not on the first request."""
    pipeline.stores.embedder.embed_query("warm up")
    pipeline.redactor.redact("warm up")


def _readiness(pipeline: Pipeline) -> dict[str, Any]:
    checks: dict[str, Any] = {}
    stores = pipeline.stores
    probes: dict[str, Callable[[], object]] = {
        "sql": lambda: _sql_ok(pipeline),
        "vector_chunks": lambda: stores.vectors.count(),
        "lexical_chunks": lambda: stores.lexical.count(),
        "embedder": lambda: len(stores.embedder.embed_query("ready")) > 0,
    }
    for name, probe in probes.items():
        try:
            checks[name] = probe()
        except Exception as exc:  # a store that is down: say which, not a traceback
            checks[name] = f"unavailable: {type(exc).__name__}"
    return checks


def _sql_ok(pipeline: Pipeline) -> bool:
    with pipeline.stores.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return True


def _install_error_handlers(app: FastAPI, settings: Settings) -> None:
    def render(err: ApiError) -> JSONResponse:
        return JSONResponse(err.body(), status_code=err.status, headers=err.headers)

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return render(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        # Where and what, never the submitted value (it may be a question full of PHI).
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in exc.errors()
        )
        return render(ApiError(422, "validation_error", problems or "the request does not match the schema"))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = STATUS_CODES.get(exc.status_code, "bad_request" if exc.status_code < 500 else "internal_error")
        return render(ApiError(exc.status_code, code, str(exc.detail), dict(exc.headers or {})))

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        # A store fault that escaped a route's own mapping is still a 503 naming the store.
        api: ApiState | None = getattr(request.app.state, "api", None)
        if (down := store_down(api.settings if api else settings, exc)) is not None:
            return render(down)
        return render(ApiError(500, "internal_error", f"internal error ({type(exc).__name__})"))

    _ = ErrorDetail  # documented in the schema through ErrorBody


def _install_metrics_middleware(app: FastAPI) -> None:
    @app.middleware("http")
    async def count(request: Request, call_next: Callable[[Request], Any]) -> Response:
        t0 = time.perf_counter()
        response: Response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        api: ApiState | None = getattr(request.app.state, "api", None)
        if api is not None:
            api.metrics.requests.labels(path, request.method, str(response.status_code)).inc()
            api.metrics.latency.labels(path).observe(time.perf_counter() - t0)
        return response
