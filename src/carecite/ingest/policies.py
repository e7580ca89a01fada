"""Coverage policies (CMS National Coverage Determinations) → Policy rows → chunks → indexes.

Input: a JSONL file with one NCD per line (``ncd_id, version, manual_section, title, effective_date,
termination_date, keywords, text`` as in the CMS NCD export), or a folder of ``.txt``/``.md`` files
(id from the file name, title from the first non-empty line).

* Policy id: ``Policy/<ncd_id>`` (JSONL) or ``Policy/<file stem>``.
* Idempotent: a policy whose content hash is unchanged is skipped; a changed one has its Policy row
  and chunks replaced in the same transaction; ``sync_indexes`` then brings Chroma and BM25 along.
* Terminated policies are ingested too: "was CPAP covered under the old NCD?" is a fair question,
  and dropping them would silently lose data. ``Policy.terminated`` keeps the date, and the index
  text of every chunk is prefixed with "(terminated YYYY-MM-DD)" next to the title, so retrieval,
  the prompt and the reader all see it. Answering code may prefer in-force policies.
* Policies absent from a later file are not deleted (a file may be a partial export).
* A bad line is reported with its line number and skipped; the other policies still load.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from carecite.ingest.chunking import CHUNKER_VERSION
from carecite.ingest.indexing import SyncReport, chunks_for_policy, replace_doc_chunks, sync_indexes
from carecite.ingest.progress import step_progress
from carecite.records import session_scope
from carecite.records import tables as t
from carecite.text.repair import decode_bytes, repair_text

if TYPE_CHECKING:
    from carecite.stores import Stores

TEXT_SUFFIXES = (".txt", ".md")


class PolicyInputError(ValueError):
    """The policy source cannot be read at all (missing path, unsupported file type)."""


@dataclass(frozen=True)
class PolicyDoc:
    id: str  # "Policy/<ncd id>"
    title: str
    section: str | None
    effective: date | None
    terminated: date | None
    text: str
    version: int = 0

    @property
    def content_hash(self) -> str:
        payload = json.dumps(
            [self.title, self.section, str(self.effective), str(self.terminated), self.text, CHUNKER_VERSION]
        )
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass
class PolicyReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    chunks: int = 0  # chunks written for added/updated policies
    errors: list[str] = field(default_factory=list)  # "file:line: problem" — the record was skipped
    warnings: list[str] = field(default_factory=list)
    sync: SyncReport | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def _parse_date(value: object, where: str, report: PolicyReport) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        report.warnings.append(f"{where}: unreadable date {value!r}, stored as unknown")
        return None


def _from_jsonl(path: Path, report: PolicyReport) -> Iterator[PolicyDoc]:
    with path.open(encoding="utf-8", errors="strict") as fh:
        for lineno, line in enumerate(fh, 1):
            where = f"{path.name}:{lineno}"
            if not line.strip():
                continue
            try:
                rec: Any = json.loads(line)
            except json.JSONDecodeError as exc:
                report.errors.append(f"{where}: not JSON ({exc.msg})")
                continue
            if not isinstance(rec, dict):
                report.errors.append(f"{where}: expected a JSON object")
                continue
            ncd_id = str(rec.get("ncd_id") or "").strip()
            text = rec.get("text")
            if not ncd_id or not isinstance(text, str) or not text.strip():
                report.errors.append(f"{where}: needs a non-empty 'ncd_id' and 'text'")
                continue
            try:
                version = int(rec.get("version") or 0)
            except (TypeError, ValueError):
                version = 0
            yield PolicyDoc(
                id=f"Policy/{ncd_id}",
                title=repair_text(str(rec.get("title") or "").strip()),
                section=str(rec.get("manual_section") or "").strip() or None,
                effective=_parse_date(rec.get("effective_date"), where, report),
                terminated=_parse_date(rec.get("termination_date"), where, report),
                text=repair_text(text),
                version=version,
            )


def _from_folder(path: Path, report: PolicyReport) -> Iterator[PolicyDoc]:
    for f in sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES):
        try:
            text = decode_bytes(f.read_bytes())
        except OSError as exc:
            report.errors.append(f"{f.name}: cannot read ({exc})")
            continue
        if not text.strip():
            report.errors.append(f"{f.name}: empty")
            continue
        first = next(line for line in text.splitlines() if line.strip())
        yield PolicyDoc(
            id=f"Policy/{f.stem}",
            title=first.strip().lstrip("#").strip(),
            section=None,
            effective=None,
            terminated=None,
            text=text,
        )


def read_policies(path: Path, report: PolicyReport) -> list[PolicyDoc]:
    """Every readable policy at ``path``; one per id (the highest version wins)."""
    if not path.exists():
        raise PolicyInputError(f"{path} does not exist")
    if path.is_dir():
        docs = list(_from_folder(path, report))
    elif path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        try:
            docs = list(_from_jsonl(path, report))
        except UnicodeDecodeError as exc:
            raise PolicyInputError(f"{path} is not UTF-8 text ({exc.reason})") from None
    else:
        raise PolicyInputError(f"{path}: expected a .jsonl file or a folder of .txt files")
    best: dict[str, PolicyDoc] = {}
    for d in docs:
        if d.id in best:
            report.warnings.append(f"{d.id} appears more than once; keeping the highest version")
            if d.version < best[d.id].version:
                continue
        best[d.id] = d
    return list(best.values())


def ingest_policies(
    stores: Stores, path: Path, *, progress: bool = True, only: Collection[str] | None = None
) -> PolicyReport:
    """Load the policies at ``path`` into SQL (rows + chunks, one transaction), then sync the indexes.
    ``only``: just these policy ids (``Policy/<id>``); the others already stored are kept."""
    report = PolicyReport()
    docs = read_policies(Path(path), report)
    if only is not None:
        docs = [d for d in docs if d.id in only]
    with (
        step_progress("policies", len(docs), enabled=progress) as advance,
        session_scope(stores.engine) as session,
    ):
        for doc in docs:
            advance()
            row = session.get(t.Policy, doc.id)
            digest = doc.content_hash
            if row is not None and row.content_hash == digest:
                report.unchanged += 1
                continue
            if row is None:
                row = t.Policy(id=doc.id)
                report.added += 1
            else:
                report.updated += 1
            row.title = doc.title
            row.section = doc.section
            row.effective = doc.effective
            row.terminated = doc.terminated
            row.text = doc.text
            row.content_hash = digest
            session.add(row)
            chunks = chunks_for_policy(row)
            replace_doc_chunks(session, doc.id, chunks)
            report.chunks += len(chunks)
    report.sync = sync_indexes(stores, progress=progress)
    return report
