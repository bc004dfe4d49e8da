"""The workbench app: composes the panes, owns the bindings, runs requests, autosaves.

Layout::

    ┌ transcript (exchanges, live) ─────────────┐┌ parameters ┐
    │                                           ││ model …    │
    ├ prompt (text / batch / token ids) ────────┤│            │
    └───────────────────────────────────────────┘└────────────┘
     status: endpoint or OFFLINE SIMULATOR · model · tok/s · quota · sparkline
     footer: keys

Requests run in one exclusive worker (group "request"); how it ends — success, error,
cancellation — is handled in one place, :meth:`on_worker_state_changed`, which finishes the
exchange in the transcript and appends it to the session file.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import os
import shlex
import subprocess
import tempfile
import time
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer, TextArea
from textual.worker import Worker, WorkerState

from workbench import paths
from workbench.api.timeouts import Timeouts
from workbench.api.endpoint import Endpoint
from workbench.api.request import CompletionRequest
from workbench.api.types import CompletionResult, RateLimits
from workbench.config import Config, ConfigProblem
from workbench.sessions.model import Exchange, Session
from workbench.sessions.store import SaveResult, SessionStore
from workbench.themes_format import persist_theme_choice
from workbench.ui.bindings import ACTION_NAMES, ACTION_TITLES, APP_BINDINGS
from workbench.ui.continuation import continued_prompt
from workbench.ui.exchange_run import (
    DEFAULT_CHARS_PER_TOKEN,
    ExchangeRun,
    chars_per_token,
    error_message,
)
from workbench.ui.exchange_view import ExchangeView
from workbench.ui.key_hints import hint, use_keymap
from workbench.ui.metrics_format import rate_limit_summary
from workbench.ui.prompt_forms import parse_prompt, text_for_editor, text_from_editor
from workbench.ui.prompt_gauge import PromptDraft
from workbench.ui.prompt_history import recent_session_prompts
from workbench.ui.probability_legend import ProbabilityLegend
from workbench.ui.prompt_pane import PromptPane
from workbench.ui.save_queue import SaveQueue
from workbench.ui.sidebar import ParameterSidebar
from workbench.ui.status_bar import StatusBar
from workbench.ui.themes import (
    ThemeChosen,
    initial_theme_name,
    open_theme_picker,
    register_builtin_themes,
    register_themes,
)
from workbench.ui.transcript import Transcript

if TYPE_CHECKING:
    from workbench.api.client import CompletionClient

# Transcript flushes per second while streaming. Each one costs a full frame (layout and
# redraw of the visible transcript, 10-20 ms on the benchmark machine), so 60 a second kept
# the UI thread busy and key presses waited behind frames (median 40-60 ms); 20 a second
# leaves room for keys (median ≈4 ms) with the same CPU. The last text is drawn at once
# whatever the rate. Over SSH fewer, larger updates also cut the bytes sent to the terminal
# (design.md: "lower flush rate while streaming"). It was 10: that cut the bytes to 0.24 MB per
# 20,000 tokens but put the last token ~22 ms behind (1.9x the plain-Textual reference); at 15
# it is 0.84x, with 0.42 MB (the target is 0.6) — docs/benchmarks.md, 2026-12-01.
LOCAL_FLUSH_HZ = 20.0
SSH_FLUSH_HZ = 15.0
# The start-up work that the first screen does not need runs this long after the first frame.
SETTLE_S = 0.25
# How long after a key press the stream's flushes wait, so the key is drawn first.
KEY_HOLD_S = 0.012
# The end-of-stream work waits this long after the frame with the last text, so the thread
# writing that frame to the terminal is not kept waiting for the GIL.
AFTER_LAST_FRAME_S = 0.02

OFFLINE_HINT = "Offline simulator (made-up text). Real API: export CEREBRAS_API_KEY=… and restart."


def sentence(text: str) -> str:
    """``text`` ended with one period: a title or message that already ends a sentence is not
    given a second one (a toast used to read "… night.." for a title ending in a period)."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?", "…")) else text + "."


class MainScreen(Screen[None]):
    """The app's own screen. Where focus lands when nothing has it (at start, and when a
    browser tab or terminal window regains focus before the app's own focus call): the prompt,
    not the first field of the sidebar, so text typed early goes where the user expects it.
    (Set here, not on the app: the app's AUTO_FOCUS would apply to every other screen too.)"""

    AUTO_FOCUS = "#prompt-editor"


