"""SVG snapshots per shipped theme: the main screen (prompt typed, nothing sent) and the export
screen (highlighted Python snippet), so a colour change in a theme file is a visible diff."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Static

from ui_helpers import wait_for
from workbench import paths
from workbench.api.endpoint import Endpoint
from workbench.api.request import CompletionRequest
from workbench.themes_format import load_theme_file
from workbench.ui.app import WorkbenchApp
from workbench.ui.export_screen import ExportScreen
from workbench.ui.themes import register_themes

THEMES = sorted(load_theme_file(p).name for p in paths.shipped_themes_dir().glob("*.toml"))
PROMPT = "Write a Python function that reverses a string.\n\n```python\ndef reverse(s):"


@pytest.fixture
def private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("NO_COLOR", raising=False)
    return tmp_path


@pytest.mark.parametrize("theme", THEMES)
def test_main_screen_per_theme(snap_compare, private_dirs: Path, theme: str) -> None:
    # A fixed, never-contacted URL keeps the status bar the same on every run.
    endpoint = Endpoint.from_env(base_url="http://127.0.0.1:9", api_key=None, environ={})
    app = WorkbenchApp(
        endpoint, model="llama3.1-8b", fetch_models=False, sessions_dir=private_dirs / "sessions"
    )

    async def prepare(pilot) -> None:
        pilot.app.theme = theme
        pilot.app.prompt_pane.text = PROMPT
        # A blinking cursor would make the picture depend on timing.
        pilot.app.prompt_pane.editor.cursor_blink = False
        # The status bar counts the prompt once typing pauses: wait for it, so the picture
        # does not depend on timing.
        await wait_for(pilot, lambda: pilot.app.status_bar.gauge is not None)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=prepare)


class ExportHost(App[None]):
    def __init__(self, theme: str) -> None:
        super().__init__()
        register_themes(self)
        self.theme = theme

    def compose(self) -> ComposeResult:
        yield Static("")

    def on_mount(self) -> None:
        request = CompletionRequest(
            model="llama3.1-8b",
            prompt=PROMPT,
            max_tokens=128,
            seed=1,
            temperature=0.0,
            stop=["```\n"],
        )
        self.push_screen(ExportScreen(request, "http://127.0.0.1:8080", initial_format="python"))


@pytest.mark.parametrize("theme", THEMES)
def test_export_screen_per_theme(snap_compare, private_dirs: Path, theme: str) -> None:
    assert snap_compare(ExportHost(theme), terminal_size=(100, 30))
