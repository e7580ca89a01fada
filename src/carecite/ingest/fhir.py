"""Ingest FHIR R4 bundles into the SQL system of record, then bring the indexes in line.

    ingest_fhir_paths(stores, paths) → IngestReport

* Files or folders (``*.json``, recursively). Bundles of any type (transaction, batch,
  collection, searchset, …) or a bare resource. Mapping is ``fhir_mapping`` (pure).
* One SQL transaction per file: a crash loses at most the file being loaded; a re-run converges.
* Upsert by primary key; a row whose ``content_hash`` is unchanged is not touched, so re-ingesting
  leaves every count identical and re-embeds nothing. A new or changed note gets its chunks
  replaced (``indexing.replace_doc_chunks``) in the same transaction.
* Conditional references (``Organization?identifier=…``) that no loaded bundle declares yet are
  stored as that string; ``resolve_pending`` (run after every ingest) rewrites them from the
  ``Identifier`` table, so ``hospitalInformation.json`` may come before or after the patients.
* Finally ``indexing.sync_indexes`` makes Chroma and BM25 match the SQL chunks.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import delete, inspect
from sqlmodel import Session, SQLModel, col, select

from carecite.ingest.fhir_mapping import (
    BundleContext,
    BundleMapping,
    EmptyDirectory,
    JsonObj,
    MappedRecord,
    MappingError,
    Problem,
    author_and_role,
    is_pending,
    map_bundle,
    org_only,
)
from carecite.records import session_scope
from carecite.records import tables as t

if TYPE_CHECKING:
    from carecite.ingest.indexing import SyncReport
    from carecite.retrieval.vector_cache import VectorCache
    from carecite.stores import Stores

# Child rows replaced wholesale when their parent changes: model → column naming the parent.
_CHILDREN: dict[type[SQLModel], str] = {t.CarePlanActivity: "careplan_ref", t.CareTeamMember: "careteam_ref"}
_NOTE_TYPES = ("DocumentReference", "DiagnosticReport")


@dataclass
class IngestReport:
    """What one ingest did. ``ok`` is False when any file or entry failed."""

    files: int = 0
    files_loaded: int = 0
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    unknown: Counter[str] = field(default_factory=Counter)  # resource types not mapped
    skipped: Counter[str] = field(default_factory=Counter)  # known types that yield no row, by reason
    problems: list[Problem] = field(default_factory=list)  # failures: the entry or file was skipped
    warnings: list[Problem] = field(default_factory=list)  # loaded, but something was worth saying
    notes_rechunked: int = 0
    resolved_references: int = 0
    unresolved_references: int = 0
    sync: SyncReport | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def loaded(self) -> Counter[str]:
        return self.created + self.updated + self.unchanged


def ingest_fhir_paths(
    stores: Stores, paths: Sequence[Path], *, progress: bool = True, cache: VectorCache | None = None
) -> IngestReport:
    """Load every bundle under ``paths`` into SQL, resolve pending references, sync the indexes
    (embedding through ``cache`` when given: a seeded one, see ``vector_seed``)."""
    from carecite.ingest.indexing import sync_indexes

    started = time.perf_counter()
    report = IngestReport()
    # Synthea's directory bundles (hospitalInformation*, practitionerInformation*) go first: any
    # order converges (resolve_pending), but this one resolves references at once and chunks
    # each note once instead of twice.
    files = sorted(iter_json_files(paths, report), key=lambda p: "Information" not in p.name)
    report.files = len(files)
    with _progress(progress) as bar:
        task = bar.add_task("FHIR bundles", total=len(files))
        for path in files:
            bar.update(task, description=f"FHIR {path.name[:40]}")
            ingest_file(stores, path, report)
            bar.advance(task)
    with session_scope(stores.engine) as session:
        resolve_pending(session, report)
    report.sync = sync_indexes(stores, progress=progress, cache=cache)
    report.seconds = time.perf_counter() - started
    return report


def iter_json_files(paths: Sequence[Path], report: IngestReport) -> Iterator[Path]:
    """``*.json`` files, folders recursively, in a stable order. A missing path is a problem."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*.json") if p.is_file())
        elif path.is_file():
            yield path
        else:
            report.problems.append(Problem(str(path), None, None, None, "no such file or folder"))


