"""`workbench eval` at scale: 100 / 1,000 / 2,000 / 5,000 cells against the unpaced simulator.

    .venv/bin/python bench/eval_scale.py [--runs 5] [--sizes 100,1000,2000,5000] [--no-write]

The simulator runs in its own process (``bench/_sim_process.py --rate 0``: no pacing, so the
client side is what is measured); each run is the real command in a subprocess —
``workbench eval FILE --base-url URL --concurrency 16`` — over cases from a CSV file, two
variants, three assertions per cell (contains, regex, max_tokens) and ``max_tokens = 20``.
Sizes are interleaved run by run and each figure is the median of ``--runs``. Peak RSS is the
eval process's own (``wait4``), not the simulator's. Linearity: seconds per cell at the largest
size divided by seconds per cell at 1,000, and the marginal milliseconds per added cell
between sizes (constant = linear; the small runs carry the fixed start-up of ~1 s).

Target (issue 13): 1,000 cases × 2 variants (2,000 cells) in ≤ 60 s, RSS ≤ 150 MB, on 2 cores.
Appends (or replaces) its section in docs/benchmarks.md unless ``--no-write``.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._machine import machine_summary  # noqa: E402

SECTION_TITLE = "## Eval at scale (`bench/eval_scale.py`)"
TARGET_CELLS = 2000
TARGET_S = 60.0
TARGET_RSS_MB = 150.0
CONCURRENCY = 16
WORDS = (
    "the night was dark and stormy rain fell in torrents except at occasional intervals when "
    "it was checked by a violent gust of wind which swept up the streets rattling along roofs"
).split()

EVAL = """\
schema_version = 1
title = "scale"
prompt = "Continue the story: {{text}}"
cases_file = "cases.csv"
assert = [
  { type = "max_tokens", value = 20 },
  { type = "regex", value = "\\\\w+" },
  { type = "not_contains", value = "{{text}}" },
]

[defaults]
max_tokens = 20
temperature = 0.7

[[variants]]
name = "8b"
model = "llama3.1-8b"

[[variants]]
name = "32b"
model = "qwen-3-32b"
"""


def make_eval(directory: Path, cells: int) -> Path:
    rng = random.Random(cells)
    with (directory / "cases.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["__name", "text"])
        for n in range(cells // 2):
            writer.writerow([f"case-{n:05d}", " ".join(rng.choices(WORDS, k=12))])
    path = directory / "scale.toml"
    path.write_text(EVAL, encoding="utf-8")
    return path


def start_sim() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "_sim_process.py"), "--rate", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.match(r"PORT (\d+)", line)
    if match is None:
        process.kill()
        raise SystemExit(f"the simulator did not start: {line!r}")
    return process, f"http://127.0.0.1:{match.group(1)}"


def run_once(eval_path: Path, base_url: str) -> tuple[float, float, int]:
    """Seconds, peak RSS in MB and exit code of one `workbench eval` run."""
    for leftover in eval_path.parent.glob("scale.results*.toml"):
        leftover.unlink()
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "workbench", "eval", str(eval_path), "--base-url", base_url,
         "--concurrency", str(CONCURRENCY)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if not k.startswith("CEREBRAS_")},
    )  # fmt: skip
    assert process.stderr is not None
    stderr = process.stderr.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    process.returncode = code
    if code != 0:
        sys.stderr.write(stderr.decode(errors="replace"))
    return elapsed, usage.ru_maxrss / 1024, code


def write_section(text: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    current = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(SECTION_TITLE) + r".*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(current):
        updated = pattern.sub(lambda _: text, current)
    else:
        updated = current.rstrip("\n") + "\n\n" + text
    path.write_text(updated, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="100,1000,2000,5000", help="cell counts, comma-separated")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    loads = [os.getloadavg()[0]]
    times: dict[int, list[float]] = {size: [] for size in sizes}
    rss: dict[int, list[float]] = {size: [] for size in sizes}
    sim, base_url = start_sim()
    try:
        with tempfile.TemporaryDirectory(prefix="workbench-eval-scale-") as temp:
            evals = {}
            for size in sizes:
                directory = Path(temp) / str(size)
                directory.mkdir()
                evals[size] = make_eval(directory, size)
            for run in range(args.runs):
                for size in sizes:  # interleaved: a change in machine load hits every size
                    elapsed, peak, code = run_once(evals[size], base_url)
                    if code != 0:
                        print(f"run failed with exit code {code}", file=sys.stderr)
                        return 1
                    times[size].append(elapsed)
                    rss[size].append(peak)
                    print(f"run {run + 1}/{args.runs}: {size:>6,} cells {elapsed:6.1f} s "
                          f"{size / elapsed:6.0f} cells/s {peak:5.0f} MB", file=sys.stderr)  # fmt: skip
                loads.append(os.getloadavg()[0])
    finally:
        sim.terminate()
        sim.wait()

    reference = 1000 if 1000 in sizes else sizes[0]
    per_cell_ref = statistics.median(times[reference]) / reference
    rows = ["| cells | time (median) | cells/s | peak RSS (median) | s/cell ÷ s/cell at 1,000 "
            "| ms per added cell |", "|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    previous: tuple[int, float] | None = None
    for size in sizes:
        median = statistics.median(times[size])
        ratio = (median / size) / per_cell_ref
        # The marginal cost leaves out the fixed start-up (interpreter, imports, connection),
        # which dominates the small runs: constant here means time linear in cells.
        added = "-" if previous is None else f"{(median - previous[1]) / (size - previous[0]) * 1000:.2f}"
        previous = (size, median)
        rows.append(
            f"| {size:,} | {median:.1f} s | {size / median:,.0f} | "
            f"{statistics.median(rss[size]):.0f} MB | {ratio:.2f} | {added} |"
        )
    verdict = ""
    if TARGET_CELLS in sizes:
        t = statistics.median(times[TARGET_CELLS])
        m = statistics.median(rss[TARGET_CELLS])
        verdict = (
            f"\nTarget (1,000 cases × 2 variants = {TARGET_CELLS:,} cells): {t:.1f} s of ≤ {TARGET_S:.0f} s "
            f"({'met' if t <= TARGET_S else 'NOT met'}), {m:.0f} MB of ≤ {TARGET_RSS_MB:.0f} MB "
            f"({'met' if m <= TARGET_RSS_MB else 'NOT met'}).\n"
        )
    text = "\n".join(
        [
            SECTION_TITLE,
            "",
            f"`workbench eval` against `bench/_sim_process.py --rate 0` (own process), "
            f"`--concurrency {CONCURRENCY}`, two variants, three assertions per cell, "
            f"`max_tokens = 20`; median of {args.runs} interleaved runs. {machine_summary()}; "
            f"load average (1 min) during the runs: {min(loads):.2f}–{max(loads):.2f} "
            "(other work shared the machine).",
            "",
            *rows,
            verdict,
        ]
    )
    print(text)
    if not args.no_write:
        write_section(text.rstrip() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
