"""Counts per store: the ``carecite stats`` contract (DESIGN.md).

    {"patients": 0, "records": {"Task": 0, "CarePlan": 0, "CarePlan.activity": 0, …},
     "notes": {"total": 0, "by_type": {"Discharge summary": 0, …}},
     "chunks": {"sql": 0, "vector": 0, "lexical": 0}, "policies": 0}

The three chunk counts must agree after an ingest: SQL is the source of truth, the vector and BM25
indexes are synced from it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.table import Table
from sqlalchemy import func
from sqlmodel import Session, SQLModel, col, select

from carecite.records import tables as t

if TYPE_CHECKING:
    from carecite.stores import Stores

UNTYPED_NOTE = "(no type)"


def _count(session: Session, model: type[SQLModel]) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())


def collect_stats(stores: Stores) -> dict[str, Any]:
    with Session(stores.engine) as session:
        records = {name: _count(session, model) for name, model in t.RECORD_TABLES.items()}
        records["CarePlan.activity"] = _count(session, t.CarePlanActivity)
        by_type = {
            (note_type or UNTYPED_NOTE): int(n)
            for note_type, n in session.exec(
                select(t.Note.note_type, func.count())
                .group_by(col(t.Note.note_type))
                .order_by(col(t.Note.note_type))
            )
        }
        stats: dict[str, Any] = {
            "patients": _count(session, t.Patient),
            "records": records,
            "notes": {"total": _count(session, t.Note), "by_type": by_type},
            "chunks": {
                "sql": _count(session, t.ChunkRow),
                "vector": stores.vectors.count(),
                "lexical": stores.lexical.count(),
            },
            "policies": _count(session, t.Policy),
        }
    return stats


def chunks_agree(stats: dict[str, Any]) -> bool:
    chunks = stats["chunks"]
    return bool(chunks["sql"] == chunks["vector"] == chunks["lexical"])


def stats_table(stats: dict[str, Any]) -> Table:
    """The human view of ``collect_stats``: one row per count, chunk disagreement in red."""
    table = Table(title="carecite stats", show_header=True)
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("patients", str(stats["patients"]))
    for name, n in stats["records"].items():
        table.add_row(f"records: {name}", str(n))
    table.add_row("notes", str(stats["notes"]["total"]))
    for name, n in stats["notes"]["by_type"].items():
        table.add_row(f"  {name}", str(n))
    style = "" if chunks_agree(stats) else "bold red"
    for store, n in stats["chunks"].items():
        table.add_row(f"chunks: {store}", str(n), style=style)
    table.add_row("policies", str(stats["policies"]))
    return table
