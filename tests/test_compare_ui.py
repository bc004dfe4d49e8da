"""The compare view, driven by keys with Pilot against the simulator on a real socket: lanes
added, edited, moved and removed; one send for all; cancelling one lane; the diff; a lane
waiting on a 429 while the other streams; the run saved as one group."""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import Input, Static
from ui_helpers import completion_posts, make_app, wait_for

from workbench.sessions.store import SessionStore
from workbench.ui.compare_screen import CompareScreen, LaneDiffScreen

PROMPT = "It was a dark and stormy night"


@pytest.fixture(autouse=True)
def isolated(workbench_home: None) -> None:
    """Config, data and API environment of this test only (tests/conftest.py)."""


async def open_compare(pilot, prompt: str = PROMPT) -> CompareScreen:
    pilot.app.prompt_pane.text = prompt
    await pilot.press("f5")
    screen = await wait_for(pilot, lambda: isinstance(pilot.app.screen, CompareScreen) and pilot.app.screen)
    await pilot.pause()
    return screen


async def set_lanes(pilot, screen: CompareScreen, *texts: str) -> None:
    for lane, text in zip(screen.lanes, texts):
        lane.input.value = text
    await pilot.pause()


async def finished(pilot, screen: CompareScreen) -> None:
    await wait_for(pilot, lambda: screen.run is not None and screen.run.done and not screen.running)
    await pilot.pause()


def problems(screen: CompareScreen) -> list[str | None]:
    return [lane.problem for lane in screen.lanes]


async def test_lanes_are_added_edited_moved_and_removed_by_keys(sim, tmp_path) -> None:
    app = make_app(sim.base_url, sessions_dir=tmp_path / "s")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_compare(pilot)
        assert len(screen.lanes) == 2
        await set_lanes(pilot, screen, "seed=1", "seed=2")
        screen.lanes[1].input.focus()
        await pilot.press("ctrl+n")  # a copy of the focused lane, at the end, focused
        await pilot.pause()
        assert [lane.input.value for lane in screen.lanes] == ["seed=1", "seed=2", "seed=2"]
        assert screen.lanes[2].input.has_focus

        # A typo is shown under the lane, with the nearest field name, and nothing is sent.
        screen.lanes[2].input.value = ""
        await pilot.press(*"temprature=0.5")
        await pilot.pause()
        assert "did you mean 'temperature'?" in (screen.lanes[2].problem or "")
        await pilot.press("ctrl+j")
        await pilot.pause()
        assert screen.run is None and completion_posts(sim) == []

        # A value out of range, by the same rule as the sidebar.
        screen.lanes[2].input.value = "temperature=3"
        await pilot.pause()
        assert screen.lanes[2].problem == "temperature: must be between 0 and 1.5"
        screen.lanes[2].input.value = "temperature=0.5"
        await pilot.pause()
        assert problems(screen) == [None, None, None]

        await pilot.press("alt+left")  # lane 3 becomes lane 2
        await pilot.pause()
        assert [lane.input.value for lane in screen.lanes] == ["seed=1", "temperature=0.5", "seed=2"]
        assert screen.lanes[1].border_title == "2 · temperature=0.5"

        await pilot.press("ctrl+r")  # removes the focused lane
        await pilot.pause()
        assert [lane.input.value for lane in screen.lanes] == ["seed=1", "seed=2"]
        await pilot.press("ctrl+r")  # two is the minimum
        await pilot.pause()
        assert len(screen.lanes) == 2

        for _ in range(2):
            await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press("ctrl+n")  # four is the most here
        await pilot.pause()
        assert len(screen.lanes) == 4


async def test_one_send_streams_every_lane_and_saves_one_group(sim, tmp_path) -> None:
    app = make_app(sim.base_url, sessions_dir=tmp_path / "s")
    async with app.run_test(size=(160, 40)) as pilot:
        app.sidebar.query_one("#max_tokens", Input).value = "30"
        screen = await open_compare(pilot)
        await set_lanes(pilot, screen, "seed=1", "seed=2,model=qwen-3-32b")
        await pilot.press("ctrl+j")
        await finished(pilot, screen)
        posts = completion_posts(sim)
        assert sorted((p.body["model"], p.body["seed"], p.body["max_tokens"]) for p in posts) == [
            ("llama3.1-8b", 1, 30),
            ("qwen-3-32b", 2, 30),
        ]
        for lane in screen.lanes:
            assert lane.state.status == "complete"
            assert lane.shown_text == lane.state.text and lane.shown_text
            assert lane.border_subtitle == "complete"
            metrics = str(lane.query_one(".lane-metrics").render())
            assert "TTFT" in metrics and "client" in metrics and "finish length" in metrics
        summary = str(screen.query_one("#compare-summary").render())
        assert summary.startswith("Ranking · fastest first token: ")
        await wait_for(pilot, lambda: not app.saves.pending)
    session = SessionStore(tmp_path / "s").load(app.session.storage.path)
    assert [e.request.seed for e in session.exchanges] == [1, 2]
    assert len({e.group for e in session.exchanges}) == 1 and session.exchanges[0].group
    assert [e.lane for e in session.exchanges] == [0, 1]
    assert session.exchanges[1].variant == {"seed": 2, "model": "qwen-3-32b"}


