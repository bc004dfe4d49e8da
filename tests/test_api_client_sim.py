"""The client end to end over real loopback sockets against the project's simulator.

Retry waits go through an injected ``sleep`` that records the delay and returns at once, so the
tests check the delays the client *asked for* without spending them.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
import contextlib
import socket
from typing import Any, AsyncIterator, Awaitable, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.api import errors
from workbench.api.client import CompletionClient, Timeouts
from workbench.api.endpoint import Endpoint
from workbench.api.request import CompletionRequest, RequestValidationError
from workbench.api.types import (
    ChoiceFinished,
    CompletionResult,
    ResponseStarted,
    StreamEvent,
    StreamFinished,
    TextDelta,
)
from workbench.sim import SimServer

MODEL = "llama3.1-8b"
SECRET = "sim-secret-key-42"


class RecordingSleep:
    """Stands in for asyncio.sleep: remembers each requested delay, waits for none."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


# `sim_factory` (tests/conftest.py) starts unpaced simulators and stops them after the test.
SimFactory = Callable[..., Awaitable[SimServer]]


def endpoint_for(sim: SimServer, **kwargs: Any) -> Endpoint:
    return Endpoint.from_env(base_url=sim.base_url, environ=kwargs.pop("environ", {}), **kwargs)


def make_client(target: SimServer | Endpoint, **kwargs: Any) -> tuple[CompletionClient, RecordingSleep]:
    sleep = RecordingSleep()
    endpoint = target if isinstance(target, Endpoint) else endpoint_for(target)
    kwargs.setdefault("random", lambda: 0.0)  # jitter pinned: backoff is exactly 0.5·2ⁿ
    return CompletionClient(endpoint, sleep=sleep, **kwargs), sleep


def request(**fields: Any) -> CompletionRequest:
    return CompletionRequest(**{"model": MODEL, "prompt": "It was a dark and", "max_tokens": 40, "seed": 7, **fields})


async def collect(client: CompletionClient, req: CompletionRequest) -> list[StreamEvent]:
    async with client.stream(req) as events:
        return [event async for event in events]


def completions(sim: SimServer) -> list[Any]:
    return [r for r in sim.requests if r.path == "/v1/completions"]


# -- results ---------------------------------------------------------------------------------


async def test_stream_and_non_stream_agree_for_a_seed(sim_factory: SimFactory) -> None:
    sim = await sim_factory()
    client, _ = make_client(sim)
    async with client:
        whole = await client.complete(request())
        events = await collect(client, request())
    assert isinstance(events[0], ResponseStarted) and events[0].attempts == 1
    assert isinstance(events[-1], StreamFinished)
    streamed = events[-1].result
    deltas = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert whole.text and streamed.text == whole.text == deltas
    assert [c.finish_reason for c in streamed.choices] == [c.finish_reason for c in whole.choices]
    assert streamed.usage.completion_tokens == whole.usage.completion_tokens
    assert [r.body["stream"] for r in completions(sim)] == [False, True]


async def test_metrics_and_rate_limits_are_filled(sim_factory: SimFactory) -> None:
    sim = await sim_factory()
    client, _ = make_client(sim)
    async with client:
        events = await collect(client, request())
        whole = await client.complete(request())
    for result in (events[-1].result, whole):
        metrics = result.metrics
        assert 0 < metrics.time_to_first_token_s <= metrics.wall_time_s
        assert metrics.completion_tokens == result.usage.completion_tokens
        assert metrics.client_tokens_per_s > 0
        assert metrics.server_tokens_per_s == pytest.approx(
            result.usage.completion_tokens / result.time_info.completion_time
        )
        assert result.rate_limits.present and result.rate_limits.remaining_tokens_minute is not None
    assert events[0].rate_limits == events[-1].result.rate_limits


