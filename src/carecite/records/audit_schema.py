"""The audit tables' schema rules, installed with the schema by ``make_engine``: the append-only
triggers (SQLite) and the chain head's genesis row. The trail itself (hashing, appending,
verifying) is ``carecite.audit.log``; this module only makes the tables refuse edits."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from carecite.records.tables import AuditChainHead, AuditRecord

GENESIS_HASH = "0" * 64  # the prev_hash of the first record

_SQLITE_TRIGGERS = (
    """CREATE TRIGGER IF NOT EXISTS auditrecord_no_update BEFORE UPDATE ON auditrecord
       BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS auditrecord_no_delete BEFORE DELETE ON auditrecord
       BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS auditchainhead_no_delete BEFORE DELETE ON auditchainhead
       BEGIN SELECT RAISE(ABORT, 'the audit chain head cannot be deleted'); END""",
    """CREATE TRIGGER IF NOT EXISTS auditchainhead_no_rewind BEFORE UPDATE ON auditchainhead
       WHEN NEW.seq < OLD.seq
       BEGIN SELECT RAISE(ABORT, 'the audit chain head cannot move backwards'); END""",
)


def install_audit_protection(engine: Engine) -> None:
    """Create the chain-head row and, on SQLite, the triggers that make the trail append-only.

    Idempotent and safe to run from several processes at once (called by ``make_engine``).
    """
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            for ddl in _SQLITE_TRIGGERS:
                conn.exec_driver_sql(ddl)
    try:
        with engine.begin() as conn:
            exists = conn.execute(sa.select(col(AuditChainHead.id)).where(col(AuditChainHead.id) == 1))
            if exists.first() is None and last_record(conn) is None:
                conn.execute(sa.insert(AuditChainHead).values(id=1, seq=0, hash=GENESIS_HASH))
    except IntegrityError:
        pass  # another process created it first


def last_record(conn: Connection) -> tuple[int, str] | None:
    row = conn.execute(
        sa.select(col(AuditRecord.seq), col(AuditRecord.hash)).order_by(col(AuditRecord.seq).desc()).limit(1)
    ).first()
    return (int(row[0]), str(row[1])) if row else None
