"""The status bar: fits its width (least useful items go first), honest speeds for short
outputs, a sparkline scaled to the session's range, and the prompt's token count / context
gauge before sending."""

from __future__ import annotations

from typing import Any

import pytest
from rich.cells import cell_len

from ui_helpers import make_app, shown_text, wait_for, wait_finished
from workbench.api.types import ClientMetrics, CompletionResult
from workbench.config import Config
from workbench.ui.metrics_format import exchange_speed, metrics_line
from workbench.ui.prompt_gauge import PromptDraft, count_prompt, gauge
from workbench.ui.status_layout import BARS, StatusItem, fit_status, sparkline

QUOTA = "left 14,375 req/day · 1,234,567 tok/min"
LONG_MODEL = "llama-4-scout-17b-16e-instruct"
SHORT_OUTPUT = ClientMetrics(
    time_to_first_token_s=0.08,
    wall_time_s=0.081,
    completion_tokens=3,
    client_tokens_per_s=264_126.0,  # two chunks 11 µs apart
    server_tokens_per_s=2_236.8,
)


def full_items() -> list[StatusItem]:
    return [
        StatusItem("badge", "OFFLINE SIMULATOR", "OFFLINE"),
        StatusItem("endpoint", "cerebras-production · api.cerebras.ai"),
        StatusItem("model", LONG_MODEL),
        StatusItem("speed", "last 2,237 tok/s (server)", "2,237 srv"),
        StatusItem("gauge", "≈1,234 tok · ctx 18%", "≈1,234 tok"),
        StatusItem("speeds", "▁▄█▆"),
        StatusItem("quota", QUOTA, "14k req/d · 1.2M tok/m"),
    ]


def used(shown: dict[str, str]) -> int:
    return sum(cell_len(text) + 2 for text in shown.values() if text)


@pytest.mark.parametrize("width", range(30, 200, 7))
def test_what_is_shown_always_fits_and_the_badge_stays(width: int) -> None:
    shown = fit_status(full_items(), width)
    assert used(shown) <= width
    assert shown["badge"]


def test_items_give_way_least_useful_first() -> None:
    everything = used({item.name: item.text for item in full_items()})
    assert fit_status(full_items(), everything) == {i.name: i.text for i in full_items()}
    at_120 = fit_status(full_items(), 120)
    assert not at_120["endpoint"] and at_120["model"] == LONG_MODEL
    assert at_120["speed"] == "last 2,237 tok/s (server)"
    at_80 = fit_status(full_items(), 80)
    assert at_80["model"] == LONG_MODEL and at_80["gauge"] and not at_80["quota"]
    narrow = fit_status(full_items(), 40)
    assert narrow["badge"] == "OFFLINE" and narrow["model"].endswith("…")


def test_sparkline_is_scaled_to_the_sessions_range() -> None:
    line = sparkline([1500.0, 1650.0, 1712.0, 900.0], 16)
    assert len(line) == 4 and line[-1] == BARS[0] and line[2] == BARS[-1]
    assert len(set(line)) == 4
    assert sparkline([1712.0], 16) == BARS[3]  # one value: no range, not a full block
    assert sparkline([5.0] * 30, 16) == BARS[3] * 16


def test_short_outputs_show_the_servers_speed_and_say_so() -> None:
    assert exchange_speed(SHORT_OUTPUT) == (2_236.8, "server")
    line = metrics_line(CompletionResult(metrics=SHORT_OUTPUT))
    assert "client – (too short)" in line and "264,126" not in line
    assert "server 2,237 tok/s" in line
    long_enough = ClientMetrics(completion_tokens=400, client_tokens_per_s=2_000.0)
    assert exchange_speed(long_enough) == (2_000.0, "client")
    assert exchange_speed(ClientMetrics(completion_tokens=2, client_tokens_per_s=9e5)) == (None, None)


def label_texts(app: Any) -> dict[str, tuple[str, int]]:
    return {
        label.id: (str(label.render()), label.region.width)
        for label in app.status_bar.query("Label")
        if label.display and str(label.render())
    }


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
async def test_status_bar_fits_with_nothing_cut(sim: Any, size: tuple[int, int]) -> None:
    app = make_app(sim.base_url, profile="cerebras-production", model=LONG_MODEL)
    async with app.run_test(size=size) as pilot:
        await pilot.press("ctrl+b")  # sidebar hidden: the status bar is full width either way
        status = app.status_bar
        status.quota = QUOTA
        for speed in (1500.0, 1650.0, 1712.0):
            status.add_speed(speed)
        status.show_speed_of(SHORT_OUTPUT)
        await pilot.pause()
        shown = label_texts(app)
        assert sum(width for _, width in shown.values()) <= size[0]
        for name, (text, width) in shown.items():
            assert width == cell_len(text) + 2, f"{name} is cut: {text!r} in {width} cells"
        assert shown["model"][0] == LONG_MODEL
        assert shown["speed"][0] == "last 2,237 tok/s (server)"
        if size[0] == 120:
            assert shown["quota"][0] == QUOTA