def ingest_file(stores: Stores, path: Path, report: IngestReport) -> None:
    """One file = one transaction. Bad JSON or a database error costs this file only."""
    source = path.name
    try:
        data = json.loads(path.read_bytes())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        report.problems.append(Problem(source, None, None, None, f"cannot read JSON: {exc}"))
        return
    try:
        with session_scope(stores.engine) as session:
            mapping = map_bundle(data, source, SqlDirectory(session))
            write_mapping(session, mapping, report)
    except Exception as exc:  # a store failure: roll back this file, keep going, report it
        report.problems.append(Problem(source, None, None, None, f"not loaded ({type(exc).__name__}: {exc})"))
        return
    report.files_loaded += 1


# --------------------------------------------------------------------------- SQL side
class SqlDirectory(EmptyDirectory):
    """``fhir_mapping.Directory`` over the SQL store, for references that leave the bundle."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._identifiers: dict[str, str | None] = {}

    def ref_for_identifier(self, key: str) -> str | None:
        if key not in self._identifiers:
            row = self.session.get(t.Identifier, key)
            self._identifiers[key] = row.ref if row else None
        return self._identifiers[key]

    def encounter_facility(self, encounter_ref: str) -> str | None:
        row = self.session.get(t.Encounter, encounter_ref)
        return row.facility if row else None

    def patient_managing_org(self, patient_id: str) -> str | None:
        row = self.session.get(t.Patient, patient_id)
        return row.managing_organization if row else None

    def patient_exists(self, patient_id: str) -> bool:
        return self.session.get(t.Patient, patient_id) is not None

    def practitioner(self, ref: str) -> JsonObj | None:
        row = self.session.get(t.Practitioner, ref.split("/", 1)[-1])
        if row is None or not row.raw:
            return None
        raw: JsonObj = json.loads(row.raw)
        return raw


def _pk_name(model: type[SQLModel]) -> str:
    return str(inspect(model).primary_key[0].name)


def _stored_hashes(session: Session, model: type[SQLModel], keys: list[str]) -> dict[str, str]:
    """Primary key → stored content hash (raw JSON for tables without a hash column)."""
    pk = getattr(model, _pk_name(model))
    value = getattr(model, "content_hash", None) or model.raw  # type: ignore[attr-defined]
    found: dict[str, str] = {}
    for i in range(0, len(keys), 500):
        for key, stored in session.exec(select(pk, value).where(col(pk).in_(keys[i : i + 500]))):
            found[key] = stored
    return found


def _fingerprint(rec: MappedRecord) -> str:
    row = rec.row
    return rec.content_hash if hasattr(row, "content_hash") else str(getattr(row, "raw", ""))


def write_mapping(session: Session, mapping: BundleMapping, report: IngestReport) -> None:
    """Upsert one bundle's rows; replace chunks of new or changed notes; refresh patient facilities."""
    from carecite.ingest.indexing import chunks_for_note, replace_doc_chunks

    report.problems.extend(mapping.problems)
    report.warnings.extend(mapping.warnings)
    report.unknown.update(mapping.unknown)
    report.skipped.update(mapping.skipped)

    # Last occurrence wins when a bundle repeats a resource (healthwallet repeats organizations).
    by_model: dict[type[SQLModel], dict[str, MappedRecord]] = {}
    for rec in mapping.records:
        model = type(rec.row)
        by_model.setdefault(model, {})[str(getattr(rec.row, _pk_name(model)))] = rec

    changed_notes: list[tuple[t.Note, str | None]] = []
    touched_patients: set[str] = set()
    for model, records in by_model.items():
        stored = _stored_hashes(session, model, list(records))
        for key, rec in records.items():
            if rec.patient_id:
                touched_patients.add(rec.patient_id)
            previous = stored.get(key)
            if previous == _fingerprint(rec):
                report.unchanged[rec.resource_type] += 1
                continue
            if previous is None:
                session.add(rec.row)
                report.created[rec.resource_type] += 1
            else:
                session.merge(rec.row)
                report.updated[rec.resource_type] += 1
            _replace_children(session, rec)
            if isinstance(rec.row, t.Note):
                changed_notes.append((rec.row, rec.patient_id))

    for key, ref in mapping.identifiers.items():
        existing = session.get(t.Identifier, key)
        if existing is None:
            session.add(t.Identifier(key=key, ref=ref))
        elif existing.ref != ref:
            existing.ref = ref
    session.flush()

    for note, patient_id in changed_notes:
        patient = session.get(t.Patient, patient_id) if patient_id else None
        replace_doc_chunks(session, note.ref, chunks_for_note(note, patient))
        report.notes_rechunked += 1
    refresh_patient_facilities(session, touched_patients)


