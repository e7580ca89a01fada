"""Chunks from notes and policies, the SQL source of truth, and index sync converging after a crash."""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlmodel import select

from carecite.domain import RetrievalFilter, patient_key_for
from carecite.ingest.indexing import (
    chunks_for_note,
    chunks_for_policy,
    replace_doc_chunks,
    sync_indexes,
)
from carecite.records import session_scope
from carecite.records import tables as t

PK = patient_key_for("p1")
NOTE_TEXT = (
    "\r\n2021-03-04\r\n\r\n# History of Present Illness\r\nAlvin56 Jerde200\r\n is a 40 year-old male, "
    "DOB 11/20/1981, phone 555-341-3425.\r\n\r\n# Assessment and Plan\r\n"
    + " ".join(f"Plan item {i}: follow up with cardiology about furosemide dose {i} mg." for i in range(25))
    + "\r\n"
)


def _patient() -> t.Patient:
    raw = {
        "name": [{"given": ["Alvin56"], "family": "Jerde200"}],
        "telecom": [{"system": "phone", "value": "555-341-3425"}],
    }
    return t.Patient(
        id="p1",
        patient_key=PK,
        name="Alvin56 Jerde200",
        given="Alvin56",
        family="Jerde200",
        birth_date=date(1981, 11, 20),
        raw=json.dumps(raw),
    )


def _note(n: int, text: str = NOTE_TEXT, labels: str = "") -> t.Note:
    return t.Note(
        ref=f"DocumentReference/n{n}",
        fhir_id=f"n{n}",
        patient_key=PK,
        facility="Organization/o1",
        note_type="Discharge summary",
        note_type_code="18842-5",
        date=datetime(2021, 3, 4, 10, 30),
        author_role="physician",
        security_labels=labels,
        text=text,
    )


def test_note_chunks_are_exact_slices_with_scrubbed_index_text() -> None:
    note = _note(1)
    chunks = chunks_for_note(note, _patient())
    assert len(chunks) >= 2
    for c in chunks:
        assert note.text[c.start : c.end] == c.text
        assert (c.source_ref, c.doc_id, c.patient_key, c.note_date) == (note.ref, note.ref, PK, 20210304)
        assert "Alvin56" not in c.index_text and "555-341-3425" not in c.index_text
        assert c.index_text.startswith("Discharge summary")
    first = chunks[0]
    assert "Alvin56 Jerde200" in first.text and "[PATIENT]" in first.index_text
    assert "[DOB]" in first.index_text and "[PHONE]" in first.index_text
    # later chunks of a section get the section back in their index text
    assert any(c.index_text.startswith("Discharge summary: Assessment and Plan") for c in chunks[1:])


def test_chunk_ids_are_stable_and_change_when_a_security_label_changes() -> None:
    a = chunks_for_note(_note(1), _patient())
    assert [c.chunk_id for c in a] == [c.chunk_id for c in chunks_for_note(_note(1), _patient())]
    labelled = chunks_for_note(_note(1, labels="|PSY|"), _patient())
    assert labelled[0].security_labels == ("PSY",)
    assert not {c.chunk_id for c in a} & {c.chunk_id for c in labelled}, "a relabelled chunk must re-sync"


def test_policy_chunks_have_no_patient_and_say_when_terminated() -> None:
    policy = t.Policy(
        id="Policy/240.4",
        title="CPAP Therapy for OSA",
        effective=date(2008, 3, 13),
        terminated=date(2020, 1, 1),
        text="NCD 240.4 - CPAP\n\n## Indications\nCPAP is covered for adults with OSA.",
    )
    chunks = chunks_for_policy(policy)
    assert chunks and all(c.source_type == "policy" and c.patient_key is None for c in chunks)
    assert all(c.note_type == "Coverage policy" and c.note_date == 20080313 for c in chunks)
    assert "terminated 2020-01-01" in chunks[0].index_text
    assert all(policy.text[c.start : c.end] == c.text for c in chunks)


def _load_notes(stores, notes: list[t.Note]) -> int:  # type: ignore[no-untyped-def]
    total = 0
    with session_scope(stores.engine) as s:
        s.merge(_patient())
        for note in notes:
            s.merge(note)
            chunks = chunks_for_note(note, _patient())
            replace_doc_chunks(s, note.ref, chunks)
            total += len(chunks)
    return total


def test_replace_doc_chunks_replaces_only_that_documents_rows(stores) -> None:  # type: ignore[no-untyped-def]
    _load_notes(stores, [_note(1), _note(2)])
    short = _note(1, text="# Plan\nDischarge home today.")
    with session_scope(stores.engine) as s:
        replace_doc_chunks(s, short.ref, chunks_for_note(short, None))
    with session_scope(stores.engine) as s:
        rows = s.exec(select(t.ChunkRow)).all()
    by_doc = {r.doc_id for r in rows}
    assert by_doc == {"DocumentReference/n1", "DocumentReference/n2"}
    assert [r.text for r in rows if r.doc_id == "DocumentReference/n1"] == ["# Plan\nDischarge home today."]


def test_sync_converges_after_a_crash_half_way(stores) -> None:  # type: ignore[no-untyped-def]
    total = _load_notes(stores, [_note(i) for i in range(3)])
    first = sync_indexes(stores, progress=False)
    assert first.added == total and first.consistent and first.sql == total and first.bm25_rebuilt

    # Simulate a crash between the SQL commit and the index writes: a new note is in SQL only, an old
    # one lost part of its vectors, and Chroma holds a stale id SQL no longer has.
    extra = _load_notes(stores, [_note(9, text="# Plan\nNew plan: start metoprolol.")])
    vec = stores.vectors
    some = sorted(vec.ids())[:2]
    vec.delete(some)
    stale = chunks_for_note(_note(77, text="Gone note."), None)
    vec.upsert(stale, stores.embedder.embed_documents([c.index_text for c in stale]))

    again = sync_indexes(stores, progress=False)
    assert again.added == extra + 2 and again.removed == len(stale) and again.bm25_rebuilt
    assert again.consistent and again.sql == total + extra
    with session_scope(stores.engine) as s:
        sql_ids = set(s.exec(select(t.ChunkRow.chunk_id)).all())
    assert vec.ids() == sql_ids == stores.lexical.ids()

    quiet = sync_indexes(stores, progress=False)
    assert (quiet.added, quiet.removed, quiet.bm25_rebuilt) == (0, 0, False)

    # the new note is findable through both retrievers
    flt = RetrievalFilter(patient_key=PK, allowed_labels=frozenset())
    assert any("metoprolol" in c.text for c in stores.lexical.query("metoprolol", flt, 5))
    hits = vec.query(stores.embedder.embed_query("metoprolol plan"), flt, 3)
    assert any("metoprolol" in c.text for c in hits)