async def test_batch_gives_one_choice_per_prompt(sim_factory: SimFactory) -> None:
    sim = await sim_factory()
    client, _ = make_client(sim)
    prompts = ["Alpha", "Bravo", "Charlie"]
    async with client:
        whole = await client.complete(request(prompt=prompts))
        events = await collect(client, request(prompt=prompts))
    streamed = events[-1].result
    assert [c.index for c in whole.choices] == [c.index for c in streamed.choices] == [0, 1, 2]
    for index in range(3):
        pieces = "".join(e.text for e in events if isinstance(e, TextDelta) and e.index == index)
        assert pieces == streamed.choices[index].text == whole.choices[index].text
    finished = [e.index for e in events if isinstance(e, ChoiceFinished)]
    assert sorted(finished) == [0, 1, 2]


async def test_echo_prepends_the_prompt(sim_factory: SimFactory) -> None:
    sim = await sim_factory()
    client, _ = make_client(sim)
    async with client:
        whole = await client.complete(request(echo=True))
        events = await collect(client, request(echo=True))
    assert whole.text.startswith("It was a dark and")
    assert events[-1].result.text == whole.text


async def test_raw_tokens_arrive_as_ids(sim_factory: SimFactory) -> None:
    sim = await sim_factory()
    client, _ = make_client(sim)
    async with client:
        whole = await client.complete(request(return_raw_tokens=True))
        events = await collect(client, request(return_raw_tokens=True))
    ids = [t for e in events if isinstance(e, TextDelta) and e.tokens for t in e.tokens]
    assert ids and ids == whole.choices[0].tokens == events[-1].result.choices[0].tokens
    assert all(isinstance(t, int) for t in ids)


async def test_multibyte_text_split_inside_characters_is_intact(sim_factory: SimFactory) -> None:
    sim = await sim_factory(fault="split-utf8")  # every write ends inside a UTF-8 character
    client, _ = make_client(sim)
    async with client:
        whole = await client.complete(request())
        events = await collect(client, request())
    text = events[-1].result.text
    assert "\ufffd" not in text and any(len(ch.encode()) > 1 for ch in text)
    assert text == whole.text


async def test_body_is_compact_and_leaves_unset_fields_out(sim_factory: SimFactory) -> None:
    sim = await sim_factory()
    client, _ = make_client(sim)
    async with client:
        await client.complete(CompletionRequest(model=MODEL, prompt="Grüße", max_tokens=3))
    recorded = completions(sim)[0]
    assert recorded.body == {"model": MODEL, "prompt": "Grüße", "max_tokens": 3, "stream": False}
    assert recorded.headers["content-type"] == "application/json"


async def test_invalid_request_sends_nothing(sim_factory: SimFactory) -> None:
    sim = await sim_factory()
    client, _ = make_client(sim)
    async with client:
        with pytest.raises(RequestValidationError, match="temperature"):
            await client.complete(request(temperature=9))
        with pytest.raises(RequestValidationError, match="stop"):
            client.stream(request(stop=["a"] * 5))
    assert sim.requests == []


async def test_list_models(sim_factory: SimFactory) -> None:
    sim = await sim_factory()
    client, _ = make_client(sim)
    async with client:
        models = await client.list_models()
    assert MODEL in models and sim.requests[-1].path == "/v1/models"


async def test_unknown_model_is_named_with_a_next_step(sim_factory: SimFactory) -> None:
    sim = await sim_factory()
    client, _ = make_client(sim)
    async with client:
        with pytest.raises(errors.NotFoundError) as raised:
            await client.complete(request(model="no-such-model"))
    assert "'no-such-model'" in str(raised.value) and "workbench models" in str(raised.value)
    assert len(completions(sim)) == 1  # a 404 is not retried


def pooled_connections(client: CompletionClient) -> int:
    pool = client._client()._transport._pool  # type: ignore[attr-defined]
    return len(pool.connections)


async def test_pooled_connection_is_reused(sim_factory: SimFactory) -> None:
    sim = await sim_factory()
    client, _ = make_client(sim)
    async with client:
        for _ in range(3):
            async with client.stream(request()) as events:
                async for event in events:
                    pass
            await client.complete(request())
        assert pooled_connections(client) == 1


