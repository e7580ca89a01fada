"""The Chroma adapter: persistence, the embedder fingerprint guard, original text and cosine scores."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from carecite.domain import Chunk, RetrievalFilter
from carecite.ports import Vector
from carecite.retrieval.dense import ChromaVectorIndex, EmbedderMismatchError, build_where
from carecite.settings import Settings

PK = "pk_dense"


def _chunk(i: int, text: str) -> Chunk:
    return Chunk(
        chunk_id=f"c{i}",
        source_type="note_chunk",
        source_ref=f"DocumentReference/{i}",
        doc_id=f"DocumentReference/{i}",
        patient_key=PK,
        facility="Organization/o",
        note_type="Progress note",
        note_type_code=None,
        start=10,
        end=10 + len(text),
        text=text,
        index_text=text.replace("Alvin56", "[PATIENT]"),
    )


class OtherModel:
    """An embedder with a different fingerprint (same dimension): the index must refuse it."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner = inner

    @property
    def fingerprint(self) -> str:
        return "some-other-model:384"

    @property
    def dim(self) -> int:
        return int(self.inner.dim)

    def embed_documents(self, texts: Sequence[str]) -> Vector:
        return self.inner.embed_documents(texts)  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> Vector:
        return self.inner.embed_query(text)  # type: ignore[no-any-return]


def test_query_returns_original_text_and_cosine_similarity(settings: Settings, embedder) -> None:  # type: ignore[no-untyped-def]
    index = ChromaVectorIndex.open(settings, embedder)
    chunks = [_chunk(1, "Alvin56 takes furosemide for heart failure."), _chunk(2, "Knee replaced in 2019.")]
    vectors = embedder.embed_documents([c.index_text for c in chunks])
    index.upsert(chunks, vectors)
    index.upsert(chunks, vectors)  # idempotent
    assert index.count() == 2 and index.ids() == {"c1", "c2"}

    q = embedder.embed_query("diuretic for heart failure")
    hits = index.query(q, RetrievalFilter(patient_key=PK, allowed_labels=frozenset()), 5)
    assert [h.source_id for h in hits] == ["c1", "c2"]
    assert hits[0].text == "Alvin56 takes furosemide for heart failure."  # original, not index text
    assert hits[0].retriever == "dense" and (hits[0].start, hits[0].end) == (10, 53)
    assert hits[0].score == pytest.approx(float(np.dot(q, vectors[0])), abs=1e-4)

    index.delete(["c2"])
    assert index.ids() == {"c1"}


def test_reopening_keeps_data_and_a_different_model_is_refused(settings: Settings, embedder) -> None:  # type: ignore[no-untyped-def]
    index = ChromaVectorIndex.open(settings, embedder)
    c = _chunk(1, "Metformin 500 mg twice daily.")
    index.upsert([c], embedder.embed_documents([c.index_text]))
    assert ChromaVectorIndex.open(settings, embedder).ids() == {"c1"}
    with pytest.raises(EmbedderMismatchError, match="some-other-model"):
        ChromaVectorIndex.open(settings, OtherModel(embedder))


def test_vectors_must_match_chunks(settings: Settings, embedder) -> None:  # type: ignore[no-untyped-def]
    index = ChromaVectorIndex.open(settings, embedder)
    with pytest.raises(ValueError):
        index.upsert([_chunk(1, "x")], np.zeros((2, embedder.dim), dtype=np.float32))
    with pytest.raises(ValueError):
        index.upsert([_chunk(1, "x")], np.zeros((1, 3), dtype=np.float32))


def test_where_clause_is_the_filter_and_empty_patient_matches_nothing() -> None:
    flt = RetrievalFilter(patient_key="", allowed_labels=frozenset(), include_policies=False)
    assert build_where(flt) is None
    where = build_where(
        RetrievalFilter(patient_key=PK, allowed_labels=frozenset({"PSY"}), date_from=20200101)
    )
    assert where is not None
    patient_branch = where["$or"][1]["$and"]
    # Patient and labels are ONE indexed condition: the patient's key with each allowed label set.
    assert {"access_key": {"$in": [f"{PK}#", f"{PK}#PSY"]}} in patient_branch
    assert {"note_date": {"$gte": 20200101}} in patient_branch and len(patient_branch) == 2


def test_an_index_written_with_per_label_booleans_is_migrated_on_open(settings: Settings, embedder) -> None:  # type: ignore[no-untyped-def]
    """Schema 1 stored ``lbl_<X>`` booleans and no access key: opening migrates it, without re-embedding."""
    from carecite.retrieval.dense import SCHEMA_KEY, _client

    old = [
        _chunk(1, "heart failure follow-up"),
        _chunk(2, "depression screening").model_copy(update={"security_labels": ("PSY",)}),
    ]
    index = ChromaVectorIndex.open(settings, embedder)
    index.upsert(old, embedder.embed_documents([c.index_text for c in old]))
    col = _client(settings).get_collection("carecite_chunks")
    got = col.get(include=["metadatas"])
    col.update(
        ids=got["ids"],
        metadatas=[{**m, "access_key": None, "lbl_PSY": "PSY" in str(m["labels"])} for m in got["metadatas"]],
    )
    col.modify(metadata={k: v for k, v in col.metadata.items() if k != SCHEMA_KEY})
    assert all("access_key" not in m for m in col.get(include=["metadatas"])["metadatas"])

    reopened = ChromaVectorIndex.open(settings, embedder)
    q = embedder.embed_query("follow-up")
    no_psy = RetrievalFilter(patient_key=PK, allowed_labels=frozenset(), include_policies=False)
    with_psy = RetrievalFilter(patient_key=PK, allowed_labels=frozenset({"PSY"}), include_policies=False)
    assert {c.source_id for c in reopened.query(q, no_psy, 10)} == {"c1"}
    assert {c.source_id for c in reopened.query(q, with_psy, 10)} == {"c1", "c2"}
    assert _client(settings).get_collection("carecite_chunks").metadata[SCHEMA_KEY] == 2
