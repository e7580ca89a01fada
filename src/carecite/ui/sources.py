"""The sources beside an answer: one card per citation, the uncited retrieved sources, the footer.
Only sources the answer returned are looked up (the pipeline already applied access)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, select

from carecite.domain import Answer, Citation, RetrievedRef
from carecite.records import tables as t
from carecite.text.dates import display_date, display_datetime
from carecite.text.repair import repair_text
from carecite.ui.declines import RETRIEVER_WORDS
from carecite.ui.html import merge_spans

_DATE_FIELDS = (
    "date", "due", "start", "authored_on", "effective", "onset", "recorded", "occurrence",
    "performed", "period_start", "scheduled",
)  # fmt: skip


@dataclass(frozen=True)
class SourceCard:
    marker: str
    source_id: str
    kind: str  # "Clinical note" | "Record" | "Coverage policy"
    resource_type: str
    fhir_ref: str
    when: str
    author: str
    note_type: str
    text: str
    spans: list[tuple[int, int]]
    # whole-note view (note chunks only): the note text and the spans shifted into it
    note_text: str | None = None
    note_spans: list[tuple[int, int]] = field(default_factory=list)


def _when(value: object) -> str:
    if isinstance(value, datetime):
        return display_datetime(value)
    if isinstance(value, date):
        return display_date(value)
    return ""


def citation_spans(c: Citation) -> list[tuple[int, int]]:
    """The cited spans as offsets into ``c.text`` (``span``/``spans`` are the document's offsets)."""
    local = c.text_spans or ((c.text_span,) if c.text_span else (c.spans or (c.span,)))
    return merge_spans(local, len(c.text))


def source_card(session: Session, c: Citation) -> SourceCard:
    """Everything shown for one cited source. Looks up display metadata only for the source the
    answer returned (the pipeline already applied access), never anything else."""
    spans = citation_spans(c)
    resource_type = c.source_ref.split("/", 1)[0]
    base: dict[str, Any] = {
        "marker": c.marker,
        "source_id": c.source_id,
        "resource_type": resource_type,
        "fhir_ref": c.source_ref,
        "when": "",
        "author": "",
        "note_type": "",
        "text": c.text,
        "spans": spans,
    }
    if c.source_type == "note_chunk":
        chunk = session.get(t.ChunkRow, c.source_id)
        note = session.get(t.Note, chunk.doc_id) if chunk is not None else None
        base["kind"] = "Clinical note"
        if note is not None and chunk is not None:
            base.update(
                when=_when(note.date),
                author=", ".join(x for x in (note.author, note.author_role) if x),
                note_type=note.note_type or "",
            )
            if note.text[chunk.start : chunk.end] == chunk.text:  # offsets still valid for this note text
                base["note_text"] = note.text
                base["note_spans"] = [(chunk.start + s, chunk.start + e) for s, e in spans]
        return SourceCard(**base)
    if c.source_type == "policy":
        policy = session.get(t.Policy, c.source_ref) or session.get(t.Policy, c.source_id)
        base.update(kind="Coverage policy", note_type=(policy.title if policy else ""))
        if policy is not None and policy.effective:
            base["when"] = policy.effective.isoformat()
        return SourceCard(**base)
    base["kind"] = "Record"
    table = t.record_table(c.source_ref)
    row = session.get(table, c.source_ref) if table is not None else None
    if row is not None:
        # A Task's code is often only the workflow verb (task-code "fulfill": "Fulfill the focal
        # request"); its description says what the task is, as the statement does.
        base["note_type"] = getattr(row, "description", None) or row.display or resource_type
        base["when"] = next((_when(getattr(row, f)) for f in _DATE_FIELDS if getattr(row, f, None)), "")
    return SourceCard(**base)


def record_table_row(card: SourceCard) -> dict[str, str]:
    """A structured source as one table row (table cells are plain text: repaired, never escaped)."""
    return {
        "source": card.marker,
        "resource": card.resource_type,
        "what": repair_text(card.note_type),
        "date": card.when,
        "statement": repair_text(card.text),
        "FHIR ref": card.fhir_ref,
    }


def uncited_rows(answer: Answer) -> list[dict[str, object]]:
    """Sources retrieved but not cited, one row per document ("why was this retrieved"): a note's
    passages are grouped under the note, and a document the answer cites is left out (its other
    passages are the same document, already shown beside the answer). Best score first."""
    cited_docs = {c.source_ref for c in answer.citations}
    groups: dict[str, list[RetrievedRef]] = {}
    for r in answer.retrieved:
        if r.source_ref not in cited_docs:
            groups.setdefault(r.source_ref, []).append(r)
    rows: list[dict[str, object]] = []
    for ref, refs in sorted(groups.items(), key=lambda kv: -max(r.score for r in kv[1])):
        retrievers = sorted({r.retriever for r in refs})
        rows.append(
            {
                "document": repair_text(ref),
                "passages": len({r.source_id for r in refs}),
                "found by": ", ".join(retrievers),
                "why": "; ".join(RETRIEVER_WORDS.get(x, x) for x in retrievers),
                "best score": round(max(r.score for r in refs), 3),
            }
        )
    return rows


STAGES: tuple[str, ...] = ("access", "retrieve", "rerank", "generate", "verify")


def footer_text(answer: Answer) -> str:
    """The per-answer footer: latency per stage, tokens and cost, model, request id."""
    stages = " · ".join(f"{s} {answer.timings_ms.get(s, 0.0):.0f} ms" for s in STAGES)
    total = answer.timings_ms.get("total", 0.0)
    u = answer.usage
    return (
        f"{stages} · total {total:.0f} ms | tokens {u.prompt_tokens} in / {u.completion_tokens} out · "
        f"cost {'unknown (no price for this model)' if u.cost_usd is None else f'${u.cost_usd:.4f}'} · "
        f"model {u.model} | request {answer.request_id}"
    )


def note_types(session: Session) -> list[str]:
    """Every note type in the store, for the narrowing filter (type names carry no patient data)."""
    return sorted({x for x in session.exec(select(t.Note.note_type).distinct()) if x})


def record_source(session: Session, ref: str) -> dict[str, Any] | None:
    """A header row's FHIR resource as ingested, for "open as a source". Call it only for a ref the
    header (i.e. the label-filtered retriever) returned."""
    table = t.record_table(ref)
    row = session.get(table, ref) if table is not None else None
    if row is None:
        return None
    try:
        data = json.loads(row.raw or "{}")
    except json.JSONDecodeError:
        data = {}
    return data if isinstance(data, dict) else {}


_SKIPPED_FIELDS = frozenset({"resourceType", "id", "meta", "text", "contained", "extension"})
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
# FHIR's workflow verbs for a Task ("fulfill": "Fulfill the focal request"): they say what kind of
# work-flow step a Task is, never what the task is (its description does), so a reader is not shown them.
_TASK_CODE_SYSTEM = "http://hl7.org/fhir/CodeSystem/task-code"
_FHIR_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?")


def _field_name(key: str) -> str:
    """``authoredOn`` → "authored on", ``valueQuantity`` → "value quantity"."""
    return _CAMEL.sub(" ", key).lower()


def _readable(value: object) -> str:
    """One FHIR element in words: a CodeableConcept by its text or displays, a Reference by its
    display, a Quantity as value and unit, a Period as start – end, lists joined; codes and systems
    that carry no words for a reader are left out."""
    if isinstance(value, dict):
        if isinstance(value.get("text"), str) and value["text"]:
            return str(value["text"])
        if isinstance(value.get("display"), str) and value["display"]:
            return str(value["display"])
        if isinstance(value.get("coding"), list):
            return "; ".join(x for x in (_readable(c) for c in value["coding"]) if x)
        if "value" in value and not isinstance(value["value"], dict | list):
            return " ".join(str(x) for x in (value["value"], value.get("unit") or "") if str(x))
        if "start" in value or "end" in value:
            start, end = (_readable(value.get(k)) for k in ("start", "end"))
            if start and end:
                return f"{start} – {end}"
            return f"from {start}" if start else f"until {end}" if end else ""
        if isinstance(value.get("reference"), str):
            return str(value["reference"])
        parts = [(k, _readable(v)) for k, v in value.items() if k != "system"]
        return "; ".join(f"{_field_name(k)}: {text}" for k, text in parts if text)
    if isinstance(value, list):
        return "; ".join(x for x in (_readable(v) for v in value) if x)
    if isinstance(value, str) and _FHIR_DATETIME.fullmatch(value):
        return display_datetime(datetime.fromisoformat(value.replace("Z", "+00:00")))
    return "" if value is None else str(value)


def _workflow_code(resource: dict[str, Any], key: str) -> bool:
    """A Task's ``code`` that holds only FHIR's workflow verbs (see ``_TASK_CODE_SYSTEM``)."""
    code = resource.get(key)
    if resource.get("resourceType") != "Task" or key != "code" or not isinstance(code, dict):
        return False
    codings = code.get("coding")
    return (
        not code.get("text")
        and isinstance(codings, list)
        and all(isinstance(c, dict) and c.get("system") == _TASK_CODE_SYSTEM for c in codings)
    )


def resource_fields(resource: dict[str, Any]) -> list[dict[str, str]]:
    """A FHIR resource as readable rows (field, value) for opening a header row as a source, in
    the resource's own order; ids, meta, narrative and a Task's workflow verb left out, date-times
    written as carecite writes them (``YYYY-MM-DD HH:MM``)."""
    rows = []
    for key, value in resource.items():
        if key in _SKIPPED_FIELDS or _workflow_code(resource, key):
            continue
        if text := _readable(value):
            rows.append({"field": _field_name(key), "value": repair_text(text)})
    return rows


SUGGESTED_QUESTIONS: tuple[str, ...] = (
    "What follow-up tasks are still outstanding?",
    "Which tasks are overdue?",
    "What referrals are still pending?",
    "What appointments are coming up?",
    "What were the discharge recommendations?",
    "What is actively being worked on in the care plan?",
)
