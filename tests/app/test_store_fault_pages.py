"""The UI when a shared store is down or dies while a page runs (issue 28, item 7): a message naming
the store and what to do, never a traceback; the page comes back once the store is. Real servers,
killed for real; pages driven headless with AppTest."""

from __future__ import annotations

from pathlib import Path

import pytest
import ui_world
from streamlit.testing.v1 import AppTest

from carecite.settings import Settings
from servers import (
    ChromaServer,
    PgServer,
    ingest_small_world,
    start_chroma,
    stop_chroma,
)

pytestmark = pytest.mark.slow
HOME = str(ui_world.REPO / "app" / "Home.py")
REVIEW = str(ui_world.REPO / "app" / "pages" / "2_Review.py")
PATIENT = "be8bdec0-19b8-5c70-8ace-89922887fb7e"  # patient-00001.json
TIMEOUT = 240


def _page(path: str, user: str) -> AppTest:
    at = AppTest.from_file(path, default_timeout=TIMEOUT)
    at.session_state["user_id"] = user
    return at


def _assert_store_message(at: AppTest, *names: str) -> None:
    assert not at.exception, at.exception  # no traceback on the page
    errors = [str(e.value) for e in at.error]
    assert len(errors) == 1, errors
    for name in names:
        assert name in errors[0], errors[0]


def test_chroma_server_killed_before_ask_is_a_message_then_the_page_recovers(
    chroma: ChromaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder
) -> None:  # type: ignore[no-untyped-def]
    from carecite.stores import Stores

    settings = Settings(data_dir=tmp_path / "data", chroma_host=chroma.host, chroma_port=chroma.port)
    ingest_small_world(Stores(settings, embedder=embedder))
    monkeypatch.setenv("CARECITE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CARECITE_CHROMA_HOST", chroma.host)
    monkeypatch.setenv("CARECITE_CHROMA_PORT", str(chroma.port))

    at = _page(HOME, "cc-ben")
    at.run()
    assert not at.exception, at.exception
    at.selectbox(key="patient_picker").set_value(PATIENT).run()
    stop_chroma(chroma)  # the server dies while the page is open
    at.text_area(key="question").input("Which follow-ups are open right now?")
    next(b for b in at.button if b.label == "Ask").click().run()
    _assert_store_message(at, "vector index", "Chroma server", "reload this page")
    assert f"{chroma.port}" not in str(at.error[0].value), "its kind, not its address"

    restarted = start_chroma(chroma.path, tmp_path / "chroma-2.log", port=chroma.port)
    try:
        next(b for b in at.button if b.label == "Ask").click().run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        assert any(
            "Answer" in str(m.value) or "declined" in str(m.value) for m in [*at.markdown, *at.warning]
        )
    finally:
        stop_chroma(restarted)


def test_postgres_killed_is_a_message_on_the_ask_and_review_pages(
    pg: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder
) -> None:  # type: ignore[no-untyped-def]
    from carecite.stores import Stores

    url = pg.url(pg.create_database())
    settings = Settings(
        data_dir=tmp_path / "data", database_url=url, vector_store="pgvector", lexical_store="postgres"
    )
    ingest_small_world(Stores(settings, embedder=embedder))
    pg.kill()
    monkeypatch.setenv("CARECITE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CARECITE_DATABASE_URL", url)
    monkeypatch.setenv("CARECITE_VECTOR_STORE", "pgvector")
    monkeypatch.setenv("CARECITE_LEXICAL_STORE", "postgres")
    for path, user in ((HOME, "cc-ben"), (REVIEW, "ad-kim")):
        at = _page(path, user)
        at.run()
        _assert_store_message(at, "The database (PostgreSQL)", "reload this page")
        assert pg.socket_dir not in str(at.error[0].value)
