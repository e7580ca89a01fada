"""The security seam: dense (Chroma) and lexical (BM25) return EXACTLY the chunks the RetrievalFilter
allows — the semantics in domain.RetrievalFilter's docstring — for every filter dimension."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator

import pytest

from carecite.domain import SENSITIVE_LABELS, Chunk, RetrievalFilter, resource_type_of
from carecite.ingest.indexing import chunk_to_row
from carecite.ports import VectorIndex
from carecite.records import session_scope
from carecite.retrieval.dense import ChromaVectorIndex
from carecite.retrieval.lexical import Bm25Index
from carecite.retrieval.patient_dense import PatientScopedVectorIndex
from carecite.settings import Settings
from carecite.wiring import Stores

PA, PB = "pk_aaaaaaaaaaaaaaaaaaaa", "pk_bbbbbbbbbbbbbbbbbbbb"
F1, F2 = "Organization/f1", "Organization/f2"
DS, PN = "Discharge summary", "Progress note"
DOCREF, REPORT = "DocumentReference", "DiagnosticReport"  # a note's resource type (token scopes narrow by it)


def _chunks() -> list[Chunk]:
    out: list[Chunk] = []
    combos = itertools.product(
        (PA, PB),
        ((), ("PSY",), ("ETH",), ("PSY", "HIV"), ("R",), ("N",)),  # "N": a non-sensitive code
        (F1, F2, None),
        (DS, PN, None),
        (0, 20200115, 20210601, 20220101),
    )
    rng = random.Random(7)
    picked = [c for c in combos if rng.random() < 0.35]
    for i, (pk, labels, fac, nt, d) in enumerate(picked):
        text = f"zebra note {i} for follow-up"
        out.append(
            Chunk(
                chunk_id=f"n{i:03d}",
                source_type="note_chunk",
                source_ref=f"{REPORT if i % 3 == 0 else DOCREF}/d{i}",
                doc_id=f"{REPORT if i % 3 == 0 else DOCREF}/d{i}",
                patient_key=pk,
                facility=fac,
                note_type=nt,
                note_type_code=None,
                note_date=d,
                security_labels=labels,
                start=0,
                end=len(text),
                text=text,
                index_text=text,
            )
        )
    for i, d in enumerate((19920831, 20150101)):
        text = f"zebra coverage policy {i}"
        out.append(
            Chunk(
                chunk_id=f"p{i}",
                source_type="policy",
                source_ref=f"Policy/{i}",
                doc_id=f"Policy/{i}",
                patient_key=None,
                facility=None,
                note_type="Coverage policy",
                note_type_code=None,
                note_date=d,
                start=0,
                end=len(text),
                text=text,
                index_text=text,
            )
        )
    return out


def reference_allows(c: Chunk, f: RetrievalFilter) -> bool:
    """domain.RetrievalFilter's docstring, transcribed literally."""
    if c.source_type == "policy" and f.include_policies:
        return True
    return (
        c.patient_key == f.patient_key
        and not any(label in f.disallowed_labels for label in c.security_labels)
        and (f.facility is None or c.facility == f.facility)
        and (f.resource_types is None or resource_type_of(c.source_ref) in f.resource_types)
        and (not f.note_types or c.note_type in f.note_types)
        and (f.date_from == 0 or c.note_date >= f.date_from)
        and (f.date_to == 0 or c.note_date <= f.date_to)
    )


