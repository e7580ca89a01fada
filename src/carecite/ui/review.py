"""The Review page's audit table: one row per audit record (text already redacted)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

SECURITY_KINDS = frozenset({"denied", "security_event"})


def audit_row(entry: Any) -> dict[str, object]:
    """One audit record as a table row (``entry`` is an ``audit.AuditEntry``). Text is already redacted."""
    return {
        "time (UTC)": str(entry.ts)[:19].replace("T", " "),
        "kind": entry.kind,
        "user": entry.user_id or "",
        "role": entry.role or "",
        "patient key": entry.patient_key or "",
        "declined": bool(entry.decline_reason),
        "decline reason": entry.decline_reason or "",
        "break-the-glass": bool(entry.break_glass_reason),
        "security event": entry.kind in SECURITY_KINDS,
        "question (redacted)": entry.question or "",
        "request id": entry.request_id,
    }


def record_labels(rows: Sequence[Mapping[str, object]]) -> dict[str, str]:
    """The Record list's label for each row, keyed by request id. Streamlit keeps a selectbox's pick
    as its label, so two labels alike would show one record when the other was picked (two
    coordinators asking the same question in the same second); each label therefore ends with the
    request id, shortened only where the short form is unique."""
    uses = Counter(str(r["request id"])[:8] for r in rows)

    def tail(rid: str) -> str:
        return rid[:8] if uses[rid[:8]] == 1 else rid

    return {
        str(r["request id"]): f"{r['time (UTC)']} · {r['kind']} · {r['user']} · "
        f"{r['question (redacted)']!s:.60} · {tail(str(r['request id']))}"
        for r in rows
    }


def filter_audit_rows(
    rows: Sequence[Mapping[str, object]],
    *,
    declined: bool = False,
    break_glass: bool = False,
    security: bool = False,
) -> list[Mapping[str, object]]:
    """Keep rows matching every ticked flag (no flag ticked: all rows)."""
    return [
        r
        for r in rows
        if (not declined or r["declined"])
        and (not break_glass or r["break-the-glass"])
        and (not security or r["security event"])
    ]
