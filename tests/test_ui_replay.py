"""Pilot tests of the in-app replay against the simulator: verdicts, diff, save, cancel."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.cells import cell_len
from textual.widgets import Input, Static

from test_sessions_replay import record
from ui_sessions_fixtures import BrowserHost
from workbench.api.client import CompletionClient
from workbench.api.endpoint import Endpoint
from workbench.api.request import CompletionRequest
from workbench.sessions.model import Exchange, Session
from workbench.sessions.store import SessionStore
from workbench.sim import SimServer
from workbench.ui.replay_screen import ReplayScreen, ReplayStepView


async def recorded_session(client: CompletionClient, store: SessionStore, max_tokens: int = 24) -> Session:
    session = Session.new(title="to replay")
    for seed, prompt in enumerate(["It was a dark", "Call me", "In the beginning"]):
        request = CompletionRequest(
            model="llama3.1-8b", prompt=prompt, seed=seed, max_tokens=max_tokens, stream=True
        )
        await record(client, session, request)
    store.save(session)
    return session


def progress(app: BrowserHost) -> str:
    return str(app.screen.query_one("#replay-progress", Static).render())


async def test_replay_on_the_sim_is_the_same_then_differs_with_another_seed(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    async with SimServer(rate=None) as sim:
        endpoint = Endpoint.from_env(base_url=sim.base_url, api_key=None, environ={})
        async with CompletionClient(endpoint) as client:
            session = await recorded_session(client, store)
            app = BrowserHost(lambda: ReplayScreen(session, store=store, client=client))
            async with app.run_test(size=(120, 40)) as pilot:
                screen = app.screen
                assert isinstance(screen, ReplayScreen)
                await pilot.press("ctrl+r")
                await asyncio.wait_for(screen.finished.wait(), timeout=30)
                await pilot.pause()
                views = list(screen.query(ReplayStepView))
                assert [v.step.verdict for v in views] == ["same"] * 3
                assert progress(app).startswith("Done: 3 of 3 the same, 0 different")

                screen.query_one("#replay-set", Input).value = "seed=4242 temperature=0.9"
                await pilot.press("ctrl+r")
                await asyncio.wait_for(screen.finished.wait(), timeout=30)
                await pilot.pause()
                views = list(screen.query(ReplayStepView))
                assert len(views) == 3 and views[0].step.verdict == "different"
                assert sim.requests[-1].body["seed"] == 4242
                assert "✗ different" in str(views[0].query_one(".verdict").render())

                await pilot.press("ctrl+s")
                await pilot.pause()
                assert "Saved as" in progress(app)
                await pilot.press("escape")
                await pilot.pause()
    assert isinstance(app.result, Session) and app.result.title == "to replay (replay)"
    titles = sorted(s.title for s in store.list())
    assert titles == ["to replay", "to replay (replay)"]


async def test_escape_cancels_a_running_replay_and_closes_the_connection(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    async with SimServer(rate=None) as fast:
        endpoint = Endpoint.from_env(base_url=fast.base_url, api_key=None, environ={})
        async with CompletionClient(endpoint) as client:
            session = await recorded_session(client, store, max_tokens=400)
    async with SimServer(rate=20.0) as slow:  # 400 tokens at 20 tok/s: far from done when cancelled
        endpoint = Endpoint.from_env(base_url=slow.base_url, api_key=None, environ={})
        async with CompletionClient(endpoint) as client:
            app = BrowserHost(lambda: ReplayScreen(session, store=store, client=client))
            async with app.run_test() as pilot:
                screen = app.screen
                await pilot.press("ctrl+r")
                async with asyncio.timeout(30):
                    while not slow.requests:
                        await pilot.pause()
                await pilot.press("escape")
                await asyncio.wait_for(screen.finished.wait(), timeout=30)
                await slow.wait_for_disconnect(timeout=30)
                await pilot.pause()
                assert progress(app).startswith("Cancelled after 0 of 3")
                assert app.result == "not dismissed"  # first esc cancels, the next closes
                await pilot.press("escape")
                await pilot.pause()
    assert app.result is None


async def test_inputs_are_labelled_and_their_placeholders_fit_at_80_columns(tmp_path: Path) -> None:
    session = Session.new(title="long model")
    request = CompletionRequest(model="llama-4-scout-17b-16e-instruct", prompt="x", max_tokens=4)
    session.exchanges.append(Exchange.from_outcome(request, None, status="error", error="x"))
    app = BrowserHost(lambda: ReplayScreen(session, store=SessionStore(tmp_path)))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        labels = [str(label.render()) for label in app.screen.query("#replay-overrides Label")]
        assert labels == ["Model", "Set fields", "Base URL"]
        for field in app.screen.query("#replay-overrides Input").results(Input):
            assert field.content_region.width >= cell_len(field.placeholder), field.placeholder
        assert "llama-4-scout-17b-16e-instruct" in app.screen.query_one("#replay-model", Input).placeholder


async def test_keys_jump_between_the_exchanges_that_differ(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    async with SimServer(rate=None) as sim:
        endpoint = Endpoint.from_env(base_url=sim.base_url, api_key=None, environ={})
        async with CompletionClient(endpoint) as client:
            session = await recorded_session(client, store)
            # Saved outputs that a replay cannot reproduce: exchanges 1 and 3 differ, 2 not.
            for index in (0, 2):
                session.exchanges[index].choices[0].text = "tampered"
            app = BrowserHost(lambda: ReplayScreen(session, store=store, client=client))
            async with app.run_test(size=(120, 40)) as pilot:
                screen = app.screen
                await pilot.press("ctrl+r")
                await asyncio.wait_for(screen.finished.wait(), timeout=30)
                await pilot.pause()
                assert "ctrl+down jumps to the first" in progress(app)

                def current() -> list[int]:
                    return [v.step.index for v in screen.query(ReplayStepView) if v.has_class("-current")]

                await pilot.press("ctrl+down")
                assert current() == [0]
                await pilot.press("ctrl+down")
                assert current() == [2]
                await pilot.press("ctrl+down")  # none later: stays
                assert current() == [2]
                await pilot.press("ctrl+up")
                assert current() == [0]
