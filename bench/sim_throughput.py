"""How fast the unpaced simulator streams: tokens per second as a client receives them.

Starts ``python -m workbench sim --rate 0`` in its own process (so the client does not share
the server's interpreter), streams a few 8,000-token completions and prints tokens/s two ways:
  raw     read the chunked SSE bytes off the socket without parsing (what the server can send)
  parsed  httpx ``aiter_lines`` + ``json.loads`` of every event (what a simple client sees)
tokens = ``usage.completion_tokens`` of the final chunk; time = request sent → body ended.

Run: ``.venv/bin/python bench/sim_throughput.py [--runs 5] [--tokens 8000]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import subprocess
import sys
import time

import httpx

MODEL = "llama3.1-8b"


def start_sim() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "workbench", "sim", "--rate", "0", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"http://[\d.]+:\d+", line)
    if not match:
        process.kill()
        raise SystemExit(f"the simulator did not start: {line!r}")
    return process, match.group(0)


def body(tokens: int) -> dict:
    return {
        "model": MODEL,
        "prompt": "It",
        "max_tokens": tokens,
        "min_tokens": -1,
        "stream": True,
        "seed": 1,
    }


async def raw_run(client: httpx.AsyncClient, tokens: int) -> tuple[int, float, int]:
    started = time.perf_counter()
    data = bytearray()
    async with client.stream("POST", "/v1/completions", json=body(tokens)) as response:
        async for piece in response.aiter_raw():
            data += piece
    elapsed = time.perf_counter() - started
    events = data.split(b"\n\n")
    final = json.loads(events[-3].removeprefix(b"data: "))  # ..., final chunk, [DONE], ""
    return final["usage"]["completion_tokens"], elapsed, len(events) - 1


async def parsed_run(client: httpx.AsyncClient, tokens: int) -> tuple[int, float, int]:
    started = time.perf_counter()
    final: dict = {}
    events = 0
    async with client.stream("POST", "/v1/completions", json=body(tokens)) as response:
        async for line in response.aiter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                final = json.loads(line[6:])
                events += 1
    elapsed = time.perf_counter() - started
    return final["usage"]["completion_tokens"], elapsed, events


async def measure(base_url: str, runs: int, tokens: int) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        await raw_run(client, 100)  # warm up the connection and the model's caches
        for name, run in (("raw", raw_run), ("parsed", parsed_run)):
            rates = []
            for _ in range(runs):
                count, elapsed, events = await run(client, tokens)
                rates.append(count / elapsed)
            print(
                f"{name:>6}: median {statistics.median(rates):>9,.0f} tok/s "
                f"(min {min(rates):,.0f}, max {max(rates):,.0f}; {runs} runs × {count:,} tokens, "
                f"{events:,} SSE events each)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=8000)
    args = parser.parse_args()
    process, base_url = start_sim()
    try:
        asyncio.run(measure(base_url, args.runs, args.tokens))
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
