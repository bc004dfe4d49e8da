"""Running evals against the simulator on a real socket: 429s, errors, shards, resume, JUnit."""

from __future__ import annotations

import io
import json
import re
import signal
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Iterator

import pytest
from cli_harness import TIMEOUT_S, clean_env

from workbench.api.client import CompletionClient
from workbench.api.endpoint import Endpoint
from workbench.cli import (
    EXIT_API,
    EXIT_DIFFERENT,
    EXIT_INTERRUPTED,
    EXIT_NETWORK,
    EXIT_OK,
    EXIT_USAGE,
    main,
)
from workbench.eval.plan import parse_shard, plan_cells
from workbench.eval.progress import ProgressLine
from workbench.eval.results import read_results
from workbench.eval.runner import EvalRunner, Progress
from workbench.eval.spec import load_eval
from workbench.sim import ThreadedSim

EVAL = """\
schema_version = 1
title = "echoes"
prompt = "{{text}}"
assert = [{ type = "starts_with", value = "{{text}}" }]

[defaults]
max_tokens = 8
temperature = 0
seed = 7
echo = true

[[variants]]
name = "8b"
model = "llama3.1-8b"

[[variants]]
name = "32b"
model = "qwen-3-32b"
"""


def eval_file(tmp_path: Path, cases: int = 4, *, extra: str = "", failing: bool = True) -> Path:
    lines = [EVAL + extra]
    for n in range(cases):
        lines.append(f'[[cases]]\nname = "c{n}"\nvars = {{ text = "It was night {n}." }}\n')
    if failing:
        lines.append('[[cases]]\nname = "short"\nvars = { text = "Hi" }\nassert = [{ type = "max_chars", value = 3 }]\n')
    path = tmp_path / "echo.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def threaded_sim() -> Iterator[ThreadedSim]:
    with ThreadedSim(rate=None) as server:
        yield server