def _replace_children(session: Session, rec: MappedRecord) -> None:
    for model, parent_col in _CHILDREN.items():
        if any(isinstance(c, model) for c in rec.children) or isinstance(rec.row, t.CarePlan | t.CareTeam):
            parent = getattr(model, parent_col)
            session.execute(delete(model).where(parent == rec.row.ref))  # type: ignore[attr-defined]
    for child in rec.children:
        session.add(child)


def refresh_patient_facilities(session: Session, patient_ids: set[str] | None = None) -> int:
    """Patient.facilities = managing organization, else the distinct encounter serviceProviders.

    ``None`` refreshes every patient. Only resolved ``Organization/<id>`` refs count: a pending
    conditional reference is no facility until ``resolve_pending`` rewrites it.
    """
    query = select(t.Patient)
    if patient_ids is not None:
        if not patient_ids:
            return 0
        query = query.where(col(t.Patient.id).in_(sorted(patient_ids)))
    patients = list(session.exec(query))
    if not patients:
        return 0
    keys = [p.patient_key for p in patients]
    providers: dict[str, set[str]] = {}
    for i in range(0, len(keys), 500):
        rows = session.exec(
            select(t.Encounter.patient_key, t.Encounter.facility)
            .where(
                col(t.Encounter.patient_key).in_(keys[i : i + 500]), col(t.Encounter.facility).is_not(None)
            )
            .distinct()
        )
        for pk, fac in rows:
            if pk and fac and fac.startswith("Organization/"):
                providers.setdefault(pk, set()).add(fac)
    changed = 0
    for p in patients:
        managing = (
            p.managing_organization if (p.managing_organization or "").startswith("Organization/") else None
        )
        facilities = t.labels_to_str([managing] if managing else sorted(providers.get(p.patient_key, set())))
        if p.facilities != facilities:
            p.facilities = facilities
            session.add(p)
            changed += 1
    return changed


# Columns that may hold a pending conditional reference, by table.
def _pending_columns() -> list[tuple[type[SQLModel], str]]:
    models: tuple[type[SQLModel], ...] = (*t.RECORD_TABLES.values(), t.Note, t.CarePlanActivity)
    cols: list[tuple[type[SQLModel], str]] = [(model, "facility") for model in models]
    cols += [
        (t.Task, "focus_ref"),
        (t.CareTeamMember, "member_ref"),
        (t.Patient, "managing_organization"),
    ]
    return cols


def resolve_pending(session: Session, report: IngestReport | None = None) -> int:
    """Rewrite conditional references that the Identifier table can now resolve.

    Also fills a missing ``facility`` from the row's encounter (its bundle may have been loaded
    later), re-chunks notes whose facility changed (chunks carry the facility), and refreshes
    every patient's facilities. Returns how many values were rewritten.
    """
    from carecite.ingest.indexing import chunks_for_note, replace_doc_chunks

    resolver = BundleContext([], SqlDirectory(session))
    resolved = unresolved = 0
    rechunk: set[str] = set()
    for model, column in _pending_columns():
        attr = getattr(model, column)
        for row in session.exec(select(model).where(col(attr).contains("?identifier="))):
            current = getattr(row, column)
            new = resolver.resolve_string(current)
            if new and not is_pending(new) and new != current:
                if column in ("facility", "managing_organization"):
                    new = org_only(new)
                setattr(row, column, new)
                session.add(row)
                resolved += 1
                if isinstance(row, t.Note):
                    rechunk.add(row.ref)
            else:
                unresolved += 1
        if column == "facility" and model is not t.Encounter:
            # The row's encounter may have arrived (or got its provider resolved) after the row.
            enc_ref: Any = model.encounter_ref  # type: ignore[attr-defined]
            rows = session.exec(
                select(model, t.Encounter.facility)
                .join(t.Encounter, col(t.Encounter.ref) == enc_ref)
                .where(col(attr).is_(None), col(t.Encounter.facility).startswith("Organization/"))
            )
            for row, facility in rows:
                setattr(row, column, facility)
                session.add(row)
                resolved += 1
                if isinstance(row, t.Note):
                    rechunk.add(row.ref)
        if column == "facility" and model is not t.Patient:
            # No encounter: the patient's managing organization (its Patient may load later).
            rows = session.exec(
                select(model, t.Patient.managing_organization)
                .join(t.Patient, col(t.Patient.patient_key) == model.patient_key)  # type: ignore[attr-defined]
                .where(col(attr).is_(None), col(t.Patient.managing_organization).startswith("Organization/"))
            )
            for row, facility in rows:
                setattr(row, column, facility)
                session.add(row)
                resolved += 1
                if isinstance(row, t.Note):
                    rechunk.add(row.ref)
    rechunk |= _backfill_author_roles(session)
    session.flush()
    for ref in sorted(rechunk):
        note = session.get(t.Note, ref)
        if note is None:
            continue
        patient = session.exec(select(t.Patient).where(t.Patient.patient_key == note.patient_key)).first()
        replace_doc_chunks(session, note.ref, chunks_for_note(note, patient))
    refresh_patient_facilities(session)
    if report is not None:
        report.resolved_references += resolved
        report.unresolved_references += unresolved
        report.notes_rechunked += len(rechunk)
    return resolved


