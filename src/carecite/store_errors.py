"""Telling "a store is down" apart from a bug, so callers can say so in words (the API: 503 with
Retry-After; the CLI: a clear message) instead of a 500 or a traceback.

A shared store (PostgreSQL, a Chroma server) can vanish mid-request: the driver raises its own
connection error, sometimes wrapped by SQLAlchemy or Chroma. We walk the exception's cause chain
and name the store; anything else is not ours to reinterpret.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import sqlalchemy.exc as sa_exc

if TYPE_CHECKING:
    from carecite.settings import Settings

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


def where(store: str, settings: Settings | None) -> str:
    """Which server ``store`` is, for an operator: PostgreSQL's host and database (never its
    password), the Chroma server's host:port; "" when the settings do not say."""
    if settings is None:
        return ""
    if store == "the database" and settings.database_url:
        from sqlalchemy.engine import make_url

        try:
            url = make_url(settings.database_url)
        except Exception:  # an unparsable URL fails elsewhere, with its own words
            return ""
        host = url.host or str(url.query.get("host", "")) or "localhost"
        return f"PostgreSQL at {host}{':' + str(url.port) if url.port else ''}, database {url.database}"
    if store == "the vector index" and settings.chroma_host:
        return f"the Chroma server at {settings.chroma_host}:{settings.chroma_port}"
    return ""


def server_kind(store: str, settings: Settings | None) -> str:
    """What kind of server ``store`` is, without its address (for API clients): "PostgreSQL", "a
    Chroma server" or ""."""
    if settings is None:
        return ""
    if store == "the database" and (settings.database_url or "").startswith("postgresql"):
        return "PostgreSQL"
    if store == "the vector index":
        if settings.chroma_host:
            return "a Chroma server"
        if settings.vector_store == "pgvector":
            return "PostgreSQL"
    return ""


def store_fault_line(
    exc: BaseException, settings: Settings | None, todo: str, *, address: bool = True
) -> str | None:
    """One line for a person when ``exc`` means a store is unreachable: which store, which server
    (its address for operators; only its kind with ``address=False``), what happened and what to do
    (``todo``); None when ``exc`` is something else."""
    store = store_unavailable(exc)
    if store is None:
        return None
    server = where(store, settings) if address else server_kind(store, settings)
    named = f"{store} ({server})" if server else store
    return f"{named} is unreachable ({type(exc).__name__}): {todo}"
