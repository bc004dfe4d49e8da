"""How session costs grow with the session: autosave, open (decode) and memory at 10 → 100 →
1,000 exchanges of 2,000 tokens each.

    .venv/bin/python bench/session_growth.py [--sizes 10,100,1000] [--runs 7] [--tokens 2000]

For each size a session file is written with the real store, then, interleaved across sizes
(round r measures every size once, so load changes hit all sizes alike), medians of ``--runs``:

* **autosave**: ``SessionStore.save()`` after one more 2,000-token exchange was appended to the
  opened session — what the app does after every exchange (append-only when the file is ours);
  its **CPU time** (``time.thread_time``) is shown too: the rest of the wall time is the
  fsync, which depends on the disk and its load, not on the session;
* **rewrite** (reference): the same save when the whole file must be written (a title change):
  what every autosave cost before saves became append-only;
* **open, first time**: a fresh ``SessionStore().load(path)`` with no parse cache: bounded
  read + TOML parse + type checks (+ writing the parse cache for files over 512 KB);
* **open again**: the same after an autosave appended one exchange: the cached parse of the
  unchanged prefix (hash-checked) + the appended chunk;
* **memory**: peak RSS (``VmHWM``) of a fresh process that opens the session, next to the
  same process importing the store without opening anything, median of ``--runs``.

Prints a table and the 1,000/10 ratios (target for autosave: ≤ 1.2×), with machine, date and
``/proc/loadavg`` before and after. Nothing is timed in the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _machine import machine_summary  # noqa: E402

from workbench.api.request import CompletionRequest  # noqa: E402
from workbench.api.types import Choice, ClientMetrics, CompletionResult, TimeInfo, Usage  # noqa: E402
from workbench.sessions.model import Exchange, Session  # noqa: E402
from workbench.sessions.store import SessionStore  # noqa: E402

WORDS = (
    "the of and to in is that for it as with was on be by at this from or an which have are "
    "harbor lantern orchard meadow pebble river mountain autumn winter garden letter window "
    "model token stream latency prompt output summary budget meeting python rust function"
).split()

# Run in a fresh interpreter: how much memory does opening the session take?
# (VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent across exec.)
MEMORY_PROBE = """
import json, sys
from workbench.sessions.store import SessionStore

def status(name):
    for line in open("/proc/self/status"):
        if line.startswith(name + ":"):
            return int(line.split()[1])

store = SessionStore(sys.argv[1])
if sys.argv[2] != "-":
    session = store.load(sys.argv[2])
    assert session.exchanges
