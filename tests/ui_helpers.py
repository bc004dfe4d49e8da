"""Helpers shared by the TUI tests: build the app against a loopback simulator, wait on
conditions (never on fixed sleeps)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

from textual.app import App
from textual.pilot import Pilot

from workbench.api.endpoint import Endpoint
from workbench.ui.app import WorkbenchApp
from workbench.ui.exchange_view import ExchangeView

MODEL = "llama3.1-8b"
SIZE = (120, 40)


def make_app(base_url: str, *, api_key: str | None = None, **kwargs: Any) -> WorkbenchApp:
    """The app pointed explicitly at ``base_url`` (no environment involved), no retries so a
    fault shows at once, and a model the simulator serves."""
    kwargs.setdefault("max_retries", 0)
    kwargs.setdefault("model", MODEL)
    endpoint = Endpoint.from_env(base_url=base_url, api_key=api_key, environ={})
    return WorkbenchApp(endpoint, **kwargs)


async def wait_for(pilot: Pilot, condition: Callable[[], Any], timeout: float = 15.0) -> Any:
    """Let the app run until ``condition()`` is truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await pilot.pause(0.02)


def completion_posts(sim: Any) -> list[Any]:
    return [r for r in sim.requests if r.path == "/v1/completions"]


async def send(pilot: Pilot, text: str, keys: str = "ctrl+j") -> None:
    app: WorkbenchApp = pilot.app  # type: ignore[assignment]
    app.prompt_pane.text = text
    await pilot.press(keys)


async def wait_finished(pilot: Pilot, count: int = 1) -> ExchangeView:
    """Wait until ``count`` exchanges exist, the last one is no longer streaming and its
    autosave (which runs off the UI thread) has been written."""
    app: WorkbenchApp = pilot.app  # type: ignore[assignment]

    def done() -> ExchangeView | None:
        views = app.transcript.exchanges
        if len(views) >= count and views[-1].status != "streaming" and not app.saves.pending:
            return views[-1]
        return None

    return await wait_for(pilot, done)


def shown_text(view: ExchangeView) -> str:
    """What the screen shows for an exchange, as plain text (header, prompt, choices, outcome,
    metrics), each block unwrapped."""
    transcript = view.transcript
    width = transcript.wrap_width if transcript is not None and transcript.wrap_width else 80
    return view.shown_text(width)


@dataclass(frozen=True)
class Notice:
    """One call of ``app.notify``, as the user would read it."""

    message: str
    title: str
    severity: str


def spy_on_notify(app: App[Any]) -> list[Notice]:
    """Every notification the app (or any of its screens and widgets, which all go through
    ``app.notify``) shows from now on; the toasts are still shown."""
    notices: list[Notice] = []
    original = app.notify

    def notify(
        message: str, *, title: str = "", severity: Any = "information", **options: Any
    ) -> None:
        notices.append(Notice(str(message), str(title), str(severity)))
        original(message, title=title, severity=severity, **options)

    app.notify = notify  # type: ignore[method-assign]
    return notices