def _filters() -> Iterator[RetrievalFilter]:
    everything = frozenset(SENSITIVE_LABELS)
    explicit = [
        RetrievalFilter(patient_key=PA, allowed_labels=frozenset()),
        RetrievalFilter(patient_key=PA, allowed_labels=everything),
        RetrievalFilter(patient_key=PB, allowed_labels=frozenset({"PSY"})),
        RetrievalFilter(patient_key=PA, allowed_labels=frozenset({"PSY", "HIV"})),
        RetrievalFilter(patient_key=PA, allowed_labels=everything, include_policies=False),
        RetrievalFilter(patient_key="pk_unknown", allowed_labels=everything),
        RetrievalFilter(patient_key="", allowed_labels=everything, include_policies=False),
        RetrievalFilter(patient_key="", allowed_labels=everything),
        RetrievalFilter(patient_key=PA, allowed_labels=everything, facility=F2),
        RetrievalFilter(patient_key=PB, allowed_labels=frozenset(), note_types=(DS,)),
        RetrievalFilter(patient_key=PB, allowed_labels=frozenset(), note_types=(DS, PN)),
        RetrievalFilter(patient_key=PA, allowed_labels=everything, date_from=20210601),
        RetrievalFilter(patient_key=PA, allowed_labels=everything, date_to=20200115),
        RetrievalFilter(patient_key=PA, allowed_labels=everything, date_from=20200116, date_to=20211231),
        RetrievalFilter(
            patient_key=PB,
            allowed_labels=frozenset({"ETH"}),
            facility=F1,
            note_types=(PN,),
            date_from=20200101,
        ),
        RetrievalFilter(patient_key=PA, allowed_labels=everything, resource_types=frozenset({DOCREF})),
        RetrievalFilter(
            patient_key=PB, allowed_labels=frozenset(), resource_types=frozenset({REPORT, "Task"})
        ),
        RetrievalFilter(patient_key=PA, allowed_labels=everything, resource_types=frozenset({"Observation"})),
        RetrievalFilter(patient_key=PA, allowed_labels=everything, resource_types=frozenset()),
    ]
    yield from explicit
    rng = random.Random(11)
    label_sets = [frozenset(), frozenset({"PSY"}), frozenset({"ETH", "R"}), frozenset(SENSITIVE_LABELS)]
    for _ in range(60):
        d1, d2 = rng.choice([0, 20200115, 20210101]), rng.choice([0, 20210601, 20230101])
        yield RetrievalFilter(
            patient_key=rng.choice([PA, PB, "pk_nobody"]),
            allowed_labels=rng.choice(label_sets),
            facility=rng.choice([None, F1, F2, "Organization/none"]),
            note_types=rng.choice([(), (DS,), (PN,), (DS, PN), ("Nope",)]),
            date_from=d1,
            date_to=d2,
            include_policies=rng.random() < 0.5,
            resource_types=rng.choice([None, None, frozenset({DOCREF}), frozenset({REPORT}), frozenset()]),
        )


@pytest.fixture(scope="module")
def contract_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("contract"))


@pytest.fixture(scope="module")
def indexes(contract_settings: Settings, embedder):  # type: ignore[no-untyped-def]
    settings = contract_settings
    chunks = _chunks()
    dense = ChromaVectorIndex.open(settings, embedder)
    dense.upsert(chunks, embedder.embed_documents([c.index_text for c in chunks]))
    lexical = Bm25Index.open(settings.bm25_path)
    lexical.rebuild(chunks)
    return chunks, dense, lexical, embedder.embed_query("zebra follow-up")


@pytest.fixture(scope="module")
def patient_path(indexes, contract_settings: Settings, embedder) -> VectorIndex:  # type: ignore[no-untyped-def]
    """The index the pipeline really uses (``Stores.vectors``): the exact per-patient path over the
    same Chroma collection, with the chunk rows in real SQL (where it reads a patient's chunk ids)."""
    stores = Stores(contract_settings, embedder=embedder)
    with session_scope(stores.engine) as session:
        for c in indexes[0]:
            session.add(chunk_to_row(c))
    assert isinstance(stores.vectors, PatientScopedVectorIndex)
    return stores.vectors


def test_the_chunk_set_covers_every_filter_dimension(indexes) -> None:  # type: ignore[no-untyped-def]
    chunks = indexes[0]
    assert {c.patient_key for c in chunks} == {PA, PB, None}
    assert {c.facility for c in chunks} == {F1, F2, None}
    assert {c.note_type for c in chunks} >= {DS, PN, None}
    assert {lab for c in chunks for lab in c.security_labels} == {"PSY", "ETH", "HIV", "R", "N"}
    assert len({c.note_date for c in chunks}) >= 4
    assert {resource_type_of(c.source_ref) for c in chunks} == {DOCREF, REPORT, "Policy"}


