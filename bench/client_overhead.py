"""How much does workbench's client cost on top of raw httpx, and does it stream as fast as
the official SDK?

Against the unpaced simulator, started in its own process (``python -m workbench sim --rate 0``)
so the server does not share the clients' GIL, this measures for three clients:

* raw httpx: one ``httpx.AsyncClient``, JSON parsed by hand, SSE split by hand;
* workbench: ``workbench.api.client.CompletionClient``;
* the SDK: ``cerebras.cloud.sdk.AsyncCerebras``;

1. latency: the median wall time of a small non-streaming request (after a warm-up), over
   several rounds that alternate the clients' order so drift in machine load hits all alike;
2. streaming: tokens/s of a long stream (20,000 tokens by default), from sending the request
   to reading its last event, several runs each.

It prints a table and (unless ``--no-doc``) rewrites its own section of ``docs/benchmarks.md``
with the figures, the machine, the date and the load average at the time.

Run: ``.venv/bin/python bench/client_overhead.py`` (about 15 s on 2 cores);
``--profile`` adds a cProfile of workbench's streaming loop.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import io
import json
import os
import pstats
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _machine import machine_summary  # noqa: E402 - bench/ is on sys.path as the script's folder
from workbench.api.client import CompletionClient
from workbench.api.endpoint import Endpoint
from workbench.api.request import CompletionRequest
from workbench.api.types import StreamFinished, TextDelta

MODEL = "llama3.1-8b"
PROMPT = "It was a dark and stormy night"
SMALL_MAX_TOKENS = 16
# The simulator's models have an 8,192-token context, so a long stream is n choices of at most
# this many tokens each (min_tokens = max_tokens, so every choice runs to its length).
TOKENS_PER_CHOICE = 5_000


def stream_shape(tokens: int) -> tuple[int, int]:
    """(n, tokens per choice) for a stream of ``tokens`` completion tokens in all."""
    per_choice = min(tokens, TOKENS_PER_CHOICE)
    if tokens % per_choice:
        raise SystemExit(f"--stream-tokens must be a multiple of {per_choice}")
    return tokens // per_choice, per_choice


SECTION_HEADING = "## Client overhead (`bench/client_overhead.py`)"

# -- the simulator in its own process ------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_sim() -> tuple[subprocess.Popen, str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "workbench", "sim", "--rate", "0", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the simulator exited: {process.stderr.read().decode()}")
        try:
            if httpx.get(base_url + "/v1/models", timeout=1).status_code == 200:
                return process, base_url
        except httpx.HTTPError:
            time.sleep(0.05)  # polling for readiness in a script, not a test
    process.kill()
    raise SystemExit("the simulator did not answer within 30 s")


# -- the three clients, each with a small request and a long stream -------------------------------


class RawHttpx:
    name = "raw httpx"

    def __init__(self, base_url: str) -> None:
        self.url = base_url + "/v1/completions"
        self.events = 0  # SSE data events in the last stream, [DONE] included
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=5.0))

    async def small(self) -> str:
        body = {"model": MODEL, "prompt": PROMPT, "max_tokens": SMALL_MAX_TOKENS}
        response = await self.client.post(self.url, json=body)
        response.raise_for_status()
        return response.json()["choices"][0]["text"]

    async def stream(self, tokens: int) -> tuple[int, float | None]:
        n, per_choice = stream_shape(tokens)
        body = {
            "model": MODEL,
            "prompt": PROMPT,
            "max_tokens": per_choice,
            "min_tokens": per_choice,
            "n": n,
            "stream": True,
        }
        pieces: list[str] = []
        completion_tokens = 0
        first: float | None = None
        self.events = 0
        async with self.client.stream("POST", self.url, json=body) as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                self.events += 1
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                chunk = json.loads(data)
                for choice in chunk.get("choices") or ():
                    text = choice.get("text")
                    if text:
                        if first is None:
                            first = time.perf_counter()
                        pieces.append(text)
                usage = chunk.get("usage")
                if usage:
                    completion_tokens = usage.get("completion_tokens") or 0
        return completion_tokens, first

    async def close(self) -> None:
        await self.client.aclose()


class Workbench:
    name = "workbench"

    def __init__(self, base_url: str) -> None:
        endpoint = Endpoint.from_env(base_url=base_url, api_key=None, environ={})
        self.client = CompletionClient(endpoint, max_retries=0)
        self.small_request = CompletionRequest(
            model=MODEL, prompt=PROMPT, max_tokens=SMALL_MAX_TOKENS
        )

    async def open(self) -> None:
        await self.client.__aenter__()

    async def small(self) -> str:
        return (await self.client.complete(self.small_request)).text

    async def stream(self, tokens: int) -> tuple[int, float | None]:
        n, per_choice = stream_shape(tokens)
        request = CompletionRequest(
            model=MODEL, prompt=PROMPT, max_tokens=per_choice, min_tokens=per_choice, n=n
        )
        pieces: list[str] = []
        completion_tokens = 0
        first: float | None = None
        async with self.client.stream(request) as events:
            async for event in events:
                if isinstance(event, TextDelta):
                    if first is None and event.text:
                        first = time.perf_counter()
                    pieces.append(event.text)
                elif isinstance(event, StreamFinished):
                    usage = event.result.usage
                    completion_tokens = (usage.completion_tokens if usage else 0) or 0
        return completion_tokens, first

    async def close(self) -> None:
        await self.client.__aexit__(None, None, None)


class SDK:
    name = "cerebras-cloud-sdk"

    def __init__(self, base_url: str) -> None:
        from cerebras.cloud.sdk import AsyncCerebras

        self.client = AsyncCerebras(
            api_key="unused", base_url=base_url, max_retries=0, warm_tcp_connection=False
        )

    async def small(self) -> str:
        completion = await self.client.completions.create(
            model=MODEL, prompt=PROMPT, max_tokens=SMALL_MAX_TOKENS
        )
        return completion.choices[0].text or ""

    async def stream(self, tokens: int) -> tuple[int, float | None]:
        n, per_choice = stream_shape(tokens)
        stream = await self.client.completions.create(
            model=MODEL, prompt=PROMPT, max_tokens=per_choice, min_tokens=per_choice, n=n,
            stream=True,
        )  # fmt: skip
        pieces: list[str] = []
        completion_tokens = 0
        first: float | None = None
        async for chunk in stream:
            for choice in chunk.choices:
                if choice.text:
                    if first is None:
                        first = time.perf_counter()
                    pieces.append(choice.text)
            if chunk.usage is not None:
                completion_tokens = chunk.usage.completion_tokens or 0
        return completion_tokens, first

    async def close(self) -> None:
        await self.client.close()


# -- measuring -----------------------------------------------------------------------------------


async def time_calls(call: Callable[[], Awaitable[object]], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - start)
    return samples


async def measure(
    args: argparse.Namespace, base_url: str
) -> tuple[int, dict[str, dict[str, object]]]:
    clients = [RawHttpx(base_url), Workbench(base_url), SDK(base_url)]
    await clients[1].open()  # type: ignore[attr-defined]
    latency: dict[str, list[float]] = {client.name: [] for client in clients}
    speeds: dict[str, list[float]] = {client.name: [] for client in clients}
    flowing: dict[str, list[float]] = {client.name: [] for client in clients}
    cpu: dict[str, list[float]] = {client.name: [] for client in clients}
    try:
        for client in clients:  # warm-up: connections, imports, caches
            await time_calls(client.small, args.warmup)
            await client.stream(TOKENS_PER_CHOICE)
        for round_number in range(args.rounds):
            order = clients if round_number % 2 == 0 else clients[::-1]
            for client in order:
                latency[client.name] += await time_calls(client.small, args.iterations)
        for run in range(args.stream_runs):
            order = clients if run % 2 == 0 else clients[::-1]
            for client in order:
                start, cpu_start = time.perf_counter(), time.process_time()
                tokens, first = await client.stream(args.stream_tokens)
                end, cpu_end = time.perf_counter(), time.process_time()
                # The sim runs in another process: this is the client's own CPU time, which
                # other processes' load barely changes (unlike wall-clock rates).
                cpu[client.name].append(cpu_end - cpu_start)
                if tokens != args.stream_tokens or first is None:
                    raise SystemExit(
                        f"{client.name}: got {tokens} tokens, wanted {args.stream_tokens}"
                    )
                speeds[client.name].append(tokens / (end - start))
                flowing[client.name].append(tokens / (end - first))
        if args.profile:
            print(await profile_workbench(clients[1], args.stream_tokens, args.iterations))  # type: ignore[arg-type]
    finally:
        for client in clients:
            await client.close()
    events_per_stream = clients[0].events  # type: ignore[attr-defined]
    return events_per_stream, {
        client.name: {
            "latency_ms": statistics.median(latency[client.name]) * 1000,
            "latency_p90_ms": statistics.quantiles(latency[client.name], n=10)[-1] * 1000,
            "tok_s_median": statistics.median(speeds[client.name]),
            "tok_s_all": speeds[client.name],
            "flowing_tok_s_median": statistics.median(flowing[client.name]),
            "cpu_ms_median": statistics.median(cpu[client.name]) * 1000,
        }
        for client in clients
    }


async def profile_workbench(client: Workbench, tokens: int, calls: int) -> str:
    """cProfile (whole thread: the event loop and httpx included) of ``calls`` small requests
    and one long stream through workbench's client, top functions by own time."""
    report = io.StringIO()
    for label, work in (
        (f"{calls} small requests", lambda: time_calls(client.small, calls)),
        (f"one {tokens:,}-token stream", lambda: client.stream(tokens)),
    ):
        profiler = cProfile.Profile()
        profiler.enable()
        await work()
        profiler.disable()
        report.write(f"\n=== workbench: {label} ===\n")
        pstats.Stats(profiler, stream=report).sort_stats("tottime").print_stats(25)
    return report.getvalue()


