"""`workbench compare` end to end: the real command in a subprocess against the simulator on a
loopback socket — what a user sees on stdout/stderr, the --json shape, exit codes, saving."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_harness import clean_env, closed_port_url, workbench, workbench_on_a_terminal

from workbench.cli import EXIT_API, EXIT_NETWORK, EXIT_OK, EXIT_USAGE
from workbench.sessions.store import SessionStore
from workbench.sim import ThreadedSim

PROMPT = "It was a dark and stormy night"
TWO_LANES = ("--lane", "model=llama3.1-8b", "--lane", "model=qwen-3-32b,temperature=0.2")


@pytest.fixture
def sim() -> Iterator[ThreadedSim]:
    with ThreadedSim(rate=None) as server:
        yield server


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return clean_env(tmp_path)


def compare(sim: ThreadedSim, env: dict[str, str], *args: str, stdin: bytes = b""):
    return workbench("compare", "--base-url", sim.base_url, *args, env=env, stdin=stdin)


def completions(sim: ThreadedSim) -> list:
    return [r for r in sim.requests if r.path == "/v1/completions"]


# -- what is sent and printed ---------------------------------------------------------------------


def test_json_shape_and_each_lane_sends_base_plus_its_overrides(sim, env) -> None:
    done = compare(sim, env, PROMPT, *TWO_LANES, "--max-tokens", "30", "--seed", "3", "--json")
    assert done.returncode == EXIT_OK, done.stderr
    data = json.loads(done.stdout)
    assert data["prompt"] == PROMPT
    assert len(data["lanes"]) == 2
    first, second = data["lanes"]
    assert first["overrides"] == {"model": "llama3.1-8b"}
    assert second["overrides"] == {"model": "qwen-3-32b", "temperature": 0.2}
    assert second["request"]["temperature"] == 0.2 and second["request"]["max_tokens"] == 30
    assert "temperature" not in first["request"]
    for lane in data["lanes"]:
        assert set(lane) >= {
            "overrides", "request", "text", "finish_reason", "usage", "metrics", "error"
        }  # fmt: skip
        assert lane["error"] is None and lane["text"]
        assert lane["finish_reason"] in ("length", "stop")
        assert lane["usage"]["completion_tokens"] <= 30
        assert set(lane["metrics"]) == {
            "ttft_ms", "client_tokens_per_s", "server_tokens_per_s", "total_s"
        }  # fmt: skip
        assert lane["metrics"]["ttft_ms"] > 0 and lane["metrics"]["total_s"] > 0
    bodies = sorted((r.body["model"], r.body.get("temperature")) for r in completions(sim))
    assert bodies == [("llama3.1-8b", None), ("qwen-3-32b", 0.2)]


def test_same_seed_same_texts(sim, env) -> None:
    args = (PROMPT, *TWO_LANES, "--max-tokens", "40", "--seed", "11", "--json")
    texts = [
        [lane["text"] for lane in json.loads(compare(sim, env, *args).stdout)["lanes"]]
        for _ in range(2)
    ]
    assert texts[0] == texts[1]
    # …and a lane that changes the seed changes the text.
    other = compare(sim, env, PROMPT, "--lane", "seed=11", "--lane", "seed=12", "--max-tokens", "40", "--json")
    first, second = (lane["text"] for lane in json.loads(other.stdout)["lanes"])
    assert first != second


def test_batch_prompt_gives_choices_per_lane(sim, env) -> None:
    done = compare(
        sim, env, "--prompt-json", '["Once upon", "It is a truth"]', *TWO_LANES,
        "--max-tokens", "8", "--json",
    )  # fmt: skip
    assert done.returncode == EXIT_OK, done.stderr
    for lane in json.loads(done.stdout)["lanes"]:
        assert "text" not in lane
        assert [c["index"] for c in lane["choices"]] == [0, 1]
        assert all(c["text"] and c["finish_reason"] for c in lane["choices"])


def test_text_output_has_a_header_per_lane_then_the_summary(sim, env) -> None:
    done = compare(sim, env, PROMPT, *TWO_LANES, "--max-tokens", "12", "--seed", "5")
    assert done.returncode == EXIT_OK, done.stderr
    out = done.stdout.decode()
    lane1 = out.index("=== lane 1 · model=llama3.1-8b ===")
    lane2 = out.index("=== lane 2 · model=qwen-3-32b,temperature=0.2 ===")
    table = out.index("client tok/s")
    assert lane1 < lane2 < table
    assert "fastest first token: " in out and "fastest throughput: " in out
    rows = [line for line in out.splitlines() if line.startswith(("1 model", "2 model"))]
    assert len(rows) == 2 and all(" complete " in row for row in rows)


def test_on_a_terminal_control_characters_are_shown_not_obeyed(sim, env) -> None:
    code, screen, _ = workbench_on_a_terminal(
        "compare", "--base-url", sim.base_url, "--echo", "evil \x1b[31m red", *TWO_LANES,
        "--max-tokens", "3", env=env,
    )  # fmt: skip
    assert code == EXIT_OK
    assert b"\x1b[31m" not in screen and b"\\x1b[31m" in screen


# -- refused before anything is sent ------------------------------------------------------------


@pytest.mark.parametrize(
    ("lanes", "message"),
    [
        (["model=a"], "at least 2 lanes"),
        ([f"seed={n}" for n in range(9)], "at most 8 lanes"),
        (["model=a", "temprature=0.5"], "lane 2: unknown request field 'temprature' (did you mean 'temperature'?)"),
        (["model=a", "temperature=2"], "lane 2: temperature: must be between 0 and 1.5"),
        (["max_tokens=ten", "model=a"], "lane 1: max_tokens: must be a whole number"),
        (["model=a", "stop=[1]"], "lane 2: stop: a JSON array of strings"),
        (["model=a", "model"], "lane 2: 'model': expected FIELD=VALUE"),
    ],
)
def test_bad_lanes_exit_2_naming_lane_and_field(sim, env, lanes, message) -> None:
    args = [part for lane in lanes for part in ("--lane", lane)]
    done = compare(sim, env, PROMPT, *args)
    assert done.returncode == EXIT_USAGE
    assert message in done.stderr.decode()
    assert done.stdout == b"" and completions(sim) == []


def test_bad_common_flag_names_the_flag(sim, env) -> None:
    done = compare(sim, env, PROMPT, *TWO_LANES, "--top-p", "lots")
    assert done.returncode == EXIT_USAGE
    assert "top_p: must be a number" in done.stderr.decode()


# -- lanes that fail ----------------------------------------------------------------------------


def test_api_error_on_one_lane_exits_3_and_prints_the_other(sim, env) -> None:
    done = compare(sim, env, PROMPT, "--lane", "model=no-such-model", "--lane", "model=qwen-3-32b", "--max-tokens", "10", "--json")
    assert done.returncode == EXIT_API
    bad, good = json.loads(done.stdout)["lanes"]
    assert "no-such-model" in bad["error"] and bad["text"] == ""
    assert good["error"] is None and good["text"]
    assert "lane 1: not found (HTTP 404)" in done.stderr.decode()


def test_network_failure_exits_4(env) -> None:
    done = workbench("compare", "--base-url", closed_port_url(), "--retries", "0", PROMPT, *TWO_LANES, env=env)
    assert done.returncode == EXIT_NETWORK
    assert "=== lane 1" in done.stdout.decode() and "=== lane 2" in done.stdout.decode()


def test_a_429_on_one_lane_waits_and_the_run_still_succeeds(env) -> None:
    # The simulator answers its first completion request with 429 (Retry-After 1 s,
    # retry-after-ms 50): one lane waits, the other does not.
    with ThreadedSim(rate=None, fault="rate-limit", fault_times=1) as sim:
        done = compare(sim, env, PROMPT, *TWO_LANES, "--max-tokens", "10", "--json")
    assert done.returncode == EXIT_OK, done.stderr
    waits = [line for line in done.stderr.decode().splitlines() if "waiting" in line]
    assert len(waits) == 1
    assert "rate limited (429); waiting 0.05 s to retry" in waits[0]
    assert all(lane["error"] is None and lane["text"] for lane in json.loads(done.stdout)["lanes"])


# -- saving and replaying -----------------------------------------------------------------------


def test_save_writes_a_session_that_replay_check_accepts(sim, env, tmp_path) -> None:
    sessions = tmp_path / "sessions"
    done = compare(
        sim, env, PROMPT, *TWO_LANES, "--seed", "9", "--max-tokens", "20",
        "--save", "--sessions-dir", str(sessions),
    )  # fmt: skip
    assert done.returncode == EXIT_OK, done.stderr
    saved_line = [l for l in done.stderr.decode().splitlines() if "saved the compare run as" in l]
    assert len(saved_line) == 1
    path = Path(saved_line[0].rsplit(" as ", 1)[1])
    assert path.parent == sessions and path.exists()

    session = SessionStore(sessions).load(path)
    assert [e.request.model for e in session.exchanges] == ["llama3.1-8b", "qwen-3-32b"]
    assert all(e.status == "complete" and e.output_text for e in session.exchanges)
    group = session.exchanges[0].group
    assert group and [(e.group, e.lane) for e in session.exchanges] == [(group, 0), (group, 1)]
    assert [e.variant for e in session.exchanges] == [
        {"model": "llama3.1-8b"},
        {"model": "qwen-3-32b", "temperature": 0.2},
    ]
    assert 'schema_version = 2' in path.read_text()

    replay = workbench("replay", str(path), "--check", "--base-url", sim.base_url, "--sessions-dir", str(sessions), env=env)
    assert replay.returncode == EXIT_OK, replay.stderr
    assert "2 of 2 exchanges the same" in replay.stderr.decode()
    # A different seed for every lane is a difference --check reports.
    changed = workbench("replay", str(path), "--check", "--set", "seed=10", "--base-url", sim.base_url, "--sessions-dir", str(sessions), env=env)
    assert changed.returncode == 1


def test_progress_line_says_what_each_lane_is_doing() -> None:
    import io

    from workbench.api.request import CompletionRequest
    from workbench.cli.compare import Progress
    from workbench.compare.runner import LaneState
    from workbench.compare.variants import Variant

    request = CompletionRequest(model="m", prompt="p")
    lanes = [LaneState(i, Variant(), request) for i in range(3)]
    lanes[1].status, lanes[1].wait_s = "waiting", 1.0
    lanes[2].status = "complete"
    progress = Progress(io.StringIO(), lanes)
    assert progress.enabled is False  # not a terminal: nothing is drawn
    assert progress.line() == "lanes 1: connecting · 2: waiting 1.0 s · 3: complete"


def test_ctrl_c_prints_what_arrived_and_exits_130(env) -> None:
    import os
    import signal
    import subprocess
    import sys

    from cli_harness import TIMEOUT_S

    from workbench.cli import EXIT_INTERRUPTED

    # Lane 1 is short and printed as soon as it ends; lane 2 is still streaming then.
    with ThreadedSim(rate=300.0) as sim:
        process = subprocess.Popen(
            [sys.executable, "-m", "workbench", "compare", "--base-url", sim.base_url, PROMPT,
             "--lane", "max_tokens=5", "--lane", "max_tokens=5000,min_tokens=5000"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        )  # fmt: skip
        try:
            first = os.read(process.stdout.fileno(), 65536)  # blocks until lane 1 is printed
            assert b"=== lane 1" in first
            process.send_signal(signal.SIGINT)
            rest, stderr = process.communicate(timeout=TIMEOUT_S)
        finally:
            if process.poll() is None:
                process.kill()
        sim.wait_for_disconnect(timeout=TIMEOUT_S)
    assert process.returncode == EXIT_INTERRUPTED
    out = (first + rest).decode()
    lane2 = out.split("=== lane 2 · max_tokens=5000,min_tokens=5000 ===\n", 1)[1]
    assert lane2.split("\n[cancelled]", 1)[0].strip()  # its partial text is there
    assert " cancelled " in out.split("client tok/s", 1)[1]  # and in the table
    assert stderr.decode().strip().endswith("workbench: interrupted")
