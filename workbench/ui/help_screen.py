"""F1: every action with its current keys, plus help for the widget that had focus."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown, Static


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
    HelpScreen .help-title { text-style: bold; color: $text-primary; margin: 0 0 1 0; }
    HelpScreen .help-note { color: $text-muted; margin: 1 0; }
    """

    BINDINGS = [
        Binding("escape,q,f1", "dismiss", "Close help"),
    ]

    def __init__(self, keys: list[tuple[str, str, str]], focused_help: str | None) -> None:
        super().__init__()
        self.rows = keys
        """(keys, what it does, binding id) for every action, as shown."""
        self._focused_help = focused_help

    def compose(self) -> ComposeResult:
        table = Table(box=None, padding=(0, 1), expand=True, show_edge=False)
        table.add_column("keys", style="bold", ratio=2, overflow="fold")
        table.add_column("action", ratio=4)
        table.add_column(Text("[keymap] id"), style="dim", ratio=2, overflow="fold")
        for keys, description, ident in self.rows:
            table.add_row(keys, description, ident)
        with VerticalScroll():
            yield Static("Keys", classes="help-title")
            yield Static(table, id="keys")
            yield Static(
                "Every action is also in the command palette (ctrl+p). Remap keys in the config "
                'file (see `workbench config path`), e.g. [keymap] send = "ctrl+j".',
                classes="help-note",
                markup=False,
            )
            if self._focused_help:
                yield Markdown(self._focused_help, id="focused-help")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
