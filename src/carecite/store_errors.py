"""Telling "a store is down" apart from a bug, so callers can say so in words (the API: 503 with
Retry-After; the CLI: a clear message) instead of a 500 or a traceback.

A shared store (PostgreSQL, a Chroma server) can vanish mid-request: the driver raises its own
connection error, sometimes wrapped by SQLAlchemy or Chroma. We walk the exception's cause chain
and name the store; anything else is not ours to reinterpret.
"""

from __future__ import annotations

import httpx
import sqlalchemy.exc as sa_exc

_CHROMA_DOWN = "Could not connect to a Chroma server"


def store_unavailable(exc: BaseException) -> str | None:
    """ "the database" or "the vector index" when ``exc`` (or what caused it) says that store cannot
    be reached; None otherwise."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.DisconnectionError):
            return "the database"
        if type(current).__module__.startswith("psycopg") and type(current).__name__ in (
            "OperationalError",
            "InterfaceError",
        ):
            return "the database"
        if isinstance(current, httpx.TransportError) or _CHROMA_DOWN in str(current):
            return "the vector index"
        if isinstance(current, ConnectionError):
            return "a store"
        current = current.__cause__ or current.__context__
    return None
