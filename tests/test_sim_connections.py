"""Connection-level behaviour: keep-alive, Connection: close, chunked bodies, disconnects,
pacing, and the threaded wrapper for synchronous callers."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Awaitable, Callable

import httpx
import pytest

from workbench.sim import SimServer, ThreadedSim

SimFactory = Callable[..., Awaitable[SimServer]]
MODEL = "llama3.1-8b"


def raw_request(body: dict, *, extra: str = "", stream: bool = False) -> bytes:
    data = json.dumps({**body, "stream": stream}).encode()
    return (
        f"POST /v1/completions HTTP/1.1\r\nHost: sim\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n{extra}\r\n"
    ).encode() + data


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """One response off a raw connection, by Content-Length or chunked framing."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {
        name.lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines[1:] if line)
    }
    if headers.get("transfer-encoding") == "chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += chunk[:-2]
        return status, headers, body
    return status, headers, await reader.readexactly(int(headers["content-length"]))


async def test_keep_alive_serves_many_requests_on_one_connection(sim: SimServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    body = {"model": MODEL, "prompt": "It is", "max_tokens": 10, "seed": 1}
    try:
        for stream in (False, True, False, True):
            writer.write(raw_request(body, stream=stream))
            status, headers, data = await read_response(reader)
            assert status == 200 and headers["connection"] == "keep-alive"
            if stream:
                assert data.endswith(b"data: [DONE]\n\n")
            else:
                assert json.loads(data)["usage"]["completion_tokens"] > 0
        writer.write(b"GET /v1/models HTTP/1.1\r\nHost: sim\r\n\r\n")
        status, _, data = await read_response(reader)
        assert status == 200 and json.loads(data)["object"] == "list"
    finally:
        writer.close()
    assert sim.connections_opened == 1
    assert len(sim.requests) == 5


async def test_httpx_pool_reuses_one_connection(sim: SimServer) -> None:
    async with httpx.AsyncClient(base_url=sim.base_url) as client:
        for _ in range(3):
            response = await client.post(
                "/v1/completions", json={"model": MODEL, "prompt": "It", "max_tokens": 5}
            )
            assert response.status_code == 200
    assert sim.connections_opened == 1


async def test_connection_close_is_honoured(sim: SimServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    writer.write(raw_request({"model": MODEL, "prompt": "It"}, extra="Connection: close\r\n"))
    status, headers, _ = await read_response(reader)
    assert status == 200 and headers["connection"] == "close"
    assert await reader.read() == b""  # the server closed its side
    writer.close()


async def test_chunked_request_body_is_accepted(sim: SimServer) -> None:
    data = json.dumps({"model": MODEL, "prompt": "It is", "max_tokens": 3}).encode()
    head = b"POST /v1/completions HTTP/1.1\r\nHost: sim\r\nTransfer-Encoding: chunked\r\n\r\n"
    body = (
        b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (data[:7], data[7:]))
        + b"0\r\n\r\n"
    )
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    writer.write(head + body)
    status, _, payload = await read_response(reader)
    writer.close()
    assert status == 200
    assert json.loads(payload)["usage"]["completion_tokens"] <= 3


async def test_garbage_request_gets_a_400_and_a_closed_connection(sim: SimServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    writer.write(b"HELLO\r\n\r\n")
    status, headers, _ = await read_response(reader)
    assert status == 400 and headers["connection"] == "close"
    assert await reader.read() == b""
    writer.close()


async def test_client_leaving_a_stream_early_is_detected(sim_factory: SimFactory) -> None:
    sim = await sim_factory(rate=50.0)  # 500 tokens would take 10 s
    body = {"model": MODEL, "prompt": "It", "max_tokens": 500, "min_tokens": -1, "stream": True}
    async with httpx.AsyncClient(base_url=sim.base_url) as client:
        async with client.stream("POST", "/v1/completions", json=body) as response:
            async for line in response.aiter_lines():
                if line.startswith("data: ") and json.loads(line[6:])["choices"][0]["text"]:
                    break  # got some text: leave
    assert await sim.wait_for_disconnect(timeout=5.0) == 1
    assert sim.disconnects == 1


async def test_finished_streams_are_not_disconnects(sim: SimServer) -> None:
    body = {"model": MODEL, "prompt": "It", "max_tokens": 20, "stream": True}
    async with httpx.AsyncClient(base_url=sim.base_url) as client:
        async with client.stream("POST", "/v1/completions", json=body) as response:
            await response.aread()
    with pytest.raises(TimeoutError):
        await sim.wait_for_disconnect(timeout=0.1)
    assert sim.disconnects == 0


async def test_paced_stream_arrives_in_several_chunks(sim_factory: SimFactory) -> None:
    sim = await sim_factory(rate=2000.0)
    body = {"model": MODEL, "prompt": "It", "max_tokens": 200, "min_tokens": -1, "stream": True}
    async with httpx.AsyncClient(base_url=sim.base_url) as client:
        async with client.stream("POST", "/v1/completions", json=body) as response:
            events = [line async for line in response.aiter_lines() if line.startswith("data: {")]
    final = json.loads(events[-1][6:])
    # 200 tokens at 2,000 tok/s take ~0.1 s of server time, sent a few tokens per chunk.
    assert final["time_info"]["completion_time"] >= 200 / 2000 * 0.9
    assert 2 <= len(events) - 2 < 200


async def test_rate_header_overrides_the_pace(sim_factory: SimFactory) -> None:
    sim = await sim_factory(rate=10.0)  # 100 tokens would take 10 s at the server's pace
    body = {"model": MODEL, "prompt": "It", "max_tokens": 100, "min_tokens": -1}
    async with httpx.AsyncClient(base_url=sim.base_url, timeout=5.0) as client:
        response = await client.post("/v1/completions", json=body, headers={"x-sim-rate": "0"})
        bad = await client.post("/v1/completions", json=body, headers={"x-sim-rate": "fast"})
    assert response.status_code == 200
    # At the server's own pace this would report ~10 s of completion time.
    assert response.json()["time_info"]["completion_time"] < 5.0
    assert bad.status_code == 400 and bad.json()["param"] == "x-sim-rate"


def test_threaded_sim_serves_sync_callers_and_stops() -> None:
    with ThreadedSim(rate=None) as sim:
        response = httpx.post(
            f"{sim.base_url}/v1/completions",
            json={"model": MODEL, "prompt": "It", "max_tokens": 4},
        )
        assert response.status_code == 200
        assert sim.requests[0].path == "/v1/completions"
        port = sim.server.port
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_threaded_sim_start_stop_for_long_lived_use() -> None:
    sim = ThreadedSim(rate=None, fault="server-error", fault_times=1)
    sim.start()
    try:
        assert sim.running
        assert httpx.get(f"{sim.base_url}/v1/models").status_code == 200
        statuses = [
            httpx.post(
                f"{sim.base_url}/v1/completions", json={"model": MODEL, "prompt": "x"}
            ).status_code
            for _ in range(2)
        ]
        assert statuses == [500, 200]
        sim.set_fault("rate-limit")
        assert (
            httpx.post(f"{sim.base_url}/v1/completions", json={"model": MODEL}).status_code == 429
        )
    finally:
        sim.stop()
    sim.stop()  # a second stop is harmless
    assert not sim.running


def test_threaded_sim_reports_a_port_in_use() -> None:
    with ThreadedSim(rate=None) as first:
        with pytest.raises(OSError):
            ThreadedSim(port=first.server.port).start()


def test_threaded_sim_waits_for_disconnects() -> None:
    with ThreadedSim(rate=20.0) as sim:
        body = {"model": MODEL, "prompt": "It", "max_tokens": 200, "min_tokens": -1, "stream": True}
        with httpx.Client(base_url=sim.base_url) as client:
            with client.stream("POST", "/v1/completions", json=body) as response:
                for line in response.iter_lines():
                    if line.startswith("data: ") and json.loads(line[6:])["choices"][0]["text"]:
                        break
        assert sim.wait_for_disconnect(timeout=5.0) == 1


async def test_concurrent_streams_are_served_side_by_side(sim_factory: SimFactory) -> None:
    sim = await sim_factory(rate=5000.0)

    async def one(seed: int) -> tuple[str, str]:
        body = {"model": MODEL, "prompt": "It is", "max_tokens": 100, "seed": seed}
        async with httpx.AsyncClient(base_url=sim.base_url) as client:
            whole = (await client.post("/v1/completions", json=body)).json()["choices"][0]["text"]
            text = ""
            async with client.stream("POST", "/v1/completions", json={**body, "stream": True}) as r:
                async for line in r.aiter_lines():
                    if line.startswith("data: {"):
                        text += json.loads(line[6:])["choices"][0]["text"]
            return whole, text

    results = await asyncio.gather(*(one(seed) for seed in range(6)))
    assert all(whole == streamed for whole, streamed in results)
    assert sim.connections_opened == 6


async def test_time_info_reports_the_pace_it_was_served_at(sim_factory: SimFactory) -> None:
    sim = await sim_factory(rate=1000.0)
    body = {"model": MODEL, "prompt": "It is", "max_tokens": 150, "min_tokens": -1}
    async with httpx.AsyncClient(base_url=sim.base_url) as client:
        whole = (await client.post("/v1/completions", json=body)).json()
        async with client.stream(
            "POST", "/v1/completions", json={**body, "stream": True}
        ) as response:
            lines = [line async for line in response.aiter_lines() if line.startswith("data: {")]
    final = json.loads(lines[-1][6:])
    for result in (whole, final):
        info, usage = result["time_info"], result["usage"]
        # Never faster than the pace (sleeps do not end early); the first token is due at once.
        assert (usage["completion_tokens"] - 1) / info["completion_time"] <= 1000 * 1.01
        assert info["total_time"] >= info["prompt_time"] + info["completion_time"]
        assert info["queue_time"] >= 0


async def test_expect_100_continue_is_answered_before_the_body(sim: SimServer) -> None:
    data = json.dumps({"model": MODEL, "prompt": "It", "max_tokens": 2}).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    writer.write(
        b"POST /v1/completions HTTP/1.1\r\nHost: sim\r\nExpect: 100-continue\r\n"
        b"Content-Length: %d\r\n\r\n" % len(data)
    )
    interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5.0)
    assert interim.startswith(b"HTTP/1.1 100 Continue")
    writer.write(data)
    status, _, _ = await read_response(reader)
    writer.close()
    assert status == 200
