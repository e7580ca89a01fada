"""Privacy fixtures: the real Presidio redactor, built once per session (the engine load costs seconds)."""

from __future__ import annotations

import pytest

from carecite.privacy.redactor import PresidioRedactor


@pytest.fixture(scope="session")
def presidio_redactor() -> PresidioRedactor:
    return PresidioRedactor()
