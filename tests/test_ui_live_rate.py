"""The status bar's live tok/s: chunks carry many tokens, so it must not count chunks."""

from __future__ import annotations

from typing import Any

from workbench.api.client import CompletionClient
from workbench.api.endpoint import Endpoint
from workbench.api.request import CompletionRequest
from workbench.ui.exchange_run import ExchangeRun, chars_per_token


class _RecordingView:
    """Stands in for the ExchangeView: ExchangeRun only feeds it."""

    def __init__(self) -> None:
        self.chunks = 0

    def feed(self, event: Any) -> None:
        self.chunks += 1

    def set_finish(self, index: int, reason: str | None) -> None:
        pass


async def _run(sim: Any, **options: Any) -> tuple[ExchangeRun, Any, _RecordingView]:
    request = CompletionRequest(
        model="llama3.1-8b", prompt="It is a truth", max_tokens=400, min_tokens=400, seed=7,
        stream=True, **options,
    )
    view = _RecordingView()
    run = ExchangeRun(request, view)  # type: ignore[arg-type]
    endpoint = Endpoint.from_env(base_url=sim.base_url, environ={})
    async with CompletionClient(endpoint) as client:
        result = await run.execute(client)
    return run, result, view


async def test_text_streams_are_counted_in_tokens_not_chunks(sim: Any) -> None:
    run, result, view = await _run(sim)
    actual = result.usage.completion_tokens
    # The simulator packs several tokens into each chunk, as Cerebras does.
    assert view.chunks < actual / 2
    assert 0.5 * actual <= run.tokens_so_far <= 2 * actual
    # Calibrated with a finished exchange's ratio, the estimate is exact for that text.
    run.chars_per_token = chars_per_token(result)
    assert round(run.tokens_so_far) == actual


async def test_raw_token_streams_are_counted_exactly(sim: Any) -> None:
    run, result, _ = await _run(sim, return_raw_tokens=True)
    assert run.tokens_so_far == result.usage.completion_tokens
