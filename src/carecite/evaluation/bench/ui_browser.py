"""The first answer in a freshly started UI, in a real browser: the server started as ``carecite
demo`` starts it (``app/launch.py``), Debian's chromium driven by Playwright, as a user would.

Timed: the server's start until Streamlit answers its health check (``server_ready_s``); the page's
first render, from ``goto`` until the sign-in picker shows (``page_load_s``); then, asked at once,
from the loaded page to the rendered answer (``first_answer_s``: sign-in, patient pick, question,
Ask, each a Streamlit rerun), of which ``ask_s`` is from the Ask click. ``--plain`` starts
``streamlit run`` directly (the server as it was before ``app/launch.py``), for a paired comparison.
Figures, never assertions. Run: ``python -m carecite.evaluation.bench.ui_browser [--plain]`` with
``CARECITE_DATA_DIR`` set to a data dir holding the committed world.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from carecite.evaluation.bench.ui import HOME

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]  # fmt: skip
TIMEOUT_S = 300


@dataclass(frozen=True)
class BrowserFirstAnswer:
    server_ready_s: float
    page_load_s: float
    first_answer_s: float
    ask_s: float
    launcher: bool


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def healthy(url: str) -> bool:
    """Does the Streamlit server at ``url`` answer its health check?"""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a UI server: SIGTERM, then SIGKILL after 15 s."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=15)


def _wait_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the UI server exited early ({proc.returncode})")
        if healthy(url):
            return
        time.sleep(0.1)
    raise RuntimeError(f"the UI server was not healthy after {TIMEOUT_S} s")


def _labels(data_dir: Path, user_id: str, patient_id: str) -> tuple[str, str]:
    """Text that picks this user and this patient out of the pickers' options (a substring each:
    the user's name, the patient's MRN, which the picker shows)."""
    from sqlmodel import Session

    from carecite.records import make_engine
    from carecite.records import tables as t

    with Session(make_engine(f"sqlite:///{data_dir / 'carecite.sqlite'}")) as s:
        user, patient = s.get(t.User, user_id), s.get(t.Patient, patient_id)
        if user is None or patient is None:
            raise ValueError(f"no user {user_id!r} or patient {patient_id!r} in {data_dir}")
        return user.name or user_id, f"MRN {patient.mrn}" if patient.mrn else patient.name or patient_id


def _drive(
    url: str, question: dict[str, Any], user_label: str, patient: str
) -> tuple[float, float, float, float]:
    """Open the UI, sign in, pick the patient, ask: the moments the page opened, loaded, was asked and answered."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(TIMEOUT_S * 1000)
            opened = time.perf_counter()
            page.goto(url)
            picker = page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox")
            picker.wait_for()
            loaded = time.perf_counter()
            picker.click()
            page.get_by_role("option", name=user_label).first.click()
            page.get_by_test_id("stSelectbox").filter(has_text="Patient").click()
            page.get_by_role("option", name=patient).first.click()
            page.get_by_role("textbox", name="Question").fill(question["question"])
            # The answer, or a decline (an alert): whichever comes after the Ask click.
            outcome = page.locator(".cc-answer, [data-testid='stAlert']")
            before = outcome.count()
            asked = time.perf_counter()
            page.get_by_role("button", name="Ask", exact=True).click()
            outcome.nth(before).wait_for()
            answered = time.perf_counter()
        finally:
            browser.close()
    return opened, loaded, asked, answered


def browser_first_answer(
    data_dir: Path, question: dict[str, Any], *, launcher: bool = True
) -> BrowserFirstAnswer | None:
    """None when there is no UI source, no chromium or no Playwright here."""
    if not HOME.is_file() or not CHROMIUM.exists() or not question.get("patient_id"):
        return None
    if importlib.util.find_spec("playwright") is None:
        return None
    user_label, patient = _labels(data_dir, question["user_id"], question["patient_id"])
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if "OPENAI" not in k}  # the offline answerer
    env["CARECITE_DATA_DIR"] = str(data_dir.resolve())
    start = (
        [sys.executable, str(HOME.parent / "launch.py")] if launcher else [sys.executable, "-m", "streamlit"]
    )
    cmd = [*start, "run", str(HOME), "--server.headless", "true", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]  # fmt: skip
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_healthy(url, proc)
        ready = time.perf_counter()
        # Playwright's sync API refuses a thread whose asyncio loop is running (a caller that holds a
        # sync Playwright already, as the e2e tests' session does, or any async host): drive the
        # browser on a thread of its own, which has none.
        with ThreadPoolExecutor(max_workers=1) as pool:
            opened, loaded, asked, answered = pool.submit(_drive, url, question, user_label, patient).result()
    finally:
        stop(proc)
    return BrowserFirstAnswer(
        server_ready_s=round(ready - t0, 2),
        page_load_s=round(loaded - opened, 2),
        first_answer_s=round(answered - loaded, 2),
        ask_s=round(answered - asked, 2),
        launcher=launcher,
    )


if __name__ == "__main__":
    from carecite.package_data import COMMITTED_WORLD
    from carecite.settings import Settings
    from carecite.synth.dataset import load_gold

    first = next(g for g in load_gold(COMMITTED_WORLD / "gold.jsonl") if g.get("patient_id"))
    found = browser_first_answer(Settings().data_dir, first, launcher="--plain" not in sys.argv[1:])
    print(json.dumps(asdict(found) if found else None))
