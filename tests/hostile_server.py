"""A deliberately broken and hostile HTTP server for the hardening tests (stdlib only).

It listens on 127.0.0.1 only, in daemon threads, and answers every request the way its
``mode`` says: bodies that are not JSON, bodies/lines/events/streams that never end, keep-alive
comments forever, absurd headers, JSON nested a million deep. Every loop is bounded: an
"endless" answer stops after :data:`MAX_SEND_BYTES` bytes or :data:`MAX_SECONDS` seconds, or as
soon as the client goes away, so a client that fails to stop makes a test fail, not hang.

It also works as a plain-HTTP forward proxy (a request line with an absolute URL is answered
the same way), which lets a test send the client to ``http://any.example`` through
``HTTP_PROXY`` and see exactly which headers — an ``Authorization`` above all — would have
left the machine, without any traffic leaving it.

    with HostileServer("endless-line") as server:
        server.base_url, server.requests  # what arrived: (method, target, headers)
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

MAX_SEND_BYTES = 512 * 1024 * 1024
MAX_SECONDS = 60.0
MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 4 * 1024 * 1024

MODES: dict[str, str] = {
    "script": '"<script" * 1_000_000 as the body (status and content type configurable)',
    "nested": "200 application/json whose body is '[' nested a million deep",
    "json-flood": "200 application/json: ~8 MB of empty objects (JSON that expands ~30x)",
    "event-flood": "200 text/event-stream: one ~1 MB event of 300,000 empty objects",
    "endless-json": "200 application/json that never ends (a model list that goes on)",
    "endless-html": "an HTML page that never ends (status configurable)",
    "endless-line": "200 text/event-stream: one data line that never ends",
    "endless-event": "200 text/event-stream: data lines forever, never a blank line",
    "endless-text": "200 text/event-stream: valid chunks of 4 KB of text forever",
    "endless-choices": "200 text/event-stream: every chunk a new choice index, forever",
    "endless-logprobs": "200 text/event-stream: chunks with 20 top logprobs each, forever",
    "keepalive": "200 text/event-stream: ': ping' comments forever, never an event",
    "empty-events": "200 text/event-stream: valid chunks with empty text forever",
    "trickle": "200 application/json: a valid body, one byte every 50 ms",
    "gzip": "200 application/json claiming content-encoding gzip",
    "inf-headers": "a valid answer with Retry-After/x-ratelimit-* set to inf, nan and garbage",
    "retry-inf": "429 with Retry-After: inf and retry-after-ms: nan once, then a valid answer",
    "not-found": "404 with a JSON error body that echoes the request's Authorization header",
    "ok": "a valid answer (streamed or not, as asked); records the request",
}


@dataclass(frozen=True)
class Received:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


@dataclass
class _State:
    mode: str
    status: int
    content_type: str
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    answered: int = 0


def completion(text: str = "Hello from the hostile server.") -> dict[str, Any]:
    return {
        "id": "cmpl-hostile",
        "object": "text_completion",
        "created": 1,
        "model": "llama3.1-8b",
        "choices": [{"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 6, "total_tokens": 9},
    }


def _sse(payload: Any) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


INF_HEADERS = [
    ("Retry-After", "inf"),
    ("retry-after-ms", "nan"),
    ("x-ratelimit-limit-requests-day", "inf"),
    ("x-ratelimit-limit-tokens-minute", "1e400"),
    ("x-ratelimit-remaining-requests-day", "-1"),
    ("x-ratelimit-remaining-tokens-minute", "NaN"),
    ("x-ratelimit-reset-requests-day", "garbage"),
    ("x-ratelimit-reset-tokens-minute", "-inf"),
]


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(10)
        self.started = time.monotonic()
        self.sent = 0
        try:
            received = self._read_request(sock)
            if received is None:
                return
            state = self.server.state
            with state.lock:
                state.requests.append(received)
                state.answered += 1
                number = state.answered
            self._answer(sock, state, received, number)
        except (OSError, _Stop):
            pass  # the client went away (or the budget ran out): that is the point
        finally:
            try:
                sock.close()
            except OSError:
                pass

    # -- reading -------------------------------------------------------------------------

    def _read_request(self, sock: socket.socket) -> Received | None:
        data = b""
        while b"\r\n\r\n" not in data:
            piece = sock.recv(65536)
            if not piece:
                return None
            data += piece
            if len(data) > MAX_HEAD_BYTES:
                return None
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = (lines[0].split(" ") + ["", ""])[:3]
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = min(int(headers.get("content-length", "0") or 0), MAX_BODY_BYTES)
        while len(rest) < length:
            piece = sock.recv(65536)
            if not piece:
                break
            rest += piece
        return Received(method, target, headers, rest[:length])

    # -- writing -------------------------------------------------------------------------

    def _send(self, sock: socket.socket, data: bytes) -> None:
        if self.server.state.stopping.is_set():
            raise _Stop
        if self.sent > MAX_SEND_BYTES or time.monotonic() - self.started > MAX_SECONDS:
            raise _Stop
        sock.sendall(data)
        self.sent += len(data)

    def _head(
        self,
        sock: socket.socket,
        status: int,
        content_type: str | None,
        *,
        length: int | None = None,
        extra: list[tuple[str, str]] | None = None,
    ) -> None:
        lines = [f"HTTP/1.1 {status} Whatever"]
        if content_type:
            lines.append(f"Content-Type: {content_type}")
        if length is None:
            lines.append("Transfer-Encoding: chunked")
        else:
            lines.append(f"Content-Length: {length}")
        lines.append("Connection: close")
        lines += [f"{name}: {value}" for name, value in extra or []]
        self._send(sock, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def _whole(
        self,
        sock: socket.socket,
        status: int,
        content_type: str | None,
        body: bytes,
        extra: list[tuple[str, str]] | None = None,
    ) -> None:
        self._head(sock, status, content_type, length=len(body), extra=extra)
        self._send(sock, body)

    def _forever(self, sock: socket.socket, first: bytes, piece: bytes, pause: float = 0.0) -> None:
        """A chunked body: ``first``, then ``piece`` again and again (until the budget)."""
        if first:
            self._send(sock, _chunk(first))
        block = _chunk(piece * max(1, 65536 // max(1, len(piece)))) if not pause else _chunk(piece)
        while True:
            self._send(sock, block)
            if pause:
                time.sleep(pause)

    def _valid(self, sock: socket.socket, received: Received, extra: list[tuple[str, str]]) -> None:
        try:
            wants_stream = bool(json.loads(received.body or b"{}").get("stream"))
        except (ValueError, AttributeError):
            wants_stream = False
        if received.target.endswith("/v1/models"):
            body = json.dumps({"object": "list", "data": [{"id": "llama3.1-8b"}]}).encode()
            return self._whole(sock, 200, "application/json", body, extra)
        if not wants_stream:
            return self._whole(sock, 200, "application/json", json.dumps(completion()).encode(), extra)
        self._head(sock, 200, "text/event-stream", extra=extra)
        result = completion()
        for part in ("Hello ", "from the ", "hostile server."):
            event = dict(result, choices=[{"index": 0, "text": part, "finish_reason": None}])
            self._send(sock, _chunk(_sse(event)))
        last = dict(result, choices=[{"index": 0, "text": "", "finish_reason": "stop"}])
        self._send(sock, _chunk(_sse(last)))
        self._send(sock, _chunk(b"data: [DONE]\n\n"))
        self._send(sock, b"0\r\n\r\n")

    def _answer(self, sock: socket.socket, state: _State, received: Received, number: int) -> None:
        mode = state.mode
        sse = "text/event-stream"
        if mode == "script":
            return self._whole(sock, state.status, state.content_type, b"<script" * 1_000_000)
        if mode == "nested":
            return self._whole(sock, 200, "application/json", b"[" * 1_000_000)
        if mode == "json-flood":
            body = b'{"data":[' + b"{}," * 2_700_000 + b"{}]}"
            return self._whole(sock, 200, "application/json", body)
        if mode == "event-flood":
            self._head(sock, 200, sse)
            self._send(sock, _chunk(b'data: {"choices":[' + b"{}," * 300_000 + b"{}]}\n\n"))
            self._send(sock, _chunk(b"data: [DONE]\n\n"))
            return self._send(sock, b"0\r\n\r\n")
        if mode == "endless-json":
            self._head(sock, 200, "application/json")
            return self._forever(sock, b'{"object":"list","data":[', b'{"id":"model"},')
        if mode == "endless-html":
            self._head(sock, state.status, "text/html")
            return self._forever(sock, b"<html><body>", b"<div>")
        if mode == "endless-line":
            self._head(sock, 200, sse)
            return self._forever(sock, b"data: ", b"a")
        if mode == "endless-event":
            self._head(sock, 200, sse)
            return self._forever(sock, b"", b"data: x\n")
        if mode == "endless-text":
            self._head(sock, 200, sse)
            event = _sse(dict(completion(), choices=[{"index": 0, "text": "word " * 800}]))
            return self._forever(sock, b"", event)
        if mode == "endless-choices":
            self._head(sock, 200, sse)
            index = 0
            while True:
                batch = b"".join(
                    _sse(dict(completion(), choices=[{"index": index + i, "text": "x"}]))
                    for i in range(200)
                )
                index += 200
                self._send(sock, _chunk(batch))
        if mode == "endless-logprobs":
            self._head(sock, 200, sse)
            top = {f"tok{i}": -float(i) for i in range(20)}
            logprobs = {"tokens": ["a"], "token_logprobs": [-0.1], "top_logprobs": [top],
                        "text_offset": [0]}
            event = _sse(dict(completion(), choices=[{"index": 0, "text": "", "logprobs": logprobs}]))
            return self._forever(sock, b"", event)
        if mode == "keepalive":
            self._head(sock, 200, sse)
            return self._forever(sock, b"", b": ping\n\n", pause=0.005)
        if mode == "empty-events":
            self._head(sock, 200, sse)
            event = _sse(dict(completion(), choices=[{"index": 0, "text": ""}]))
            return self._forever(sock, b"", event, pause=0.005)
        if mode == "trickle":
            body = json.dumps(completion()).encode() + b" " * 100_000
            self._head(sock, 200, "application/json", length=len(body))
            for byte in body:
                self._send(sock, bytes([byte]))
                time.sleep(0.05)
            return None
        if mode == "gzip":
            return self._whole(
                sock, 200, "application/json", b"\x1f\x8b" + b"\0" * 64,
                extra=[("Content-Encoding", "gzip")],
            )
        if mode == "inf-headers":
            return self._valid(sock, received, INF_HEADERS)
        if mode == "retry-inf":
            if number == 1:
                body = json.dumps({"message": "slow down", "type": "too_many_requests_error"})
                return self._whole(sock, 429, "application/json", body.encode(), INF_HEADERS)
            return self._valid(sock, received, INF_HEADERS)
        if mode == "not-found":
            said = f"no such thing; you sent {received.headers.get('authorization', 'nothing')}"
            body = json.dumps({"message": said, "type": "not_found_error"}).encode()
            return self._whole(sock, 404, "application/json", body)
        return self._valid(sock, received, [])


class _Stop(Exception):
    """The answer's byte or time budget ran out, or the server is stopping."""


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    state: _State


class HostileServer:
    """``with HostileServer(mode, status=200, content_type="text/html") as server: ...``"""

    def __init__(self, mode: str, *, status: int = 200, content_type: str = "text/html") -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; choose from {', '.join(MODES)}")
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = _State(mode, status, content_type)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[Received]:
        with self._server.state.lock:
            return list(self._server.state.requests)

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.state.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def modes() -> Iterator[str]:
    return iter(MODES)
