"""Ctrl+O: the saved sessions, newest first, with incremental search and file operations.

Fast with 10,000 files: the list comes from the store's summary index (no TOML parsing for
unchanged files) and is drawn by :class:`SessionTable`, which renders only the visible lines.
Search text (titles, prompts, outputs) is loaded by a thread worker once the list is on
screen; until it is ready a query matches titles only, then the query is run again in full.

The screen ``dismiss()``es with the :class:`Session` to load (or None when closed).

A toggle switches the list to the eval files kept in ``evals/`` inside the session folder
(:mod:`workbench.eval.catalog`); enter on one opens the eval screen over the browser, and the
list is read again when that screen closes (it may have saved).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Footer, Input, Label, Static

from workbench.eval.catalog import EvalSummary, evals_folder, list_evals, matches
from workbench.sessions.index import SessionSummary
from workbench.sessions.model import Session
from workbench.sessions.store import SearchIndex, SessionStore, SessionStoreError
from workbench.ui.key_hints import hint

SESSION_SEARCH_PLACEHOLDER = "Search titles, prompts and outputs…"
# Actions on session files only: off (and out of the footer) while eval files are listed.
SESSION_ONLY_ACTIONS = frozenset(("new", "rename", "duplicate", "delete", "restore", "replay"))
TIME_WIDTH = 16
MODEL_WIDTH = 22
COUNT_WIDTH = 4


def format_time(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


Row = SessionSummary | EvalSummary


def _fit(text: str, width: int) -> str:
    """One line of exactly ``width`` cells (control characters shown as spaces)."""
    if width <= 0:
        return ""
    flat = text if text.isprintable() else "".join(ch if ch.isprintable() else " " for ch in text)
    if cell_len(flat) > width:
        return set_cell_size(flat, width - 1) + "…"
    return set_cell_size(flat, width)


class SessionTable(ScrollView, can_focus=True):
    """A virtual list of session summaries: only the visible lines are rendered."""

    COMPONENT_CLASSES = {
        "session-table--header",
        "session-table--cursor",
        "session-table--unreadable",
        "session-table--dim",
    }
    DEFAULT_CSS = """
    SessionTable { height: 1fr; background: $surface; border-left: blank; }
    SessionTable:focus { border-left: heavy $text-primary; }
    SessionTable > .session-table--header { text-style: bold; color: $text-muted; }
    SessionTable > .session-table--cursor { background: $primary 40%; }
    SessionTable:focus > .session-table--cursor { background: $primary 70%; }
    SessionTable > .session-table--unreadable { color: $error; }
    SessionTable > .session-table--dim { color: $text-muted; }
    """
    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
    ]

    cursor: reactive[int] = reactive(0, always_update=True)
    """Index of the highlighted row in :attr:`rows`."""

    @dataclass
    class Highlighted(Message):
        summary: Row | None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rows: list[Row] = []
        self.lists_evals = False
        """Eval files' columns in the header (kept when a search leaves no rows)."""

    def set_rows(self, rows: list[Row], keep: Path | None = None) -> None:
        """Show these rows; keep the cursor on the same file when it is still there."""
        self.rows = rows
        # one header line + one line per row
        self.virtual_size = Size(self.size.width, len(rows) + 1)
        position = 0
        if keep is not None:
            keep_name = keep.name
            for index, row in enumerate(rows):
                if row.name == keep_name:
                    position = index
                    break
        self.cursor = min(position, max(0, len(rows) - 1))
        self.refresh()

    @property
    def current(self) -> Row | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    def watch_cursor(self, cursor: int) -> None:
        # Keep the cursor row in view: with scroll offset s, rows s .. s+h-2 are visible
        # (line 0 is the header).
        height = max(2, self.scrollable_content_region.height)
        top = self.scroll_offset.y
        if cursor < top:
            self.scroll_to(y=cursor, animate=False, immediate=True)
        elif cursor > top + height - 2:
            self.scroll_to(y=cursor - height + 2, animate=False, immediate=True)
        self.refresh()
        self.post_message(self.Highlighted(self.current))

    def action_move(self, delta: int) -> None:
        if self.rows:
            self.cursor = max(0, min(len(self.rows) - 1, self.cursor + delta))

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(1, self.scrollable_content_region.height - 2))

    def action_jump(self, where: int) -> None:
        if self.rows:
            self.cursor = where if where >= 0 else len(self.rows) - 1

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.rows) + 1)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            # The header stays put: it is line 0 of the widget, not of the scrolled content.
            style = self.get_component_rich_style("session-table--header")
            if self.lists_evals:
                header = self._columns("modified", "title", "cases · variants", "", width)
            else:
                header = self._columns("updated", "title", "model", "ex", width)
            return Strip([Segment(header, self.rich_style + style)]).adjust_cell_length(width)
        index = y - 1 + self.scroll_offset.y
        if index >= len(self.rows):
            return Strip.blank(width, self.rich_style)
        row = self.rows[index]
        base = self.rich_style
        if isinstance(row, EvalSummary):
            style, text = self._eval_line(row, width)
        elif not row.readable:
            style = base + self.get_component_rich_style("session-table--unreadable")
            text = self._columns(format_time(row.updated), f"{row.name} — unreadable: {row.error}", "", "", width)
        else:
            style = base
            text = self._columns(
                format_time(row.updated), row.title, row.model or "–", str(row.exchanges), width
            )
        if index == self.cursor:
            style = style + self.get_component_rich_style("session-table--cursor")
        return Strip([Segment(text, style)]).adjust_cell_length(width, style)

    def _eval_line(self, row: EvalSummary, width: int) -> tuple[Style, str]:
        when = format_time(datetime.fromtimestamp(row.modified_ts).astimezone())
        if not row.readable:
            style = self.rich_style + self.get_component_rich_style("session-table--unreadable")
            return style, self._columns(when, f"{row.path.name} — unreadable: {row.error}", "", "", width)
        counts = f"{_plural(row.cases, 'case')} · {_plural(row.variants, 'variant')}"
        return self.rich_style, self._columns(when, row.title, counts, "", width)

    @staticmethod
    def _columns(when: str, title: str, model: str, count: str, width: int) -> str:
        fixed = TIME_WIDTH + MODEL_WIDTH + COUNT_WIDTH + 3
        model_width = MODEL_WIDTH
        if width - fixed < 20:  # narrow terminal: give the title the model's room
            model_width = max(0, MODEL_WIDTH - (20 - (width - fixed)))
        title_width = max(0, width - (TIME_WIDTH + model_width + COUNT_WIDTH + 3))
        line = (
            _fit(when, TIME_WIDTH)
            + " "
            + _fit(title, title_width)
            + " "
            + _fit(model, model_width)
            + " "
            + count.rjust(COUNT_WIDTH)[:COUNT_WIDTH]
        )
        return _fit(line, width)


