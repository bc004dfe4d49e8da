"""The one-line status bar: where requests go, the model, live speed, quota, recent speeds."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import Label, Sparkline

from workbench.ui.metrics_format import format_rate

SPARKLINE_LENGTH = 20


class StatusBar(Horizontal):
    """Endpoint/profile (or the OFFLINE SIMULATOR badge), model, tok/s, quota, speed history."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        background: $panel;
        color: $foreground;
        overflow: hidden hidden;
    }
    StatusBar > Label { padding: 0 1; height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    StatusBar > #badge { background: $warning; color: $text; text-style: bold; min-width: 19; }
    StatusBar > #badge.-live { background: $success 40%; text-style: none; min-width: 5; }
    StatusBar > #endpoint { color: $text-muted; max-width: 28; }
    StatusBar > #model { max-width: 34; }
    StatusBar > #speed { color: $text-accent; width: auto; min-width: 12; }
    StatusBar > #quota { color: $text-muted; width: 1fr; }
    StatusBar > Sparkline { width: 16; height: 1; margin: 0 1 0 0; }
    """

    offline: reactive[bool] = reactive(False)
    """True when requests go to the built-in simulator (shows the OFFLINE SIMULATOR badge)."""

    endpoint: reactive[str] = reactive("")
    """Profile name and host, e.g. ``cerebras · api.cerebras.ai``."""

    model: reactive[str] = reactive("")
    """The model the next request will use."""

    live_rate: reactive[float | None] = reactive(None)
    """Tokens per second of the stream in flight (None when idle)."""

    last_rate: reactive[float | None] = reactive(None)
    """Client tok/s of the last finished exchange, shown while idle."""

    quota: reactive[str] = reactive("")
    """Rate-limit remaining, when the server sends the headers."""

    _speed_text = ""  # what the speed label shows now

    def compose(self) -> ComposeResult:
        yield Label("", id="badge")
        yield Label("", id="endpoint")
        yield Label("", id="model")
        yield Label("", id="speed")
        yield Sparkline([], id="speeds")
        yield Label("", id="quota")

    def add_speed(self, tokens_per_s: float) -> None:
        """Append a finished exchange's speed to the sparkline (keeps the last 20)."""
        sparkline = self.query_one(Sparkline)
        history = list(sparkline.data or [])[-(SPARKLINE_LENGTH - 1) :]
        sparkline.data = [*history, tokens_per_s]
        sparkline.tooltip = "client tok/s of recent exchanges: " + ", ".join(
            f"{value:,.0f}" for value in sparkline.data
        )

    def watch_offline(self, offline: bool) -> None:
        badge = self.query_one("#badge", Label)
        badge.update("OFFLINE SIMULATOR" if offline else "API")
        badge.set_class(not offline, "-live")

    def watch_endpoint(self, endpoint: str) -> None:
        self.query_one("#endpoint", Label).update(Text(endpoint))

    def watch_model(self, model: str) -> None:
        self.query_one("#model", Label).update(Text(model or "(no model)"))

    def watch_live_rate(self) -> None:
        self._show_speed()

    def watch_last_rate(self) -> None:
        self._show_speed()

    def _show_speed(self) -> None:
        label = self.query_one("#speed", Label)
        if self.live_rate is not None:
            text = "⇣ " + format_rate(self.live_rate)
        elif self.last_rate is not None:
            text = "last " + format_rate(self.last_rate)
        else:
            text = ""
        # The label is as wide as its text: only a change of width needs a layout. The live
        # rate changes 4 times a second during a stream, mostly at the same width, and a
        # layout is a full-screen one (10+ ms then, docs/benchmarks.md).
        label.update(text, layout=cell_len(text) != cell_len(self._speed_text))
        self._speed_text = text

    def watch_quota(self, quota: str) -> None:
        self.query_one("#quota", Label).update(quota)
