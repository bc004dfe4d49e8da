"""Every fault mode, observed the way a client sees it: statuses, headers, SSE bytes."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Awaitable, Callable

import httpx
import pytest

from workbench.sim import FAULT_MODES, SimServer

SimFactory = Callable[..., Awaitable[SimServer]]
MODEL = "llama3.1-8b"
BODY = {"model": MODEL, "prompt": "It is a truth", "max_tokens": 40, "seed": 1}


def fault(mode: str) -> dict[str, str]:
    return {"x-sim-fault": mode}


async def read_stream(
    sim: SimServer, headers: dict[str, str], body: dict[str, Any] | None = None
) -> tuple[list[str], BaseException | None]:
    """The `data:` payloads received, and the error that ended the stream (if any)."""
    payloads: list[str] = []
    async with httpx.AsyncClient(base_url=sim.base_url) as client:
        try:
            async with client.stream(
                "POST", "/v1/completions", json={**(body or BODY), "stream": True}, headers=headers
            ) as response:
                assert response.status_code == 200
                async for line in response.aiter_lines():
                    if line.startswith("data: "):
                        payloads.append(line[len("data: ") :])
        except httpx.HTTPError as error:
            return payloads, error
    return payloads, None


def text_chunks(payloads: list[str]) -> list[str]:
    texts = []
    for payload in payloads:
        try:
            event = json.loads(payload)
        except ValueError:
            continue
        if "choices" in event and event["choices"][0]["text"]:
            texts.append(event["choices"][0]["text"])
    return texts


@pytest.mark.parametrize(
    ("mode", "status", "error_type"),
    [
        ("rate-limit", 429, "too_many_requests_error"),
        ("server-error", 500, "server_error"),
        ("unavailable", 503, "too_many_requests_error"),
    ],
)
async def test_status_faults_answer_flat_json(
    sim: SimServer, mode: str, status: int, error_type: str
) -> None:
    async with httpx.AsyncClient(base_url=sim.base_url) as client:
        for stream in (False, True):
            response = await client.post(
                "/v1/completions", json={**BODY, "stream": stream}, headers=fault(mode)
            )
            assert response.status_code == status
            body = response.json()
            assert set(body) == {"message", "type", "param", "code"}
            assert body["type"] == error_type
    if mode == "rate-limit":
        assert body["message"].startswith("Requests per minute limit exceeded")
        assert response.headers["retry-after"] == "1"
        assert response.headers["retry-after-ms"] == "50"


async def test_html_502_is_a_proxy_page(sim: SimServer) -> None:
    async with httpx.AsyncClient(base_url=sim.base_url) as client:
        response = await client.post("/v1/completions", json=BODY, headers=fault("html-502"))
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert "502 Bad Gateway" in response.text
    with pytest.raises(ValueError):
        response.json()


async def test_drop_cuts_the_stream_after_some_text(sim: SimServer) -> None:
    payloads, error = await read_stream(sim, fault("drop"))
    assert isinstance(error, httpx.RemoteProtocolError)  # body ended without its last chunk
    assert len(text_chunks(payloads)) >= 5
    assert "[DONE]" not in payloads


async def test_drop_without_stream_cuts_the_body(sim: SimServer) -> None:
    async with httpx.AsyncClient(base_url=sim.base_url) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post("/v1/completions", json=BODY, headers=fault("drop"))


async def test_stall_holds_the_stream_open_until_the_client_leaves(sim: SimServer) -> None:
    texts: list[str] = []
    async with httpx.AsyncClient(base_url=sim.base_url) as client:
        async with client.stream(
            "POST", "/v1/completions", json={**BODY, "stream": True}, headers=fault("stall")
        ) as response:
            lines = response.aiter_lines()
            while len(texts) < 5:
                line = await anext(lines)
                if line.startswith("data: "):
                    texts.extend(text_chunks([line[6:]]))
            # Nothing more comes: not the next text, not the end of the body.
            with pytest.raises(TimeoutError):
                while True:
                    await asyncio.wait_for(anext(lines), timeout=0.3)
    assert await sim.wait_for_disconnect(timeout=5.0) == 1


async def test_malformed_sse_event_follows_some_text(sim: SimServer) -> None:
    payloads, error = await read_stream(sim, fault("malformed-sse"))
    assert error is None
    assert len(text_chunks(payloads)) >= 5
    assert "{not json" in payloads
    with pytest.raises(ValueError):
        json.loads(payloads[payloads.index("{not json")])


async def test_error_event_follows_some_text_and_ends_the_stream(sim: SimServer) -> None:
    payloads, error = await read_stream(sim, fault("error-event"))
    assert error is None
    assert len(text_chunks(payloads)) >= 5
    last = json.loads(payloads[-1])
    assert last["status_code"] == 503
    assert set(last["error"]) >= {"message", "type", "code"}
    assert "[DONE]" not in payloads


async def test_no_done_ends_cleanly_without_done(sim: SimServer) -> None:
    payloads, error = await read_stream(sim, fault("no-done"))
    assert error is None
    assert "[DONE]" not in payloads
    final = json.loads(payloads[-1])
    assert final["choices"][0]["finish_reason"] in ("stop", "length")
    assert "usage" in final


async def test_split_utf8_splits_events_inside_a_character(sim: SimServer) -> None:
    pieces: list[bytes] = []
    async with httpx.AsyncClient(base_url=sim.base_url) as client:
        async with client.stream(
            "POST", "/v1/completions", json={**BODY, "stream": True}, headers=fault("split-utf8")
        ) as response:
            async for piece in response.aiter_raw():
                pieces.append(piece)
    whole = b"".join(pieces)
    text = whole.decode("utf-8")  # the bytes are intact once joined
    assert any(ord(ch) > 127 for ch in "".join(text_chunks(text.split("data: "))))

    def cut_inside_a_character(piece: bytes) -> bool:
        try:
            piece.decode("utf-8")
        except UnicodeDecodeError as error:
            return error.reason == "unexpected end of data"
        return False

    assert any(cut_inside_a_character(piece) for piece in pieces)
    assert text.rstrip().endswith("data: [DONE]")


async def test_split_utf8_without_stream_still_parses(sim: SimServer) -> None:
    async with httpx.AsyncClient(base_url=sim.base_url) as client:
        response = await client.post("/v1/completions", json=BODY, headers=fault("split-utf8"))
    text = response.json()["choices"][0]["text"]
    assert any(ord(ch) > 127 for ch in text)


async def test_slow_first_byte_delays_the_headers(sim: SimServer) -> None:
    async with httpx.AsyncClient(base_url=sim.base_url) as client:
        started = time.perf_counter()
        response = await client.post("/v1/completions", json=BODY, headers=fault("slow-first-byte"))
        elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert elapsed >= 0.45


async def test_server_wide_fault_applies_to_the_first_n_completions_only(
    sim_factory: SimFactory,
) -> None:
    sim = await sim_factory(fault="server-error", fault_times=2)
    async with httpx.AsyncClient(base_url=sim.base_url) as client:
        models = await client.get("/v1/models")
        statuses = [(await client.post("/v1/completions", json=BODY)).status_code for _ in range(3)]
        overridden = await client.post("/v1/completions", json=BODY, headers=fault("rate-limit"))
    assert models.status_code == 200
    assert statuses == [500, 500, 200]
    assert overridden.status_code == 429


async def test_server_wide_fault_without_limit_applies_to_every_completion(
    sim_factory: SimFactory,
) -> None:
    sim = await sim_factory(fault="unavailable")
    async with httpx.AsyncClient(base_url=sim.base_url) as client:
        statuses = {(await client.post("/v1/completions", json=BODY)).status_code for _ in range(3)}
    assert statuses == {503}


async def test_unknown_fault_header_is_refused(sim: SimServer) -> None:
    async with httpx.AsyncClient(base_url=sim.base_url) as client:
        response = await client.post("/v1/completions", json=BODY, headers=fault("gremlins"))
    assert response.status_code == 400
    assert response.json()["param"] == "x-sim-fault"


def test_unknown_server_wide_fault_is_refused() -> None:
    with pytest.raises(ValueError):
        SimServer(fault="gremlins")


def test_fault_modes_are_the_agreed_names() -> None:
    assert set(FAULT_MODES) == {
        "rate-limit", "server-error", "unavailable", "html-502", "drop", "stall",
        "malformed-sse", "error-event", "no-done", "split-utf8", "slow-first-byte",
    }  # fmt: skip
