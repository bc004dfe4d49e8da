"""Cancelling says how much arrived: tokens (counted where the response says, else ≈)."""

from __future__ import annotations

import re
from typing import Any

from tests.ui_helpers import SIZE, make_app, send, shown_text, wait_finished, wait_for


async def test_a_cancelled_exchange_says_how_many_tokens_arrived(sim_factory: Any) -> None:
    sim = await sim_factory(fault="stall", fault_times=1)
    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "Tell me a story")
        view = await wait_for(pilot, lambda: app.transcript.last)
        await wait_for(pilot, lambda: view.choices and view.choices[0].output.length > 0)
        await pilot.press("escape")
        view = await wait_finished(pilot)
        assert view.status == "cancelled"
        text = shown_text(view)
        assert re.search(r"cancelled after ≈?[\d,]+ tokens \([\d,]+ characters\)", text), text