async def test_a_short_exchange_shows_the_server_figure(sim: Any) -> None:
    app = make_app(sim.base_url)
    async with app.run_test(size=(120, 40)) as pilot:
        app.prompt_pane.text = "Hi"
        app.sidebar.fill({**app.sidebar.defaults, "max_tokens": 2})
        await pilot.press("ctrl+j")
        view = await wait_finished(pilot)
        assert "264," not in shown_text(view)
        speed = str(app.status_bar.query_one("#speed").render())
        # Two tokens over loopback are far too few to time on the client.
        assert speed.startswith("last ") and ("(server)" in speed or "too short" in speed)
        assert "client – (too short)" in shown_text(view)


async def test_sparkline_in_the_bar_is_not_all_full_blocks(sim: Any) -> None:
    app = make_app(sim.base_url)
    async with app.run_test(size=(120, 40)) as pilot:
        for speed in (1500.0, 1650.0, 1712.0):
            app.status_bar.add_speed(speed)
        await pilot.pause()
        line = str(app.status_bar.query_one("#speeds").render())
        assert line == sparkline([1500.0, 1650.0, 1712.0], 16) and set(line) != {BARS[-1]}


# -- the prompt's token count and context gauge ------------------------------------------------


async def test_count_is_exact_with_a_tokenizer_and_marked_as_an_estimate_without() -> None:
    draft = PromptDraft("one two three four five six seven eight", "text", "llama3.1-8b", 100)

    async def tokenizer(text: str) -> list[int]:
        return list(range(len(text.split())))

    exact = await count_prompt(draft, tokenizer)
    assert exact is not None and (exact.tokens, exact.exact) == (8, True)
    assert gauge(exact, draft).text.startswith("8 tok · ctx ")

    async def no_tokenizer(text: str) -> None:
        return None

    async def broken(text: str) -> list[int]:
        raise ConnectionError("refused")

    for fallback in (None, no_tokenizer, broken):
        estimate = await count_prompt(draft, fallback)
        assert estimate is not None and not estimate.exact
        assert gauge(estimate, draft).text.startswith("≈10 tok")

    ids = await count_prompt(PromptDraft("[[1, 2, 3], [4]]", "tokens", "x", None), None)
    assert ids is not None and (ids.tokens, ids.exact, ids.prompts) == (3, True, 2)
    assert await count_prompt(PromptDraft("[1, 2", "tokens", "x", None), None) is None


def test_warns_when_prompt_and_max_tokens_exceed_the_context() -> None:
    from workbench.ui.prompt_gauge import PromptCount

    over = gauge(PromptCount(1_000, exact=True), PromptDraft("", "text", "llama3.1-8b", 8_000))
    assert over.over and over.text == "⚠ 1,000 tok + 8,000 > 8,192 context"
    fits = gauge(PromptCount(1_000, exact=True), PromptDraft("", "text", "llama3.1-8b", 1_000))
    assert not fits.over and fits.text == "1,000 tok · ctx 24%"
    unknown = gauge(PromptCount(10**6, exact=False), PromptDraft("", "text", "some-new-model", 9))
    assert not unknown.over and unknown.text == "≈1,000,000 tok"


async def test_the_gauge_follows_the_prompt_and_warns_in_the_status_bar(sim: Any) -> None:
    config = Config(defaults={"max_tokens": 8_000})
    app = make_app(sim.base_url, config=config, model="llama3.1-8b")
    async with app.run_test(size=(120, 40)) as pilot:
        status = app.status_bar
        await pilot.press(*"Hello there")
        await wait_for(pilot, lambda: status.gauge is not None and "tok" in status.gauge.text)
        assert status.gauge is not None and not status.gauge.over
        app.prompt_pane.text = "word " * 1_000  # ≈1,250 tokens + 8,000 > 8,192
        await wait_for(pilot, lambda: status.gauge is not None and status.gauge.over)
        label = status.query_one("#gauge")
        assert label.has_class("-over") and str(label.render()).startswith("⚠")
        app.prompt_pane.text = ""
        await wait_for(pilot, lambda: status.gauge is None)
        assert not status.query_one("#gauge").display


async def test_an_endpoint_without_a_tokenizer_is_asked_once(sim: Any) -> None:
    asked: list[str] = []

    async def no_tokenizer(text: str) -> None:
        asked.append(text)
        return None

    app = make_app(sim.base_url)
    async with app.run_test(size=(120, 40)) as pilot:
        status = app.status_bar
        status.tokenizer = no_tokenizer
        app.prompt_pane.text = "first prompt"
        await wait_for(pilot, lambda: status.gauge is not None and "≈" in status.gauge.text)
        app.prompt_pane.text = "second, longer prompt"
        await wait_for(pilot, lambda: status.gauge is not None and status.gauge.text.startswith("≈6 "))
    assert asked == ["first prompt"]


async def test_the_speed_history_is_the_sessions(sim: Any) -> None:
    app = make_app(sim.base_url)
    async with app.run_test(size=(120, 40)) as pilot:
        status = app.status_bar
        for speed in (100.0, 200.0, 300.0):
            status.add_speed(speed)
        status.show_session(
            [ClientMetrics(completion_tokens=400, client_tokens_per_s=2_000.0), None, SHORT_OUTPUT]
        )
        await pilot.pause()
        assert status.query_one("#speeds").data == [2_000.0, 2_236.8]
        assert str(status.query_one("#speed").render()) == "last 2,237 tok/s (server)"
        await pilot.press("ctrl+l")  # clear: a new, empty session
        await pilot.pause()
        assert status.query_one("#speeds").data == []
        assert not status.query_one("#speed").display
