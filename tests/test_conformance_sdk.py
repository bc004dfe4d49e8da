"""The official ``cerebras-cloud-sdk`` and ``workbench.api`` read the simulator the same way.

Both clients send the same requests to the same simulator over loopback sockets. Each client's
HTTP transport is the real one, wrapped in a tee that keeps a copy of the bytes it received, so
the test can also check each client against the wire. Agreement shows two things at once: the
simulator speaks the protocol the SDK expects, and our client parses it as the SDK does.

Fields that differ between two requests by nature (``id``, ``created``, ``time_info``) are
compared with what that client's own response carried on the wire.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from cerebras.cloud.sdk import APIStatusError as SDKStatusError
from cerebras.cloud.sdk import Cerebras

from workbench.api import errors
from workbench.api.client import CompletionClient
from workbench.api.endpoint import Endpoint
from workbench.api.request import CompletionRequest
from workbench.api.types import CompletionResult, StreamFinished
from workbench.sim import ThreadedSim

KEY = "sk-conformance"


# -- transports that keep what they received --------------------------------------------------


@dataclass
class Wire:
    """The bodies of every response one client received, in order."""

    bodies: list[bytes] = field(default_factory=list)

    def last_json_objects(self) -> list[dict[str, Any]]:
        """The last body as JSON objects: one for a plain body, one per SSE data event."""
        body = self.bodies[-1].decode("utf-8")
        if body.lstrip().startswith("{"):
            return [json.loads(body)]
        events = []
        for line in body.splitlines():
            if line.startswith("data:") and line[5:].strip() != "[DONE]":
                events.append(json.loads(line[5:]))
        return events


class _SyncTee(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, sink: bytearray) -> None:
        self.inner, self.sink = inner, sink

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.inner:
            self.sink += chunk
            yield chunk

    def close(self) -> None:
        self.inner.close()


class _AsyncTee(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, sink: bytearray) -> None:
        self.inner, self.sink = inner, sink

    async def __aiter__(self):  # type: ignore[override]
        async for chunk in self.inner:
            self.sink += chunk
            yield chunk

    async def aclose(self) -> None:
        await self.inner.aclose()


class SyncRecordingTransport(httpx.HTTPTransport):
    def __init__(self, wire: Wire) -> None:
        super().__init__()
        self.wire = wire

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        sink = bytearray()
        self.wire.bodies.append(sink)  # type: ignore[arg-type]  # filled as the body is read
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_SyncTee(response.stream, sink),  # type: ignore[arg-type]
            extensions=response.extensions,
        )


class AsyncRecordingTransport(httpx.AsyncHTTPTransport):
    def __init__(self, wire: Wire) -> None:
        super().__init__()
        self.wire = wire

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        sink = bytearray()
        self.wire.bodies.append(sink)  # type: ignore[arg-type]
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_AsyncTee(response.stream, sink),  # type: ignore[arg-type]
            extensions=response.extensions,
        )


# -- the two clients ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sim() -> Iterator[ThreadedSim]:
    with ThreadedSim(rate=None, api_key=KEY) as server:
        yield server


def sdk_client(sim: ThreadedSim, wire: Wire, api_key: str = KEY) -> Cerebras:
    return Cerebras(
        api_key=api_key,
        base_url=sim.base_url,
        max_retries=0,
        warm_tcp_connection=False,
        http_client=httpx.Client(transport=SyncRecordingTransport(wire)),
    )


def ours(
    sim: ThreadedSim, wire: Wire, request: CompletionRequest, *, stream: bool,
    api_key: str = KEY, headers: dict[str, str] | None = None,
) -> CompletionResult:  # fmt: skip
    endpoint = Endpoint.from_env(
        base_url=sim.base_url, api_key=api_key, environ={}, headers=headers
    )

    async def call() -> CompletionResult:
        client = CompletionClient(endpoint, max_retries=0, transport=AsyncRecordingTransport(wire))
        async with client:
            if not stream:
                return await client.complete(request)
            async with client.stream(request) as events:
                async for event in events:
                    if isinstance(event, StreamFinished):
                        return event.result
        raise AssertionError("the stream ended without StreamFinished")

    return asyncio.run(call())


def sdk_call(sim: ThreadedSim, wire: Wire, body: dict[str, Any], **options: Any) -> dict[str, Any]:
    """The SDK's parsed result as plain data; a stream is assembled the obvious way."""
    client = sdk_client(sim, wire, **options)
    with client:
        if not body.get("stream"):
            completion = client.completions.create(**body)
            return completion.model_dump()
        assembled: dict[str, Any] = {"choices": {}}
        for chunk in client.completions.create(**body):
            data = chunk.model_dump()
            for key in ("id", "model", "created", "usage", "time_info", "system_fingerprint"):
                if data.get(key) is not None:
                    assembled[key] = data[key]
            for choice in data["choices"]:
                slot = assembled["choices"].setdefault(
                    choice["index"],
                    {"index": choice["index"], "text": "", "tokens": None, "finish_reason": None},
                )
                slot["text"] += choice.get("text") or ""
                if choice.get("tokens") is not None:
                    slot["tokens"] = (slot["tokens"] or []) + choice["tokens"]
                if choice.get("finish_reason"):
                    slot["finish_reason"] = choice["finish_reason"]
        assembled["choices"] = [assembled["choices"][i] for i in sorted(assembled["choices"])]
        return assembled


def _usage(usage: dict[str, Any] | None) -> tuple:
    usage = usage or {}
    return (usage.get("prompt_tokens"), usage.get("completion_tokens"), usage.get("total_tokens"))


# -- successful requests ----------------------------------------------------------------------

