"""Running ``python -m workbench`` in a subprocess, the way a user does, for the CLI tests."""

from __future__ import annotations

import os
import pty
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

TIMEOUT_S = 60  # generous: only a hang would ever reach it


def clean_env(tmp_path: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The user's environment minus anything Cerebras, with private config/data folders."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CEREBRAS_")}
    env["WORKBENCH_CONFIG_DIR"] = str(tmp_path / "config")
    env["WORKBENCH_DATA_DIR"] = str(tmp_path / "data")
    env.pop("PYTHONSTARTUP", None)
    env.update(extra or {})
    return env


def workbench(
    *args: str, env: Mapping[str, str], stdin: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        input=stdin,
        capture_output=True,
        env=dict(env),
        timeout=TIMEOUT_S,
        check=False,
    )


def workbench_on_a_terminal(*args: str, env: Mapping[str, str]) -> tuple[int, bytes, bytes]:
    """Run with stdout on a pseudo-terminal: (exit code, what the terminal got, stderr)."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "workbench", *args],
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=subprocess.PIPE,
        env=dict(env),
    )
    os.close(terminal)
    received = bytearray()
    while True:
        try:
            data = os.read(controller, 65536)
        except OSError:  # EIO: the child closed the terminal's last open end
            break
        if not data:
            break
        received += data
    os.close(controller)
    stderr = process.stderr.read() if process.stderr else b""
    return process.wait(timeout=TIMEOUT_S), bytes(received), stderr


def closed_port_url() -> str:
    """A loopback URL nothing listens on (the port was just free)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
