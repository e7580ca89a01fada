"""A long ingest step shows progress without a terminal too: `make demo-full > log` printed nothing
for minutes while 352 policies were embedded (a Rich bar draws nothing off a terminal)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from carecite.ingest.policies import ingest_policies
from carecite.ingest.progress import step_progress


def _piped() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=False, width=80), buffer


def test_without_a_terminal_a_step_prints_a_line_per_tenth_and_one_at_the_end() -> None:
    console, buffer = _piped()
    with step_progress("embedding", 1641, enabled=True, console=console) as advance:
        for _ in range(0, 1641, 256):
            advance(256)  # the last batch overshoots the total, as a batch can
    lines = buffer.getvalue().splitlines()
    assert lines[0] == "embedding: 256/1641 (15%)"
    assert lines[-1] == "embedding: 1641/1641 (100%)"
    assert len(lines) == 7  # one per batch here: each crosses another tenth


def test_many_small_steps_print_at_most_eleven_lines() -> None:
    console, buffer = _piped()
    with step_progress("records", 60, enabled=True, console=console) as advance:
        for _ in range(60):
            advance()
    lines = buffer.getvalue().splitlines()
    assert 1 < len(lines) <= 11 and lines[-1] == "records: 60/60 (100%)"


def test_a_disabled_or_empty_step_prints_nothing() -> None:
    console, buffer = _piped()
    with step_progress("x", 10, enabled=False, console=console) as advance:
        advance(10)
    with step_progress("x", 0, enabled=True, console=console) as advance:
        advance()
    assert buffer.getvalue() == ""


def test_policy_ingest_off_a_terminal_reports_progress_on_stderr_only(
    stores, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    doc = {
        "ncd_id": "204", "version": "2", "manual_section": "240.4", "title": "CPAP for OSA",
        "effective_date": "2008-03-13", "termination_date": "", "keywords": "",
        "text": "NCD 240.4 - CPAP\n\n## Indications and Limitations of Coverage\nCPAP is covered for OSA.",
    }  # fmt: skip
    src = tmp_path / "ncd.jsonl"
    src.write_text(json.dumps(doc) + "\n")
    ingest_policies(stores, src, progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""  # a command's --json on stdout stays clean
    assert "policies: 1/1 (100%)" in captured.err
    assert "embedding chunks and their sentences: " in captured.err


def test_on_a_terminal_the_step_is_a_transient_bar_not_lines() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=80)
    with step_progress("embedding", 10, enabled=True, eta=True, console=console) as advance:
        for _ in range(10):
            advance()
    drawn = buffer.getvalue()
    assert "10/10" in drawn and "━" in drawn  # the bar, drawn in place
    assert "embedding: 10/10 (100%)" not in drawn
