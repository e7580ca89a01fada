"""The command line when a shared store is down or dies mid-command (issue 28, item 7): one line on
stderr naming the store, its server and what to do, exit 1, never a traceback; re-running the
ingest once the store is back converges. Real servers, killed for real."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from carecite.cli import app
from carecite.package_data import COMMITTED_WORLD
from carecite.settings import Settings
from servers import (
    SMALL_WORLD_BUNDLES,
    ChromaServer,
    PgServer,
    ingest_small_world,
    start_chroma,
    stop_chroma,
)

pytestmark = pytest.mark.slow
PATIENT = "be8bdec0-19b8-5c70-8ace-89922887fb7e"  # patient-00001.json
BUNDLES = [str(COMMITTED_WORLD / "fhir" / n) for n in SMALL_WORLD_BUNDLES]


def _run(data_dir: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--data-dir", str(data_dir), *args])
    return result.exit_code, result.stdout, result.stderr


def _assert_one_clear_line(code: int, stderr: str, *names: str) -> None:
    assert code == 1, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and 'File "' not in stderr
    for name in names:
        assert name in lines[0], lines[0]


def test_chroma_server_killed_mid_ingest_is_one_line_and_the_rerun_converges(
    chroma: ChromaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from carecite.records.stats import chunks_agree, collect_stats
    from carecite.retrieval.dense import ChromaVectorIndex
    from carecite.stores import Stores

    monkeypatch.setenv("CARECITE_CHROMA_HOST", chroma.host)
    monkeypatch.setenv("CARECITE_CHROMA_PORT", str(chroma.port))
    data = tmp_path / "data"
    real_upsert = ChromaVectorIndex.upsert

    def upsert_then_die(self, chunks, vectors) -> None:  # type: ignore[no-untyped-def]
        real_upsert(self, chunks, vectors)
        stop_chroma(chroma)  # the server dies after the first batch reached it

    with monkeypatch.context() as m:
        m.setattr(ChromaVectorIndex, "upsert", upsert_then_die)
        code, _, stderr = _run(data, "ingest", "fhir", "--quiet", *BUNDLES)
    _assert_one_clear_line(
        code,
        stderr,
        "vector index",
        f"Chroma server at {chroma.host}:{chroma.port}",
        "run the same ingest again",
    )

    restarted = start_chroma(chroma.path, tmp_path / "chroma-2.log", port=chroma.port)
    try:
        code, stdout, stderr = _run(data, "ingest", "fhir", "--quiet", *BUNDLES)
        assert code == 0, stdout + stderr
        stats = collect_stats(
            Stores(Settings(data_dir=data, chroma_host=chroma.host, chroma_port=chroma.port))
        )
    finally:
        stop_chroma(restarted)
    assert stats["chunks"]["sql"] > 0 and chunks_agree(stats), stats["chunks"]


def test_chroma_server_down_before_ask_is_one_line(
    chroma: ChromaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder
) -> None:  # type: ignore[no-untyped-def]
    from carecite.stores import Stores

    settings = Settings(data_dir=tmp_path / "data", chroma_host=chroma.host, chroma_port=chroma.port)
    ingest_small_world(Stores(settings, embedder=embedder))
    stop_chroma(chroma)
    monkeypatch.setenv("CARECITE_CHROMA_HOST", chroma.host)
    monkeypatch.setenv("CARECITE_CHROMA_PORT", str(chroma.port))
    code, stdout, stderr = _run(
        settings.data_dir,
        "ask",
        "Which follow-ups are open right now?",
        "--user",
        "cc-ben",
        "--patient",
        PATIENT,
    )
    _assert_one_clear_line(code, stderr, "vector index", "Chroma server", "run the command again")
    assert stdout == ""


def test_postgres_killed_then_ask_and_stats_are_one_line(
    pg: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder
) -> None:  # type: ignore[no-untyped-def]
    from carecite.stores import Stores

    url = pg.url(pg.create_database())
    settings = Settings(
        data_dir=tmp_path / "data", database_url=url, vector_store="pgvector", lexical_store="postgres"
    )
    ingest_small_world(Stores(settings, embedder=embedder))
    pg.kill()
    monkeypatch.setenv("CARECITE_DATABASE_URL", url)
    monkeypatch.setenv("CARECITE_VECTOR_STORE", "pgvector")
    monkeypatch.setenv("CARECITE_LEXICAL_STORE", "postgres")
    for args in (
        ("ask", "Which follow-ups are open right now?", "--user", "cc-ben", "--patient", PATIENT),
        ("stats",),
        ("patients", "--user", "cc-ben"),
        ("db", "migrate"),
        ("serve", "--port", "1"),  # refused before uvicorn binds anything
    ):
        code, _, stderr = _run(settings.data_dir, *args)
        _assert_one_clear_line(code, stderr, "the database", "PostgreSQL at", "run the command again")
        assert "@" not in stderr.split("PostgreSQL at", 1)[1].split(",")[0], "never a user or password"
