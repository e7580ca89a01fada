"""What the Streamlit UI (app/) shows, as plain typed functions: no Streamlit import here.

The pages only lay things out; every decision about *what* to show lives here so it is unit-tested:
highlighting (HTML-escaped, always — notes contain "<script>" and prompt-injection bait), declines in
plain words, source cards, the patient header, audit table rows and the Quality page's eval runs.

Two kinds of function: pure ones (text in, text/rows out) and a few read-only queries that take a
``Session`` (source metadata, whole-note text, users). Nothing here decides access: the header uses
the same ``StructuredRetriever`` and ``RetrievalFilter`` the answer does, and sources come only from
what ``Pipeline.ask`` returned.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from carecite.domain import DECLINE_WORDS, AccessScope, Answer, Candidate, Citation, RetrievalFilter, date_int
from carecite.records import tables as t

# --------------------------------------------------------------------------- escaping and highlighting
# Beyond html.escape: characters Streamlit's Markdown would otherwise interpret ($ math, :emoji:,
# [links], *emphasis*, `code`, ~strike~, # headings, <> handled by html.escape). Numeric entities are
# always literal text to a Markdown parser, so escaped text renders exactly as the source says.
_MD_ESCAPES = str.maketrans({c: f"&#{ord(c)};" for c in "$:[]*_`~#|\\{}!"})
MARK_STYLE = "background:#ffe066;color:inherit;padding:0 1px;border-radius:2px"


def escape_text(text: str) -> str:
    """Text safe to embed in ``st.markdown(unsafe_allow_html=True)``: no tag, no Markdown, newlines kept."""
    return html.escape(text, quote=True).translate(_MD_ESCAPES).replace("\n", "<br>")


def merge_spans(spans: Iterable[Sequence[int]], length: int) -> list[tuple[int, int]]:
    """Clamp spans to ``[0, length]``, drop empty ones, merge overlapping or touching ones, sort."""
    clean = sorted(
        (max(0, int(s[0])), min(length, int(s[1]))) for s in spans if len(s) == 2 and int(s[1]) > int(s[0])
    )
    out: list[tuple[int, int]] = []
    for start, end in clean:
        if start >= end:
            continue
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def highlight_html(text: str, spans: Iterable[Sequence[int]], *, mark_id: str | None = None) -> str:
    """``text`` escaped, each span wrapped in ``<mark>``. Offsets index the raw text (escaping happens
    per segment, after slicing, so entities never shift a span). The first mark gets ``mark_id``."""
    parts: list[str] = []
    pos = 0
    for i, (start, end) in enumerate(merge_spans(spans, len(text))):
        parts.append(escape_text(text[pos:start]))
        ident = f' id="{html.escape(mark_id)}"' if mark_id and i == 0 else ""
        parts.append(
            f'<mark class="cc-cited"{ident} style="{MARK_STYLE}">{escape_text(text[start:end])}</mark>'
        )
        pos = end
    parts.append(escape_text(text[pos:]))
    return "".join(parts)


def source_box_html(text: str, spans: Iterable[Sequence[int]], *, max_height: int = 260) -> str:
    """A bordered, scrollable box with the highlighted text, one HTML block (no blank lines)."""
    return (
        f'<div class="cc-source" style="border:1px solid rgba(128,128,128,.35);border-radius:6px;'
        f'padding:.5rem .75rem;max-height:{max_height}px;overflow-y:auto;font-size:.9rem;line-height:1.45">'
        f"{highlight_html(text, spans)}</div>"
    )


# The only script the UI ever runs: scroll the note's own box (not the page) so the first mark is in
# view, once the box has a size (expanders lay their content out only when opened).
_SCROLL_SCRIPT = (
    "<script>(function(){var box=document.getElementById('note');"
    "function go(){var m=document.getElementById('cited');if(!m||!box.clientHeight)return false;"
    "box.scrollTop=Math.max(0,m.offsetTop-box.offsetTop-box.clientHeight/3);return true;}"
    "if(!go()){new ResizeObserver(function(_,o){if(go())o.disconnect();}).observe(box);}})();</script>"
)


def whole_note_document(note_text: str, spans: Iterable[Sequence[int]], *, height: int = 320) -> str:
    """A complete HTML document for ``st.iframe``: the whole note, cited spans highlighted, scrolled to
    the first one. The note text is escaped exactly as for Markdown; the script is a constant."""
    body = highlight_html(note_text, spans, mark_id="cited")
    return (
        '<!doctype html><html><head><meta charset="utf-8"><style>'
        "body{margin:0;font-family:'Source Sans Pro',sans-serif;font-size:14px;color:#31333f}"
        f"#note{{height:{height - 16}px;overflow-y:auto;padding:4px 8px;line-height:1.45}}"
        "</style></head><body>"
        f'<div id="note">{body}</div>{_SCROLL_SCRIPT}</body></html>'
    )


_MARKER = re.compile(r"\[(S\d+)\]")
CHIP_STYLE = (
    "display:inline-block;background:#e8f0fe;color:#1a4fa0;border-radius:10px;padding:0 6px;"
    "font-size:.8em;font-weight:600;margin:0 1px"
)


def answer_with_chips_html(answer_text: str) -> str:
    """The answer escaped, each ``[Sn]`` marker turned into a citation chip (``<span class="cc-chip">``)."""
    out: list[str] = []
    pos = 0
    for m in _MARKER.finditer(answer_text):
        out.append(escape_text(answer_text[pos : m.start()]))
        out.append(f'<span class="cc-chip" style="{CHIP_STYLE}">{m.group(1)}</span>')
        pos = m.end()
    out.append(escape_text(answer_text[pos:]))
    return f'<div class="cc-answer" style="font-size:1.05rem;line-height:1.6">{"".join(out)}</div>'


# --------------------------------------------------------------------------- declines in plain words
DECLINE_HEADLINES: dict[str, str] = dict(DECLINE_WORDS)  # one wording, kept in domain.py
RETRIEVER_WORDS: dict[str, str] = {
    "dense": "meaning search over notes",
    "lexical": "keyword search over notes",
    "structured": "structured record (tasks, referrals, appointments, labs, medications)",
}


@dataclass(frozen=True)
class DeclineView:
    headline: str
    detail: str | None
    searched: list[str]  # what was searched, in plain words


def decline_view(answer: Answer, *, filters: Sequence[str] = ()) -> DeclineView:
    """A decline, said plainly: why, and what was searched (never an empty answer box)."""
    reason = answer.decline_reason or "no_evidence"
    headline = DECLINE_HEADLINES.get(reason, "No answer was given.")
    detail = answer.decline_detail if answer.decline_detail and answer.decline_detail != headline else None
    searched: list[str] = []
    if reason == "access_denied":
        searched.append("Nothing was searched: access is decided before any retrieval.")
    elif reason == "out_of_scope":
        searched.append("Nothing was searched: the question is not about this patient's record.")
    else:
        by_retriever: dict[str, int] = {}
        for r in answer.retrieved:
            by_retriever[r.retriever] = by_retriever.get(r.retriever, 0) + 1
        for name in ("structured", "dense", "lexical"):
            searched.append(f"{RETRIEVER_WORDS[name]}: {by_retriever.get(name, 0)} candidate source(s)")
        if answer.retrieved:
            best = max(answer.retrieved, key=lambda r: r.score)
            searched.append(f"best match: {best.source_ref} (score {best.score:.2f})")
    searched.extend(filters)
    return DeclineView(headline=headline, detail=detail, searched=searched)


def narrowing_words(note_types: Sequence[str], date_from: date | None, date_to: date | None) -> list[str]:
    out: list[str] = []
    if note_types:
        out.append("only note types: " + ", ".join(note_types))
    if date_from or date_to:
        out.append(f"only dates {date_from or 'any'} to {date_to or 'any'}")
    return out


# --------------------------------------------------------------------------- users and access, in words
ROLE_WORDS: dict[str, str] = {
    "care_coordinator": "Care coordinator",
    "nurse": "Nurse",
    "physician": "Physician",
    "reviewer": "Compliance reviewer",
    "admin": "Administrator",
}
LABEL_WORDS: dict[str, str] = {
    "PSY": "psychiatry",
    "ETH": "substance use (42 CFR Part 2)",
    "HIV": "HIV",
    "SDV": "sexual and domestic violence",
    "STD": "sexually transmitted disease",
    "SEX": "sexuality and reproductive health",
    "GDIS": "genetic disease",
    "R": "restricted",
    "V": "very restricted",
}
BREAK_GLASS_ROLE_SET = frozenset({"physician", "nurse"})


def _json_list(value: str) -> list[str]:
    try:
        data = json.loads(value or "[]")
    except json.JSONDecodeError:
        return []
    return [str(x) for x in data] if isinstance(data, list) else []


@dataclass(frozen=True)
class UserCard:
    user_id: str
    name: str
    role: str
    role_words: str
    facilities: list[str]
    may_see: list[str]
    may_break_glass: bool


def user_card(user: t.User, facility_names: Mapping[str, str]) -> UserCard:
    """What the sign-in picker says about a user: role, facilities, and what they may see."""
    facilities = [facility_names.get(f, f) for f in _json_list(user.facilities)]
    labels = [LABEL_WORDS.get(x, x) for x in _json_list(user.sensitive_access)]
    may_see: list[str] = []
    if user.role in ("reviewer", "admin"):
        may_see.append("No patient questions.")
        if user.role == "reviewer":
            may_see.append("Reads the audit trail and re-opens the sources an audited answer cited.")
        else:
            may_see.append("Reads and verifies the audit trail (redacted text only).")
    else:
        may_see.append(
            "Patients on their own care teams at these facilities."
            if user.care_team_only
            else "Every patient of these facilities."
        )
    if user.role != "admin":
        may_see.append(
            "Sensitive notes: " + ", ".join(labels) + "." if labels else "No sensitive (labelled) notes."
        )
    if user.role in BREAK_GLASS_ROLE_SET:
        may_see.append("May break the glass for one request, with a written reason (audited).")
    return UserCard(
        user_id=user.id,
        name=user.name,
        role=user.role,
        role_words=ROLE_WORDS.get(user.role, user.role),
        facilities=facilities,
        may_see=may_see,
        may_break_glass=user.role in BREAK_GLASS_ROLE_SET,
    )


def patient_label(patient: t.Patient) -> str:
    """The picker's line for a patient: name, birth date, MRN (shown only for patients in scope)."""
    born = patient.birth_date.isoformat() if patient.birth_date else "birth date unknown"
    return f"{patient.name or patient.id} · born {born} · MRN {patient.mrn or '—'}"


