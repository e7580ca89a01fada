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

from sqlalchemy import delete
from sqlmodel import Session, col, select

from carecite.domain import Chunk, date_int
from carecite.ingest.chunking import TextSpan, chunk_text
from carecite.ports import Embedder
from carecite.privacy.identity import PatientIdentity, scrub_identifiers
from carecite.records import session_scope
from carecite.records import tables as t

if TYPE_CHECKING:
    from carecite.retrieval.vector_cache import VectorCache
    from carecite.stores import Stores

POLICY_NOTE_TYPE = "Coverage policy"
EMBED_BATCH = 256  # chunks embedded and upserted per step: bounds memory, and a crash loses one batch
INGEST_CACHE_ITEMS = 50_000  # ~75 MB of 384-d vectors


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
    source_vectors: int = 0  # chunks and patients whose query-time texts were embedded (source_vectors)

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


def _all_chunks(stores: Stores) -> Iterator[Chunk]:
    """Every SQL chunk in id order, streamed: the lexical index reads them in one pass, so the corpus
    is never held whole as rows or chunks."""
    with session_scope(stores.engine) as s:
        rows = s.exec(select(t.ChunkRow).order_by(col(t.ChunkRow.chunk_id)).execution_options(yield_per=1000))
        for r in rows:
            yield row_to_chunk(r)


def sync_indexes(stores: Stores, *, progress: bool = True, cache: VectorCache | None = None) -> SyncReport:
    """Make the vector index, the source-vector store and BM25 hold exactly SQL's chunks. Idempotent;
    safe to re-run after any crash (each batch is durable on its own, and BM25 is swapped in
    atomically). Chunk vectors and the chunks' query-time text vectors are embedded in one batch.
    ``cache``: the vector cache to embed through (a seeded one, see ``vector_seed``); default a
    fresh ``ingest_cache``."""
    from carecite.ingest.native_heap import bound_native_heap

    if stores.settings.ingest_bound_native_heap:
        bound_native_heap()  # freed encode activations go back to the system: memory flat in corpus size
    sql_ids = _sql_ids(stores)
    vectors = stores.vectors
    stale = sorted(vectors.ids() - sql_ids)
    if stale:
        vectors.delete(stale)
    missing = sql_ids - vectors.ids()
    texts = stores.source_vectors
    texts.delete_other_models()
    have = texts.stored(prefix_records=False)
    texts.delete(sorted(set(have) - sql_ids))
    need_texts = sql_ids - set(have)
    del have  # one row id per chunk: not kept through the BM25 rebuild
    # Its own call: the ingest cache (up to INGEST_CACHE_ITEMS vectors) and the drift sample are freed
    # before BM25 is rebuilt over every chunk, so the two peaks do not add up.
    patients = _embed(stores, missing, need_texts, progress=progress, cache=cache)

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
        source_vectors=len(need_texts) + patients,
    )


def _embed(
    stores: Stores, missing: set[str], need_texts: set[str], *, progress: bool, cache: VectorCache | None
) -> int:
    """Embed the chunks the vector index lacks and the query-time texts the source-vector store
    lacks, batch by batch, then each changed patient's record statements; record the new chunks'
    drift sample. Returns how many patients' statements were embedded."""
    from carecite.answering.query_texts import chunk_items
    from carecite.ingest.progress import step_progress
    from carecite.monitoring.drift import ChunkDriftSample

    cache = cache if cache is not None else ingest_cache(stores.embedder)
    vectors, texts = stores.vectors, stores.source_vectors
    todo = sorted(missing | need_texts)
    drift = ChunkDriftSample(stores.engine, stores.settings)  # the new chunks' drift snapshot, per corpus
    with step_progress(
        "embedding chunks and their sentences", len(todo), enabled=progress, eta=True
    ) as advance:
        for batch in _rows(stores, todo, EMBED_BATCH):
            dense = [c for c in batch if c.chunk_id in missing]
            items = chunk_items([c for c in batch if c.chunk_id in need_texts])
            flat = [c.index_text for c in dense] + [x for item in items for x in item.texts]
            vecs = cache.vectors(flat)
            if dense:
                vectors.upsert(dense, vecs[: len(dense)])
                drift.add_chunks([c.source_type for c in dense], vecs[: len(dense)])
            if items:
                texts.write(items, vecs[len(dense) :])
            advance(len(batch))
    patients = sync_record_vectors(stores, progress=progress, cache=cache)
    drift.record(stores.embedder.fingerprint)
    return patients


def ingest_cache(embedder: Embedder) -> VectorCache:
    """A bounded cache for one sync: a sentence repeated across notes (templates, sign-offs, headers)
    is embedded once, and memory stays flat in corpus size."""
    from carecite.retrieval.vector_cache import VectorCache

    return VectorCache(embedder, max_items=INGEST_CACHE_ITEMS)


def sync_record_vectors(
    stores: Stores,
    *,
    progress: bool = True,
    only: Sequence[str] | None = None,
    cache: VectorCache | None = None,
) -> int:
    """Embed each patient's record statements (as ``search`` renders them today) when they changed;
    delete the rows of patients no longer in SQL. Returns how many patients were (re-)embedded."""
    from carecite.answering.query_texts import record_items
    from carecite.ingest.progress import step_progress
    from carecite.records.clock import today
    from carecite.retrieval.records.lookup import StructuredRetriever
    from carecite.retrieval.source_vectors import OwnerTexts, keys_of, records_owner

    texts = stores.source_vectors
    cache = cache if cache is not None else ingest_cache(stores.embedder)
    have = texts.stored(prefix_records=True)
    with session_scope(stores.engine) as s:
        keys = sorted(k for k in s.exec(select(t.Patient.patient_key)).all() if k)
    if only is None:
        texts.delete(sorted(set(have) - {records_owner(k) for k in keys}))
    else:
        keys = [k for k in keys if k in set(only)]
    retriever = StructuredRetriever(stores.engine, today(stores.settings, stores.engine))
    pending: list[OwnerTexts] = []
    done = 0

    def flush() -> None:
        if pending:
            texts.write(pending, cache.vectors([x for item in pending for x in item.texts]))
            pending.clear()

    with step_progress("embedding record statements", len(keys), enabled=progress) as advance:
        for key in keys:
            item = record_items(retriever.statement_texts(key), key)
            if have.get(item.owner) != keys_of(item.texts):
                pending.append(item)
                done += 1
                if sum(len(i.texts) for i in pending) >= EMBED_BATCH * 4:
                    flush()
            advance()
        flush()
    return done
