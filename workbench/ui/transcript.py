"""The transcript: exchanges one under another, following the bottom only while you are there.

``following`` is true while the view is scrolled to the bottom; text arriving then keeps it
there. Scrolling up turns it off (reading earlier output is not interrupted); scrolling back to
the bottom turns it on again. (Textual's ``anchor()`` does the same but bottom-aligns short
content, which would push the first exchange to the foot of an empty screen.)
"""

from __future__ import annotations

from typing import Any, Callable

from textual import on
from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.layout import DockArrangeResult
from textual.reactive import reactive
from textual.widgets import Static

from workbench.api.request import CompletionRequest
from workbench.api.types import CompletionResult
from workbench.ui.exchange_view import ExchangeStatus, ExchangeView


class Transcript(VerticalScroll):
    """All exchanges of the current session."""

    DEFAULT_CSS = """
    Transcript { height: 1fr; padding: 0 1; scrollbar-size-vertical: 1; }
    Transcript > .hint { color: $text-muted; margin: 1 0; }
    """

    HELP = """\
## Transcript

Each exchange shows its prompt, each choice as it arrives, the finish reason and a metrics
line (time to first token, client and server tok/s, queue time, usage). Scroll up to stop
following the stream; scroll to the bottom to follow again. **{key:logprobs}** shows the
logprobs of the last exchange; **{key:copy}** copies its text; **{key:clear}** clears the
transcript and starts a new session.
"""

    def __init__(self, hint: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._hint = hint
        self.can_focus = True

    def compose(self):  # type: ignore[override]
        if self._hint:
            yield Static(self._hint, classes="hint")

    following: reactive[bool] = reactive(True, init=False)
    """True while the view sits at the bottom, so new text keeps it there."""

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self.following = new_value >= self.max_scroll_y - 1

    def arrange(self, size: Size, optimal: bool = False) -> DockArrangeResult:
        """Follow the bottom inside the layout pass that grew the content.

        Scrolling after the refresh (``scroll_end``) costs a second frame per flush and shows
        new text one frame late. Textual's anchor moves the scroll offset while it arranges,
        but it also bottom-aligns content shorter than the view, so it is switched on here only
        while following *and* the content is taller than the view.
        """
        arrangement = super().arrange(size, optimal)
        follow = self.following and arrangement.spatial_map.total_region.bottom > size.height
        self._anchored = follow
        if follow:
            self._anchor_released = False
        return arrangement

    @on(ExchangeView.Grew)
    def _follow(self, event: ExchangeView.Grew) -> None:
        event.stop()
        # Anchored: the layout pass that shows the new text also scrolls to it (see arrange).
        if self.following and not self.is_anchored:
            # After the layout has the new height; re-checked then, so a scroll up by the user
            # in between is not undone.
            self.call_after_refresh(self._scroll_if_following)

    def _scroll_if_following(self) -> None:
        if self.following:
            self.scroll_end(animate=False, immediate=True)

    @property
    def exchanges(self) -> list[ExchangeView]:
        return list(self.query_children(ExchangeView))

    @property
    def last(self) -> ExchangeView | None:
        views = self.exchanges
        return views[-1] if views else None

    async def start_exchange(
        self,
        request: CompletionRequest,
        *,
        flush_hz: float,
        hold: Callable[[], bool] | None = None,
    ) -> ExchangeView:
        """Mount a view for a request about to be sent (ready for deltas when this returns)."""
        view = ExchangeView(request, flush_hz=flush_hz, hold=hold)
        await self.mount(view)
        return view

    async def show_recorded(
        self,
        request: CompletionRequest,
        result: CompletionResult | None,
        status: ExchangeStatus,
        error: str | None,
        render: Callable[[str], Any] | None,
    ) -> ExchangeView:
        """Add a finished exchange (from a session file, or a test's fixed record)."""
        view = ExchangeView(request)
        await self.mount(view)
        view.finish(status, result, error=error, render=render)
        return view

    async def clear(self) -> None:
        await self.remove_children(ExchangeView)