def list_users(session: Session) -> list[t.User]:
    return list(session.exec(select(t.User).order_by(col(t.User.role), col(t.User.name))))


def facility_names(session: Session) -> dict[str, str]:
    return {f"Organization/{o.id}": o.name or o.id for o in session.exec(select(t.Organization))}


# --------------------------------------------------------------------------- patient header
@dataclass(frozen=True)
class HeaderSection:
    title: str
    query: str
    kind: str  # resource type kept in this section
    open_statuses: frozenset[str]
    future_only: bool = False


HEADER_SECTIONS: tuple[HeaderSection, ...] = (
    HeaderSection(
        "Active problems",
        "active problems conditions",
        "Condition",
        frozenset({"active", "recurrence", "relapse"}),
    ),
    HeaderSection(
        "Open follow-ups",
        "outstanding follow-up tasks",
        "Task",
        frozenset({"requested", "received", "accepted", "ready", "in-progress", "on-hold", "draft"}),
    ),
    HeaderSection(
        "Upcoming appointments",
        "upcoming appointments",
        "Appointment",
        frozenset({"booked", "pending", "proposed", "arrived", "checked-in", "waitlist"}),
        future_only=True,
    ),
    HeaderSection(
        "Pending referrals", "pending referrals", "ServiceRequest", frozenset({"active", "on-hold", "draft"})
    ),
)
_STATUS = re.compile(r"status: ([a-z-]+)")


