"""SVG snapshots of the compare view at 80x24 (one lane at a time, a strip to page), 120x40
(two side by side) and 160x40 (four side by side).

Speeds vary from run to run, so the lanes show a fixed recorded run (``CompareScreen.show_run``)
and the app never touches the network.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from workbench.api.endpoint import Endpoint
from workbench.api.errors import RateLimitError
from workbench.api.types import Choice, ClientMetrics, CompletionResult, TimeInfo, Usage
from workbench.compare.runner import CompareRun
from workbench.compare.variants import lane_requests, parse_variant
from workbench.ui.app import WorkbenchApp
from workbench.ui.compare_screen import CompareScreen

PROMPT = "Write one sentence about the sea."
TEXTS = [
    "The sea keeps its own time, folding the light of noon into long green ridges.",
    "The sea is a slow machine for turning wind into sound.",
    "Grey water, grey sky: the sea at dawn writes nothing and erases everything.",
    "",
]


@pytest.fixture(autouse=True)
def isolated(workbench_home: None) -> None:
    """Config, data and API environment of this test only (tests/conftest.py)."""


def snapshot_app() -> WorkbenchApp:
    endpoint = Endpoint.from_env(base_url="http://127.0.0.1:9", environ={})
    return WorkbenchApp(endpoint, offline=True, model="llama3.1-8b", fetch_models=False)


def recorded(position: int, text: str) -> CompletionResult:
    tokens = len(text.split()) + 3
    return CompletionResult(
        id=f"cmpl-{position}",
        choices=[Choice(index=0, text=text, finish_reason="stop")],
        usage=Usage(prompt_tokens=9, completion_tokens=tokens, total_tokens=9 + tokens),
        time_info=TimeInfo(queue_time=0.0004, completion_time=0.01),
        metrics=ClientMetrics(
            time_to_first_token_s=0.040 + 0.015 * position,
            wall_time_s=0.090 + 0.02 * position,
            completion_tokens=tokens,
            client_tokens_per_s=1800.0 - 200 * position,
            server_tokens_per_s=2100.0 - 150 * position,
        ),
    )


def showing(lane_texts: list[str]) -> Any:
    async def run_before(pilot: Pilot) -> None:
        app: WorkbenchApp = pilot.app  # type: ignore[assignment]
        app.prompt_pane.text = PROMPT
        await pilot.press("f5")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        while len(screen.lanes) < len(lane_texts):
            await pilot.press("ctrl+n")
            await pilot.pause()
        for lane, text in zip(screen.lanes, lane_texts):
            lane.input.value = text
            lane.input.cursor_blink = False
        await pilot.pause()
        variants = [parse_variant(text) for text in lane_texts]
        run = CompareRun(lane_requests(screen.base, variants), variants, group="snapshot")
        for position, lane in enumerate(run.lanes):
            if position == 3:
                error = RateLimitError("Requests per minute limit exceeded.", status_code=429)
                lane._end("error", None, error)
            else:
                lane._end("complete", recorded(position, TEXTS[position]))
        screen.show_run(run)
        screen.lanes[0].input.focus()
        await pilot.pause()

    return run_before


LANES = ["", "model=qwen-3-32b", "temperature=1.2,seed=7", "model=llama-3.3-70b"]


def test_compare_80x24_pages_one_lane_at_a_time(snap_compare: Any) -> None:
    assert snap_compare(snapshot_app(), terminal_size=(80, 24), run_before=showing(LANES[:3]))


def test_compare_120x40_two_lanes_side_by_side(snap_compare: Any) -> None:
    assert snap_compare(snapshot_app(), terminal_size=(120, 40), run_before=showing(LANES[:2]))


def test_compare_160x40_four_lanes_side_by_side(snap_compare: Any) -> None:
    assert snap_compare(snapshot_app(), terminal_size=(160, 40), run_before=showing(LANES))
