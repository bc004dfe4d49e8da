"""Eval files in the session browser: the eval screen saves into ``evals/`` of the session
folder, the browser's eval filter lists them (broken ones as unreadable, never touched), enter
opens one in the eval screen; plus the folder/listing helpers and a snapshot of the filter."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Static, TextArea
from textual.widgets.text_area import Selection

from ui_helpers import make_app, wait_for
from ui_sessions_fixtures import BASE_TIME, BrowserHost, fill_store
from workbench.eval.catalog import (
    ensure_evals_folder,
    is_eval_name,
    list_evals,
    suggested_name,
)
from workbench.eval.spec import EvalFileError, load_eval
from workbench.ui.eval_screen import AskScreen, EvalScreen, open_eval_screen
from workbench.ui.session_browser import SessionBrowser, SessionTable

GOOD_EVAL = (
    'schema_version = 1\ntitle = "French greetings"\nprompt = "Say {{text}}"\n'
    '[[variants]]\nname = "8b"\nmodel = "llama3.1-8b"\n'
    '[[variants]]\nname = "32b"\nmodel = "qwen-3-32b"\n'
    '[[cases]]\nname = "hello"\nvars = { text = "Hello" }\n'
    '[[cases]]\nname = "night"\nvars = { text = "Good night" }\n'
)
# Valid TOML, wrong eval: the loader names line 7 (an unknown assertion type).
BROKEN_EVAL = (
    'title = "Broken"\nprompt = "Say {{text}}"\n[defaults]\nmodel = "llama3.1-8b"\n[[cases]]\nname = "a"\n'
    'assert = [{ type = "containz", value = "x" }]\nvars = { text = "x" }\n'
)


def rows(screen: Any) -> list[Any]:
    return screen.query_one(SessionTable).rows


def status(screen: Any) -> str:
    return str(screen.query_one("#browser-status", Static).render())


async def settle(pilot: Any) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


# -- saving from the eval screen, browsing, opening ---------------------------------------------


async def test_save_an_eval_see_it_in_the_browser_and_open_it(sim: Any, tmp_path: Path) -> None:
    sessions = tmp_path / "sessions"
    app = make_app(sim.base_url, sessions_dir=sessions, fetch_models=False)
    async with app.run_test(size=(120, 40)) as pilot:
        app.prompt_pane.text = "Translate into French: Hello"
        open_eval_screen(app)
        await wait_for(pilot, lambda: isinstance(app.screen, EvalScreen))
        await pilot.pause()
        screen = app.screen
        screen.query_one("#eval-template", TextArea).selection = Selection((0, 23), (0, 28))
        await pilot.press("ctrl+k")
        await wait_for(pilot, lambda: isinstance(app.screen, AskScreen))
        app.screen.query_one(Input).value = "text"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is screen)

        # ctrl+s offers a free name in evals/ of the session folder; enter accepts it.
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, AskScreen))
        ask = app.screen
        assert str(sessions / "evals") in ask.question
        assert ask.query_one(Input).value == "untitled-eval.eval.toml"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is screen)
        saved = sessions / "evals" / "untitled-eval.eval.toml"
        assert screen.path == saved
        assert stat.S_IMODE((sessions / "evals").stat().st_mode) == 0o700
        assert [c.name for c in load_eval(saved).cases] == ["case 1"]
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(app.screen_stack) == 1)

        # The browser lists sessions; its eval filter lists the file just saved.
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, SessionBrowser))
        browser = app.screen
        await settle(pilot)
        assert not any(row.name == saved.name for row in rows(browser))
        await pilot.press("f9")
        await settle(pilot)
        assert [(r.title, r.cases, r.variants) for r in rows(browser)] == [("Untitled eval", 1, 1)]
        assert "Eval files — " in str(browser.query_one("#browser-title", Static).render())
        assert status(browser) == "1 eval file"
        await pilot.press(*"untitled")  # search matches eval titles
        assert len(rows(browser)) == 1
        await pilot.press(*" zzz")
        assert rows(browser) == [] and "0 of 1 eval file" in status(browser)
        assert "cases · variants" in browser.query_one(SessionTable).render_line(0).text
        browser.query_one("#search", Input).value = ""
        await pilot.pause()

        # enter opens it in the eval screen, loaded from the file.
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EvalScreen))
        await pilot.pause()
        opened = app.screen
        assert opened.path == saved
        assert opened.query_one("#eval-template", TextArea).text == "Translate into French: {{text}}"
        assert [c.vars for c in opened.draft.cases] == [{"text": "Hello"}]
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is browser)
        await settle(pilot)
        assert browser.showing_evals and len(rows(browser)) == 1


async def test_eval_filter_lists_titles_counts_and_searches(tmp_path: Path) -> None:
    store = fill_store(tmp_path / "sessions", count=2)
    folder = ensure_evals_folder(store.directory)
    (folder / "fr.eval.toml").write_text(GOOD_EVAL, encoding="utf-8")
    (folder / "fr.eval.results.toml").write_text("kind = 'workbench-eval-results'\n", encoding="utf-8")
    app = BrowserHost(lambda: SessionBrowser(store), store=store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        browser = app.screen
        await pilot.press(*"french")  # a search typed for sessions carries over
        assert rows(browser) == []
        await pilot.press("f9")
        await settle(pilot)
        # The results file next to it is not an eval file.
        assert [(r.title, r.cases, r.variants) for r in rows(browser)] == [("French greetings", 2, 2)]
        table = browser.query_one(SessionTable)
        assert "2 cases · 2 variants" in table.render_line(1).text
        assert "cases · variants" in table.render_line(0).text
        await pilot.press("f9")  # back to the sessions
        await settle(pilot)
        assert "Sessions — " in str(browser.query_one("#browser-title", Static).render())
        browser.query_one("#search", Input).value = ""
        await pilot.pause()
        assert len(rows(browser)) == 2


async def test_broken_eval_is_listed_unreadable_and_left_untouched(tmp_path: Path) -> None:
    store = fill_store(tmp_path / "sessions", count=2)
    folder = ensure_evals_folder(store.directory)
    broken = folder / "broken.eval.toml"
    broken.write_bytes(BROKEN_EVAL.encode())
    not_toml = folder / "garbled.eval.toml"
    not_toml.write_bytes(b'title = "x\n\xff')
    os.mkfifo(folder / "pipe.eval.toml")  # must be refused at once, not waited on
    for path in (broken, not_toml, folder / "pipe.eval.toml"):
        os.utime(path, (1, 1))
    (folder / "fr.eval.toml").write_text(GOOD_EVAL, encoding="utf-8")  # the newest: listed first
    before = {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in (broken, not_toml)}
    with pytest.raises(EvalFileError) as expected:
        load_eval(broken)
    app = BrowserHost(lambda: SessionBrowser(store), store=store)
    notes: list[str] = []
    async with app.run_test(size=(120, 30)) as pilot:
        show = app.notify
        app.notify = lambda message, *a, **k: (notes.append(message), show(message, *a, **k))  # type: ignore[method-assign]
        await settle(pilot)
        browser = app.screen
        await pilot.press("f9")
        await settle(pilot)
        by_name = {row.name: row for row in rows(browser)}
        assert set(by_name) == {"fr.eval.toml", "broken.eval.toml", "garbled.eval.toml", "pipe.eval.toml"}
        assert [name for name, row in by_name.items() if row.readable] == ["fr.eval.toml"]
        # The loader's own line and reason, as `workbench eval` prints them.
        reason = by_name["broken.eval.toml"].error
        assert reason == f"line {expected.value.line}: {expected.value.message}"
        assert expected.value.line == 7 and "containz" in reason
        assert "not valid UTF-8" in by_name["garbled.eval.toml"].error
        assert "not a file" in by_name["pipe.eval.toml"].error
        assert status(browser) == "4 eval files · 3 unreadable"

        table = browser.query_one(SessionTable)
        table.cursor = [row.name for row in table.rows].index("broken.eval.toml")
        await pilot.pause()
        assert status(browser) == f"broken.eval.toml: {reason}"
        assert "broken.eval.toml — unreadable: line 7:" in table.render_line(table.cursor + 1).text
        await pilot.press("enter")  # not opened: the reason is said instead
        await pilot.pause()
        assert app.screen is browser and "is unreadable" in notes[-1]
        # A valid eval whose prompt is in a prompt_file is not opened: the screen edits inline
        # prompts only, and saving would have dropped the prompt_file.
        (folder / "p.txt").write_text("Say {{text}}", encoding="utf-8")
        with_file = folder / "pf.eval.toml"
        with_file.write_text(GOOD_EVAL.replace('prompt = "Say {{text}}"', 'prompt_file = "p.txt"'), encoding="utf-8")
        before[with_file] = (with_file.read_bytes(), with_file.stat().st_mtime_ns)
        browser.reload_evals()
        await settle(pilot)
        table.cursor = [row.name for row in table.rows].index("pf.eval.toml")
        await pilot.pause()
        assert table.current is not None and table.current.readable
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is browser and "prompt_file" in notes[-1]
        # Session-only keys do nothing to eval files, and say so.
        for key in ("ctrl+d", "f2", "f3", "ctrl+r", "ctrl+n"):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is browser and notes[-1].startswith("That key works on sessions; f9")
        assert app.result == "not dismissed"
    assert not (store.directory / ".trash").exists()
    after = {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in before}
    assert after == before


async def test_the_filter_key_follows_the_keymap(sim: Any, tmp_path: Path) -> None:
    """Remapped, the toggle answers to its new key, and the help and the empty-folder hint
    name that key."""
    from workbench.config import Config
    from workbench.ui.help_screen import focused_help

    fill_store(tmp_path / "sessions", count=1)
    config = Config(keymap={"sessions.evals": "ctrl+f13"})
    app = make_app(sim.base_url, config=config, sessions_dir=tmp_path / "sessions", fetch_models=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, SessionBrowser))
        browser = app.screen
        await settle(pilot)
        assert "**ctrl+f13** switches the list to the eval files" in (focused_help(app) or "")
        await pilot.press("f9")  # the old key no longer toggles
        await settle(pilot)
        assert not browser.showing_evals
        await pilot.press("ctrl+f13")
        await settle(pilot)
        assert browser.showing_evals and rows(browser) == []
        assert status(browser).endswith("ctrl+f13 shows the sessions")
        await pilot.press("ctrl+f13")
        await settle(pilot)
        assert not browser.showing_evals and len(rows(browser)) == 1


# -- the folder and the listing ---------------------------------------------------------------


def test_names_folder_and_listing(tmp_path: Path) -> None:
    assert is_eval_name("a.eval.toml") and is_eval_name("plain.toml")
    assert not is_eval_name("a.eval.results.toml") and not is_eval_name("a.results.2-of-4.toml")
    assert not is_eval_name(".tmp-x.part") and not is_eval_name(".a.toml") and not is_eval_name("a.csv")
    sessions = tmp_path / "deep" / "sessions"
    folder = ensure_evals_folder(sessions)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(sessions.stat().st_mode) == 0o700
    assert suggested_name("French: greetings!", folder) == "french-greetings.eval.toml"
    (folder / "french-greetings.eval.toml").write_text(GOOD_EVAL, encoding="utf-8")
    assert suggested_name("French: greetings!", folder) == "french-greetings-2.eval.toml"
    assert suggested_name("???", None) == "eval.eval.toml"
    (folder / "old.eval.toml").write_text(GOOD_EVAL, encoding="utf-8")
    os.utime(folder / "old.eval.toml", (1, 1))
    listed, total = list_evals(folder, limit=1)
    assert total == 2 and [row.name for row in listed] == ["french-greetings.eval.toml"]
    assert list_evals(tmp_path / "missing") == ([], 0)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(OSError):
        ensure_evals_folder(tmp_path / "afile")


# -- snapshot ---------------------------------------------------------------------------------


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_eval_filter_snapshot(snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, utc) -> None:
    monkeypatch.chdir(tmp_path)  # a relative folder keeps the random tmp path out of the picture
    store = fill_store(Path("sessions"), count=2)
    folder = ensure_evals_folder(store.directory)
    for index, (name, text) in enumerate((("fr.eval.toml", GOOD_EVAL), ("broken.eval.toml", BROKEN_EVAL))):
        (folder / name).write_text(text, encoding="utf-8")
        stamp = BASE_TIME.timestamp() - index * 3600
        os.utime(folder / name, (stamp, stamp))
    app = BrowserHost(lambda: SessionBrowser(store), store=store)

    async def show_evals(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("f9")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=show_evals)