def header_rows(section: HeaderSection, candidates: Sequence[Candidate], today: date) -> list[Candidate]:
    """The retriever's statements that belong in one header section: that resource type, an open
    status, and (appointments) not in the past. Soonest/most recent first as the retriever ordered."""
    out: list[Candidate] = []
    for c in candidates:
        if c.source_ref.split("/", 1)[0] != section.kind:
            continue
        m = _STATUS.search(c.text)
        if m is None or m.group(1) not in section.open_statuses:
            continue
        if section.future_only and c.note_date and c.note_date < date_int(today):
            continue
        out.append(c)
    if section.future_only:
        out.sort(key=lambda c: c.note_date)
    return out


def patient_header(
    engine: Any, scope: AccessScope, patient_key: str, today: date, *, k: int = 30
) -> dict[str, list[Candidate]]:
    """Header sections from the same retriever and filter an answer uses, so the header shows only
    what the user could be cited (patient in scope, labels respected)."""
    from carecite.retrieval.structured import StructuredRetriever

    flt = RetrievalFilter.for_request(scope, patient_key)
    retriever = StructuredRetriever(engine, today)
    return {s.title: header_rows(s, retriever.search(s.query, flt, k), today) for s in HEADER_SECTIONS}


# --------------------------------------------------------------------------- sources beside the answer
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
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour or value.minute) else value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return ""


