"""`workbench run` end to end: the real command in a subprocess against the simulator on a
loopback socket, checking what a user sees on stdout and stderr and the exit code."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_harness import TIMEOUT_S, clean_env, closed_port_url, workbench, workbench_on_a_terminal

from workbench.cli import EXIT_API, EXIT_INTERRUPTED, EXIT_NETWORK, EXIT_OK, EXIT_USAGE
from workbench.sim import ThreadedSim

METRICS = re.compile(
    r"^ttft \d+ ms, [\d,]+ tok/s client, [\d,]+ tok/s server, "
    r"usage (\d+) prompt \+ (\d+) completion = (\d+), finish (\w+)$"
)


@pytest.fixture
def sim() -> Iterator[ThreadedSim]:
    with ThreadedSim(rate=None) as server:
        yield server


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return clean_env(tmp_path)


def completions(sim: ThreadedSim) -> list:
    return [r for r in sim.requests if r.path == "/v1/completions"]


def run(sim: ThreadedSim, env: dict[str, str], *args: str, stdin: bytes = b""):
    return workbench("run", "--base-url", sim.base_url, *args, env=env, stdin=stdin)


# -- success -------------------------------------------------------------------------------------


def test_streamed_text_goes_to_stdout_and_speed_to_stderr(sim, env) -> None:
    streamed = run(sim, env, "--seed", "7", "--max-tokens", "40", "It was a dark and stormy night")
    assert streamed.returncode == EXIT_OK, streamed.stderr
    whole = run(
        sim,
        env,
        "--seed",
        "7",
        "--max-tokens",
        "40",
        "--no-stream",
        "It was a dark and stormy night",
    )
    assert whole.returncode == EXIT_OK, whole.stderr

    text = streamed.stdout.decode()
    assert text and text == whole.stdout.decode()  # on a pipe: exactly the text, nothing added
    lines = streamed.stderr.decode().splitlines()
    assert len(lines) == 1
    match = METRICS.match(lines[0])
    assert match, lines[0]
    assert int(match[2]) <= 40 and match[4] in ("length", "stop")
    first, second = completions(sim)
    assert first.body["stream"] is True and second.body["stream"] is False
    assert first.body["prompt"] == "It was a dark and stormy night"
    assert first.body["model"] == "llama3.1-8b"


def test_every_registry_field_has_a_run_flag() -> None:
    """The flags are generated from workbench.api.fields: a new field gets one for free, with
    its kind deciding how it parses."""
    from workbench.api.fields import FIELDS
    from workbench.cli import build_parser

    parser = build_parser(("run",))
    run_parser = parser._subparsers._group_actions[0].choices["run"]  # argparse has no public way
    by_dest = {action.dest: action for action in run_parser._actions}
    for spec in FIELDS:
        assert spec.name in by_dest, spec.name
        assert spec.flag in by_dest[spec.name].option_strings
        if spec.cli_short:
            assert spec.cli_short in by_dest[spec.name].option_strings
        assert spec.help in (by_dest[spec.name].help or "")


def test_n_is_a_flag_and_its_cap_is_refused_before_sending(sim, env) -> None:
    result = run(sim, env, "--n", "2", "--max-tokens", "3", "--no-stream", "Hi")
    assert result.returncode == EXIT_OK, result.stderr
    assert completions(sim)[0].body["n"] == 2
    too_many = run(sim, env, "--n", "100000", "Hi")
    assert too_many.returncode == EXIT_USAGE
    assert too_many.stderr.decode().startswith("workbench: n: ")
    not_a_number = run(sim, env, "--max-tokens", "many", "Hi")
    assert not_a_number.returncode == EXIT_USAGE
    assert (
        not_a_number.stderr.decode()
        == "workbench: max_tokens: must be a whole number, not 'many'\n"
    )
    assert len(completions(sim)) == 1


def test_no_stream_reports_wall_time_instead_of_ttft(sim, env) -> None:
    result = run(sim, env, "--no-stream", "--max-tokens", "5", "Hello")
    assert result.returncode == EXIT_OK
    assert re.match(r"^time \d+ ms, ", result.stderr.decode())


def test_every_field_flag_reaches_the_request_body(sim, env) -> None:
    result = run(
        sim, env,
        "--model", "llama3.1-8b", "--max-tokens", "12", "--min-tokens", "2",
        "--temperature", "0.5", "--top-p", "0.9", "--seed", "3", "--stop", "\n\n", "--stop", "END",
        "--echo", "--grammar-root", "root", "--user", "u-1", "--logprobs", "2", "--n", "1",
        "Hello",
    )  # fmt: skip
    assert result.returncode == EXIT_OK, result.stderr
    body = completions(sim)[0].body
    assert body == {
        "model": "llama3.1-8b", "prompt": "Hello", "stream": True, "max_tokens": 12,
        "min_tokens": 2, "temperature": 0.5, "top_p": 0.9, "seed": 3, "stop": ["\n\n", "END"],
        "echo": True, "grammar_root": "root", "user": "u-1", "logprobs": 2, "n": 1,
    } | {k: v for k, v in body.items() if k == "stream_options"}  # fmt: skip
    assert result.stdout.decode().startswith("Hello")  # echo


@pytest.mark.parametrize("stream_flag", [[], ["--no-stream"]])
def test_json_prints_the_response_object(sim, env, stream_flag) -> None:
    result = run(sim, env, *stream_flag, "--json", "--seed", "1", "--max-tokens", "20", "It was")
    assert result.returncode == EXIT_OK, result.stderr
    body = json.loads(result.stdout)
    assert body["object"] == "text_completion"
    assert body["id"].startswith("chatcmpl-") and body["model"] == "llama3.1-8b"
    assert isinstance(body["created"], int) and body["system_fingerprint"]
    [choice] = body["choices"]
    assert choice["index"] == 0 and choice["finish_reason"] in ("length", "stop")
    assert choice["text"]
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert body["time_info"]["completion_time"] > 0
    # pretty-printed like the seed's example
    assert result.stdout.startswith(b'{\n    "id": ')


def test_stream_json_assembles_the_same_text_as_the_non_streaming_call(sim, env) -> None:
    args = ("--json", "--seed", "11", "--max-tokens", "30", "It was")
    streamed = json.loads(run(sim, env, *args).stdout)
    whole = json.loads(run(sim, env, "--no-stream", *args).stdout)
    assert streamed["choices"] == whole["choices"]
    assert streamed["usage"]["completion_tokens"] == whole["usage"]["completion_tokens"]


@pytest.mark.parametrize("stream_flag", [[], ["--no-stream"]])
def test_batch_prompt_prints_one_labelled_block_per_choice(sim, env, stream_flag) -> None:
    args = ("--prompt-json", '["It was", "My dear"]', "--seed", "5", "--max-tokens", "15")
    result = run(sim, env, *stream_flag, *args)
    assert result.returncode == EXIT_OK, result.stderr
    body = json.loads(run(sim, env, "--no-stream", "--json", *args).stdout)
    texts = [c["text"] for c in sorted(body["choices"], key=lambda c: c["index"])]
    assert len(texts) == 2
    expected = "".join(
        f"[choice {i}]\n{text}{'' if text.endswith(chr(10)) else chr(10)}"
        for i, text in enumerate(texts)
    )
    assert result.stdout.decode() == expected
    assert completions(sim)[0].body["prompt"] == ["It was", "My dear"]
    assert "finish " in result.stderr.decode()


@pytest.mark.parametrize("stream_flag", [[], ["--no-stream"]])
def test_raw_tokens_are_printed_as_ids(sim, env, stream_flag) -> None:
    args = ("--raw-tokens", "--seed", "2", "--max-tokens", "10", "It was")
    result = run(sim, env, *stream_flag, *args)
    assert result.returncode == EXIT_OK, result.stderr
    body = json.loads(run(sim, env, "--no-stream", "--json", *args).stdout)
    tokens = body["choices"][0]["tokens"]
    assert tokens and all(isinstance(t, int) for t in tokens)
    assert result.stdout.decode() == " ".join(map(str, tokens)) + "\n"
    assert completions(sim)[0].body["return_raw_tokens"] is True


@pytest.mark.parametrize("how", ["absent", "dash"])
def test_prompt_from_stdin(sim, env, how) -> None:
    prompt = "It was a truth universally acknowledged\n"
    args = ["--max-tokens", "5"] + (["-"] if how == "dash" else [])
    result = run(sim, env, *args, stdin=prompt.encode())
    assert result.returncode == EXIT_OK, result.stderr
    assert completions(sim)[0].body["prompt"] == prompt  # verbatim, newline kept


# -- refused before sending ----------------------------------------------------------------------


def test_invalid_fields_are_reported_and_nothing_is_sent(sim, env) -> None:
    result = run(sim, env, "--temperature", "2", "--stop", "", "--raw-tokens", "--echo", "Hi")
    assert result.returncode == EXIT_USAGE
    assert result.stderr.decode().splitlines() == [
        "workbench: stop: a stop sequence must not be empty",
        "workbench: temperature: must be between 0 and 1.5",
        "workbench: echo: echo cannot be combined with return_raw_tokens",
    ]
    assert result.stdout == b""
    assert sim.requests == []


def test_bad_prompt_json_is_a_usage_error(sim, env) -> None:
    result = run(sim, env, "--prompt-json", "[1, ")
    assert result.returncode == EXIT_USAGE
    assert result.stderr.decode().startswith("workbench: prompt: --prompt-json is not valid JSON")
    bad_kind = run(sim, env, "--prompt-json", '[1, "a"]')
    assert bad_kind.returncode == EXIT_USAGE
    assert bad_kind.stderr.decode().startswith("workbench: prompt: must be a string")
    assert sim.requests == []


def test_missing_key_for_cerebras_names_the_variable_and_offline(env) -> None:
    # Cerebras named explicitly (here by the environment) but no key: refused, nothing sent.
    env = {**env, "CEREBRAS_BASE_URL": "https://api.cerebras.ai"}
    result = workbench("run", "Hello", env=env)
    assert result.returncode == EXIT_USAGE
    message = result.stderr.decode()
    assert "CEREBRAS_API_KEY" in message and "--offline" in message
    assert result.stdout == b""


def test_nothing_configured_means_the_simulator_and_says_so(env) -> None:
    """The TUI's rule, for the CLI too: no key and no base URL -> the offline simulator."""
    result = workbench("run", "Hello", "--max-tokens", "5", env=env)
    assert result.returncode == EXIT_OK, result.stderr
    first, metrics = result.stderr.decode().splitlines()
    assert first.startswith("workbench: no API key and no base URL configured")
    assert "offline simulator" in first and METRICS.match(metrics)
    assert result.stdout