async def test_connection_is_reused_when_the_caller_stops_at_stream_finished(
    sim_factory: SimFactory,
) -> None:
    sim = await sim_factory()
    client, _ = make_client(sim)

    async def run_once() -> str:
        async with client.stream(request()) as events:
            async for event in events:
                if isinstance(event, StreamFinished):
                    return event.result.text
        raise AssertionError("no StreamFinished")

    async with client:
        texts = [await run_once() for _ in range(3)]
        assert pooled_connections(client) == 1
    assert texts[0] and sim.disconnects == 0


# -- endpoint: URLs, keys, headers -----------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/", "/v1", "/v1/"])
async def test_both_base_url_forms_hit_v1_completions(sim_factory: SimFactory, suffix: str) -> None:
    sim = await sim_factory()
    endpoint = Endpoint.from_env(base_url=sim.base_url + suffix, environ={})
    client, _ = make_client(endpoint)
    async with client:
        await client.complete(request())
        await client.list_models()
    assert [r.path for r in sim.requests] == ["/v1/completions", "/v1/models"]


async def test_no_authorization_header_without_a_key(sim_factory: SimFactory) -> None:
    sim = await sim_factory()
    client, _ = make_client(sim)
    async with client:
        await client.complete(request())
    assert "authorization" not in sim.requests[0].headers


async def test_custom_headers_are_sent(sim_factory: SimFactory) -> None:
    sim = await sim_factory()
    endpoint = endpoint_for(sim, environ={"CEREBRAS_CUSTOM_HEADERS": "X-Team: research\nX-Trace: t-1"})
    client, _ = make_client(endpoint)
    async with client:
        await client.complete(request())
        await collect(client, request())
    for recorded in sim.requests:
        assert recorded.headers["x-team"] == "research" and recorded.headers["x-trace"] == "t-1"


async def test_key_from_environment_is_sent_and_a_wrong_one_is_a_clear_401(sim_factory: SimFactory) -> None:
    sim = await sim_factory(api_key=SECRET)
    good, _ = make_client(endpoint_for(sim, environ={"CEREBRAS_API_KEY": SECRET}))
    async with good:
        assert (await good.complete(request())).text
    assert sim.requests[0].headers["authorization"] == f"Bearer {SECRET}"

    wrong_key = "csk-wrong-0000000000"
    bad, sleep = make_client(endpoint_for(sim, environ={"CEREBRAS_API_KEY": wrong_key}))
    async with bad:
        with pytest.raises(errors.AuthenticationError) as raised:
            await collect(bad, request())
    text = str(raised.value)
    assert "refused" in text and "CEREBRAS_API_KEY" in text and wrong_key not in text
    assert sleep.delays == []  # 401 is not retried

    none, _ = make_client(sim)
    async with none:
        with pytest.raises(errors.AuthenticationError, match="none was sent"):
            await none.complete(request())


# -- retries ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault, delays",
    [
        ("rate-limit", [0.05, 0.05]),  # retry-after-ms: 50 wins over retry-after: 1
        ("server-error", [0.5, 1.0]),  # no retry-after: SDK backoff 0.5·2ⁿ (jitter pinned)
        ("unavailable", [0.5, 1.0]),
        ("html-502", [0.5, 1.0]),
    ],
)
@pytest.mark.parametrize("streaming", [False, True])
async def test_retried_until_success_with_the_right_delays(
    sim_factory: SimFactory, fault: str, delays: list[float], streaming: bool
) -> None:
    sim = await sim_factory(fault=fault, fault_times=2)
    client, sleep = make_client(sim)
    async with client:
        if streaming:
            events = await collect(client, request())
            assert events[0].attempts == 3
            result = events[-1].result
        else:
            result = await client.complete(request())
    assert result.text
    assert sleep.delays == pytest.approx(delays)
    assert [r.headers["x-stainless-retry-count"] for r in completions(sim)] == ["0", "1", "2"]
    assert all(r.body == completions(sim)[0].body for r in completions(sim))


async def test_jitter_takes_at_most_a_quarter_off(sim_factory: SimFactory) -> None:
    sim = await sim_factory(fault="server-error", fault_times=2)
    client, sleep = make_client(sim, random=lambda: 0.999)
    async with client:
        await client.complete(request())
    assert sleep.delays == pytest.approx([0.5 * 0.75025, 1.0 * 0.75025])


