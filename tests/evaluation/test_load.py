"""`carecite bench load`: concurrent clients against the real API over embedded and shared stores
(PostgreSQL with pgvector and full-text search) in one run; every answered request leaves exactly
one audit record and the chain verifies."""

from __future__ import annotations

from pathlib import Path

import pytest

from carecite.api.load_bench import StoreSetup, run_load
from carecite.settings import Settings
from servers import ingest_small_world, small_world_gold

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def setups(pg_server, tmp_path_factory: pytest.TempPathFactory, embedder) -> list[StoreSetup]:  # type: ignore[no-untyped-def]
    from carecite.stores import Stores

    embedded = Settings(data_dir=tmp_path_factory.mktemp("load-embedded"))
    shared = Settings(
        data_dir=tmp_path_factory.mktemp("load-shared"),
        database_url=pg_server.url(pg_server.create_database()),
        vector_store="pgvector",
        lexical_store="postgres",
    )
    out = []
    for settings in (embedded, shared):
        ingest_small_world(Stores(settings, embedder=embedder))
        out.append(StoreSetup("embedded" if settings.database_url is None else "shared", settings))
    return out


def test_both_store_setups_serve_concurrent_clients_with_one_audit_record_per_request(
    setups: list[StoreSetup], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder
) -> None:  # type: ignore[no-untyped-def]
    import carecite.wiring as wiring

    monkeypatch.setattr(wiring.Stores, "embedder", property(lambda self: embedder))  # one model load
    results = run_load(
        setups, small_world_gold(tmp_path / "gold.jsonl"), clients=3, seconds=4, progress=False
    )
    assert [r.stores for r in results] == [
        "SQLite + embedded Chroma + bm25s",
        "PostgreSQL + pgvector + PostgreSQL FTS",
    ]
    for r in results:
        assert r.requests >= 3 and r.ok == r.requests and r.errors == {}, r
        assert r.audit_records == r.requests, r
        assert r.audit_one_per_request and r.chain_ok, r
        assert 0 < r.p50_ms <= r.p95_ms <= r.p99_ms
        assert r.throughput_rps > 0
