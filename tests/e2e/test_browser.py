"""One end-to-end run in a real browser: start `streamlit run app/Home.py`, sign in, pick a patient,
ask, and see the answer, a citation chip and the highlighted source. Screenshot in test-artifacts/."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import ui_world
from sqlmodel import Session

from carecite.records import make_engine
from carecite.records import tables as t
from carecite.ui.people import patient_label

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ui_world.REPO / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]  # fmt: skip
SERVER_START_S = 90
ANSWER_S = 300  # the first request loads the models inside the server process

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited early ({proc.returncode}):\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"streamlit did not become healthy in {SERVER_START_S}s:\n{log.read_text()[-2000:]}")


def test_ask_in_a_real_browser_shows_answer_chip_and_highlight(
    e2e_data_dir: Path, e2e_cast: ui_world.Cast, tmp_path: Path
) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed (.ci/run installs Debian's chromium when run as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed in the venv")

    with Session(make_engine(f"sqlite:///{e2e_data_dir / 'carecite.sqlite'}")) as s:
        patient = s.get(t.Patient, e2e_cast.discharge_patient)
        assert patient is not None
        label = patient_label(patient)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "streamlit.log"
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
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.set_default_timeout(30_000)
                page.goto(url)
                page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").click()
                page.get_by_role("option", name="Ben Okafor · Care coordinator").click()
                page.get_by_test_id("stSelectbox").filter(has_text="Patient").click()
                page.get_by_role("option", name=label).click()
                page.get_by_label("Question").fill(e2e_cast.discharge_question)
                page.get_by_role("button", name="Ask", exact=True).click()
                page.locator(".cc-answer").wait_for(timeout=ANSWER_S * 1000)
                assert page.locator(".cc-answer").inner_text().strip()
                assert page.locator(".cc-chip").first.is_visible()
                mark = page.locator("mark.cc-cited").first
                assert mark.is_visible() and mark.inner_text().strip()
                ARTIFACTS.mkdir(exist_ok=True)
                page.locator(".cc-answer").scroll_into_view_if_needed()  # Streamlit scrolls its own container
                page.screenshot(path=str(ARTIFACTS / "e2e_answer.png"))
            finally:
                browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
