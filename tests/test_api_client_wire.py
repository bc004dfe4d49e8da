"""Wire details the simulator has no mode for, over a real loopback socket.

A tiny scripted HTTP server answers each request with the next canned response, byte for byte:
``Retry-After`` as seconds and as an HTTP date, ``x-should-retry``, ``event: error``, SSE
comments/``id:``/``retry:`` fields, a last event without its blank line, a server that ignores
``"stream": true``, a 200 that is not JSON.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from typing import Any

import pytest

from workbench.api import errors
from workbench.api.client import CompletionClient
from workbench.api.endpoint import Endpoint
from workbench.api.request import CompletionRequest
from workbench.api.types import ChoiceFinished, ResponseStarted, StreamFinished, TextDelta

REQUEST = CompletionRequest(model="m", prompt="p", max_tokens=5)


def http(status: int, body: bytes | str | dict, headers: dict[str, str] | None = None) -> bytes:
    """A complete response delimited by closing the connection."""
    if isinstance(body, dict):
        body = json.dumps(body)
    data = body.encode() if isinstance(body, str) else body
    head = [f"HTTP/1.1 {status} X", "connection: close"]
    head += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + data


def sse(*payloads: str | dict, end: str = "\n\n") -> bytes:
    return "".join(
        f"data: {p if isinstance(p, str) else json.dumps(p)}{end}" for p in payloads
    ).encode()


def chunk(text: str, finish: str | None = None, **top: Any) -> dict:
    return {"id": "c1", "choices": [{"index": 0, "text": text, "finish_reason": finish}], **top}


OK_BODY = {"id": "c1", "choices": [{"index": 0, "text": "fine", "finish_reason": "stop"}],
           "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
EVENT_STREAM = {"content-type": "text/event-stream"}


class ScriptedServer:
    def __init__(self, responses: list[bytes]) -> None:
        self.responses = list(responses)
        self.bodies: list[bytes] = []
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> ScriptedServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return "http://127.0.0.1:%d/v1" % self._server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.decode("latin-1").split("\r\n"):
                name, _, value = line.partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            self.bodies.append(await reader.readexactly(length))
            writer.write(self.responses.pop(0))
            await writer.drain()
        finally:
            writer.close()


class RecordingSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


async def run(responses: list[bytes], *, stream: bool) -> tuple[Any, ScriptedServer, RecordingSleep]:
    """Send REQUEST; return (result or events or raised error, server, sleeps)."""
    sleep = RecordingSleep()
    async with ScriptedServer(responses) as server:
        endpoint = Endpoint.from_env(base_url=server.base_url, environ={})
        async with CompletionClient(endpoint, sleep=sleep, random=lambda: 0.0) as client:
            try:
                if stream:
                    async with client.stream(REQUEST) as events:
                        outcome: Any = [event async for event in events]
                else:
                    outcome = await client.complete(REQUEST)
            except errors.WorkbenchAPIError as error:
                outcome = error
    return outcome, server, sleep


@pytest.fixture(params=[False, True], ids=["complete", "stream"])
def streaming(request: pytest.FixtureRequest) -> bool:
    return request.param


def ok_response(streaming: bool) -> bytes:
    if streaming:
        return http(200, sse(chunk("fine", "stop"), "[DONE]"), EVENT_STREAM)
    return http(200, OK_BODY, {"content-type": "application/json"})


async def test_retry_after_seconds_is_honoured(streaming: bool) -> None:
    limited = http(429, {"message": "Requests per minute limit exceeded"}, {"retry-after": "2"})
    outcome, server, sleep = await run([limited, ok_response(streaming)], stream=streaming)
    assert not isinstance(outcome, Exception)
    assert sleep.delays == [2.0] and len(server.bodies) == 2


async def test_retry_after_http_date_is_honoured(streaming: bool) -> None:
    date = email.utils.formatdate(time.time() + 5, usegmt=True)
    busy = http(503, {"message": "busy"}, {"retry-after": date})
    outcome, _, sleep = await run([busy, ok_response(streaming)], stream=streaming)
    assert not isinstance(outcome, Exception)
    # The date has whole-second precision and a little time passes before it is read.
    assert len(sleep.delays) == 1 and 3.5 < sleep.delays[0] <= 5.0


async def test_retry_after_beyond_a_minute_falls_back_to_backoff(streaming: bool) -> None:
    busy = http(503, {"message": "busy"}, {"retry-after": "120"})
    _, _, sleep = await run([busy, ok_response(streaming)], stream=streaming)
    assert sleep.delays == [0.5]


async def test_x_should_retry_false_stops_a_retry(streaming: bool) -> None:
    busy = http(503, {"message": "busy"}, {"x-should-retry": "false"})
    outcome, server, sleep = await run([busy], stream=streaming)
    assert isinstance(outcome, errors.InternalServerError)
    assert len(server.bodies) == 1 and sleep.delays == []


async def test_x_should_retry_true_retries_even_a_400(streaming: bool) -> None:
    bad = http(400, {"message": "try again"}, {"x-should-retry": "true"})
    outcome, server, sleep = await run([bad, ok_response(streaming)], stream=streaming)
    assert not isinstance(outcome, Exception) and len(server.bodies) == 2


async def test_429_for_tokens_says_so_and_when_it_resets() -> None:
    limited = http(
        429,
        {"message": "Tokens per minute limit exceeded - too many tokens processed.",
         "type": "too_many_requests_error", "param": "quota", "code": "token_quota_exceeded"},
        {"x-ratelimit-reset-tokens-minute": "33.2", "x-ratelimit-remaining-tokens-minute": "0"},
    )
    outcome, _, _ = await run([limited] * 3, stream=True)
    assert isinstance(outcome, errors.RateLimitError)
    text = str(outcome)
    assert "tokens per minute" in text and "resets in about 33 s" in text
    assert outcome.rate_limits is not None and outcome.rate_limits.remaining_tokens_minute == 0


async def test_error_event_type_is_classified_by_its_status_code() -> None:
    body = sse(chunk("Par"), chunk("tial")) + (
        b'event: error\ndata: {"error":{"message":"slow down","type":"rate"},"status_code":429}\n\n'
    )
    outcome, server, sleep = await run([http(200, body, EVENT_STREAM)], stream=True)
    assert isinstance(outcome, errors.RateLimitError)
    assert outcome.partial.text == "Partial" and "slow down" in str(outcome)
    assert len(server.bodies) == 1 and sleep.delays == []


async def test_comments_fields_crlf_and_unterminated_done_are_fine() -> None:
    body = (
        b": keep-alive\r\n\r\nid: 1\r\nretry: 3000\r\n"
        + sse(chunk("Hello"), end="\r\n\r\n")
        + b"event: message\r\n"
        + sse(chunk(" world", "stop", usage={"completion_tokens": 2}), end="\r\n\r\n")
        + b"data: [DONE]"  # the server closed before the blank line
    )
    outcome, _, _ = await run([http(200, body, EVENT_STREAM)], stream=True)
    assert isinstance(outcome[-1], StreamFinished)
    assert outcome[-1].result.text == "Hello world"
    assert outcome[-1].result.usage.completion_tokens == 2


async def test_last_event_without_blank_line_is_kept_then_truncation_reported() -> None:
    body = sse(chunk("Hello")) + b'data: {"choices":[{"index":0,"text":" there"}]}'
    outcome, _, _ = await run([http(200, body, EVENT_STREAM)], stream=True)
    assert isinstance(outcome, errors.StreamTruncatedError)
    assert outcome.partial.text == "Hello there"


async def test_server_that_ignores_stream_true_still_gives_events() -> None:
    outcome, _, _ = await run([http(200, OK_BODY, {"content-type": "application/json"})], stream=True)
    assert [type(e) for e in outcome] == [ResponseStarted, TextDelta, ChoiceFinished, StreamFinished]
    assert outcome[-1].result.text == "fine"


async def test_non_json_success_body_is_a_readable_protocol_error() -> None:
    page = "<html><body><h1>Welcome to nginx!</h1></body></html>"
    outcome, _, _ = await run([http(200, page, {"content-type": "text/html"})], stream=False)
    assert isinstance(outcome, errors.ProtocolError)
    assert "Welcome to nginx!" in str(outcome) and "<h1>" not in str(outcome)


async def test_event_that_is_json_but_not_an_object_is_a_protocol_error() -> None:
    body = sse(chunk("Hi"), "[1, 2]")
    outcome, _, _ = await run([http(200, body, EVENT_STREAM)], stream=True)
    assert isinstance(outcome, errors.ProtocolError) and outcome.partial.text == "Hi"


async def test_redirect_says_which_base_url_to_use(streaming: bool) -> None:
    moved = http(301, "", {"location": "https://api.example/v1/completions"})
    outcome, server, sleep = await run([moved], stream=streaming)
    assert type(outcome) is errors.APIStatusError and outcome.status_code == 301
    assert "https://api.example/v1/completions" in str(outcome) and "base URL" in str(outcome)
    assert len(server.bodies) == 1 and sleep.delays == []


async def test_html_page_instead_of_an_event_stream_is_named(streaming: bool) -> None:
    page = "<html><title>Hotel Wi-Fi login</title><body>Accept terms</body></html>"
    outcome, _, _ = await run([http(200, page, {"content-type": "text/html"})], stream=streaming)
    assert isinstance(outcome, errors.ProtocolError)
    assert "Hotel Wi-Fi login" in str(outcome) and "<title>" not in str(outcome)


async def test_status_error_partial_carries_rate_limits_and_wall_time() -> None:
    refused = http(403, {"message": "nope"}, {"x-ratelimit-remaining-requests-day": "99"})
    outcome, _, _ = await run([refused], stream=True)
    assert isinstance(outcome, errors.PermissionDeniedError)
    assert outcome.partial.rate_limits.remaining_requests_day == 99
    assert outcome.partial.metrics.wall_time_s is not None and outcome.partial.text == ""
