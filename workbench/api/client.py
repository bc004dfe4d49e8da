"""The async client for ``/v1/completions`` and ``/v1/models``.

One pooled ``httpx.AsyncClient`` per :class:`CompletionClient` (keep-alive between requests).
Retries follow the official SDK (see :mod:`workbench.api.retry`) and stop at the response
headers: once a stream has started, nothing is retried, so text is never delivered twice.

Streaming::

    async with CompletionClient(endpoint) as client:
        async with client.stream(request) as events:     # closes the connection on exit
            async for event in events:
                ...

``async for event in client.stream(request)`` works too. Breaking out of that loop closes the
connection as soon as the event loop runs the generator's finaliser (the next loop iteration);
the ``async with`` form (or ``contextlib.aclosing``) closes it before the loop body continues.
Cancelling the task that iterates closes it at once either way.
"""

from __future__ import annotations

import asyncio
import json
import random as _random
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any, AsyncGenerator, AsyncIterator, Callable

import httpx

from workbench import __version__
from workbench.api import errors
from workbench.api.accumulate import ResultBuilder
from workbench.api.endpoint import Endpoint
from workbench.api.failures import partial_note, status_error, text_extract, transport_error
from workbench.api.request import CompletionRequest, FieldError, RequestValidationError
from workbench.api.retry import RetryPolicy, Sleep, retry_delay, should_retry_status
from workbench.api.sse import ServerSentEvent, SSEDecoder
from workbench.api.types import (
    CompletionResult,
    RateLimits,
    ResponseStarted,
    StreamEvent,
    StreamFinished,
)

COMPLETIONS_PATH = "/v1/completions"
MODELS_PATH = "/v1/models"
USER_AGENT = f"workbench/{__version__}"
# Upper bound on waiting for the end of the body after [DONE] (see CompletionClient._drain).
DRAIN_AFTER_DONE_S = 1.0
MAX_ERROR_BODY_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds. ``read`` is the longest silence allowed between two pieces of a response, so it
    also catches a stream that stalls in the middle. The SDK's defaults: connect 5, read 60."""

    connect: float = 5.0
    read: float = 60.0
    write: float = 60.0
    pool: float = 60.0

    def to_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


def encode_body(body: dict[str, Any]) -> bytes:
    """Compact JSON, UTF-8 kept as is (``ensure_ascii=False``), as the SDK sends it."""
    try:
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise RequestValidationError([FieldError("request", f"cannot be sent as JSON: {error}")])
    return text.encode("utf-8")


@dataclass(slots=True)
class _Opened:
    """A response that passed the retry loop: a success status, headers in hand."""

    response: httpx.Response
    attempts: int
    sent_at: float
    content: bytes | None  # the body, when it was read inside the retry loop


class CompletionStream:
    """What :meth:`CompletionClient.stream` returns: an async iterator of :data:`StreamEvent`
    and an async context manager that closes the connection on exit."""

    def __init__(self, events: AsyncGenerator[StreamEvent, None], holder: list[ResultBuilder]):
        self._events = events
        self._holder = holder

    def __aiter__(self) -> CompletionStream:
        return self

    async def __anext__(self) -> StreamEvent:
        return await self._events.__anext__()

    async def aclose(self) -> None:
        """Stop the stream and close its connection (safe to call more than once)."""
        await self._events.aclose()

    async def __aenter__(self) -> CompletionStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def partial(self) -> CompletionResult | None:
        """The result so far, metrics as of now (None before the response started): what a
        caller that cancelled keeps. After StreamFinished, the final result."""
        return self._holder[0].snapshot() if self._holder else None


