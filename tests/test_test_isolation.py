"""The suite never writes into the person's own workbench folders (see ``_own_folders``)."""

from __future__ import annotations

from pathlib import Path

from workbench import paths


def test_each_test_gets_its_own_data_and_config_folders(tmp_path: Path) -> None:
    assert paths.data_dir().is_relative_to(tmp_path)
    assert paths.sessions_dir().is_relative_to(tmp_path)
    assert paths.config_dir().is_relative_to(tmp_path)