class RenameScreen(ModalScreen[str | None]):
    """Ask for a new title (enter saves, esc cancels, as the keymap has them)."""

    DEFAULT_CSS = """
    RenameScreen { align: center middle; }
    RenameScreen > Vertical {
        width: 70; max-width: 95%; height: auto; border: round $primary;
        background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [
        Binding("enter", "save", "Save", id="rename.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="rename.cancel"),
    ]

    def __init__(self, title: str) -> None:
        super().__init__()
        self._title = title

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(
                hint(self, "New title ({key:rename.save} saves, {key:rename.cancel} cancels)"),
                markup=False,
            )
            yield Input(value=self._title, id="new-title")

    def action_save(self) -> None:
        self.dismiss(self.query_one("#new-title", Input).value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class SessionBrowser(Screen[Session | None]):
    """Browse, search, open, rename, duplicate, delete/restore and replay saved sessions."""

    HELP = """\
## Sessions

Every session is one TOML file in the session folder (shown at the top), newest first.
Type to search titles, prompts and outputs (all words must match, any case);
**{key:sessions.clear_search}** clears the search. ↑/↓ and PgUp/PgDn move. **{key:sessions.open}**
opens the session in the workbench, **{key:sessions.new}** starts a new one,
**{key:sessions.rename}** renames, **{key:sessions.duplicate}** duplicates,
**{key:sessions.delete}** moves it to the trash (`.trash/` in the folder) and
**{key:sessions.restore}** brings it back, **{key:sessions.replay}** replays it.
**{key:sessions.close}** goes back to the workbench. Files that cannot be read are listed in
red with the reason; the workbench never changes or deletes them.