@pytest.mark.parametrize(
    "fault, cls, words",
    [
        ("rate-limit", errors.RateLimitError, ["requests per minute", "resets in about 50 ms"]),
        ("server-error", errors.InternalServerError, ["500", "Internal server error"]),
        ("unavailable", errors.InternalServerError, ["503", "high traffic"]),
        ("html-502", errors.InternalServerError, ["502 Bad Gateway", "nginx"]),
    ],
)
async def test_retries_exhausted_gives_a_clear_error(
    sim_factory: SimFactory, fault: str, cls: type, words: list[str]
) -> None:
    sim = await sim_factory(fault=fault)
    client, sleep = make_client(sim)
    async with client:
        with pytest.raises(cls) as raised:
            await client.complete(request())
    text = str(raised.value)
    for word in words:
        assert word in text
    assert "<" not in text and "gave up after 3 attempts" in text
    assert len(completions(sim)) == 3 and len(sleep.delays) == 2
    assert raised.value.attempts == 3 and raised.value.partial is not None


async def test_max_retries_zero_sends_once(sim_factory: SimFactory) -> None:
    sim = await sim_factory(fault="unavailable")
    client, sleep = make_client(sim, max_retries=0)
    async with client:
        with pytest.raises(errors.InternalServerError):
            await client.complete(request())
    assert len(completions(sim)) == 1 and sleep.delays == []


async def test_slow_first_byte_read_timeout_is_retried(sim_factory: SimFactory) -> None:
    # The sim waits 0.5 s before its headers; a 0.05 s read timeout always fires first.
    sim = await sim_factory(fault="slow-first-byte")
    client, sleep = make_client(sim, timeouts=Timeouts(connect=5, read=0.05))
    async with client:
        with pytest.raises(errors.APITimeoutError) as raised:
            await client.complete(request())
    assert "sent no response within 0.05 s (read timeout)" in str(raised.value)
    assert len(completions(sim)) == 3 and len(sleep.delays) == 2


async def test_slow_first_byte_within_timeout_works(sim_factory: SimFactory) -> None:
    sim = await sim_factory(fault="slow-first-byte")
    client, _ = make_client(sim)
    async with client:
        events = await collect(client, request())
    assert events[-1].result.text


# -- faults after the response started: partial text kept, never retried ------------------


async def stream_until_error(client: CompletionClient, req: CompletionRequest) -> tuple[str, errors.WorkbenchAPIError]:
    delivered = ""
    with pytest.raises(errors.WorkbenchAPIError) as raised:
        async with client.stream(req) as events:
            async for event in events:
                if isinstance(event, TextDelta):
                    delivered += event.text
    return delivered, raised.value


@pytest.mark.parametrize(
    "fault, cls, words",
    [
        ("drop", errors.StreamInterruptedError, ["broke in the middle"]),
        ("malformed-sse", errors.ProtocolError, ["not valid JSON", "{not json"]),
        ("error-event", errors.InternalServerError, ["middle of the stream", "503", "temporarily unavailable"]),
        ("no-done", errors.StreamTruncatedError, ["without [DONE]"]),
    ],
)
async def test_mid_stream_fault_keeps_partial_text_and_is_not_retried(
    sim_factory: SimFactory, fault: str, cls: type, words: list[str]
) -> None:
    sim = await sim_factory(fault=fault)
    client, sleep = make_client(sim)
    async with client:
        delivered, error = await stream_until_error(client, request())
    assert type(error) is cls
    for word in words:
        assert word in str(error)
    assert delivered and error.partial is not None
    assert error.partial.text == delivered
    assert f"{len(delivered)} characters" in str(error)
    assert error.partial.metrics.wall_time_s is not None
    assert len(completions(sim)) == 1 and sleep.delays == []


async def test_drop_is_a_connection_error_for_the_cli(sim_factory: SimFactory) -> None:
    sim = await sim_factory(fault="drop")
    client, _ = make_client(sim)
    async with client:
        _, error = await stream_until_error(client, request())
    assert isinstance(error, errors.APIConnectionError)


