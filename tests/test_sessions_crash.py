"""A writer killed with SIGKILL at random moments never leaves a broken file or loses a save."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from workbench.sessions.codec import decode

WRITER = textwrap.dedent(
    """
    import random, sys
    from workbench.api.request import CompletionRequest
    from workbench.api.types import Choice, CompletionResult
    from workbench.sessions.model import Exchange, Session
    from workbench.sessions.store import SessionStore

    store = SessionStore(sys.argv[1])
    rng = random.Random(int(sys.argv[2]))
    sessions = [store.load(s.path) for s in store.list() if s.readable]
    while True:
        if not sessions or rng.random() < 0.25:
            sessions.append(Session.new(title=f"crash {rng.randrange(10**6)}"))
        session = rng.choice(sessions)
        text = "".join(rng.choice(["word ", "\\r\\n", "\\n", "é", "\\x00", '"', "\\\\"]) for _ in range(rng.randrange(50, 1500)))
        result = CompletionResult(choices=[Choice(index=0, text=text, finish_reason="stop")])
        exchange = Exchange.from_outcome(CompletionRequest(model="m", prompt=text[:200], seed=7), result)
        session.exchanges.append(exchange)
        store.save(session)
        print(session.id, exchange.id, flush=True)
    """
)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_killed_writer_leaves_only_whole_files_and_loses_no_saved_exchange(tmp_path: Path) -> None:
    rng = random.Random(20261125)
    reported: list[tuple[str, str]] = []
    for run in range(20):
        process = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path), str(run)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        for _ in range(rng.randrange(1, 25)):
            line = process.stdout.readline()
            if not line:
                break
            reported.append(tuple(line.split()))  # type: ignore[arg-type]
        # Kill at a random point of the next save (the writer never pauses between saves).
        for _ in range(rng.randrange(0, 20000)):
            pass
        os.kill(process.pid, signal.SIGKILL)
        rest, _ = process.communicate(timeout=30)
        for line in rest.splitlines(keepends=True):
            if line.endswith("\n"):  # a complete line was printed after save() returned
                reported.append(tuple(line.split()))  # type: ignore[arg-type]
        assert process.returncode == -signal.SIGKILL

    saved: dict[str, set[str]] = {}
    for path in tmp_path.glob("*.toml"):
        session = decode(path.read_bytes())  # raises if any file is torn
        saved[session.id] = {exchange.id for exchange in session.exchanges}
    assert len(reported) > 20
    missing = [(sid, eid) for sid, eid in reported if eid not in saved.get(sid, set())]
    assert missing == []


APPENDER = textwrap.dedent(
    """
    import sys
    from workbench.api.request import CompletionRequest
    from workbench.sessions.model import Exchange
    from workbench.sessions.store import SessionStore

    store = SessionStore(sys.argv[1])
    session = store.load(sys.argv[2])
    print("ready", flush=True)
    sys.stdin.readline()  # both writers start together
    for turn in range(int(sys.argv[3])):
        exchange = Exchange.from_outcome(CompletionRequest(model="m", prompt=f"{sys.argv[4]} {turn}"), None)
        session.exchanges.append(exchange)
        store.save(session)
        print(exchange.id, flush=True)
    """
)


def test_two_processes_appending_to_one_session_lose_nothing(tmp_path: Path) -> None:
    from workbench.sessions.model import Session
    from workbench.sessions.store import SessionStore

    store = SessionStore(tmp_path)
    session = Session.new(title="shared by two")
    store.save(session)
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", APPENDER, str(tmp_path), session.id, "40", name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for name in ("left", "right")
    ]
    for writer in writers:
        assert writer.stdout is not None and writer.stdout.readline() == "ready\n"
    for writer in writers:
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()
    reported = []
    for writer in writers:
        out, _ = writer.communicate(timeout=60)
        assert writer.returncode == 0
        reported += out.split()
    final = SessionStore(tmp_path).load(session.id)
    assert len(reported) == 80
    assert sorted(e.id for e in final.exchanges) == sorted(reported)
    assert len(list(tmp_path.glob("*.toml"))) == 1
    # Each writer's own exchanges stay in the order it made them.
    for name in ("left", "right"):
        prompts = [e.request.prompt for e in final.exchanges if str(e.request.prompt).startswith(name)]
        assert prompts == [f"{name} {turn}" for turn in range(40)]
