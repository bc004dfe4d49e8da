"""ctrl+f in the transcript: a search line at the foot of the screen, matches highlighted.

Typing searches as you go (case-insensitive); enter or down goes to the next match, up to the
previous one; esc closes the line and takes the highlights away (the view stays where the
last match put it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from workbench.ui.key_hints import hint

if TYPE_CHECKING:
    from workbench.ui.transcript import Transcript


class TranscriptSearch(ModalScreen[None]):
    DEFAULT_CSS = """
    TranscriptSearch { align: left bottom; background: transparent; }
    TranscriptSearch > Horizontal {
        height: 3; width: 100%; background: $surface; border-top: solid $primary;
    }
    TranscriptSearch Input { width: 1fr; border: none; height: 1; padding: 0 1; }
    TranscriptSearch #search-count { width: auto; min-width: 12; color: $text-muted; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close search", id="search.close"),
        Binding("down", "step(1)", "Next match", id="search.next"),
        Binding("up", "step(-1)", "Previous match", id="search.previous"),
    ]

    def __init__(self, transcript: Transcript) -> None:
        super().__init__()
        self.transcript = transcript

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Input(placeholder="search the transcript", id="search")
            yield Static("", id="search-count")

    def on_mount(self) -> None:
        # The keys as bound now (a remapped keymap included); submitting also steps forward.
        self.query_one("#search", Input).placeholder = hint(
            self,
            "search the transcript ({key:search.next}: next, {key:search.previous}: previous, "
            "{key:search.close}: close)",
        )

    @on(Input.Changed, "#search")
    def _search(self, event: Input.Changed) -> None:
        count = self.transcript.search(event.value)
        if count:
            self.transcript.next_match(1)
        self._show_count()

    @on(Input.Submitted, "#search")
    def _next(self) -> None:
        self.action_step(1)

    def action_step(self, step: int) -> None:
        if self.transcript.next_match(step) is None and self.query_one(Input).value:
            self.app.bell()
        self._show_count()

    def _show_count(self) -> None:
        count = self.transcript.match_count
        shown = f"{self.transcript.match_index + 1} of {count}" if count else (
            "no match" if self.query_one(Input).value else ""
        )
        self.query_one("#search-count", Static).update(shown)

    def action_close(self) -> None:
        self.transcript.clear_search()
        self.dismiss(None)