print(json.dumps({"peak_kb": status("VmHWM"), "rss_kb": status("VmRSS")}))
"""


def text_of(rng: random.Random, tokens: int) -> str:
    """About ``tokens`` tokens of prose in 80-column lines (a word is about one token)."""
    words = rng.choices(WORDS, k=tokens)
    lines, line = [], []
    for word in words:
        line.append(word)
        if sum(len(w) + 1 for w in line) > 75:
            lines.append(" ".join(line))
            line = []
    lines.append(" ".join(line))
    return "\n".join(lines)


def exchange_of(rng: random.Random, number: int, tokens: int) -> Exchange:
    request = CompletionRequest(
        model="llama3.1-8b",
        prompt=f"Exchange {number}: continue the story of the harbor.\n",
        max_tokens=tokens,
        seed=number,
        stream=True,
    )
    result = CompletionResult(
        choices=[Choice(index=0, text=text_of(rng, tokens), finish_reason="length")],
        usage=Usage.from_json({"prompt_tokens": 12, "completion_tokens": tokens, "total_tokens": tokens + 12}),
        time_info=TimeInfo.from_json({"queue_time": 0.0001, "prompt_time": 0.001, "completion_time": 0.9, "total_time": 0.91}),
        metrics=ClientMetrics(time_to_first_token_s=0.08, wall_time_s=0.95, completion_tokens=tokens,
                              client_tokens_per_s=2100.0, server_tokens_per_s=2222.0),
    )
    return Exchange.from_outcome(request, result)


def build(folder: Path, size: int, tokens: int) -> Path:
    rng = random.Random(size)
    session = Session.new(title=f"{size} exchanges")
    session.exchanges = [exchange_of(rng, i, tokens) for i in range(size)]
    return SessionStore(folder).save(session).path


def memory_mb(folder: Path, path: Path | None) -> float:
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(folder), str(path) if path else "-"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout
    return json.loads(out)["peak_kb"] / 1024


def loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().split(" ")[:3].__str__().replace("'", "")
    except OSError:
        return "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--tokens", type=int, default=2000)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    runs = max(5, args.runs)
    load_before = loadavg()
    started = datetime.now(timezone.utc)

    with tempfile.TemporaryDirectory(prefix="session-growth-") as tmp:
        folder = Path(tmp)
        paths = {size: build(folder, size, args.tokens) for size in sizes}
        file_mb = {size: paths[size].stat().st_size / 2**20 for size in sizes}
        store = SessionStore(folder)
        opened = {size: store.load(paths[size]) for size in sizes}
        rng = random.Random(99)
        autosave: dict[int, list[float]] = {size: [] for size in sizes}
        autosave_cpu: dict[int, list[float]] = {size: [] for size in sizes}
        rewrite: dict[int, list[float]] = {size: [] for size in sizes}
        cold: dict[int, list[float]] = {size: [] for size in sizes}
        warm: dict[int, list[float]] = {size: [] for size in sizes}
        modes: dict[int, set[str]] = {size: set() for size in sizes}

        def timed(function, *args):
            begin = time.perf_counter()
            value = function(*args)
            return time.perf_counter() - begin, value

        for round_number in range(runs):
            for size in sizes:  # a whole-file write (title change): every save before append-only
                opened[size].title = f"{size} exchanges, round {round_number}"
                rewrite[size].append(timed(store.save, opened[size])[0])
            for size in sizes:  # open with no cache: the whole file parsed (and the cache written)
                (folder / ".index" / "docs" / f"{paths[size].name}.json").unlink(missing_ok=True)
                cold[size].append(timed(SessionStore(folder).load, paths[size])[0])
            for size in sizes:  # one more exchange, saved as the app does
                opened[size].exchanges.append(exchange_of(rng, size + round_number, args.tokens))
                cpu = time.thread_time()
                seconds, result = timed(store.save, opened[size])
                autosave_cpu[size].append(time.thread_time() - cpu)
                autosave[size].append(seconds)
                modes[size].add(result.mode)
            for size in sizes:  # open again: cached prefix + the appended exchange
                warm[size].append(timed(SessionStore(folder).load, paths[size])[0])
        baseline = statistics.median(memory_mb(folder, None) for _ in range(runs))
        memory = {size: statistics.median(memory_mb(folder, paths[size]) for _ in range(runs)) for size in sizes}

    load_after = loadavg()
    med = {name: {size: statistics.median(values[size]) for size in sizes}
           for name, values in (("autosave", autosave), ("autosave_cpu", autosave_cpu), ("rewrite", rewrite),
                                ("open", cold), ("reopen", warm))}
    print(f"Session growth — {started:%Y-%m-%d %H:%M} UTC — {machine_summary()}")
    print(f"load average before {load_before}, after {load_after}; medians of {runs} interleaved runs; "
          f"{args.tokens} tokens per exchange")
    print()
    print("| exchanges | file | autosave (append) | its CPU time | rewrite (reference) | open, first time | open again (after an autosave) | peak RSS, opened (import only: %.0f MB) |" % baseline)
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size in sizes:
        print(f"| {size:,} | {file_mb[size]:.1f} MB | {med['autosave'][size] * 1000:.1f} ms | "
              f"{med['autosave_cpu'][size] * 1000:.1f} ms | "
              f"{med['rewrite'][size] * 1000:.0f} ms | {med['open'][size] * 1000:.0f} ms | "
              f"{med['reopen'][size] * 1000:.0f} ms | "
              f"{memory[size]:.0f} MB (+{memory[size] - baseline:.0f}) |")
    first, last = sizes[0], sizes[-1]
    print()
    print(f"ratios {last:,}/{first:,}: autosave {med['autosave'][last] / med['autosave'][first]:.2f}× "
          f"(target ≤ 1.2×; its CPU time {med['autosave_cpu'][last] / med['autosave_cpu'][first]:.2f}×, "
          f"the rest is fsync), rewrite {med['rewrite'][last] / med['rewrite'][first]:.0f}×, "
          f"open {med['open'][last] / med['open'][first]:.0f}× (again: {med['reopen'][last] / med['reopen'][first]:.0f}×), "
          f"peak RSS {memory[last] / memory[first]:.1f}× ({memory[last] - memory[first]:.0f} MB more)")
    print("save modes seen:", {size: sorted(modes[size]) for size in sizes})


if __name__ == "__main__":
    main()
