"""Hostile command lines and environments: one `workbench: …` line, exit 2, never a traceback
(issue 8, item 5). Every case runs the real command in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_harness import TIMEOUT_S, clean_env

from workbench.cli import EXIT_OK, EXIT_USAGE

DEEP_JSON = "[" * 5000 + "]" * 5000


def workbench_bytes(*args: str | bytes, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    """Like cli_harness.workbench, but arguments may be raw bytes (not UTF-8)."""
    return subprocess.run(
        [os.fsencode(sys.executable), b"-m", b"workbench", *(os.fsencode(a) for a in args)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=env,
        timeout=TIMEOUT_S,
        check=False,
    )


def assert_one_line_usage_error(result: subprocess.CompletedProcess[bytes], needle: str) -> None:
    stderr = result.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr, stderr
    assert result.returncode == EXIT_USAGE, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("workbench: ")]
    assert len(lines) == 1, stderr
    assert needle in lines[0], stderr
    assert result.stdout == b""


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ((b"run", b"--offline", b"caf\xe9"), "prompt: not valid UTF-8"),
        ((b"run", b"--offline", b"--model", b"\xff", b"hi"), "model: not valid UTF-8"),
        ((b"run", b"--offline", b"--stop", b"\xfe", b"hi"), "stop: not valid UTF-8"),
        ((b"run", b"--offline", b"--user", b"\xc3", b"hi"), "user: not valid UTF-8"),
        (("run", "--offline", "--prompt-json", '["\\ud800"]'), "prompt: not valid UTF-8"),
        (("run", "--offline", "--prompt-json", DEEP_JSON), "nested too deeply"),
        (("run", "--base-url", "http://[::1", "hi"), "http://[::1"),
        (("run", "--base-url", "http://127.0.0.1:99999", "hi"), "99999"),
        ((b"run", b"--base-url", b"http://\xff/", b"hi"), "--base-url: not valid UTF-8"),
        (("models", "--base-url", "http://[::1"), "http://[::1"),
        (("--base-url", "http://[::1"), "http://[::1"),  # the TUI: refused before it starts
        (("--base-url", "http://127.0.0.1:99999"), "99999"),
        ((b"--model", b"\xff"), "model: not valid UTF-8"),
        (("run", "--offline", "--profile", "nope", "hi"), "no profile named 'nope'"),
        (("--profile", "nope"), "no profile named 'nope'"),
    ],
    ids=lambda value: repr(value)[:40],
)
def test_bad_arguments_are_one_line_and_exit_2(tmp_path: Path, args, needle: str) -> None:
    assert_one_line_usage_error(workbench_bytes(*args, env=clean_env(tmp_path)), needle)


@pytest.mark.parametrize("command", [("run", "hi"), ("models",), ()], ids=["run", "models", "tui"])
def test_a_bad_custom_header_name_is_one_line_and_exit_2(tmp_path: Path, command) -> None:
    env = clean_env(
        tmp_path,
        {"CEREBRAS_CUSTOM_HEADERS": "Bad Name: x", "CEREBRAS_BASE_URL": "http://127.0.0.1:9"},
    )
    assert_one_line_usage_error(workbench_bytes(*command, env=env), "Custom header name")


@pytest.mark.parametrize(
    "args",
    [("--timeout", "nan"), ("--timeout", "inf"), ("--retries", "-1"), ("--n", "x")],
    ids=str,
)
def test_bad_numbers_in_flags_exit_2_without_a_traceback(tmp_path: Path, args) -> None:
    result = workbench_bytes("run", "--offline", *args, "hi", env=clean_env(tmp_path))
    assert result.returncode == EXIT_USAGE
    assert b"Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("a = " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
        ("x = " + "{a=" * 3000 + "1" + "}" * 3000 + "\n", "nested too deeply"),
        ('[profiles.x]\nbase_url = "http://[::1"\n', "profiles.x.base_url"),
        ('[profiles.x]\nbase_url = "http://h:99999"\n', "profiles.x.base_url"),
    ],
    ids=["deep-array", "deep-table", "ipv6", "port"],
)
def test_a_broken_config_is_reported_and_the_command_still_runs(
    tmp_path: Path, text: str, needle: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(text, encoding="utf-8")
    env = clean_env(tmp_path)
    shown = workbench_bytes("config", "path", "--config", str(config), env=env)
    assert shown.returncode == EXIT_OK and b"Traceback" not in shown.stderr
    assert needle in shown.stdout.decode()
    ran = workbench_bytes(
        "run", "--offline", "--config", str(config), "--max-tokens", "3", "hi", env=env
    )
    assert ran.returncode == EXIT_OK, ran.stderr
    assert b"Traceback" not in ran.stderr and ran.stdout


def test_a_fifo_named_as_the_config_is_not_read_forever(tmp_path: Path) -> None:
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    result = workbench_bytes("config", "path", "--config", str(fifo), env=clean_env(tmp_path))
    assert result.returncode == EXIT_OK
    assert "not a regular file" in result.stdout.decode()
