"""The first answer in a freshly started UI: the Ask page (app/Home.py) driven headless by
Streamlit's AppTest in a NEW process, so nothing is loaded yet, as after `make demo`.

Timed, each in its own fresh process: the page's first run (what the browser waits for before the
user can type); a question asked at once, before the background warm-up (``ui_common.warm_models``)
has had any head start (the worst case); and a question asked once the warm-up is done, with how
long after the page load that was (a user who reads the page first). Figures, never assertions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOME = Path(__file__).resolve().parents[4] / "app" / "Home.py"  # a source checkout's UI
TIMEOUT_S = 600


@dataclass(frozen=True)
class UiFirstAnswer:
    page_load_s: float  # the page's first run: sign-in, patient list, warm-up started
    first_answer_s: float  # from the loaded page to the rendered answer, asked at once
    warm_up_s: float  # from the loaded page to the end of the background warm-up
    answer_after_warm_up_s: float  # the first answer, asked once the warm-up is done


def _measure(home: str, user_id: str, patient_id: str, question: str, wait: str) -> dict[str, float]:
    """Runs inside the fresh process (``python -m carecite.evaluation.bench.ui``)."""
    import threading

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(home, default_timeout=TIMEOUT_S)
    at.session_state["user_id"] = user_id
    t0 = time.perf_counter()
    at.run()
    at.selectbox(key="patient_picker").set_value(patient_id).run()
    loaded = time.perf_counter()
    warm_up = 0.0
    if wait == "warm":
        for thread in threading.enumerate():
            if thread.name == "carecite-warm-up":
                thread.join(TIMEOUT_S)
        warm_up = time.perf_counter() - loaded
        loaded = time.perf_counter()
    at.text_area(key="question").input(question)
    next(b for b in at.button if b.label == "Ask").click().run()
    answered = time.perf_counter()
    if at.exception:
        raise RuntimeError(f"the Ask page failed: {at.exception}")
    if at.session_state["answer"] is None:
        raise RuntimeError("the Ask page showed no answer")
    return {
        "page_load_s": round(loaded - t0 - warm_up, 2),
        "answer_s": round(answered - loaded, 2),
        "warm_up_s": round(warm_up, 2),
    }


def ui_first_answer(data_dir: Path, question: dict[str, Any]) -> UiFirstAnswer | None:
    """None when there is no UI source here (an installed wheel has no app/)."""
    if not HOME.is_file() or not question.get("patient_id"):
        return None
    env = {k: v for k, v in os.environ.items() if "OPENAI" not in k}  # the offline answerer
    env["CARECITE_DATA_DIR"] = str(data_dir.resolve())
    args = [str(HOME), question["user_id"], question["patient_id"], question["question"]]
    runs: dict[str, dict[str, float]] = {}
    for wait in ("now", "warm"):
        done = subprocess.run(
            [sys.executable, "-m", "carecite.evaluation.bench.ui", *args, wait],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=TIMEOUT_S,
        )
        if done.returncode != 0:
            raise RuntimeError(f"UI first-answer run exited {done.returncode}: {done.stderr.strip()[-400:]}")
        runs[wait] = json.loads(done.stdout.strip().splitlines()[-1])
    return UiFirstAnswer(
        page_load_s=runs["now"]["page_load_s"],
        first_answer_s=runs["now"]["answer_s"],
        warm_up_s=runs["warm"]["warm_up_s"],
        answer_after_warm_up_s=runs["warm"]["answer_s"],
    )


if __name__ == "__main__":
    print(json.dumps(_measure(*sys.argv[1:6])))
