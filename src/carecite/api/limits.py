"""Request limits: header and body size (ASGI middleware, before any parsing) and a per-user rate
limit."""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carecite.api.errors import ApiError


class HeaderSizeLimit:
    """Reject requests whose headers (names and values, all together) are over ``max_bytes`` with
    431 before anything reads them: a 5 MB ``Authorization`` header never reaches the JWT parser."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = sum(len(name) + len(value) for name, value in scope.get("headers") or [])
            if size > self.max_bytes:
                err = ApiError(
                    431,
                    "headers_too_large",
                    f"the request headers are over {self.max_bytes} bytes together",
                )
                await _send_error(send, err)
                return
        await self.app(scope, receive, send)


async def _send_error(send: Send, err: ApiError) -> None:
    payload = json.dumps(err.body()).encode()
    await send(
        {
            "type": "http.response.start",
            "status": err.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class BodySizeLimit:
    """Reject bodies over ``max_bytes`` with 413 before the app reads them (declared or streamed)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(send)
            return
        # Read the (bounded) body up front, then replay it: a chunked body cannot slip past the limit.
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([], message, receive), send)
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_bytes:
                await self._reject(send)
                return
            chunks.append(body)
            more = bool(message.get("more_body", False))
        await self.app(scope, _replay(chunks, None, receive), send)

    async def _reject(self, send: Send) -> None:
        err = ApiError(413, "payload_too_large", f"the request body is over {self.max_bytes} bytes")
        payload = json.dumps(err.body()).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def _replay(chunks: list[bytes], tail: Message | None, receive: Receive) -> Receive:
    """Hand the app the body read so far, then the real channel (so a disconnect is still seen)."""
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            if tail is not None:
                return tail
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class RateLimiter:
    """A token bucket per user: ``per_minute`` requests, refilled continuously. 0 disables."""

    per_minute: int
    clock: object = field(default=time.monotonic)
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, user_id: str) -> None:
        """Take one request from ``user_id``'s bucket, or raise 429 with Retry-After (seconds)."""
        if self.per_minute <= 0:
            return
        rate = self.per_minute / 60.0
        now = float(self.clock())  # type: ignore[operator]
        with self._lock:
            b = self._buckets.get(user_id)
            if b is None:
                b = self._buckets[user_id] = _Bucket(float(self.per_minute), now)
            b.tokens = min(float(self.per_minute), b.tokens + (now - b.updated) * rate)
            b.updated = now
            if b.tokens >= 1.0:
                b.tokens -= 1.0
                return
            wait = math.ceil((1.0 - b.tokens) / rate)
        raise ApiError(
            429,
            "rate_limited",
            f"over {self.per_minute} requests a minute; retry in {wait} s",
            {"Retry-After": str(wait)},
        )