# -- report --------------------------------------------------------------------------------------




def table(results: dict[str, dict[str, object]]) -> str:
    raw = results["raw httpx"]["latency_ms"]
    lines = [
        (
            "| client | median latency (ms) | p90 (ms) | vs raw httpx (ms) | stream tok/s, send → end (median) "
            "| runs (tok/s) | tok/s, first token → end (median) | client CPU per stream (ms, median) |"
        ),
        "|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    for name, figures in results.items():
        runs = ", ".join(f"{value:,.0f}" for value in figures["tok_s_all"])  # type: ignore[union-attr]
        lines.append(
            f"| {name} | {figures['latency_ms']:.3f} | {figures['latency_p90_ms']:.3f} | "
            f"{figures['latency_ms'] - raw:+.3f} | {figures['tok_s_median']:,.0f} | {runs} | "  # type: ignore[operator]
            f"{figures['flowing_tok_s_median']:,.0f} | {figures['cpu_ms_median']:,.0f} |"
        )
    return "\n".join(lines)


def verdict(results: dict[str, dict[str, object]]) -> list[str]:
    added = results["workbench"]["latency_ms"] - results["raw httpx"]["latency_ms"]  # type: ignore[operator]
    ours = results["workbench"]["tok_s_all"]
    sdk = results["cerebras-cloud-sdk"]["tok_s_all"]
    # Runs of the two clients in the same round ran back to back, so their ratio cancels most of
    # the drift in machine load that the absolute figures suffer from.
    ratio = statistics.median(a / b for a, b in zip(ours, sdk))  # type: ignore[call-overload]
    ours_median = results["workbench"]["tok_s_median"]
    sdk_median = results["cerebras-cloud-sdk"]["tok_s_median"]
    return [
        (
            f"- workbench adds {added:+.3f} ms to raw httpx's median latency "
            f"(target ≤ 1 ms): {'met' if added <= 1.0 else 'MISSED'}."
        ),
        (
            f"- workbench streams at {ours_median:,.0f} tok/s vs the SDK's {sdk_median:,.0f} tok/s "
            f"(medians); run by run, workbench ÷ SDK = {ratio:.2f} (median) "
            f"(target: at least as fast): {'met' if ratio >= 1.0 else 'MISSED'}."
        ),
        (
            f"- Client CPU per stream (median): workbench "
            f"{results['workbench']['cpu_ms_median']:,.0f} ms, SDK "
            f"{results['cerebras-cloud-sdk']['cpu_ms_median']:,.0f} ms, raw httpx "
            f"{results['raw httpx']['cpu_ms_median']:,.0f} ms."
        ),
    ]


def write_doc(path: Path, section: str) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    start = text.find(SECTION_HEADING)
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        following = text.find("\n## ", start + len(SECTION_HEADING))
        end = len(text) if following == -1 else following + 1
        text = text[:start] + section + ("\n" + text[end:] if following != -1 else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument(
        "--iterations", type=int, default=500, help="small requests per client per round"
    )
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--stream-tokens", type=int, default=20_000)
    parser.add_argument("--stream-runs", type=int, default=15)
    parser.add_argument("--profile", action="store_true", help="cProfile one workbench stream")
    parser.add_argument("--doc", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--no-doc", action="store_true")
    parser.add_argument("--note", action="append", default=[], help="a line for the doc")
    args = parser.parse_args()

    load_before = os.getloadavg()
    process, base_url = start_sim()
    try:
        events_per_stream, results = asyncio.run(measure(args, base_url))
    finally:
        process.terminate()
        process.wait(timeout=10)
    load_after = os.getloadavg()

    print(table(results))
    print(
        f"(the sim sent {events_per_stream:,} SSE data events per {args.stream_tokens:,}-token stream)"
    )
    for line in verdict(results):
        print(line)
    if args.no_doc:
        return 0
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    notes = "".join(f"- {note}\n" for note in args.note)
    section = (
        f"{SECTION_HEADING}\n\n"
        "What workbench's `CompletionClient` costs on top of raw httpx (one `AsyncClient`, JSON and\n"
        "SSE parsed by hand), next to the official `cerebras-cloud-sdk` `AsyncCerebras`, against the\n"
        "unpaced simulator in its own process (`python -m workbench sim --rate 0`).\n\n"
        f"- Machine: {machine_summary()}\n"
        f"- Date: {date}\n"
        f"- Latency: non-streaming request, {SMALL_MAX_TOKENS} tokens; {args.warmup} warm-up calls, then "
        f"{args.rounds} rounds × {args.iterations} calls per client (order alternating): "
        f"{args.rounds * args.iterations} samples each.\n"
        f"- Streaming: {args.stream_tokens:,} tokens per stream (n={stream_shape(args.stream_tokens)[0]} "
        f"choices × {stream_shape(args.stream_tokens)[1]:,} tokens: the sim's context is 8,192), "
        f"{args.stream_runs} runs per client (order alternating); tok/s = completion tokens / "
        "(send → last event), and / (first text → last event), which leaves out the time the sim "
        "spends generating the whole completion before its first byte. Client CPU per stream is the "
        "client process's own CPU time (`time.process_time`; the sim runs in another process): the "
        "figure least disturbed by other load. The unpaced sim sent "
        f"{events_per_stream:,} SSE data events per stream (several tokens per event).\n"
        f"- Load average (1 min) before/after: {load_before[0]:.2f} / {load_after[0]:.2f}\n"
        f"{notes}\n"
        f"{table(results)}\n\n"
        + "\n".join(verdict(results))
        + "\n\nReproduce: `.venv/bin/python bench/client_overhead.py`.\n"
    )
    write_doc(args.doc, section)
    print(f"wrote {args.doc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
