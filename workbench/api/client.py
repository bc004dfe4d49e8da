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
import ssl
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any, AsyncGenerator, AsyncIterator, Callable

import httpx

from workbench import __version__
from workbench.api import errors
from workbench.api.accumulate import MalformedChunk, OutputLimitReached, ResultBuilder
from workbench.api.endpoint import Endpoint
from workbench.api.failures import (
    one_line,
    partial_note,
    status_class,
    status_error,
    status_or_none,
    text_extract,
    transport_error,
)
from workbench.api.limits import DEFAULT_LIMITS, Limits, json_containers, size_text
from workbench.api.request import CompletionRequest, FieldError, RequestValidationError
from workbench.api.retry import (
    ANNOUNCE_RETRY_AFTER_S,
    RetryCallback,
    RetryPolicy,
    Sleep,
    retry_delay,
    retry_notice,
    should_retry_status,
)
from workbench.api.sse import ServerSentEvent, SSEDecoder, SSELimitError
from workbench.api.timeouts import Timeouts
from workbench.api.types import (
    ChoiceFinished,
    CompletionResult,
    RateLimits,
    ResponseStarted,
    StreamEvent,
    StreamFinished,
    TextDelta,
)

__all__ = [
    "ANNOUNCE_RETRY_AFTER_S",
    "CompletionClient",
    "CompletionStream",
    "RetryCallback",
    "Timeouts",
    "retry_notice",
]

