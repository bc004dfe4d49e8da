"""The export screen with the keyboard: switch formats, copy (OSC 52 through Textual), save to
a typed path (never clobbering without a second Enter), close."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Static

from workbench.api.request import CompletionRequest
from workbench.export import render_export
from workbench.ui.export_screen import ExportScreen
from workbench.ui.themes import register_themes

REQUEST = CompletionRequest(
    model="llama3.1-8b",
    prompt="Write a haiku about `ls` and $PATH\nplease",
    max_tokens=64,
    seed=7,
    temperature=0.0,
)
BASE_URL = "http://127.0.0.1:8080"


class Host(App[None]):
    def __init__(self, tmp_path: Path) -> None:
        super().__init__()
        register_themes(self, user_dir=tmp_path / "no-user-themes")
        self.theme = "workbench-dark"

    def compose(self) -> ComposeResult:
        yield Static("main screen")

    def on_mount(self) -> None:
        self.push_screen(ExportScreen(REQUEST, BASE_URL))


def _shown(app: App[None]) -> str:
    return str(app.screen.query_one("#export-snippet", Static).render())


async def test_formats_switch_with_number_keys_and_arrows(tmp_path: Path) -> None:
    app = Host(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen)
        assert _shown(app) == render_export(REQUEST, "curl", BASE_URL)
        await pilot.press("2")
        await pilot.pause()
        assert _shown(app) == render_export(REQUEST, "python", BASE_URL)
        await pilot.press("right")
        await pilot.pause()
        assert _shown(app) == render_export(REQUEST, "httpx", BASE_URL)
        await pilot.press("4")
        await pilot.pause()
        assert _shown(app) == render_export(REQUEST, "json", BASE_URL)


async def test_the_snippet_is_highlighted_in_the_theme_s_style(tmp_path: Path) -> None:
    app = Host(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("2")
        await pilot.pause()
        widget = app.screen.query_one("#export-snippet", Static)

        def colours() -> set[str]:
            content = widget.render()
            spans = getattr(content, "spans", [])
            return {str(span.style) for span in spans}

        dark = colours()
        app.theme = "solarized-light"
        await pilot.pause()
        await pilot.pause()
        light = colours()
        assert dark and light and dark != light


async def test_copy_puts_the_snippet_on_the_clipboard(tmp_path: Path) -> None:
    app = Host(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("3", "y")
        await pilot.pause()
        assert app.clipboard == render_export(REQUEST, "httpx", BASE_URL)


async def test_save_writes_the_file_and_asks_before_overwriting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = Host(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("2", "s")
        await pilot.pause()
        field = app.screen.query_one("#export-save")
        assert field.has_focus and field.value == "completion-request.py"
        await pilot.press("enter")
        await pilot.pause()
        saved = tmp_path / "completion-request.py"
        assert saved.read_text(encoding="utf-8") == render_export(REQUEST, "python", BASE_URL)

        saved.write_text("mine", encoding="utf-8")
        await pilot.press("s", "enter")
        await pilot.pause()
        assert saved.read_text(encoding="utf-8") == "mine"  # first Enter only warns
        await pilot.press("enter")
        await pilot.pause()
        assert saved.read_text(encoding="utf-8") == render_export(REQUEST, "python", BASE_URL)


async def test_escape_cancels_the_file_name_then_closes(tmp_path: Path) -> None:
    app = Host(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen)
        assert not app.screen.query_one("#export-save").has_class("-asking")
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ExportScreen)


async def test_in_the_app_f8_exports_the_request_being_edited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workbench.api.endpoint import Endpoint
    from workbench.ui.app import WorkbenchApp

    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "data"))
    endpoint = Endpoint.from_env(base_url=BASE_URL, api_key="sk-never-shown", environ={})
    app = WorkbenchApp(
        endpoint, model="llama3.1-8b", fetch_models=False, sessions_dir=tmp_path / "sessions"
    )
    async with app.run_test(size=(100, 30)) as pilot:
        app.prompt_pane.text = "Tell me about `ls` and $PATH"
        await pilot.press("f8")
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen)
        await pilot.press("2", "y")
        await pilot.pause()
        copied = app.clipboard
        assert 'prompt="Tell me about `ls` and $PATH"' in copied
        assert f'base_url="{BASE_URL}"' in copied and "sk-never-shown" not in copied
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ExportScreen)
        assert app.prompt_pane.text == "Tell me about `ls` and $PATH"  # keys did not leak
