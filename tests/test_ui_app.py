"""The TUI end to end: Pilot drives the app against the simulator on a real loopback socket."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ui_helpers import (
    MODEL,
    SIZE,
    completion_posts,
    make_app,
    send,
    shown_text,
    spy_on_notify,
    wait_finished,
    wait_for,
)

from workbench.api.request import CompletionRequest
from workbench.config import load_config
from workbench.ui.app import LOCAL_FLUSH_HZ


@pytest.fixture(autouse=True)
def isolated(workbench_home: None) -> None:
    """Config, data and API environment of this test only (tests/conftest.py)."""


async def test_typed_prompt_streams_into_the_transcript(sim: Any) -> None:
    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"Hello there")
        await pilot.press("ctrl+j")
        view = await wait_finished(pilot)
        assert view.status == "complete"
        assert view.completion_text.strip()
        # Everything that arrived is on screen (the last buffered piece was flushed).
        assert view.choices[0].output.text == view.completion_text
        screen = shown_text(view)
        assert "▶ Hello there" in screen
        assert "TTFT" in screen and "tok/s" in screen and "finish" in screen
        [post] = completion_posts(sim)
        assert post.body["prompt"] == "Hello there"
        assert post.body["model"] == MODEL and post.body["stream"] is True
        # The status bar: model, last speed, quota from the rate-limit headers, speed history.
        status = app.status_bar
        assert MODEL in str(status.query_one("#model").render())
        assert "tok/s" in str(status.query_one("#speed").render())
        assert "req/day" in str(status.query_one("#quota").render())
        assert len(status.query_one("#speeds").data) == 1


async def test_escape_cancels_mid_stream_and_keeps_the_partial_text(sim_factory: Any) -> None:
    sim = await sim_factory(fault="stall", fault_times=1)
    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "Tell me a story")
        view = await wait_for(pilot, lambda: app.transcript.last)
        await wait_for(pilot, lambda: view.choices and view.choices[0].output.length > 0)
        await pilot.press("escape")
        await wait_finished(pilot)
        assert view.status == "cancelled"
        assert view.completion_text
        assert "cancelled" in shown_text(view)
        await sim.wait_for_disconnect(timeout=5.0)
        # Usable afterwards: the next request completes.
        await send(pilot, "Again")
        second = await wait_finished(pilot, count=2)
        assert second.status == "complete"


@pytest.mark.parametrize(
    ("sim_options", "key", "expected"),
    [
        ({"api_key": "right-key"}, "wrong-key", "Wrong API Key"),
        ({"fault": "rate-limit", "fault_times": 1}, None, "rate limit"),
        ({"fault": "drop", "fault_times": 1}, None, ""),
    ],
    ids=["401", "429", "dropped-connection"],
)
async def test_failures_show_in_the_transcript_and_the_app_stays_usable(
    sim_factory: Any, sim_options: dict[str, Any], key: str | None, expected: str
) -> None:
    sim = await sim_factory(**sim_options)
    app = make_app(sim.base_url, api_key=key)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "First")
        view = await wait_finished(pilot)
        assert view.status == "error"
        assert view.error and expected.lower() in view.error.lower()
        assert view.error in shown_text(view)
        await send(pilot, "Second")
        second = await wait_finished(pilot, count=2)
        assert len(completion_posts(sim)) == 2
        # The auth failure repeats (same key); the one-off faults are over.
        assert second.status == ("error" if key else "complete")


async def test_dropped_stream_keeps_its_partial_text(sim_factory: Any) -> None:
    sim = await sim_factory(fault="drop", fault_times=1)
    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "Go")
        view = await wait_finished(pilot)
        assert view.status == "error" and view.completion_text


async def test_invalid_parameter_blocks_sending_and_shows_the_rule(sim: Any) -> None:
    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        app.sidebar.query_one("#temperature").value = "2"
        await pilot.pause()
        error = app.sidebar.query_one("#error-temperature")
        assert "between 0 and 1.5" in str(error.render())
        await send(pilot, "Hello")
        await pilot.pause()
        assert completion_posts(sim) == []
        assert app.transcript.exchanges == []
        assert app.focused is app.sidebar.query_one("#temperature")


async def test_echo_with_raw_tokens_is_shown_as_a_conflict_on_both_switches(sim: Any) -> None:
    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        app.sidebar.query_one("#echo").value = True
        app.sidebar.query_one("#return_raw_tokens").value = True
        await pilot.pause()
        echo = str(app.sidebar.query_one("#error-echo").render())
        raw = str(app.sidebar.query_one("#error-return_raw_tokens").render())
        assert "return_raw_tokens" in echo and "echo" in raw
        await send(pilot, "Hi")
        await pilot.pause()
        assert completion_posts(sim) == []


async def test_bad_token_id_prompt_is_flagged_and_nothing_is_sent(sim: Any) -> None:
    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+t", "ctrl+t")
        assert app.prompt_pane.form == "tokens"
        assert "token ids" in app.prompt_pane.editor.border_title
        await send(pilot, '[1, "two", 3]')
        await pilot.pause()
        assert app.prompt_pane.error and "array of whole numbers" in app.prompt_pane.error
        assert completion_posts(sim) == []


async def test_batch_prompt_shows_every_choice_labelled(sim: Any) -> None:
    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+t")
        assert "---" in app.prompt_pane.editor.border_title
        await send(pilot, "The cat\n---\nThe dog\n---\nThe bird")
        view = await wait_finished(pilot)
        assert view.status == "complete"
        assert completion_posts(sim)[0].body["prompt"] == ["The cat", "The dog", "The bird"]
        assert sorted(view.choices) == [0, 1, 2]
        assert all(choice.completion_text for choice in view.choices.values())
        screen = shown_text(view)
        assert "choice 0 · prompt [0] The cat" in screen
        assert "choice 2 · prompt [2] The bird" in screen


@pytest.mark.parametrize(
    ("text", "choices"), [("[101, 102, 103]", 1), ("[[101, 102], [103, 104, 105]]", 2)]
)
async def test_token_id_prompts_are_sent_as_arrays(sim: Any, text: str, choices: int) -> None:
    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+t", "ctrl+t")
        await send(pilot, text)
        view = await wait_finished(pilot)
        assert view.status == "complete"
        assert completion_posts(sim)[0].body["prompt"] == json.loads(text)
        assert len(view.choices) == choices
        assert all(choice.completion_text for choice in view.choices.values())


async def test_continue_appends_the_completion_and_sends(sim: Any) -> None:
    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "Once upon a time")
        first = await wait_finished(pilot)
        await pilot.press("ctrl+n")
        await wait_finished(pilot, count=2)
        bodies = [post.body for post in completion_posts(sim)]
        assert bodies[1]["prompt"] == "Once upon a time" + first.completion_text
        assert app.prompt_pane.text == bodies[1]["prompt"]


async def test_regenerate_sends_the_same_request_again(sim: Any) -> None:
    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "Roses are red")
        await wait_finished(pilot)
        app.prompt_pane.text = "something else entirely"
        await pilot.press("ctrl+r")
        await wait_finished(pilot, count=2)
        first, second = (post.body for post in completion_posts(sim))
        assert first == second


async def test_copy_puts_the_last_completion_on_the_clipboard(sim: Any) -> None:
    app = make_app(sim.base_url)
    copied: list[str] = []
    app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "Copy me")
        view = await wait_finished(pilot)
        await pilot.press("ctrl+y")
        assert copied == [view.completion_text]
        assert copied[0]


async def test_echo_is_shown_apart_from_the_completion(sim: Any) -> None:
    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        app.sidebar.query_one("#echo").value = True
        await send(pilot, "Echo this")
        view = await wait_finished(pilot)
        choice = view.choices[0]
        assert choice.echo_text == "Echo this"
        assert "echo: Echo this" in shown_text(view)
        assert not choice.completion_text.startswith("Echo this")


async def test_raw_tokens_are_shown_as_ids(sim: Any) -> None:
    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        app.sidebar.query_one("#return_raw_tokens").value = True
        await send(pilot, "Tokens please")
        view = await wait_finished(pilot)
        words = view.completion_text.split()
        assert words and all(word.isdigit() for word in words)
        assert "token ids" in shown_text(view)


async def test_non_streaming_request_shows_the_whole_text(sim: Any) -> None:
    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        app.sidebar.query_one("#stream").value = False
        await send(pilot, "All at once")
        view = await wait_finished(pilot)
        assert completion_posts(sim)[0].body["stream"] is False
        assert view.status == "complete" and view.completion_text


async def test_every_exchange_is_autosaved(sim_factory: Any, tmp_path: Any) -> None:
    from workbench.sessions.store import SessionStore

    sim = await sim_factory(fault="drop", fault_times=1)
    sessions = tmp_path / "sessions"
    app = make_app(sim.base_url, sessions_dir=sessions)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "One")
        await wait_finished(pilot)
        await send(pilot, "Two")
        await wait_finished(pilot, count=2)
    store = SessionStore(sessions)
    [summary] = store.list()
    session = store.load(summary.id)
    # Named after the first prompt, so a directory listing says what is inside.
    assert summary.path.name.endswith("--one.toml")
    assert [e.status for e in session.exchanges] == ["error", "complete"]
    assert [e.request.prompt for e in session.exchanges] == ["One", "Two"]


async def test_config_problems_are_reported_and_the_app_starts(sim: Any, tmp_path: Any) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_text("temprature = 1\n[defaults]\nmax_tokens = 7\ntop_p = 3\n", "utf-8")
    config, problems = load_config(config_file)
    app = make_app(sim.base_url, config=config, config_problems=problems)
    notices = spy_on_notify(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        messages = [n.message for n in notices]
        assert any("temprature" in m and 'did you mean "temperature"' in m for m in messages)
        assert any("top_p" in m and "between 0 and 1" in m for m in messages)
        # Good settings still apply; the bad one fell back to "not sent".
        assert app.sidebar.query_one("#max_tokens").value == "7"
        assert app.sidebar.query_one("#top_p").value == ""
        await send(pilot, "Still works")
        view = await wait_finished(pilot)
        assert view.status == "complete"


async def test_keymap_from_config_remaps_send(sim: Any, tmp_path: Any) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_text('[keymap]\nsend = "f12"\n', "utf-8")
    config, problems = load_config(config_file)
    assert problems == []
    app = make_app(sim.base_url, config=config)
    async with app.run_test(size=SIZE) as pilot:
        app.prompt_pane.text = "Via F5"
        await pilot.press("f12")
        view = await wait_finished(pilot)
        assert view.status == "complete"


async def test_help_lists_the_actions_and_closes(sim: Any) -> None:
    from workbench.ui.help_screen import HelpScreen

    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        shown = {ident: (keys, description) for keys, description, ident in app.screen.rows}
        for ident in ("send", "cancel", "continue", "regenerate", "copy", "sessions", "edit"):
            assert ident in shown
        assert shown["send"][0].startswith("ctrl+j")
        # Help for the focused widget (the prompt editor) comes along.
        source = app.screen.query_one("#focused-help").source
        assert "Prompt" in source and "---" in source
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))
        # F1 on the help sheet closes it (the app's own F1, a priority key, stands aside there).
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("f1")
        await wait_for(pilot, lambda: len(app.screen_stack) == 1)


async def test_sidebar_toggles_and_reset_restores_defaults(sim: Any) -> None:
    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+b")
        assert not app.sidebar.display
        await pilot.press("ctrl+b")
        assert app.sidebar.display
        app.sidebar.query_one("#max_tokens").value = "9"
        app.sidebar.query_one("#seed").value = "42"
        await pilot.press("f7")
        assert app.sidebar.query_one("#max_tokens").value == "256"
        assert app.sidebar.query_one("#seed").value == ""


async def test_offline_mode_shows_the_badge_and_the_hint(sim: Any) -> None:
    app = make_app(sim.base_url, offline=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        badge = app.status_bar.query_one("#badge")
        assert "OFFLINE SIMULATOR" in str(badge.render())
        assert badge.region.width >= len("OFFLINE SIMULATOR")
        assert "export CEREBRAS_API_KEY" in app.transcript.visible_text().replace("\n", " ")


async def test_ssh_mode_turns_off_animation_and_flushes_less_often(sim: Any) -> None:
    app = make_app(sim.base_url, ssh=True)
    async with app.run_test(size=SIZE) as pilot:
        assert app.animation_level == "none"
        assert app.flush_hz < LOCAL_FLUSH_HZ
        await send(pilot, "Over ssh")
        view = await wait_finished(pilot)
        assert view.status == "complete"
        # The stream was drawn less often than locally (15 times a second, not 20).
        assert view._flush_interval >= 1 / 15 > 1 / LOCAL_FLUSH_HZ


async def test_ctrl_o_loads_a_saved_session_into_the_transcript(sim: Any, tmp_path: Any) -> None:
    from workbench.ui.session_browser import SessionBrowser

    sessions = tmp_path / "sessions"
    first = make_app(sim.base_url, sessions_dir=sessions)
    async with first.run_test(size=SIZE) as pilot:
        await send(pilot, "Remember me")
        saved = await wait_finished(pilot)
        saved_text = saved.completion_text
    app = make_app(sim.base_url, sessions_dir=sessions)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, SessionBrowser))
        await pilot.pause()
        await pilot.press("enter")
        view = await wait_for(pilot, lambda: app.transcript.last)
        assert view.status == "complete"
        assert view.completion_text == saved_text
        assert "▶ Remember me" in shown_text(view)
        assert app.prompt_pane.text == "Remember me"
        # New exchanges go on in the loaded session's file.
        await send(pilot, "And more")
        await wait_finished(pilot, count=2)
        assert len(app.session.exchanges) == 2
    # ... saved into the same file, not a copy.
    [only] = list(sessions.glob("*.toml"))
    assert "And more" in only.read_text("utf-8")


async def test_export_shows_the_current_request(sim: Any) -> None:
    from workbench.ui.export_screen import ExportScreen

    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        app.prompt_pane.text = "Export me"
        await pilot.press("f8")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen))
        assert app.screen.request.prompt == "Export me"
        assert app.screen.request.model == MODEL


async def test_transcript_follows_the_stream_only_while_at_the_bottom(sim_factory: Any) -> None:
    sim = await sim_factory(rate=100.0)
    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        # min_tokens = max_tokens: the simulator cannot end the story early.
        app.sidebar.query_one("#max_tokens").value = "3000"
        app.sidebar.query_one("#min_tokens").value = "3000"
        await send(pilot, "A long story")
        transcript = app.transcript
        await wait_for(pilot, lambda: transcript.max_scroll_y > 3)
        assert transcript.following
        # Live speed in the status bar while the stream runs.
        await wait_for(pilot, lambda: app.status_bar.live_rate)
        assert "⇣" in str(app.status_bar.query_one("#speed").render())
        transcript.scroll_home(animate=False)
        await wait_for(pilot, lambda: not transcript.following)
        height_when_left = transcript.max_scroll_y
        await wait_for(pilot, lambda: transcript.max_scroll_y > height_when_left + 3)
        assert transcript.scroll_y == 0  # reading up there is not interrupted
        transcript.scroll_end(animate=False)
        await wait_for(pilot, lambda: transcript.following)
        height_when_back = transcript.max_scroll_y
        await wait_for(pilot, lambda: transcript.max_scroll_y > height_when_back + 3)
        await wait_for(pilot, lambda: transcript.scroll_y >= height_when_back + 3)
        await pilot.press("escape")
        await wait_finished(pilot)


async def test_logprobs_are_viewable(sim: Any) -> None:
    from workbench.ui.token_inspector import TokenInspector

    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        app.sidebar.show_request(CompletionRequest(model=MODEL, prompt="", logprobs=2, stream=True))
        await send(pilot, "Probabilities")
        await wait_finished(pilot)
        logprobs = app.session.exchanges[-1].choices[0].logprobs
        assert logprobs and logprobs.get("tokens")
        await pilot.press("ctrl+g")
        inspector = await wait_for(pilot, lambda: isinstance(app.screen, TokenInspector) and app.screen)
        assert len(inspector.tokens) == len(logprobs["tokens"])
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, TokenInspector))


async def test_every_action_is_in_the_command_palette(sim: Any) -> None:
    from workbench.ui.bindings import ACTION_TITLES

    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert set(ACTION_TITLES.values()) <= titles


async def test_clearing_mid_stream_files_the_cancelled_exchange_in_the_old_session(
    sim_factory: Any, tmp_path: Any
) -> None:
    sim = await sim_factory(fault="stall", fault_times=1)
    app = make_app(sim.base_url, sessions_dir=tmp_path / "sessions")
    async with app.run_test(size=SIZE) as pilot:
        old_session = app.session
        await send(pilot, "Interrupted")
        view = await wait_for(pilot, lambda: app.transcript.last)
        await wait_for(pilot, lambda: view.choices and view.choices[0].output.length > 0)
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: old_session.exchanges)
        assert [e.status for e in old_session.exchanges] == ["cancelled"]
        assert app.session is not old_session and app.session.exchanges == []
        assert app.transcript.exchanges == []
        await send(pilot, "Fresh start")
        await wait_finished(pilot)
        assert len(app.session.exchanges) == 1


async def test_f6_moves_focus_between_the_panes(sim: Any) -> None:
    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.focused is app.prompt_pane.editor
        await pilot.press("f6")
        assert app.focused is app.transcript
        await pilot.press("f6")
        assert app.focused is app.sidebar.query_one("#model")
        await pilot.press("f6")
        assert app.focused is app.prompt_pane.editor
        await pilot.press("shift+f6")
        assert app.focused is app.sidebar.query_one("#model")
        await pilot.press("ctrl+b")  # hiding the sidebar hands its focus to the prompt
        assert app.focused is app.prompt_pane.editor
        await pilot.press("f6", "f6")  # and a hidden sidebar is skipped
        assert app.focused is app.prompt_pane.editor


async def test_ctrl_s_saves_the_session_now(sim: Any, tmp_path: Any) -> None:
    sessions = tmp_path / "sessions"
    app = make_app(sim.base_url, sessions_dir=sessions)
    notices = spy_on_notify(app)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "Save me")
        await wait_finished(pilot)
        saved = list(sessions.glob("*.toml"))
        assert len(saved) == 1
        before = saved[0].stat().st_mtime_ns
        app.session.title = "Renamed here"
        await pilot.press("ctrl+s")
        [saved_note] = await wait_for(
            pilot, lambda: [n.message for n in notices if "saved" in n.message]
        )
        assert saved_note == f"Session saved to {saved[0]}."
        text = "".join(p.read_text("utf-8") for p in sessions.glob("*.toml"))
        assert "Renamed here" in text
        assert before  # the file existed before the explicit save: autosave wrote it


async def test_editor_without_a_suspendable_terminal_keeps_the_prompt(
    sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDITOR", "true")
    app = make_app(sim.base_url)
    notices = spy_on_notify(app)
    async with app.run_test(size=SIZE) as pilot:
        app.prompt_pane.text = "keep me"
        await pilot.press("ctrl+e")
        await wait_for(pilot, lambda: any("editor" in n.message for n in notices))
        assert app.prompt_pane.text == "keep me"


async def test_stop_sequences_are_sent_with_escapes_decoded(sim: Any) -> None:
    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        app.sidebar.query_one("#stop-0").value = "\\n\\n"
        app.sidebar.query_one("#stop-2").value = "END"
        await send(pilot, "Stop early")
        await wait_finished(pilot)
        assert completion_posts(sim)[0].body["stop"] == ["\n\n", "END"]


async def test_a_server_rejection_naming_a_field_is_shown_on_that_field(sim: Any) -> None:
    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        app.sidebar.query_one("#max_tokens").value = "100000000"
        await send(pilot, "Too long")
        view = await wait_finished(pilot)
        assert view.status == "error" and "Bad request (400)" in (view.error or "")
        field_error = str(app.sidebar.query_one("#error-max_tokens").render())
        assert "server:" in field_error and "context length" in field_error


async def test_config_messages_with_brackets_are_shown_verbatim(sim: Any, tmp_path: Any) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_text("temperature = 0.2\n", "utf-8")
    config, problems = load_config(config_file)
    app = make_app(sim.base_url, config=config, config_problems=problems)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        toasts = await wait_for(pilot, lambda: list(app.screen.query("Toast")))
        shown = " ".join(str(toast.render()) for toast in toasts)
        assert "under [defaults]" in shown


async def test_text_from_the_user_or_server_is_never_read_as_markup(sim: Any) -> None:
    app = make_app(sim.base_url, model="[/oops]")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "[bold]not bold[/bold]")
        view = await wait_finished(pilot)
        assert view.status == "error" and "[/oops]" in (view.error or "")
        assert "[/oops]" in str(app.status_bar.query_one("#model").render())
        assert "[bold]not bold[/bold]" in shown_text(view)
        # A server message naming a field lands on that field, brackets and all.
        assert "[/oops]" in str(app.sidebar.query_one("#error-model").render())


async def test_f1_on_the_sessions_screen_shows_that_screens_keys_and_help(sim: Any) -> None:
    from workbench.ui.help_screen import HelpScreen
    from workbench.ui.session_browser import SessionBrowser

    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, SessionBrowser))
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        ids = {ident for _, _, ident in app.screen.rows}
        assert "sessions.open" in ids and "send" not in ids
        assert "Sessions" in app.screen.query_one("#focused-help").source
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, SessionBrowser))


async def test_send_pressed_right_after_typing_sends_everything_typed(sim: Any) -> None:
    # A fast typist, a paste or tmux send-keys delivers the text and ctrl+j in one burst. The
    # send binding has priority (it must win over the editor's own ctrl+j), so it would run
    # before the editor had inserted the keys queued just ahead of it, and send a stale prompt.
    from textual import events

    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        app.prompt_pane.editor.focus()
        await pilot.pause()
        for character in "burst of keys":
            app.post_message(events.Key(character, character))
        app.post_message(events.Key("ctrl+j", None))
        await wait_finished(pilot)
        [post] = completion_posts(sim)
        assert post.body["prompt"] == "burst of keys"
