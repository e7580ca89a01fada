"""``carecite phi scan``: count the PHI a redactor finds in a corpus, by entity type.

Inputs: a ``.txt`` file (one document), a ``.csv`` with a ``transcription`` (or ``text``) column
(e.g. MTSamples), a ``.jsonl`` with a ``text`` field, or a folder of those (recursively). Empty
documents and unreadable JSONL lines are skipped and counted, never silently lost. With ``limit``,
only the first N documents are scanned and the time for the whole input is extrapolated from the
characters scanned (Presidio's cost is roughly linear in text length).
"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from carecite.ports import Redactor

SUPPORTED_SUFFIXES = (".txt", ".csv", ".jsonl")
TEXT_COLUMNS = ("transcription", "text")


class ScanInputError(ValueError):
    """The path cannot be scanned (missing, unsupported, or a CSV without a text column)."""


class ScanDocument(BaseModel):
    model_config = ConfigDict(frozen=True)
    doc_id: str
    text: str


class ScanReport(BaseModel):
    model_config = ConfigDict(frozen=True)
    path: str
    documents: int  # scanned
    documents_available: int  # non-empty documents in the input
    documents_with_phi: int
    characters: int
    characters_available: int
    entities: dict[str, int]  # entity type → count, most frequent first
    skipped: dict[str, int] = Field(default_factory=dict)  # reason → count
    seconds: float

    @property
    def total_entities(self) -> int:
        return sum(self.entities.values())

    @property
    def ms_per_kb(self) -> float:
        return 1000 * self.seconds / (self.characters / 1000) if self.characters else 0.0

    @property
    def estimated_full_seconds(self) -> float:
        """Time to scan every available document, extrapolated per character."""
        return self.seconds * self.characters_available / self.characters if self.characters else 0.0

    def as_json(self) -> dict[str, object]:
        return {
            **self.model_dump(),
            "total_entities": self.total_entities,
            "ms_per_kb": round(self.ms_per_kb, 1),
            "estimated_full_seconds": round(self.estimated_full_seconds, 1),
        }


def iter_documents(path: Path, skipped: Counter[str] | None = None) -> Iterator[ScanDocument]:
    """Documents under ``path``; empty ones and bad JSONL lines are counted in ``skipped``."""
    skipped = skipped if skipped is not None else Counter()
    if not path.exists():
        raise ScanInputError(f"no such file or folder: {path}")
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
        if not files:
            raise ScanInputError(f"no {', '.join(SUPPORTED_SUFFIXES)} files under {path}")
    elif path.suffix.lower() in SUPPORTED_SUFFIXES:
        files = [path]
    else:
        raise ScanInputError(f"unsupported file type {path.suffix!r}: use {', '.join(SUPPORTED_SUFFIXES)}")
    for file in files:
        for doc in _read_file(file, skipped):
            if doc.text.strip():
                yield doc
            else:
                skipped["empty"] += 1


def _read_file(file: Path, skipped: Counter[str]) -> Iterator[ScanDocument]:
    suffix = file.suffix.lower()
    if suffix == ".txt":
        yield ScanDocument(doc_id=str(file), text=file.read_text(encoding="utf-8", errors="replace"))
    elif suffix == ".csv":
        csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # MTSamples rows exceed the 128 KB default
        with file.open(encoding="utf-8", errors="replace", newline="") as f:
            reader = csv.DictReader(f)
            column = next((c for c in TEXT_COLUMNS if c in (reader.fieldnames or [])), None)
            if column is None:
                raise ScanInputError(
                    f"{file}: no {' or '.join(TEXT_COLUMNS)} column (found {reader.fieldnames})"
                )
            for n, row in enumerate(reader, 1):
                doc_id = row.get("note_id") or f"{file.name}:{n}"
                yield ScanDocument(doc_id=doc_id, text=row.get(column) or "")
    else:
        with file.open(encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                    text = obj["text"]
                    if not isinstance(text, str):
                        raise TypeError
                except (ValueError, KeyError, TypeError):
                    skipped["bad_jsonl_line"] += 1
                    continue
                yield ScanDocument(doc_id=str(obj.get("id") or f"{file.name}:{n}"), text=text)


def scan_path(redactor: Redactor, path: Path, limit: int | None = None, progress: bool = True) -> ScanReport:
    """Scan ``path`` (the first ``limit`` documents when given) and count PHI by type."""
    skipped: Counter[str] = Counter()
    all_docs = list(iter_documents(path, skipped))
    docs = list(islice(all_docs, limit)) if limit else all_docs
    counts: Counter[str] = Counter()
    with_phi = chars = 0
    started = time.perf_counter()
    with Progress(
        TextColumn("scanning"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        disable=not progress,
        transient=True,
    ) as bar:
        task = bar.add_task("scan", total=len(docs))
        for doc in docs:
            found = redactor.analyze(doc.text)
            counts.update(e.entity_type for e in found)
            with_phi += bool(found)
            chars += len(doc.text)
            bar.advance(task)
    return ScanReport(
        path=str(path),
        documents=len(docs),
        documents_available=len(all_docs),
        documents_with_phi=with_phi,
        characters=chars,
        characters_available=sum(len(d.text) for d in all_docs),
        entities=dict(counts.most_common()),
        skipped=dict(skipped),
        seconds=round(time.perf_counter() - started, 3),
    )


def report_table(report: ScanReport) -> Table:
    table = Table(
        title=f"PHI found in {report.documents} of {report.documents_available} documents ({report.path})"
    )
    table.add_column("entity type")
    table.add_column("count", justify="right")
    table.add_column("per document", justify="right")
    for entity_type, count in report.entities.items():
        table.add_row(entity_type, str(count), f"{count / report.documents:.2f}" if report.documents else "-")
    table.add_section()
    table.add_row("total", str(report.total_entities), "")
    table.caption = (
        f"{report.documents_with_phi} documents with PHI · {report.characters / 1000:.0f} KB in {report.seconds:.1f} s "
        f"({report.ms_per_kb:.0f} ms/KB)"
        + (
            f" · all {report.documents_available} documents ≈ {report.estimated_full_seconds / 60:.1f} min"
            if report.documents < report.documents_available
            else ""
        )
        + (f" · skipped {report.skipped}" if report.skipped else "")
    )
    return table
