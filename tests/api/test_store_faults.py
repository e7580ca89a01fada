"""Faults in the shared stores: kill the Chroma server or PostgreSQL mid-ask and mid-ingest.

The ask fails with a clear 503 (code ``not_ready``, Retry-After), never a 500 or a traceback; nothing
half-written is visible (a bundle's rows and chunks commit together or not at all); and re-running
the ingest after the store is back converges to the counts of an uninterrupted run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from carecite.settings import Settings
from servers import (
    ChromaServer,
    PgServer,
    ingest_small_world,
    start_chroma,
    stop_chroma,
)

pytestmark = pytest.mark.slow
PATIENT = "be8bdec0-19b8-5c70-8ace-89922887fb7e"  # patient-00001.json
USER = "cc-ben"


def _counts(settings: Settings, embedder) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    from carecite.records.stats import collect_stats
    from carecite.stores import Stores

    return collect_stats(Stores(settings, embedder=embedder))


def _ask(base: str, token: str) -> httpx.Response:
    return httpx.post(
        f"{base}/v1/ask",
        json={"question": "Which follow-ups are open right now?", "patient_id": PATIENT},
        headers={"Authorization": f"Bearer {token}"},
        timeout=120,
    )


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, embedder) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The counts of an uninterrupted ingest of the small world (embedded stores)."""
    from carecite.stores import Stores

    settings = Settings(data_dir=tmp_path_factory.mktemp("reference"))
    ingest_small_world(Stores(settings, embedder=embedder))
    counts = _counts(settings, embedder)
    assert counts["chunks"]["sql"] > 0
    return counts


def _assert_clean_503(resp: httpx.Response, store: str) -> None:
    assert resp.status_code == 503, resp.text
    body = resp.json()
    assert body["error"]["code"] == "not_ready" and store in body["error"]["message"]
    assert "Traceback" not in resp.text and resp.headers.get("Retry-After")


def test_chroma_server_killed_mid_ask_gives_503_then_recovers(
    chroma: ChromaServer, tmp_path: Path, embedder
) -> None:  # type: ignore[no-untyped-def]
    from carecite.api.auth import mint_token
    from carecite.api.server import running
    from carecite.wiring import Stores, build_pipeline

    settings = Settings(data_dir=tmp_path / "data", chroma_host=chroma.host, chroma_port=chroma.port)
    stores = Stores(settings, embedder=embedder)
    ingest_small_world(stores)
    pipeline = build_pipeline(settings, stores=stores)
    token = mint_token(settings, USER, ["user/*.rs"])
    with running(settings, pipeline) as base:
        assert _ask(base, token).status_code == 200
        before = pipeline.audit.count()
        stop_chroma(chroma)  # the server goes away between two asks
        _assert_clean_503(_ask(base, token), "vector index")
        assert pipeline.audit.verify().ok and pipeline.audit.count() == before
        restarted = start_chroma(chroma.path, tmp_path / "chroma-2.log", port=chroma.port)
        try:
            assert _ask(base, token).status_code == 200, "the same process recovers once the server is back"
        finally:
            stop_chroma(restarted)


def test_chroma_server_killed_mid_ingest_converges_on_rerun(
    chroma: ChromaServer, tmp_path: Path, embedder, reference: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from carecite.retrieval.dense import ChromaVectorIndex
    from carecite.store_errors import store_unavailable
    from carecite.stores import Stores

    settings = Settings(data_dir=tmp_path / "data", chroma_host=chroma.host, chroma_port=chroma.port)
    real_upsert = ChromaVectorIndex.upsert
    calls = {"n": 0}

    def upsert_then_crash(self, chunks, vectors) -> None:  # type: ignore[no-untyped-def]
        real_upsert(self, chunks, vectors)
        calls["n"] += 1
        stop_chroma(chroma)  # killed after the first batch reached it

    monkeypatch.setattr(ChromaVectorIndex, "upsert", upsert_then_crash)
    with pytest.raises(Exception) as crashed:
        ingest_small_world(Stores(settings, embedder=embedder))
    assert store_unavailable(crashed.value) == "the vector index", "a clear cause, not an unknown error"
    assert calls["n"] == 1
    monkeypatch.undo()

    restarted = start_chroma(chroma.path, tmp_path / "chroma-2.log", port=chroma.port)
    try:
        ingest_small_world(Stores(settings, embedder=embedder))
        counts = _counts(settings, embedder)
    finally:
        stop_chroma(restarted)
    assert counts["chunks"] == reference["chunks"]
    assert counts["records"] == reference["records"] and counts["notes"] == reference["notes"]


def test_postgres_killed_mid_ask_gives_503_then_recovers(pg: PgServer, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    from carecite.api.auth import mint_token
    from carecite.api.server import running
    from carecite.wiring import Stores, build_pipeline

    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=pg.url(pg.create_database()),
        vector_store="pgvector",
        lexical_store="postgres",
        db_allow_privileged_role=True,  # a throwaway database served as its owner: faults, not RLS
    )
    stores = Stores(settings, embedder=embedder)
    ingest_small_world(stores)
    pipeline = build_pipeline(settings, stores=stores)
    token = mint_token(settings, USER, ["user/*.rs"])
    with running(settings, pipeline) as base:
        assert _ask(base, token).status_code == 200
        pg.kill()
        _assert_clean_503(_ask(base, token), "database")
        # every route, not only those that run in the pipeline's pool: the audit reader's role check too
        admin = mint_token(settings, "ad-kim", ["user/AuditEvent.rs"])
        audit = httpx.get(f"{base}/v1/audit", headers={"Authorization": f"Bearer {admin}"}, timeout=60)
        _assert_clean_503(audit, "database")
        assert "PostgreSQL" in audit.json()["error"]["message"], "which kind of server, never its address"
        assert pg.socket_dir not in audit.text
        pg.restart()
        assert _ask(base, token).status_code == 200, "the pool reconnects (pre-ping) once PostgreSQL is back"
        assert pipeline.audit.verify().ok


def test_postgres_killed_mid_ingest_leaves_no_half_bundle_and_converges(
    pg: PgServer, tmp_path: Path, embedder, reference: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    import carecite.ingest.fhir as fhir
    from carecite.stores import Stores

    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=pg.url(pg.create_database()),
        vector_store="pgvector",
        lexical_store="postgres",
    )
    real_write = fhir.write_mapping

    def write_then_crash(session, mapping, report) -> None:  # type: ignore[no-untyped-def]
        real_write(session, mapping, report)
        if any(type(r.row).__name__ == "Note" for r in mapping.records):  # the patient bundle, before commit
            pg.kill()

    monkeypatch.setattr(fhir, "write_mapping", write_then_crash)
    with pytest.raises(sa.exc.OperationalError):
        ingest_small_world(Stores(settings, embedder=embedder))
    monkeypatch.undo()
    pg.restart()
    owner = sa.create_engine(settings.database_url or "")
    with owner.connect() as conn:
        notes = conn.exec_driver_sql("SELECT count(*) FROM note").scalar_one()
        chunks = conn.exec_driver_sql("SELECT count(*) FROM chunkrow").scalar_one()
        tasks = conn.exec_driver_sql("SELECT count(*) FROM task").scalar_one()
    owner.dispose()
    assert (notes, chunks, tasks) == (0, 0, 0), "the killed bundle's transaction left nothing behind"

    ingest_small_world(Stores(settings, embedder=embedder))
    counts = _counts(settings, embedder)
    assert counts["chunks"] == reference["chunks"]
    assert counts["records"] == reference["records"] and counts["notes"] == reference["notes"]