def test_offline_needs_no_key_and_no_network(tmp_path) -> None:
    # A base URL in the environment that nothing answers: --offline must not go there.
    env = clean_env(tmp_path, {"CEREBRAS_BASE_URL": closed_port_url()})
    result = workbench("run", "--offline", "--max-tokens", "8", "It was", env=env)
    assert result.returncode == EXIT_OK, result.stderr
    assert result.stdout
    assert METRICS.match(result.stderr.decode().strip())


# -- errors from the server and the network --------------------------------------------------------


def test_wrong_key_is_an_api_error(tmp_path) -> None:
    env = clean_env(tmp_path, {"CEREBRAS_API_KEY": "wrong"})
    with ThreadedSim(rate=None, api_key="right") as sim:
        result = run(sim, env, "Hello")
    assert result.returncode == EXIT_API
    stderr = result.stderr.decode()
    assert stderr.startswith("workbench: ") and "401" in stderr and "Wrong API Key" in stderr
    assert result.stdout == b""


def test_key_from_the_environment_is_sent(tmp_path) -> None:
    env = clean_env(tmp_path, {"CEREBRAS_API_KEY": "right"})
    with ThreadedSim(rate=None, api_key="right") as sim:
        result = run(sim, env, "--max-tokens", "3", "Hello")
        assert completions(sim)[0].headers["authorization"] == "Bearer right"
    assert result.returncode == EXIT_OK, result.stderr


