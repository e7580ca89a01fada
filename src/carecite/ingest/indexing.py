"""Notes and policies → chunks → SQL ``ChunkRow`` (the source of truth) → vector and BM25 indexes.

Ingest writes chunks to SQL only, in the same transaction as the note or policy row. The indexes
are derived: ``sync_indexes`` makes Chroma and BM25 hold exactly the SQL chunk ids. Because chunk
ids are content hashes of everything an index stores (offsets, text, index text AND the filter
metadata: patient, facility, labels, note type, date), any change to a chunk — including a security
label added on re-ingest — shows up as "old id gone, new id present", so an id diff is a complete
diff. A crash anywhere (mid-ingest, mid-embedding) converges on the next sync.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import delete
from sqlmodel import Session, col, select

from carecite.domain import Chunk, date_int
from carecite.ingest.chunking import TextSpan, chunk_text
from carecite.ports import Vector
from carecite.privacy.identity import PatientIdentity, scrub_identifiers
from carecite.records import session_scope
from carecite.records import tables as t

if TYPE_CHECKING:
    from carecite.wiring import Stores

POLICY_NOTE_TYPE = "Coverage policy"
EMBED_BATCH = 256  # chunks embedded and upserted per step: bounds memory, and a crash loses one batch


def chunk_id_for(chunk_fields: dict[str, object]) -> str:
    """Stable id: a hash of everything the indexes store for the chunk (see module docstring)."""
    payload = json.dumps(chunk_fields, sort_keys=True, ensure_ascii=False, default=str)
    return "ch_" + hashlib.sha256(payload.encode()).hexdigest()[:24]


def _index_prefix(kind: str | None, section: str | None) -> str:
    # Chunks after the first of a section no longer contain its header; the prefix puts the note
    # type and section back into what is embedded and searched ("Discharge summary: HOSPITAL COURSE").
    first_section = section.split(" / ")[0] if section else None
    head = ": ".join(x for x in (kind, first_section) if x)
    return f"{head}\n" if head else ""


def _make_chunk(fields: dict[str, object]) -> Chunk:
    return Chunk.model_validate({"chunk_id": chunk_id_for(fields), **fields})


def chunks_for_note(note: t.Note, patient: t.Patient | None) -> list[Chunk]:
    """Chunks of one note, with the patient's own identifiers scrubbed from the index text."""
    identity = PatientIdentity.from_patient(patient) if patient is not None else None
    labels = tuple(sorted(t.labels_from_str(note.security_labels)))
    out: list[Chunk] = []
    for span in chunk_text(note.text):
        text = note.text[span.start : span.end]
        index_text = _index_prefix(note.note_type, span.section) + scrub_identifiers(text, identity)
        out.append(
            _make_chunk(
                {
                    "source_type": "note_chunk",
                    "source_ref": note.ref,
                    "doc_id": note.ref,
                    "patient_key": note.patient_key,
                    "facility": note.facility,
                    "note_type": note.note_type,
                    "note_type_code": note.note_type_code,
                    "note_date": date_int(note.date.date()) if note.date else 0,
                    "author_role": note.author_role,
                    "security_labels": labels,
                    "section": span.section,
                    "start": span.start,
                    "end": span.end,
                    "text": text,
                    "index_text": index_text,
                }
            )
        )
    return out


def chunks_for_policy(policy: t.Policy) -> list[Chunk]:
    """Chunks of one coverage policy. The policy title (and termination, if any) prefixes the index
    text so a chunk deep in a long NCD still says which policy it belongs to."""
    spans: list[TextSpan] = chunk_text(policy.text)
    title = policy.title or policy.id
    if policy.terminated:
        title = f"{title} (terminated {policy.terminated.isoformat()})"
    out: list[Chunk] = []
    for span in spans:
        text = policy.text[span.start : span.end]
        out.append(
            _make_chunk(
                {
                    "source_type": "policy",
                    "source_ref": policy.id,
                    "doc_id": policy.id,
                    "patient_key": None,
                    "facility": None,
                    "note_type": POLICY_NOTE_TYPE,
                    "note_type_code": None,
                    "note_date": date_int(policy.effective),
                    "author_role": None,
                    "security_labels": (),
                    "section": span.section,
                    "start": span.start,
                    "end": span.end,
                    "text": text,
                    "index_text": _index_prefix(title, span.section) + text,
                }
            )
        )
    return out