async def test_cancel_one_lane_keeps_its_text_and_the_other_finishes(sim_factory, tmp_path) -> None:
    sim = await sim_factory(rate=150)
    app = make_app(sim.base_url, sessions_dir=tmp_path / "s")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_compare(pilot)
        await set_lanes(pilot, screen, "max_tokens=4000,min_tokens=3000", "max_tokens=20")
        screen.lanes[0].input.focus()
        await pilot.press("ctrl+j")
        await wait_for(pilot, lambda: screen.lanes[0].shown_text)
        await pilot.press("f2")
        await finished(pilot, screen)
        first, second = screen.lanes
        assert first.state.status == "cancelled" and first.shown_text
        assert first.border_subtitle == "cancelled"
        assert second.state.status == "complete"


async def test_esc_cancels_every_lane_then_closes(sim_factory, tmp_path) -> None:
    sim = await sim_factory(rate=150)
    app = make_app(sim.base_url, sessions_dir=tmp_path / "s")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_compare(pilot)
        await set_lanes(pilot, screen, "max_tokens=4000,min_tokens=3000", "max_tokens=4000,min_tokens=3000")
        await pilot.press("ctrl+j")
        await wait_for(pilot, lambda: all(lane.shown_text for lane in screen.lanes))
        await pilot.press("escape")
        await finished(pilot, screen)
        assert [lane.state.status for lane in screen.lanes] == ["cancelled", "cancelled"]
        assert isinstance(app.screen, CompareScreen)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, CompareScreen))
        # The lanes are kept for the next time the view opens.
        await pilot.press("f5")
        again = await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen)
        await pilot.pause()
        assert [lane.input.value for lane in again.lanes] == ["max_tokens=4000,min_tokens=3000"] * 2


async def test_diff_of_two_lanes_marks_changed_words(sim, tmp_path) -> None:
    app = make_app(sim.base_url, sessions_dir=tmp_path / "s")
    async with app.run_test(size=(120, 40)) as pilot:
        app.sidebar.query_one("#max_tokens", Input).value = "40"
        screen = await open_compare(pilot)
        await set_lanes(pilot, screen, "seed=1", "seed=2")
        await pilot.press("ctrl+n")  # lane 3: a copy of the focused lane 1 (seed=1)
        await pilot.pause()
        await pilot.press("ctrl+j")
        await finished(pilot, screen)
        screen.lanes[0].input.focus()
        await pilot.press("ctrl+g")
        diff = await wait_for(pilot, lambda: isinstance(app.screen, LaneDiffScreen) and app.screen)
        await pilot.pause()
        title = str(diff.query_one("#diff-title").render())
        assert title.startswith("Lane 1 ↔ lane 2: ") and "words differ" in title
        left = diff.query_one("#diff-left", Static).content
        assert any("reverse" in str(span.style) for span in left.spans)
        await pilot.press("3", "1")  # the two lanes with the same seed
        await pilot.pause()
        assert str(diff.query_one("#diff-title").render()) == "Lane 3 ↔ lane 1: the same"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)


async def test_a_lane_waiting_on_429_says_so_while_the_other_streams(sim_factory, tmp_path) -> None:
    sim = await sim_factory(fault="rate-limit", fault_times=1)
    app = make_app(sim.base_url, sessions_dir=tmp_path / "s", max_retries=2)
    release = asyncio.Event()

    async def held_sleep(seconds: float) -> None:
        await release.wait()

    async with app.run_test(size=(120, 40)) as pilot:
        app.prompt_pane.text = PROMPT
        request, _ = app.sidebar.build_request(PROMPT)
        screen = CompareScreen(request, ["seed=1", "seed=2"], client=app.client, sleep=held_sleep)
        await app.push_screen(screen)
        await pilot.pause()
        await pilot.press("ctrl+j")
        waiting = await wait_for(
            pilot, lambda: next((l for l in screen.lanes if l.state and l.state.status == "waiting"), None)
        )
        other = next(lane for lane in screen.lanes if lane is not waiting)
        await wait_for(pilot, lambda: other.state.status == "complete")
        await pilot.pause()
        assert waiting.border_subtitle == "⏳ rate limited (429): waiting 0.05 s, then retry 1"
        assert waiting.has_class("-waiting")
        assert "waiting to retry" in str(screen.query_one("#compare-summary").render())
        release.set()
        await finished(pilot, screen)
        assert [lane.state.status for lane in screen.lanes] == ["complete", "complete"]
        assert waiting.state.retries == 1 and waiting.shown_text