def test_dense_and_lexical_return_exactly_the_allowed_chunks(indexes) -> None:  # type: ignore[no-untyped-def]
    chunks, dense, lexical, qvec = indexes
    k = len(chunks) + 5
    checked = 0
    for flt in _filters():
        expected = {c.chunk_id for c in chunks if reference_allows(c, flt)}
        got_dense = [c.source_id for c in dense.query(qvec, flt, k)]
        got_lexical = [c.source_id for c in lexical.query("zebra", flt, k)]
        assert len(got_dense) == len(set(got_dense)) and len(got_lexical) == len(set(got_lexical))
        assert set(got_dense) == expected, f"dense differs for {flt}"
        assert set(got_lexical) == expected, f"lexical differs for {flt}"
        checked += bool(expected)
    assert checked > 40, "the battery must exercise non-empty results"


def test_top_k_never_fills_up_with_disallowed_chunks(indexes) -> None:  # type: ignore[no-untyped-def]
    """Filtering happens inside the query: a small k still returns k allowed chunks."""
    chunks, dense, lexical, qvec = indexes
    flt = RetrievalFilter(patient_key=PB, allowed_labels=frozenset(), include_policies=False)
    allowed = {c.chunk_id for c in chunks if reference_allows(c, flt)}
    assert len(allowed) >= 3
    assert len(dense.query(qvec, flt, 3)) == 3 and {c.source_id for c in dense.query(qvec, flt, 3)} <= allowed
    assert len(lexical.query("zebra", flt, 3)) == 3
    assert {c.source_id for c in lexical.query("zebra", flt, 3)} <= allowed


def test_candidates_carry_the_metadata_the_guard_rechecks(indexes) -> None:  # type: ignore[no-untyped-def]
    chunks, dense, lexical, qvec = indexes
    by_id = {c.chunk_id: c for c in chunks}
    flt = RetrievalFilter(patient_key=PA, allowed_labels=frozenset(SENSITIVE_LABELS))
    for cand in dense.query(qvec, flt, 200) + lexical.query("zebra", flt, 200):
        src = by_id[cand.source_id]
        assert (cand.patient_key, cand.facility, cand.note_type, cand.note_date) == (
            src.patient_key,
            src.facility,
            src.note_type,
            src.note_date,
        )
        assert set(cand.security_labels) == set(src.security_labels)
        assert (cand.text, cand.start, cand.end, cand.doc_id) == (src.text, src.start, src.end, src.doc_id)


def test_the_per_patient_exact_path_returns_exactly_the_allowed_chunks(indexes, patient_path) -> None:  # type: ignore[no-untyped-def]
    chunks, _, _, qvec = indexes
    k = len(chunks) + 5
    for flt in _filters():
        expected = {c.chunk_id for c in chunks if reference_allows(c, flt)}
        got = [c.source_id for c in patient_path.query(qvec, flt, k)]
        assert len(got) == len(set(got)) and set(got) == expected, f"patient path differs for {flt}"


def test_the_per_patient_exact_path_ranks_like_the_chroma_query(indexes, patient_path) -> None:  # type: ignore[no-untyped-def]
    """Same ids, same order, same scores as the filtered HNSW query (exact on a small world)."""
    _, dense, _, qvec = indexes
    compared = 0
    for flt in _filters():
        for k in (1, 3, 8):
            want = dense.query(qvec, flt, k)
            got = patient_path.query(qvec, flt, k)
            assert [c.source_id for c in got] == [c.source_id for c in want], (
                f"order differs for {flt}, k={k}"
            )
            assert [round(c.score, 4) for c in got] == [round(c.score, 4) for c in want]
            assert [c.model_dump() for c in got] == [
                c.model_dump() | {"score": g.score} for c, g in zip(want, got, strict=True)
            ]
            compared += len(want) > 1
    assert compared > 60, "the battery must compare real rankings"
