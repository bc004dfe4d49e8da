"""The client's time limits, in their own module: the TUI and the CLI build them while they
start, before httpx (imported by :mod:`workbench.api.client`) is needed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds. ``read`` is the longest silence allowed between two pieces of a response, so it
    also catches a stream that stalls in the middle. The SDK's defaults: connect 5, read 60.

    ``progress`` is the longest a response may go without *progress*, however busy the
    connection looks: the response headers must arrive, a non-streamed body must be complete,
    and a stream must deliver text, tokens or a finish within that many seconds of the last
    progress. It catches a server that sends only keep-alive comments (or empty events, or a
    body one byte at a time) forever. It is never shorter than ``read``. In a stream it is
    checked as each piece arrives, so it can fire up to one ``read`` timeout late.
    """

    connect: float = 5.0
    read: float = 60.0
    write: float = 60.0
    pool: float = 60.0
    progress: float = 120.0

    def to_httpx(self) -> httpx.Timeout:
        import httpx  # only the client needs it; this module is imported at start-up

        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)

    @property
    def progress_s(self) -> float:
        return max(self.progress, self.read)
