"""Opening a big session in the transcript: time to first paint and memory, by session size.

Each run is a fresh process: a Textual app with only the transcript (headless, 120x40) is
given N recorded exchanges of ~2,000 tokens each (the path ``ctrl+o`` takes once the session
file is read: ``Transcript.show_recorded`` per exchange), then waits for the first frame that
shows them, with the finished rendering (pygments, Markdown touch) of what is on screen.
Reported: seconds from the first exchange added to that frame, and the process's peak RSS
minus its RSS before the exchanges were built (so the figure is the transcript's, plus the
exchanges' own text, which any viewer must hold). Reading the file is the store's part
(``bench/store_scale.py``).

Usage: ``python bench/transcript_open.py [--runs 5] [--sizes 10,100,1000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TOKENS_PER_EXCHANGE = 2_000

CHILD = r"""
import asyncio, json, sys, time
from textual.app import App
from workbench.api.request import CompletionRequest
from workbench.api.types import Choice, ClientMetrics, CompletionResult, Usage
from workbench.ui.final_render import CompletionRenderer
from workbench.ui.transcript import Transcript

def rss_kb(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1])

count, tokens = int(sys.argv[1]), int(sys.argv[2])

class Host(App):
    def compose(self):
        yield Transcript(id="t")

async def main():
    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        before = rss_kb("VmRSS")
        words = [f"word{i % 97}" for i in range(tokens)]
        exchanges = []
        for number in range(count):
            text = " ".join(words) + f"\n\n```python\nprint({number})\n```\n"
            exchanges.append((
                CompletionRequest(model="llama3.1-8b", prompt=f"Prompt number {number}", max_tokens=tokens),
                CompletionResult(
                    choices=[Choice(index=0, text=text, finish_reason="length")],
                    usage=Usage(prompt_tokens=4, completion_tokens=tokens, total_tokens=tokens + 4),
                    metrics=ClientMetrics(time_to_first_token_s=0.05, wall_time_s=0.4),
                ),
            ))
        transcript = app.query_one(Transcript)
        render = CompletionRenderer("monokai")
        started = time.perf_counter()
        for request, result in exchanges:
            await transcript.show_recorded(request, result, "complete", None, render)
        await pilot.pause()
        await transcript.wait_styled()
        await pilot.pause()
        painted = time.perf_counter() - started
        print(json.dumps({"first_paint_s": painted, "rss_mb": rss_kb("VmHWM") / 1024,
                          "added_mb": (rss_kb("VmHWM") - before) / 1024}))

asyncio.run(main())
"""


def one_run(count: int) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, "-c", CHILD, str(count), str(TOKENS_PER_EXCHANGE)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="10,100,1000")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    load_before = os.getloadavg()[0]
    results: dict[int, list[dict[str, float]]] = {size: [] for size in sizes}
    for run in range(args.runs):
        for size in sizes if run % 2 == 0 else sizes[::-1]:
            results[size].append(one_run(size))
            print(f"{size} exchanges, run {run + 1}/{args.runs}: {results[size][-1]}", flush=True)
    print()
    print(
        f"{TOKENS_PER_EXCHANGE:,} tokens per exchange, 120x40, medians of {args.runs}; "
        f"load average before {load_before:.2f}, after {os.getloadavg()[0]:.2f}"
    )
    print("| exchanges | first paint s | peak RSS MB | RSS added by the exchanges MB |")
    print("|---|---|---|---|")
    for size in sizes:
        runs = results[size]
        print(
            f"| {size:,} | {statistics.median(r['first_paint_s'] for r in runs):.3f} "
            f"| {statistics.median(r['rss_mb'] for r in runs):.0f} "
            f"| {statistics.median(r['added_mb'] for r in runs):.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
