"""Focus is visible: every stop of the main screen's tab/f6 chain, the session list and the
replay results show a focus mark, in every theme, readable against the background."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.color import Color
from textual.widget import Widget

from ui_helpers import make_app, wait_for
from ui_sessions_fixtures import BrowserHost, fill_store
from workbench.sessions.model import Session
from workbench.ui.replay_screen import ReplayScreen
from workbench.ui.session_browser import SessionBrowser, SessionTable
from workbench.ui.themes import register_builtin_themes

# WCAG 2.1, 1.4.11: user-interface marks need 3:1 against what is next to them.
MIN_CONTRAST = 3.0


def _luminance(color: Color) -> float:
    def channel(value: int) -> float:
        v = value / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.r) + 0.7152 * channel(color.g) + 0.0722 * channel(color.b)


def contrast(a: Color, b: Color) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def focus_mark(widget: Widget) -> tuple[str, Color]:
    """The left edge of a pane: (border type, colour)."""
    kind, color = widget.styles.border_left
    return kind, color


async def test_every_pane_shows_focus_in_every_theme(sim: Any) -> None:
    app = make_app(sim.base_url)
    async with app.run_test(size=(120, 40)) as pilot:
        register_builtin_themes(app)
        await pilot.pause()
        transcript, sidebar, editor = app.transcript, app.sidebar, app.prompt_pane.editor
        for theme in sorted(app.available_themes):
            app.theme = theme
            editor.focus()
            await pilot.pause()
            background = app.screen.styles.background
            rest = {"transcript": focus_mark(transcript), "sidebar": focus_mark(sidebar)}
            editor_focused = editor.styles.border_top
            transcript.focus()
            await pilot.pause()
            assert editor.styles.border_top != editor_focused, f"{theme}: prompt looks focused still"
            focused = {"transcript": focus_mark(transcript)}
            app.sidebar.query_one("#max_tokens").focus()
            await pilot.pause()
            focused["sidebar"] = focus_mark(sidebar)
            for pane in ("transcript", "sidebar"):
                kind, color = focused[pane]
                assert kind == "heavy" and focused[pane] != rest[pane], f"{theme}: {pane}"
                if color.ansi is None:  # ANSI colours are the terminal's: only the shape counts
                    assert contrast(color, background) >= MIN_CONTRAST, f"{theme}: {pane} {color}"
            kind, color = editor_focused
            if color.ansi is None:
                assert contrast(color, background) >= MIN_CONTRAST, f"{theme}: prompt {color}"
            # The focused field's name lights up too.
            name = app.sidebar.query_one("#field-max_tokens .field-name")
            assert name.styles.text_style.bold, theme


async def test_tab_never_stops_where_focus_cannot_be_seen(sim: Any) -> None:
    app = make_app(sim.base_url)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for widget in app.screen.focus_chain:
            widget.focus()
            await pilot.pause()
            marked = [
                pane
                for pane in (app.transcript, app.sidebar, app.prompt_pane.editor)
                if pane is widget or pane in widget.ancestors
            ]
            assert marked, f"{widget!r} takes focus outside every pane"
            if marked[0] is app.prompt_pane.editor:
                assert marked[0].styles.border_top[0] == "heavy"
            else:
                assert focus_mark(marked[0])[0] == "heavy", widget


async def test_the_session_list_and_replay_results_show_focus(tmp_path: Path) -> None:
    store = fill_store(tmp_path)
    app = BrowserHost(lambda: SessionBrowser(store), store=store)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        table = app.screen.query_one(SessionTable)
        assert focus_mark(table)[0] == "blank"
        table.focus()
        await pilot.pause()
        assert focus_mark(table)[0] == "heavy"

    session = Session.new(title="x")
    app = BrowserHost(lambda: ReplayScreen(session, store=store))
    async with app.run_test(size=(100, 30)) as pilot:
        results = app.screen.query_one("#replay-results")
        assert focus_mark(results)[0] == "blank"
        results.focus()
        await wait_for(pilot, lambda: focus_mark(results)[0] == "heavy")
