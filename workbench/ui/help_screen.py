"""F1: every action with its current keys, plus help for the widget that had focus."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown


class HelpScreen(ModalScreen[None]):
    """A scrollable sheet of keys; esc, q or f1 closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%;
        max-width: 100;
        height: 90%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    """

    BINDINGS = [
        Binding("escape,q,f1", "dismiss", "Close help"),
    ]

    def __init__(self, keys: list[tuple[str, str, str]], focused_help: str | None) -> None:
        super().__init__()
        self._keys = keys
        self._focused_help = focused_help

    def compose(self) -> ComposeResult:
        rows = ["# Keys", "", "| keys | action | id (for `[keymap]`) |", "|---|---|---|"]
        rows += [f"| `{keys}` | {description} | `{ident}` |" for keys, description, ident in self._keys]
        rows += [
            "",
            "Every action is also in the command palette (**ctrl+p**). Remap keys in the config "
            "file (`workbench config path`): `[keymap]` `send = \"ctrl+j\"`.",
        ]
        if self._focused_help:
            rows += ["", self._focused_help]
        with VerticalScroll():
            yield Markdown("\n".join(rows))

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
