"""Themes in the real app: a broken user theme is one notification and the app keeps working;
the configured theme is used at start; the picker previews, and the choice lands in the
config file with the user's comments intact; NO_COLOR starts the app on the ansi theme."""

from __future__ import annotations

from pathlib import Path

import pytest
from ui_helpers import spy_on_notify

from workbench.api.endpoint import Endpoint
from workbench.config import load_config
from workbench.ui.app import WorkbenchApp

CONFIG = """\
# my settings — keep this comment
theme = "nord"   # cold colours

[defaults]
max_tokens = 64
"""


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("NO_COLOR", raising=False)
    (tmp_path / "config" / "themes").mkdir(parents=True)
    return tmp_path / "config"


def _app(config_dir: Path) -> WorkbenchApp:
    config, problems = load_config(config_dir / "config.toml")
    endpoint = Endpoint.from_env(base_url="http://127.0.0.1:9", api_key=None, environ={})
    return WorkbenchApp(
        endpoint,
        config=config,
        config_problems=problems,
        model="llama3.1-8b",
        fetch_models=False,
        sessions_dir=config_dir.parent / "sessions",
    )


async def test_a_broken_user_theme_is_one_notification_and_the_app_works(config_dir: Path) -> None:
    (config_dir / "themes" / "oops.toml").write_text(
        '[colors]\nprimary = "#123456"\nbackground = "#000000"\nforeground = "#ffffff"\n'
        'primery = "#ff0000"\n',
        encoding="utf-8",
    )
    (config_dir / "themes" / "mine.toml").write_text(
        'dark = false\n[colors]\nprimary = "#3366aa"\nbackground = "#fafafa"\n'
        'foreground = "#111111"\n',
        encoding="utf-8",
    )
    app = _app(config_dir)
    notices = spy_on_notify(app)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        theme_notes = [n for n in notices if n.title == "Theme not loaded"]
        assert len(theme_notes) == 1
        assert "oops.toml" in theme_notes[0].message
        assert "unknown key colors.primery (did you mean colors.primary?)" in theme_notes[0].message
        assert "mine" in app.available_themes and "oops" not in app.available_themes
        app.theme = "mine"
        app.prompt_pane.text = "still typing"
        await pilot.pause()
        assert app.prompt_pane.text == "still typing" and app.is_running


async def test_the_configured_theme_is_used_and_a_pick_is_saved(config_dir: Path) -> None:
    config_file = config_dir / "config.toml"
    config_file.write_text(CONFIG, encoding="utf-8")
    app = _app(config_dir)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.theme == "nord"
        app.action_change_theme()
        await pilot.pause()
        await pilot.press(*"workbench-light")
        await pilot.pause()
        await pilot.press("down")
        await pilot.pause()
        assert app.theme == "workbench-light"  # live preview, nothing saved yet
        assert config_file.read_text(encoding="utf-8") == CONFIG
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        assert app.theme == "workbench-light"
    assert config_file.read_text(encoding="utf-8") == CONFIG.replace(
        'theme = "nord"', 'theme = "workbench-light"'
    )


async def test_escape_in_the_picker_keeps_the_theme_and_the_file(config_dir: Path) -> None:
    config_file = config_dir / "config.toml"
    config_file.write_text(CONFIG, encoding="utf-8")
    app = _app(config_dir)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.action_change_theme()
        await pilot.pause()
        await pilot.press(*"solarized", "down")
        await pilot.pause()
        assert app.theme.startswith("solarized")
        await pilot.press("escape")
        await pilot.pause()
        assert app.theme == "nord"
    assert config_file.read_text(encoding="utf-8") == CONFIG


async def test_no_color_starts_on_the_ansi_theme(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    (config_dir / "config.toml").write_text(CONFIG, encoding="utf-8")
    app = _app(config_dir)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.no_color and app.theme == "workbench-ansi"
        app.prompt_pane.text = "works"
        await pilot.pause()
        assert app.prompt_pane.text == "works"
