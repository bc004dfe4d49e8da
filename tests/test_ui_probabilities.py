"""The probability view (f4): every generated token in the transcript coloured by its
probability, while streaming and on recorded exchanges, with a legend; off again on f4."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ui_helpers import MODEL, make_app, send, spy_on_notify, wait_finished
from workbench.api.request import CompletionRequest
from workbench.ui.probability_bands import TokenBands
from workbench.ui.probability_legend import ProbabilityLegend


def styled_cells(app: Any, attribute: str) -> int:
    """Cells of the transcript whose ``attribute`` (bgcolor, underline …) differs from the
    transcript's own style: the cells something was highlighted on."""
    transcript = app.transcript
    base = getattr(transcript.rich_style, attribute)
    count = 0
    for y in range(transcript.scrollable_content_region.height):
        for segment in transcript.render_line(y):
            style = segment.style
            if style is not None and getattr(style, attribute) not in (None, False, base):
                count += len(segment.text)
    return count


async def _send_with_logprobs(app: Any, pilot: Any, prompt: str) -> None:
    app.sidebar.show_request(
        CompletionRequest(model=MODEL, prompt="", logprobs=3, stream=True, max_tokens=60, seed=11)
    )
    await send(pilot, prompt)


async def test_f4_colours_tokens_and_shows_the_legend(sim: Any) -> None:
    app = make_app(sim.base_url)
    async with app.run_test(size=(120, 40)) as pilot:
        await _send_with_logprobs(app, pilot, "It was a dark and stormy night")
        await wait_finished(pilot)
        plain = styled_cells(app, "bgcolor")
        await pilot.press("f4")
        await pilot.pause()
        legend = app.query_one(ProbabilityLegend)
        shown = str(legend.render())
        assert legend.display and "< 5 %" in shown and "≥ 90 %" in shown
        coloured = styled_cells(app, "bgcolor")
        assert coloured > plain, "unlikely tokens get a background"
        await pilot.press("f4")
        await pilot.pause()
        assert styled_cells(app, "bgcolor") == plain
        assert not legend.display


async def test_tokens_streamed_with_the_view_on_are_coloured(sim: Any) -> None:
    """Bands are worked out as the deltas arrive (TokenBands grows with the logprobs); here
    the view is on before anything is sent, so every row drawn while streaming is coloured."""
    app = make_app(sim.base_url)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f4")
        await _send_with_logprobs(app, pilot, "Once upon a time")
        await wait_finished(pilot)
        assert styled_cells(app, "bgcolor") > 0


async def test_without_logprobs_it_says_how_to_get_them(sim: Any) -> None:
    app = make_app(sim.base_url)
    notices = spy_on_notify(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        assert any("logprobs field" in n.message for n in notices)


async def test_no_color_marks_unlikely_tokens_without_colour(sim: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(sim.base_url)
    async with app.run_test(size=(120, 40)) as pilot:
        await _send_with_logprobs(app, pilot, "It was a dark and stormy night")
        await wait_finished(pilot)
        before = styled_cells(app, "underline")
        await pilot.press("f4")
        await pilot.pause()
        assert styled_cells(app, "underline") > before


def test_token_bands_follow_the_text_as_logprobs_grow() -> None:
    logprobs: dict[str, Any] = {"tokens": [], "token_logprobs": []}
    bands = TokenBands(lambda: logprobs, lead=3)  # a 3-character prompt joined before
    assert bands.spans(0, 100) == []
    logprobs["tokens"] += [" a", " bb"]
    logprobs["token_logprobs"] += [-0.001, -2.5]  # near certain, then 8 %
    assert bands.spans(0, 100) == [(5, 8, 3)]
    logprobs["tokens"] += ["\x1b"]  # a control character is drawn as \x1b: 4 cells
    logprobs["token_logprobs"] += [-5.0]
    assert bands.spans(6, 100) == [(6, 8, 3), (8, 12, 4)]
    assert TokenBands(lambda: None).spans(0, 10) == []


def test_neighbouring_tokens_of_one_band_are_one_span() -> None:
    logprobs = {"tokens": ["a", "b", "c"], "token_logprobs": [-2.5, -2.4, -0.001]}
    assert TokenBands(lambda: logprobs).spans(0, 3) == [(0, 2, 3)]


async def test_no_notice_when_the_next_request_asks_for_logprobs(sim: Any) -> None:
    app = make_app(sim.base_url)
    notices = spy_on_notify(app)
    async with app.run_test(size=(80, 24)) as pilot:
        app.sidebar.show_request(CompletionRequest(model=MODEL, prompt="", logprobs=1, stream=True))
        await pilot.press("f4")
        await pilot.pause()
        assert not any("logprobs field" in n.message for n in notices)
