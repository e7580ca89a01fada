"""Anchoring the audit chain outside the database (issue 28).

The hash chain proves the trail is internally consistent, but its hash is unkeyed: whoever holds the
database can delete the last records and rewind the head, or forge a record and recompute every
later hash, and ``verify()`` still passes. An anchor is a signed checkpoint of the head kept
elsewhere: ``carecite audit anchor`` appends ``{seq, hash, ts, mac}`` to an anchors file, where
``mac`` = HMAC-SHA256 over the checkpoint with a key read from a file (``CARECITE_AUDIT_ANCHOR_KEY_FILE``)
that is not in the database. ``verify_against_anchor`` then requires the chain to verify AND the
record at the anchored seq to still exist with the anchored hash: a truncation below the anchor, or
any rewrite of a record at or before it (which changes the anchored record's hash, because each hash
covers its predecessor's), is detected. Records appended after the last anchor are protected only
by the chain itself until the next anchor: run ``audit anchor`` on a schedule.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from carecite.audit.log import AuditLog, VerifyResult
from carecite.records.tables import AuditRecord


class AnchorError(ValueError):
    """The anchors file is missing, empty, malformed or not signed with this key."""


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    ts: str
    mac: str

    def message(self) -> bytes:
        return f"carecite-audit-anchor:{self.seq}:{self.hash}:{self.ts}".encode()


def load_or_create_key(path: Path) -> bytes:
    """The anchor key (hex, mode 0600); created on first use. Keep it off the database host."""
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key.hex() + "\n")
    return key


def _mac(key: bytes, anchor: Anchor) -> str:
    return hmac.new(key, anchor.message(), hashlib.sha256).hexdigest()


def write_anchor(log: AuditLog, key: bytes, anchors: Path) -> Anchor:
    """Checkpoint the current head into ``anchors`` (one JSON line appended). Refuses a broken chain."""
    result = log.verify()
    if not result.ok:
        raise AnchorError(f"the chain does not verify ({result.problem}); not anchoring it")
    ts = datetime.now(UTC).isoformat(timespec="seconds")
    unsigned = Anchor(seq=result.checked, hash=result.head_hash, ts=ts, mac="")
    anchor = Anchor(seq=unsigned.seq, hash=unsigned.hash, ts=ts, mac=_mac(key, unsigned))
    anchors.parent.mkdir(parents=True, exist_ok=True)
    with anchors.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(anchor.__dict__, sort_keys=True) + "\n")
    return anchor


def last_anchor(key: bytes, anchors: Path) -> Anchor:
    try:
        lines = [line for line in anchors.read_text(encoding="utf-8").splitlines() if line.strip()]
        anchor = Anchor(**json.loads(lines[-1]))
    except (OSError, IndexError, ValueError, TypeError) as exc:
        raise AnchorError(f"no readable anchor in {anchors} ({type(exc).__name__})") from None
    if not hmac.compare_digest(_mac(key, anchor), anchor.mac):
        raise AnchorError(f"the last anchor in {anchors} is not signed with this key (forged or wrong key)")
    return anchor


def verify_against_anchor(log: AuditLog, engine: sa.Engine, key: bytes, anchors: Path) -> VerifyResult:
    """The chain verifies and still holds the last anchored record unchanged."""
    result = log.verify()
    if not result.ok:
        return result
    anchor = last_anchor(key, anchors)
    table = AuditRecord.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        stored = conn.execute(sa.select(table.c.hash).where(table.c.seq == anchor.seq)).scalar()
    if stored is None or result.checked < anchor.seq:
        problem = (
            f"records truncated since the anchor of {anchor.ts}: it names seq {anchor.seq}, "
            f"the chain ends at seq {result.checked}"
        )
    elif stored != anchor.hash:
        problem = (
            f"records rewritten since the anchor of {anchor.ts}: seq {anchor.seq} no longer has its hash"
        )
    else:
        return result
    return VerifyResult(
        ok=False,
        checked=result.checked,
        first_bad_seq=anchor.seq,
        problem=problem,
        head_hash=result.head_hash,
    )