class WorkbenchApp(App[None]):
    """The TUI. Give it an endpoint; ``offline=True`` marks it as the built-in simulator."""

    CSS_PATH = "app.tcss"
    TITLE = "workbench"
    BINDINGS = [
        *APP_BINDINGS,
        Binding(
            "shift+pageup", "transcript_page(-1)", "Transcript page up", show=False, id="transcript.page_up"
        ),
        Binding(
            "shift+pagedown",
            "transcript_page(1)",
            "Transcript page down",
            show=False,
            id="transcript.page_down",
        ),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    main_screen: MainScreen
    """The screen with the panes (made by :meth:`get_default_screen`)."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        offline: bool = False,
        profile: str | None = None,
        config: Config | None = None,
        config_problems: Iterable[ConfigProblem] = (),
        sessions_dir: Path | None = None,
        ssh: bool = False,
        timeouts: Timeouts | None = None,
        max_retries: int = 2,
        model: str | None = None,
        fetch_models: bool = True,
    ) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.offline = offline
        self.profile_name = profile
        self.config = config or Config()
        self.config_problems = list(config_problems)
        self.ssh = ssh
        self.flush_hz = SSH_FLUSH_HZ if ssh else LOCAL_FLUSH_HZ
        # Snapshot tests turn this off: no network, so the screen is the same on every run.
        self.fetch_models = fetch_models
        if ssh:
            self.animation_level = "none"
        self._timeouts = timeouts or Timeouts()
        self._max_retries = max_retries
        self._client: CompletionClient | None = None
        defaults = dict(self.config.defaults)
        profile_config = self.config.profile(profile)
        if profile_config is not None and profile_config.model:
            defaults["model"] = profile_config.model
        if model:
            defaults["model"] = model
        self.parameter_defaults = defaults
        self.sessions_dir = sessions_dir or self.config.sessions_dir or paths.sessions_dir()
        self.store = SessionStore(self.sessions_dir)
        self.saves = SaveQueue()
        self.session = self._new_session()
        self._runs: dict[Worker[Any], ExchangeRun] = {}
        self._active_run: ExchangeRun | None = None
        self._chars_per_token = DEFAULT_CHARS_PER_TOKEN
        self._speed_timer: Timer | None = None
        self._last_key_at = 0.0
        # True while a session is being opened (its exchanges drawn): nothing is sent meanwhile.
        self._opening_session = False
        if self.config.keymap:
            use_keymap(self, self.config.keymap)
        # Textual's other themes are registered after the first frame (_after_first_frame).
        self.theme_problems = register_themes(self, builtins=(self.config.theme or "",))
        self.theme = initial_theme_name(self.config.theme, self.available_themes)

    @property
    def client(self) -> CompletionClient:
        """The API client, made on first use. Its module brings httpx (≈50 ms of imports),
        which the first frame does not need: it is imported in a thread once the app is on
        screen (:meth:`load_models`), or here if something needs it sooner."""
        if self._client is None:
            from workbench.api.client import CompletionClient

            self._client = CompletionClient(
                self.endpoint,
                timeouts=self._timeouts,
                max_retries=self._max_retries,
                on_retry=self._announce_retry,
            )
        return self._client

    async def _tokenize(self, text: str) -> list[int] | None:
        """The status bar's prompt counter asks the endpoint's tokenizer (through the client)."""
        return await self.client.tokenize(text)

    # -- layout -------------------------------------------------------------------------------

    def get_default_screen(self) -> Screen[None]:
        self.main_screen = MainScreen(id="_default")
        return self.main_screen

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="work"):
                yield Transcript(OFFLINE_HINT if self.offline else "", id="transcript")
                yield ProbabilityLegend()
                yield PromptPane(id="prompt")
            yield ParameterSidebar(self.parameter_defaults, id="sidebar")
        yield StatusBar(id="status")
        yield Footer()

    # The panes are found on the main screen, not the active one: a reply (the model list, a
    # stream's end) can arrive while the session browser or the compare view is open.

    @property
    def transcript(self) -> Transcript:
        return self.main_screen.query_one(Transcript)

    @property
    def prompt_pane(self) -> PromptPane:
        return self.main_screen.query_one(PromptPane)

    @property
    def sidebar(self) -> ParameterSidebar:
        return self.main_screen.query_one(ParameterSidebar)

    @property
    def status_bar(self) -> StatusBar:
        return self.main_screen.query_one(StatusBar)

    async def on_mount(self) -> None:
        status = self.status_bar
        status.offline = self.offline
        where = self.endpoint.host
        status.endpoint = f"{self.profile_name} · {where}" if self.profile_name else where
        status.model = self.sidebar.model
        status.tokenizer = self._tokenize
        status.measure_prompt(self._prompt_draft)
        for theme_problem in self.theme_problems:
            self._tell(str(theme_problem), title="Theme not loaded", severity="warning")
        for problem in self.config_problems:
            self._tell(
                str(problem),
                title="Config problem (using defaults)",
                severity="warning",
                timeout=12,
            )
        self.prompt_pane.editor.focus()
        self.prompt_pane.older_prompts = self._recent_prompts
        self.call_after_refresh(self._after_first_frame)

    def _after_first_frame(self) -> None:
        """What the first screen does not need waits (docs/benchmarks.md, startup): keys typed
        while the app started are drawn before the rest of the set-up runs."""
        # Everything built so far (modules, widgets, styles) lives as long as the app: moved out
        # of the collector's sight, a full collection during a stream scans only what the stream
        # made (measured: 45-75 ms pauses every ~0.8 s otherwise, docs/benchmarks.md).
        gc.freeze()
        # The TUI's entry point turns the collector off while the app is built (workbench.cli.tui):
        # nothing built before the first frame is garbage.
        gc.enable()
        if self.fetch_models:
            # Right after the first frame, not before it: opening the HTTP client (httpx's
            # transport, its imports) held the first frame back by ~40 ms. Still at once: with
            # no model configured the first model listed becomes the default.
            self.load_models()
        self.set_timer(SETTLE_S, self._settle)

    def _settle(self) -> None:
        # Deriving the variables of Textual's own themes takes ~30 ms: after the first keys.
        register_builtin_themes(self)
        # The sidebar's editors and the themes were built after the first frame: they live as
        # long as the app too, so out of the collector's sight with the rest.
        self._freeze_lasting_objects()

    def _freeze_lasting_objects(self) -> None:
        """gc.freeze() what start-up built (see _after_first_frame) — unless a request is
        already running, whose garbage must stay collectable."""
        if not self._runs:
            gc.freeze()

    async def on_unmount(self) -> None:
        await self.saves.drain()  # no save is lost when the app closes
        if self._client is not None:
            await self._client.aclose()

    def _new_session(self) -> Session:
        """An empty session, autosaved with the first exchange. Offline sessions say so (the
        simulator's port changes every run, so its URL would mean nothing later)."""
        if self.offline:
            return Session.new(title="", profile="offline simulator", base_url=None)
        return Session.new(title="", profile=self.profile_name, base_url=self.endpoint.base_url)

    # -- input first --------------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self._last_key_at = time.monotonic()
        await super().on_event(event)

    def _key_just_pressed(self) -> bool:
        """A key arrived moments ago: the stream's next flush waits a tick, so the frame that
        shows the key is a cheap one (docs/benchmarks.md: key latency while streaming)."""
        return time.monotonic() - self._last_key_at < KEY_HOLD_S

    # -- models -------------------------------------------------------------------------------

    @work(group="models", exclusive=True, exit_on_error=False)
    async def load_models(self) -> None:
        """Fill the model list from /v1/models; the seed list stays when that fails."""
        # The client's imports run in a thread, so keys typed meanwhile are still drawn.
        await asyncio.to_thread(import_module, "workbench.api.client")
        self._freeze_lasting_objects()  # the modules just imported stay for good
        models = await self.client.list_models()
        if models and self._main_panes_present():
            self.sidebar.set_models(tuple(models), live=True)

    def _main_panes_present(self) -> bool:
        """False once the app, closing, has taken its widgets down (a late reply is dropped)."""
        return bool(self.main_screen.query(ParameterSidebar))

    # -- sending ------------------------------------------------------------------------------

    def action_send(self) -> None:
        self._after_pending_input(self._send_prompt)

    def _after_pending_input(self, callback: Callable[[], Any]) -> None:
        """Run ``callback`` once the focused widget has handled every key queued before now.

        Our bindings have priority (they must beat the editor's own ctrl+e, ctrl+y …), so the
        app runs them as soon as the key arrives, while keys typed just before it may still
        wait in the editor's queue: a paste or a fast burst would send a stale prompt.
        Queuing the action behind them keeps the user's order.
        """
        target = self.focused or self.screen
        target.call_later(callback)

    async def _send_prompt(self) -> None:
        if self._refuse_while_busy():
            return
        parsed = self.prompt_pane.parse()
        if not parsed.ok:
            self.prompt_pane.editor.focus()
            self.bell()
            return
        request = self._sidebar_request(parsed.prompt)  # type: ignore[arg-type]
        if request is not None:
            self.prompt_pane.remember(request.prompt)
            await self.start_request(request)

    def _sidebar_request(self, prompt: Any) -> CompletionRequest | None:
        """``prompt`` with the parameters the sidebar shows, or None (and the broken rules
        shown where they belong) when it cannot be sent."""
        request, errors = self.sidebar.build_request(prompt)
        prompt_errors = [e.message for e in errors if e.field == "prompt"]
        if prompt_errors:
            self.prompt_pane.show_error("; ".join(prompt_errors))
        field_errors = [e for e in errors if e.field != "prompt"]
        if field_errors:
            self.sidebar.reveal_field(field_errors[0].field)
            self._tell(
                "Not sent: " + "; ".join(str(e) for e in field_errors),
                title="Fix the highlighted parameters",
                severity="error",
            )
        return None if errors else request

    def _refuse_while_busy(self) -> bool:
        """A send, continue or regenerate that would replace a running request (or race a
        session being opened) is refused with a message, never silently (issue 9: a second
        send used to cancel the stream without a word)."""
        if self._opening_session:
            self._tell("Still opening the session: send again once its exchanges are shown.")
            return True
        if self._active_run is not None:
            self._tell(
                f"A request is still running: press {self._key_for('cancel')} to cancel it, "
                "then send again.",
                title="Not sent",
                severity="warning",
            )
            return True
        return False

    def _key_for(self, binding_id: str) -> str:
        """The key that runs ``binding_id`` now (the config's keymap over the default)."""
        for binding in APP_BINDINGS:
            if binding.id == binding_id:
                return self.config.keymap.get(binding_id, binding.key).split(",")[0]
        return binding_id

    async def start_request(self, request: CompletionRequest) -> ExchangeView:
        """Show a new exchange and send ``request`` (any request still running is cancelled)."""
        view = await self.transcript.start_exchange(
            request, flush_hz=self.flush_hz, hold=self._key_just_pressed
        )
        self.transcript.scroll_end(animate=False)
        run = ExchangeRun(
            request,
            view,
            on_response=self._show_rate_limits,
            session=self.session,
            chars_per_token=self._chars_per_token,
        )
        worker = self._run_request(run)
        self._runs[worker] = run
        self._active_run = run
        self.status_bar.model = request.model
        if self._speed_timer is not None:
            self._speed_timer.stop()
        self._speed_timer = self.set_interval(0.25, self._show_live_speed)
        return view

    @work(group="request", exclusive=True, exit_on_error=False, name="request")
    async def _run_request(self, run: ExchangeRun) -> CompletionResult:
        return await run.execute(self.client)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place a request's end is handled: complete, failed or cancelled."""
        worker = event.worker
        if worker.group == "models":
            if event.state == WorkerState.ERROR and self._main_panes_present():
                self.sidebar.models_unavailable(error_message(worker.error))  # type: ignore[arg-type]
            return
        if worker not in self._runs or event.state not in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            return
        run = self._runs.pop(worker)
        run.mark_finished()
        error: str | None = None
        failure: BaseException | None = None
        if event.state == WorkerState.SUCCESS:
            status, result = "complete", worker.result
        elif event.state == WorkerState.CANCELLED:
            status, result = "cancelled", run.partial()
        else:
            failure = worker.error
            status = "error"
            error = error_message(failure) if failure is not None else "failed"
            result = getattr(failure, "partial", None) or run.partial()
            self._point_at_field(failure)
        # Draw the last text first (docs/benchmarks.md: display lag); the outcome, the final
        # rendering and the save follow once that frame is on screen.
        if run.view.is_attached:  # not when the transcript was cleared meanwhile
            run.view.flush()
        self.call_after_refresh(
            self.set_timer,
            AFTER_LAST_FRAME_S,
            functools.partial(self._complete_run, run, status, result, error, failure),
        )

    def _complete_run(
        self,
        run: ExchangeRun,
        status: str,
        result: CompletionResult | None,
        error: str | None,
        failure: BaseException | None = None,
    ) -> None:
        if run.view.is_attached:  # not when the transcript was cleared meanwhile
            run.view.finish(status, result, error=error, render=self.final_renderer())
        if run is self._active_run:
            self._active_run = None
            if self._speed_timer is not None:
                self._speed_timer.stop()
            self.status_bar.live_rate = None
        if result is not None:
            self._chars_per_token = chars_per_token(result) or self._chars_per_token
            self.status_bar.show_speed_of(result.metrics)
            self._show_rate_limits(result.rate_limits)
        self._autosave(run, status, result, error, failure)

    def _point_at_field(self, failure: BaseException | None) -> None:
        """A 400 that names a request field (``param``) is also shown on that field."""
        param = getattr(failure, "param", None)
        message = getattr(failure, "message", None)
        if message:
            self.sidebar.show_server_error(param, message)

    def final_renderer(self) -> Callable[[str], Any] | None:
        """How finished text is drawn: code fences highlighted in the current theme's style."""
        from workbench.ui.final_render import renderer_for  # pygments: not needed to start

        return renderer_for(self)

    def _announce_retry(self, attempt: int, delay_s: float, reason: str) -> None:
        """A retry wait long enough to notice is said, so a 60 s Retry-After is not a hang."""
        from workbench.api.client import ANNOUNCE_RETRY_AFTER_S, retry_notice

        if delay_s >= ANNOUNCE_RETRY_AFTER_S:
            self._tell(
                retry_notice(attempt, delay_s, reason, self.client.policy.max_retries + 1),
                title="Waiting to retry",
                severity="warning",
                timeout=max(3.0, min(delay_s, 30.0)),
            )

    def _tell(self, message: str, **options: Any) -> None:
        """A notification whose text is shown as it is: config keys like ``[defaults]``, file
        names and server messages are not Textual markup."""
        self.notify(message, markup=False, **options)

    def _show_live_speed(self) -> None:
        run = self._active_run
        self.status_bar.live_rate = run.live_rate if run is not None else None

    def _show_rate_limits(self, limits: RateLimits | None) -> None:
        summary = rate_limit_summary(limits)
        if summary:
            self.status_bar.quota = summary

    def _autosave(
        self,
        run: ExchangeRun,
        status: str,
        result: CompletionResult | None,
        error: str | None,
        failure: BaseException | None = None,
    ) -> None:
        """Append the exchange to its session and write the file, off the UI thread."""
        session = run.session
        exchange_of = functools.partial(
            Exchange.from_outcome,
            run.request,
            result,
            status=status,
            error=error,
            started_at=run.started_at,
            finished_at=run.finished_at,
            # The HTTP status and the server's own words, so replay --check compares errors
            # by what the server said rather than by how the app phrased it.
            failure=failure,
        )

        def append_and_save() -> SaveResult:
            session.exchanges.append(exchange_of())
            return self.store.save(session)

        self.saves.submit(append_and_save).add_done_callback(
            functools.partial(self._saved, failed="Autosave failed", done=None)
        )

    def _saved(
        self, future: asyncio.Future[SaveResult], *, failed: str, done: str | None
    ) -> None:
        """A queued save ended: report a failure (the screen keeps everything) or a merge."""
        if future.cancelled():
            return
        failure = future.exception()
        if failure is not None:
            self._tell(sentence(f"{failed}: {failure}"), severity="error", timeout=10)
            return
        saved = future.result()
        if done is not None:
            self._tell(done.format(path=saved.path))
        self._report_merge(saved)

    def _report_merge(self, saved: SaveResult) -> None:
        """Another window appended to this session's file: say so (the file has them all)."""
        if saved.merged_from_disk:
            self._tell(
                f"{saved.merged_from_disk} exchange(s) added by another window were kept in "
                f"{saved.path.name}; "
                + hint(self, "open it again ({key:sessions}) to see them here."),
                timeout=10,
            )

    # -- other actions ------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While another screen (sessions, replay, help, logprobs …) is open its own keys win;
        # only F1 stays, so every screen gets help for what has focus there.
        if len(self.screen_stack) > 1 and action in ACTION_NAMES:
            from workbench.ui.help_screen import HelpScreen

            return action == "help" and not isinstance(self.screen, HelpScreen)
        if action == "cancel":
            return self._active_run is not None
        return True

    def action_cancel(self) -> None:
        self.workers.cancel_group(self, "request")

    async def action_continue(self) -> None:
        if self._refuse_while_busy():
            return
        last = self.transcript.last
        if last is None:
            self._tell("Nothing to continue yet.", severity="warning")
            return
        choices = [view for _, view in sorted(last.choices.items())]
        tokens = None
        if last.result is not None:
            by_index = {c.index: c.tokens for c in last.result.choices}
            tokens = [by_index.get(view.index) for view in choices]
        prompt = continued_prompt(
            last.request.prompt, [view.completion_text for view in choices], tokens
        )
        if prompt is None:
            self._tell(
                "Cannot continue a token-id prompt whose output came back as text.",
                severity="warning",
            )
            return
        self.prompt_pane.load_prompt(prompt)
        await self._send_prompt()

    async def action_regenerate(self) -> None:
        """The last exchange's prompt again, with the parameters the sidebar shows now (what
        is on screen is what is sent), appended as a new exchange."""
        if self._refuse_while_busy():
            return
        last = self.transcript.last
        if last is None:
            self._tell("Nothing to regenerate yet.", severity="warning")
            return
        request = self._sidebar_request(last.request.prompt)
        if request is None:
            return
        await self.start_request(request)
        self._tell(
            f"Regenerated as exchange {len(self.transcript.exchanges)}; "
            "the earlier one stays above it."
        )

    async def action_clear(self) -> None:
        self.action_cancel()
        await self.transcript.clear()
        self.session = self._new_session()
        self.status_bar.show_session(())
        self._tell("Transcript cleared; new session started.")

    def action_copy(self) -> None:
        last = self.transcript.selected
        text = last.completion_text if last is not None else ""
        if not text:
            self._tell("No completion to copy yet.", severity="warning")
            return
        self.copy_to_clipboard(text)
        self._tell(f"Copied {len(text):,} characters.")

    def action_edit(self) -> None:
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        original = self.prompt_pane.text
        with tempfile.NamedTemporaryFile(
            "w", suffix=".txt", prefix="workbench-prompt-", delete=False, encoding="utf-8"
        ) as handle:
            handle.write(text_for_editor(original))
            path = Path(handle.name)
        try:
            with self.suspend():
                subprocess.run([*shlex.split(editor), str(path)], check=False)
            edited = path.read_text(encoding="utf-8")
            self.prompt_pane.text = text_from_editor(original, edited)
        except Exception as failure:  # noqa: BLE001 - SuspendNotSupported, missing editor …
            self._tell(
                sentence(f"Could not run the editor {editor!r}: {failure}"), severity="error"
            )
        finally:
            path.unlink(missing_ok=True)
        self.refresh()

    def action_toggle_sidebar(self) -> None:
        sidebar = self.sidebar
        focused = self.focused
        if sidebar.display and focused is not None and sidebar in focused.ancestors:
            # Focus must not vanish with the sidebar: give it to the prompt.
            self.prompt_pane.editor.focus()
        sidebar.display = not sidebar.display

    def action_focus_pane(self, step: int) -> None:
        """Move focus between the prompt, the transcript and the sidebar (when shown)."""
        panes: list[tuple[Widget, Widget]] = [
            (self.prompt_pane, self.prompt_pane.editor),
            (self.transcript, self.transcript),
        ]
        if self.sidebar.display:
            panes.append((self.sidebar, self.sidebar.first_control))
        focused = self.focused
        current = 0
        if focused is not None:
            for position, (container, _) in enumerate(panes):
                if container is focused or container in focused.ancestors:
                    current = position
        panes[(current + step) % len(panes)][1].focus()

    def action_save(self) -> None:
        # Through the save queue: after any autosave still running, never at the same time.
        session = self.session
        self.saves.submit(lambda: self.store.save(session)).add_done_callback(
            functools.partial(self._saved, failed="Save failed", done="Session saved to {path}.")
        )

    def action_sessions(self) -> None:
        from workbench.ui.session_browser import SessionBrowser

        browser = SessionBrowser(self.store, new_session=self._new_session, client=self.client)
        self.push_screen(browser, self._load_session)

    async def _load_session(self, session: Session | None) -> None:
        """Open ``session`` as one step: the prompt, the sidebar and the status bar show what the
        next send will use before anything is awaited, and nothing is sent until its exchanges
        are drawn (issue 9: a regenerate pressed meanwhile sent the old request)."""
        if session is None:
            return
        self.action_cancel()
        self.session = session
        for exchange in session.exchanges:
            self.prompt_pane.remember(exchange.request.prompt)
        if session.exchanges:
            request = session.exchanges[-1].request
            self.prompt_pane.load_prompt(request.prompt)
            self.sidebar.show_request(request)
        self.status_bar.model = self.sidebar.model
        self.status_bar.show_session(exchange.metrics for exchange in session.exchanges)
        self._opening_session = True
        try:
            await self._show_recorded_exchanges(session)
        finally:
            self._opening_session = False
        self._tell(sentence(f"Loaded session {session.display_title}"))

    async def _show_recorded_exchanges(self, session: Session) -> None:
        await self.transcript.clear()
        render = self.final_renderer()
        for exchange in session.exchanges:
            result = CompletionResult(
                id=exchange.response_id,
                model=exchange.response_model,
                choices=list(exchange.choices),
                usage=exchange.usage,
                time_info=exchange.time_info,
            )
            if exchange.metrics is not None:
                result.metrics = exchange.metrics
            await self.transcript.show_recorded(
                exchange.request,
                result,
                exchange.status,
                exchange.error,
                render,
                started_at=exchange.started_at,
            )

    def _recent_prompts(self) -> list[Any]:
        """Prompts of recent sessions other than this one, oldest first. Runs in a thread: the
        prompt pane asks for them the first time alt+up goes past what it has."""
        return recent_session_prompts(self.store, exclude=self.session.id)

    def action_change_theme(self) -> None:
        """ctrl+p "Change theme": the picker previews each theme as it is highlighted."""
        open_theme_picker(self)

    def on_theme_chosen(self, message: ThemeChosen) -> None:
        try:
            persist_theme_choice(self.config.path or paths.config_file(), message.name)
        except Exception as failure:  # noqa: BLE001 - the theme still applies for this run
            self._tell(sentence(f"Theme not saved: {failure}"), severity="warning")

    def action_help(self) -> None:
        from workbench.ui.help_screen import help_screen_for  # Markdown: not needed to start

        self.push_screen(help_screen_for(self, APP_BINDINGS, ACTION_TITLES))

    def action_prompt_form(self) -> None:
        self.prompt_pane.cycle_form()

    def action_logprobs(self) -> None:
        """The token inspector on the exchange under the transcript's cursor (else the last)."""
        selected = self.transcript.selected
        if selected is None:
            self._tell("No exchange yet.", severity="warning")
            return
        self.inspect_tokens(selected.number)

    def action_search_transcript(self) -> None:
        """ctrl+f from any pane: the search line over the transcript (the prompt keeps its text)."""
        self.transcript.action_search()

    def action_toggle_probabilities(self) -> None:
        """Colour (or stop colouring) every generated token by its probability."""
        transcript = self.transcript
        transcript.show_probabilities = not transcript.show_probabilities
        legend = self.main_screen.query_one(ProbabilityLegend)
        legend.shown = transcript.show_probabilities
        values, _ = self.sidebar.read_fields()
        if (
            transcript.show_probabilities
            and values.get("logprobs") is None  # the next request asks for them: nothing to say
            and not any(
                choice.logprobs for view in transcript.exchanges for choice in view.choices.values()
            )
        ):
            self._tell(
                hint(
                    self,
                    "No logprobs yet: set the logprobs field in the sidebar (e.g. 5) and send; "
                    "{key:probabilities} turns the colouring off.",
                ),
                title="Probabilities on",
            )

    def inspect_tokens(self, number: int) -> None:
        """Open the token inspector on exchange ``number`` (1 = the first of the session)."""
        if not 1 <= number <= len(self.session.exchanges):
            self._tell(
                f"Exchange #{number} is still running: its tokens can be inspected once it ends.",
                severity="warning",
            )
            return
        exchange = self.session.exchanges[number - 1]
        from workbench.ui.token_inspector import TokenInspector

        self.push_screen(
            TokenInspector(exchange.request, exchange.choices, title=f"Tokens · exchange #{number}"),
            self._continue_from_inspector,
        )

    async def _continue_from_inspector(self, result: object) -> None:
        from workbench.ui.token_inspector import ContinueWith

        if isinstance(result, ContinueWith):
            self.prompt_pane.text = result.prompt
            await self._send_prompt()

    def action_export(self) -> None:
        """The request the pane and sidebar describe; the last one sent if they are invalid."""
        from workbench.ui.export_screen import ExportScreen

        request: CompletionRequest | None = None
        parsed = parse_prompt(self.prompt_pane.text, self.prompt_pane.form)
        if parsed.ok and self.prompt_pane.text:
            candidate, errors = self.sidebar.build_request(parsed.prompt)  # type: ignore[arg-type]
            request = None if errors else candidate
        if request is None and self.transcript.last is not None:
            request = self.transcript.last.request
        if request is None:
            self._tell("Nothing to export: write a valid prompt first.", severity="warning")
            return
        base_url = None if self.offline else self.endpoint.base_url
        self.push_screen(ExportScreen(request, base_url, session=self.session))

    def action_compare(self) -> None:
        from workbench.ui.compare_screen import open_compare  # compare: loaded on first use

        open_compare(self)

    def action_reset_parameters(self) -> None:
        self.sidebar.reset()
        self._tell("Parameters reset to defaults.")

    # -- messages -----------------------------------------------------------------------------

    def on_transcript_exchange_action(self, event: Transcript.ExchangeAction) -> None:
        """An exchange picked with the transcript's cursor: copy, export, prompt again, logprobs."""
        exchange = event.exchange
        if event.action == "copy":
            text = exchange.completion_text
            if not text:
                self._tell("That exchange has no completion to copy.", severity="warning")
                return
            self.copy_to_clipboard(text)
            self._tell(f"Copied {len(text):,} characters of exchange #{exchange.number}.")
        elif event.action == "export":
            from workbench.ui.export_screen import ExportScreen

            base_url = None if self.offline else self.endpoint.base_url
            self.push_screen(ExportScreen(exchange.request, base_url))
        elif event.action == "resend":
            request = exchange.request
            self.prompt_pane.load_prompt(request.prompt)
            self.sidebar.show_request(request)
            self.prompt_pane.editor.focus()
            self._tell(
                f"Prompt and parameters of exchange #{exchange.number} loaded: "
                + hint(self, "{key:send} sends.")
            )
        elif event.action == "logprobs":
            self.inspect_tokens(exchange.number)

    def action_transcript_page(self, pages: int) -> None:
        """shift+pageup / shift+pagedown: scroll the transcript without leaving the prompt."""
        self.transcript.page(pages)

    @on(ParameterSidebar.Changed)
    def _parameters_changed(self, event: ParameterSidebar.Changed) -> None:
        if self._active_run is None:
            self.status_bar.model = event.control.model
        self.status_bar.measure_prompt(self._prompt_draft)

    @on(TextArea.Changed, "#prompt-editor")
    @on(PromptPane.FormChanged)
    def _prompt_edited(self) -> None:
        self.status_bar.measure_prompt(self._prompt_draft)

    def _prompt_draft(self) -> PromptDraft:
        """The prompt and the fields the status bar's token gauge needs (read once typing
        pauses, not per key)."""
        values, _ = self.sidebar.read_fields()
        max_tokens = values.get("max_tokens")
        return PromptDraft(
            self.prompt_pane.text,
            self.prompt_pane.form,
            str(values.get("model") or ""),
            max_tokens if isinstance(max_tokens, int) else None,
        )

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for binding in APP_BINDINGS:
            action = binding.action
            yield SystemCommand(
                ACTION_TITLES[binding.id],  # type: ignore[index]
                binding.tooltip or ACTION_TITLES[binding.id],  # type: ignore[index]
                lambda action=action: self.run_action(action),
            )
        yield SystemCommand(
            "Evaluate: turn the prompt into a template",
            "Test cases × variants with assertions and a pass/fail matrix (the eval screen)",
            self._open_eval,
        )

    def _open_eval(self) -> None:
        from workbench.ui.eval_screen import open_eval_screen  # loaded on first use only

        open_eval_screen(self)