async def test_mid_stream_stall_times_out_with_partial_text(sim_factory: SimFactory) -> None:
    sim = await sim_factory(fault="stall")
    client, sleep = make_client(sim, timeouts=Timeouts(connect=5, read=0.3))
    async with client:
        delivered, error = await stream_until_error(client, request())
    assert isinstance(error, errors.APITimeoutError)
    assert "stalled: no data for 0.3 s (read timeout)" in str(error)
    assert delivered and error.partial.text == delivered
    await sim.wait_for_disconnect()  # the stalled connection was closed, not leaked
    assert len(completions(sim)) == 1 and sleep.delays == []


@pytest.mark.parametrize(
    "fault, cls",
    [("malformed-sse", errors.ProtocolError), ("error-event", errors.InternalServerError)],
)
async def test_non_stream_body_faults(sim_factory: SimFactory, fault: str, cls: type) -> None:
    sim = await sim_factory(fault=fault)
    client, _ = make_client(sim)
    async with client:
        with pytest.raises(cls) as raised:
            await client.complete(request())
    assert raised.value.partial is not None


async def test_non_stream_drop_is_retried_since_nothing_was_delivered(sim_factory: SimFactory) -> None:
    sim = await sim_factory(fault="drop", fault_times=1)
    client, sleep = make_client(sim)
    async with client:
        result = await client.complete(request())
    assert result.text and len(completions(sim)) == 2 and sleep.delays == [0.5]


# -- cancelling closes the connection ----------------------------------------------------------


async def first_delta(events: AsyncIterator[StreamEvent]) -> TextDelta:
    async for event in events:
        if isinstance(event, TextDelta) and event.text:
            return event
    raise AssertionError("no text arrived")


async def test_leaving_the_async_with_closes_the_connection(sim_factory: SimFactory) -> None:
    sim = await sim_factory(rate=50.0)  # 1,000 tokens at 50 tok/s: would take 20 s
    client, _ = make_client(sim)
    async with client:
        async with client.stream(request(max_tokens=1000)) as events:
            await first_delta(events)
        await sim.wait_for_disconnect(timeout=5.0)


async def test_breaking_out_of_a_plain_async_for_closes_the_connection(sim_factory: SimFactory) -> None:
    sim = await sim_factory(rate=50.0)
    client, _ = make_client(sim)
    async with client:
        async for event in client.stream(request(max_tokens=1000)):
            if isinstance(event, TextDelta) and event.text:
                break
        await sim.wait_for_disconnect(timeout=5.0)


async def test_aclosing_closes_the_connection(sim_factory: SimFactory) -> None:
    sim = await sim_factory(rate=50.0)
    client, _ = make_client(sim)
    async with client:
        async with contextlib.aclosing(client.stream(request(max_tokens=1000))) as events:
            await first_delta(events)
        await sim.wait_for_disconnect(timeout=5.0)


