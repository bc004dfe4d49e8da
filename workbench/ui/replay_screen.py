"""Replay a saved session inside the app: new output beside the saved one, with a verdict.

The work is done by :func:`workbench.sessions.replay.replay_session` in an exclusive worker;
each finished exchange is mounted as a :class:`ReplayStepView` as soon as it arrives, the
progress line says "exchange i of n", esc cancels (the connection closes at once) and ctrl+s
saves the replayed exchanges as a new session.
"""

from __future__ import annotations

import asyncio
import os
import shlex
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Static
from textual.worker import Worker, WorkerState

from workbench.api.request import RequestValidationError
from workbench.sessions.diff import inline_segments
from workbench.sessions.model import Session
from workbench.sessions.replay import (
    ReplayOverrides,
    ReplayStep,
    parse_assignment,
    prepare_requests,
    replay_as_session,
    replay_session,
)
from workbench.sessions.store import SessionStore, SessionStoreError

_SEGMENT_STYLES = {"equal": "", "delete": "bold red reverse", "insert": "bold green reverse"}


def highlighted(segments: list[tuple[str, str]]) -> Text:
    text = Text()
    for tag, piece in segments:
        text.append(piece, style=_SEGMENT_STYLES[tag])
    return text


class ReplayStepView(Vertical):
    """One exchange: verdict line, then saved and replayed output side by side."""

    DEFAULT_CSS = """
    ReplayStepView { height: auto; margin: 0 0 1 0; }
    ReplayStepView > .verdict { height: 1; padding: 0 1; text-style: bold; }
    ReplayStepView > .verdict.same { color: $success; }
    ReplayStepView > .verdict.different { color: $error; }
    ReplayStepView Horizontal { height: auto; }
    ReplayStepView .side { width: 1fr; height: auto; border: round $panel; padding: 0 1; }
    """

    def __init__(self, step: ReplayStep) -> None:
        super().__init__()
        self.step = step

    def compose(self) -> ComposeResult:
        step = self.step
        mark = "✓ same" if step.same else "✗ different"
        detail = f" — {step.replayed.error}" if step.replayed.error else ""
        yield Label(
            f"Exchange {step.index + 1} of {step.total}{step.lane_note}: {mark}{detail}",
            classes=f"verdict {step.verdict}",
            markup=False,
        )
        saved_text, new_text = step.saved.output_text, step.replayed.output_text
        left, right = inline_segments(saved_text, new_text)
        with Horizontal():
            saved = Static(highlighted(left), classes="side")
            saved.border_title = f"saved · {step.saved.status}"
            yield saved
            replayed = Static(highlighted(right), classes="side")
            replayed.border_title = f"replayed · {step.replayed.status}"
            yield replayed


