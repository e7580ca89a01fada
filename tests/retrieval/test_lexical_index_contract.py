"""ports.LexicalIndex contract, run against every implementation: bm25s (embedded) and PostgreSQL
full-text search (shared by replicas). The access-filter battery (filter_battery.py) is part of the
contract; so are term matching, the original text coming back, and rebuild replacing the index."""

from __future__ import annotations

from pathlib import Path

import pytest

from carecite.domain import SENSITIVE_LABELS, Chunk, RetrievalFilter
from carecite.ports import LexicalIndex
from filter_battery import PA, PB, battery_chunks, battery_filters, reference_allows

IMPLEMENTATIONS = ["bm25", "postgres"]


def open_index(kind: str, request: pytest.FixtureRequest, tmp: Path) -> LexicalIndex:
    """An EMPTY index of ``kind`` (skipped with the reason when PostgreSQL cannot start)."""
    if kind == "bm25":
        from carecite.retrieval.lexical import Bm25Index

        return Bm25Index.open(tmp / "bm25")
    from carecite.records import make_engine
    from carecite.retrieval.pg_lexical import PgFullTextIndex

    pg = request.getfixturevalue("pg_server")
    return PgFullTextIndex.open(make_engine(pg.url(pg.create_database())))


@pytest.fixture(scope="module", params=IMPLEMENTATIONS)
def loaded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    index = open_index(request.param, request, tmp_path_factory.mktemp("lexical"))
    chunks = battery_chunks()
    index.rebuild(chunks)
    return chunks, index


@pytest.fixture(params=IMPLEMENTATIONS)
def empty(request: pytest.FixtureRequest, tmp_path: Path) -> LexicalIndex:
    return open_index(request.param, request, tmp_path)


def test_every_store_returns_exactly_the_chunks_the_filter_allows(loaded) -> None:  # type: ignore[no-untyped-def]
    chunks, index = loaded
    k = len(chunks) + 5
    checked = 0
    for flt in battery_filters():
        expected = {c.chunk_id for c in chunks if reference_allows(c, flt)}
        got = [c.source_id for c in index.query("zebra", flt, k)]
        assert len(got) == len(set(got))
        assert set(got) == expected, f"differs for {flt}"
        checked += bool(expected)
    assert checked > 40, "the battery must exercise non-empty results"


def test_top_k_never_fills_up_with_disallowed_chunks(loaded) -> None:  # type: ignore[no-untyped-def]
    chunks, index = loaded
    flt = RetrievalFilter(patient_key=PB, allowed_labels=frozenset(), include_policies=False)
    allowed = {c.chunk_id for c in chunks if reference_allows(c, flt)}
    got = index.query("zebra", flt, 3)
    assert len(got) == 3 and {c.source_id for c in got} <= allowed


def test_candidates_carry_the_metadata_the_guard_rechecks(loaded) -> None:  # type: ignore[no-untyped-def]
    chunks, index = loaded
    by_id = {c.chunk_id: c for c in chunks}
    found = index.query(
        "zebra", RetrievalFilter(patient_key=PA, allowed_labels=frozenset(SENSITIVE_LABELS)), 200
    )
    assert found
    for cand in found:
        src = by_id[cand.source_id]
        assert cand.retriever == "lexical" and cand.score > 0
        assert (cand.patient_key, cand.facility, cand.note_type, cand.note_date) == (
            src.patient_key,
            src.facility,
            src.note_type,
            src.note_date,
        )
        assert set(cand.security_labels) == set(src.security_labels)
        assert (cand.text, cand.start, cand.end, cand.doc_id) == (src.text, src.start, src.end, src.doc_id)


PK = "pk_lexical_contract"
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
    _chunk(3, "Knee pain improved with physical therapy; knee brace fitted."),
]


def test_matching_terms_rank_and_the_original_text_comes_back(empty: LexicalIndex) -> None:
    assert empty.count() == 0 and empty.query("anything", FLT, 5) == []
    empty.rebuild(CHUNKS)
    hits = empty.query("furosemide dose", FLT, 5)
    assert [h.source_id for h in hits] == ["c1"]
    assert hits[0].text == "Alvin56 started furosemide 40 mg.", "original text, not the index text"
    assert empty.query("alvin56", FLT, 5) == [], "only the (scrubbed) index text is searched"
    assert empty.query("the of and", FLT, 5) == [], "stop words alone match nothing"
    assert empty.query("", FLT, 5) == [] and empty.query("knee", FLT, 0) == []
    ranked = empty.query("knee cardiology", FLT, 5)
    assert [h.source_id for h in ranked] == ["c3", "c2"], "more matching terms rank higher"


def test_rebuild_replaces_the_whole_index(empty: LexicalIndex) -> None:
    empty.rebuild(CHUNKS)
    assert empty.ids() == {"c1", "c2", "c3"}
    empty.rebuild([CHUNKS[0], _chunk(4, "Echocardiogram scheduled.")])
    assert empty.ids() == {"c1", "c4"} and empty.count() == 2
    assert empty.query("cardiology", FLT, 5) == []
    assert [h.source_id for h in empty.query("echocardiogram", FLT, 5)] == ["c4"]
    empty.rebuild([])
    assert empty.count() == 0 and empty.query("furosemide", FLT, 5) == []


def test_rebuild_reads_its_chunks_in_one_pass(empty: LexicalIndex) -> None:
    """The ingest streams every chunk from SQL (memory flat in corpus size): an index must not need
    them twice. A generator can be read once; a second read would find it empty."""
    big = [_chunk(10 + i, f"Follow-up note {i}: knee pain improving.") for i in range(2500)]
    empty.rebuild(c for c in [*CHUNKS, *big])
    assert empty.count() == len(CHUNKS) + len(big) and "c3" in empty.ids()
    assert [h.source_id for h in empty.query("furosemide", FLT, 5)] == ["c1"]
    empty.rebuild(c for c in CHUNKS[:1])
    assert empty.ids() == {"c1"}


def _corpus(common: str, rare: str, base: int = 0) -> list[Chunk]:
    """Five chunks with the common term, one (the highest id) with the rare term; same lengths. Chunk
    ids are content hashes in carecite, so other text gets other ids (``base``)."""
    out = [_chunk(base + i, f"Ankle {common} noted on exam today.") for i in range(1, 6)]
    return [*out, _chunk(base + 9, f"Ankle {rare} noted on exam today.")]


def test_a_rare_term_outweighs_a_common_one_and_the_statistics_follow_rebuild(empty: LexicalIndex) -> None:
    """BM25's inverse document frequency: among chunks of equal length each matching one query term,
    the chunk with the term few chunks contain ranks first (a ranking without IDF ties them and
    breaks the tie by id: c1). A rebuild moves the statistics with the corpus."""
    empty.rebuild(_corpus("edema", "dyspnea"))
    assert empty.query("edema dyspnea", FLT, 3)[0].source_id == "c9"
    empty.rebuild(_corpus("dyspnea", "edema", base=10))
    assert empty.query("edema dyspnea", FLT, 3)[0].source_id == "c19"
    assert {h.source_id for h in empty.query("dyspnea", FLT, 6)} == {f"c{i}" for i in range(11, 16)}
