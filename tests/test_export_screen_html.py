"""f8 in the app offers the whole session as a self-contained HTML page, next to the request
formats; saving writes the page (with the token colouring when logprobs were asked for)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.ui_helpers import MODEL, SIZE, make_app, send, wait_finished, wait_for
from workbench.api.request import CompletionRequest
from workbench.ui.export_screen import ExportScreen


async def test_f8_saves_the_session_as_an_html_page(sim: Any, tmp_path: Path) -> None:
    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        app.sidebar.show_request(CompletionRequest(model=MODEL, prompt="", logprobs=2, stream=True))
        await send(pilot, "A <b>bold</b> prompt")
        await wait_finished(pilot)
        await pilot.press("f8")
        screen = await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen) and app.screen)
        assert "html" in screen.formats
        await pilot.press("5")
        await wait_for(pilot, lambda: screen.format == "html")
        page = screen.snippet
        assert page.startswith("<!DOCTYPE html>")
        assert "A &lt;b&gt;bold&lt;/b&gt; prompt" in page and "<b>bold</b>" not in page
        assert 'class="tok' in page  # the probability colouring
        await pilot.press("s")
        field = screen.query_one("#export-save")
        assert field.value.endswith(".html")
        field.value = str(tmp_path / "page.html")
        await pilot.press("enter")
        await wait_for(pilot, lambda: (tmp_path / "page.html").exists())
        assert (tmp_path / "page.html").read_text(encoding="utf-8") == page


async def test_without_exchanges_only_the_request_formats_are_offered(sim: Any) -> None:
    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        app.prompt_pane.text = "Not sent yet"
        await pilot.press("f8")
        screen = await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen) and app.screen)
        assert "html" not in screen.formats
        await pilot.press("5")
        assert screen.format == "curl"
