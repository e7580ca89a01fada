"""Every record's readable brief, quoted by the offline answer, verifies against its own statement."""

from __future__ import annotations

from carecite.answering.citations import verify_draft
from carecite.answering.extractive import cite
from carecite.domain import SENSITIVE_LABELS, RetrievalFilter
from carecite.reading.vocabulary import KIND_WORDS
from carecite.records import session_scope
from carecite.records import tables as t


def test_every_brief_in_the_committed_world_verifies_against_its_statement(world_pipeline) -> None:  # type: ignore[no-untyped-def]
    from sqlmodel import select

    stores = world_pipeline.stores
    with session_scope(stores.engine) as s:
        keys = [p.patient_key for p in s.exec(select(t.Patient)).all()]
    retriever = world_pipeline._structured()
    checked = 0
    for key in keys:
        flt = RetrievalFilter(
            patient_key=key, allowed_labels=frozenset(SENSITIVE_LABELS), include_policies=False
        )
        # A question naming every kind: each statement the retriever can render, once.
        for cand in retriever.search(
            retriever.read(" ".join(w for ws in KIND_WORDS.values() for w in ws[:1])), flt, 500
        ):
            assert cand.brief, cand.source_ref
            verified = verify_draft(cite(cand.brief, 1), [cand], stores.embedder, threshold=0.45)
            assert verified.declined_reason is None and not verified.unsupported_sentences, (
                f"{cand.brief!r} is not supported by {cand.text!r}"
            )
            checked += 1
    assert checked >= 100