COMPLETIONS_PATH = "/v1/completions"
MODELS_PATH = "/v1/models"
# llama.cpp's tokenizer endpoint (the simulator has it too); at the server root, not under /v1.
TOKENIZE_PATH = "/tokenize"
USER_AGENT = f"workbench/{__version__}"
# Upper bound on waiting for the end of the body after [DONE] (see CompletionClient._drain).
DRAIN_AFTER_DONE_S = 1.0

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
    deadline: float = 0.0  # loop time by which the response must make progress


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
    asked for without waiting, and pin the jitter. ``limits`` caps what a response may hold
    (see :mod:`workbench.api.limits`); ``on_retry`` hears about every retry before its wait
    (see :data:`RetryCallback`): a UI should show :func:`retry_notice` when the wait is
    :data:`ANNOUNCE_RETRY_AFTER_S` or longer.
    """

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        timeouts: Timeouts = Timeouts(),
        max_retries: int = 2,
        limits: Limits = DEFAULT_LIMITS,
        on_retry: RetryCallback | None = None,
        sleep: Sleep | None = None,
        random: Callable[[], float] = _random.random,
        clock: Callable[[], float] = time.perf_counter,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.timeouts = timeouts
        self.policy = RetryPolicy(max_retries=max_retries)
        self.limits = limits
        self.on_retry = on_retry
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
                verify=self._tls_verification(),
            )
        return self._http

    def _tls_verification(self) -> ssl.SSLContext | bool:
        """Certificate checks for https (httpx's default: the certifi bundle). A plain http://
        endpoint never uses TLS (every request goes to the base URL, redirects are not
        followed), so it gets an empty context instead of loading the bundle: that took
        ~20 ms and ~1 MB at start-up (docs/benchmarks.md). Empty, it trusts no certificate,
        so if TLS were ever used it would fail closed."""
        if self.endpoint.scheme == "https":
            return True
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)

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
        builder = self._builder(opened, request)
        data = self._json_body(opened, builder.finish)
        if data.get("error"):
            raise self._api_error(response, data, request.model, builder, opened.attempts)
        self._fold(builder, data)
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
        """Model ids from ``GET /v1/models``, in the server's order (at most
        ``limits.models`` of them, else :class:`errors.ResponseTooLargeError`)."""
        self.endpoint.require_key()
        opened = await self._open("GET", MODELS_PATH, None, read_body=True, model=None)
        data = self._json_body(opened, None)
        models = data.get("data")
        if not isinstance(models, list):
            raise errors.ProtocolError(
                f"{self.endpoint.host} answered {MODELS_PATH} without a \"data\" list."
            )
        if len(models) > self.limits.models:
            raise errors.ResponseTooLargeError(
                f"{self.endpoint.host} listed {len(models):,} models, more than the client's "
                f"limit of {self.limits.models:,}: is the base URL "
                f"{self.endpoint.redacted_base_url} an OpenAI-compatible API?"
            )
        return [item["id"] for item in models if isinstance(item, dict) and isinstance(item.get("id"), str)]

    async def tokenize(self, text: str) -> list[int] | None:
        """The server's token ids for ``text`` (llama.cpp's ``POST /tokenize``, which the
        simulator offers too), or None when the endpoint has no tokenizer: 404/405, or an
        answer without a ``tokens`` list. Not retried (a prompt gauge can wait for the next
        keystroke); other failures raise as any call does. Bounded like every response."""
        self.endpoint.require_key()
        content = encode_body({"content": text})
        try:
            opened = await self._open(
                "POST", TOKENIZE_PATH, content, read_body=True, model=None, retries=0
            )
        except errors.APIStatusError as error:
            if error.status_code in (404, 405, 501):
                return None
            raise
        try:
            data = self._json_body(opened, None)
        except errors.ResponseTooLargeError:
            raise
        except errors.ProtocolError:
            return None  # not a tokenizer's answer (a web page, say): no tokenizer here
        tokens = data.get("tokens")
        if not isinstance(tokens, list):
            return None
        if len(tokens) > self.limits.tokenize_tokens:
            raise errors.ResponseTooLargeError(
                f"{self.endpoint.host} answered {TOKENIZE_PATH} with {len(tokens):,} tokens, "
                f"more than the client's limit of {self.limits.tokenize_tokens:,}."
            )
        ids: list[int] = []
        for item in tokens:
            # llama.cpp answers plain ids, or {"id": …, "piece": …} with with_pieces.
            value = item.get("id") if isinstance(item, dict) else item
            if not isinstance(value, int) or isinstance(value, bool):
                return None
            ids.append(value)
        return ids

    # -- internals --------------------------------------------------------------------------

    def _prepare(self, request: CompletionRequest, *, stream: bool) -> bytes:
        request.check()
        self.endpoint.require_key()
        return encode_body(request.to_body(stream=stream))

    def _builder(self, opened: _Opened, request: CompletionRequest) -> ResultBuilder:
        return ResultBuilder(
            rate_limits=RateLimits.from_headers(opened.response.headers),
            sent_at=opened.sent_at,
            clock=self._clock,
            limits=self.limits,
            expected_choices=request.choice_count,
        )

    def _fold(self, builder: ResultBuilder, data: dict[str, Any]) -> list[TextDelta | ChoiceFinished]:
        """``builder.add(data)``, a cap reached turned into ResponseTooLargeError (the text so
        far kept)."""
        try:
            return builder.add(data)
        except MalformedChunk as malformed:
            partial = builder.finish()
            raise errors.ProtocolError(
                f"{self.endpoint.host} {malformed}." + partial_note(partial), partial=partial
            ) from None
        except OutputLimitReached as reached:
            partial = builder.finish()
            raise errors.ResponseTooLargeError(
                f"{self.endpoint.host} {reached}: the response was cut there."
                + partial_note(partial),
                partial=partial,
            ) from None

    def _headers(self, *, has_body: bool, stream: bool, retries_taken: int) -> httpx.Headers:
        headers = httpx.Headers(
            {
                "Accept": "text/event-stream" if stream else "application/json",
                # Compressed bodies could expand a thousandfold in one read, past every cap.
                "Accept-Encoding": "identity",
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

    def _deadline(self) -> float:
        return asyncio.get_running_loop().time() + self.timeouts.progress_s

    def _no_progress(self, partial: CompletionResult | None, what: str) -> errors.APITimeoutError:
        return errors.APITimeoutError(
            f"{self.endpoint.host} {what} within {self.timeouts.progress_s:g} s "
            "(no-progress limit)." + partial_note(partial),
            partial=partial,
        )

    def _announce_retry(self, attempt: int, delay: float, reason: str) -> None:
        if self.on_retry is not None:
            self.on_retry(attempt, delay, reason)

    async def _open(
        self,
        method: str,
        path: str,
        content: bytes | None,
        *,
        read_body: bool,
        model: str | None,
        stream: bool = False,
        retries: int | None = None,
    ) -> _Opened:
        """Send with retries until a success status; raise the right error otherwise.

        With ``read_body`` the body is read inside the loop (at most ``limits.body_bytes``),
        so a connection that breaks while the body arrives is retried too (nothing has
        reached the caller yet).
        """
        http = self._client()
        url = self.endpoint.url(path)
        max_retries = self.policy.max_retries if retries is None else retries
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
            deadline = self._deadline()
            response: httpx.Response | None = None
            try:
                try:
                    async with asyncio.timeout_at(deadline):
                        response = await http.send(request, stream=True)
                except TimeoutError:
                    raise self._no_progress(None, "sent no complete response headers") from None
                if response.is_redirect:
                    raise await self._status_error(response, model, retries_taken + 1, sent_at)
                if response.status_code >= 400:
                    if retries_left > 0 and should_retry_status(
                        response.status_code, response.headers
                    ):
                        await response.aclose()
                        delay = self._delay(retries_taken, response.headers)
                        status = response.status_code
                        self._announce_retry(
                            retries_taken + 2, delay, f"HTTP {status} {status_class(status).label}"
                        )
                        await self._sleep(delay)
                        continue
                    raise await self._status_error(response, model, retries_taken + 1, sent_at)
                self._check_encoding(response)
                body = (
                    await self._read_capped(response, self.limits.body_bytes, deadline)
                    if read_body
                    else None
                )
            except httpx.RequestError as exc:
                if response is not None:
                    await response.aclose()
                if retries_left > 0:
                    delay = self._delay(retries_taken, None)
                    kind = "timeout" if isinstance(exc, httpx.TimeoutException) else "connection failed"
                    self._announce_retry(retries_taken + 2, delay, kind)
                    await self._sleep(delay)
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
            return _Opened(response, retries_taken + 1, sent_at, body, deadline)
        raise AssertionError("unreachable: the loop returns or raises")

    def _check_encoding(self, response: httpx.Response) -> None:
        encoding = response.headers.get("content-encoding", "").strip().lower()
        if encoding not in ("", "identity"):
            raise errors.ProtocolError(
                f"{self.endpoint.host} answered with a compressed body ({encoding[:40]!r}) "
                "although the client asked for none: compressed bodies are refused because "
                "they can expand past every size limit."
            )

    async def _read_capped(self, response: httpx.Response, cap: int, deadline: float) -> bytes:
        """The whole body, at most ``cap`` bytes, complete by ``deadline`` (loop time)."""
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and len(declared) < 20 and int(declared) > cap:
            raise self._too_large(response, cap)
        received = bytearray()
        try:
            async with asyncio.timeout_at(deadline):
                async for piece in response.aiter_bytes():
                    received += piece
                    if len(received) > cap:
                        raise self._too_large(response, cap)
        except TimeoutError:
            raise self._no_progress(None, "did not finish sending the response body") from None
        return bytes(received)

    def _too_large(self, response: httpx.Response, cap: int) -> errors.ResponseTooLargeError:
        return errors.ResponseTooLargeError(
            f"{self.endpoint.host} answered {response.status_code} with a body larger than the "
            f"client's limit of {size_text(cap)}: is the base URL "
            f"{self.endpoint.redacted_base_url} an OpenAI-compatible API?"
        )

    def _delay(self, retries_taken: int, headers: httpx.Headers | None) -> float:
        return retry_delay(retries_taken, headers, policy=self.policy, random=self._random)

    def _api_error(
        self,
        response: httpx.Response,
        content: bytes | dict[str, Any],
        model: str | None,
        builder: ResultBuilder,
        attempts: int,
        *,
        status: int | None = None,
        in_stream: bool = False,
    ) -> errors.APIStatusError:
        """The one place an error response (or error event) becomes an exception."""
        return status_error(
            response.status_code if status is None else status,
            content,
            headers=response.headers,
            endpoint=self.endpoint,
            url=str(response.request.url),
            model=model,
            rate_limits=builder.result.rate_limits,
            partial=builder.finish(),
            attempts=attempts,
            in_stream=in_stream,
        )

    async def _status_error(
        self, response: httpx.Response, model: str | None, attempts: int, sent_at: float
    ) -> errors.APIStatusError:
        cap = self.limits.error_body_bytes
        received = bytearray()
        try:
            # Enough for any real error body; a proxy's endless page is not read to the end,
            # nor waited for longer than the no-progress limit.
            async with asyncio.timeout_at(self._deadline()):
                async for piece in response.aiter_bytes():
                    received += piece
                    if len(received) >= cap:
                        break
        except (httpx.RequestError, TimeoutError):
            pass  # what arrived (perhaps nothing) plus the status still say what happened
        finally:
            await response.aclose()
        builder = ResultBuilder(
            rate_limits=RateLimits.from_headers(response.headers), sent_at=sent_at, clock=self._clock
        )
        return self._api_error(response, bytes(received[:cap]), model, builder, attempts)

    def _json_body(
        self, opened: _Opened, partial: Callable[[], CompletionResult] | None
    ) -> dict[str, Any]:
        content = opened.content or b""
        self._check_containers(content, builder_partial=partial)
        try:
            data = json.loads(content)
        except (ValueError, RecursionError):
            data = None
        if not isinstance(data, dict):
            prefix = content[: self.limits.error_body_bytes].decode("utf-8", errors="replace")
            # Readable text if there is any, else the start as it is (a page of bare markup).
            extract = text_extract(prefix) or one_line(prefix, 80) or "an empty body"
            raise errors.ProtocolError(
                f"{self.endpoint.host} answered {opened.response.status_code} with something "
                f"that is not a JSON object: {extract!r}. Is the base URL "
                f"{self.endpoint.redacted_base_url} an OpenAI-compatible API?",
                partial=partial() if partial else None,
            )
        return data

    def _check_containers(
        self, data: bytes | str, *, builder_partial: Callable[[], CompletionResult] | None
    ) -> None:
        """Refuse JSON that would expand far past its size once parsed (millions of ``{}``)."""
        cap = self.limits.json_containers
        if json_containers(data) > cap:
            partial = builder_partial() if builder_partial else None
            raise errors.ResponseTooLargeError(
                f"{self.endpoint.host} sent JSON with more than {cap:,} objects and arrays "
                "(the client's limit)." + partial_note(partial),
                partial=partial,
            )

    async def _stream_events(
        self, request: CompletionRequest, content: bytes, holder: list[ResultBuilder]
    ) -> AsyncGenerator[StreamEvent, None]:
        opened = await self._open(
            "POST", COMPLETIONS_PATH, content, read_body=False, model=request.model, stream=True
        )
        response = opened.response
        chunks: AsyncIterator[bytes] | None = None
        try:
            builder = self._builder(opened, request)
            holder.append(builder)
            yield ResponseStarted(
                status=response.status_code,
                rate_limits=builder.result.rate_limits,
                attempts=opened.attempts,
            )
            content_type = response.headers.get("content-type", "").lower()
            if content_type.startswith("application/json"):
                # A server that ignores "stream": true answers with one JSON body.
                opened.content = await self._read_rest(
                    response, builder, opened, self.limits.body_bytes
                )
                data = self._json_body(opened, builder.finish)
                for event in self._events_for(data, response, builder, request):
                    yield event
                builder.done = True
                yield StreamFinished(builder.finish())
                return
            if content_type.startswith("text/html"):
                # A captive portal or proxy page with a 200: not an event stream at all. Its
                # start says what it is; the rest is not worth reading.
                opened.content = await self._read_rest(
                    response, builder, opened, self.limits.error_body_bytes, truncate=True
                )
                self._json_body(opened, builder.finish)
            chunks = response.aiter_bytes()
            decoder = SSEDecoder(
                max_line_bytes=self.limits.sse_line_bytes,
                max_event_bytes=self.limits.sse_event_bytes,
            )
            loop = asyncio.get_running_loop()
            deadline = opened.deadline
            done = False
            eof = False
            while not done and not eof:
                # Silence is the read timeout's job; the deadline is checked as each piece
                # arrives (a timer per chunk would cost more than the chunk), so a server that
                # only sends keep-alives is cut off at most one read timeout late.
                try:
                    chunk = await chunks.__anext__()
                except StopAsyncIteration:
                    eof = True
                    sses = self._decode(decoder.close, builder)
                except httpx.RequestError as exc:
                    raise self._mid_stream(exc, builder, opened.attempts) from exc
                else:
                    sses = self._decode(lambda: decoder.feed(chunk), builder)
                if not sses and loop.time() > deadline:
                    raise self._no_progress(builder.finish(), "sent no text")
                for sse in sses:
                    if sse.data.startswith("[DONE]"):
                        done = True
                        break
                    data = self._event_json(sse, response, builder, request)
                    if data is None:
                        continue
                    events = self._events_for(data, response, builder, request)
                    if events:
                        deadline = loop.time() + self.timeouts.progress_s
                    elif loop.time() > deadline:
                        raise self._no_progress(builder.finish(), "sent no text")
                    for event in events:
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

    def _decode(
        self, step: Callable[[], list[ServerSentEvent]], builder: ResultBuilder
    ) -> list[ServerSentEvent]:
        try:
            return step()
        except SSELimitError as error:
            partial = builder.finish()
            raise errors.ResponseTooLargeError(
                f"{self.endpoint.host} sent {error} (the client's limit): the stream was cut "
                "there." + partial_note(partial),
                partial=partial,
            ) from None

    async def _drain(self, chunks: AsyncIterator[bytes]) -> None:
        """Read what follows ``[DONE]`` (normally just the chunked body's end) so the
        connection goes back to the pool instead of being closed: the next request then skips
        a TCP and TLS handshake. A server that keeps the body open after ``[DONE]`` costs the
        caller at most ``DRAIN_AFTER_DONE_S`` (after StreamFinished) and never an error; what
        it sends meanwhile is read and dropped, never kept."""
        try:
            async with asyncio.timeout(DRAIN_AFTER_DONE_S):
                async for _ in chunks:
                    pass
        except (TimeoutError, httpx.RequestError):
            pass

    async def _read_rest(
        self,
        response: httpx.Response,
        builder: ResultBuilder,
        opened: _Opened,
        cap: int,
        *,
        truncate: bool = False,
    ) -> bytes:
        """The rest of the body, at most ``cap`` bytes (``truncate``: the first ``cap``
        bytes, the rest unread; otherwise a larger body is an error)."""
        received = bytearray()
        try:
            async with asyncio.timeout_at(opened.deadline):
                async for piece in response.aiter_bytes():
                    received += piece
                    if len(received) > cap:
                        if truncate:
                            break
                        raise self._too_large(response, cap)
        except TimeoutError:
            raise self._no_progress(
                builder.finish(), "did not finish sending the response body"
            ) from None
        except httpx.RequestError as exc:
            raise self._mid_stream(exc, builder, opened.attempts) from exc
        return bytes(received[:cap])

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

    def _event_json(
        self,
        sse: ServerSentEvent,
        response: httpx.Response,
        builder: ResultBuilder,
        request: CompletionRequest,
    ) -> dict[str, Any] | None:
        """The JSON object of one event (None for an empty one); an error event raises."""
        text = sse.data.strip()
        if not text:
            return None  # an empty data event carries nothing
        self._check_containers(text, builder_partial=builder.finish)
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            partial = builder.finish()
            raise errors.ProtocolError(
                f"{self.endpoint.host} sent a stream event that is not valid JSON: "
                f"{text_extract(text, 80)!r}." + partial_note(partial),
                partial=partial,
            ) from None
        if isinstance(data, dict) and (data.get("error") or sse.event == "error"):
            raise self._api_error(
                response,
                data,
                request.model,
                builder,
                1,
                status=status_or_none(data.get("status_code")),
                in_stream=True,
            )
        if not isinstance(data, dict):
            partial = builder.finish()
            raise errors.ProtocolError(
                f"{self.endpoint.host} sent a stream event that is not a JSON object: "
                f"{text_extract(text, 80)!r}." + partial_note(partial),
                partial=partial,
            )
        return data

    def _events_for(
        self,
        data: dict[str, Any],
        response: httpx.Response,
        builder: ResultBuilder,
        request: CompletionRequest,
    ) -> list[TextDelta | ChoiceFinished]:
        if data.get("error"):
            raise self._api_error(response, data, request.model, builder, 1, in_stream=True)
        return self._fold(builder, data)
