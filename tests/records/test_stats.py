"""`carecite stats`: the DESIGN.md schema, and the three chunk counts agree after an ingest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console

from carecite.ingest.fhir import ingest_fhir_paths
from carecite.records import tables as t
from carecite.records.stats import chunks_agree, collect_stats, stats_table

GOOD = Path(__file__).parents[1] / "ingest" / "fixtures" / "good"


def test_empty_store_has_the_contract_schema(stores: Any) -> None:
    stats = collect_stats(stores)
    assert set(stats) == {"patients", "records", "notes", "chunks", "policies"}
    assert set(stats["records"]) == {*t.RECORD_TABLES, "CarePlan.activity"}
    assert stats["notes"] == {"total": 0, "by_type": {}}
    assert stats["chunks"] == {"sql": 0, "vector": 0, "lexical": 0}
    assert stats["patients"] == 0 and stats["policies"] == 0


def test_stats_agree_across_sql_vector_and_lexical_after_ingest(stores: Any) -> None:
    ingest_fhir_paths(stores, [GOOD], progress=False)
    stats = collect_stats(stores)
    assert stats["patients"] == 2
    assert stats["records"]["Encounter"] == 2 and stats["records"]["Observation"] == 3
    assert stats["notes"]["total"] == sum(stats["notes"]["by_type"].values()) == 3
    assert stats["chunks"]["sql"] > 0 and chunks_agree(stats)


def test_disagreeing_chunk_counts_are_flagged() -> None:
    stats = {
        "patients": 1,
        "records": {"Task": 2},
        "notes": {"total": 1, "by_type": {"Progress note": 1}},
        "chunks": {"sql": 3, "vector": 2, "lexical": 3},
        "policies": 0,
    }
    assert not chunks_agree(stats)
    console = Console(record=True, width=100)
    console.print(stats_table(stats))
    text = console.export_text()
    assert "records: Task" in text and "Progress note" in text and "chunks: vector" in text
