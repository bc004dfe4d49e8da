"""The compare view: the sidebar's request sent as 2–4 variants at once, side by side.

Each lane is the base request (prompt pane + sidebar, taken when the view opens) plus
overrides typed as ``FIELD=VALUE,…`` and checked as you type by the same rules as the sidebar
(:mod:`workbench.api.fields` and ``CompletionRequest.validate``). One send streams every lane
(:class:`workbench.compare.runner.CompareRun` in one worker); the text is drawn once per frame
from the runner's buffers. When every lane has ended, the summary ranks them and the run is
appended to the session as one exchange group.

Layout follows the width: ≥ 160 columns every lane side by side, ≥ 100 two per row, narrower
one lane at a time (tab / shift+tab page through them, the strip on top shows where you are).
"""

from __future__ import annotations

import asyncio
import functools
import math
import weakref
from typing import Any, Awaitable, Callable, ClassVar, Sequence

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Label, Static
from textual.worker import Worker, WorkerState

from workbench.api.client import CompletionClient
from workbench.api.request import CompletionRequest
from workbench.compare.diff import changed_words, lane_segments
from workbench.compare.export import render_group
from workbench.compare.metrics import summary_line
from workbench.compare.runner import CompareRun, LaneState
from workbench.compare.variants import MAX_SCREEN_LANES, MIN_LANES, describe
from workbench.ui.compare_lane import LaneView
from workbench.ui.export_screen import ExportScreen
from workbench.ui.key_hints import binding_keys, fill_keys, hint, keymap_of
from workbench.ui.replay_screen import highlighted

# Lanes side by side from this many columns (all of them), two per row from SIDE_BY_SIDE_WIDTH.
ALL_LANES_WIDTH = 160
SIDE_BY_SIDE_WIDTH = 100
# Live speeds in the lane borders are refreshed every this many flushes (text every flush).
STATUS_EVERY = 5
# The run's save waits this long after the frame that shows the last text (see the app's).
AFTER_LAST_FRAME_S = 0.02


def _prompt_summary(prompt: Any) -> str:
    if isinstance(prompt, str):
        first = prompt.strip().splitlines()[0] if prompt.strip() else ""
        return first[:60] + ("…" if len(first) > 60 or "\n" in prompt.strip() else "")
    if isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt):
        return f"batch of {len(prompt)} prompts"
    return "token ids"


