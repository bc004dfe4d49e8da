"""The one-line status bar: where requests go, the model, speed, the prompt's token count and
context gauge, quota, recent speeds.

What fits is decided by :func:`workbench.ui.status_layout.fit_status` from the bar's width, so
at 80 columns (or 120 with a long quota) the least useful items shorten or go first and the
rest are never cut mid-word.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable

from rich.cells import cell_len
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Label

from workbench.api.types import ClientMetrics
from workbench.ui.metrics_format import SpeedSource, exchange_speed, format_rate
from workbench.ui.prompt_gauge import Gauge, PromptDraft, Tokenizer, count_prompt, gauge
from workbench.ui.status_layout import StatusItem, fit_status, sparkline

SPARKLINE_LENGTH = 16
# Typing pauses this long before the prompt is counted (a tokenizer call per key is waste).
COUNT_DEBOUNCE_S = 0.3
# The speed label keeps this width while a stream runs, so its 4 updates a second never need
# a layout (a full-screen one, 10+ ms, docs/benchmarks.md).
SPEED_CELLS = 15


class SpeedHistory(Label):
    """Recent exchanges' speeds, one cell each, scaled to their own range."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self.data: list[float] = []
        """The speeds shown, oldest first."""


class StatusBar(Horizontal):
    """Endpoint/profile (or the OFFLINE SIMULATOR badge), model, tok/s, prompt gauge, quota,
    speed history."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        background: $panel;
        color: $foreground;
        overflow: hidden hidden;
    }
    StatusBar > Label { padding: 0 1; height: 1; width: auto; text-wrap: nowrap; }
    StatusBar > #badge { background: $warning; color: $text; text-style: bold; }
    StatusBar > #badge.-live { background: $success 40%; text-style: none; }
    StatusBar > #endpoint { color: $text-muted; }
    StatusBar > #speed { color: $text-accent; }
    StatusBar > #gauge { color: $text-muted; }
    StatusBar > #gauge.-over { color: $text-warning; text-style: bold; }
    StatusBar > #quota { color: $text-muted; }
    StatusBar > SpeedHistory { color: $text-accent; }
    """

    # Every field is shown by a child label that its watcher updates: the bar itself need not
    # repaint. (A repaint of the whole bar, one row the width of the screen, made the next frame
    # redraw every widget above it too — the sidebar included — whenever the transcript changed
    # in the same frame: docs/benchmarks.md, display lag.)
    offline: reactive[bool] = reactive(False, repaint=False)
    """True when requests go to the built-in simulator (shows the OFFLINE SIMULATOR badge)."""

    endpoint: reactive[str] = reactive("", repaint=False)
    """Profile name and host, e.g. ``cerebras · api.cerebras.ai``."""

    model: reactive[str] = reactive("", repaint=False)
    """The model the next request will use."""

    live_rate: reactive[float | None] = reactive(None, repaint=False)
    """Tokens per second of the stream in flight (None when idle)."""

    last_rate: reactive[float | None] = reactive(None, repaint=False)
    """Tok/s of the last finished exchange, shown while idle (whose: :attr:`last_source`)."""

    last_source: reactive[SpeedSource | None] = reactive("client", repaint=False)
    """Whose figure :attr:`last_rate` is: the client's, or the server's when the output was
    too short for the client to time; None when neither had one."""

    quota: reactive[str] = reactive("", repaint=False)
    """Rate-limit remaining, when the server sends the headers."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tokenizer: Tokenizer | None = None
        """Counts prompt tokens exactly when set (``CompletionClient.tokenize``)."""
        self._gauge: Gauge | None = None
        self._read_draft: Callable[[], PromptDraft] | None = None
        self._count_timer: Timer | None = None
        self._plan: dict[str, str] = {}
        self._finished_one = False  # an exchange ended: "last –" rather than nothing

    def compose(self) -> ComposeResult:
        yield Label("", id="badge")
        yield Label("", id="endpoint")
        yield Label("", id="model")
        yield Label("", id="speed")
        yield Label("", id="gauge")
        yield SpeedHistory(id="speeds")
        yield Label("", id="quota")

    # -- speeds -------------------------------------------------------------------------------

    def add_speed(self, tokens_per_s: float) -> None:
        """Append a finished exchange's speed to the history (keeps the last 16)."""
        history = self.query_one(SpeedHistory)
        history.data = [*history.data, tokens_per_s][-SPARKLINE_LENGTH:]
        history.tooltip = "tok/s of recent exchanges: " + ", ".join(
            f"{value:,.0f}" for value in history.data
        )
        self._refit()

    def show_speed_of(self, metrics: ClientMetrics) -> None:
        """A finished exchange's speed: the client's figure, or the server's when the output
        was too short to time (saying so), into the label and the history."""
        rate, source = exchange_speed(metrics)
        self._finished_one = True
        self.query_one("#speed", Label).tooltip = _speed_tooltip(metrics, source)
        self.last_source = source
        self.last_rate = rate
        if rate is not None:
            self.add_speed(rate)

    def show_session(self, metrics: Iterable[ClientMetrics | None]) -> None:
        """Start the history afresh for a session (loaded, or new and empty): its exchanges'
        speeds, so the sparkline's range is this session's."""
        speeds = [exchange_speed(m) for m in metrics if m is not None]
        history = self.query_one(SpeedHistory)
        history.data = [rate for rate, _ in speeds if rate is not None][-SPARKLINE_LENGTH:]
        history.tooltip = None
        self._finished_one = bool(speeds)
        rate, source = speeds[-1] if speeds else (None, "client")
        self.last_source = source
        self.last_rate = rate
        self._refit()

    def _speed_texts(self) -> tuple[str, str | None]:
        if self.live_rate is not None:
            text = "⇣ " + format_rate(self.live_rate)
            return text.ljust(SPEED_CELLS), text
        if self.last_rate is None:
            return ("last – (too short)", "last –") if self._finished_one else ("", None)
        rate = format_rate(self.last_rate)
        if self.last_source == "server":
            return f"last {rate} (server)", f"{rate} srv"
        return f"last {rate}", rate

    # -- the prompt gauge -----------------------------------------------------------------------

    def measure_prompt(self, read: Callable[[], PromptDraft]) -> None:
        """Count the prompt once typing pauses; ``read`` is called then, on this thread, and
        the count runs in a worker (the tokenizer is a network call)."""
        self._read_draft = read
        if self._count_timer is not None:
            self._count_timer.stop()
        self._count_timer = self.set_timer(COUNT_DEBOUNCE_S, self._count_now)

    def _count_now(self) -> None:
        self._count_timer = None
        if self._read_draft is not None:
            self._count(self._read_draft())

    @work(group="prompt-count", exclusive=True, exit_on_error=False)
    async def _count(self, draft: PromptDraft) -> None:
        tokenizer = self.tokenizer

        async def tokenize(text: str) -> list[int] | None:
            assert tokenizer is not None
            result = tokenizer(text)
            ids = await result if inspect.isawaitable(result) else result
            if ids is None and self.tokenizer is tokenizer:
                # The endpoint has no tokenizer (Cerebras answers 404): stop asking it on
                # every pause in typing; the estimate stands from now on.
                self.tokenizer = None
            return ids

        count = await count_prompt(draft, tokenize if tokenizer is not None else None)
        self.show_gauge(gauge(count, draft) if count is not None and count.tokens else None)

    def show_gauge(self, reading: Gauge | None) -> None:
        self._gauge = reading
        label = self.query_one("#gauge", Label)
        label.set_class(bool(reading and reading.over), "-over")
        label.tooltip = reading.tooltip if reading else None
        self._refit()

    @property
    def gauge(self) -> Gauge | None:
        """What the gauge shows now (None: no prompt)."""
        return self._gauge

    # -- fitting --------------------------------------------------------------------------------

    def _items(self) -> list[StatusItem]:
        speed, speed_short = self._speed_texts()
        history = self.query_one(SpeedHistory).data
        reading = self._gauge
        return [
            StatusItem("badge", "OFFLINE SIMULATOR" if self.offline else "API", "OFFLINE" if self.offline else "API"),
            StatusItem("endpoint", self.endpoint),
            StatusItem("model", self.model or "(no model)"),
            StatusItem("speed", speed, speed_short),
            StatusItem("gauge", reading.text if reading else "", reading.short if reading else None),
            StatusItem("speeds", sparkline(history, SPARKLINE_LENGTH) if len(history) > 1 else ""),
            StatusItem("quota", self.quota, _short_quota(self.quota)),
        ]

    def _refit(self) -> None:
        if not self.is_mounted:
            return
        plan = fit_status(self._items(), self._width())
        for name, text in plan.items():
            label = self.query_one(f"#{name}", Label)
            if plan.get(name) != self._plan.get(name):
                label.update(Text(text))
                label.display = bool(text)
        self._plan = plan

    def _width(self) -> int:
        return self.size.width or self.app.size.width

    def on_resize(self) -> None:
        self._refit()

    def on_mount(self) -> None:
        self._refit()

    def watch_offline(self, offline: bool) -> None:
        self.query_one("#badge", Label).set_class(not offline, "-live")
        self._refit()

    def watch_endpoint(self) -> None:
        self._refit()

    def watch_model(self) -> None:
        self._refit()

    def watch_live_rate(self) -> None:
        self._show_speed()

    def watch_last_rate(self) -> None:
        self._show_speed()

    def watch_last_source(self) -> None:
        self._show_speed()

    def _show_speed(self) -> None:
        if not self.is_mounted:
            return
        plan = fit_status(self._items(), self._width())
        text, before = plan["speed"], self._plan.get("speed", "")
        others_same = all(plan[k] == self._plan.get(k) for k in plan if k != "speed")
        if others_same and text and before and cell_len(text) == cell_len(before):
            # Same width, nothing else moved: no layout (the live rate ticks 4 times a second).
            self.query_one("#speed", Label).update(Text(text), layout=False)
            self._plan = plan
            return
        self._refit()

    def watch_quota(self) -> None:
        self._refit()


def _speed_tooltip(metrics: ClientMetrics, source: SpeedSource | None) -> str:
    if source == "client":
        return "Tokens per second as this machine received them (the stream's own pace)."
    tokens = metrics.completion_tokens
    why = (
        f"{tokens:,} token{'s' if tokens != 1 else ''} arrived too quickly to time here"
        if tokens
        else "the output was too short to time here"
    )
    if source == "server":
        return f"The server's figure (usage / completion_time): {why}."
    return f"No speed: {why} and the server sent no timing."


def _short_quota(quota: str) -> str | None:
    """``left 14,375 req/day · 1,234,567 tok/min`` → ``14k req/d · 1.2M tok/m``."""
    if not quota:
        return None
    words = quota.removeprefix("left ").replace(" req/day", " req/d").replace(" tok/min", " tok/m")
    parts = []
    for part in words.split(" · "):
        number, _, unit = part.partition(" ")
        try:
            value = int(number.replace(",", ""))
        except ValueError:
            parts.append(part)
            continue
        parts.append(f"{_compact(value)} {unit}")
    return " · ".join(parts)


def _compact(value: int) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M".replace(".0M", "M")
    if value >= 10_000:
        return f"{value // 1000}k"
    return f"{value:,}"