def citation_spans(c: Citation) -> list[tuple[int, int]]:
    return merge_spans(c.spans or (c.span,), len(c.text))


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
    table: type[t.ResourceRow] | None = (
        t.CarePlanActivity if "#activity=" in c.source_ref else t.RECORD_TABLES.get(resource_type)
    )
    row = session.get(table, c.source_ref) if table is not None else None
    if row is not None:
        base["note_type"] = row.display or resource_type
        base["when"] = next((_when(getattr(row, f)) for f in _DATE_FIELDS if getattr(row, f, None)), "")
    return SourceCard(**base)


def record_table_row(card: SourceCard) -> dict[str, str]:
    """A structured source as one table row."""
    return {
        "source": card.marker,
        "resource": card.resource_type,
        "what": card.note_type,
        "date": card.when,
        "statement": card.text,
        "FHIR ref": card.fhir_ref,
    }


def uncited_rows(answer: Answer) -> list[dict[str, object]]:
    """Sources retrieved but not cited, with their retriever and score ("why was this retrieved")."""
    cited = {c.source_id for c in answer.citations}
    return [
        {
            "FHIR ref": r.source_ref,
            "found by": r.retriever,
            "why": RETRIEVER_WORDS.get(r.retriever, r.retriever),
            "score": round(r.score, 3),
        }
        for r in answer.retrieved
        if r.source_id not in cited
    ]


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


# --------------------------------------------------------------------------- review (audit trail)
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


# --------------------------------------------------------------------------- quality (eval runs)
@dataclass(frozen=True)
class EvalRun:
    run_id: str
    ts: str
    split: str
    metrics: dict[str, float]
    per_category: dict[str, dict[str, float]]
    latency_ms: dict[str, list[float]]
    cost_usd: list[float]
    path: str


def _num(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    f = float(value)
    return f if math.isfinite(f) else None


def _num_map(value: object) -> dict[str, float]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): v for k, v in ((k, _num(v)) for k, v in value.items()) if v is not None}


def _num_list(value: object) -> list[float]:
    if not isinstance(value, list):
        return []
    return [v for v in (_num(x) for x in value) if v is not None]


def load_eval_runs(folder: Path) -> tuple[list[EvalRun], list[str]]:
    """Every ``*.json`` run in ``folder`` (oldest first) and a problem line per unreadable file.
    Missing keys become empty: a partial run still shows what it has."""
    runs: list[EvalRun] = []
    problems: list[str] = []
    if not folder.is_dir():
        return runs, problems
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            problems.append(f"{path.name}: not readable JSON ({exc.__class__.__name__})")
            continue
        if not isinstance(data, Mapping):
            problems.append(f"{path.name}: not a JSON object")
            continue
        per_cat = data.get("per_category")
        lat = data.get("latency_ms")
        runs.append(
            EvalRun(
                run_id=str(data.get("run_id") or path.stem),
                ts=str(data.get("ts") or ""),
                split=str(data.get("split") or ""),
                metrics=_num_map(data.get("metrics")),
                per_category={str(k): _num_map(v) for k, v in per_cat.items()}
                if isinstance(per_cat, Mapping)
                else {},
                latency_ms={str(k): _num_list(v) for k, v in lat.items()} if isinstance(lat, Mapping) else {},
                cost_usd=_num_list(data.get("cost_usd")),
                path=path.name,
            )
        )
    runs.sort(key=lambda r: (r.ts, r.run_id))
    return runs, problems


