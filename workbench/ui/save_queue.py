"""Session saves off the UI thread, one at a time, in the order they were asked for.

Encoding and writing a session with a 20,000-token exchange takes tens of milliseconds; on the
UI thread that delayed the stream's last token on screen (docs/benchmarks.md). Every job runs
on one worker thread (a single-thread executor is a FIFO queue), so saves never overlap and
exchanges reach the file in the order they finished. A job that changes a session (appending an
exchange, merging another window's exchanges from disk) runs there too, so the session is never
changed by two threads at once. Nothing queued is dropped: :meth:`drain` waits for all of it.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, TypeVar

T = TypeVar("T")


class SaveQueue:
    """A serial queue of blocking jobs whose results come back as asyncio futures."""

    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None
        self._pending = 0

    @property
    def pending(self) -> int:
        """Jobs submitted whose result has not reached the event loop yet."""
        return self._pending

    def submit(self, job: Callable[[], T]) -> asyncio.Future[T]:
        """Queue ``job``; the returned future completes on the running event loop."""
        if self._executor is None:  # started on first use: no thread at app startup
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="workbench-save")
        self._pending += 1
        future = asyncio.wrap_future(self._executor.submit(job))
        future.add_done_callback(self._job_done)
        return future

    def _job_done(self, _future: asyncio.Future[object]) -> None:
        self._pending -= 1

    async def drain(self) -> None:
        """Wait until every queued job has run (called when the app closes)."""
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True)
