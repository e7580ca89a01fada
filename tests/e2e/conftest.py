"""The e2e tests reuse the UI tests' small data dir (tests/app/ui_world.py) and share one
`streamlit run app/Home.py` on a free loopback port (the first request loads the models, minutes on
a loaded machine: once per session, not per test)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))

import ui_world

from carecite.evaluation.bench.ui_browser import healthy, stop

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]  # fmt: skip
SERVER_START_S = 90


@pytest.fixture(scope="session")
def e2e_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ui_world.shared_data_dir(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="session")
def e2e_cast() -> ui_world.Cast:
    return ui_world.cast()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited early ({proc.returncode}):\n{log.read_text()[-2000:]}")
        if healthy(url):
            return
        time.sleep(0.5)
    pytest.fail(f"streamlit did not become healthy in {SERVER_START_S}s:\n{log.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    """Debian's chromium under Playwright; skips with the reason when either is missing."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed (.ci/run installs Debian's chromium when run as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed in the venv")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def app_url(browser, e2e_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A real `streamlit run app/Home.py` over the small data dir, as `make demo` runs it (the
    repository's .streamlit/config.toml applies: cwd is the repository)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    env = {
        **os.environ,
        "CARECITE_DATA_DIR": str(e2e_data_dir),
        "CARECITE_TORCH_THREADS": "1",
        "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
        "ANONYMIZED_TELEMETRY": "False",
        "HF_HUB_OFFLINE": "1",
    }
    cmd = [sys.executable, "-m", "streamlit", "run", str(ui_world.REPO / "app" / "Home.py"),
           "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
           "--browser.gatherUsageStats", "false"]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ui_world.REPO)
    try:
        wait_healthy(url, proc, log)
        yield url
    finally:
        stop(proc)
