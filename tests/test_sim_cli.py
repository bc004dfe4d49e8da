"""`workbench sim` in a real subprocess: prints its URL, serves, and stops cleanly on Ctrl+C."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
from typing import Iterator

import httpx
import pytest

from workbench.sim import ThreadedSim

START_TIMEOUT_S = 30.0


def start(*args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "workbench", "sim", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        first = lines.get(timeout=START_TIMEOUT_S)
    except queue.Empty:
        process.kill()
        raise AssertionError("workbench sim printed nothing") from None
    return process, first


@pytest.fixture
def sim_process() -> Iterator[tuple[subprocess.Popen[str], str]]:
    process, first = start(
        "--rate", "0", "--api-key", "k1", "--fault", "rate-limit", "--fault-times", "1"
    )
    yield process, first
    if process.poll() is None:
        process.kill()
        process.wait()


def test_prints_its_url_serves_and_stops_on_ctrl_c(
    sim_process: tuple[subprocess.Popen[str], str],
) -> None:
    process, first = sim_process
    match = re.search(r"serving on (http://127\.0\.0\.1:\d+) ", first)
    assert match, first
    assert "Ctrl+C" in first
    base_url = match.group(1)
    auth = {"authorization": "Bearer k1"}
    body = {"model": "llama3.1-8b", "prompt": "It", "max_tokens": 5}
    with httpx.Client(base_url=base_url, headers=auth) as client:
        assert client.get("/v1/models").status_code == 200
        assert client.post("/v1/completions", json=body).status_code == 429  # --fault-times 1
        assert client.post("/v1/completions", json=body).status_code == 200
        assert client.get("/v1/models", headers={"authorization": "Bearer no"}).status_code == 401
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=START_TIMEOUT_S)
    assert process.returncode == 0, err
    assert "stopped" in out
    assert "Traceback" not in err


def test_port_in_use_is_a_usage_error() -> None:
    with ThreadedSim(rate=None) as taken:
        completed = subprocess.run(
            [sys.executable, "-m", "workbench", "sim", "--port", str(taken.server.port)],
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S,
        )
    assert completed.returncode == 2
    assert "cannot listen" in completed.stderr


def test_unknown_fault_is_rejected_by_the_parser() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "workbench", "sim", "--fault", "gremlins"],
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
    )
    assert completed.returncode == 2
    assert "gremlins" in completed.stderr


def test_sigterm_stops_it_cleanly() -> None:
    process, first = start("--rate", "0")
    try:
        assert "serving on" in first
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=START_TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "stopped" in out


def test_an_empty_host_is_a_usage_error_not_an_unusable_url() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "workbench", "sim", "--host", "", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
    )
    assert completed.returncode == 2
    assert "--host must be an address" in completed.stderr
    assert "http://:" not in completed.stdout
