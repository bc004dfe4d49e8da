"""One compare lane on screen: its overrides (edited and checked like the sidebar's fields),
its text as it streams (one block per prompt of a batch), and its outcome and figures.

The lane's text arrives through :meth:`LaneView.flush`, called once per frame by the compare
screen with what the runner buffered since the last frame: a 2,500 tok/s lane costs one
append per frame, not one per token (``docs/benchmarks.md``).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.geometry import Size
from textual.layout import DockArrangeResult
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Input, Static

from workbench.api.fields import FIELD_NAMES
from workbench.api.request import CompletionRequest
from workbench.compare.runner import LaneState
from workbench.compare.variants import Variant, VariantError, lane_request, parse_variant
from workbench.compare.metrics import figure_lines
from workbench.ui.metrics_format import format_rate
from workbench.ui.stream_text import StreamText


class LaneBody(VerticalScroll):
    """A lane's text, following the bottom while the user is there (as the transcript does:
    inside the layout pass that grew the text, so new text is never a frame late; see
    ``workbench/ui/transcript.py`` for why not Textual's ``anchor()``)."""

    following: reactive[bool] = reactive(True, init=False)
    """True while the view sits at the bottom, so new text keeps it there."""

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self.following = new_value >= self.max_scroll_y - 1

    def arrange(self, size: Size, optimal: bool = False) -> DockArrangeResult:
        arrangement = super().arrange(size, optimal)
        follow = self.following and arrangement.spatial_map.total_region.bottom > size.height
        self._anchored = follow
        if follow:
            self._anchor_released = False
        return arrangement


class ChoiceBlock(Vertical):
    """One prompt's (choice's) text inside a lane; titled only for a batch."""

    DEFAULT_CSS = """
    ChoiceBlock { height: auto; }
    ChoiceBlock > .choice-title { color: $text-muted; height: 1; }
    """

    def __init__(self, index: int, titled: bool, noun: str = "prompt") -> None:
        super().__init__()
        self.index = index
        self.titled = titled
        self.noun = noun
        # Made here, not in compose, so text can be appended in the frame the block is mounted.
        self.stream = StreamText()

    def compose(self) -> ComposeResult:
        title = Static(f"── {self.noun} {self.index + 1} ──", classes="choice-title", markup=False)
        title.display = self.titled
        yield title
        yield self.stream


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
    LaneView > .lane-overrides:focus { background: $primary 20%; }
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
        self._blocks: dict[int, ChoiceBlock] = {}
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
        body = self.query_one(LaneBody)
        body.remove_children()
        body.scroll_home(animate=False, immediate=True)
        body.following = True
        self._blocks = {}
        self._batch = state.request.choice_count > 1
        self.query_one(".lane-metrics", Static).update("", layout=False)
        self.show_state()

    def _block(self, index: int) -> ChoiceBlock:
        block = self._blocks.get(index)
        if block is None:
            # One block per prompt of a batch; with n > 1 the blocks are the n choices.
            noun = "choice" if (self.state and (self.state.request.n or 1) > 1) else "prompt"
            block = ChoiceBlock(index, self._batch or index > 0, noun)
            self._blocks[index] = block
            body = self.query_one(LaneBody)
            later = [i for i in self._blocks if i > index and self._blocks[i].is_attached]
            if later:
                body.mount(block, before=self._blocks[min(later)])
            else:
                body.mount(block)
        return block

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
        for index, texts in by_choice.items():
            self._block(index).stream.append("".join(texts))
        body = self.query_one(LaneBody)
        if body.following and not body.is_anchored:
            # Not anchored yet (the text did not overflow at the last layout): scroll once the
            # layout has the new height, re-checked then so a scroll up meanwhile is kept.
            body.call_after_refresh(self._scroll_if_following)

    def _scroll_if_following(self) -> None:
        body = self.query_one(LaneBody)
        if body.following:
            body.scroll_end(animate=False, immediate=True)

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
    def shown_text(self) -> str:
        """Every block's text as shown (for tests and copying)."""
        return "\n".join(self._blocks[i].stream.text for i in sorted(self._blocks))
