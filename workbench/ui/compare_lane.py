"""One compare lane on screen: its overrides (edited and checked like the sidebar's fields),
its text as it streams (one block per prompt of a batch), and its outcome and figures.

The lane's text arrives through :meth:`LaneView.flush`, called once per frame by the compare
screen with what the runner buffered since the last frame: a 2,500 tok/s lane costs one
append per frame, not one per token (``docs/benchmarks.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Input, Static

from workbench.api.fields import FIELD_NAMES
from workbench.api.request import CompletionRequest
from workbench.compare.runner import LaneState
from workbench.compare.variants import Variant, VariantError, lane_request, parse_variant
from workbench.compare.metrics import figure_lines
from workbench.ui.metrics_format import format_rate
from workbench.terminal_text import display_text
from workbench.ui.stream_text import WrappedText


@dataclass(eq=False)
class LaneBlock:
    """One prompt's (or choice's) text inside a lane; titled only for a batch or n > 1."""

    index: int
    title: str | None
    text: WrappedText = field(default_factory=WrappedText)


class LaneBody(ScrollView, can_focus=False):
    """A lane's text as wrapped rows drawn with the line API (only visible rows are drawn, an
    append re-wraps only the last row), following the bottom while the user is there.

    Like the main transcript, it keeps no widget per block: four lanes streaming at once
    cost four appends and a redraw of the visible rows per frame, not a relayout."""

    DEFAULT_CSS = """
    LaneBody { background: transparent; }
    """

    following: reactive[bool] = reactive(True, init=False)
    """True while the view sits at the bottom, so new text keeps it there."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.blocks: list[LaneBlock] = []
        self._width = 0

    # -- content ---------------------------------------------------------------------------

    def clear(self) -> None:
        self.blocks = []
        self.following = True
        self._content_changed()
        self.scroll_home(animate=False, immediate=True)

    def block(self, index: int, title: str | None) -> LaneBlock:
        """The block for choice ``index``, created in index order on first use."""
        for block in self.blocks:
            if block.index == index:
                return block
        block = LaneBlock(index, title)
        later = [i for i, b in enumerate(self.blocks) if b.index > index]
        self.blocks.insert(later[0] if later else len(self.blocks), block)
        return block

    def append(self, index: int, title: str | None, text: str) -> None:
        self.block(index, title).text.append(display_text(text))
        self._content_changed()

    @property
    def text(self) -> str:
        return "\n".join(block.text.text for block in self.blocks)

    # -- rows ------------------------------------------------------------------------------

    def _rows_of(self, block: LaneBlock) -> int:
        return (1 if block.title else 0) + block.text.row_count(self._width)

    def _content_changed(self) -> None:
        width = self.scrollable_content_region.width
        if width <= 0:
            return
        self._width = width
        rows = sum(self._rows_of(block) for block in self.blocks)
        self.virtual_size = Size(width, rows)
        if self.following:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.refresh()

    def on_resize(self) -> None:
        self._content_changed()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        row = int(self.scroll_y) + y
        base = self.rich_style
        for block in self.blocks:
            if block.title:
                if row == 0:
                    title = Style(dim=True)
                    return Strip([Segment(block.title[:width].ljust(width), base + title)])
                row -= 1
            count = block.text.row_count(width)
            if row < count:
                text, _offset = block.text.row(row)
                text = text.rstrip("\n")[:width]
                return Strip([Segment(text.ljust(width), base)]).crop(0, width)
            row -= count
        return Strip.blank(width, base)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self.following = new_value >= self.max_scroll_y - 1


