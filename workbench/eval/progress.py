"""The progress line on stderr: redrawn in place on a terminal, occasional plain lines otherwise
(a CI log should get a handful of lines, not one per cell)."""

from __future__ import annotations

import time
from typing import Callable, TextIO

from workbench.eval.runner import Progress

REDRAW_INTERVAL_S = 0.1
BAR_WIDTH = 20
PLAIN_STEPS = 10  # a plain line each time another tenth of the cells is done


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def describe(progress: Progress, *, bar: bool) -> str:
    parts = [f"{progress.done:,}/{progress.total:,} cells"]
    parts.append(f"{progress.failed:,} failed")
    if progress.errored:
        parts.append(f"{progress.errored:,} errors")
    eta = progress.eta_s
    if eta is not None:
        parts.append(f"ETA {_duration(eta)}")
    if progress.waits:
        waiting = f", waiting {progress.waiting_s:.1f} s" if progress.waiting_s > 0 else ""
        parts.append(f"{progress.waits:,} rate-limit waits{waiting}")
        parts.append(f"concurrency {progress.concurrency}")
    text = " · ".join(parts)
    if bar:
        filled = BAR_WIDTH * progress.done // max(1, progress.total)
        text = "[" + "#" * filled + "." * (BAR_WIDTH - filled) + "] " + text
    return text


class ProgressLine:
    def __init__(
        self, stream: TextIO, *, terminal: bool, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.stream = stream
        self.terminal = terminal
        self._clock = clock
        self._last_draw = -REDRAW_INTERVAL_S
        self._last_step = -1
        self._last_waits = 0
        self._drawn = False
        self._latest: Progress | None = None

    def update(self, progress: Progress) -> None:
        self._latest = progress
        if self.terminal:
            now = self._clock()
            if now - self._last_draw >= REDRAW_INTERVAL_S or progress.done == progress.total:
                self._last_draw = now
                self.stream.write("\r" + describe(progress, bar=True) + "\x1b[K")
                self.stream.flush()
                self._drawn = True
            return
        step = progress.done * PLAIN_STEPS // max(1, progress.total)
        new_wait = progress.waits > self._last_waits and progress.waiting_s > 0
        if step > self._last_step or new_wait:
            self._last_step = step
            self._last_waits = progress.waits
            self.stream.write("workbench: eval " + describe(progress, bar=False) + "\n")
            self.stream.flush()

    def close(self) -> None:
        """Leave the terminal line finished, so what follows starts on its own line."""
        if self.terminal and self._drawn:
            if self._latest is not None:
                self.stream.write("\r" + describe(self._latest, bar=True) + "\x1b[K")
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
