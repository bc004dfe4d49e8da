"""The compare scenario of ``bench/stream_display.py``: 4 lanes × 2,500 tok/s at once.

The same app, pty, sim and marking proxy as the single-stream scenarios; the differences live
here: the keys that open the compare view with 4 lanes (F5, then ctrl+n twice: every lane is
the config's request), and the end of the stream, which is the moment the *last* lane's last
token was written (the proxy reports one marker per response) and then drawn. On the screen
the run is over when the marker shows in every lane.

Issue 12's target, checked against the single-lane 20,000 tok @ 10,000 tok/s figures of the same
run: display lag ≤ 1.5× and CPU ≤ 1.3×.
"""

from __future__ import annotations

import time
from typing import Any

F5 = b"\x1b[15~"
CTRL_N = b"\x0e"
LAG_RATIO_LIMIT = 1.5
CPU_RATIO_LIMIT = 1.3


def open_lanes(proc: Any, lanes: int) -> None:
    """Open the compare view (2 lanes) and add lanes up to ``lanes``."""
    proc.write(F5)
    proc.wait_quiet(0.3, timeout=5)
    for _ in range(lanes - 2):
        proc.write(CTRL_N)
        proc.wait_quiet(0.2, timeout=5)


class MarkerWatch:
    """``wait(timeout)`` returns (offset, arrival) once the marker was drawn after every lane's
    last token was written, else None; call it again to keep waiting (the benchmark types its
    key probes in between)."""

    def __init__(self, proc: Any, sim: Any, marker: bytes, start: int, lanes: int) -> None:
        self.proc, self.sim, self.marker, self.position, self.lanes = proc, sim, marker, start, lanes

    def wait(self, timeout: float) -> tuple[int, float] | None:
        deadline = time.monotonic() + timeout
        written = list(self.sim.markers.queue)  # peek: stream_display reads them afterwards
        while len(written) < self.lanes:
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.002)  # the proxy's reader thread fills the queue
            written = list(self.sim.markers.queue)
        last_written = max(written[: self.lanes])
        while True:
            found = self.proc.wait_for_bytes(
                self.marker, start=self.position, timeout=max(0.0, deadline - time.monotonic())
            )
            if found is None:
                return None
            end, arrived = found
            if arrived >= last_written:
                return found
            self.position = end  # an earlier lane's marker (or a redraw of it)


def last_written(sim: Any, lanes: int, timeout: float = 5.0) -> float:
    """When the last lane's last token was written (consumes the lanes' markers)."""
    return max(sim.markers.get(timeout=timeout) for _ in range(lanes))


def ratios(compare: dict[str, float | None], single: dict[str, float | None]) -> dict[str, float | None]:
    """The compare scenario's lag and CPU as multiples of the single-lane scenario's."""
    out: dict[str, float | None] = {}
    for metric in ("lag_ms", "cpu_s", "cpu_to_idle_s"):
        a, b = compare.get(metric), single.get(metric)
        out[metric] = None if a is None or not b else a / b
    return out


def main(argv: list[str] | None = None) -> int:
    """``python bench/_compare_scenario.py [--runs 5]``: the compare scenario and its
    single-lane reference, interleaved (single, compare, single, …) so both see the same load;
    medians and the issue's ratios."""
    import argparse
    import statistics
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import stream_display as sd  # the scenarios, the sim + proxy and one measured run

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    single = next(s for s in sd.SCENARIOS if s.lanes == 1 and s.rate == 10_000 and not s.ssh)
    compare = next(s for s in sd.SCENARIOS if s.lanes > 1)
    with open("/proc/loadavg", encoding="ascii") as handle:
        load_before = handle.read().split()[0]
    sims = {s: sd.SimWithMarker(s.rate, False) for s in (single, compare)}
    results: dict[Any, list[Any]] = {single: [], compare: []}
    try:
        for index in range(args.runs):
            for scenario in (single, compare):
                result = sd.measure_once("workbench", scenario, sims[scenario])
                results[scenario].append(result)
                print(f"{scenario.name} run {index + 1}/{args.runs}: lag_ms={result.lag_ms} "
                      f"cpu_s={result.cpu_s} key_ms={result.key_ms} {result.problems or ''}", flush=True)
    finally:
        for sim in sims.values():
            sim.close()
    with open("/proc/loadavg", encoding="ascii") as handle:
        load_after = handle.read().split()[0]

    def median(scenario: Any, metric: str) -> float | None:
        values = [getattr(r, metric) for r in results[scenario] if getattr(r, metric) is not None]
        return statistics.median(values) if values else None

    figures = {s: {m: median(s, m) for m in ("lag_ms", "cpu_s", "cpu_to_idle_s", "key_ms")} for s in results}
    print(f"\nload average {load_before} before, {load_after} after; medians of {args.runs}, interleaved")
    print(f"| metric | {single.name} | {compare.name} | ratio | target |")
    print("|---|---|---|---|---|")
    found = ratios(figures[compare], figures[single])
    limits = {"lag_ms": LAG_RATIO_LIMIT, "cpu_s": CPU_RATIO_LIMIT}
    for metric in ("lag_ms", "cpu_s", "cpu_to_idle_s", "key_ms"):
        a, b = figures[single][metric], figures[compare][metric]
        ratio = found.get(metric) if metric in found else (b / a if a and b else None)
        limit = limits.get(metric)
        verdict = "" if limit is None or ratio is None else ("ok" if ratio <= limit else "MISSED")
        print(f"| {metric} | {a if a is None else round(a, 2)} | {b if b is None else round(b, 2)} | "
              f"{'—' if ratio is None else f'{ratio:.2f}×'} | {f'≤ {limit}× {verdict}' if limit else ''} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
