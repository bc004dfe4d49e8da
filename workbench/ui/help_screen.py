"""F1: the keys of the screen in front, then help for the widget that had focus.

On the main screen that is every workbench action (plus quit and the command palette); on
another screen (sessions, replay, export …) it is that screen's own keys first and the key that
closes it, not the ~30 editing keys of whatever input has focus. Every key shown, in the table
and in the help text, is the one bound now (:mod:`workbench.ui.key_hints`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen
from textual.widgets import Markdown, Static

from workbench.ui.key_hints import KeyTable, class_bindings, fill_keys, hint, key_label, keys_in_force

if TYPE_CHECKING:
    from textual.app import App

# Actions that close a screen, for the "how to close" line of a screen's help.
CLOSING_ACTIONS = ("close", "cancel_or_close", "dismiss", "cancel")

HelpRow = tuple[str, str, str]
"""(keys, what it does, binding id for [keymap] or "")."""


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
    HelpScreen .help-close { color: $text-accent; }
    """

    BINDINGS = [
        Binding("escape,q,f1", "dismiss", "Close help", id="help.close"),
    ]

    def __init__(
        self,
        keys: list[HelpRow],
        focused_help: str | None,
        *,
        title: str = "Keys",
        close_line: str = "",
        note: str = "",
        id_header: str = "[keymap] id",
    ) -> None:
        super().__init__()
        self.rows = keys
        """(keys, what it does, binding id) for every action, as shown."""
        self._focused_help = focused_help
        self._title = title
        self._close_line = close_line
        self._note = note
        self._id_header = id_header

    def compose(self) -> ComposeResult:
        table = Table(box=None, padding=(0, 1), expand=True, show_edge=False)
        table.add_column("keys", style="bold", ratio=2, overflow="fold")
        table.add_column("action", ratio=4)
        table.add_column(Text(self._id_header), style="dim", ratio=2, overflow="fold")
        for keys, description, ident in self.rows:
            table.add_row(keys, description, ident)
        with VerticalScroll():
            yield Static(self._title, classes="help-title", markup=False)
            close = self._close_line + " " if self._close_line else ""
            yield Static(
                close + hint(self, "{keys:help.close} closes this help."),
                classes="help-close",
                id="help-close",
                markup=False,
            )
            yield Static(table, id="keys")
            if self._note:
                yield Static(self._note, classes="help-note", markup=False)
            if self._focused_help:
                yield Markdown(self._focused_help, id="focused-help")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)


def _binding(item: BindingType) -> Binding:
    return item if isinstance(item, Binding) else Binding(*item)


def _rows(bindings: Iterable[BindingType], keys: KeyTable, titles: dict[str, str]) -> list[HelpRow]:
    """One row per binding id (or action), in declaration order, with the keys bound now."""
    rows: list[HelpRow] = []
    seen: set[str] = set()
    for item in bindings:
        binding = _binding(item)
        name = binding.id or binding.action
        if name in seen or name not in keys:
            continue
        seen.add(name)
        description = titles.get(name) or binding.tooltip or binding.description
        if not description:
            continue
        rows.append((key_label(keys[name]), fill_keys(description, keys), binding.id or ""))
    return rows


def main_screen_rows(app: App[object], bindings: Sequence[Binding], titles: dict[str, str]) -> list[HelpRow]:
    """The workbench's actions, then quitting and the command palette (Textual's own keys)."""
    keys = keys_in_force(app.screen)
    rows = _rows(bindings, keys, titles)
    if "quit" in keys:
        rows.append((key_label(keys["quit"]), "Quit the workbench", ""))
    if "command_palette" in keys:
        rows.append((key_label(keys["command_palette"]), "Command palette: every action, themes", ""))
    return rows


def screen_rows(screen: DOMNode) -> tuple[list[HelpRow], str]:
    """A screen's own keys (the ones it declares, not its inputs' editing keys) and a line
    saying how to close it."""
    keys = keys_in_force(screen)
    own = class_bindings(screen)
    rows = _rows(own, keys, {})
    close_line = ""
    for item in own:
        binding = _binding(item)
        if binding.action in CLOSING_ACTIONS:
            name = binding.id or binding.action
            close_line = f"{key_label(keys[name])} closes this screen;"
            break
    return rows, close_line


def focused_help(app: App[object]) -> str | None:
    """The ``HELP`` of the focused widget or its nearest ancestor that has one, keys filled."""
    node: DOMNode | None = app.focused or app.screen
    start = node
    while node is not None:
        text = getattr(type(node), "HELP", None)
        if text:
            assert start is not None
            return fill_keys(text, keys_in_force(start))
        node = node.parent
    return None


def help_screen_for(app: App[object], bindings: Sequence[Binding], titles: dict[str, str]) -> HelpScreen:
    """The F1 sheet for what is in front: ``bindings``/``titles`` are the app's actions."""
    text = focused_help(app)
    if len(app.screen_stack) == 1:
        keys = keys_in_force(app.screen)
        example = ",".join(keys.get("send", ()))  # as [keymap] takes it: comma-separated
        note = fill_keys(
            "Every action is also in the command palette ({key:command_palette}). Remap keys "
            "in the config file (see `workbench config path`), e.g. [keymap] send = "
            f'"{example}".',
            keys,
        )
        return HelpScreen(main_screen_rows(app, bindings, titles), text, note=note)
    rows, close_line = screen_rows(app.screen)
    # Only the app's own actions can be remapped in the config file's [keymap] so far: a
    # screen's ids are shown as ids, not as keymap entries.
    return HelpScreen(rows, text, title="Keys of this screen", close_line=close_line, id_header="id")
