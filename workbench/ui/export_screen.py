"""A modal screen showing a request as curl / Python SDK / httpx / JSON: highlighted in the
theme's pygments style, copyable (OSC 52, so it works over SSH) and savable to a file.

Open it with ``app.push_screen(ExportScreen(request, base_url))``. Keys: 1–4 or ←/→ pick the
format, ↑/↓/PgUp/PgDn scroll, y (or ctrl+y) copies, s (or ctrl+s) asks for a file name,
Esc closes (or cancels the file name).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.theme import Theme
from textual.widgets import Input, Label, Static, Tab, Tabs

from workbench.api.request import CompletionRequest
from workbench.export import (
    EXPORT_FORMATS,
    FORMAT_LANGUAGE,
    FORMAT_SUFFIX,
    is_cerebras_url,
    render_export,
)
from workbench.ui.highlight import highlight_code
from workbench.ui.key_hints import hint
from workbench.ui.themes import pygments_style_for

FORMAT_TITLES = {
    "curl": "curl",
    "python": "Python SDK",
    "httpx": "httpx",
    "json": "JSON body",
    "html": "HTML page",
}
# The session as a self-contained page (workbench.export_html): offered when the screen is
# given the session, next to the request formats.
HTML = "html"
LANGUAGE = {**FORMAT_LANGUAGE, HTML: "html"}
SUFFIX = {**FORMAT_SUFFIX, HTML: ".html"}


class ExportScreen(ModalScreen[None]):
    """The current request (or a saved exchange's) as code to run elsewhere."""

    DEFAULT_CSS = """
    ExportScreen {
        align: center middle;
    }
    ExportScreen > #export-dialog {
        width: 90%;
        max-width: 120;
        height: 90%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    ExportScreen #export-code {
        height: 1fr;
        background: $background;
        scrollbar-size-vertical: 1;
    }
    ExportScreen #export-code > Static {
        padding: 0 1;  /* long lines wrap on screen; copy and save use the real lines */
    }
    ExportScreen #export-save {
        display: none;
    }
    ExportScreen #export-save.-asking {
        display: block;
    }
    ExportScreen #export-hint {
        color: $text-muted;
        height: 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="export.close"),
        Binding("y,ctrl+y", "copy", "Copy", id="export.copy"),
        Binding("s,ctrl+s", "ask_path", "Save", id="export.save"),
        *(
            Binding(
                str(number),
                f"show_format('{fmt}')",
                FORMAT_TITLES[fmt],
                show=False,
                id=f"export.format_{fmt}",
            )
            for number, fmt in enumerate((*EXPORT_FORMATS, HTML), start=1)
        ),
        Binding("up", "scroll('up')", show=False),
        Binding("down", "scroll('down')", show=False),
        Binding("pageup", "scroll('page_up')", show=False),
        Binding("pagedown", "scroll('page_down')", show=False),
    ]

    def __init__(
        self,
        request: CompletionRequest,
        base_url: str | None = None,
        *,
        initial_format: str = "curl",
        title: str = "Export request",
        session: Any = None,
    ) -> None:
        """``session`` (a :class:`~workbench.sessions.model.Session` with exchanges) adds the
        HTML page of the whole session as a fifth format."""
        super().__init__()
        self.request = request
        self.base_url = base_url
        self.session = session if session is not None and session.exchanges else None
        self.formats: tuple[str, ...] = (*EXPORT_FORMATS, HTML) if self.session else EXPORT_FORMATS
        self.format = initial_format if initial_format in self.formats else "curl"
        self.dialog_title = title
        self._confirm_overwrite: Path | None = None

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="export-dialog") as dialog:
            dialog.border_title = self.dialog_title
            dialog.border_subtitle = self._where()
            yield Tabs(
                *(Tab(FORMAT_TITLES[fmt], id=f"format-{fmt}") for fmt in self.formats),
                active=f"format-{self.format}",
                id="export-formats",
            )
            with VerticalScroll(id="export-code", can_focus=False):
                yield Static(id="export-snippet")
            yield Input(placeholder="file to save to", id="export-save")
            yield Label(
                hint(
                    self,
                    "{key:export.format_curl}-{key:export.format_"
                    + self.formats[-1]
                    + "} ←/→ format · "
                    "{key:export.copy} copy · {key:export.save} save · {key:export.close} close"
                    " · the key is read from $CEREBRAS_API_KEY",
                ),
                id="export-hint",
                markup=False,
            )

    def _where(self) -> str:
        if self.base_url and not is_cerebras_url(self.base_url):
            return self.base_url
        return "api.cerebras.ai"

    def on_mount(self) -> None:
        self._render_snippet()
        self.query_one(Tabs).focus()
        self.app.theme_changed_signal.subscribe(self, self._on_theme_changed)

    def _on_theme_changed(self, theme: Theme) -> None:
        self._render_snippet()

    # -- content --------------------------------------------------------------------------

    @property
    def snippet(self) -> str:
        if self.format == HTML:
            from workbench.export_html import render_session_html

            return render_session_html(self.session)
        return render_export(self.request, self.format, self.base_url)

    def _render_snippet(self) -> None:
        style = pygments_style_for(self.app.current_theme)
        text = highlight_code(self.snippet, LANGUAGE[self.format], style)
        self.query_one("#export-snippet", Static).update(text)

    @on(Tabs.TabActivated, "#export-formats")
    def _format_chosen(self, event: Tabs.TabActivated) -> None:
        tab_id = event.tab.id or ""
        fmt = tab_id.removeprefix("format-")
        if fmt in self.formats and fmt != self.format:
            self.format = fmt
            self._confirm_overwrite = None
            self._render_snippet()
            self.query_one("#export-code", VerticalScroll).scroll_home(animate=False)

    # -- actions --------------------------------------------------------------------------

    def action_show_format(self, fmt: str) -> None:
        if fmt in self.formats:
            self.query_one(Tabs).active = f"format-{fmt}"

    def action_scroll(self, how: str) -> None:
        view = self.query_one("#export-code", VerticalScroll)
        getattr(view, f"scroll_{how}")(animate=False)

    def action_copy(self) -> None:
        snippet = self.snippet
        self.app.copy_to_clipboard(snippet)
        self.notify(
            f"{FORMAT_TITLES[self.format]} snippet copied ({len(snippet.splitlines())} lines). "
            "The terminal must allow clipboard writes (OSC 52).",
            title="Copied",
        )

    def action_ask_path(self) -> None:
        field = self.query_one("#export-save", Input)
        field.add_class("-asking")
        if not field.value or Path(field.value).suffix in SUFFIX.values():
            stem = "session" if self.format == HTML else "completion-request"
            field.value = f"{stem}{SUFFIX[self.format]}"
        field.focus()
        field.cursor_position = len(field.value)

    def action_close(self) -> None:
        field = self.query_one("#export-save", Input)
        if field.has_class("-asking"):
            self._hide_path_field()
            return
        self.dismiss(None)

    def _hide_path_field(self) -> None:
        field = self.query_one("#export-save", Input)
        field.remove_class("-asking")
        self._confirm_overwrite = None
        self.query_one(Tabs).focus()

    @on(Input.Submitted, "#export-save")
    def _save(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            self.notify("Type a file name first.", severity="warning")
            return
        path = Path(text).expanduser()
        if path.exists() and self._confirm_overwrite != path:
            self._confirm_overwrite = path
            self.notify(
                f"{path} exists. Press Enter again to overwrite it.",
                severity="warning",
                markup=False,
            )
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(self.snippet, encoding="utf-8")
        except OSError as error:
            self.notify(f"Could not save {path}: {error}", severity="error", markup=False)
            return
        self.notify(
            f"Saved the {FORMAT_TITLES[self.format]} snippet to {path}", title="Saved", markup=False
        )
        self._hide_path_field()
