"""Where the transcript's time goes during one stream, in process (a diagnosis, not a ratio).

Runs the app under Textual's ``run_test`` at 120x40 against the sim at 2,000 tok/s (its own
process) and streams 4,000 tokens with ``logprobs = 1``, with the probability view on and off,
local and SSH flush rates, alternating. For each stream it prints the CPU of this process from
the send to the end, and the count and thread-CPU milliseconds of the transcript's
``render_lines`` (every frame's rows, Textual's per-line work included) and ``_draw_row`` (rows
drawn anew rather than taken from the row cache). ``--profile DIR`` also writes a cProfile of
each stream there (``view-on-ssh.pstats`` …) to compare with ``pstats``.

Figures from a headless app on a shared machine: compare the two views within one run, not
runs with each other. The pty benchmark (``stream_display.py``) is the one that measures lag.

Usage: ``python bench/transcript_inprocess.py [--rounds 2] [--profile DIR]``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from stream_display import MODEL, PROMPT, _free_port, _wait_port  # noqa: E402

from workbench.api.endpoint import Endpoint  # noqa: E402
from workbench.config import Config  # noqa: E402
from workbench.ui.app import WorkbenchApp  # noqa: E402
from workbench.ui.transcript import Transcript  # noqa: E402

TOKENS = 4_000
RATE = 2_000


class Timings:
    """Count and thread-CPU of a few methods, while switched on."""

    def __init__(self) -> None:
        self.figures: dict[str, list[float]] = {}
        self.on = False

    def wrap(self, owner: type, name: str) -> None:
        original: Callable[..., Any] = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            if not self.on:
                return original(*args, **kwargs)
            started = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                figure = self.figures.setdefault(name, [0, 0.0])
                figure[0] += 1
                figure[1] += time.thread_time() - started

        setattr(owner, name, timed)

    def summary(self) -> str:
        return ", ".join(f"{name} {int(count)}× {seconds * 1000:.1f} ms" for name, (count, seconds) in self.figures.items())


async def one_stream(base_url: str, *, view: bool, ssh: bool, timings: Timings, profile_to: Path | None) -> float:
    defaults = {"model": MODEL, "max_tokens": TOKENS, "min_tokens": TOKENS, "seed": 7, "logprobs": 1}
    endpoint = Endpoint.from_env(base_url=base_url, environ={})
    app = WorkbenchApp(endpoint, config=Config(defaults=defaults), ssh=ssh, max_retries=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        if view:
            app.action_toggle_probabilities()
        app.prompt_pane.text = PROMPT
        profile = cProfile.Profile() if profile_to is not None else None
        timings.figures.clear()
        timings.on = True
        started = time.process_time()
        if profile is not None:
            profile.enable()
        await pilot.press("ctrl+j")
        deadline = time.monotonic() + 60
        while app.transcript.last is None or app.transcript.last.status == "streaming":
            if time.monotonic() > deadline:
                raise RuntimeError("the stream did not end within 60 s")
            await pilot.pause(0.02)
        if profile is not None:
            profile.disable()
            profile.dump_stats(profile_to)
        timings.on = False
        return time.process_time() - started


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--profile", type=Path, metavar="DIR")
    args = parser.parse_args(argv)
    timings = Timings()
    timings.wrap(Transcript, "render_lines")
    timings.wrap(Transcript, "_draw_row")
    port = _free_port()
    sim = subprocess.Popen(
        [sys.executable, str(REPO / "bench/_sim_process.py"), "--port", str(port), "--rate", str(RATE)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_port(port, 15)
        for _ in range(args.rounds):
            for ssh in (False, True):
                for view in (True, False):
                    profile_to = None
                    if args.profile is not None:
                        args.profile.mkdir(parents=True, exist_ok=True)
                        profile_to = args.profile / f"view-{'on' if view else 'off'}-{'ssh' if ssh else 'local'}.pstats"
                    cpu = await one_stream(f"http://127.0.0.1:{port}", view=view, ssh=ssh, timings=timings, profile_to=profile_to)
                    print(f"{'ssh  ' if ssh else 'local'} view {'on ' if view else 'off'} cpu {cpu:.3f} s; {timings.summary()}", flush=True)
    finally:
        sim.terminate()
        sim.wait(5)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
