"""The BM25 adapter: persistence, atomic rebuild, reload across instances, BM25 scores."""

from __future__ import annotations

from pathlib import Path

import pytest

from carecite.domain import Chunk, RetrievalFilter
from carecite.retrieval import lexical
from carecite.retrieval.lexical import Bm25Index

PK = "pk_lex"
FLT = RetrievalFilter(patient_key=PK, allowed_labels=frozenset())


def _chunk(i: int, text: str, index_text: str | None = None) -> Chunk:
    return Chunk(
        chunk_id=f"c{i}",
        source_type="note_chunk",
        source_ref=f"DocumentReference/{i}",
        doc_id=f"DocumentReference/{i}",
        patient_key=PK,
        facility=None,
        note_type="Progress note",
        note_type_code=None,
        start=0,
        end=len(text),
        text=text,
        index_text=index_text or text,
    )


CHUNKS = [
    _chunk(1, "Alvin56 started furosemide 40 mg.", "[PATIENT] started furosemide 40 mg."),
    _chunk(2, "Cardiology follow-up in two weeks."),
    _chunk(3, "Knee pain improved with physical therapy."),
]


def test_query_ranks_by_bm25_and_returns_original_text(tmp_path: Path) -> None:
    index = Bm25Index.open(tmp_path / "bm25")
    assert index.count() == 0 and index.query("anything", FLT, 5) == []
    index.rebuild(CHUNKS)
    hits = index.query("furosemide dose", FLT, 5)
    assert [h.source_id for h in hits] == ["c1"]
    assert hits[0].text == "Alvin56 started furosemide 40 mg." and hits[0].retriever == "lexical"
    assert hits[0].score > 0
    assert index.query("alvin56", FLT, 5) == [], "the patient's name is not in the index text"
    assert index.query("the of and", FLT, 5) == [], "stop words alone match nothing"


def test_index_persists_and_other_instances_see_a_rebuild(tmp_path: Path) -> None:
    a = Bm25Index.open(tmp_path / "bm25")
    a.rebuild(CHUNKS)
    b = Bm25Index.open(tmp_path / "bm25")
    assert b.ids() == {"c1", "c2", "c3"}
    a.rebuild(CHUNKS[:1])
    assert b.count() == 1, "a reader notices the new version on its next call"
    versions = [p for p in (tmp_path / "bm25").iterdir() if p.is_dir()]
    assert len(versions) == 1, "old versions are cleaned up"
    a.rebuild([])
    assert b.count() == 0 and b.query("furosemide", FLT, 5) == []


def test_a_crash_during_rebuild_leaves_the_previous_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = Bm25Index.open(tmp_path / "bm25")
    index.rebuild(CHUNKS)

    def boom(texts: list[str]) -> list[list[str]]:
        raise RuntimeError("killed mid-rebuild")

    monkeypatch.setattr(lexical, "tokenize", boom)
    with pytest.raises(RuntimeError):
        index.rebuild(CHUNKS[:1])
    monkeypatch.undo()
    reopened = Bm25Index.open(tmp_path / "bm25")
    assert reopened.ids() == {"c1", "c2", "c3"}
    assert [p.name for p in (tmp_path / "bm25").iterdir() if p.name.startswith("tmp-")] == []


def test_k_larger_than_the_corpus_and_zero_k(tmp_path: Path) -> None:
    index = Bm25Index.open(tmp_path / "bm25")
    index.rebuild(CHUNKS)
    assert len(index.query("furosemide cardiology knee", FLT, 100)) == 3
    assert index.query("furosemide", FLT, 0) == []
