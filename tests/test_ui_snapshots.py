"""SVG snapshots of the main screen at 80x24 and 120x40.

Speeds and times vary from run to run, so the screens show a fixed recorded exchange (the same
path that shows a session loaded from disk) and the app does not touch the network
(``fetch_models=False``; the endpoint is never contacted).
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from workbench.api.endpoint import Endpoint
from workbench.api.request import CompletionRequest
from workbench.api.types import Choice, ClientMetrics, CompletionResult, TimeInfo, Usage
from workbench.ui.app import WorkbenchApp

PROMPT = "Write a Python function that adds two numbers."
COMPLETION = (
    "Here is a small function:\n\n```python\ndef add(a: int, b: int) -> int:\n"
    "    return a + b\n```\n\nCall it as add(2, 3)."
)


@pytest.fixture(autouse=True)
def isolated(workbench_home: None) -> None:
    """Config, data and API environment of this test only (tests/conftest.py)."""


def recorded_result() -> CompletionResult:
    return CompletionResult(
        id="chatcmpl-fixed",
        model="llama3.1-8b",
        choices=[Choice(index=0, text=COMPLETION, finish_reason="stop")],
        usage=Usage(prompt_tokens=12, completion_tokens=34, total_tokens=46),
        time_info=TimeInfo(queue_time=0.000412, completion_time=0.0152),
        metrics=ClientMetrics(
            time_to_first_token_s=0.083,
            wall_time_s=0.131,
            completion_tokens=34,
            client_tokens_per_s=1712.0,
            server_tokens_per_s=2236.8,
        ),
    )


def snapshot_app() -> WorkbenchApp:
    endpoint = Endpoint.from_env(base_url="http://127.0.0.1:9", environ={})
    return WorkbenchApp(endpoint, offline=True, model="llama3.1-8b", fetch_models=False)


def recorded(status: str, error: str | None = None) -> Any:
    async def run_before(pilot: Pilot) -> None:
        app: WorkbenchApp = pilot.app  # type: ignore[assignment]
        app.prompt_pane.editor.cursor_blink = False
        request = CompletionRequest(model="llama3.1-8b", prompt=PROMPT, stream=True, max_tokens=256)
        result = recorded_result()
        if status == "error":
            result.choices[0].text = COMPLETION[:40]
            result.choices[0].finish_reason = None
            result.usage = None
            result.time_info = None
        await app.transcript.show_recorded(request, result, status, error, app.final_renderer())
        await pilot.pause()
        await app.transcript.wait_styled()
        if status == "complete":
            for speed in (1500.0, 1650.0):
                app.status_bar.add_speed(speed)
            # 34 tokens in 20 ms: too few to time on the client, so the server's figure.
            app.status_bar.show_speed_of(result.metrics)
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_main_screen_with_a_completed_exchange(snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(snapshot_app(), terminal_size=size, run_before=recorded("complete"))


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_main_screen_with_a_failed_exchange(snap_compare: Any, size: tuple[int, int]) -> None:
    error = "truncated: the stream from 127.0.0.1:9 ended without [DONE] (connection closed)"
    assert snap_compare(snapshot_app(), terminal_size=size, run_before=recorded("error", error))


def two_exchanges_with_a_cursor() -> Any:
    """A header with changed parameters and a time, a completion that continues its prompt's
    line, and the exchange cursor on the first exchange."""

    async def run_before(pilot: Pilot) -> None:
        from datetime import datetime, timezone

        app: WorkbenchApp = pilot.app  # type: ignore[assignment]
        app.prompt_pane.editor.cursor_blink = False
        first = CompletionRequest(model="llama3.1-8b", prompt=PROMPT, max_tokens=256)
        await app.transcript.show_recorded(
            first, recorded_result(), "complete", None, app.final_renderer(),
            started_at=datetime(2026, 12, 1, 9, 30, 5, tzinfo=timezone.utc),
        )
        second = CompletionRequest(
            model="llama3.1-8b", prompt="It was a dark and stormy night", max_tokens=40,
            temperature=0.2, seed=7, stop=["\n\n"],
        )
        joined = recorded_result()
        joined.choices[0].text = "; the rain fell in torrents, except at occasional intervals."
        joined.choices[0].finish_reason = "length"
        await app.transcript.show_recorded(
            second, joined, "complete", None, app.final_renderer(),
            started_at=datetime(2026, 12, 1, 9, 31, 40, tzinfo=timezone.utc),
        )
        app.transcript.focus()
        await pilot.press("left_square_bracket", "left_square_bracket")
        await pilot.pause()
        await app.transcript.wait_styled()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_headers_join_and_exchange_cursor(
    snap_compare: Any, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        assert snap_compare(snapshot_app(), terminal_size=size, run_before=two_exchanges_with_a_cursor())
    finally:
        monkeypatch.undo()
        time.tzset()