def completions(sim: ThreadedSim) -> list[dict[str, Any]]:
    return [r.body for r in sim.requests if r.path == "/v1/completions"]


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["eval", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# -- the runner itself -----------------------------------------------------------------------


async def test_429s_slow_the_run_down_and_every_cell_still_passes(tmp_path: Path, sim_factory) -> None:
    sim = await sim_factory(fault="rate-limit", fault_times=3)  # the first three requests: 429
    spec = load_eval(eval_file(tmp_path, cases=6, failing=False))
    cells = plan_cells(spec)
    seen = []
    async with CompletionClient(Endpoint.from_env(base_url=sim.base_url, environ={}), max_retries=0) as client:
        runner = EvalRunner(client, concurrency=4, on_progress=seen.append)
        records = await runner.run(cells)
    assert len(records) == 12 and {r.status for r in records} == {"pass"}
    assert sum(r.rate_limited for r in records) == 3
    assert runner.limiter.waits == 3
    # The limit was halved (4 → 2 → 1) and climbs back as cells succeed.
    assert min(p.concurrency for p in seen) == 1
    assert max(p.waits for p in seen) == 3
    assert len([r for r in sim.requests if r.path == "/v1/completions"]) == 12 + 3


async def test_a_run_that_fails_from_the_start_stops_early(tmp_path: Path) -> None:
    spec = load_eval(eval_file(tmp_path, cases=20))
    endpoint = Endpoint.from_env(base_url="http://127.0.0.1:9", environ={})  # discard port: refused
    async with CompletionClient(endpoint, max_retries=0) as client:
        runner = EvalRunner(client, concurrency=2, retries=0)
        records = await runner.run(plan_cells(spec))
    assert len(records) == 42 and {r.status for r in records} == {"error"}
    assert runner.gave_up is not None and "the first 10 cells all failed" in runner.gave_up
    assert sum(r.attempts for r in records) <= 11  # the rest (all but one in flight) never sent


# -- the command ------------------------------------------------------------------------------


def test_matrix_summary_results_file_and_exit_codes(tmp_path, threaded_sim, capsys) -> None:
    path = eval_file(tmp_path)
    code, out, err = run_cli(capsys, str(path), "--base-url", threaded_sim.base_url)
    assert code == EXIT_OK, err  # failures do not fail the command without --check
    assert out.splitlines()[:7] == [
        "case   8b    32b",
        "c0     pass  pass",
        "c1     pass  pass",
        "c2     pass  pass",
        "c3     pass  pass",
        "short  FAIL  FAIL",
        "",
    ]
    assert re.search(r"^variant +pass rate +passed +failed +errors +median TTFT +tok/s +tokens in/out$", out, re.M)
    assert re.search(r"^8b +80% +4 +1 +0 +\d+ ms +[\d,]+ +25/40$", out, re.M)
    assert 'short × 8b: max_chars 3: ' in out
    assert "no previous results to compare with" in out
    assert len(completions(threaded_sim)) == 10
    results = read_results(tmp_path / "echo.results.toml")
    assert results is not None and results.complete and len(results.records) == 10
    first = results.records[0]
    assert (first.case, first.variant, first.status) == ("c0", "8b", "pass")
    assert first.request["prompt"] == "It was night 0." and first.request["seed"] == 7
    assert first.output.startswith("It was night 0.") and first.usage["completion_tokens"] == 8
    assert "ttft_s" in first.metrics

    # The same run again: the seed makes the outputs identical, so nothing changed.
    code, out, _ = run_cli(capsys, str(path), "--base-url", threaded_sim.base_url, "--check")
    assert code == EXIT_DIFFERENT
    assert "no cell changed since the previous run" in out

    # A changed variant: its cells are listed as changed.
    path.write_text(path.read_text().replace('model = "qwen-3-32b"', 'model = "qwen-3-32b"\ntemperature = 1.0'))
    code, out, _ = run_cli(capsys, str(path), "--base-url", threaded_sim.base_url)
    assert "5 cells changed since the previous run:" in out
    assert "  c0 × 32b: output changed (still pass)" in out


def test_json_output(tmp_path, threaded_sim, capsys) -> None:
    code, out, _ = run_cli(capsys, str(eval_file(tmp_path)), "--base-url", threaded_sim.base_url, "--json")
    assert code == EXIT_OK
    document = json.loads(out)
    assert document["title"] == "echoes" and document["changed"] is None
    assert [(c["case"], c["variant"]) for c in document["cells"]][:2] == [("c0", "8b"), ("c0", "32b")]
    short = next(c for c in document["cells"] if c["case"] == "short")
    assert short["status"] == "fail" and short["failures"][0]["assertion"] == "max_chars 3"
    summary = {v["name"]: v for v in document["variants"]}
    assert summary["8b"]["passed"] == 4 and summary["8b"]["pass_rate"] == 0.8
    assert summary["8b"]["completion_tokens"] == 40 and summary["8b"]["median_ttft_ms"] > 0


def test_errored_cells_count_as_failures_for_check(tmp_path, threaded_sim, capsys) -> None:
    path = eval_file(tmp_path, failing=False)
    path.write_text(path.read_text().replace('"qwen-3-32b"', '"no-such-model"'))
    code, out, _ = run_cli(capsys, str(path), "--base-url", threaded_sim.base_url)
    assert code == EXIT_OK
    assert "c0    pass  ERROR" in out and "Unknown model 'no-such-model'" in out
    code, _, _ = run_cli(capsys, str(path), "--base-url", threaded_sim.base_url, "--check")
    assert code == EXIT_DIFFERENT


def test_every_cell_failing_exits_3_for_the_api_and_4_for_the_network(tmp_path, threaded_sim, capsys) -> None:
    path = eval_file(tmp_path)
    path.write_text(path.read_text().replace('"qwen-3-32b"', '"nope"').replace('"llama3.1-8b"', '"nope2"'))
    code, _, err = run_cli(capsys, str(path), "--base-url", threaded_sim.base_url)
    assert code == EXIT_API, err
    code, _, err = run_cli(capsys, str(path), "--base-url", "http://127.0.0.1:9", "--retries", "0")
    assert code == EXIT_NETWORK, err


def test_invalid_file_and_usage_exit_2_with_one_line(tmp_path, capsys) -> None:
    path = eval_file(tmp_path)
    path.write_text(path.read_text().replace('type = "max_chars"', 'type = "max_char"'))
    code, out, err = run_cli(capsys, str(path), "--offline")
    assert code == EXIT_USAGE and out == ""
    assert err.strip().splitlines() == [
        f"workbench: {path}:39: unknown assertion type 'max_char' (did you mean 'max_chars'?)"
    ]
    code, _, err = run_cli(capsys, str(eval_file(tmp_path)), "--offline", "--shard", "3/2")
    assert code == EXIT_USAGE and "K must be from 1 to N" in err


def test_junit_xml_parses_with_one_testcase_per_cell(tmp_path, threaded_sim, capsys) -> None:
    path = eval_file(tmp_path)
    path.write_text(path.read_text().replace('text = "Hi"', 'text = "Hi\\u0001 <&>"'))
    junit = tmp_path / "out" / "junit.xml"
    junit.parent.mkdir()
    code, _, err = run_cli(capsys, str(path), "--base-url", threaded_sim.base_url, "--junit", str(junit))
    assert code == EXIT_OK, err
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites" and root.get("tests") == "10" and root.get("failures") == "2"
    cases = root.findall("./testsuite/testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases][:3] == [("8b", "c0"), ("32b", "c0"), ("8b", "c1")]
    failed = [c for c in cases if c.find("failure") is not None]
    assert [(c.get("classname"), c.get("name")) for c in failed] == [("8b", "short"), ("32b", "short")]
    failure = failed[0].find("failure")
    assert failure.get("message").startswith("max_chars 3: ")
    assert "output:\nHi\ufffd <&>" in failure.text  # the control character replaced, the rest exact


def test_shards_split_the_cells_and_their_union_is_the_whole_run(tmp_path, threaded_sim, capsys) -> None:
    path = eval_file(tmp_path, cases=12)
    code, _, _ = run_cli(capsys, str(path), "--base-url", threaded_sim.base_url)
    whole = read_results(tmp_path / "echo.results.toml")
    keys: list[tuple[str, str]] = []
    outputs = {}
    for k in (1, 2, 3):
        code, out, err = run_cli(capsys, str(path), "--base-url", threaded_sim.base_url, "--shard", f"{k}/3")
        assert code == EXIT_OK, err
        shard = read_results(tmp_path / f"echo.results.{k}-of-3.toml")
        assert shard.shard == f"{k}/3" and shard.records
        keys += [r.key for r in shard.records]
        outputs.update({r.key: r.outputs for r in shard.records})
    assert len(keys) == len(set(keys)) == 26  # disjoint, and together every cell
    assert set(keys) == {r.key for r in whole.records}
    assert outputs == {r.key: r.outputs for r in whole.records}


def test_shard_membership_is_stable_when_cases_are_added(tmp_path) -> None:
    small = plan_cells(load_eval(eval_file(tmp_path, cases=5)), parse_shard("2/4"))
    large = plan_cells(load_eval(eval_file(tmp_path, cases=40)), parse_shard("2/4"))
    assert {c.key for c in small} <= {c.key for c in large}


def test_resume_sends_only_unfinished_or_changed_cells(tmp_path, capsys) -> None:
    path = eval_file(tmp_path)
    with ThreadedSim(rate=None) as sim:
        assert run_cli(capsys, str(path), "--base-url", sim.base_url)[0] == EXIT_OK
    results_path = tmp_path / "echo.results.toml"
    results = read_results(results_path)
    # As if interrupted after six cells, with one of them since answered by an error.
    results.records = results.records[:6]
    results.records[5].status = "error"
    results.complete = False
    results_path.write_bytes(results.to_bytes())
    # And the eval file edited since: case c0's prompt changes (its two cells must be re-sent).
    path.write_text(path.read_text().replace("It was night 0.", "It was day 0."))
    with ThreadedSim(rate=None) as sim:
        code, out, err = run_cli(capsys, str(path), "--base-url", sim.base_url, "--resume")
        sent = {(body["prompt"], body["model"]) for body in completions(sim)}
    assert code == EXIT_OK, err
    assert "resuming: 3 of 10 cells already done, 7 to send" in err
    assert ("It was day 0.", "llama3.1-8b") in sent and len(sent) == 7
    assert ("It was night 1.", "llama3.1-8b") not in sent  # finished, unchanged: kept
    final = read_results(results_path)
    assert final.complete and len(final.records) == 10
    assert [r.key for r in final.records][:2] == [("c0", "8b"), ("c0", "32b")]


def test_an_unreadable_results_file_is_never_overwritten(tmp_path, capsys) -> None:
    path = eval_file(tmp_path)
    results_path = tmp_path / "echo.results.toml"
    results_path.write_text("not = [toml", encoding="utf-8")
    code, _, err = run_cli(capsys, str(path), "--offline")
    assert code == EXIT_USAGE and "not a results file" in err
    assert results_path.read_text() == "not = [toml"


def test_ctrl_c_saves_the_finished_cells_and_resume_sends_only_the_rest(tmp_path) -> None:
    path = eval_file(tmp_path, cases=20, failing=False)  # 40 cells
    env = clean_env(tmp_path)
    with ThreadedSim(rate=None) as sim:
        process = subprocess.Popen(
            [sys.executable, "-m", "workbench", "eval", str(path), "--base-url", sim.base_url,
             "--concurrency", "1"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        )  # fmt: skip
        try:
            # Plain progress lines (stderr is a pipe): wait for the one at a tenth of the run.
            while b"eval 4/40 cells" not in (line := process.stderr.readline()):
                assert line, "the run ended before reporting progress"
            sim.set_fault("stall")  # every later cell hangs mid-stream: the run cannot finish
            process.send_signal(signal.SIGINT)
            _out, rest = process.communicate(timeout=TIMEOUT_S)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == EXIT_INTERRUPTED
    saved = read_results(tmp_path / "echo.results.toml")
    assert not saved.complete and 4 <= len(saved.records) < 40
    assert {r.status for r in saved.records} == {"pass"}
    assert f"saved the {len(saved.records)} finished cells" in rest.decode()
    with ThreadedSim(rate=None) as sim:
        completed = subprocess.run(
            [sys.executable, "-m", "workbench", "eval", str(path), "--base-url", sim.base_url, "--resume"],
            capture_output=True, env=env, timeout=TIMEOUT_S, check=False,
        )  # fmt: skip
        sent = completions(sim)
    assert completed.returncode == EXIT_OK, completed.stderr
    assert len(sent) == 40 - len(saved.records)
    kept_prompts = {(r.request["prompt"], r.request["model"]) for r in saved.records}
    assert not kept_prompts & {(body["prompt"], body["model"]) for body in sent}
    final = read_results(tmp_path / "echo.results.toml")
    assert final.complete and len(final.records) == 40


def test_plain_progress_lines_mention_rate_limit_waits(tmp_path, capsys) -> None:
    with ThreadedSim(rate=None, fault="rate-limit", fault_times=2) as sim:
        code, _, err = run_cli(capsys, str(eval_file(tmp_path, failing=False)), "--base-url", sim.base_url)
    assert code == EXIT_OK
    lines = [line for line in err.splitlines() if line.startswith("workbench: eval ")]
    assert 1 <= len(lines) <= 11  # occasional lines, not one per event
    assert lines[-1].startswith("workbench: eval 8/8 cells · 0 failed · 2 rate-limit waits")


def test_terminal_progress_is_one_line_redrawn_in_place() -> None:
    stream = io.StringIO()
    line = ProgressLine(stream, terminal=True, clock=iter(range(100)).__next__)
    line.update(Progress(done=5, total=20, failed=1, errored=2, waits=3, waiting_s=1.5, concurrency=2, elapsed_s=10.0))
    line.close()
    text = stream.getvalue()
    assert "\n" not in text[:-1] and text.endswith("\n")
    assert text.startswith("\r[#####...............] 5/20 cells · 1 failed · 2 errors · ETA 30 s · ")
    assert "3 rate-limit waits, waiting 1.5 s · concurrency 2\x1b[K" in text


def test_resume_rejudges_kept_cells_with_the_assertions_as_they_are_now(tmp_path, capsys) -> None:
    path = eval_file(tmp_path, failing=False)
    with ThreadedSim(rate=None) as sim:
        assert run_cli(capsys, str(path), "--base-url", sim.base_url)[0] == EXIT_OK
        # A stricter file-level assertion: nothing to send again, but every kept cell now fails,
        # and the summary says the verdicts changed.
        path.write_text(path.read_text().replace('assert = [{ type = "starts_with"', 'assert = [{ type = "max_chars", value = 5 }, { type = "starts_with"'))
        code, out, err = run_cli(capsys, str(path), "--base-url", sim.base_url, "--resume", "--check")
        assert len(completions(sim)) == 8  # the first run's only
    assert code == EXIT_DIFFERENT
    assert "resuming: 8 of 8 cells already done, 0 to send" in err
    assert "8 cells changed since the previous run:" in out and "c0 × 8b: pass → fail" in out


def test_a_dead_server_stops_the_run_early_with_the_network_exit_code(tmp_path, capsys) -> None:
    path = eval_file(tmp_path, cases=20)
    code, out, err = run_cli(capsys, str(path), "--base-url", "http://127.0.0.1:9", "--retries", "0", "--concurrency", "1")
    assert code == EXIT_NETWORK
    assert "stopped early: the first 10 cells all failed:" in err
    assert out.count("ERROR") == 42
