"""Log records of the carecite tree reach handlers with PHI redacted."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from carecite.privacy.log_redaction import install_log_redaction, uninstall_log_redaction
from carecite.privacy.redactor import PresidioRedactor
from fakes import FakeRedactor


@pytest.fixture
def clean_logger() -> Iterator[None]:
    """Start from a bare ``carecite`` logger: an entry point run earlier in this worker (a module-scoped
    CLI or API fixture) may have configured it."""
    logger = logging.getLogger("carecite")
    saved = list(logger.handlers)
    logger.handlers.clear()
    yield
    uninstall_log_redaction()
    logger.handlers[:] = saved


def test_name_and_mrn_in_a_child_logger_are_written_redacted(
    presidio_redactor: PresidioRedactor, caplog: pytest.LogCaptureFixture, clean_logger: None
) -> None:
    install_log_redaction(presidio_redactor)
    with caplog.at_level(logging.INFO, logger="carecite"):
        logging.getLogger("carecite.ingest.fhir").info(
            "loaded note for %s (MRN: %s)", "Alvin56 Jerde200", "12345678"
        )
    assert caplog.messages == ["loaded note for <PERSON> (MRN: <MRN>)"]
    assert "Alvin56" not in caplog.text and "12345678" not in caplog.text


def test_exception_text_is_redacted_too(caplog: pytest.LogCaptureFixture, clean_logger: None) -> None:
    install_log_redaction(FakeRedactor(names=["Sarah Kim"]))
    with caplog.at_level(logging.ERROR, logger="carecite"):
        try:
            raise ValueError("bad record for Sarah Kim")
        except ValueError:
            logging.getLogger("carecite.x").exception("failed")
    assert "Sarah Kim" not in caplog.text
    assert "bad record for <PERSON>" in caplog.text


def test_install_is_idempotent_and_other_loggers_are_untouched(
    caplog: pytest.LogCaptureFixture, clean_logger: None
) -> None:
    install_log_redaction(FakeRedactor(names=["Sarah Kim"]))
    install_log_redaction(FakeRedactor(names=["Sarah Kim"]))
    assert len(logging.getLogger("carecite").handlers) == 1
    with caplog.at_level(logging.INFO):
        logging.getLogger("thirdparty").info("Sarah Kim")
    assert caplog.messages == ["Sarah Kim"]


def test_a_failing_redactor_withholds_the_message(
    caplog: pytest.LogCaptureFixture, clean_logger: None
) -> None:
    class Broken(FakeRedactor):
        def redact(self, text: str) -> str:
            raise RuntimeError("boom")

    install_log_redaction(Broken())
    with caplog.at_level(logging.INFO, logger="carecite"):
        logging.getLogger("carecite").info("Sarah Kim 12345678")
    assert caplog.messages == ["<log message withheld: redaction failed>"]
