"""Choosing a theme edits the config file THROUGH a symlink (dotfile repositories), never
replacing the link with a plain file; where that cannot be done it says so (issue 8, item 8)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workbench.themes_format import ThemePersistError, persist_theme_choice


def test_a_symlinked_config_is_written_through_the_link(tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    target = dotfiles / "workbench.toml"
    target.write_text('# mine\n[keymap]\nsend = "f5"\n', encoding="utf-8")
    link = tmp_path / "config" / "config.toml"
    link.parent.mkdir()
    link.symlink_to(target)

    persist_theme_choice(link, "nord")

    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text(encoding="utf-8") == '# mine\ntheme = "nord"\n[keymap]\nsend = "f5"\n'
    assert sorted(p.name for p in dotfiles.iterdir()) == ["workbench.toml"]  # no temp left


def test_a_chain_of_links_and_a_relative_link_reach_the_real_file(tmp_path: Path) -> None:
    (tmp_path / "real.toml").write_text("", encoding="utf-8")
    (tmp_path / "middle.toml").symlink_to("real.toml")
    link = tmp_path / "config.toml"
    link.symlink_to("middle.toml")
    persist_theme_choice(link, "nord")
    assert link.is_symlink() and (tmp_path / "middle.toml").is_symlink()
    assert (tmp_path / "real.toml").read_text(encoding="utf-8") == 'theme = "nord"\n'


def test_a_link_whose_folder_cannot_be_written_is_refused_with_a_message(tmp_path: Path) -> None:
    # A "folder" that is a plain file: no temp file can be made next to the target, even as
    # root (a read-only folder would not stop root).
    not_a_folder = tmp_path / "not-a-folder"
    not_a_folder.write_text("", encoding="utf-8")
    link = tmp_path / "config.toml"
    link.symlink_to(not_a_folder / "config.toml")
    with pytest.raises(ThemePersistError, match="cannot (read|write)"):
        persist_theme_choice(link, "nord")
    assert link.is_symlink() and not_a_folder.read_text(encoding="utf-8") == ""


def test_a_config_path_that_is_a_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "config.toml"
    folder.mkdir()
    with pytest.raises(ThemePersistError):
        persist_theme_choice(folder, "nord")
    assert folder.is_dir()