class CompletionClient:
    """Talks to one :class:`Endpoint`. Use as ``async with`` or call :meth:`aclose`.

    ``sleep``, ``random`` and ``clock`` are injectable so tests can record the retry delays
    asked for without waiting, and pin the jitter.
    """

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        timeouts: Timeouts = Timeouts(),
        max_retries: int = 2,
        sleep: Sleep | None = None,
        random: Callable[[], float] = _random.random,
        clock: Callable[[], float] = time.perf_counter,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.timeouts = timeouts
        self.policy = RetryPolicy(max_retries=max_retries)
        self._sleep: Sleep = sleep or asyncio.sleep
        self._random = random
        self._clock = clock
        self._transport = transport
        self._http: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        return f"CompletionClient({self.endpoint!r}, max_retries={self.policy.max_retries})"

    # -- lifecycle --------------------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        if self._http is None or self._http.is_closed:
            self._http = httpx.AsyncClient(
                timeout=self.timeouts.to_httpx(),
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
                transport=self._transport,
                follow_redirects=False,
                # HTTP(S)_PROXY must not capture requests to this machine (the simulator).
                trust_env=not self.endpoint.is_loopback,
            )
        return self._http

    async def __aenter__(self) -> CompletionClient:
        self._client()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # -- public calls -----------------------------------------------------------------------

    async def complete(self, request: CompletionRequest) -> CompletionResult:
        """One non-streaming completion (the body says ``"stream":false``)."""
        content = self._prepare(request, stream=False)
        opened = await self._open("POST", COMPLETIONS_PATH, content, read_body=True, model=request.model)
        response = opened.response
        rate_limits = RateLimits.from_headers(response.headers)
        builder = ResultBuilder(rate_limits=rate_limits, sent_at=opened.sent_at, clock=self._clock)
        data = self._json_body(opened, builder.finish)
        if data.get("error"):
            raise status_error(
                response.status_code,
                data,
                headers=response.headers,
                endpoint=self.endpoint,
                url=str(response.request.url),
                model=request.model,
                rate_limits=rate_limits,
                partial=builder.finish(),
                attempts=opened.attempts,
            )
        builder.add(data)
        return builder.finish()

    def stream(self, request: CompletionRequest) -> CompletionStream:
        """Stream a completion: ResponseStarted, TextDelta…, ChoiceFinished…, StreamFinished.

        The request is validated here, before anything is sent.
        """
        content = self._prepare(request, stream=True)
        holder: list[ResultBuilder] = []
        return CompletionStream(self._stream_events(request, content, holder), holder)

    async def collect(self, request: CompletionRequest) -> CompletionResult:
        """The whole result, streamed when ``request.stream`` is true (as the user asked the
        request to be sent), fetched in one response otherwise."""
        if not request.stream:
            return await self.complete(request)
        async with self.stream(request) as events:
            async for event in events:
                if isinstance(event, StreamFinished):
                    return event.result
        # Every stream that ends without an error ends with StreamFinished.
        raise AssertionError("stream ended without StreamFinished")  # pragma: no cover

    async def list_models(self) -> list[str]:
        """Model ids from ``GET /v1/models``, in the server's order."""
        self.endpoint.require_key()
        opened = await self._open("GET", MODELS_PATH, None, read_body=True, model=None)
        data = self._json_body(opened, None)
        models = data.get("data")
        if not isinstance(models, list):
            raise errors.ProtocolError(
                f"{self.endpoint.host} answered {MODELS_PATH} without a \"data\" list."
            )
        return [item["id"] for item in models if isinstance(item, dict) and isinstance(item.get("id"), str)]

    # -- internals --------------------------------------------------------------------------

    def _prepare(self, request: CompletionRequest, *, stream: bool) -> bytes:
        request.check()
        self.endpoint.require_key()
        return encode_body(request.to_body(stream=stream))

    def _headers(self, *, has_body: bool, stream: bool, retries_taken: int) -> httpx.Headers:
        headers = httpx.Headers(
            {
                "Accept": "text/event-stream" if stream else "application/json",
                "User-Agent": USER_AGENT,
                "x-stainless-retry-count": str(retries_taken),
                **self.endpoint.auth_headers(),
            }
        )
        if has_body:
            headers["Content-Type"] = "application/json"
        # The user's CEREBRAS_CUSTOM_HEADERS win, whatever their letter case (as in the SDK).
        for name, value in self.endpoint.headers.items():
            headers[name] = value
        return headers

    async def _open(
        self,
        method: str,
        path: str,
        content: bytes | None,
        *,
        read_body: bool,
        model: str | None,
        stream: bool = False,
    ) -> _Opened:
        """Send with retries until a success status; raise the right error otherwise.

        With ``read_body`` the body is read inside the loop, so a connection that breaks while
        the body arrives is retried too (nothing has reached the caller yet).
        """
        http = self._client()
        url = self.endpoint.url(path)
        max_retries = self.policy.max_retries
        for retries_taken in range(max_retries + 1):
            retries_left = max_retries - retries_taken
            request = http.build_request(
                method,
                url,
                content=content,
                headers=self._headers(
                    has_body=content is not None, stream=stream, retries_taken=retries_taken
                ),
            )
            sent_at = self._clock()
            response: httpx.Response | None = None
            try:
                response = await http.send(request, stream=True)
                if response.is_redirect:
                    raise await self._status_error(response, model, retries_taken + 1, sent_at)
                if response.status_code >= 400:
                    if retries_left > 0 and should_retry_status(
                        response.status_code, response.headers
                    ):
                        await response.aclose()
                        await self._sleep(self._delay(retries_taken, response.headers))
                        continue
                    raise await self._status_error(response, model, retries_taken + 1, sent_at)
                body = await response.aread() if read_body else None
            except httpx.RequestError as exc:
                if response is not None:
                    await response.aclose()
                if retries_left > 0:
                    await self._sleep(self._delay(retries_taken, None))
                    continue
                rate_limits = RateLimits.from_headers(response.headers) if response else None
                raise transport_error(
                    exc,
                    endpoint=self.endpoint,
                    connect_timeout=self.timeouts.connect,
                    read_timeout=self.timeouts.read,
                    response_started=response is not None,
                    partial=CompletionResult(rate_limits=rate_limits) if rate_limits else None,
                    attempts=retries_taken + 1,
                ) from exc
            except BaseException:
                # Cancelled (or our own status error): never leave a connection half-read.
                if response is not None:
                    await response.aclose()
                raise
            if read_body:
                await response.aclose()
            return _Opened(response, retries_taken + 1, sent_at, body)
        raise AssertionError("unreachable: the loop returns or raises")

    def _delay(self, retries_taken: int, headers: httpx.Headers | None) -> float:
        return retry_delay(retries_taken, headers, policy=self.policy, random=self._random)

    async def _status_error(
        self, response: httpx.Response, model: str | None, attempts: int, sent_at: float
    ) -> errors.APIStatusError:
        received = bytearray()
        try:
            # Enough for any real error body; a proxy's endless page is not read to the end.
            async for piece in response.aiter_bytes():
                received += piece
                if len(received) >= MAX_ERROR_BODY_BYTES:
                    break
        except httpx.RequestError:
            pass  # what arrived (perhaps nothing) plus the status still say what happened
        finally:
            await response.aclose()
        content = bytes(received[:MAX_ERROR_BODY_BYTES])
        rate_limits = RateLimits.from_headers(response.headers)
        return status_error(
            response.status_code,
            content,
            headers=response.headers,
            endpoint=self.endpoint,
            url=str(response.request.url),
            model=model,
            rate_limits=rate_limits,
            partial=ResultBuilder(
                rate_limits=rate_limits, sent_at=sent_at, clock=self._clock
            ).finish(),
            attempts=attempts,
        )

    def _json_body(
        self, opened: _Opened, partial: Callable[[], CompletionResult] | None
    ) -> dict[str, Any]:
        content = opened.content or b""
        try:
            data = json.loads(content)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            extract = text_extract(content.decode("utf-8", errors="replace")) or "an empty body"
            raise errors.ProtocolError(
                f"{self.endpoint.host} answered {opened.response.status_code} with something "
                f"that is not a JSON object: {extract!r}. Is the base URL "
                f"{self.endpoint.base_url} an OpenAI-compatible API?",
                partial=partial() if partial else None,
            )
        return data

    async def _stream_events(
        self, request: CompletionRequest, content: bytes, holder: list[ResultBuilder]
    ) -> AsyncGenerator[StreamEvent, None]:
        opened = await self._open(
            "POST", COMPLETIONS_PATH, content, read_body=False, model=request.model, stream=True
        )
        response = opened.response
        chunks: AsyncIterator[bytes] | None = None
        try:
            rate_limits = RateLimits.from_headers(response.headers)
            builder = ResultBuilder(rate_limits=rate_limits, sent_at=opened.sent_at, clock=self._clock)
            holder.append(builder)
            yield ResponseStarted(
                status=response.status_code, rate_limits=rate_limits, attempts=opened.attempts
            )
            content_type = response.headers.get("content-type", "")
            if content_type.startswith("application/json"):
                # A server that ignores "stream": true answers with one JSON body.
                opened.content = await self._read_rest(response, builder, opened.attempts)
                data = self._json_body(opened, builder.finish)
                for event in self._events_for(ServerSentEvent(data=json.dumps(data)), response, builder, request):
                    yield event
                builder.done = True
                yield StreamFinished(builder.finish())
                return
            if content_type.startswith("text/html"):
                # A captive portal or proxy page with a 200: not an event stream at all.
                opened.content = await self._read_rest(response, builder, opened.attempts)
                self._json_body(opened, builder.finish)
            chunks = response.aiter_bytes()
            decoder = SSEDecoder()
            done = False
            while not done:
                try:
                    chunk = await chunks.__anext__()
                except StopAsyncIteration:
                    break
                except httpx.RequestError as exc:
                    raise self._mid_stream(exc, builder, opened.attempts) from exc
                for sse in decoder.feed(chunk):
                    if sse.data.startswith("[DONE]"):
                        done = True
                        break
                    for event in self._events_for(sse, response, builder, request):
                        yield event
            if not done:
                for sse in decoder.close():
                    if sse.data.startswith("[DONE]"):
                        done = True
                        break
                    for event in self._events_for(sse, response, builder, request):
                        yield event
            if not done:
                partial = builder.finish()
                raise errors.StreamTruncatedError(
                    f"The stream from {self.endpoint.host} ended without [DONE]: the response "
                    "may be incomplete." + partial_note(partial),
                    partial=partial,
                )
            builder.done = True
            try:
                yield StreamFinished(builder.finish())
            except GeneratorExit:
                # The caller stopped at StreamFinished (returned from its loop): the stream is
                # complete, so still hand the connection back to the pool.
                await self._drain(chunks)
                raise
            await self._drain(chunks)
        finally:
            if chunks is not None:
                await chunks.aclose()  # type: ignore[attr-defined]
            await response.aclose()

    async def _drain(self, chunks: AsyncIterator[bytes]) -> None:
        """Read what follows ``[DONE]`` (normally just the chunked body's end) so the
        connection goes back to the pool instead of being closed: the next request then skips
        a TCP and TLS handshake. A server that keeps the body open after ``[DONE]`` costs the
        caller at most ``DRAIN_AFTER_DONE_S`` (after StreamFinished) and never an error."""
        try:
            async with asyncio.timeout(DRAIN_AFTER_DONE_S):
                async for _ in chunks:
                    pass
        except (TimeoutError, httpx.RequestError):
            pass

    async def _read_rest(
        self, response: httpx.Response, builder: ResultBuilder, attempts: int
    ) -> bytes:
        try:
            return await response.aread()
        except httpx.RequestError as exc:
            raise self._mid_stream(exc, builder, attempts) from exc

    def _mid_stream(
        self, exc: httpx.RequestError, builder: ResultBuilder, attempts: int
    ) -> errors.APIConnectionError:
        return transport_error(
            exc,
            endpoint=self.endpoint,
            connect_timeout=self.timeouts.connect,
            read_timeout=self.timeouts.read,
            response_started=True,
            partial=builder.finish(),
            attempts=attempts,
        )

    def _events_for(
        self,
        sse: ServerSentEvent,
        response: httpx.Response,
        builder: ResultBuilder,
        request: CompletionRequest,
    ) -> list[StreamEvent]:
        text = sse.data.strip()
        if not text:
            return []  # an empty data event carries nothing
        try:
            data = json.loads(text)
        except ValueError:
            partial = builder.finish()
            raise errors.ProtocolError(
                f"{self.endpoint.host} sent a stream event that is not valid JSON: "
                f"{text_extract(text, 80)!r}." + partial_note(partial),
                partial=partial,
            ) from None
        if isinstance(data, dict) and (data.get("error") or sse.event == "error"):
            raise status_error(
                response.status_code if not isinstance(data.get("status_code"), int) else data["status_code"],
                data,
                headers=response.headers,
                endpoint=self.endpoint,
                url=str(response.request.url),
                model=request.model,
                rate_limits=builder.result.rate_limits,
                partial=builder.finish(),
                in_stream=True,
            )
        if not isinstance(data, dict):
            partial = builder.finish()
            raise errors.ProtocolError(
                f"{self.endpoint.host} sent a stream event that is not a JSON object: "
                f"{text_extract(text, 80)!r}." + partial_note(partial),
                partial=partial,
            )
        return list(builder.add(data))