def test_rate_limit_after_exhausted_retries_is_an_api_error(env) -> None:
    with ThreadedSim(rate=None, fault="rate-limit") as sim:
        result = run(sim, env, "--retries", "1", "Hello")
        attempts = len(completions(sim))
    assert result.returncode == EXIT_API
    stderr = result.stderr.decode()
    assert "429" in stderr and "Requests per minute limit exceeded" in stderr
    assert attempts == 2
    assert result.stdout == b""


def test_retry_that_succeeds_is_mentioned_in_the_metrics(env) -> None:
    with ThreadedSim(rate=None, fault="rate-limit", fault_times=1) as sim:
        result = run(sim, env, "--max-tokens", "3", "Hello")
    assert result.returncode == EXIT_OK, result.stderr
    assert result.stderr.decode().strip().endswith("after 1 retry")


def test_a_retry_wait_is_said_on_stderr_before_it_happens(env) -> None:
    with ThreadedSim(rate=None, fault="rate-limit", fault_times=1) as sim:
        result = run(sim, env, "--max-tokens", "3", "Hello")
    assert result.returncode == EXIT_OK, result.stderr
    first, metrics = result.stderr.decode().splitlines()
    assert re.match(r"^workbench: .*429.*retrying in [\d.]+ m?s", first), first
    assert metrics.endswith("after 1 retry")


