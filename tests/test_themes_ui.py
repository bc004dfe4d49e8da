"""Themes inside Textual: registration, `$wb-*` variables in CSS under every theme, the
picker's live preview, NO_COLOR, and a broken user theme that only produces a notification."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Static
from ui_helpers import spy_on_notify

from workbench import paths
from workbench.themes_format import load_theme_file
from workbench.ui.themes import (
    NO_COLOR_THEME,
    ThemeChosen,
    initial_theme_name,
    load_themes,
    open_theme_picker,
    pygments_style_for,
    register_themes,
)

SHIPPED_NAMES = sorted(load_theme_file(p).name for p in paths.shipped_themes_dir().glob("*.toml"))


class ThemedApp(App[None]):
    """The smallest app wired the way the workbench wires themes."""

    CSS = """
    #prompt { color: $wb-prompt; }
    #completion { color: $wb-completion; }
    #echo { color: $wb-echo; }
    #error { color: $wb-error; }
    #metrics { color: $wb-metrics; }
    """

    def __init__(self, user_dir: Path | None = None) -> None:
        super().__init__()
        self.problems = register_themes(self, user_dir=user_dir)
        self.chosen: list[str] = []

    def compose(self) -> ComposeResult:
        for name in ("prompt", "completion", "echo", "error", "metrics"):
            yield Static(name, id=name)

    def on_mount(self) -> None:
        for problem in self.problems:
            # markup=False: messages quote TOML like "[colors]", which is not Rich markup.
            self.notify(str(problem), title="Theme not loaded", severity="warning", markup=False)

    def action_change_theme(self) -> None:
        open_theme_picker(self)

    def on_theme_chosen(self, message: ThemeChosen) -> None:
        self.chosen.append(message.name)


def test_all_shipped_themes_become_textual_themes(tmp_path: Path) -> None:
    themes, problems = load_themes(user_dir=tmp_path)
    assert problems == []
    assert sorted(theme.name for theme in themes) == SHIPPED_NAMES


@pytest.mark.parametrize("name", [*SHIPPED_NAMES, "textual-light", "gruvbox", "ansi-light"])
async def test_the_output_colours_follow_the_theme(name: str, tmp_path: Path) -> None:
    app = ThemedApp(user_dir=tmp_path)
    async with app.run_test() as pilot:
        app.theme = name
        await pilot.pause()
        variables = app.current_theme.variables
        prompt = app.query_one("#prompt").styles.color
        if not app.current_theme.ansi:
            expected = app.get_css_variables()["wb-prompt"]
            assert prompt.hex.lower()[:7] == expected.lower()[:7] or prompt.hex == expected
        assert pygments_style_for(app.current_theme) == variables["wb-pygments-style"]


async def test_picker_previews_the_highlighted_theme_and_escape_restores(tmp_path: Path) -> None:
    app = ThemedApp(user_dir=tmp_path)
    async with app.run_test() as pilot:
        app.theme = "workbench-dark"
        app.action_change_theme()
        await pilot.pause()
        await pilot.press(*"workbench-light")
        await pilot.pause()
        await pilot.press("down")
        await pilot.pause()
        assert app.theme == "workbench-light"  # previewed while the picker is still open
        await pilot.press("escape")
        await pilot.pause()
        assert app.theme == "workbench-dark"
        assert app.chosen == []


async def test_closing_the_picker_by_clicking_outside_restores_the_theme(tmp_path: Path) -> None:
    from textual.command import CommandPalette

    app = ThemedApp(user_dir=tmp_path)
    async with app.run_test(size=(80, 30)) as pilot:
        app.theme = "workbench-dark"
        app.action_change_theme()
        await pilot.pause()
        await pilot.press(*"workbench-light", "down")
        await pilot.pause()
        assert app.theme == "workbench-light"
        await pilot.click(offset=(1, 28))  # the dimmed screen around the palette
        await pilot.pause()
        assert not isinstance(app.screen, CommandPalette)
        assert app.theme == "workbench-dark" and app.chosen == []


async def test_picking_a_theme_keeps_it_and_reports_the_choice(tmp_path: Path) -> None:
    app = ThemedApp(user_dir=tmp_path)
    async with app.run_test() as pilot:
        app.theme = "workbench-dark"
        app.action_change_theme()
        await pilot.pause()
        await pilot.press(*"high-contrast")
        await pilot.pause()
        await pilot.press("down", "enter")
        await pilot.pause()
        await pilot.pause()
        assert app.theme == "workbench-high-contrast"
        assert app.chosen == ["workbench-high-contrast"]


async def test_a_broken_user_theme_is_one_notification_and_the_app_runs(tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text(
        "[colors]\nprimary = 'sort of blue'\nbackground = '#000000'\nforeground = '#ffffff'\n",
        encoding="utf-8",
    )
    (tmp_path / "mine.toml").write_text(
        '[colors]\nprimary = "#226622"\nbackground = "#000000"\nforeground = "#ffffff"\n',
        encoding="utf-8",
    )
    app = ThemedApp(user_dir=tmp_path)
    notes = spy_on_notify(app)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert len(notes) == 1
        assert "broken.toml" in notes[0].message and "colors.primary" in notes[0].message
        app.theme = "mine"
        await pilot.pause()
        assert app.query_one("#prompt").styles.color.hex.upper().startswith("#226622")


def test_no_color_picks_the_ansi_theme() -> None:
    available = {name: object() for name in SHIPPED_NAMES}
    assert initial_theme_name("nord", available, {"NO_COLOR": "1"}) == NO_COLOR_THEME
    assert initial_theme_name("nord", available, {}) == "nord"
    assert initial_theme_name("no-such-theme", available, {}) == "workbench-dark"
    assert initial_theme_name(None, available, {}) == "workbench-dark"


async def test_the_app_starts_under_no_color(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = ThemedApp(user_dir=tmp_path)
    async with app.run_test() as pilot:
        app.theme = initial_theme_name(None, app.available_themes)
        await pilot.pause()
        # Textual itself strips colour from what reaches the terminal when no_color is set.
        assert app.no_color and app.theme == NO_COLOR_THEME
