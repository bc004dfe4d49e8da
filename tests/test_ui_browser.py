"""Pilot tests of the session browser: list, search, open, rename, delete/restore, new."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Static

from ui_sessions_fixtures import BrowserHost, fill_store
from workbench.sessions.model import Session
from workbench.ui.session_browser import SessionBrowser, SessionTable


def host_for(directory: Path) -> BrowserHost:
    store = fill_store(directory)
    return BrowserHost(lambda: SessionBrowser(store), store=store)


def titles(app: BrowserHost) -> list[str]:
    return [row.title for row in app.screen.query_one(SessionTable).rows]


async def settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_lists_newest_first_and_searches_prompts_and_outputs(tmp_path: Path) -> None:
    app = host_for(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert titles(app) == [
            "Haiku about autumn",
            "Rust fizzbuzz",
            "Summarise the meeting",
            "Token ids test",
            "Untitled prompt first line",
        ]
        await pilot.press(*"frog")  # only in an output
        assert titles(app) == ["Haiku about autumn"]
        await pilot.press(*["backspace"] * 4, *"BUDGET")  # prompt text, any case
        assert titles(app) == ["Summarise the meeting"]
        status = app.screen.query_one("#browser-status", Static)
        assert "1 of 5 sessions" in str(status.render())


async def test_enter_opens_the_highlighted_session(tmp_path: Path) -> None:
    app = host_for(tmp_path)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await pilot.pause()
    assert isinstance(app.result, Session)
    assert app.result.title == "Rust fizzbuzz" and len(app.result.exchanges) == 2


async def test_rename_changes_the_title_on_disk(tmp_path: Path) -> None:
    app = host_for(tmp_path)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await pilot.pause()
        rename_input = app.screen.query_one("#new-title", Input)
        rename_input.value = ""
        await pilot.press(*"Autumn poems", "enter")
        await settle(pilot)
        assert titles(app)[0] == "Autumn poems"
    assert app.store.load("20261120-093000").title == "Autumn poems"


async def test_delete_then_undo_restores_the_file(tmp_path: Path) -> None:
    app = host_for(tmp_path)
    async with app.run_test() as pilot:
        await settle(pilot)
        original = sorted(p.name for p in tmp_path.glob("*.toml"))
        await pilot.press("ctrl+d")
        await settle(pilot)
        assert "Haiku about autumn" not in titles(app)
        assert len(list((tmp_path / ".trash").glob("*.toml"))) == 1
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert titles(app)[0] == "Haiku about autumn"
    assert sorted(p.name for p in tmp_path.glob("*.toml")) == original


def spy_notifications(app: BrowserHost) -> list[str]:
    """Every notification's text, as the app is asked to show it."""
    said: list[str] = []
    show = app.notify

    def notify(message: str, *args: object, **kwargs: object) -> None:
        said.append(message)
        show(message, *args, **kwargs)  # type: ignore[arg-type]

    app.notify = notify  # type: ignore[method-assign]
    return said


async def test_delete_and_undo_toasts_name_the_same_title(tmp_path: Path) -> None:
    app = host_for(tmp_path)
    async with app.run_test() as pilot:
        said = spy_notifications(app)
        await settle(pilot)
        await pilot.press("ctrl+d")
        await settle(pilot)
        await pilot.press("ctrl+z")
        await settle(pilot)
    deleted, restored = said
    assert "“Haiku about autumn”" in deleted and "ctrl+z restores it" in deleted
    assert restored == "Restored “Haiku about autumn”."


async def test_ctrl_u_in_the_search_box_clears_it_and_undoes_nothing(tmp_path: Path) -> None:
    app = host_for(tmp_path)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("ctrl+d")
        await settle(pilot)
        await pilot.press(*"rust")
        await settle(pilot)
        assert titles(app) == ["Rust fizzbuzz"]
        await pilot.press("left", "left")  # the cursor mid-word: the whole box still clears
        await pilot.press("ctrl+u")
        await settle(pilot)
        assert app.screen.query_one("#search", Input).value == ""
        # The deleted session stays deleted: ctrl+u is not Undo.
        assert "Haiku about autumn" not in titles(app)
        assert len(titles(app)) == 4


async def test_new_session_comes_from_the_callers_factory(tmp_path: Path) -> None:
    store = fill_store(tmp_path)
    fresh = Session.new(title="", profile="work", base_url="https://api.example.test")
    app = BrowserHost(lambda: SessionBrowser(store, new_session=lambda: fresh), store=store)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("ctrl+n")
        await pilot.pause()
    assert app.result is fresh


async def test_unreadable_file_is_listed_with_its_reason_and_not_deleted(tmp_path: Path) -> None:
    broken = tmp_path / "20991231-000000-000-badbad--broken.toml"
    store = fill_store(tmp_path, count=1)
    broken.write_text("schema_version = 1\ntitle = [\n")
    app = BrowserHost(lambda: SessionBrowser(store), store=store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(SessionTable)
        assert table.current is not None and table.current.name == broken.name
        status = str(app.screen.query_one("#browser-status", Static).render())
        assert "TOML syntax error" in status
        await pilot.press("ctrl+d", "enter")
        await settle(pilot)
        assert app.result == "not dismissed"
    assert broken.read_text() == "schema_version = 1\ntitle = [\n"


async def test_new_and_escape(tmp_path: Path) -> None:
    app = host_for(tmp_path)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("ctrl+n")
        await pilot.pause()
    assert isinstance(app.result, Session) and app.result.exchanges == []

    app = host_for(tmp_path / "other")
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("escape")
        await pilot.pause()
    assert app.result is None


async def test_f1_lists_the_browsers_own_keys_first_and_how_to_close(sim, tmp_path: Path) -> None:
    from ui_helpers import make_app, wait_for
    from workbench.ui.help_screen import HelpScreen

    fill_store(tmp_path)
    app = make_app(sim.base_url, sessions_dir=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, SessionBrowser))
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        rows = app.screen.rows
        assert rows[0][2] == "sessions.open"
        # The screen's own keys only: not the search box's ~30 editing keys.
        assert all(ident.startswith("sessions.") or not ident for _, _, ident in rows)
        assert len(rows) < 20  # ids, then moving and tab (was ~30 with the input's keys)
        descriptions = [description for _, description, _ in rows]
        assert "Clear the search box" in descriptions
        assert not any("delete" in d.lower() and "left" in d.lower() for d in descriptions)
        close = str(app.screen.query_one("#help-close", Static).render())
        assert close.startswith("esc closes this screen;") and "closes this help" in close
