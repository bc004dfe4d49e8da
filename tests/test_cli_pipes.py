"""Every command that prints ends quietly when its reader has gone (`workbench … | head`):
exit 0 or 141, nothing on stderr, no traceback (issue 9, item 5)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_harness import TIMEOUT_S, clean_env

from workbench.cli import EXIT_BROKEN_PIPE, EXIT_OK
from workbench.sessions.model import Session
from workbench.sessions.store import SessionStore


def run_into_a_closed_pipe(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    """The command with stdout a pipe whose reader closed before the first byte."""
    reader, writer = os.pipe()
    os.close(reader)  # every write now fails with EPIPE, deterministically
    try:
        return subprocess.run(
            [sys.executable, "-m", "workbench", *args],
            stdin=subprocess.DEVNULL,
            stdout=writer,
            stderr=subprocess.PIPE,
            env=env,
            timeout=TIMEOUT_S,
            check=False,
        )
    finally:
        os.close(writer)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = clean_env(tmp_path)
    store = SessionStore(Path(environment["WORKBENCH_DATA_DIR"]) / "sessions")
    for number in range(3):
        store.save(Session.new(title=f"session {number}"))
    return environment


@pytest.mark.parametrize(
    "args",
    [
        ("sessions", "list"),
        ("sessions", "list", "--json"),
        ("run", "--offline", "--max-tokens", "50", "hi"),
        ("run", "--offline", "--json", "--max-tokens", "5", "hi"),
        ("models", "--offline"),
        ("config", "path"),
        ("--version",),
        ("--help",),
        ("run", "--help"),
        ("completion", "bash"),
        ("doctor", "--offline"),
    ],
    ids=" ".join,
)
def test_a_closed_pipe_ends_the_command_quietly(env, args) -> None:
    result = run_into_a_closed_pipe(*args, env=env)
    assert result.returncode in (EXIT_OK, EXIT_BROKEN_PIPE), result.stderr
    assert b"Traceback" not in result.stderr and b"BrokenPipe" not in result.stderr
    assert b"Exception ignored" not in result.stderr