async def test_cancelling_the_task_closes_the_connection(sim_factory: SimFactory) -> None:
    sim = await sim_factory(rate=50.0)
    client, _ = make_client(sim)
    got_text = asyncio.Event()
    partial: list[CompletionResult | None] = []

    async def consume() -> None:
        stream = client.stream(request(max_tokens=1000))
        try:
            async for event in stream:
                if isinstance(event, TextDelta) and event.text:
                    got_text.set()
        finally:
            partial.append(stream.partial)

    async with client:
        task = asyncio.create_task(consume())
        await asyncio.wait_for(got_text.wait(), timeout=5.0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await sim.wait_for_disconnect(timeout=5.0)
    assert partial[0] is not None and partial[0].text


# -- no server at all -------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_connection_refused_names_the_host_and_is_retried() -> None:
    port = closed_port()
    endpoint = Endpoint.from_env(base_url=f"http://127.0.0.1:{port}", environ={})
    client, sleep = make_client(endpoint)
    async with client:
        with pytest.raises(errors.APIConnectionError) as raised:
            await collect(client, request())
    text = str(raised.value)
    assert f"127.0.0.1:{port}" in text and "refused" in text.lower()
    assert sleep.delays == [0.5, 1.0]
    assert raised.value.partial is None  # no response ever started


async def test_unknown_host_says_dns() -> None:
    endpoint = Endpoint.from_env(base_url="http://no-such-host.invalid:8080", environ={})
    client, _ = make_client(endpoint, max_retries=0)
    async with client:
        with pytest.raises(errors.APIConnectionError) as raised:
            await client.list_models()
    assert "no-such-host.invalid" in str(raised.value) and "DNS" in str(raised.value)


async def test_missing_key_for_cerebras_is_refused_before_sending() -> None:
    client, _ = make_client(Endpoint.from_env(environ={}))
    async with client:
        with pytest.raises(errors.MissingAPIKeyError, match="CEREBRAS_API_KEY"):
            await client.complete(request())
        with pytest.raises(errors.MissingAPIKeyError):
            client.stream(request())
        with pytest.raises(errors.MissingAPIKeyError):
            await client.list_models()


async def test_custom_header_replaces_a_default_whatever_its_case(sim_factory: SimFactory) -> None:
    sim = await sim_factory()
    endpoint = endpoint_for(sim, environ={"CEREBRAS_CUSTOM_HEADERS": "user-agent: my-proxy-tag"})
    client, _ = make_client(endpoint)
    async with client:
        await client.complete(request())
    assert sim.requests[0].headers["user-agent"] == "my-proxy-tag"


async def test_a_proxy_in_the_environment_does_not_capture_loopback(
    sim_factory: SimFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = await sim_factory()
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("ALL_PROXY", f"http://127.0.0.1:{closed_port()}")
    client, _ = make_client(sim, max_retries=0)
    async with client:
        assert (await client.complete(request())).text


async def test_non_stream_stall_is_retried_as_a_read_timeout(sim_factory: SimFactory) -> None:
    sim = await sim_factory(fault="stall", fault_times=1)
    client, sleep = make_client(sim, timeouts=Timeouts(connect=5, read=0.2))
    async with client:
        result = await client.complete(request())
    assert result.text and len(completions(sim)) == 2 and sleep.delays == [0.5]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 2**31),
    prompts=st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=3),
    max_tokens=st.integers(1, 60),
    raw=st.booleans(),
    logprobs=st.none() | st.integers(0, 3),
)
async def test_stream_equals_non_stream_for_any_request(
    sim_factory: SimFactory, seed: int, prompts: list[str], max_tokens: int, raw: bool,
    logprobs: int | None,
) -> None:
    sim = await sim_factory()
    client, _ = make_client(sim)
    req = request(seed=seed, prompt=prompts if len(prompts) > 1 else prompts[0],
                  max_tokens=max_tokens, return_raw_tokens=raw, logprobs=logprobs)
    async with client:
        whole = await client.complete(req)
        events = await collect(client, req)
    streamed = events[-1].result
    assert [(c.index, c.text, c.tokens, c.finish_reason, c.logprobs) for c in streamed.choices] == [
        (c.index, c.text, c.tokens, c.finish_reason, c.logprobs) for c in whole.choices
    ]
    if logprobs is not None:
        deltas = [e for e in events if isinstance(e, TextDelta)]
        assert all(e.logprobs and len(e.logprobs["tokens"]) >= 1 for e in deltas)
    assert len(streamed.choices) == len(prompts)
    assert streamed.usage.completion_tokens == whole.usage.completion_tokens


async def test_collect_streams_or_not_as_the_request_says(sim_factory: SimFactory) -> None:
    sim = await sim_factory()
    endpoint = Endpoint.from_env(base_url=sim.base_url, environ={})
    base = CompletionRequest(model="llama3.1-8b", prompt="It is a truth", max_tokens=20, seed=3)
    async with CompletionClient(endpoint) as client:
        streamed = await client.collect(replace(base, stream=True))
        whole = await client.collect(replace(base, stream=False))
    assert [r.body["stream"] for r in sim.requests if r.path == "/v1/completions"] == [True, False]
    assert streamed.text == whole.text and streamed.text
    assert streamed.usage.completion_tokens == whole.usage.completion_tokens