class ReplayScreen(Screen[Session | None]):
    """Re-send a session's exchanges (optionally overridden) and compare; dismisses with the
    saved replay session, or None."""

    HELP = """\
## Replay

Sends every exchange of the session again with its saved parameters and shows the new output
beside the saved one, changed words highlighted, with a verdict per exchange. Optional
overrides: another **model**, any request field as `key=value` (JSON values: `temperature=0.2
seed=7 stop='["\\n"]'`; `key=` removes the field), another **base URL**. **ctrl+r** starts,
**esc** cancels a running replay (then closes), **ctrl+s** saves the replayed exchanges as a
new session. With a `seed`, the built-in simulator replays exactly.
"""

    DEFAULT_CSS = """
    ReplayScreen { background: $background; }
    ReplayScreen #replay-title { height: 1; padding: 0 1; text-style: bold; }
    ReplayScreen #replay-overrides { height: auto; }
    ReplayScreen #replay-overrides Input { width: 1fr; }
    ReplayScreen #replay-progress { height: 1; padding: 0 1; color: $text-muted; }
    ReplayScreen #replay-results { height: 1fr; }
    """
    BINDINGS = [
        Binding("ctrl+r", "start", "Start replay", id="replay.start", priority=True),
        Binding("ctrl+s", "save", "Save as new session", id="replay.save", priority=True),
        Binding("escape", "cancel_or_close", "Cancel / close", id="replay.cancel", priority=True),
    ]

    def __init__(
        self,
        session: Session,
        *,
        store: SessionStore | None = None,
        client: Any = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.store = store
        self._client = client
        self.steps: list[ReplayStep] = []
        self.saved_as: Session | None = None
        self.used_base_url: str | None = None
        self.finished: asyncio.Event | None = None
        self._worker: Worker[None] | None = None

    def compose(self) -> ComposeResult:
        count = len(self.session.exchanges)
        yield Static(
            f"Replay “{self.session.display_title}” — {count} exchange{'s' if count != 1 else ''}",
            id="replay-title",
            markup=False,
        )
        with Horizontal(id="replay-overrides"):
            yield Input(placeholder=f"model (saved: {self.session.model or '–'})", id="replay-model")
            yield Input(placeholder="key=value … e.g. temperature=0.2 seed=7", id="replay-set")
            yield Input(placeholder="base URL (default: the app's endpoint)", id="replay-base-url")
        yield Static("ctrl+r starts the replay", id="replay-progress", markup=False)
        yield VerticalScroll(id="replay-results")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.finished = asyncio.Event()
        self.query_one("#replay-model", Input).focus()

    @property
    def running(self) -> bool:
        return self._worker is not None and self._worker.state in (
            WorkerState.PENDING,
            WorkerState.RUNNING,
        )

    def _progress(self, text: str) -> None:
        self.query_one("#replay-progress", Static).update(text)

    def _overrides(self) -> ReplayOverrides:
        fields: dict[str, Any] = {}
        for item in shlex.split(self.query_one("#replay-set", Input).value):
            key, value = parse_assignment(item)
            fields[key] = value
        model = self.query_one("#replay-model", Input).value.strip() or None
        return ReplayOverrides(model=model, fields=fields)

    def action_start(self) -> None:
        if self.running:
            return
        try:
            overrides = self._overrides()
            prepare_requests(self.session, overrides)
        except (ValueError, RequestValidationError) as error:
            self._progress(f"Cannot replay: {error}")
            return
        base_url = self.query_one("#replay-base-url", Input).value.strip() or None
        self.steps = []
        self.query_one("#replay-results", VerticalScroll).remove_children()
        if self.finished is not None:
            self.finished.clear()
        self._worker = self._run(overrides, base_url)

    @work(exclusive=True, group="replay")
    async def _run(self, overrides: ReplayOverrides, base_url: str | None) -> None:
        results = self.query_one("#replay-results", VerticalScroll)
        total = len(self.session.exchanges)
        owned = None
        try:
            client = self._client if base_url is None else None
            if client is None and base_url is None:
                client = getattr(self.app, "client", None)
            if client is None:
                from workbench.api.client import CompletionClient
                from workbench.api.endpoint import Endpoint

                endpoint = Endpoint.from_env(base_url=base_url, environ=os.environ)
                owned = client = CompletionClient(endpoint)
            self.used_base_url = base_url or getattr(getattr(client, "endpoint", None), "base_url", None)
            self._progress(f"Replaying exchange 1 of {total}…")
            async for step in replay_session(self.session, client, overrides):
                self.steps.append(step)
                await results.mount(ReplayStepView(step))
                results.scroll_end(animate=False)
                if step.index + 1 < total:
                    self._progress(f"Replaying exchange {step.index + 2} of {total}…")
            different = sum(1 for s in self.steps if not s.same)
            self._progress(
                f"Done: {total - different} of {total} the same, {different} different "
                "· ctrl+s saves the replay as a new session"
            )
        except asyncio.CancelledError:
            self._progress(
                f"Cancelled after {len(self.steps)} of {total} · ctrl+s saves what was replayed"
            )
            raise
        except Exception as error:  # e.g. a missing API key for another endpoint
            self._progress(f"Replay stopped: {error}")
        finally:
            if owned is not None:
                await owned.aclose()
            if self.finished is not None:
                self.finished.set()

    def action_cancel_or_close(self) -> None:
        if self.running and self._worker is not None:
            self._worker.cancel()
            return
        self.dismiss(self.saved_as)

    def action_save(self) -> None:
        if not self.steps:
            self._progress("Nothing replayed yet to save.")
            return
        replayed = replay_as_session(self.session, self.steps, base_url=self.used_base_url)
        store = self.store or getattr(self.app, "store", None) or SessionStore()
        try:
            path = store.save(replayed).path
        except (SessionStoreError, OSError) as error:
            self._progress(f"Could not save: {error}")
            return
        self.saved_as = replayed
        self._progress(f"Saved as {path.name}")
        self.notify(f"Replay saved as “{replayed.title}”.")
