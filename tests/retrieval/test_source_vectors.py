"""Sentence vectors computed at ingest: one row per chunk (and per patient's records), converging
with SQL on every sync, and a request that embeds nothing but its question."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

import numpy as np
from sqlmodel import select

from carecite.answering.query_texts import query_texts
from carecite.domain import RetrievalFilter, patient_key_for
from carecite.ingest.indexing import chunks_for_note, replace_doc_chunks, sync_indexes
from carecite.ports import Embedder, Vector
from carecite.records import session_scope
from carecite.records import tables as t
from carecite.retrieval.rerank import EvidenceReranker
from carecite.retrieval.source_vectors import SourceVectorStore
from carecite.retrieval.vector_cache import VectorCache, text_key

PK = patient_key_for("p1")
PLAN = (
    "# Assessment and Plan\nHeart failure with reduced ejection fraction, improving on diuretics. "
    "Continue furosemide 40 mg by mouth daily. Recheck potassium and creatinine in one week. "
    "Follow up with cardiology within two weeks of discharge.\n\n# Social history\nLives with his "
    "daughter, who helps with medications. Former smoker, quit in 2015."
)


def note(n: int, text: str = PLAN) -> t.Note:
    return t.Note(
        ref=f"DocumentReference/n{n}",
        fhir_id=f"n{n}",
        patient_key=PK,
        facility="Organization/o1",
        note_type="Discharge summary",
        note_type_code="18842-5",
        date=datetime(2021, 3, 4, 10, 30),
        author_role="physician",
        text=text,
    )


def load_notes(stores, notes: list[t.Note]) -> None:  # type: ignore[no-untyped-def]
    with session_scope(stores.engine) as s:
        s.merge(
            t.Patient(id="p1", patient_key=PK, name="Alvin Jerde", given="Alvin", family="Jerde", raw="{}")
        )
        for n in notes:
            s.merge(n)
            replace_doc_chunks(s, n.ref, chunks_for_note(n, None))


class Counting:
    """The real embedder, recording every text it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.texts: list[str] = []

    @property
    def fingerprint(self) -> str:
        return self.inner.fingerprint

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed_documents(self, texts: Sequence[str]) -> Vector:
        self.texts.extend(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> Vector:
        self.texts.append(text)
        return self.inner.embed_query(text)


def _rows(stores) -> dict[str, t.SourceVectors]:  # type: ignore[no-untyped-def]
    with session_scope(stores.engine) as s:
        return {r.owner: r for r in s.exec(select(t.SourceVectors)).all()}


def test_sync_stores_every_query_text_of_every_chunk_and_drops_them_with_the_chunk(stores) -> None:  # type: ignore[no-untyped-def]
    load_notes(stores, [note(1), note(2)])
    first = sync_indexes(stores, progress=False)
    with session_scope(stores.engine) as s:
        chunks = {r.chunk_id: r.text for r in s.exec(select(t.ChunkRow)).all()}
    rows = _rows(stores)
    assert set(chunks) <= set(rows) and first.source_vectors >= len(chunks)
    some_id, text = next(iter(chunks.items()))
    row = rows[some_id]
    assert row.fingerprint == stores.embedder.fingerprint
    assert row.keys.split() == [text_key(x) for x in query_texts(text)]
    stored = np.frombuffer(row.vectors, dtype=np.float32).reshape(len(row.keys.split()), -1)
    assert np.allclose(stored[0], stores.embedder.embed_documents([text])[0], atol=1e-5)

    # Re-ingest note 1 shorter: its old chunks' rows go on the next sync, the new chunk gets one.
    short = note(1, text="# Plan\nDischarge home today with furosemide 40 mg daily.")
    with session_scope(stores.engine) as s:
        replace_doc_chunks(s, short.ref, chunks_for_note(short, None))
    sync_indexes(stores, progress=False)
    with session_scope(stores.engine) as s:
        now = set(s.exec(select(t.ChunkRow.chunk_id)).all())
    assert {o for o in _rows(stores) if not o.startswith("records:")} == now
    quiet = sync_indexes(stores, progress=False)
    assert quiet.source_vectors == 0  # converged: nothing re-embedded


def test_a_question_after_ingest_embeds_only_the_question(stores, embedder) -> None:  # type: ignore[no-untyped-def]
    load_notes(stores, [note(1), note(2)])
    sync_indexes(stores, progress=False)
    counting = Counting(embedder)
    cache = VectorCache(counting)  # a cold process: nothing in memory
    store = SourceVectorStore(stores.engine, counting, cache)
    flt = RetrievalFilter(patient_key=PK, allowed_labels=frozenset())
    question = "What dose of furosemide was planned?"
    candidates = stores.lexical.query(question, flt, 10)
    assert candidates
    assert store.preload(candidates) == len({c.source_id for c in candidates})
    ranked = EvidenceReranker(counting, cache=cache).rerank(question, candidates)
    assert ranked and counting.texts == [question]


def test_vectors_of_another_model_are_dropped_on_sync(stores) -> None:  # type: ignore[no-untyped-def]
    load_notes(stores, [note(1)])
    sync_indexes(stores, progress=False)
    with session_scope(stores.engine) as s:
        s.add(t.SourceVectors(owner="ch_x", fingerprint="other-model:384", keys="", vectors=b""))
    sync_indexes(stores, progress=False)
    assert all(r.fingerprint == stores.embedder.fingerprint for r in _rows(stores).values())
    assert json.dumps(sorted(_rows(stores)))  # still rows for the chunks