class CompareScreen(Screen[None]):
    """Lanes, one send for all, a ranking, a diff of two lanes, an export of them all."""

    HELP = """\
## Compare

Each lane is the sidebar's request plus **overrides** typed as `FIELD=VALUE`, comma-separated
(`model=qwen-3-32b,temperature=0.2`; `seed=` unsets a field; a list as JSON:
`stop=["\\n\\n","END"]`). A lane with a mistake says so under its overrides and nothing is sent.

- **{key:compare.send}** send every lane at once ·
  **{key:compare.cancel}** cancel them all (again: close)
- **{key:compare.cancel_lane}** cancel the focused lane only ·
  **{key:compare.add_lane}** add a lane (a copy of the focused one)
- **{key:compare.remove_lane}** remove the focused lane ·
  **{key:compare.move_left}** / **{key:compare.move_right}** move it ·
  **{key:compare.next_lane}** / **{key:compare.previous_lane}** next / previous lane
- **{key:compare.diff}** word diff of two lanes ·
  **{key:compare.export}** export every lane as one snippet

Each lane shows its text live, then TTFT, client and server tok/s, total time, tokens and finish
reason; the summary ranks the lanes. A lane told to wait (429) says so and retries when the
server asked, while the others go on. Every run is saved in the session as one group.
"""

    DEFAULT_CSS = """
    CompareScreen { background: $background; }
    CompareScreen #compare-header {
        height: 1; padding: 0 1; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis;
    }
    CompareScreen #compare-pages { height: 1; padding: 0 1; display: none; }
    CompareScreen #compare-pages.-paged { display: block; }
    CompareScreen #compare-lanes { height: 1fr; grid-gutter: 0 1; }
    /* Fixed heights: what changes while lanes stream (the pages strip, the summary) must not
       cost a layout pass in the frame that shows a lane's last text. */
    CompareScreen #compare-summary { height: 2; padding: 0 1; text-style: bold; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+j,ctrl+enter,alt+enter", "send", "Send all", id="compare.send", priority=True),
        Binding("escape", "cancel_or_close", "Cancel / close", id="compare.cancel", priority=True),
        Binding("f2", "cancel_lane", "Cancel lane", id="compare.cancel_lane", priority=True),
        Binding("ctrl+n", "add_lane", "Add lane", id="compare.add_lane", priority=True),
        Binding("ctrl+r", "remove_lane", "Remove lane", id="compare.remove_lane", priority=True),
        Binding("alt+left", "move_lane(-1)", "Move left", id="compare.move_left", show=False, priority=True),
        Binding("alt+right", "move_lane(1)", "Move right", id="compare.move_right", show=False, priority=True),
        Binding("tab", "next_lane(1)", "Next lane", id="compare.next_lane", show=False),
        Binding("shift+tab", "next_lane(-1)", "Previous lane", id="compare.previous_lane", show=False),
        Binding("ctrl+g", "diff", "Diff", id="compare.diff", priority=True),
        Binding("f8", "export", "Export", id="compare.export", priority=True),
    ]

    def __init__(
        self,
        base: CompletionRequest | None,
        lanes: Sequence[str],
        *,
        client: CompletionClient,
        flush_hz: float = 20.0,
        base_problem: str | None = None,
        base_url: str | None = None,
        on_run_finished: Callable[[CompareRun], None] | None = None,
        on_close: Callable[[list[str]], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__()
        self.sleep = sleep  # how a lane waits before a retry (tests hold it to see the wait)
        self.base = base
        self.base_problem = base_problem
        self.client = client
        self.flush_hz = flush_hz
        self.base_url = base_url
        self.on_run_finished = on_run_finished
        self.on_close = on_close
        texts = list(lanes)[:MAX_SCREEN_LANES]
        while len(texts) < MIN_LANES:
            texts.append("")
        self._initial = texts
        self.run: CompareRun | None = None
        self._worker: Worker[Any] | None = None
        self._page = 0
        self._ticks = 0
        self._flush_timer: Any = None

    # -- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(self._header(), id="compare-header", markup=False)
        yield Static("", id="compare-pages", markup=False)
        with Grid(id="compare-lanes"):
            for number, text in enumerate(self._initial, start=1):
                yield LaneView(text, number=number)
        yield Static("", id="compare-summary", markup=False)
        yield Footer()

    def _header(self) -> str:
        if self.base is None:
            return f"Compare · {self.base_problem or 'no request'}"
        base = describe({k: v for k, v in _base_values(self.base).items()})
        prompt = _prompt_summary(self.base.prompt)
        return f"Compare · ▶ {prompt} · base: {base}"

    @property
    def lanes(self) -> list[LaneView]:
        return list(self.query(LaneView))

    def on_mount(self) -> None:
        for lane in self.lanes:
            lane.check(self.base)
        self.lanes[0].input.focus()
        self._arrange()
        self._show_summary()

    def on_resize(self, event: events.Resize) -> None:
        self._arrange()

    def _columns(self) -> int:
        count = len(self.lanes)
        width = self.size.width
        if width >= ALL_LANES_WIDTH:
            return count
        if width >= SIDE_BY_SIDE_WIDTH:
            return min(2, count)
        return 1

    @property
    def paged(self) -> bool:
        return self._columns() == 1

    def _arrange(self) -> None:
        lanes = self.lanes
        if not lanes:
            return
        columns = self._columns()
        grid = self.query_one("#compare-lanes", Grid)
        grid.styles.grid_size_columns = columns
        paged = columns == 1
        grid.styles.grid_size_rows = 1 if paged else math.ceil(len(lanes) / columns)
        self._page = min(self._page, len(lanes) - 1)
        for position, lane in enumerate(lanes):
            lane.display = not paged or position == self._page
        self.query_one("#compare-pages").set_class(paged, "-paged")
        self._show_pages()

    def _show_pages(self) -> None:
        if not self.paged:
            return
        strip = Text()
        for position, lane in enumerate(self.lanes):
            status = lane.state.status if lane.state is not None else ""
            mark = {"complete": "✓", "error": "✗", "cancelled": "–", "waiting": "⏳", "streaming": "…"}.get(status, "")
            label = f" {position + 1}{mark} "
            strip.append(label, style="reverse bold" if position == self._page else "")
            strip.append(" ")
        strip.append(hint(self, "{key:compare.next_lane}: next lane"), style="dim")
        self.query_one("#compare-pages", Static).update(strip, layout=False)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # One lane at a time: the page follows the focus (a click, tab, or a lane just added).
        if not self.paged:
            return
        position = self._focused_index()
        if position != self._page:
            self._page = position
            self._arrange()

    def _focused_index(self) -> int:
        focused = self.focused
        for position, lane in enumerate(self.lanes):
            if focused is not None and (focused is lane or lane in focused.ancestors):
                return position
        return self._page

    def _focus_lane(self, position: int) -> None:
        lanes = self.lanes
        position %= len(lanes)
        self._page = position
        self._arrange()
        lanes[position].input.focus()

    # -- editing lanes --------------------------------------------------------------------------

    @on(LaneView.OverridesChanged)
    def _lane_edited(self, event: LaneView.OverridesChanged) -> None:
        event.lane.check(self.base)

    def _refuse_while_running(self) -> bool:
        if self.running:
            self.notify(
                hint(self, "Lanes cannot change while they run: wait, or {key:compare.cancel} to cancel."),
                severity="warning",
            )
            return True
        return False

    async def action_add_lane(self) -> None:
        if self._refuse_while_running():
            return
        lanes = self.lanes
        if len(lanes) >= MAX_SCREEN_LANES:
            self.notify(f"At most {MAX_SCREEN_LANES} lanes here (`workbench compare` takes 8).", severity="warning")
            return
        source = lanes[self._focused_index()]
        lane = LaneView(source.input.value, number=len(lanes) + 1)
        await self.query_one("#compare-lanes", Grid).mount(lane)
        lane.check(self.base)
        self._focus_lane(len(lanes))

    async def action_remove_lane(self) -> None:
        if self._refuse_while_running():
            return
        lanes = self.lanes
        if len(lanes) <= MIN_LANES:
            self.notify(f"A compare needs at least {MIN_LANES} lanes.", severity="warning")
            return
        position = self._focused_index()
        await lanes[position].remove()
        for number, lane in enumerate(self.lanes, start=1):
            lane.renumber(number)
        self._focus_lane(min(position, len(self.lanes) - 1))
        self._show_summary()

    async def action_move_lane(self, step: int) -> None:
        if self._refuse_while_running():
            return
        lanes = self.lanes
        position = self._focused_index()
        target = position + step
        if not 0 <= target < len(lanes):
            return
        grid = self.query_one("#compare-lanes", Grid)
        moving = lanes[position]
        if step < 0:
            grid.move_child(moving, before=lanes[target])
        else:
            grid.move_child(moving, after=lanes[target])
        for number, lane in enumerate(self.lanes, start=1):
            lane.renumber(number)
        self._focus_lane(target)

    def action_next_lane(self, step: int) -> None:
        self._focus_lane(self._focused_index() + step)

    def lane_texts(self) -> list[str]:
        return [lane.input.value for lane in self.lanes]

    # -- sending --------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._worker is not None and self._worker.state in (WorkerState.PENDING, WorkerState.RUNNING)

    def action_send(self) -> None:
        if self.running:
            self.notify(hint(self, "Still running: {key:compare.cancel} cancels."), severity="warning")
            return
        if self.base is None:
            self.notify(f"Not sent: {self.base_problem}", severity="error", markup=False)
            return
        lanes = self.lanes
        requests: list[CompletionRequest] = []
        for position, lane in enumerate(lanes):
            request = lane.check(self.base)
            if request is None:
                self._focus_lane(position)
                self.notify(f"Not sent: lane {position + 1}: {lane.problem}", severity="error", markup=False)
                return
            requests.append(request)
        variants = [lane.variant for lane in lanes]
        run = CompareRun(requests, variants)  # type: ignore[arg-type]
        self.run = run
        for lane, state in zip(lanes, run.lanes):
            lane.start(state)
        self._show_summary()
        self._ticks = 0
        if self._flush_timer is not None:
            self._flush_timer.stop()
        self._flush_timer = self.set_interval(1 / self.flush_hz, self._flush)
        self._worker = self._run_lanes(run)

    def show_run(self, run: CompareRun) -> None:
        """Show a run that has already ended (a recorded one): text, figures and ranking."""
        self.run = run
        for lane, state in zip(self.lanes, run.lanes):
            lane.start(state)
            lane.flush()
            lane.show_state()
        self._show_pages()
        self._show_summary()

    @work(group="compare", exclusive=True, exit_on_error=False, name="compare")
    async def _run_lanes(self, run: CompareRun) -> None:
        await run.run(self.client, sleep=self.sleep, on_change=self._lane_changed)

    def _view_of(self, state: LaneState) -> LaneView | None:
        for lane in self.lanes:
            if lane.state is state:
                return lane
        return None

    def _lane_changed(self, state: LaneState) -> None:
        """A lane started, waits, or ended: its border and (when over) its figures now."""
        view = self._view_of(state)
        if view is None:
            return
        if state.done:
            view.flush()
        view.show_state()
        self._show_pages()
        self._show_summary()

    def _flush(self) -> None:
        # A key just arrived: this frame is the key's (as in the main transcript, see
        # docs/benchmarks.md "key latency while streaming"); the text follows next tick.
        key_just_pressed = getattr(self.app, "_key_just_pressed", None)
        if key_just_pressed is not None and key_just_pressed():
            return
        self._ticks += 1
        status = self._ticks % STATUS_EVERY == 0
        for lane in self.lanes:
            lane.flush()
            if status and lane.state is not None and lane.state.status == "streaming":
                lane.show_state()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._worker or event.state not in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            return
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        run = self.run
        for lane in self.lanes:
            # Lanes that ended were drawn when they did (_lane_changed); only the rest now.
            if lane.state is not None and not lane.state.done:
                lane.flush()
                lane.show_state()
        self._show_pages()
        self._show_summary()
        if event.state == WorkerState.ERROR:
            self.notify(f"Compare stopped: {event.worker.error}", severity="error", markup=False)
        if run is not None and self.on_run_finished is not None:
            # The save waits until the frame with the last text is on screen (it takes the
            # GIL for tens of ms; docs/benchmarks.md, display lag), as in the main transcript.
            self.call_after_refresh(self.set_timer, AFTER_LAST_FRAME_S, functools.partial(self.on_run_finished, run))

    def _show_summary(self) -> None:
        summary = self.query_one("#compare-summary", Static)
        run = self.run
        if run is None:
            summary.update(
                Text(hint(self, "{key:compare.send} sends every lane at once · {key:help} help"), style="dim"),
                layout=False,
            )
            return
        done = sum(lane.done for lane in run.lanes)
        if done < len(run.lanes):
            waiting = [str(l.index + 1) for l in run.lanes if l.status == "waiting"]
            extra = f" · lane {', '.join(waiting)} waiting to retry" if waiting else ""
            summary.update(Text(f"running: {done} of {len(run.lanes)} lanes done{extra}"), layout=False)
            return
        summary.update(Text("Ranking · " + summary_line(run.lanes)), layout=False)

    # -- cancelling and closing ---------------------------------------------------------------

    def action_cancel_or_close(self) -> None:
        if self.running and self.run is not None:
            self.run.cancel_all()
            return
        if self.on_close is not None:
            self.on_close(self.lane_texts())
        self.dismiss(None)

    def action_cancel_lane(self) -> None:
        if not self.running or self.run is None:
            return
        state = self.lanes[self._focused_index()].state
        if state is not None and self.run.cancel(state.index):
            self.notify(f"Lane {self._focused_index() + 1} cancelled.")

    # -- diff and export -----------------------------------------------------------------------

    def action_diff(self) -> None:
        states = [lane.state for lane in self.lanes if lane.state is not None]
        if len(states) < 2:
            self.notify("Send first: the diff compares two lanes' text.", severity="warning")
            return
        left = min(self._focused_index(), len(states) - 1)
        right = (left + 1) % len(states)
        self.app.push_screen(LaneDiffScreen(states, left, right))

    def action_export(self) -> None:
        if self.base is None:
            self.notify(f"Nothing to export: {self.base_problem}", severity="warning", markup=False)
            return
        requests = []
        for position, lane in enumerate(self.lanes):
            request = lane.check(self.base)
            if request is None:
                self.notify(f"Lane {position + 1}: {lane.problem}", severity="error", markup=False)
                return
            requests.append(request)
        labels = [f"lane {n} · {lane.variant.title}" for n, lane in enumerate(self.lanes, start=1)]  # type: ignore[union-attr]
        self.app.push_screen(GroupExportScreen(requests, labels, self.base_url))


def _base_values(request: CompletionRequest) -> dict[str, Any]:
    from workbench.api.fields import request_values

    values = request_values(request)
    values.pop("stream", None)
    return values


class LaneDiffScreen(ModalScreen[None]):
    """Two lanes' text side by side, changed words highlighted (the replay diff's engine).
    Press two lane numbers to compare another pair."""

    DEFAULT_CSS = """
    LaneDiffScreen { align: center middle; }
    LaneDiffScreen > #diff-dialog {
        width: 95%; height: 90%; border: round $primary; background: $surface; padding: 0 1;
    }
    LaneDiffScreen #diff-title { height: 1; text-style: bold; }
    LaneDiffScreen #diff-body { height: 1fr; }
    LaneDiffScreen Horizontal { height: auto; }
    LaneDiffScreen .side { width: 1fr; height: auto; border: round $panel; padding: 0 1; }
    LaneDiffScreen #diff-hint { height: 1; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="compare_diff.close"),
        *(Binding(str(n), f"pick({n - 1})", show=False) for n in range(1, 9)),
    ]

    def __init__(self, lanes: Sequence[LaneState], left: int, right: int) -> None:
        super().__init__()
        self.states = list(lanes)
        self.left = left
        self.right = right
        self._picked: int | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="diff-dialog"):
            yield Label("", id="diff-title", markup=False)
            with VerticalScroll(id="diff-body"):
                with Horizontal():
                    yield Static("", id="diff-left", classes="side")
                    yield Static("", id="diff-right", classes="side")
            yield Label(self._pair_hint(), id="diff-hint", markup=False)

    def _pair_hint(self) -> str:
        return f"press two lane numbers (1–{len(self.states)}) to compare another pair" + hint(
            self, " · {key:compare_diff.close} close"
        )

    def on_mount(self) -> None:
        self._show()

    def _show(self) -> None:
        left, right = self.states[self.left], self.states[self.right]
        before, after = lane_segments(left, right)
        changed = changed_words(before) + changed_words(after)
        verdict = "the same" if before == after else f"{changed} words differ"
        self.query_one("#diff-title", Label).update(
            f"Lane {self.left + 1} ↔ lane {self.right + 1}: {verdict}"
        )
        for side, state, segments in (("left", left, before), ("right", right, after)):
            widget = self.query_one(f"#diff-{side}", Static)
            widget.update(highlighted(segments))  # type: ignore[arg-type]
            widget.border_title = f"{state.index + 1} · {state.variant.title} · {state.status}"

    def action_pick(self, position: int) -> None:
        if position >= len(self.states):
            return
        if self._picked is None:
            self._picked = position
            self.query_one("#diff-hint", Label).update(f"lane {position + 1} ↔ which lane?")
            return
        if position != self._picked:
            self.left, self.right = self._picked, position
            self._show()
        self._picked = None
        self.query_one("#diff-hint", Label).update(self._pair_hint())

    def action_close(self) -> None:
        self.dismiss(None)