**{key:sessions.evals}** switches the list to the eval files (and back): those in `evals/` in
the session folder, where the eval screen saves them, with title, cases, variants and the time
they were changed. The search matches their titles and file names; **{key:sessions.open}** opens
one in the eval screen. An eval file that does not load is listed in red with the line and the
reason `workbench eval` would give, and left as it is.
"""

    DEFAULT_CSS = """
    SessionBrowser { background: $background; }
    SessionBrowser #browser-title { height: 1; padding: 0 1; text-style: bold; }
    SessionBrowser #search { margin: 0 0; }
    SessionBrowser #browser-status { height: 1; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("enter", "open", "Open", id="sessions.open", priority=True,
                tooltip="Load the highlighted session into the workbench"),
        Binding("ctrl+n", "new", "New", id="sessions.new", priority=True,
                tooltip="Start a new, empty session"),
        Binding("f2", "rename", "Rename", id="sessions.rename", priority=True),
        Binding("f3", "duplicate", "Copy", id="sessions.duplicate", priority=True,
                tooltip="Duplicate the highlighted session"),
        Binding("ctrl+d", "delete", "Delete", id="sessions.delete", priority=True,
                tooltip="Move the highlighted session to the trash (Undo restores it)"),
        # ctrl+z, not ctrl+u: in the search box ctrl+u is the shell's "clear the line".
        Binding("ctrl+z", "restore", "Undo", id="sessions.restore", priority=True,
                tooltip="Restore the session deleted last"),
        Binding("ctrl+u", "clear_search", "Clear search", id="sessions.clear_search",
                priority=True, show=False, tooltip="Clear the search box"),
        Binding("ctrl+r", "replay", "Replay", id="sessions.replay", priority=True,
                tooltip="Re-send the session's requests and compare the outputs"),
        Binding("f9", "toggle_evals", "Evals", id="sessions.evals", priority=True,
                tooltip="Switch the list between sessions and eval files"),
        Binding("escape", "close", "Close", id="sessions.close"),
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
    ]

    def __init__(
        self,
        store: SessionStore | None = None,
        *,
        new_session: Callable[[], Session] = Session.new,
        client: Any = None,
        **kwargs: Any,
    ) -> None:
        """``new_session`` makes the empty session that "new" opens (the app's endpoint and
        profile); ``client`` is what a replay sends with (None: the replay screen builds one
        from the environment)."""
        super().__init__(**kwargs)
        self.store = store if store is not None else SessionStore()
        self.new_session = new_session
        self.client = client
        self.summaries: list[SessionSummary] = []
        self.search_index: SearchIndex | None = None
        self.trashed: list[tuple[Path, str]] = []
        """(file in the trash, its title) per delete, last one last: what Undo restores."""
        self._listing_pending = True
        self._provisional = False
        self._generation = 0
        self.showing_evals = False
        """True while the list shows eval files instead of sessions."""
        self.evals: list[EvalSummary] = []
        self.evals_total = 0
        """Eval files in the folder (only the newest MAX_LISTED are loaded and listed)."""
        self._evals_pending = True
        self._evals_generation = 0

    def compose(self) -> ComposeResult:
        yield Static(f"Sessions — {self.store.directory}", id="browser-title", markup=False)
        yield Input(placeholder=SESSION_SEARCH_PLACEHOLDER, id="search")
        yield SessionTable(id="sessions")
        yield Static("", id="browser-status", markup=False)
        # Compact, without the palette hint: every key of this screen fits in 80 columns.
        yield Footer(compact=True, show_command_palette=False)

    @property
    def table(self) -> SessionTable:
        return self.query_one(SessionTable)

    @property
    def query_text(self) -> str:
        return self.query_one("#search", Input).value

    def on_mount(self) -> None:
        self.query_one("#search", Input).focus()
        # First paint straight from the index (one JSON read, no stat of every file, ~50 ms
        # for 10,000 sessions); the checked listing then comes from a thread worker and
        # replaces it, keeping the cursor on its file.
        cached = self.store.list_cached()
        if cached:
            self._show_listing(self._generation, cached, None, False)
        self.reload()

    # -- data ---------------------------------------------------------------------------------

    def reload(self, keep: Path | None = None) -> None:
        """Read the listing again, in a thread: cheap when the index is warm, but a folder
        seen for the first time means parsing every file, and the UI must not freeze."""
        self._generation += 1
        self._list_sessions(self._generation, keep)

    @work(thread=True, exclusive=True, group="session-list")
    def _list_sessions(self, generation: int, keep: Path | None) -> None:
        try:
            summaries = self.store.list()
        except SessionStoreError as error:  # e.g. the sessions path is a file: say so, stay up
            self.app.call_from_thread(self.notify, str(error), severity="error", markup=False)
            summaries = []
        self.app.call_from_thread(self._show_listing, generation, summaries, keep, True)

    def _show_listing(
        self,
        generation: int,
        summaries: list[SessionSummary],
        keep: Path | None,
        checked: bool,
    ) -> None:
        if generation != self._generation or not self.is_attached:
            return  # a newer listing is on its way, or the screen was closed
        replacing_provisional = self._provisional and checked
        self._provisional = not checked
        self.summaries = summaries
        self.search_index = None
        self._listing_pending = False
        if replacing_provisional and keep is None and self.table.cursor == 0:
            # The user has not moved yet: stay on the newest row, whatever it now is.
            self._apply_filter(top=True)
        else:
            self._apply_filter(keep)
        if checked:
            # Read the search text once the list is painted: the thread would otherwise
            # compete with the first render for the interpreter.
            self.call_after_refresh(self._load_search_index, generation)

    @work(thread=True, exclusive=True, group="session-search-index")
    def _load_search_index(self, generation: int) -> None:
        summaries = self.summaries
        index = self.store.search_index(summaries)
        self.app.call_from_thread(self._search_index_ready, generation, index)

    def _search_index_ready(self, generation: int, index: SearchIndex) -> None:
        if generation != self._generation or not self.is_attached:
            return
        self.search_index = index
        if self.query_text.strip():
            self._apply_filter()
        else:
            self._update_status()

    def _apply_filter(self, keep: Path | None = None, top: bool = False) -> None:
        query = self.query_text
        if self.showing_evals:
            rows: list[Any] = [row for row in self.evals if matches(row, query)]
        elif not query.strip():
            rows = self.summaries
        elif self.search_index is not None:
            rows = self.search_index.filter(query)
        else:  # full text still loading: titles only for now
            words = query.lower().split()
            rows = [s for s in self.summaries if all(w in s.title.lower() for w in words)]
        current = None if top else self.table.current
        self.table.set_rows(rows, keep or (current.path if current else None))
        self._update_status()

    def _update_status(self) -> None:
        if self.showing_evals:
            self.query_one("#browser-status", Static).update(self._evals_status())
            return
        if self._listing_pending:
            self.query_one("#browser-status", Static).update("Loading sessions…")
            return
        shown = len(self.table.rows)
        total = len(self.summaries)
        broken = sum(1 for s in self.summaries if not s.readable)
        noun = "session" if total == 1 else "sessions"
        parts = [f"{shown:,} of {total:,} {noun}" if shown != total else f"{total:,} {noun}"]
        if broken:
            parts.append(f"{broken} unreadable")
        if self.search_index is None and self.query_text.strip():
            parts.append("searching titles (full text loading…)")
        current = self.table.current
        if current is not None and not current.readable:
            parts = [f"{current.name}: {current.error}"]
        self.query_one("#browser-status", Static).update(" · ".join(parts))

    def _evals_status(self) -> str:
        if self._evals_pending:
            return "Loading eval files…"
        current = self.table.current
        if isinstance(current, EvalSummary) and not current.readable:
            return f"{current.name}: {current.error}"
        if not self.evals:
            return hint(
                self,
                "No eval files yet: the eval screen saves them here · {key:sessions.evals} shows the sessions",
            )
        shown, listed = len(self.table.rows), len(self.evals)
        parts = [f"{shown:,} of {_plural(listed, 'eval file')}" if shown != listed else _plural(listed, "eval file")]
        broken = sum(1 for row in self.evals if not row.readable)
        if broken:
            parts.append(f"{broken} unreadable")
        if self.evals_total > listed:
            parts.append(f"the newest {listed:,} of {self.evals_total:,} listed")
        return " · ".join(parts)

    # -- eval files -------------------------------------------------------------------------

    @property
    def evals_dir(self) -> Path:
        return evals_folder(self.store.directory)

    def reload_evals(self, keep: Path | None = None) -> None:
        self._evals_generation += 1
        self._list_evals(self._evals_generation, keep)

    @work(thread=True, exclusive=True, group="eval-list")
    def _list_evals(self, generation: int, keep: Path | None) -> None:
        # A thread: every file is loaded and checked (its cases file too), as `workbench eval`
        # would, so that the list says which ones run.
        try:
            evals, total = list_evals(self.evals_dir)
        except OSError as error:  # e.g. evals/ is a file: say so, stay up
            message = f"Cannot list {self.evals_dir}: {error.strerror or error}"
            self.app.call_from_thread(self.notify, message, severity="error", markup=False)
            evals, total = [], 0
        self.app.call_from_thread(self._show_evals, generation, evals, total, keep)

    def _show_evals(self, generation: int, evals: list[EvalSummary], total: int, keep: Path | None) -> None:
        if generation != self._evals_generation or not self.is_attached:
            return
        self.evals, self.evals_total, self._evals_pending = evals, total, False
        if self.showing_evals:
            self._apply_filter(keep)

    def action_toggle_evals(self) -> None:
        self.showing_evals = not self.showing_evals
        search = self.query_one("#search", Input)
        if self.showing_evals:
            title = f"Eval files — {self.evals_dir}"
            search.placeholder = "Search eval titles and file names…"
            self.reload_evals()
        else:
            title = f"Sessions — {self.store.directory}"
            search.placeholder = SESSION_SEARCH_PLACEHOLDER
        self.query_one("#browser-title", Static).update(title)
        self.table.lists_evals = self.showing_evals
        self._apply_filter(top=True)
        self.refresh_bindings()  # the footer drops the keys that only apply to sessions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.showing_evals and action in SESSION_ONLY_ACTIONS:
            return False
        return True

    def on_key(self, event: events.Key) -> None:
        # A binding whose action is off lets its key go on to the app, where ctrl+r would
        # regenerate and ctrl+n continue the conversation behind this screen: stop it here.
        if not self.showing_evals:
            return
        bound = self._bindings.key_to_bindings.get(event.key, ())
        if any(binding.action in SESSION_ONLY_ACTIONS for binding in bound):
            event.stop()
            event.prevent_default()
            self.notify(
                hint(self, "That key works on sessions; {key:sessions.evals} lists them again."),
                severity="warning",
                markup=False,
            )

    def _open_eval(self, row: EvalSummary) -> None:
        from workbench.ui.eval_screen import EvalScreen, read_eval_draft

        if not row.readable:
            self.notify(f"{row.name} is unreadable: {row.error}", severity="error", markup=False)
            return
        try:
            draft = read_eval_draft(row.path)
        except ValueError as error:  # changed since it was listed, or uses a prompt_file
            self.notify(f"Cannot open {row.name}: {error}", severity="error", markup=False)
            self.reload_evals()
            return
        # No client: the eval screen makes its own, without retries, so the runner sees 429s.
        screen = EvalScreen(draft, path=row.path, sessions_dir=self.store.directory)
        self.app.push_screen(screen, lambda _: self.reload_evals(keep=screen.path))

    @on(Input.Changed, "#search")
    def _search_changed(self) -> None:
        self._apply_filter()

    @on(SessionTable.Highlighted)
    def _highlighted(self) -> None:
        self._update_status()

    # -- actions --------------------------------------------------------------------------------

    def action_move(self, delta: int) -> None:
        self.table.action_move(delta)

    def action_page(self, direction: int) -> None:
        self.table.action_page(direction)

    def _selected(self) -> SessionSummary | None:
        current = self.table.current
        if not isinstance(current, SessionSummary):  # nothing, or an eval file's row
            self.notify("No session selected.", severity="warning")
            return None
        return current

    def _load_selected(self) -> Session | None:
        current = self._selected()
        if current is None:
            return None
        if not current.readable:
            self.notify(f"{current.name} is unreadable: {current.error}", severity="error")
            return None
        try:
            return self.store.load(current.path)
        except (SessionStoreError, OSError) as error:
            self.notify(str(error), severity="error")
            self.reload()
            return None

    def action_open(self) -> None:
        if self.showing_evals:
            current = self.table.current
            if current is None:
                self.notify("No eval file selected.", severity="warning")
            elif isinstance(current, EvalSummary):
                self._open_eval(current)
            return
        session = self._load_selected()
        if session is not None:
            self.dismiss(session)

    def action_new(self) -> None:
        self.dismiss(self.new_session())

    def action_clear_search(self) -> None:
        search = self.query_one("#search", Input)
        search.value = ""
        search.focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_rename(self) -> None:
        current = self._selected()
        if current is None or not current.readable:
            if current is not None:
                self.notify("An unreadable file cannot be renamed.", severity="error")
            return

        def renamed(title: str | None) -> None:
            if title is None:
                return
            try:
                self.store.rename(current.path, title)
            except (SessionStoreError, OSError) as error:
                self.notify(str(error), severity="error")
            self.reload(keep=current.path)

        self.app.push_screen(RenameScreen(current.title), renamed)

    def action_duplicate(self) -> None:
        current = self._selected()
        if current is None or not current.readable:
            return
        try:
            copy = self.store.duplicate(current.path)
        except (SessionStoreError, OSError) as error:
            self.notify(str(error), severity="error")
            return
        storage = copy.storage
        self.reload(keep=getattr(storage, "path", None))
        self.notify(f"Duplicated as “{copy.title}”.")

    def action_delete(self) -> None:
        current = self._selected()
        if current is None:
            return
        try:
            trashed = self.store.delete(current.path)
        except (SessionStoreError, OSError) as error:
            self.notify(str(error), severity="error")
            return
        self.trashed.append((trashed, current.title))
        self.reload()
        self.notify(
            f"Moved “{current.title}” to the trash — "
            + hint(self, "{key:sessions.restore} restores it."),
            markup=False,
        )

    def action_restore(self) -> None:
        if not self.trashed:
            self.notify("Nothing deleted here to restore.", severity="warning")
            return
        trashed, title = self.trashed.pop()
        try:
            restored = self.store.restore(trashed)
        except (SessionStoreError, OSError) as error:
            self.notify(str(error), severity="error", markup=False)
            return
        self.reload(keep=restored)
        # The same name the delete toast used: the title, not the file.
        self.notify(f"Restored “{title}”.", markup=False)

    def action_replay(self) -> None:
        session = self._load_selected()
        if session is None:
            return
        from workbench.ui.replay_screen import ReplayScreen

        self.app.push_screen(
            ReplayScreen(session, store=self.store, client=self.client), lambda _: self.reload()
        )
