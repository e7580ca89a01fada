"""The Review page's audit table: one row per audit record (text already redacted)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class ReviewSource:
    """One cited source of an audited answer, under the marker the user saw beside the answer."""

    marker: str
    source_id: str
    spans: list[list[int]]  # the cited spans as recorded: offsets into the whole document (notes, policies)


def review_sources(cited_ids: Sequence[str], details: Mapping[str, Any]) -> list[ReviewSource]:
    """The answer's cited sources with the S-numbers the answer used (``details.citations``), so
    Review's S3 is the Ask page's S3. A record written without markers numbers by position."""
    recorded: dict[str, tuple[str, list[list[int]]]] = {}
    cites = details.get("citations")
    for c in cites if isinstance(cites, list) else []:
        if isinstance(c, dict) and isinstance(c.get("marker"), str):
            spans = c.get("spans")
            recorded.setdefault(
                str(c.get("source_id")), (c["marker"], spans if isinstance(spans, list) else [])
            )
    out: list[ReviewSource] = []
    for i, source_id in enumerate(cited_ids, start=1):
        marker, spans = recorded.get(source_id, (f"S{i}", []))
        out.append(ReviewSource(marker=marker, source_id=source_id, spans=spans))
    return out


def spans_in_shown_text(
    spans: Sequence[Sequence[int]], shown_span: Sequence[int] | None
) -> list[tuple[int, int]]:
    """Recorded document spans as offsets into the text Review shows: a chunk shown from ``shown_span``
    (its place in the document) shifts them; a whole document (``None``) keeps them."""
    start = int(shown_span[0]) if shown_span else 0
    return [(int(s[0]) - start, int(s[1]) - start) for s in spans if len(s) == 2]