# --------------------------------------------------------------------------- SQL side
def chunk_to_row(c: Chunk) -> t.ChunkRow:
    return t.ChunkRow(
        chunk_id=c.chunk_id,
        doc_id=c.doc_id,
        source_type=c.source_type,
        source_ref=c.source_ref,
        patient_key=c.patient_key,
        facility=c.facility,
        note_type=c.note_type,
        note_type_code=c.note_type_code,
        note_date=c.note_date,
        author_role=c.author_role,
        security_labels=t.labels_to_str(c.security_labels),
        section=c.section,
        start=c.start,
        end=c.end,
        text=c.text,
        index_text=c.index_text,
    )


def row_to_chunk(r: t.ChunkRow) -> Chunk:
    return Chunk(
        chunk_id=r.chunk_id,
        source_type="policy" if r.source_type == "policy" else "note_chunk",
        source_ref=r.source_ref,
        doc_id=r.doc_id,
        patient_key=r.patient_key,
        facility=r.facility,
        note_type=r.note_type,
        note_type_code=r.note_type_code,
        note_date=r.note_date,
        author_role=r.author_role,
        security_labels=t.labels_from_str(r.security_labels),
        section=r.section,
        start=r.start,
        end=r.end,
        text=r.text,
        index_text=r.index_text,
    )


def replace_doc_chunks(session: Session, doc_id: str, chunks: Sequence[Chunk]) -> None:
    """Make the doc's SQL chunks exactly ``chunks`` (in the caller's transaction; indexes follow on sync)."""
    if any(c.doc_id != doc_id for c in chunks):
        raise ValueError(f"every chunk must belong to {doc_id}")
    session.execute(delete(t.ChunkRow).where(col(t.ChunkRow.doc_id) == doc_id))
    seen: set[str] = set()
    for c in chunks:
        if c.chunk_id not in seen:  # identical spans collapse to one id
            seen.add(c.chunk_id)
            session.add(chunk_to_row(c))
    session.flush()


# --------------------------------------------------------------------------- index sync
@dataclass(frozen=True)
class SyncReport:
    added: int  # chunks embedded and upserted into the vector index
    removed: int  # vector-index ids no longer in SQL, deleted
    bm25_rebuilt: bool
    sql: int
    vector: int
    lexical: int

    @property
    def consistent(self) -> bool:
        return self.sql == self.vector == self.lexical


def _sql_ids(stores: Stores) -> set[str]:
    with session_scope(stores.engine) as s:
        return set(s.exec(select(t.ChunkRow.chunk_id)).all())


def _rows(stores: Stores, ids: Sequence[str], batch: int) -> Iterator[list[Chunk]]:
    for i in range(0, len(ids), batch):
        part = ids[i : i + batch]
        with session_scope(stores.engine) as s:
            rows = s.exec(select(t.ChunkRow).where(col(t.ChunkRow.chunk_id).in_(part))).all()
            yield [row_to_chunk(r) for r in rows]


def _all_chunks(stores: Stores) -> list[Chunk]:
    with session_scope(stores.engine) as s:
        rows = s.exec(select(t.ChunkRow).order_by(col(t.ChunkRow.chunk_id))).all()
        return [row_to_chunk(r) for r in rows]


def sync_indexes(stores: Stores, *, progress: bool = True) -> SyncReport:
    """Make the vector and BM25 indexes hold exactly SQL's chunks. Idempotent; safe to re-run after
    any crash (each upsert batch is durable on its own, and BM25 is swapped in atomically)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    sql_ids = _sql_ids(stores)
    vectors = stores.vectors
    stale = sorted(vectors.ids() - sql_ids)
    if stale:
        vectors.delete(stale)
    missing = sorted(sql_ids - vectors.ids())
    with Progress(
        TextColumn("[bold]embedding chunks"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        disable=not progress or not missing,
        transient=True,
    ) as bar:
        task = bar.add_task("embed", total=len(missing))
        embedded: list[Vector] = []  # kept for the drift snapshot (monitoring/drift.py)
        for batch in _rows(stores, missing, EMBED_BATCH):
            vecs = stores.embedder.embed_documents([c.index_text for c in batch])
            vectors.upsert(batch, vecs)
            embedded.append(vecs)
            bar.advance(task, len(batch))
    if embedded:
        from carecite.monitoring.drift import record_chunk_vectors

        record_chunk_vectors(stores.engine, stores.embedder.fingerprint, np.vstack(embedded), stores.settings)

    lexical = stores.lexical
    rebuilt = False
    if lexical.ids() != sql_ids:
        lexical.rebuild(_all_chunks(stores))
        rebuilt = True
    return SyncReport(
        added=len(missing),
        removed=len(stale),
        bm25_rebuilt=rebuilt,
        sql=len(sql_ids),
        vector=vectors.count(),
        lexical=lexical.count(),
    )
