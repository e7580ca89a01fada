"""Every error the API returns: JSON ``{"error": {"code", "message"}}`` with a stable ``code``.

Codes are a contract (docs/api.md); messages are words for people and may change.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel

from carecite.domain import DECLINE_WORDS

ErrorCode = Literal[
    "unauthorized",  # 401: missing, malformed, expired, not-yet-valid token; wrong issuer / audience / key
    "insufficient_scope",  # 403: a valid token whose scopes do not allow this endpoint
    "access_denied",  # 403: the user may not do this; unknown and out-of-scope patients alike
    "bad_request",  # 400: the request is well-formed JSON but says something impossible
    "validation_error",  # 422: the body or query does not match the schema
    "not_found",  # 404: no such route
    "method_not_allowed",  # 405
    "payload_too_large",  # 413: body over CARECITE_API_MAX_BODY_BYTES
    "headers_too_large",  # 431: headers over CARECITE_API_MAX_HEADER_BYTES together
    "rate_limited",  # 429: over CARECITE_API_RATE_LIMIT_PER_MINUTE for this user; see Retry-After
    "timeout",  # 504: the request took longer than CARECITE_API_REQUEST_TIMEOUT_S
    "not_ready",  # 503: stores or models not available
    "internal_error",  # 500: a bug; the message never carries request content
]

# One body for every access denial about a patient or a source: it never says whether it exists.
ACCESS_DENIED_MESSAGE = DECLINE_WORDS["access_denied"]


class ErrorDetail(BaseModel):
    code: ErrorCode
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class ApiError(Exception):
    """Raised anywhere in a request; rendered by the app's exception handler."""

    def __init__(
        self, status: int, code: ErrorCode, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code: ErrorCode = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, object]:
        return ErrorBody(error=ErrorDetail(code=self.code, message=self.message)).model_dump()


def unauthorized(description: str) -> ApiError:
    # RFC 6750 §3: the challenge names the problem; the description is words, never token content.
    challenge = f'Bearer realm="carecite", error="invalid_token", error_description="{description}"'
    return ApiError(401, "unauthorized", description, {"WWW-Authenticate": challenge})


def missing_token() -> ApiError:
    return ApiError(
        401, "unauthorized", "a bearer token is required", {"WWW-Authenticate": 'Bearer realm="carecite"'}
    )


def insufficient_scope(needed: str) -> ApiError:
    challenge = f'Bearer realm="carecite", error="insufficient_scope", scope="{needed}"'
    return ApiError(
        403,
        "insufficient_scope",
        f"the token's scopes do not allow this; it needs {needed}",
        {"WWW-Authenticate": challenge},
    )


def access_denied() -> ApiError:
    return ApiError(403, "access_denied", ACCESS_DENIED_MESSAGE)


# Which error each HTTP status maps to when Starlette raises it (unknown route, wrong method...).
STATUS_CODES: dict[int, ErrorCode] = {
    400: "bad_request",
    401: "unauthorized",
    403: "access_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    431: "headers_too_large",
    422: "validation_error",
    429: "rate_limited",
    503: "not_ready",
    504: "timeout",
}


def role_refused(roles: Iterable[str]) -> ApiError:
    """A known user whose role may not use the endpoint: said as a role refusal, naming the roles
    that may, and nothing about any patient (the generic denial reads as if a patient were meant)."""
    return ApiError(
        403, "access_denied", f"Your role may not do this; it needs the role {' or '.join(sorted(roles))}."
    )
