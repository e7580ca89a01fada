"""The system of record: SQLModel tables and the database session."""

from carecite.records.db import make_engine, session_scope

__all__ = ["make_engine", "session_scope"]
