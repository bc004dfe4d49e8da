"""Issue 9's rough edges in the main screen, driven with Pilot against the loopback simulator:
a second send while streaming, regenerate, opening a session, prompt history, $EDITOR, toasts."""

from __future__ import annotations

import contextlib
import stat
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input
from ui_helpers import (
    SIZE,
    completion_posts,
    make_app,
    send,
    spy_on_notify,
    wait_finished,
    wait_for,
)

from workbench.api.request import CompletionRequest
from workbench.api.types import Choice, CompletionResult
from workbench.sessions.model import Exchange, Session
from workbench.sessions.store import SessionStore
from workbench.ui.session_browser import SessionBrowser


@pytest.fixture(autouse=True)
def isolated(workbench_home: None) -> None:
    """Config, data and API environment of this test only (tests/conftest.py)."""


def saved_session(
    directory: Path, prompts: list[Any], *, title: str = "", max_tokens: int = 7
) -> Session:
    """A session on disk whose exchanges asked for ``max_tokens`` (not the sidebar's 256)."""
    session = Session.new(title=title, profile="test")
    for prompt in prompts:
        request = CompletionRequest(
            model="llama3.1-8b", prompt=prompt, max_tokens=max_tokens, stream=True
        )
        result = CompletionResult(
            choices=[Choice(index=0, text=" and so on", finish_reason="stop")]
        )
        session.exchanges.append(Exchange.from_outcome(request, result))
    SessionStore(directory).save(session)
    return session


async def open_first_session(pilot: Any) -> None:
    app = pilot.app
    await pilot.press("ctrl+o")
    await wait_for(pilot, lambda: isinstance(app.screen, SessionBrowser))
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.press("enter")


# -- 8: a second send while a stream runs ----------------------------------------------------


async def test_a_second_send_while_streaming_is_refused_naming_the_cancel_key(
    sim_factory: Any,
) -> None:
    sim = await sim_factory(fault="stall", fault_times=1)
    app = make_app(sim.base_url)
    notices = spy_on_notify(app)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "First")
        view = await wait_for(pilot, lambda: app.transcript.last)
        await wait_for(pilot, lambda: view.choices and view.choices[0].output.length > 0)
        for key in ("ctrl+j", "ctrl+r", "ctrl+n"):
            await pilot.press(key)
            await wait_for(pilot, lambda: any("still running" in n.message for n in notices))
            notices.clear()
        assert len(completion_posts(sim)) == 1
        assert view.status == "streaming" and len(app.transcript.exchanges) == 1
        await pilot.press("escape")
        await wait_finished(pilot)
        assert view.status == "cancelled"


async def test_the_refusal_names_a_remapped_cancel_key(sim_factory: Any, tmp_path: Path) -> None:
    from workbench.config import load_config

    config_file = tmp_path / "config.toml"
    config_file.write_text('[keymap]\ncancel = "f9"\n', "utf-8")
    config, problems = load_config(config_file)
    assert problems == []
    sim = await sim_factory(fault="stall", fault_times=1)
    app = make_app(sim.base_url, config=config)
    notices = spy_on_notify(app)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "First")
        view = await wait_for(pilot, lambda: app.transcript.last)
        await wait_for(pilot, lambda: view.choices and view.choices[0].output.length > 0)
        await send(pilot, "Second")
        [refusal] = await wait_for(
            pilot, lambda: [n for n in notices if "still running" in n.message]
        )
        assert "press f9 to cancel" in refusal.message
        await pilot.press("f9")
        await wait_finished(pilot)


# -- 7 and 15: regenerate ----------------------------------------------------------------------


async def test_regenerate_sends_what_the_sidebar_shows_and_says_it_appended(sim: Any) -> None:
    app = make_app(sim.base_url)
    notices = spy_on_notify(app)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "Roses are red")
        await wait_finished(pilot)
        app.sidebar.query_one("#max_tokens", Input).value = "12"
        app.prompt_pane.text = "not this"
        await pilot.press("ctrl+r")
        await wait_finished(pilot, count=2)
        first, second = (post.body for post in completion_posts(sim))
        assert second["prompt"] == first["prompt"] == "Roses are red"
        assert first["max_tokens"] == 256 and second["max_tokens"] == 12
        assert any("Regenerated as exchange 2" in n.message for n in notices)
        assert len(app.transcript.exchanges) == 2


async def test_regenerate_with_a_broken_parameter_sends_nothing(sim: Any) -> None:
    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "Roses are red")
        await wait_finished(pilot)
        app.sidebar.query_one("#temperature", Input).value = "9"
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert len(completion_posts(sim)) == 1
        assert app.focused is app.sidebar.query_one("#temperature")


# -- 7: opening a session is one step ------------------------------------------------------------


