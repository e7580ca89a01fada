"""The database session: SQLite in the data dir by default, any SQLAlchemy URL via CARECITE_DATABASE_URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, event
from sqlmodel import Session, SQLModel, create_engine

from carecite.records import tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from carecite.records.audit_schema import install_audit_protection


def make_engine(url: str, scope_key: bytes | None = None) -> Engine:
    """An engine for ``url``; on PostgreSQL migrated, with ``scope_key`` signing its sessions'
    row scope (records/postgres.py: the application role cannot read the key from the database)."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            # WAL lets the UI read while an ingest writes; busy_timeout serialises concurrent writers.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()
    else:
        engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "postgresql":
        from carecite.records.postgres import migrate, register_scope_key  # schema, RLS, triggers

        register_scope_key(engine, scope_key)
        migrate(engine)
    else:
        SQLModel.metadata.create_all(engine)
        from carecite.records.directory import create_views  # PostgreSQL: migration step 3

        with engine.begin() as conn:
            create_views(conn)
    install_audit_protection(engine)  # the audit tables refuse UPDATE/DELETE from the start
    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
