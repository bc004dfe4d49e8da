"""The token inspector (ctrl+g): tokens coloured by probability, a cursor, alternatives, and
"continue from here with this alternative" sending the right prompt to the simulator."""

from __future__ import annotations

from typing import Any

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import Static

from tests.ui_helpers import completion_posts, make_app, send, wait_finished, wait_for
from workbench.api.request import CompletionRequest
from workbench.api.types import Choice
from workbench.ui.themes import register_themes
from workbench.ui.probability_bands import band_styles
from workbench.ui.token_inspector import TokenInspector, continued_prompt, inspected_tokens

LOGPROBS = {
    "tokens": [" It", " was", " late"],
    "token_logprobs": [-0.01, -1.2, -4.0],
    "top_logprobs": [{" It": -0.01}, {" was": -1.2, " is": -0.5}, {" late": -4.0, " dark": -0.3}],
}


def _tokens_text(screen: TokenInspector) -> Text:
    return screen.rendered


async def test_cursor_alternatives_and_continue_send_the_right_prompt(sim: Any) -> None:
    app = make_app(sim.base_url)
    async with app.run_test(size=(120, 40)) as pilot:
        app.sidebar.fill({**app.sidebar.defaults, "model": "llama3.1-8b", "logprobs": 3, "max_tokens": 16, "seed": 3})
        await send(pilot, "It was a dark and stormy night")
        await wait_finished(pilot)
        exchange = app.session.exchanges[-1]
        tokens = inspected_tokens(exchange.choices[0])[0]
        assert len(tokens) == 16

        await pilot.press("ctrl+g")
        screen = await wait_for(pilot, lambda: isinstance(app.screen, TokenInspector) and app.screen)
        assert screen.cursor == 0
        # Every token is drawn, in order, as the model sent it.
        assert _tokens_text(screen).plain == exchange.choices[0].text
        await pilot.press("right", "right", "right")
        assert screen.cursor == 3
        detail = str(screen.query_one("#token-detail").render())
        assert repr(tokens[3].token) in detail
        options = screen.query_one("#alternatives")
        assert options.option_count == len(tokens[3].alternatives) >= 1

        if options.option_count > 1:
            await pilot.press("down")
        chosen = tokens[3].alternatives[options.highlighted][0]
        before = len(completion_posts(sim))
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(completion_posts(sim)) > before)
        sent = completion_posts(sim)[-1].body["prompt"]
        expected = "It was a dark and stormy night" + "".join(t.token for t in tokens[:3]) + chosen
        assert sent == expected
        assert not isinstance(app.screen, TokenInspector)


async def test_without_logprobs_it_says_how_to_ask_for_them(sim: Any) -> None:
    app = make_app(sim.base_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await send(pilot, "Hello")
        await wait_finished(pilot)
        await pilot.press("ctrl+g")
        screen = await wait_for(pilot, lambda: isinstance(app.screen, TokenInspector) and app.screen)
        assert "logprobs field" in _tokens_text(screen).plain
        await pilot.press("escape")
        assert not isinstance(app.screen, TokenInspector)


async def test_next_unlikely_jumps_and_colours_follow_the_bands(sim: Any) -> None:
    app = make_app(sim.base_url)
    request = CompletionRequest(model="m", prompt="Q:")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = TokenInspector(request, [Choice(index=0, text=" It was late", logprobs=LOGPROBS)])
        app.push_screen(screen)
        await pilot.pause()
        await pilot.press("n")  # threshold 20 %: " was" is 30 %, " late" is 1.8 %
        assert screen.cursor == 2
        text = _tokens_text(screen)
        spans = {text.plain[s.start : s.end]: s.style for s in text.spans}
        # The surprising token carries a background (and the cursor); the near-certain one none.
        assert " It" not in spans or spans[" It"].bgcolor is None
        assert spans[" was"].bgcolor is not None
        assert spans[" late"].bgcolor is not None and spans[" late"].reverse
        await pilot.press("escape")


def test_monochrome_styles_mark_unlikely_tokens_without_colour() -> None:
    styles = band_styles("#000000", "#ff0000", monochrome=True)
    assert all(style.bgcolor is None and style.color is None for style in styles)
    assert styles[4].reverse and styles[4].underline
    coloured = band_styles("#101010", "#ff4040", monochrome=False)
    assert coloured[0].bgcolor is None and coloured[4].bgcolor is not None


@pytest.mark.parametrize("echo", [False, True])
def test_continued_prompt(echo: bool) -> None:
    tokens = inspected_tokens(Choice(index=0, text="", logprobs=LOGPROBS))[0]
    request = CompletionRequest(model="m", prompt="Q:", echo=echo)
    assert continued_prompt(request, Choice(index=0), tokens, 2, " dark") == "Q: It was dark"
    batch = CompletionRequest(model="m", prompt=["a", "b"])
    assert continued_prompt(batch, Choice(index=0), tokens, 2, " dark") is None


def test_raw_token_ids_show_boundaries() -> None:
    tokens, has_probs = inspected_tokens(Choice(index=0, tokens=[5, 17]))
    assert [t.token for t in tokens] == ["[5]", "[17]"] and not has_probs


# -- snapshots: the heat-map in two themes and with NO_COLOR ---------------------------------

SNAPSHOT_LOGPROBS = {
    "tokens": [" It", " was", " a", " truth", " universally", " acknowledged", ",", " that",
               " a", " single", " man", " in", " possession", " of", " a", " good", " fortune"],
    "token_logprobs": [-0.02, -0.05, -0.4, -1.1, -3.5, -0.01, -0.2, -0.9, -0.03, -2.2,
                       -0.1, -0.6, -1.8, -0.01, -0.05, -4.5, -0.3],
    "top_logprobs": [{" It": -0.02, " The": -4.2}] * 17,
}


class InspectorHost(App[None]):
    def __init__(self, theme: str) -> None:
        super().__init__()
        register_themes(self)
        self.theme = theme

    def compose(self) -> ComposeResult:
        yield Static("")

    def on_mount(self) -> None:
        choice = Choice(index=0, text="".join(SNAPSHOT_LOGPROBS["tokens"]), logprobs=SNAPSHOT_LOGPROBS)
        request = CompletionRequest(model="llama3.1-8b", prompt="Once", logprobs=2)
        self.push_screen(TokenInspector(request, [choice], title="Tokens · exchange 1"))


@pytest.mark.parametrize(
    ("theme", "no_color"),
    [("workbench-dark", False), ("workbench-light", False), ("workbench-ansi", True)],
)
def test_heat_map_snapshot(snap_compare, monkeypatch: pytest.MonkeyPatch, theme: str, no_color: bool) -> None:
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)

    async def prepare(pilot) -> None:
        await pilot.press("right", "right", "right", "right")
        await pilot.pause()

    assert snap_compare(InspectorHost(theme), terminal_size=(100, 30), run_before=prepare)