CASES: dict[str, dict[str, Any]] = {
    "plain": {"prompt": "It was a dark and stormy night", "max_tokens": 40},
    "batch": {"prompt": ["It was a dark", "My dear Mr. Bennet"], "max_tokens": 25},
    "token prompt": {"prompt": [[300, 301, 302], [310, 311]], "max_tokens": 10},
    "echo": {"prompt": "It is a truth universally", "max_tokens": 15, "echo": True},
    "stop": {"prompt": "It was", "max_tokens": 200, "stop": [".", ","]},
    "raw tokens": {"prompt": "It was", "max_tokens": 12, "return_raw_tokens": True},
    "n and sampling": {"prompt": "She", "max_tokens": 20, "n": 2, "temperature": 0.7, "top_p": 0.9},
}


@pytest.mark.parametrize("stream", [False, True], ids=["non-stream", "stream"])
@pytest.mark.parametrize("case", list(CASES))
def test_same_parsed_result(sim: ThreadedSim, case: str, stream: bool) -> None:
    body = {"model": "llama3.1-8b", "seed": 1234, **CASES[case]}
    sdk_wire, our_wire = Wire(), Wire()
    theirs = sdk_call(sim, sdk_wire, {**body, "stream": stream})
    mine = ours(sim, our_wire, CompletionRequest.from_body(body), stream=stream)

    sdk_choices = [
        (c["index"], c["text"] or "", c["finish_reason"], c.get("tokens"))
        for c in theirs["choices"]
    ]
    our_choices = [(c.index, c.text, c.finish_reason, c.tokens) for c in mine.choices]
    assert our_choices == sdk_choices
    assert len(our_choices) == CompletionRequest.from_body(body).choice_count
    assert mine.model == theirs["model"] == "llama3.1-8b"
    assert (
        mine.usage.prompt_tokens,
        mine.usage.completion_tokens,
        mine.usage.total_tokens,
    ) == _usage(theirs["usage"])
    # Per-request fields: each client reports what its own response said.
    their_wire, our_wire_objects = sdk_wire.last_json_objects(), our_wire.last_json_objects()
    assert theirs["id"] == their_wire[0]["id"] and mine.id == our_wire_objects[0]["id"]
    assert mine.id.startswith("chatcmpl-") and theirs["id"].startswith("chatcmpl-")
    assert mine.created == our_wire_objects[0]["created"]
    final_time_info = [o["time_info"] for o in our_wire_objects if o.get("time_info")][-1]
    assert (
        mine.time_info is not None
        and mine.time_info.completion_time == final_time_info["completion_time"]
    )
    if stream:
        assert len(our_wire_objects) > 2  # it really streamed: several chunks


# -- errors -----------------------------------------------------------------------------------


@dataclass
class ErrorCase:
    body: dict[str, Any]
    status: int
    sdk_class: str
    our_class: type[errors.APIStatusError]
    api_key: str = KEY
    headers: dict[str, str] | None = None


ERRORS: dict[str, ErrorCase] = {
    # Accepted by both clients' own checks, refused by the server: the prompt plus max_tokens
    # exceed the context length.
    "400 context length": ErrorCase(
        {"prompt": "It was", "max_tokens": 9000}, 400, "BadRequestError", errors.BadRequestError
    ),
    "401 wrong key": ErrorCase(
        {"prompt": "It was", "max_tokens": 5},
        401,
        "AuthenticationError",
        errors.AuthenticationError,
        api_key="sk-wrong",
    ),
    "404 unknown model": ErrorCase(
        {"prompt": "It was", "max_tokens": 5, "model": "no-such-model"},
        404,
        "NotFoundError",
        errors.NotFoundError,
    ),
    "429 rate limit": ErrorCase(
        {"prompt": "It was", "max_tokens": 5},
        429,
        "RateLimitError",
        errors.RateLimitError,
        headers={"x-sim-fault": "rate-limit"},
    ),
}


@pytest.mark.parametrize("stream", [False, True], ids=["non-stream", "stream"])
@pytest.mark.parametrize("case", list(ERRORS))
def test_same_error(sim: ThreadedSim, case: str, stream: bool) -> None:
    spec = ERRORS[case]
    body = {"model": "llama3.1-8b", **spec.body}
    sdk_wire, our_wire = Wire(), Wire()
    with pytest.raises(SDKStatusError) as sdk_error:
        client = sdk_client(sim, sdk_wire, api_key=spec.api_key)
        with client:
            client.completions.create(**body, stream=stream, extra_headers=spec.headers or None)
    with pytest.raises(errors.APIStatusError) as our_error:
        ours(
            sim, our_wire, CompletionRequest.from_body(body), stream=stream,
            api_key=spec.api_key, headers=spec.headers,
        )  # fmt: skip

    theirs, mine = sdk_error.value, our_error.value
    assert type(theirs).__name__ == spec.sdk_class and type(mine) is spec.our_class
    assert theirs.status_code == mine.status_code == spec.status
    # The SDK keeps the flat error body; ours keeps the parsed body too.
    assert isinstance(theirs.body, dict) and theirs.body == mine.body
    assert mine.error_type == theirs.body["type"] and mine.code == theirs.body["code"]
    assert theirs.body["message"] in mine.message
    assert mine.param == theirs.body.get("param")


def test_models_list_matches(sim: ThreadedSim) -> None:
    wire = Wire()
    with sdk_client(sim, wire) as client:
        sdk_ids = [model.id for model in client.models.list().data]

    async def ours_list() -> list[str]:
        endpoint = Endpoint.from_env(base_url=sim.base_url, api_key=KEY, environ={})
        async with CompletionClient(endpoint, max_retries=0) as client:
            return await client.list_models()

    assert asyncio.run(ours_list()) == sdk_ids and sdk_ids
