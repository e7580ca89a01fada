"""`carecite llm check` and the logging every CLI command sets up."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carecite.cli import app
from carecite.privacy.log_redaction import redaction_installed
from llm_server import OpenAICompatibleServer, Quirks


def test_llm_check_says_the_template_drops_the_system_role_and_remembers_it(tmp_path: Path) -> None:
    with OpenAICompatibleServer(Quirks(drop_system=True)) as server:
        result = CliRunner().invoke(
            app,
            ["--data-dir", str(tmp_path / "d"), "llm", "check", "--json"],
            env={"OPENAI_BASE_URL": server.base_url, "CARECITE_TORCH_THREADS": "1"},
        )
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["system_role"] == "dropped" and found["fold_system"] is True
    assert found["model"] == "gemma-3-270m-it" and found["canary_ok"] is True
    assert json.loads((tmp_path / "d" / "llm_check.json").read_text())["system_role"] == "dropped"


def test_llm_check_in_words_exits_1_for_an_endpoint_that_cannot_cite(tmp_path: Path) -> None:
    with OpenAICompatibleServer(Quirks(echo=True)) as server:
        result = CliRunner().invoke(
            app, ["--data-dir", str(tmp_path / "d"), "llm", "check"], env={"OPENAI_BASE_URL": server.base_url}
        )
    assert result.exit_code == 1
    assert "What carecite will do" in result.stdout and "canary answer with valid citations" in result.stdout
    assert "{" not in result.stdout  # words and a table, not a repr


def test_llm_check_without_an_endpoint_is_bad_input(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["--data-dir", str(tmp_path / "d"), "llm", "check"])
    assert result.exit_code == 2 and "no LLM endpoint is configured" in result.output


def test_every_cli_command_redacts_what_carecite_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert not redaction_installed()
    result = CliRunner().invoke(app, ["--data-dir", str(tmp_path / "d"), "stats", "--json"])
    assert result.exit_code == 0, result.output
    assert redaction_installed()
    with caplog.at_level(logging.WARNING, logger="carecite"):
        logging.getLogger("carecite.answering").warning("call Sarah Kim at 617-555-0134 about MRN 10000417")
    assert "Sarah Kim" not in caplog.text and "617-555-0134" not in caplog.text