class LaneView(Vertical):
    """A lane: overrides input, live text, status and figures."""

    DEFAULT_CSS = """
    LaneView {
        height: 1fr;
        border: round $panel;
        border-title-color: $text-primary;
        border-subtitle-color: $text-muted;
        padding: 0 1;
    }
    LaneView:focus-within { border: round $primary; }
    LaneView.-error { border-subtitle-color: $text-error; }
    LaneView.-waiting { border-subtitle-color: $text-warning; }
    LaneView > .lane-overrides {
        height: 1; border: none; padding: 0; background: $panel; color: $text-secondary;
    }
    /* Input:focus (a tall border) has the same specificity: without this line the border came
       back whenever Input's own CSS was loaded after this (the compare view opened first). */
    LaneView > .lane-overrides:focus { border: none; background: $primary 20%; }
    /* Two fixed rows: a message that changes with every key typed must not re-lay out the
       screen while lanes stream (the whole message is repeated when a send is refused). */
    LaneView > .lane-problem { color: $text-error; height: 2; display: none; }
    LaneView > .lane-problem.-shown { display: block; }
    LaneView > .lane-body { height: 1fr; scrollbar-size-vertical: 1; }
    /* A fixed height: the figures arriving when the lane ends must not resize the text above
       (a resize is a full layout pass and a scroll in the frame that shows the last token). */
    LaneView > .lane-metrics { height: 3; color: $text-muted; }
    """

    class OverridesChanged(Message):
        """The user edited this lane's overrides (valid or not)."""

        def __init__(self, lane: LaneView) -> None:
            super().__init__()
            self.lane = lane

    def __init__(self, overrides_text: str = "", *, number: int = 1) -> None:
        super().__init__()
        self.overrides_text = overrides_text
        self.number = number
        self.variant: Variant | None = None
        self.problem: str | None = None
        self._problem_shown: str | None = None
        self.state: LaneState | None = None
        self._batch = False

    def compose(self) -> ComposeResult:
        yield Input(
            self.overrides_text,
            placeholder="no overrides: the sidebar's request",
            classes="lane-overrides",
            select_on_focus=False,
        )
        yield Static("", classes="lane-problem", markup=False)
        yield LaneBody(classes="lane-body", can_focus=False)
        yield Static("", classes="lane-metrics", markup=False)

    def on_mount(self) -> None:
        self.renumber(self.number)
        self.set_status("ready")

    # -- overrides -----------------------------------------------------------------------------

    @property
    def input(self) -> Input:
        return self.query_one(".lane-overrides", Input)

    def renumber(self, number: int) -> None:
        self.number = number
        title = self.variant.title if self.variant is not None else (self.overrides_text or "base request")
        if self.border_title != f"{number} · {title}":
            self.border_title = f"{number} · {title}"

    def check(self, base: CompletionRequest | None) -> CompletionRequest | None:
        """Parse and validate this lane against ``base``; show the problem under the input.
        Returns the lane's request, or None when it cannot be sent."""
        text = self.input.value if self.is_mounted else self.overrides_text
        self.overrides_text = text
        problem: str | None = None
        request: CompletionRequest | None = None
        try:
            self.variant = parse_variant(text)
            if base is not None:
                request = lane_request(base, self.variant)
        except VariantError as error:
            problem = str(error)
            if error.lane is None and error.field is None and "=" not in text:
                problem += " (FIELD=VALUE, comma-separated)"
        self.problem = problem
        self._show_problem(problem)
        self.renumber(self.number)
        return request

    def _show_problem(self, text: str | None) -> None:
        """The line under the overrides. Only redrawn when it changes: a new text re-lays out
        the lane, and keys typed while the lanes stream must stay cheap."""
        if text == self._problem_shown or not self.is_mounted:
            return
        self._problem_shown = text
        shown = self.query_one(".lane-problem", Static)
        stays_shown = text is not None and shown.has_class("-shown")
        shown.update(text or "", layout=not stays_shown)
        shown.set_class(text is not None, "-shown")

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.OverridesChanged(self))

    # -- a run ---------------------------------------------------------------------------------

    def start(self, state: LaneState) -> None:
        """Forget the last run's text and follow ``state``."""
        self.state = state
        self.query_one(LaneBody).clear()
        self._batch = state.request.choice_count > 1
        self.query_one(".lane-metrics", Static).update("", layout=False)
        self.show_state()

    def _title(self, index: int) -> str | None:
        """A block's title: only a batch (one block per prompt) or n > 1 (one per choice)."""
        if not (self._batch or index > 0):
            return None
        noun = "choice" if (self.state and (self.state.request.n or 1) > 1) else "prompt"
        return f"── {noun} {index + 1} ──"

    def flush(self) -> None:
        """Show what arrived since the last frame (one append per choice)."""
        state = self.state
        if state is None:
            return
        pieces = state.take_pending()
        if not pieces:
            return
        by_choice: dict[int, list[str]] = {}
        for index, text in pieces:
            by_choice.setdefault(index, []).append(text)
        body = self.query_one(LaneBody)
        for index, texts in by_choice.items():
            body.append(index, self._title(index), "".join(texts))

    def show_state(self) -> None:
        """The status in the border and, once the lane has ended, its figures."""
        state = self.state
        if state is None:
            return
        self.set_class(state.status == "error", "-error")
        self.set_class(state.status == "waiting", "-waiting")
        if state.status == "waiting":
            self.set_status(f"⏳ {state.wait_reason}: waiting {state.wait_s:.2f} s, then retry {state.retries + 1}")
        elif state.status == "streaming":
            rate = state.live_rate
            self.set_status("streaming" + (f" · {format_rate(rate)}" if rate else ""))
        elif state.status == "pending":
            self.set_status("connecting…")
        else:
            self.set_status(state.status)
        if state.status == "error":
            # A server refusal that names a field (a 400's `param`) is shown on the overrides,
            # where it is fixed, as the sidebar does for the main request.
            param = getattr(state.error, "param", None)
            message = getattr(state.error, "message", None)
            if param in FIELD_NAMES and message:
                self._show_problem(f"server: {param}: {message}")
        if state.done:
            if state.status == "error" and state.error_message:
                # The message matters more than empty figures (three rows: it is cut there).
                text = state.error_message
            elif state.result is None:
                text = "cancelled before any response" if state.status == "cancelled" else "no response"
            else:
                text = "\n".join(figure_lines(state))
            self.query_one(".lane-metrics", Static).update(Text(text), layout=False)

    def set_status(self, text: str) -> None:
        self.border_subtitle = text

    @property
    def block_titles(self) -> list[str]:
        """The titles drawn above the blocks (a batch's prompts, or n > 1's choices)."""
        return [block.title for block in self.query_one(LaneBody).blocks if block.title]

    @property
    def shown_text(self) -> str:
        """Every block's text as shown (for tests and copying)."""
        return self.query_one(LaneBody).text