async def test_batch_prompt_shows_one_block_per_prompt_in_each_lane(sim, tmp_path) -> None:
    app = make_app(sim.base_url, sessions_dir=tmp_path / "s")
    async with app.run_test(size=(120, 40)) as pilot:
        app.sidebar.query_one("#max_tokens", Input).value = "10"
        await pilot.press("ctrl+t")  # the batch form
        screen = await open_compare(pilot, "Once upon a time\n---\nIt is a truth")
        await set_lanes(pilot, screen, "seed=1", "seed=2")
        await pilot.press("ctrl+j")
        await finished(pilot, screen)
        for lane in screen.lanes:
            titles = lane.block_titles
            assert titles == ["── prompt 1 ──", "── prompt 2 ──"]


async def test_narrow_terminal_pages_through_lanes_with_tab(sim, tmp_path) -> None:
    app = make_app(sim.base_url, sessions_dir=tmp_path / "s")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_compare(pilot)
        assert screen.paged
        assert [lane.display for lane in screen.lanes] == [True, False]
        await pilot.press("tab")
        await pilot.pause()
        assert [lane.display for lane in screen.lanes] == [False, True]
        assert screen.lanes[1].input.has_focus


async def test_no_prompt_means_nothing_is_sent(sim, tmp_path) -> None:
    app = make_app(sim.base_url, sessions_dir=tmp_path / "s")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_compare(pilot, "")
        assert "write a prompt first" in str(screen.query_one("#compare-header").render())
        await pilot.press("ctrl+j")
        await pilot.pause()
        assert screen.run is None and completion_posts(sim) == []


async def test_compare_is_in_the_command_palette_and_f1_explains_it(sim, tmp_path) -> None:
    from workbench.ui.help_screen import HelpScreen
    from workbench.ui.key_hints import hint

    app = make_app(sim.base_url, sessions_dir=tmp_path / "s")
    async with app.run_test(size=(120, 40)) as pilot:
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Compare: send the prompt as several variants side by side" in titles
        app.prompt_pane.text = PROMPT
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Compare: send")
        await pilot.pause(0.3)
        await pilot.press("enter")
        screen = await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen)
        await pilot.pause()
        await pilot.press("f1")
        help_screen = await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen) and app.screen)
        assert help_screen._focused_help == hint(screen, CompareScreen.HELP)  # keys filled in
        assert "**ctrl+j** send every lane at once" in help_screen._focused_help
        assert "**alt+left** / **alt+right** move it" in help_screen._focused_help
        shown = {row[2] for row in help_screen.rows}
        assert {"compare.send", "compare.cancel_lane", "compare.diff", "compare.add_lane"} <= shown


async def test_n_choices_are_titled_as_choices(sim, tmp_path) -> None:
    app = make_app(sim.base_url, sessions_dir=tmp_path / "s")
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await open_compare(pilot)
        await set_lanes(pilot, screen, "n=2,max_tokens=5", "max_tokens=5")
        await pilot.press("ctrl+j")
        await finished(pilot, screen)
        titles = screen.lanes[0].block_titles
        assert titles == ["── choice 1 ──", "── choice 2 ──"]
        assert [t for t in screen.lanes[1].query(".choice-title") if t.display] == []


async def test_a_server_refusal_naming_a_field_is_shown_on_the_lane(sim, tmp_path) -> None:
    app = make_app(sim.base_url, sessions_dir=tmp_path / "s")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_compare(pilot)
        # Valid for the client, too long for the simulated model's context: the server says so.
        await set_lanes(pilot, screen, "max_tokens=10", "max_tokens=100000")
        await pilot.press("ctrl+j")
        await finished(pilot, screen)
        bad = screen.lanes[1]
        assert bad.state.status == "error"
        shown = str(bad.query_one(".lane-problem", Static).render())
        assert shown.startswith("server: max_tokens: ") and bad.problem is None
        bad.input.value = "max_tokens=20"  # editing clears it
        await pilot.pause()
        assert not bad.query_one(".lane-problem").has_class("-shown")
