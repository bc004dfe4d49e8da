"""The Cerebras-compatible HTTP server on loopback (see ``shared/cerebras-api.md``).

One asyncio task per connection serves requests one after another (keep-alive). Completions
are generated up front by :mod:`workbench.sim.completions`; this module decides when the bytes
go out — paced at ``rate`` tokens/s, several tokens per chunk like the real service — and
where a fault breaks them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import socket
import time
import uuid
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from workbench.sim.completions import (
    MODEL_CONTEXT,
    CompletionPlan,
    PromptCache,
    SimHTTPError,
    dumps,
    invalid,
    model_json,
    model_not_found,
    models_json,
    plan_completion,
)
from workbench.sim.faults import (
    CHUNKS_BEFORE_FAULT,
    FAULT_MODES,
    HTML_502_PAGE,
    MID_STREAM_FAULTS,
    RATE_LIMIT_BODY,
    SERVER_ERROR_BODY,
    SLOW_FIRST_BYTE_S,
    STATUS_FAULTS,
    UNAVAILABLE_BODY,
    FaultPlan,
    error_body,
    stream_error_event,
)
from workbench.sim.http import (
    LAST_CHUNK,
    MAX_HEAD_BYTES,
    BadHttpRequest,
    HttpRequest,
    encode_chunk,
    read_request,
    response_head,
)
from workbench.sim.model import MarkovModel, default_model
from workbench.sim.ratelimit import RateLimitLedger
from workbench.sim.tokenizer import Tokenizer, default_tokenizer

_log = logging.getLogger(__name__)

DEFAULT_RATE = 2000.0
# Prompt processing is much faster than generation; this sets the simulated prompt_time.
PROMPT_TOKENS_PER_S = 20_000.0
# When paced, send whatever is due this often rather than sleeping per token.
PACE_TICK_S = 0.005
MAX_TOKENS_PER_CHUNK = 64
# Unpaced streams group tokens so the client, not the server, is the bottleneck.
UNPACED_TOKENS_PER_CHUNK = 4
# How often a stalled response checks whether its client has gone away.
STALL_POLL_S = 0.02
# A whole (non-streamed) response is generated in slices this big, yielding in between.
GENERATION_SLICE_TOKENS = 512

AUTH_ERROR = error_body("Wrong API Key", "invalid_request_error", "api_key", "wrong_api_key")


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None


@dataclass(slots=True)
class _Exchange:
    """One request being answered on a connection."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    keep_alive: bool
    request_id: str

    def client_gone(self) -> bool:
        return self.reader.at_eof() or self.writer.transport.is_closing()


class _ClientGone(Exception):
    """The client closed the connection while the server was still answering."""


