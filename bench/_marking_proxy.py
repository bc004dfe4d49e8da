"""A loopback HTTP proxy that ends every streamed completion with a known marker word and
records the moment it wrote it.

The display benchmark must know when the *last* token left the server, and must recognise
that token on the terminal screen. Putting this proxy between the app and the sim does both
without asking anything of the sim: it forwards requests untouched, passes non-streaming
responses through, and in a ``text/event-stream`` response it inserts one extra text event,
`` <MARKER>``, just before the event that carries ``finish_reason`` (or ``[DONE]``); when that
final event itself carries text, the marker is appended to it instead. Right after writing the
marker it prints ``MARKER <time.monotonic()>`` on stdout (CLOCK_MONOTONIC is shared by all
processes), which the benchmark reads.

Run: ``python bench/_marking_proxy.py --upstream http://127.0.0.1:PORT [--port 0]``; the first
stdout line is ``PORT <n>``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from urllib.parse import urlsplit

DEFAULT_MARKER = "ZQXENDMARK"
_FINISH = re.compile(rb'"finish_reason"\s*:\s*"')
_EVENT_END = re.compile(rb"\r\n\r\n|\n\n|\r\r")


class SseMarker:
    """Splits a dechunked SSE body into events and adds the marker before the finish event."""

    def __init__(self, marker: str) -> None:
        self.marker = marker
        self.injected = False
        self._pending = b""
        self._template: dict | None = None

    def feed(self, data: bytes) -> tuple[bytes, bytes, bytes]:
        """Returns (bytes before the marker, marker bytes or b"", bytes after)."""
        self._pending += data
        if self.injected:
            out, self._pending = self._pending, b""
            return out, b"", b""
        before = bytearray()
        position = 0
        while True:
            end_match = _EVENT_END.search(self._pending, position)
            if end_match is None:
                break
            event = self._pending[position : end_match.end()]
            position = end_match.end()
            if not self.injected and self._is_final(event):
                marker_bytes, event = self._marker_for(event)
                self.injected = True
                after = event + self._pending[position:]
                self._pending = b""
                return bytes(before), marker_bytes, after
            self._remember_template(event)
            before += event
        self._pending = self._pending[position:]
        return bytes(before), b"", b""

    def flush(self) -> bytes:
        out, self._pending = self._pending, b""
        return out

    @staticmethod
    def _is_final(event: bytes) -> bool:
        return bool(_FINISH.search(event)) or b"[DONE]" in event

    @staticmethod
    def _data_of(event: bytes) -> dict | None:
        lines = [line[5:].lstrip() for line in event.splitlines() if line.startswith(b"data:")]
        try:
            value = json.loads(b"\n".join(lines))
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def _remember_template(self, event: bytes) -> None:
        if self._template is None:
            data = self._data_of(event)
            if data is not None and isinstance(data.get("choices"), list) and data["choices"]:
                self._template = data

    def _marker_for(self, final_event: bytes) -> tuple[bytes, bytes]:
        """(bytes that carry the marker, the final event to send after them)."""
        data = self._data_of(final_event)
        choices = data.get("choices") if data else None
        if data is not None and isinstance(choices, list) and choices and choices[0].get("text"):
            # The final event carries text itself: the marker goes at its end, on a line of
            # its own (an app that does not wrap lines, like a Log, would otherwise cut it off).
            choices[0]["text"] += "\n" + self.marker
            encoded = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
            return b"data: " + encoded + b"\n\n", b""
        template = dict(self._template or {"object": "text_completion"})
        template.pop("usage", None)
        template.pop("time_info", None)
        template["choices"] = [{"index": 0, "text": "\n" + self.marker, "finish_reason": None, "logprobs": None}]
        encoded = json.dumps(template, ensure_ascii=False, separators=(",", ":")).encode()
        return b"data: " + encoded + b"\n\n", final_event


def _chunk(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(payload), payload) if payload else b""


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(1 << 16):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


class MarkingProxy:
    def __init__(self, upstream: str, marker: str) -> None:
        parts = urlsplit(upstream)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.marker = marker

    async def handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(self.host, self.port)
        except OSError:
            client_writer.close()
            return
        requests = asyncio.create_task(_pipe(client_reader, up_writer))
        try:
            await self._responses(up_reader, client_writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            requests.cancel()
            client_writer.close()
            up_writer.close()

    async def _responses(self, up: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await up.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            client.write(head)
            await client.drain()
            if status < 200 or status in (204, 304):
                continue
            marker = SseMarker(self.marker) if headers.get("content-type", "").startswith("text/event-stream") else None
            chunked = "chunked" in headers.get("transfer-encoding", "").lower()
            if chunked:
                await self._chunked_body(up, client, marker)
            elif "content-length" in headers:
                # A body of known length is passed through untouched (never an SSE stream here).
                remaining = int(headers["content-length"])
                while remaining:
                    data = await up.read(min(remaining, 1 << 16))
                    if not data:
                        return
                    remaining -= len(data)
                    client.write(data)
                    await client.drain()
            else:  # body ends when the server closes the connection
                while data := await up.read(1 << 16):
                    await self._forward(client, marker, data, chunked=False)
                if marker is not None:
                    client.write(marker.flush())
                await client.drain()
                return

    async def _chunked_body(self, up: asyncio.StreamReader, client: asyncio.StreamWriter, marker: SseMarker | None) -> None:
        while True:
            size_line = await up.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                trailer = await up.readuntil(b"\r\n")
                while trailer != b"\r\n":
                    trailer = await up.readuntil(b"\r\n")
                if marker is not None:
                    client.write(_chunk(marker.flush()))
                client.write(b"0\r\n\r\n")
                await client.drain()
                return
            data = await up.readexactly(size + 2)
            await self._forward(client, marker, data[:-2], chunked=True)

    async def _forward(self, client: asyncio.StreamWriter, marker: SseMarker | None, data: bytes, *, chunked: bool) -> None:
        frame = _chunk if chunked else (lambda payload: payload)
        if marker is None:
            client.write(frame(data))
            await client.drain()
            return
        before, marker_bytes, after = marker.feed(data)
        if before:
            client.write(frame(before))
        if marker_bytes:
            client.write(frame(marker_bytes))
            # transport.write() hands the bytes to the kernel at once when its buffer is empty.
            written_at = time.monotonic()
            print(f"MARKER {written_at:.6f}", flush=True)
        if after:
            client.write(frame(after))
        await client.drain()


async def serve(upstream: str, port: int, marker: str) -> None:
    proxy = MarkingProxy(upstream, marker)
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", port)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="sim root URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--marker", default=DEFAULT_MARKER)
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args.upstream, args.port, args.marker))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
