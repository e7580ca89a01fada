"""The access-filter battery every index implementation must pass (VectorIndex and LexicalIndex
contracts): chunks covering every filter dimension, filters over all of them, and the reference
semantics — domain.RetrievalFilter's docstring transcribed literally."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator

from carecite.domain import SENSITIVE_LABELS, Chunk, RetrievalFilter
from fakes import filter_allows

# domain.RetrievalFilter's docstring, transcribed literally (one copy, shared with the in-memory fake).
reference_allows = filter_allows

PA, PB = "pk_aaaaaaaaaaaaaaaaaaaa", "pk_bbbbbbbbbbbbbbbbbbbb"
F1, F2 = "Organization/f1", "Organization/f2"
DS, PN = "Discharge summary", "Progress note"
DOCREF, REPORT = "DocumentReference", "DiagnosticReport"  # a note's resource type (token scopes narrow by it)


def battery_chunks() -> list[Chunk]:
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


def battery_filters() -> Iterator[RetrievalFilter]:
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