async def test_opening_a_session_shows_its_parameters_before_its_exchanges(
    sim: Any, tmp_path: Path
) -> None:
    sessions = tmp_path / "sessions"
    saved_session(sessions, ["one", "two", "three"], max_tokens=7)
    app = make_app(sim.base_url, sessions_dir=sessions)
    async with app.run_test(size=SIZE) as pilot:
        seen: list[tuple[Any, str]] = []
        transcript = app.transcript
        show_recorded = transcript.show_recorded

        async def recording(*args: Any, **kwargs: Any) -> Any:
            # What a send would use at the moment each saved exchange is drawn.
            seen.append((app.sidebar.query_one("#max_tokens", Input).value, app.prompt_pane.text))
            return await show_recorded(*args, **kwargs)

        transcript.show_recorded = recording  # type: ignore[method-assign]
        await open_first_session(pilot)
        await wait_for(pilot, lambda: len(transcript.exchanges) == 3)
        assert seen == [("7", "three")] * 3
        assert app.status_bar.model == "llama3.1-8b"
        # Regenerate now sends exactly what the sidebar shows.
        await pilot.press("ctrl+r")
        await wait_finished(pilot, count=4)
        [post] = completion_posts(sim)
        assert post.body["max_tokens"] == 7 and post.body["prompt"] == "three"


async def test_nothing_is_sent_while_a_session_is_being_opened(sim: Any, tmp_path: Path) -> None:
    sessions = tmp_path / "sessions"
    saved_session(sessions, ["one", "two"])
    app = make_app(sim.base_url, sessions_dir=sessions)
    notices = spy_on_notify(app)
    async with app.run_test(size=SIZE) as pilot:
        transcript = app.transcript
        show_recorded = transcript.show_recorded

        async def send_meanwhile(*args: Any, **kwargs: Any) -> Any:
            await app.action_regenerate()  # as if ctrl+r arrived while the exchanges are drawn
            return await show_recorded(*args, **kwargs)

        transcript.show_recorded = send_meanwhile  # type: ignore[method-assign]
        await open_first_session(pilot)
        await wait_for(pilot, lambda: any("Loaded session" in n.message for n in notices))
        assert completion_posts(sim) == []
        assert any("Still opening the session" in n.message for n in notices)
        assert len(transcript.exchanges) == 2


async def test_a_title_ending_a_sentence_gets_no_second_period(sim: Any, tmp_path: Path) -> None:
    sessions = tmp_path / "sessions"
    saved_session(sessions, ["one"], title="It was a dark night.")
    app = make_app(sim.base_url, sessions_dir=sessions)
    notices = spy_on_notify(app)
    async with app.run_test(size=SIZE) as pilot:
        await open_first_session(pilot)
        [loaded] = await wait_for(pilot, lambda: [n for n in notices if "Loaded" in n.message])
        assert loaded.message == "Loaded session It was a dark night."


# -- 19: prompt history ----------------------------------------------------------------------


async def test_alt_up_and_down_recall_prompts_of_this_session(sim: Any) -> None:
    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "first prompt")
        await wait_finished(pilot)
        await pilot.press("ctrl+t")  # a batch, recalled as a batch
        await send(pilot, "cat\n---\ndog")
        await wait_finished(pilot, count=2)
        await pilot.press("ctrl+t", "ctrl+t")  # back to text
        app.prompt_pane.text = "my draft"
        await pilot.press("alt+up")
        assert app.prompt_pane.text == "cat\n---\ndog" and app.prompt_pane.form == "batch"
        await pilot.press("alt+up")
        assert app.prompt_pane.text == "first prompt" and app.prompt_pane.form == "text"
        await pilot.press("alt+down", "alt+down")
        assert app.prompt_pane.text == "my draft" and app.prompt_pane.form == "text"


async def test_alt_up_reaches_prompts_of_recent_sessions_read_lazily(
    sim: Any, tmp_path: Path
) -> None:
    sessions = tmp_path / "sessions"
    saved_session(sessions, ["yesterday one", "yesterday two"])
    app = make_app(sim.base_url, sessions_dir=sessions)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "today")
        await wait_finished(pilot)
        app.prompt_pane.text = ""
        await pilot.press("alt+up")
        assert app.prompt_pane.text == "today"
        await pilot.press("alt+up")  # past what is in memory: the files are read in a thread
        await wait_for(pilot, lambda: app.prompt_pane.text == "yesterday two")
        await pilot.press("alt+up")
        assert app.prompt_pane.text == "yesterday one"
        await pilot.press("alt+up")  # the oldest: stays
        assert app.prompt_pane.text == "yesterday one"
        await pilot.press("alt+down", "alt+down", "alt+down")
        assert app.prompt_pane.text == ""


# -- 15: $EDITOR ---------------------------------------------------------------------------------


async def test_a_line_added_in_the_editor_does_not_join_the_last_line(
    sim: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "append-a-line"
    script.write_text("#!/bin/sh\nprintf 'added line\\n' >> \"$1\"\n", "utf-8")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("VISUAL", str(script))
    app = make_app(sim.base_url)
    # The headless test driver cannot suspend; the editor runs all the same.
    app.suspend = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    async with app.run_test(size=SIZE) as pilot:
        app.prompt_pane.text = "It was a dark night"
        await pilot.press("ctrl+e")
        await wait_for(pilot, lambda: "added" in app.prompt_pane.text)
        assert app.prompt_pane.text == "It was a dark night\nadded line"