class SimServer:
    """See ``notes/interfaces.md``: ``await start()``, ``base_url``, ``requests``, faults."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        rate: float | None = DEFAULT_RATE,
        api_key: str | None = None,
        fault: str | None = None,
        fault_times: int | None = None,
        *,
        models: dict[str, int] | None = None,
        tokenizer: Tokenizer | None = None,
        model: MarkovModel | None = None,
    ) -> None:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"port must be from 0 to 65535 (0 picks a free one), not {port!r}")
        self.host = host
        self.port = port
        self.rate = _pace_value(rate)
        self.api_key = api_key
        self._faults = FaultPlan(fault, fault_times)
        self.models: dict[str, int] = dict(models or MODEL_CONTEXT)
        self.tokenizer = tokenizer or default_tokenizer()
        self.model = model or default_model()
        self.requests: list[RecordedRequest] = []
        self.disconnects = 0
        self.connections_opened = 0  # TCP connections accepted: lets tests see keep-alive reuse
        self.ledger = RateLimitLedger()
        self.cache = PromptCache()
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._disconnect_waiters: list[asyncio.Event] = []

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def fault(self) -> str | None:
        return self._faults.mode

    def set_fault(self, fault: str | None, times: int | None = None) -> None:
        """Change the server-wide fault while running (tests, the TUI's offline mode)."""
        self._faults = FaultPlan(fault, times)

    async def start(self) -> SimServer:
        self._server = await asyncio.start_server(
            self._on_connection, self.host, self.port, limit=MAX_HEAD_BYTES
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        tasks = list(self._connections)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if server is not None:
            await server.wait_closed()

    async def __aenter__(self) -> SimServer:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def wait_for_disconnect(self, timeout: float = 5.0, count: int = 1) -> int:
        """Return once ``count`` streams in total were closed early by their client.

        Raises TimeoutError when that does not happen within ``timeout`` seconds.
        """
        async with asyncio.timeout(timeout):
            while self.disconnects < count:
                waiter = asyncio.Event()
                self._disconnect_waiters.append(waiter)
                await waiter.wait()
        return self.disconnects

    def _note_disconnect(self) -> None:
        self.disconnects += 1
        waiters, self._disconnect_waiters = self._disconnect_waiters, []
        for waiter in waiters:
            waiter.set()

    # -- connections ----------------------------------------------------------------------

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        self.connections_opened += 1
        sock = writer.get_extra_info("socket")
        if sock is not None:
            # Small SSE writes must leave at once, not wait for Nagle's algorithm.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                try:
                    request = await read_request(reader, writer)
                except BadHttpRequest as error:
                    exchange = _Exchange(reader, writer, False, _request_id())
                    body = error_body(str(error), "invalid_request_error", None, "bad_http")
                    await self._send_json(exchange, error.status, body)
                    break
                if request is None:
                    break
                if not await self._handle(request, reader, writer):
                    break
        except (ConnectionError, _ClientGone):
            pass
        except asyncio.CancelledError:
            # stop() cancels open connections. Ending the task normally (rather than as
            # cancelled) keeps Python 3.11's stream callback from logging a bogus traceback.
            pass
        except Exception:
            # A bug in the simulator: say so loudly; the client sees the connection close.
            _log.exception("workbench.sim failed while answering a request")
        finally:
            self._connections.discard(task)
            writer.close()

    async def _handle(
        self, request: HttpRequest, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Answer one request; False when the connection must not be reused."""
        received = time.perf_counter()
        parsed: Any = None
        json_error: str | None = None
        if request.body:
            try:
                parsed = json.loads(request.body)
            except (ValueError, UnicodeDecodeError) as error:
                json_error = str(error)
        self.requests.append(
            RecordedRequest(
                request.method,
                request.path,
                dict(request.headers),
                parsed if isinstance(parsed, dict) else None,
            )
        )
        exchange = _Exchange(reader, writer, request.keep_alive, _request_id())
        path = request.path.rstrip("/") or "/"
        if path == "/v1/tcp_warming":
            return await self._send_json(exchange, 200, {})
        if path == "/v1/models" or path.startswith("/v1/models/"):
            return await self._models(request, exchange, path)
        if path == "/tokenize":
            return await self._tokenize(request, exchange, parsed, json_error)
        if path == "/v1/completions":
            if request.method != "POST":
                return await self._method_not_allowed(exchange, request)
            return await self._completions(request, exchange, received, parsed, json_error)
        body = error_body(
            f"Not found: {request.method} {request.path}", "not_found_error", None, "not_found"
        )
        return await self._send_json(exchange, 404, body)

    # -- endpoints ------------------------------------------------------------------------

    def _authorized(self, request: HttpRequest) -> bool:
        if self.api_key is None:
            return True
        return request.headers.get("authorization", "") == f"Bearer {self.api_key}"

    async def _models(self, request: HttpRequest, exchange: _Exchange, path: str) -> bool:
        if request.method != "GET":
            return await self._method_not_allowed(exchange, request)
        self.ledger.record()
        if not self._authorized(request):
            return await self._send_json(exchange, 401, AUTH_ERROR)
        fault = request.headers.get("x-sim-fault")
        if fault is not None and fault not in FAULT_MODES:
            return await self._send_json(exchange, 400, _bad_fault(fault).body)
        if fault == "slow-first-byte":
            await asyncio.sleep(SLOW_FIRST_BYTE_S)
        if fault in STATUS_FAULTS:
            return await self._status_fault(exchange, fault)
        if path == "/v1/models":
            return await self._send_json(exchange, 200, models_json(self.models))
        model = path.removeprefix("/v1/models/")
        if model not in self.models:
            return await self._send_json(exchange, 404, model_not_found(model).body)
        return await self._send_json(exchange, 200, model_json(model))

    async def _tokenize(
        self, request: HttpRequest, exchange: _Exchange, body: Any, json_error: str | None
    ) -> bool:
        """llama.cpp's ``POST /tokenize``: ``{"content": "..."}`` -> ``{"tokens": [ids]}``,
        with the simulator's own tokenizer (so a prompt gauge can count exactly)."""
        if request.method != "POST":
            return await self._method_not_allowed(exchange, request)
        if not self._authorized(request):
            return await self._send_json(exchange, 401, AUTH_ERROR)
        if json_error is not None or not isinstance(body, dict):
            error = invalid(None, 'The request body must be a JSON object with "content"')
            return await self._send_json(exchange, 400, error.body)
        content = body.get("content")
        if not isinstance(content, str):
            error = invalid("content", "content must be a string")
            return await self._send_json(exchange, 400, error.body)
        tokens = self.tokenizer.encode(content)
        if body.get("with_pieces") is True:
            pieces = [{"id": t, "piece": self.tokenizer.decode([t])} for t in tokens]
            return await self._send_json(exchange, 200, {"tokens": pieces})
        return await self._send_json(exchange, 200, {"tokens": tokens})

    async def _completions(
        self,
        request: HttpRequest,
        exchange: _Exchange,
        received: float,
        body: Any,
        json_error: str | None,
    ) -> bool:
        self.ledger.record()
        if not self._authorized(request):
            return await self._send_json(exchange, 401, AUTH_ERROR)
        try:
            fault = self._fault_for(request)
            pace = self._pace_for(request)
            if fault == "slow-first-byte":
                await asyncio.sleep(SLOW_FIRST_BYTE_S)
            if fault in STATUS_FAULTS:
                return await self._status_fault(exchange, fault)  # type: ignore[arg-type]
            if json_error is not None:
                raise invalid(None, f"The request body is not valid JSON: {json_error}")
            plan = plan_completion(
                body,
                tokenizer=self.tokenizer,
                model=self.model,
                models=self.models,
                cache=self.cache,
                min_tokens_floor=2 * CHUNKS_BEFORE_FAULT if fault in MID_STREAM_FAULTS else 0,
                lead_token=self._multibyte_token() if fault == "split-utf8" else None,
            )
        except SimHTTPError as error:
            return await self._send_json(exchange, error.status, error.body)
        exchange.request_id = plan.id
        if plan.stream:
            self.ledger.record(tokens=plan.prompt_tokens, count_request=False)
            try:
                return await self._stream(exchange, plan, pace, fault, received)
            finally:
                self.ledger.record(tokens=plan.completion_tokens, count_request=False)
        self.ledger.record(tokens=plan.prompt_tokens, count_request=False)
        return await self._complete(exchange, plan, pace, fault, received)

    def _fault_for(self, request: HttpRequest) -> str | None:
        requested = request.headers.get("x-sim-fault")
        if requested is None or requested == "":
            return self._faults.take()
        if requested not in FAULT_MODES:
            raise _bad_fault(requested)
        return requested

    def _pace_for(self, request: HttpRequest) -> float | None:
        header = request.headers.get("x-sim-rate")
        if header is None:
            return self.rate
        try:
            return _pace_value(float(header))
        except ValueError:
            raise invalid(
                "x-sim-rate", f"x-sim-rate must be tokens per second (0 = unpaced), not {header!r}"
            ) from None

    def _multibyte_token(self) -> int:
        # The opening curly quote: three UTF-8 bytes, and the book's dialogue follows it.
        return self.tokenizer.encode("“")[0]

    # -- answers --------------------------------------------------------------------------

    def _base_headers(self, exchange: _Exchange) -> list[tuple[str, str]]:
        return [
            ("connection", "keep-alive" if exchange.keep_alive else "close"),
            ("x-request-id", exchange.request_id),
            *self.ledger.headers(),
        ]

    async def _send_json(
        self,
        exchange: _Exchange,
        status: int,
        body: Any,
        extra_headers: list[tuple[str, str]] | None = None,
    ) -> bool:
        data = dumps(body).encode()
        headers = [
            ("content-type", "application/json"),
            ("content-length", str(len(data))),
            *self._base_headers(exchange),
            *(extra_headers or []),
        ]
        exchange.writer.write(response_head(status, headers) + data)
        await exchange.writer.drain()
        return exchange.keep_alive

    async def _method_not_allowed(self, exchange: _Exchange, request: HttpRequest) -> bool:
        body = error_body(
            f"Method {request.method} is not allowed on {request.path}",
            "invalid_request_error",
            None,
            "method_not_allowed",
        )
        return await self._send_json(exchange, 405, body)

    async def _status_fault(self, exchange: _Exchange, fault: str) -> bool:
        if fault == "rate-limit":
            extra = [("retry-after", "1"), ("retry-after-ms", "50")]
            return await self._send_json(exchange, 429, RATE_LIMIT_BODY, extra)
        if fault == "server-error":
            return await self._send_json(exchange, 500, SERVER_ERROR_BODY)
        if fault == "unavailable":
            return await self._send_json(exchange, 503, UNAVAILABLE_BODY)
        # html-502: what a proxy answers; it knows nothing of the API's rate-limit headers.
        page = HTML_502_PAGE.encode()
        headers = [
            ("content-type", "text/html"),
            ("content-length", str(len(page))),
            ("connection", "keep-alive" if exchange.keep_alive else "close"),
        ]
        exchange.writer.write(response_head(502, headers) + page)
        await exchange.writer.drain()
        return exchange.keep_alive

    def _prompt_time(self, plan: CompletionPlan, pace: float | None) -> float:
        if pace is None:
            return plan.setup_time
        return plan.prompt_tokens / PROMPT_TOKENS_PER_S

    async def _complete(
        self,
        exchange: _Exchange,
        plan: CompletionPlan,
        pace: float | None,
        fault: str | None,
        received: float,
    ) -> bool:
        prompt_time = self._prompt_time(plan, pace)
        if pace is not None:
            await asyncio.sleep(prompt_time)
        generating = time.perf_counter()
        for choice in plan.choices:
            while not choice.generation.done:
                choice.generation.advance(GENERATION_SLICE_TOKENS)
                await asyncio.sleep(0)  # let other connections run between slices
        if pace is not None:
            # Choices of a batch are generated side by side: the longest one sets the time.
            longest = max(len(choice.generation.tokens) for choice in plan.choices)
            await asyncio.sleep(max(0.0, generating + longest / pace - time.perf_counter()))
        completion_time = time.perf_counter() - generating
        self.ledger.record(tokens=plan.completion_tokens, count_request=False)
        finished = time.perf_counter()
        time_info = _time_info(received, plan.started_at, prompt_time, completion_time, finished)
        if fault == "malformed-sse":
            data = b'{"id":"' + plan.id.encode() + b'","choices":[{not json'
        elif fault == "error-event":
            data = dumps(stream_error_event(plan.id)).encode()
        else:
            data = dumps(plan.response(time_info)).encode()
        headers = [
            ("content-type", "application/json"),
            ("content-length", str(len(data))),
            *self._base_headers(exchange),
        ]
        head = response_head(200, headers)
        writer = exchange.writer
        if fault in ("drop", "stall"):
            writer.write(head + data[: len(data) // 2])
            await writer.drain()
            if fault == "stall":
                await self._stall(exchange)
            return False
        if fault == "split-utf8":
            first, second = _split_inside_character(data)
            writer.write(head + first)
            await writer.drain()
            writer.write(second)
        else:
            writer.write(head + data)
        await writer.drain()
        return exchange.keep_alive

    async def _stall(self, exchange: _Exchange) -> None:
        """Send nothing more until the client gives up (or the server stops)."""
        while not exchange.client_gone():
            await asyncio.sleep(STALL_POLL_S)
        self._note_disconnect()

    async def _stream(
        self,
        exchange: _Exchange,
        plan: CompletionPlan,
        pace: float | None,
        fault: str | None,
        received: float,
    ) -> bool:
        writer = exchange.writer
        split = fault == "split-utf8"
        headers = [
            ("content-type", "text/event-stream; charset=utf-8"),
            ("transfer-encoding", "chunked"),
            ("cache-control", "no-cache"),
            *self._base_headers(exchange),
        ]
        writer.write(response_head(200, headers))
        prompt_time = self._prompt_time(plan, pace)
        try:
            if pace is not None:
                await self._sleep_unless_gone(exchange, prompt_time)
            await self._send_event(exchange, _event(plan.first_chunk()), split)
            if plan.echo:
                for choice in plan.choices:
                    event = plan.content_event(choice, 0, 0, prefix=choice.prompt_text)
                    await self._send_event(exchange, event, split)
            first_token_at = time.perf_counter()
            broke = await self._stream_tokens(exchange, plan, pace, fault, split)
            if broke is not None:
                return broke
            finished = time.perf_counter()
            time_info = _time_info(
                received, plan.started_at, prompt_time, finished - first_token_at, finished
            )
            await self._send_event(exchange, _event(plan.last_chunk(time_info)), split)
            if fault != "no-done":
                await self._send_event(exchange, b"data: [DONE]\n\n", split)
            writer.write(LAST_CHUNK)
            await writer.drain()
        except (ConnectionError, _ClientGone):
            self._note_disconnect()
            return False
        return exchange.keep_alive

    async def _stream_tokens(
        self,
        exchange: _Exchange,
        plan: CompletionPlan,
        pace: float | None,
        fault: str | None,
        split: bool,
    ) -> bool | None:
        """Send every choice's pieces at the pace; a result (not None) ends the response."""
        mid_fault = fault if fault in MID_STREAM_FAULTS else None
        if mid_fault:
            group = 1  # one token per chunk, so the partial text spans several chunks
        elif pace is None:
            group = UNPACED_TOKENS_PER_CHUNK
        else:
            group = MAX_TOKENS_PER_CHUNK
        generations = [choice.generation for choice in plan.choices]
        positions = [0] * len(plan.choices)
        chunks_sent = 0
        t0 = time.perf_counter()
        while True:
            if exchange.client_gone():
                raise _ClientGone
            due = math.inf if pace is None else int((time.perf_counter() - t0) * pace) + 1
            progressed = True
            # Round-robin over the choices so a batch's choices advance side by side.
            while progressed:
                progressed = False
                for i, choice in enumerate(plan.choices):
                    generation = generations[i]
                    wanted = positions[i] + group
                    if len(generation.tokens) < wanted:
                        generation.advance(wanted - len(generation.tokens))
                    # Text held back for a possible stop sequence needs more tokens to resolve.
                    while not generation.done and generation.releasable() <= positions[i]:
                        generation.advance(1)
                    limit = min(due, generation.releasable())
                    if positions[i] >= limit:
                        continue
                    end = min(positions[i] + group, limit)
                    await self._send_event(
                        exchange, plan.content_event(choice, positions[i], end), split
                    )
                    positions[i] = end
                    progressed = True
                    chunks_sent += 1
                    if mid_fault and chunks_sent >= CHUNKS_BEFORE_FAULT:
                        return await self._break_stream(exchange, plan, mid_fault)
            pending = [
                p for g, p in zip(generations, positions) if not (g.done and p == len(g.pieces))
            ]
            if not pending:
                break
            if pace is not None:
                next_due = t0 + (min(pending) + 1) / pace
                await self._sleep_unless_gone(
                    exchange, max(PACE_TICK_S, next_due - time.perf_counter())
                )
        if mid_fault:
            # Shorter than the fault's threshold (tiny max_tokens): break after the last token.
            return await self._break_stream(exchange, plan, mid_fault)
        return None

    async def _break_stream(self, exchange: _Exchange, plan: CompletionPlan, fault: str) -> bool:
        writer = exchange.writer
        if fault == "drop":
            # Close without the terminating chunk: the body is visibly incomplete.
            await writer.drain()
            writer.close()
            return False
        if fault == "stall":
            await writer.drain()
            await self._stall(exchange)
            return False
        if fault == "malformed-sse":
            await self._send_event(exchange, b"data: {not json\n\n", False)
        else:  # error-event
            await self._send_event(exchange, _event(stream_error_event(plan.id)), False)
        writer.write(LAST_CHUNK)
        await writer.drain()
        return exchange.keep_alive

    async def _send_event(self, exchange: _Exchange, event: bytes, split: bool) -> None:
        if exchange.client_gone():
            raise _ClientGone
        writer = exchange.writer
        if split:
            first, second = _split_inside_character(event)
            writer.write(encode_chunk(first))
            await writer.drain()
            writer.write(encode_chunk(second))
        else:
            writer.write(encode_chunk(event))
        await writer.drain()

    async def _sleep_unless_gone(self, exchange: _Exchange, seconds: float) -> None:
        deadline = time.perf_counter() + seconds
        while True:
            if exchange.client_gone():
                raise _ClientGone
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return
            await asyncio.sleep(min(remaining, STALL_POLL_S))


def _event(payload: Any) -> bytes:
    return b"data: " + dumps(payload).encode() + b"\n\n"


def _time_info(
    received: float, started: float, prompt_time: float, completion_time: float, finished: float
) -> dict[str, Any]:
    """Server-side seconds: waiting (received → started), prompt, completion, and in all."""
    return {
        "queue_time": max(0.0, started - received),
        "prompt_time": prompt_time,
        "completion_time": max(0.0, completion_time),
        "total_time": finished - received,
        "created": time.time(),
    }


def _split_inside_character(data: bytes) -> tuple[bytes, bytes]:
    """Cut after the first byte of the first multi-byte UTF-8 character (else in the middle)."""
    for index, byte in enumerate(data):
        if byte >= 0xC0:
            return data[: index + 1], data[index + 1 :]
    middle = max(1, len(data) // 2)
    return data[:middle], data[middle:]


def _pace_value(rate: float | None) -> float | None:
    if rate is None or rate == 0:
        return None
    if not math.isfinite(rate) or rate < 0:
        raise ValueError(
            f"rate must be a positive number of tokens per second, or 0/None, not {rate}"
        )
    return float(rate)


def _bad_fault(fault: str) -> SimHTTPError:
    return invalid("x-sim-fault", f"x-sim-fault {fault!r} is not one of: {', '.join(FAULT_MODES)}")


def _request_id() -> str:
    return f"req_{uuid.uuid4().hex}"