# Checked in this order: "citation_precision" is a citation metric, not a retrieval one.
METRIC_GROUPS: dict[str, tuple[str, ...]] = {
    "citation": ("citation", "cite", "support", "faithful", "grounded"),
    "decline": ("decline", "abstain", "refus", "denied", "access", "leak"),
    "retrieval": ("recall", "ndcg", "mrr", "hit", "precision", "retriev"),
}


def metric_group(name: str) -> str:
    low = name.lower()
    for group, needles in METRIC_GROUPS.items():
        if any(n in low for n in needles):
            return group
    return "other"


def metric_rows(runs: Sequence[EvalRun]) -> list[dict[str, object]]:
    """Long-form rows (run, ts, split, group, metric, value) for charts."""
    return [
        {
            "run": r.run_id,
            "ts": r.ts,
            "split": r.split,
            "group": metric_group(name),
            "metric": name,
            "value": v,
        }
        for r in runs
        for name, v in r.metrics.items()
    ]


def latency_rows(runs: Sequence[EvalRun]) -> list[dict[str, object]]:
    return [
        {"run": r.run_id, "stage": stage, "ms": v}
        for r in runs
        for stage, values in r.latency_ms.items()
        for v in values
    ]


def cost_rows(runs: Sequence[EvalRun]) -> list[dict[str, object]]:
    return [{"run": r.run_id, "request": i, "cost_usd": v} for r in runs for i, v in enumerate(r.cost_usd)]


def run_deltas(runs: Sequence[EvalRun]) -> list[dict[str, object]]:
    """Each metric of the newest run (``latest``) beside the run before it (``previous``), and the change."""
    if len(runs) < 2:
        return []
    prev, last = runs[-2], runs[-1]
    out: list[dict[str, object]] = []
    for name in sorted(set(prev.metrics) | set(last.metrics)):
        before, after = prev.metrics.get(name), last.metrics.get(name)
        out.append(
            {
                "metric": name,
                "group": metric_group(name),
                "previous": before,
                "latest": after,
                "change": None if before is None or after is None else round(after - before, 4),
            }
        )
    return out


def note_types(session: Session) -> list[str]:
    """Every note type in the store, for the narrowing filter (type names carry no patient data)."""
    return sorted({x for x in session.exec(select(t.Note.note_type).distinct()) if x})


def record_source(session: Session, ref: str) -> dict[str, Any] | None:
    """A header row's FHIR resource as ingested, for "open as a source". Call it only for a ref the
    header (i.e. the label-filtered retriever) returned."""
    table = t.CarePlanActivity if "#activity=" in ref else t.RECORD_TABLES.get(ref.split("/", 1)[0])
    row = session.get(table, ref) if table is not None else None
    if row is None:
        return None
    try:
        data = json.loads(row.raw or "{}")
    except json.JSONDecodeError:
        data = {}
    return data if isinstance(data, dict) else {}


SUGGESTED_QUESTIONS: tuple[str, ...] = (
    "What follow-up tasks are still outstanding?",
    "Which tasks are overdue?",
    "What referrals are still pending?",
    "What appointments are coming up?",
    "What were the discharge recommendations?",
    "What is actively being worked on in the care plan?",
)


_MD_LABEL = re.compile(r"([\\`*_{}\[\]<>()#+!|$~:])")


def md_label(text: str) -> str:
    """Plain text for a widget label (labels are Markdown): every Markdown character backslash-escaped."""
    return _MD_LABEL.sub(r"\\\1", " ".join(text.split()))


def bullets_html(lines: Iterable[str]) -> str:
    """An escaped bullet list for ``st.markdown(unsafe_allow_html=True)``."""
    return "<ul>" + "".join(f"<li>{escape_text(line)}</li>" for line in lines) + "</ul>"
