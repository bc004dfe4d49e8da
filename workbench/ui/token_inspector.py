"""The token inspector: a completion coloured by each token's probability, a token cursor, and
the alternatives the model weighed at the cursor — with "continue from here with this one".

The colours are a sequential scale blended from the theme's background to its error colour
(one hue, so it reads with every common colour-vision deficiency); with the ANSI theme (chosen
by NO_COLOR) the least likely tokens are underlined and reversed instead of coloured.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from workbench.api.logprobs import BANDS, TokenProb, band, token_probs
from workbench.api.request import CompletionRequest
from workbench.api.types import Choice
from workbench.ui.key_hints import hint
from workbench.ui.probability_bands import theme_band_styles

# The "next unlikely token" jump stops at tokens below this probability; `t` cycles it.
THRESHOLDS = (0.5, 0.2, 0.05, 0.01)
NO_LOGPROBS_HINT = (
    "The server sent no logprobs for this exchange. Set the logprobs field in the sidebar "
    "(e.g. 5) and send again to see each token's probability and its alternatives."
)


@dataclass(frozen=True, slots=True)
class ContinueWith:
    """The inspector's result: send ``prompt`` (the original prompt, the completion up to the
    chosen token, and the chosen alternative in its place)."""

    prompt: str


def inspected_tokens(choice: Choice) -> tuple[list[TokenProb], bool]:
    """The tokens to walk over and whether they carry probabilities.

    Without logprobs, raw token ids (``return_raw_tokens``) still give boundaries to show."""
    tokens = token_probs(choice.logprobs)
    if tokens:
        return tokens, True
    if choice.tokens:
        return [TokenProb(f"[{token_id}]", None) for token_id in choice.tokens], False
    return [], False


class TokenInspector(ModalScreen[ContinueWith | None]):
    """ctrl+g: every token of the exchange's choices, coloured, with a cursor and alternatives."""

    DEFAULT_CSS = """
    TokenInspector { align: center middle; }
    TokenInspector > Vertical {
        width: 96%; height: 92%; border: round $primary; background: $surface;
        border-title-color: $text-primary;
    }
    TokenInspector #tokens-scroll { width: 2fr; padding: 0 1; }
    TokenInspector #token-side { width: 1fr; min-width: 28; border-left: solid $primary 40%; padding: 0 1; }
    TokenInspector #token-detail { height: auto; }
    TokenInspector OptionList { height: 1fr; border: none; }
    TokenInspector #token-legend { height: auto; color: $text-muted; padding: 0 1; }
    """

    BINDINGS = [
        Binding("right,l", "move(1)", "Next token", show=False, id="tokens.next"),
        Binding("left,h", "move(-1)", "Previous token", show=False, id="tokens.previous"),
        Binding("home", "jump_edge(0)", "First", show=False, id="tokens.first"),
        Binding("end", "jump_edge(1)", "Last", show=False, id="tokens.last"),
        Binding("n", "next_unlikely(1)", "Next unlikely", id="tokens.next_unlikely"),
        Binding("N", "next_unlikely(-1)", "Previous unlikely", show=False, id="tokens.previous_unlikely"),
        Binding("t", "cycle_threshold", "Threshold", id="tokens.threshold"),
        Binding("c", "next_choice", "Choice", id="tokens.next_choice"),
        Binding("enter", "continue_with", "Continue with alternative", id="tokens.continue"),
        Binding("escape,q", "close", "Close", id="tokens.close"),
    ]

    HELP = """\
## Token inspector

Each token of the completion, coloured by how likely the model found it (the legend is at the
bottom). **{key:tokens.previous}**/**{key:tokens.next}** move the cursor token by token;
**{key:tokens.next_unlikely}**/**{key:tokens.previous_unlikely}** jump to the next/previous token
below the threshold, **{key:tokens.threshold}** changes the threshold. The panel on the right shows
the token, its probability, its bytes, and the alternatives the model weighed. Pick one with
**↑/↓** and press **{key:tokens.continue}** to continue from there with it: the prompt becomes the
original prompt plus the completion up to that token plus the alternative, and it is sent.
**{key:tokens.next_choice}** switches between the choices of a batch or n > 1.
**{key:tokens.close}** closes.
"""

    def __init__(
        self, request: CompletionRequest, choices: list[Choice], *, title: str = "Tokens"
    ) -> None:
        super().__init__()
        self.request = request
        self.choices = sorted(choices, key=lambda c: c.index)
        self.title_text = title
        self.choice_position = 0
        self.cursor = 0
        self.threshold_index = 1
        self.tokens: list[TokenProb] = []
        self.has_probs = False
        self._styles: list[Style] = []
        self.rendered = Text()
        """What the token pane shows (kept for tests and the copy action)."""

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical() as frame:
            frame.border_title = self.title_text
            with Horizontal():
                with VerticalScroll(id="tokens-scroll"):
                    yield Static(id="tokens")
                with Vertical(id="token-side"):
                    yield Static(id="token-detail")
                    yield OptionList(id="alternatives")
            yield Static(id="token-legend")
        yield Footer()

    def on_mount(self) -> None:
        self._styles = theme_band_styles(self.app)
        self._load_choice()
        self.query_one("#alternatives", OptionList).focus()

    # -- drawing ------------------------------------------------------------------------------

    @property
    def choice(self) -> Choice | None:
        return self.choices[self.choice_position] if self.choices else None

    @property
    def threshold(self) -> float:
        return THRESHOLDS[self.threshold_index]

    def _load_choice(self) -> None:
        choice = self.choice
        self.tokens, self.has_probs = inspected_tokens(choice) if choice else ([], False)
        self.cursor = min(self.cursor, max(len(self.tokens) - 1, 0))
        self._redraw()

    def _redraw(self) -> None:
        tokens_view = self.query_one("#tokens", Static)
        if not self.tokens:
            self.rendered = Text(NO_LOGPROBS_HINT)
            tokens_view.update(self.rendered)
            self.query_one("#token-detail", Static).update("")
            self.query_one("#alternatives", OptionList).clear_options()
            self._draw_legend()
            return
        text = Text()
        cursor_style = Style(reverse=True, bold=True)
        for position, token in enumerate(self.tokens):
            level = band(token.probability)
            style = self._styles[level] if level is not None and self._styles else Style()
            if not self.has_probs and position % 2:
                style = Style(underline=True)  # raw token ids: alternate to show boundaries
            if position == self.cursor:
                style = style + cursor_style
            text.append(token.token, style)
        self.rendered = text
        tokens_view.update(text)
        self._draw_detail()
        self._draw_legend()
        self._keep_cursor_visible()

    def _draw_detail(self) -> None:
        token = self.tokens[self.cursor]
        lines = Text()
        lines.append("token ", "dim")
        lines.append(repr(token.token) + "\n", "bold")
        lines.append(f"position {self.cursor + 1} of {len(self.tokens)}\n", "dim")
        if token.probability is not None:
            lines.append(f"p = {_percent(token.probability)}   logprob {token.logprob:.3f}\n")
        elif self.has_probs:
            lines.append("no probability sent for this token\n", "dim")
        raw = token.token_bytes or tuple(token.token.encode("utf-8"))
        lines.append("bytes " + " ".join(f"{b:02x}" for b in raw[:16]) + "\n", "dim")
        if token.alternatives:
            lines.append(hint(self, "\nalternatives ({key:tokens.continue} continues with one):"), "dim")
        tuple_alternatives = token.alternatives
        self.query_one("#token-detail", Static).update(lines)
        options = self.query_one("#alternatives", OptionList)
        options.clear_options()
        options.add_options(
            Option(Text(f"{_percent(math.exp(min(lp, 0.0))):>8}  {alt!r}"), id=str(i))
            for i, (alt, lp) in enumerate(tuple_alternatives)
        )
        if tuple_alternatives:
            options.highlighted = 0

    def _draw_legend(self) -> None:
        legend = Text("p: ")
        for index, (_floor, label) in enumerate(BANDS):
            style = self._styles[index] if self._styles else Style()
            legend.append(f" {label} ", style)
            legend.append(" ")
        legend.append(
            hint(self, "  {key:tokens.next_unlikely}/{key:tokens.previous_unlikely}: below ")
            + _percent(self.threshold)
            + hint(self, " ({key:tokens.threshold})")
        )
        if len(self.choices) > 1:
            legend.append(
                f"   choice {self.choice_position + 1}/{len(self.choices)}"
                + hint(self, " ({key:tokens.next_choice})")
            )
        if not self.has_probs and self.tokens:
            legend = Text("token boundaries from raw ids; no probabilities were sent")
        self.query_one("#token-legend", Static).update(legend)

    def _keep_cursor_visible(self) -> None:
        scroll = self.query_one("#tokens-scroll", VerticalScroll)
        if scroll.max_scroll_y <= 0 or not self.tokens:
            return
        # The Static wraps the text itself; the cursor's row is about proportional to its
        # character offset, which is close enough to keep it on screen.
        before = sum(len(t.token) for t in self.tokens[: self.cursor])
        total = max(sum(len(t.token) for t in self.tokens), 1)
        row = before / total * scroll.virtual_size.height
        if not scroll.scroll_y <= row < scroll.scroll_y + scroll.size.height - 1:
            scroll.scroll_to(y=max(row - scroll.size.height / 2, 0), animate=False)

    # -- actions ------------------------------------------------------------------------------

    def action_move(self, step: int) -> None:
        if self.tokens:
            self.cursor = max(0, min(len(self.tokens) - 1, self.cursor + step))
            self._redraw()

    def action_jump_edge(self, end: int) -> None:
        if self.tokens:
            self.cursor = len(self.tokens) - 1 if end else 0
            self._redraw()

    def action_next_unlikely(self, step: int) -> None:
        position = self.cursor + step
        while 0 <= position < len(self.tokens):
            probability = self.tokens[position].probability
            if probability is not None and probability < self.threshold:
                self.cursor = position
                self._redraw()
                return
            position += step
        self.notify(f"No token below {_percent(self.threshold)} that way.", timeout=3)

    def action_cycle_threshold(self) -> None:
        self.threshold_index = (self.threshold_index + 1) % len(THRESHOLDS)
        self._draw_legend()

    def action_next_choice(self) -> None:
        if len(self.choices) > 1:
            self.choice_position = (self.choice_position + 1) % len(self.choices)
            self.cursor = 0
            self._load_choice()

    def action_continue_with(self) -> None:
        options = self.query_one("#alternatives", OptionList)
        if not self.tokens or options.highlighted is None:
            self.notify("No alternative at this token.", severity="warning", timeout=3)
            return
        alternative = self.tokens[self.cursor].alternatives[options.highlighted][0]
        prompt = continued_prompt(self.request, self.choice, self.tokens, self.cursor, alternative)
        if prompt is None:
            self.notify(
                "Continuing from a token works for a text prompt (not batches or token ids).",
                severity="warning",
            )
            return
        self.dismiss(ContinueWith(prompt))

    @on(OptionList.OptionSelected)
    def _alternative_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_continue_with()

    def action_close(self) -> None:
        self.dismiss(None)


def continued_prompt(
    request: CompletionRequest,
    choice: Choice | None,
    tokens: list[TokenProb],
    cursor: int,
    alternative: str,
) -> str | None:
    """The prompt that continues ``choice`` from token ``cursor`` with ``alternative`` in its
    place; None when the prompt is not plain text (a batch or token ids)."""
    if choice is None or not isinstance(request.prompt, str):
        return None
    kept = "".join(token.token for token in tokens[:cursor])
    if request.echo and "".join(t.token for t in tokens).startswith(request.prompt):
        return kept + alternative  # the echoed prompt is among the tokens already
    return request.prompt + kept + alternative


def _percent(probability: float) -> str:
    return f"{probability * 100:.1f} %" if probability >= 0.001 else f"{probability:.1e}"
