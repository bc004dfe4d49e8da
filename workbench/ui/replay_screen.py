"""Replay a saved session inside the app: new output beside the saved one, with a verdict.

The work is done by :func:`workbench.sessions.replay.replay_session` in an exclusive worker;
each finished exchange is mounted as a :class:`ReplayStepView` as soon as it arrives, the
progress line says "exchange i of n", esc cancels (the connection closes at once), ctrl+s
saves the replayed exchanges as a new session and ctrl+down / ctrl+up jump between the exchanges
that differ (keys as the keymap has them).
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
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
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
from workbench.ui.key_hints import hint

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
    ReplayStepView.-current > .verdict { background: $accent 30%; }
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
seed=7 stop='["\\n"]'`; `key=` removes the field), another **base URL**.
**{key:replay.start}** starts, **{key:replay.cancel}** cancels a running replay (then closes),
**{key:replay.save}** saves the replayed exchanges as a new session.
**{key:replay.next_difference}** / **{key:replay.previous_difference}** jump to the next /
previous exchange whose output differs. With a `seed`, the built-in simulator replays exactly.
"""

    DEFAULT_CSS = """
    ReplayScreen { background: $background; }
    ReplayScreen #replay-title { height: 1; padding: 0 1; text-style: bold; }
    ReplayScreen #replay-overrides {
        height: auto; grid-size: 2; grid-columns: auto 1fr; grid-rows: 1; grid-gutter: 0 1;
        padding: 0 1;
    }
    ReplayScreen #replay-overrides Label { color: $text-muted; }
    ReplayScreen #replay-overrides Input { width: 1fr; }
    ReplayScreen #replay-progress { height: auto; padding: 0 1; color: $text-muted; }
    ReplayScreen #replay-results { height: 1fr; border-left: blank; }
    ReplayScreen #replay-results:focus { border-left: heavy $text-primary; }
    ReplayScreen #replay-overrides Input:focus { background-tint: $text-primary 20%; }
    """
    BINDINGS = [
        Binding("ctrl+r", "start", "Start", id="replay.start", priority=True,
                tooltip="Start the replay"),
        Binding("ctrl+s", "save", "Save", id="replay.save", priority=True,
                tooltip="Save the replayed exchanges as a new session"),
        Binding("escape", "cancel_or_close", "Cancel/close", id="replay.cancel", priority=True,
                tooltip="Cancel the running replay, or close this screen"),
        Binding(
            "ctrl+down",
            "jump_difference(1)",
            "Next diff",
            id="replay.next_difference",
            priority=True,
            tooltip="Jump to the next exchange whose output differs",
        ),
        Binding(
            "ctrl+up",
            "jump_difference(-1)",
            "Prev diff",
            id="replay.previous_difference",
            priority=True,
            tooltip="Jump to the previous exchange whose output differs",
        ),
    ]

    def __init__(
        self,
        session: Session,
        *,
        store: SessionStore | None = None,
        client: Any = None,
    ) -> None:
        """``client`` sends the replay when no other base URL is typed (None: one is built
        from the environment); ``store`` is where ctrl+s saves (None: the default folder)."""
        super().__init__()
        self.session = session
        self.store = store
        self._client = client
        self.steps: list[ReplayStep] = []
        self.saved_as: Session | None = None
        self.used_base_url: str | None = None
        self.finished: asyncio.Event | None = None
        self._worker: Worker[None] | None = None
        self._current: int | None = None  # index of the step the difference keys last showed

    def compose(self) -> ComposeResult:
        count = len(self.session.exchanges)
        yield Static(
            f"Replay “{self.session.display_title}” — {count} exchange{'s' if count != 1 else ''}",
            id="replay-title",
            markup=False,
        )
        # Labels beside the inputs (not in the placeholders, which are cut on narrow screens
        # and vanish once something is typed).
        with Grid(id="replay-overrides"):
            yield Label("Model", id="label-model")
            yield Input(
                placeholder=f"as saved: {self.session.model or '–'}",
                id="replay-model",
                compact=True,
            )
            yield Label("Set fields", id="label-set")
            yield Input(
                placeholder="key=value …  e.g. temperature=0.2 seed=7  (key= unsets)",
                id="replay-set",
                compact=True,
            )
            yield Label("Base URL", id="label-base-url")
            yield Input(placeholder="the app's endpoint", id="replay-base-url", compact=True)
        yield Static(
            hint(self, "{key:replay.start} starts the replay"), id="replay-progress", markup=False
        )
        yield VerticalScroll(id="replay-results")
        yield Footer(compact=True, show_command_palette=False)

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
        self._current = None
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
            jump = " · {key:replay.next_difference} jumps to the first" if different else ""
            self._progress(
                f"Done: {total - different} of {total} the same, {different} different"
                + hint(self, jump + " · {key:replay.save} saves the replay as a new session")
            )
        except asyncio.CancelledError:
            self._progress(
                f"Cancelled after {len(self.steps)} of {total}"
                + hint(self, " · {key:replay.save} saves what was replayed")
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
        store = self.store or SessionStore()
        try:
            path = store.save(replayed).path
        except (SessionStoreError, OSError) as error:
            self._progress(f"Could not save: {error}")
            return
        self.saved_as = replayed
        self._progress(f"Saved as {path.name}")
        self.notify(f"Replay saved as “{replayed.title}”.")

    def action_jump_difference(self, direction: int) -> None:
        """Scroll to the next (1) or previous (-1) exchange whose output differs."""
        views = list(self.query(ReplayStepView))
        differing = [i for i, view in enumerate(views) if not view.step.same]
        if not differing:
            self.notify("No exchange differs." if views else "Nothing replayed yet.")
            return
        start = self._current
        if direction > 0:
            later = [i for i in differing if start is None or i > start]
            target = later[0] if later else None
        else:
            earlier = [i for i in differing if start is not None and i < start]
            target = earlier[-1] if earlier else None
        if target is None:
            self.notify(f"No {'later' if direction > 0 else 'earlier'} exchange differs.")
            return
        if self._current is not None and self._current < len(views):
            views[self._current].remove_class("-current")
        self._current = target
        view = views[target]
        view.add_class("-current")
        results = self.query_one("#replay-results", VerticalScroll)
        results.scroll_to_widget(view, animate=False, top=True)
