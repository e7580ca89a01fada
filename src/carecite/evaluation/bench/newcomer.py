"""A newcomer's wait, measured: from ``git clone`` to the first answer in a real browser.

Clones the repository into a temporary folder (with ``shared/`` beside it, as a checkout has),
runs ``make demo PORT=…`` there as the README says, and times each step from the demo's own
progress lines: the clone, the install, the demo world, the coverage policies, the UI server's
health check, then the first gold question asked in Debian's chromium (Playwright), as a user
would: sign in, pick the patient, ask. Figures, never assertions.

Run from a checkout, after ``make install``:
``.venv/bin/python -m carecite.evaluation.bench.newcomer [--repo PATH] [--keep]``.
The uv cache of this machine stays warm (a fresh machine downloads its wheels once more).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from carecite.evaluation.bench.ui_browser import _drive, _free_port, _labels, healthy

# The demo's own progress lines (cli.demo) mark where one step ends and the next begins.
STEPS = (("1/3", "install"), ("2/3", "demo world"), ("3/3", "coverage policies"))
TIMEOUT_S = 1800


def _watch(proc: subprocess.Popen[str], marks: dict[str, float], log: list[str]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        log.append(line.rstrip())
        for prefix, step in STEPS:
            if line.startswith(prefix) and step not in marks:
                marks[step] = time.perf_counter()


def clone_to_first_answer(repo: Path, workdir: Path) -> dict[str, float]:
    """Seconds per step and in total, from ``git clone`` to the first answer shown in the browser."""
    from carecite.package_data import COMMITTED_WORLD
    from carecite.synth.dataset import load_gold

    shared = repo.resolve().parent / "shared"
    if shared.is_dir():
        (workdir / "shared").symlink_to(shared)
    clone = workdir / "carecite"
    t0 = time.perf_counter()
    subprocess.run(["git", "clone", "--quiet", str(repo), str(clone)], check=True)
    cloned = time.perf_counter()
    port = _free_port()
    url = f"http://localhost:{port}"
    env = {k: v for k, v in os.environ.items() if "OPENAI" not in k and k != "VIRTUAL_ENV"}
    marks: dict[str, float] = {"clone": cloned}
    log: list[str] = []
    proc = subprocess.Popen(
        ["make", "demo", f"PORT={port}"],
        cwd=clone,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # make, carecite and streamlit: one process group to stop
    )
    threading.Thread(target=_watch, args=(proc, marks, log), daemon=True).start()
    try:
        deadline = time.perf_counter() + TIMEOUT_S
        while not healthy(url):
            if proc.poll() is not None or time.perf_counter() > deadline:
                raise RuntimeError("make demo did not bring the UI up:\n" + "\n".join(log[-30:]))
            time.sleep(0.2)
        ready = time.perf_counter()
        question = next(g for g in load_gold(COMMITTED_WORLD / "gold.jsonl") if g.get("patient_id"))
        user, patient = _labels(clone / ".carecite-data", question["user_id"], question["patient_id"])
        with ThreadPoolExecutor(max_workers=1) as pool:  # Playwright's sync API wants a thread of its own
            _opened, _loaded, _asked, answered = pool.submit(_drive, url, question, user, patient).result()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    ends = [("clone", cloned)]
    for _prefix, step in STEPS:
        if step in marks:
            ends.append((step, marks[step]))
    ends += [("UI server up", ready), ("first answer in the browser", answered)]
    out: dict[str, float] = {}
    start = t0
    for name, end in ends:
        out[name] = round(end - start, 1)
        start = end
    out["total"] = round(answered - t0, 1)
    return out


def main() -> None:
    from rich.console import Console
    from rich.table import Table

    here = Path(__file__).resolve().parents[4]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--repo", type=Path, default=here, help="The repository to clone (default: this one)."
    )
    parser.add_argument("--keep", action="store_true", help="Keep the clone (its path is printed).")
    parser.add_argument("--json", action="store_true", help="The figures as JSON.")
    args = parser.parse_args()
    if shutil.which("make") is None or not Path("/usr/bin/chromium").exists():
        sys.exit("needs make and /usr/bin/chromium (Debian's chromium)")
    workdir = Path(tempfile.mkdtemp(prefix="carecite-newcomer-"))
    try:
        figures = clone_to_first_answer(args.repo, workdir)
    finally:
        if args.keep:
            print(f"clone kept at {workdir / 'carecite'}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        print(json.dumps(figures))
        return
    table = Table(title="git clone → first answer in a real browser (seconds, each step after the last)")
    table.add_column("step")
    table.add_column("s", justify="right")
    for name, seconds in figures.items():
        table.add_row(name, f"{seconds:.1f}")
    Console().print(table)


if __name__ == "__main__":
    main()
