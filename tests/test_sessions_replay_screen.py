"""The replay screen re-sends every lane of a saved compare group and names each lane."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ui_sessions_fixtures import BrowserHost
from workbench.api.client import CompletionClient
from workbench.api.endpoint import Endpoint
from workbench.api.fields import apply_overrides
from workbench.api.request import CompletionRequest
from workbench.sessions.model import Exchange, Session
from workbench.sessions.store import SessionStore
from workbench.sim import SimServer
from workbench.ui.replay_screen import ReplayScreen, ReplayStepView


async def test_replay_screen_names_the_lanes_of_a_compare_group(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    base = CompletionRequest(model="llama3.1-8b", prompt="Race", seed=3, max_tokens=12, stream=True)
    async with SimServer(rate=None) as sim:
        endpoint = Endpoint.from_env(base_url=sim.base_url, api_key=None, environ={})
        async with CompletionClient(endpoint) as client:
            session = Session.new(title="compare")
            for lane, variant in enumerate([{"model": "llama3.1-8b"}, {"model": "qwen-3-32b"}]):
                request = apply_overrides(base, variant)
                exchange = Exchange.from_outcome(request, await client.collect(request))
                exchange.group, exchange.lane, exchange.variant = "g", lane, variant
                session.exchanges.append(exchange)
            store.save(session)
            app = BrowserHost(lambda: ReplayScreen(session, store=store, client=client), client=client)
            async with app.run_test(size=(120, 40)) as pilot:
                screen = app.screen
                await pilot.press("ctrl+r")
                await asyncio.wait_for(screen.finished.wait(), timeout=30)
                await pilot.pause()
                verdicts = [str(v.query_one(".verdict").render()) for v in screen.query(ReplayStepView)]
    assert verdicts == [
        "Exchange 1 of 2 (lane 1: model=llama3.1-8b): ✓ same",
        "Exchange 2 of 2 (lane 2: model=qwen-3-32b): ✓ same",
    ]
    assert [r.body["model"] for r in sim.requests[-2:]] == ["llama3.1-8b", "qwen-3-32b"]