def _backfill_author_roles(session: Session) -> set[str]:
    """Notes loaded before their author's Practitioner get the author's role now.

    Cheap when no stored Practitioner has a qualification (Synthea's have none): nothing to do.
    """
    has_roles = session.exec(
        select(t.Practitioner.id).where(col(t.Practitioner.raw).contains('"qualification"')).limit(1)
    ).first()
    if has_roles is None:
        return set()
    ctx = BundleContext([], SqlDirectory(session))
    changed: set[str] = set()
    notes = session.exec(select(t.Note).where(col(t.Note.author_role).is_(None), col(t.Note.raw) != ""))
    for note in notes:
        resource = json.loads(note.raw)
        key = "author" if resource.get("resourceType") == "DocumentReference" else "performer"
        try:
            _, role = author_and_role(resource, key, ctx)
        except MappingError:
            continue
        if role:
            note.author_role = role
            session.add(note)
            changed.add(note.ref)
    return changed


# --------------------------------------------------------------------------- presentation
def _progress(enabled: bool) -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=not enabled,
    )


def render_report(report: IngestReport, console: Console, *, max_problems: int = 50) -> None:
    """The Rich summary the CLI prints: counts per type, then every problem (never a traceback)."""
    table = Table(title=f"FHIR ingest: {report.files_loaded}/{report.files} files in {report.seconds:.1f}s")
    table.add_column("resource")
    for name in ("created", "updated", "unchanged"):
        table.add_column(name, justify="right")
    for rtype in sorted(report.loaded):
        table.add_row(
            rtype, str(report.created[rtype]), str(report.updated[rtype]), str(report.unchanged[rtype])
        )
    console.print(table)
    if report.unknown:
        console.print(
            "skipped (type not mapped): "
            + ", ".join(f"{k} {v}" for k, v in sorted(report.unknown.items(), key=lambda kv: -kv[1]))
        )
    for reason, n in sorted(report.skipped.items()):
        console.print(f"skipped: {reason}: {n}")
    console.print(
        f"notes re-chunked: {report.notes_rechunked}; references resolved: {report.resolved_references}"
        + (f", still unresolved: {report.unresolved_references}" if report.unresolved_references else "")
    )
    if (sync := report.sync) is not None:
        console.print(
            f"indexes: {sync.added} chunks embedded, {sync.removed} removed; "
            f"chunks sql/vector/lexical = {sync.sql}/{sync.vector}/{sync.lexical}"
            + ("" if sync.consistent else " [bold red](out of step: re-run to converge)[/]")
        )
    if report.warnings:
        console.print(f"[yellow]{len(report.warnings)} warning(s)[/]")
        for w in report.warnings[:max_problems]:
            console.print(f"  [yellow]warning[/] {w}")
    if report.problems:
        console.print(
            f"[bold red]{len(report.problems)} problem(s): these entries or files were not loaded[/]"
        )
        for p in report.problems[:max_problems]:
            console.print(f"  [red]error[/] {p}")
        if len(report.problems) > max_problems:
            console.print(f"  … and {len(report.problems) - max_problems} more")