def test_connection_refused_is_a_network_error(env) -> None:
    result = workbench("run", "--base-url", closed_port_url(), "--retries", "0", "Hello", env=env)
    assert result.returncode == EXIT_NETWORK
    assert result.stderr.decode().startswith("workbench: ")
    assert result.stdout == b""


def test_truncated_stream_keeps_the_partial_text_and_is_an_api_error(env) -> None:
    with ThreadedSim(rate=None, fault="no-done") as sim:
        result = run(sim, env, "--seed", "4", "--max-tokens", "30", "It was")
        complete = workbench(
            "run", "--base-url", sim.base_url, "--no-stream", "--seed", "4", "--max-tokens", "30",
            "It was", env=env,
        )  # fmt: skip
    assert result.returncode == EXIT_API
    assert result.stdout and complete.stdout.startswith(result.stdout)
    assert "without [DONE]" in result.stderr.decode()


def test_dropped_connection_keeps_the_partial_text_and_is_a_network_error(env) -> None:
    with ThreadedSim(rate=None, fault="drop") as sim:
        result = run(sim, env, "--max-tokens", "200", "It was")
    assert result.returncode == EXIT_NETWORK
    assert result.stdout
    assert result.stderr.decode().count("\n") == 1


def test_error_event_in_a_stream_is_an_api_error(env) -> None:
    with ThreadedSim(rate=None, fault="error-event") as sim:
        result = run(sim, env, "--max-tokens", "200", "It was")
    assert result.returncode == EXIT_API
    assert result.stdout
    assert "503" in result.stderr.decode()


# -- the terminal --------------------------------------------------------------------------------


ESCAPES = "\x1b[31mred\x1b]0;pwned\x07"


def test_escape_sequences_reach_a_pipe_unchanged(sim, env) -> None:
    result = run(sim, env, "--echo", "--max-tokens", "3", ESCAPES)
    assert result.returncode == EXIT_OK, result.stderr
    assert result.stdout.startswith(ESCAPES.encode())


def test_escape_sequences_are_shown_not_obeyed_on_a_terminal(sim, env) -> None:
    code, screen, stderr = workbench_on_a_terminal(
        "run", "--base-url", sim.base_url, "--echo", "--max-tokens", "3", ESCAPES, env=env
    )
    assert code == EXIT_OK, stderr
    assert screen.startswith(b"\\x1b[31mred\\x1b]0;pwned\\x07")
    assert b"\x1b" not in screen and b"\x07" not in screen
    assert screen.endswith(b"\r\n")  # the line is finished for the shell prompt


