"""The simulator for synchronous callers: its own event loop in a daemon thread.

Used by sync code (the SDK's sync client, CLI tests) and by the TUI's offline mode, which keeps
one running for the whole session via :meth:`ThreadedSim.start` / :meth:`ThreadedSim.stop`.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from types import TracebackType
from typing import Any

from workbench.sim.server import RecordedRequest, SimServer

START_TIMEOUT_S = 10.0


class ThreadedSim:
    """Same arguments as :class:`SimServer`; ``base_url`` is valid once started."""

    def __init__(self, **kwargs: Any) -> None:
        self.server = SimServer(**kwargs)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def requests(self) -> list[RecordedRequest]:
        return self.server.requests

    @property
    def disconnects(self) -> int:
        return self.server.disconnects

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> ThreadedSim:
        """Start the server and return once it is listening (raises if it cannot bind)."""
        if self.running:
            return self
        loop = asyncio.new_event_loop()
        started: Future[None] = Future()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.server.start())
            except BaseException as error:  # report bind errors to the starting thread
                started.set_exception(error)
                loop.close()
                return
            started.set_result(None)
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self.server.stop())
                # Anything still waiting (a wait_for_disconnect call) ends with the loop.
                leftover = asyncio.all_tasks(loop)
                for task in leftover:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*leftover, return_exceptions=True))
                loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="workbench-sim", daemon=True)
        self._thread.start()
        try:
            started.result(timeout=START_TIMEOUT_S)
        except BaseException:
            self._thread.join(timeout=START_TIMEOUT_S)
            self._thread = self._loop = None
            raise
        return self

    def stop(self) -> None:
        """Stop the server and wait for its thread (safe to call twice)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=START_TIMEOUT_S)
        self._loop = self._thread = None

    def set_fault(self, fault: str | None, times: int | None = None) -> None:
        self._call(self.server.set_fault, fault, times)

    def wait_for_disconnect(self, timeout: float = 5.0, count: int = 1) -> int:
        if self._loop is None:
            raise RuntimeError("ThreadedSim is not running")
        future = asyncio.run_coroutine_threadsafe(
            self.server.wait_for_disconnect(timeout, count), self._loop
        )
        return future.result(timeout + 1.0)

    def _call(self, function: Any, *args: Any) -> Any:
        if self._loop is None:
            return function(*args)
        done: Future[Any] = Future()

        def call() -> None:
            try:
                done.set_result(function(*args))
            except BaseException as error:
                done.set_exception(error)

        self._loop.call_soon_threadsafe(call)
        return done.result(timeout=START_TIMEOUT_S)

    def __enter__(self) -> ThreadedSim:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
