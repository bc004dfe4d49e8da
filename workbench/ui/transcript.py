"""The transcript: exchanges one under another, following the bottom only while you are there.

Following uses Textual's scroll anchor: it keeps the view at the bottom as text arrives, and
lets go as soon as the user scrolls up (coming back to the bottom re-engages it).
"""

from __future__ import annotations

from typing import Any, Callable

from textual.containers import VerticalScroll
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
following the stream; scroll to the bottom to follow again. **ctrl+l** shows the logprobs of
the last exchange; **ctrl+y** copies its text.
"""

    def __init__(self, hint: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._hint = hint
        self.can_focus = True

    def compose(self):  # type: ignore[override]
        if self._hint:
            yield Static(self._hint, classes="hint")

    def on_mount(self) -> None:
        self.anchor()

    @property
    def exchanges(self) -> list[ExchangeView]:
        return list(self.query_children(ExchangeView))

    @property
    def last(self) -> ExchangeView | None:
        views = self.exchanges
        return views[-1] if views else None

    async def start_exchange(self, request: CompletionRequest, *, flush_hz: float) -> ExchangeView:
        """Mount a view for a request about to be sent (ready for deltas when this returns)."""
        view = ExchangeView(request, flush_hz=flush_hz)
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
