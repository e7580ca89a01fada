"""Settings (carecite.settings): values derived from other settings follow them."""

from __future__ import annotations

from pathlib import Path

from carecite.settings import Settings


def test_a_copy_with_another_data_dir_uses_that_dirs_database(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path / "a", database_url=None)
    assert first.resolved_database_url.endswith("/a/carecite.sqlite")
    second = first.model_copy(update={"data_dir": tmp_path / "b"})
    assert second.resolved_database_url.endswith("/b/carecite.sqlite")
