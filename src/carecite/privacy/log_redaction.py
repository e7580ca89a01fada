"""Keep PHI out of log files: a ``logging.Filter`` that redacts every record of the carecite tree.

A filter attached to a *logger* only sees records logged on that exact logger, not its children, so
``install_log_redaction`` attaches the filter to a do-nothing handler on the ``carecite`` logger:
handlers see every record that propagates through it, and because the record is rewritten in place,
the handlers further up (root, pytest's caplog, a file handler) get the redacted text too. The
message is formatted first (``msg % args``) so PHI passed as an argument is caught, and exception
text is redacted as well. Redaction runs Presidio (~70 ms per KB): log identifiers, not documents.

``configure_logging`` is what every entry point calls (CLI, UI, API): a stderr handler for warnings
and the redaction filter, with Presidio built lazily on the first record that is actually logged,
so a command that logs nothing never pays for loading it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from carecite.ports import Redactor

CARECITE_LOGGER = "carecite"


class RedactingLogFilter(logging.Filter):
    """Rewrites ``record.msg`` (args merged in) and the exception text with PHI redacted."""

    def __init__(self, redactor: Redactor | Callable[[], Redactor], name: str = "") -> None:
        super().__init__(name)
        self._redactor = redactor
        self._lock = threading.Lock()
        self._busy = threading.local()  # the redactor may log: never redact recursively

    @property
    def redactor(self) -> Redactor:
        """The redactor; a factory is called once, on the first record that needs it."""
        if not hasattr(self._redactor, "redact"):
            with self._lock:
                if not hasattr(self._redactor, "redact"):
                    self._redactor = self._redactor()  # type: ignore[operator]
        return self._redactor  # type: ignore[return-value]

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_carecite_redacted", False) or getattr(self._busy, "on", False):
            return True
        self._busy.on = True
        try:
            record.msg = self.redactor.redact(record.getMessage())
            record.args = None
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = self.redactor.redact(record.exc_text)
            if record.stack_info:
                record.stack_info = self.redactor.redact(record.stack_info)
        except Exception:  # a logging path must never raise; fail closed by dropping the text
            record.msg, record.args = "<log message withheld: redaction failed>", None
            record.exc_info, record.exc_text = None, None
        finally:
            self._busy.on = False
        record._carecite_redacted = True
        return True


class _RedactionHandler(logging.Handler):
    """Emits nothing; exists so its filter runs on every record passing the carecite logger."""

    def emit(self, record: logging.LogRecord) -> None:
        return None


def install_log_redaction(
    redactor: Redactor | Callable[[], Redactor], logger_name: str = CARECITE_LOGGER
) -> RedactingLogFilter:
    """Redact every record logged under ``logger_name`` (idempotent). ``redactor`` may be a factory,
    called on the first record logged. Returns the active filter."""
    logger = logging.getLogger(logger_name)
    for handler in logger.handlers:
        if isinstance(handler, _RedactionHandler):
            handler.filters.clear()
            break
    else:
        handler = _RedactionHandler()
        # Inserted first so handlers attached directly to this logger see the redacted record too.
        logger.handlers.insert(0, handler)
    log_filter = RedactingLogFilter(redactor)
    handler.addFilter(log_filter)
    return log_filter


def uninstall_log_redaction(logger_name: str = CARECITE_LOGGER) -> None:
    logger = logging.getLogger(logger_name)
    for handler in list(logger.handlers):
        if isinstance(handler, _RedactionHandler):
            logger.removeHandler(handler)


def redaction_installed(logger_name: str = CARECITE_LOGGER) -> bool:
    return any(isinstance(h, _RedactionHandler) for h in logging.getLogger(logger_name).handlers)


def configure_logging(
    redactor: Redactor | Callable[[], Redactor], level: int = logging.WARNING
) -> RedactingLogFilter:
    """What every entry point calls: carecite's records go to stderr at ``level``, PHI redacted."""
    logger = logging.getLogger(CARECITE_LOGGER)
    logger.setLevel(level)
    if not any(getattr(h, "_carecite_stderr", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler._carecite_stderr = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    return install_log_redaction(redactor)
