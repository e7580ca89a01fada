"""carecite.audit: the append-only, hash-chained audit trail."""

from carecite.audit.log import (
    AUDIT_KINDS,
    AuditChainError,
    AuditEntry,
    AuditEvent,
    AuditLog,
    RequestMetrics,
    VerifyResult,
    record_hash,
)
from carecite.records.audit_schema import GENESIS_HASH, install_audit_protection

__all__ = [
    "AUDIT_KINDS",
    "GENESIS_HASH",
    "AuditChainError",
    "AuditEntry",
    "AuditEvent",
    "AuditLog",
    "RequestMetrics",
    "VerifyResult",
    "install_audit_protection",
    "record_hash",
]