class GroupExportScreen(ExportScreen):
    """The export dialog for every lane at once: one snippet that sends all the variants."""

    def __init__(self, requests: Sequence[CompletionRequest], labels: Sequence[str], base_url: str | None) -> None:
        super().__init__(requests[0], base_url, title=f"Export {len(requests)} compare lanes")
        self.requests = list(requests)
        self.labels = list(labels)

    @property
    def snippet(self) -> str:
        return render_group(self.requests, self.format, self.base_url, self.labels)


# -- opening from the app ----------------------------------------------------------------------

# The lanes of the last compare, per app, so closing and reopening the view keeps them.
_LAST_LANES: weakref.WeakKeyDictionary[Any, list[str]] = weakref.WeakKeyDictionary()


def default_lanes(base: CompletionRequest | None, models: Sequence[str]) -> list[str]:
    """The sidebar's request, and the same with another model when one is known."""
    current = base.model if base is not None else ""
    other = next((m for m in models if m and m != current), None)
    return ["", f"model={other}" if other else "temperature=1"]


def open_compare(app: Any) -> None:
    """Open the compare view on the app's prompt and sidebar (``WorkbenchApp.action_compare``)."""
    from workbench.compare.saving import append_group
    from workbench.ui.prompt_forms import parse_prompt

    pane = app.prompt_pane
    base: CompletionRequest | None = None
    problem: str | None = None
    parsed = parse_prompt(pane.text, pane.form)
    if not pane.text.strip():
        # The screen is not built yet: its keys are read from its class, after the keymap.
        problem = fill_keys(
            "write a prompt first ({key:compare.cancel}, type it in the prompt pane, open compare again)",
            binding_keys(CompareScreen.BINDINGS, keymap_of(app)),
        )
    elif not parsed.ok:
        problem = f"the prompt is not valid: {parsed.error}"
    else:
        request, errors = app.sidebar.build_request(parsed.prompt)
        unparsable = [e for e in errors if "must be a" in e.message and e.field != "prompt"]
        if unparsable:
            problem = "fix the sidebar first: " + "; ".join(str(e) for e in unparsable)
        else:
            base = request
    lanes = _LAST_LANES.get(app) or default_lanes(base, getattr(app.sidebar, "models", ()))

    def remember(texts: list[str]) -> None:
        _LAST_LANES[app] = texts

    def save(run: CompareRun) -> None:
        session = app.session

        def append_and_save() -> Any:
            append_group(session, run)
            return app.store.save(session)

        def saved(future: Any) -> None:
            if future.cancelled():
                return
            if future.exception() is not None:
                app.notify(f"Compare not saved: {future.exception()}", severity="error", markup=False)
                return
            app.notify(
                f"Compare run saved in the session as one group of {len(run.lanes)} lanes.",
                timeout=3,
                markup=False,
            )

        app.saves.submit(append_and_save).add_done_callback(saved)

    app.push_screen(
        CompareScreen(
            base,
            lanes,
            client=app.client,
            flush_hz=app.flush_hz,
            base_problem=problem,
            base_url=None if app.offline else app.endpoint.base_url,
            on_run_finished=save,
            on_close=remember,
        )
    )
