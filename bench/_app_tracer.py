"""Run ``workbench`` with timing hooks, to see *where* startup time and display lag go.

Run as the app itself: ``python bench/_app_tracer.py [workbench args...]`` with
``WORKBENCH_TRACE=/path/log``. Every hooked call appends ``<start monotonic> <seconds> <name>``
to the log; one-off milestones (imports done, first frame written, first key reached the prompt
editor) are logged with a duration of 0. ``stream_display.py --trace`` starts the app this way
and prints the log as a timeline around the spawn and around the moment the last token was
written. Hooks whose target does not exist (renamed code) are skipped, never fatal.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import sys
import time
from typing import Any

_LOG = open(os.environ.get("WORKBENCH_TRACE", os.devnull), "a", buffering=1, encoding="utf-8")

# module, class, method: the calls whose durations explain the numbers.
HOOKS = (
    ("textual.app", "App", "_display"),
    ("textual.screen", "Screen", "_refresh_layout"),
    ("workbench.ui.app", "WorkbenchApp", "__init__"),
    ("workbench.ui.app", "WorkbenchApp", "on_mount"),
    ("workbench.ui.app", "WorkbenchApp", "on_worker_state_changed"),
    ("workbench.ui.app", "WorkbenchApp", "_autosave"),
    ("workbench.ui.app", "WorkbenchApp", "action_send"),
    ("workbench.ui.exchange_view", "ExchangeView", "flush"),
    ("workbench.ui.exchange_view", "ExchangeView", "finish"),
    ("workbench.ui.transcript", "Transcript", "_prepare_visible"),
    ("workbench.ui.transcript", "Transcript", "_measure"),
    ("workbench.sessions.store", "SessionStore", "save"),
)


def mark(label: str) -> None:
    _LOG.write(f"{time.monotonic():.6f} 0 {label}\n")


def _timed(function: Any, label: str) -> Any:
    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def timed_coroutine(*args: Any, **kwargs: Any) -> Any:
            _lower_slow_callback_threshold()
            started = time.monotonic()
            try:
                return await function(*args, **kwargs)
            finally:
                _LOG.write(f"{started:.6f} {time.monotonic() - started:.6f} {label}\n")

        return timed_coroutine

    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.monotonic()
        try:
            return function(*args, **kwargs)
        finally:
            _LOG.write(f"{started:.6f} {time.monotonic() - started:.6f} {label}\n")

    return timed


def install_hooks() -> None:
    for module_name, class_name, method in HOOKS:
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
            original = cls.__dict__[method]
        except (ImportError, AttributeError, KeyError):
            continue
        setattr(cls, method, _timed(original, f"{class_name}.{method}"))
    _mark_first_key()


def _mark_first_key() -> None:
    """Log when the first key event reaches a TextArea (the prompt editor)."""
    from textual.widgets import TextArea

    original = TextArea._on_key
    seen = False

    async def on_key(self: Any, event: Any) -> Any:
        nonlocal seen
        if not seen:
            seen = True
            mark(f"first key reached a TextArea ({event.key})")
        return await original(self, event)

    TextArea._on_key = on_key  # type: ignore[method-assign]


class _SlowCallbackLog:
    """With PYTHONASYNCIODEBUG=1, asyncio reports callbacks that held the loop > 10 ms; log them
    (at their end) so a gap in the timeline has a name. Debug mode slows the app down a bit."""

    def install(self) -> None:
        import logging

        class Handler(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                message = record.getMessage()
                if "took" in message:
                    _LOG.write(f"{time.monotonic():.6f} 0 slow callback ended: {message[:160]}\n")

        logger = logging.getLogger("asyncio")
        logger.addHandler(Handler())
        logger.setLevel(logging.WARNING)
        logger.propagate = False  # never onto the terminal the benchmark is reading


def _lower_slow_callback_threshold() -> None:
    """Called from inside the running loop (first hooked coroutine): report > 10 ms, not 100."""
    import asyncio

    loop = asyncio.get_running_loop()
    if loop.get_debug():
        loop.slow_callback_duration = 0.01


def _log_collections() -> None:
    """Log every garbage collection that takes over 1 ms (a full one can hold a frame back)."""
    import gc

    started: list[float] = []

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[:] = [time.monotonic()]
        elif started:
            duration = time.monotonic() - started[0]
            if duration > 0.001:
                label = f"gc generation {info['generation']} ({info['collected']} collected)"
                _LOG.write(f"{started[0]:.6f} {duration:.6f} {label}\n")

    gc.callbacks.append(callback)


def main() -> int:
    mark("interpreter up")
    _log_collections()
    if os.environ.get("PYTHONASYNCIODEBUG"):
        _SlowCallbackLog().install()
    import workbench.cli
    from workbench.cli.tui import FRAME_RATE_CAP

    mark("workbench.cli imported")
    # The hooks import Textual before the TUI's entry point would set its frame rate cap
    # (read once, at import): set it here as that entry point does, or a traced app draws at
    # Textual's default 60 fps and its frames look up to 30 ms late.
    if "TEXTUAL_FPS" not in os.environ:
        os.environ["TEXTUAL_FPS"] = FRAME_RATE_CAP
        import textual.constants  # noqa: F401

        del os.environ["TEXTUAL_FPS"]
    install_hooks()
    mark("hooks installed (workbench.ui.app, textual imported)")
    return int(workbench.cli.main(sys.argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
