"""An incremental Server-Sent Events decoder that works on raw bytes.

Why our own and not the SDK's: the SDK drops a final event that lacks its blank line and
crashes on ``id:``/``retry:`` fields (see ``shared/cerebras-api.md``). This one follows the
WHATWG event-stream rules with one deliberate difference: at end of input a pending event is
still delivered, because a server that closes right after its last ``data:`` line did send it.

Bytes are split into lines *before* decoding: CR and LF never occur inside a multi-byte UTF-8
sequence, so a character split across two network chunks is simply completed by the next chunk.
A ``\\r\\n`` split across chunks is handled by remembering that the last byte was a bare CR.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

from workbench.api.limits import DEFAULT_LIMITS

_BOM = "\ufeff"
# The caps live in workbench.api.limits; these are the decoder's defaults when used alone.
DEFAULT_MAX_LINE = DEFAULT_LIMITS.sse_line_bytes
DEFAULT_MAX_EVENT = DEFAULT_LIMITS.sse_event_bytes
_LINE_OVERHEAD = 64


class SSELimitError(ValueError):
    """A line or an event went past the decoder's cap (a broken or hostile server)."""


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One dispatched event. ``event`` is None for the default ("message") type."""

    data: str = ""
    event: str | None = None
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Feed it bytes as they arrive; it returns the events completed so far.

    >>> decoder = SSEDecoder()
    >>> decoder.feed(b"data: a\\r")
    []
    >>> decoder.feed(b"\\n\\r\\n")
    [ServerSentEvent(data='a', event=None, id=None, retry=None)]
    """

    def __init__(
        self, *, max_line_bytes: int = DEFAULT_MAX_LINE, max_event_bytes: int = DEFAULT_MAX_EVENT
    ) -> None:
        self._pending = bytearray()  # an unterminated line carried over to the next chunk
        self._skip_lf = False  # the previous chunk ended with CR: a leading LF belongs to it
        self._first_line = True
        self._data: list[str] = []
        self._data_size = 0
        self._has_data = False
        self._event: str | None = None
        self._last_id: str | None = None
        self._retry: int | None = None
        self.max_line_bytes = max_line_bytes
        self.max_event_bytes = max_event_bytes

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """The events completed by ``chunk``. Linear in its length: a line split over many
        chunks is collected in a buffer that grows in place (never re-copied per chunk)."""
        if not chunk:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
                if not chunk:
                    return []
        # bytes.splitlines splits on exactly \n, \r and \r\n — the three SSE line ends.
        lines = chunk.splitlines(keepends=True)
        tail = b""
        if lines and not lines[-1].endswith((b"\n", b"\r")):
            tail = lines.pop()
        self._skip_lf = chunk.endswith(b"\r")
        events: list[ServerSentEvent] = []
        for raw in lines:
            if raw.endswith(b"\r\n"):
                raw = raw[:-2]
            else:
                raw = raw[:-1]
            if self._pending:
                self._check_line(len(self._pending) + len(raw))
                self._pending += raw
                raw = bytes(self._pending)
                self._pending.clear()
            else:
                self._check_line(len(raw))
            event = self._line(raw)
            if event is not None:
                events.append(event)
        if tail:
            self._check_line(len(self._pending) + len(tail))
            self._pending += tail
        return events

    def _check_line(self, size: int) -> None:
        if size > self.max_line_bytes:
            raise SSELimitError(
                f"a line of the event stream is longer than {self.max_line_bytes:,} bytes"
            )

    def close(self) -> list[ServerSentEvent]:
        """End of input: deliver the last line and the pending event, if any."""
        events: list[ServerSentEvent] = []
        if self._pending:
            raw = bytes(self._pending)
            self._pending.clear()
            event = self._line(raw)
            if event is not None:
                events.append(event)
        event = self._dispatch()
        if event is not None:
            events.append(event)
        return events

    def iter_chunks(self, chunks: Iterable[bytes]) -> Iterator[ServerSentEvent]:
        """Decode a whole sequence of chunks (handy for tests and files)."""
        for chunk in chunks:
            yield from self.feed(chunk)
        yield from self.close()

    # -- the event-stream interpretation rules --------------------------------------------

    def _line(self, raw: bytes) -> ServerSentEvent | None:
        line = raw.decode("utf-8", errors="replace")
        if self._first_line:
            self._first_line = False
            if line.startswith(_BOM):
                line = line[1:]
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment: servers send these as keep-alives
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            # An event that never ends (data lines without the blank line) must not grow
            # without bound: count what it holds, each line at its length plus what a kept
            # line costs in memory anyway (a str object and its list slot), so a flood of
            # one-character lines meets the cap as soon as a few long ones would.
            self._data_size += len(value) + _LINE_OVERHEAD
            if self._data_size > self.max_event_bytes:
                raise SSELimitError(
                    f"an event of the stream is longer than {self.max_event_bytes:,} bytes"
                )
            self._data.append(value)
            self._has_data = True
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._last_id = value
        elif name == "retry":
            if value.isascii() and value.isdigit():
                self._retry = int(value)
        # Any other field name is ignored, as the spec says.
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        if not self._has_data:
            # An event with no data line is not dispatched; its type is forgotten.
            self._event = None
            return None
        event = ServerSentEvent(
            data="\n".join(self._data),
            event=self._event or None,
            id=self._last_id,
            retry=self._retry,
        )
        self._data = []
        self._data_size = 0
        self._has_data = False
        self._event = None
        self._retry = None
        return event
