"""Where the workbench keeps its files (no Textual here).

Platform folders come from platformdirs. ``WORKBENCH_CONFIG_DIR`` and ``WORKBENCH_DATA_DIR``
override them, which is how the tests (and anyone running two setups side by side) keep
their files apart from the user's own.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "workbench"


def config_dir() -> Path:
    override = os.environ.get("WORKBENCH_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir(APP_NAME))


def config_file() -> Path:
    return config_dir() / "config.toml"


def user_themes_dir() -> Path:
    return config_dir() / "themes"


def data_dir() -> Path:
    override = os.environ.get("WORKBENCH_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME))


def sessions_dir() -> Path:
    return data_dir() / "sessions"


def shipped_themes_dir() -> Path:
    """The top-level ``themes/`` folder; packaged into the wheel as ``workbench/themes``."""
    packaged = Path(__file__).parent / "themes"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "themes"