def test_ctrl_c_cancels_the_stream_and_exits_130(env) -> None:
    with ThreadedSim(rate=None, fault="stall") as sim:
        process = subprocess.Popen(
            [sys.executable, "-m", "workbench", "run", "--base-url", sim.base_url, "It was"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        try:
            first = os.read(process.stdout.fileno(), 65536)  # blocks until text arrives
            assert first
            process.send_signal(signal.SIGINT)
            _rest, stderr = process.communicate(timeout=TIMEOUT_S)
        finally:
            if process.poll() is None:
                process.kill()
        sim.wait_for_disconnect(timeout=TIMEOUT_S)
        assert sim.disconnects == 1
    assert process.returncode == EXIT_INTERRUPTED
    assert stderr.decode().strip().endswith("workbench: interrupted")


def test_stalled_stream_times_out_as_a_network_error_keeping_the_text(env) -> None:
    with ThreadedSim(rate=None, fault="stall") as sim:
        result = run(sim, env, "--timeout", "0.5", "--max-tokens", "200", "It was")
    assert result.returncode == EXIT_NETWORK
    assert result.stdout
    assert "read timeout" in result.stderr.decode()


def test_closed_stdout_stops_the_stream_quietly(env) -> None:
    # Paced, long stream: the command is still writing when the reader goes away.
    with ThreadedSim(rate=200.0) as sim:
        process = subprocess.Popen(
            [sys.executable, "-m", "workbench", "run", "--base-url", sim.base_url,
             "--max-tokens", "5000", "--min-tokens", "5000", "It was"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        )  # fmt: skip
        try:
            assert os.read(process.stdout.fileno(), 16)
            process.stdout.close()  # like `| head -c 16`
            stderr = process.stderr.read()
            code = process.wait(timeout=TIMEOUT_S)
        finally:
            if process.poll() is None:
                process.kill()
        sim.wait_for_disconnect(timeout=TIMEOUT_S)
    assert code == 141
    assert stderr == b""  # no traceback, no "Exception ignored"


# -- in process (fast paths through main) ---------------------------------------------------------


def test_main_in_process_streams_and_refuses_bad_fields(sim, capsys) -> None:
    from workbench.cli import main

    assert main(["run", "--base-url", sim.base_url, "--top-p", "1.5", "Hi"]) == EXIT_USAGE
    assert capsys.readouterr().err == "workbench: top_p: must be between 0 and 1\n"
    assert sim.requests == []

    code = main(
        ["run", "--base-url", sim.base_url, "--json", "--seed", "9", "--max-tokens", "6", "Hi"]
    )
    captured = capsys.readouterr()
    assert code == EXIT_OK
    assert json.loads(captured.out)["usage"]["completion_tokens"] <= 6
    assert METRICS.match(captured.err.strip())


@pytest.mark.parametrize(
    ("variable", "value"),
    [("CEREBRAS_API_KEY", "sk-pasted\u2028key"), ("CEREBRAS_CUSTOM_HEADERS", "Bad Name: x")],
)
def test_unsendable_key_or_header_is_a_usage_error(sim, tmp_path, variable, value) -> None:
    env = clean_env(tmp_path, {variable: value})
    result = run(sim, env, "Hello")
    assert result.returncode == EXIT_USAGE
    assert result.stderr.decode().startswith("workbench: ")
    assert "sk-pasted" not in result.stderr.decode()  # the key is never echoed
    assert sim.requests == []


@pytest.mark.parametrize(
    ("fault", "code", "partial_text", "needle"),
    [
        ("malformed-sse", EXIT_API, True, "not valid JSON"),
        ("html-502", EXIT_API, False, "502 Bad Gateway"),
        ("unavailable", EXIT_API, False, "503"),
        ("server-error", EXIT_API, False, "500"),
        ("split-utf8", EXIT_OK, True, "finish "),
    ],
)
def test_faults_map_to_exit_codes(env, fault, code, partial_text, needle) -> None:
    with ThreadedSim(rate=None, fault=fault) as sim:
        result = run(sim, env, "--retries", "0", "--max-tokens", "60", "It was")
    assert result.returncode == code, result.stderr
    assert bool(result.stdout) is partial_text
    result.stdout.decode("utf-8")  # never a broken character, even when the server split one
    assert needle in result.stderr.decode()
    assert "Traceback" not in result.stderr.decode()
