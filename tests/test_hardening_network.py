"""Issue 8, the network half: hostile servers never hang, balloon, crash or leak the key.

The CLI runs as a child process (``python -m workbench``) against :mod:`hostile_server` on
loopback, as a user would run it; each case asserts the exit code, one ``workbench: …`` line
on stderr without a traceback, a generous time bound (an unbounded loop would take minutes or
never end; the hostile server itself gives up after 60 s) and the child's peak RSS, read from
``os.wait4`` — the kernel's ``ru_maxrss`` for exactly that child, which is the ``VmHWM`` its
``/proc/<pid>/status`` shows just before it exits.

In-process cases use the real client over a real socket too: the no-progress limit, retry
announcements, the tokenizer endpoint, configurable limits. The failure extractor gets a
hypothesis test on arbitrary bytes.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hostile_server import INF_HEADERS, HostileServer
from workbench.api import errors
from workbench.api.accumulate import OutputLimitReached, ResultBuilder
from workbench.api.client import CompletionClient, Timeouts, retry_notice
from workbench.api.endpoint import Endpoint
from workbench.api.failures import read_error_body, status_error, text_extract
from workbench.api.limits import Limits
from workbench.api.request import CompletionRequest, FieldError, RequestValidationError
from workbench.api.retry import retry_after_seconds, retry_delay
from workbench.api.sse import SSEDecoder, SSELimitError
from workbench.api.types import RateLimits
from workbench.sim import SimServer

MAX_RSS_MB = 300
# Generous: a child's start-up on a loaded 2-core machine is ~1-3 s; an unbounded loop would
# take minutes (the issue measured 6 s for a 70 KB page and "minutes" for the big ones).
MAX_SECONDS = 20.0
CHILD_KILL_S = 90.0
SECRET = "csk-hardening-secret-0123456789"


@dataclass
class Outcome:
    code: int
    stdout: bytes
    stderr: str
    seconds: float
    peak_rss_mb: float


def run_cli(*args: str, env_extra: dict[str, str] | None = None, tmp: Path) -> Outcome:
    """``python -m workbench ARGS`` in a child; its exit code, output, time and peak RSS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CEREBRAS_")}
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        env.pop(name, None)
    env["WORKBENCH_CONFIG_DIR"] = str(tmp / "config")
    env["WORKBENCH_DATA_DIR"] = str(tmp / "data")
    env.update(env_extra or {})
    # Files, not pipes: a child writing megabytes of kept text must never block on a full pipe.
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        child = subprocess.Popen(
            [sys.executable, "-m", "workbench", *args], stdout=out, stderr=err, env=env
        )
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - started > CHILD_KILL_S:
                os.kill(child.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(child.pid, 0)
                break
            time.sleep(0.02)  # polling for the child's exit, not synchronising with it
        seconds = time.monotonic() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Outcome(
            code=child.returncode,
            stdout=out.read(),
            stderr=err.read().decode("utf-8", "replace"),
            seconds=seconds,
            peak_rss_mb=usage.ru_maxrss / 1024,  # KiB on Linux
        )


def assert_one_line(outcome: Outcome, code: int, *words: str) -> str:
    lines = outcome.stderr.strip().splitlines()
    assert "Traceback" not in outcome.stderr, outcome.stderr
    assert outcome.code == code, outcome.stderr
    assert len(lines) == 1 and lines[0].startswith("workbench: "), outcome.stderr
    for word in words:
        assert word in lines[0], lines[0]
    assert outcome.seconds < MAX_SECONDS, f"took {outcome.seconds:.1f} s"
    assert outcome.peak_rss_mb < MAX_RSS_MB, f"peak RSS {outcome.peak_rss_mb:.0f} MB"
    return lines[0]


# -- every class of hostile answer, through the CLI -----------------------------------------

HOSTILE_CASES = [
    # (mode, status, content type, command, words in the message)
    ("script", 200, "text/html", ["models"], ["not a JSON object", "<script"]),
    ("script", 500, "text/html", ["models"], ["500"]),
    ("script", 200, "application/json", ["run", "x", "--no-stream"], ["not a JSON object"]),
    ("script", 200, "text/html", ["run", "x"], ["not a JSON object"]),
    ("script", 200, "", ["run", "x"], ["limit"]),
    ("script", 502, "text/plain", ["run", "x"], ["502"]),
    ("nested", 200, "", ["models"], ["objects and arrays"]),
    ("nested", 200, "", ["run", "x", "--no-stream"], ["objects and arrays"]),
    ("json-flood", 200, "", ["models"], ["objects and arrays"]),
    ("json-flood", 200, "", ["run", "x", "--no-stream"], ["objects and arrays"]),
    ("event-flood", 200, "", ["run", "x"], ["objects and arrays"]),
    ("endless-json", 200, "", ["models"], ["limit of 8 MB"]),
    ("endless-json", 200, "", ["run", "x", "--no-stream"], ["limit of 8 MB"]),
    ("endless-html", 500, "", ["models"], ["500"]),
    ("endless-html", 200, "", ["run", "x"], ["not a JSON object"]),
    ("endless-line", 200, "", ["run", "x"], ["line", "limit"]),
    ("endless-event", 200, "", ["run", "x"], ["event", "limit"]),
    ("endless-text", 200, "", ["run", "x"], ["per-choice limit", "were kept"]),
    ("endless-choices", 200, "", ["run", "x"], ["choices"]),
    ("endless-logprobs", 200, "", ["run", "x", "--logprobs", "5"], ["logprobs", "limit"]),
    ("gzip", 200, "", ["models"], ["compressed"]),
]


@pytest.mark.parametrize(
    "mode, status, content_type, command, words",
    HOSTILE_CASES,
    ids=[f"{c[0]}-{c[1]}-{c[2] or 'none'}-{'_'.join(c[3][:1] + c[3][2:])}" for c in HOSTILE_CASES],
)
def test_hostile_answer_is_one_line_exit_3_bounded_in_time_and_memory(
    mode: str, status: int, content_type: str, command: list[str], words: list[str], tmp_path: Path
) -> None:
    with HostileServer(mode, status=status, content_type=content_type) as server:
        outcome = run_cli(*command, "--base-url", server.base_url, "--retries", "0", tmp=tmp_path)
    assert_one_line(outcome, 3, *words)


def test_text_before_the_per_choice_cap_is_kept_and_printed(tmp_path: Path) -> None:
    with HostileServer("endless-text") as server:
        outcome = run_cli("run", "x", "--base-url", server.base_url, tmp=tmp_path)
    assert_one_line(outcome, 3, "2,000,000 characters", "were kept")
    assert outcome.stdout.startswith(b"word word ") and len(outcome.stdout) >= 1_990_000


@pytest.mark.parametrize(
    "command", [["run", "x"], ["run", "x", "--no-stream"], ["models"]], ids=" ".join
)
def test_infinite_and_garbage_rate_headers_do_not_stop_a_good_answer(
    command: list[str], tmp_path: Path
) -> None:
    with HostileServer("inf-headers") as server:
        outcome = run_cli(*command, "--base-url", server.base_url, tmp=tmp_path)
    assert outcome.code == 0 and "Traceback" not in outcome.stderr, outcome.stderr
    assert b"hostile server" in outcome.stdout or b"llama3.1-8b" in outcome.stdout


def test_retry_after_inf_falls_back_to_backoff_and_succeeds(tmp_path: Path) -> None:
    with HostileServer("retry-inf") as server:
        outcome = run_cli("run", "x", "--base-url", server.base_url, "--retries", "1", tmp=tmp_path)
        assert len(server.requests) == 2
    assert outcome.code == 0, outcome.stderr
    assert outcome.seconds < MAX_SECONDS


# -- where the key goes ------------------------------------------------------------------------


def test_environment_key_never_goes_to_another_host_over_a_real_connection(tmp_path: Path) -> None:
    """The hostile server stands in as the HTTP proxy for http://evil.example: whatever the
    client would have sent to that host arrives here instead, and nothing leaves the machine."""
    with HostileServer("ok") as proxy:
        outcome = run_cli(
            "run", "x", "--base-url", "http://evil.example:8080",
            env_extra={"CEREBRAS_API_KEY": SECRET, "HTTP_PROXY": proxy.base_url, "NO_PROXY": ""},
            tmp=tmp_path,
        )  # fmt: skip
        received = proxy.requests
    assert outcome.code == 0, outcome.stderr
    assert [r.target for r in received] == ["http://evil.example:8080/v1/completions"]
    assert "authorization" not in received[0].headers
    assert SECRET not in outcome.stderr


def test_environment_key_still_goes_to_loopback(tmp_path: Path) -> None:
    with HostileServer("ok") as server:
        outcome = run_cli(
            "run", "x", "--base-url", server.base_url,
            env_extra={"CEREBRAS_API_KEY": SECRET}, tmp=tmp_path,
        )  # fmt: skip
        received = server.requests
    assert outcome.code == 0, outcome.stderr
    assert received[0].headers["authorization"] == f"Bearer {SECRET}"


async def test_a_key_named_for_the_host_goes_there_only_over_https_or_when_allowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with HostileServer("ok") as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.base_url)
        monkeypatch.setenv("NO_PROXY", "")
        for allow in (False, True):
            endpoint = Endpoint.from_env(
                base_url="http://models.example", api_key=SECRET, environ={},
                key_for_host=True, allow_insecure=allow,
            )  # fmt: skip
            async with CompletionClient(endpoint, max_retries=0) as client:
                await client.list_models()
        sent = [r.headers.get("authorization") for r in proxy.requests]
    assert sent == [None, f"Bearer {SECRET}"]


@pytest.mark.parametrize("mode", ["not-found", "script"])
def test_credentials_in_the_base_url_never_appear_in_messages(mode: str, tmp_path: Path) -> None:
    password = "hunter2-very-secret"
    with HostileServer(mode, status=500) as server:
        url = server.base_url.replace("http://", f"http://alice:{password}@") + "/v1"
        outcome = run_cli("run", "x", "--base-url", url, "--retries", "0", tmp=tmp_path)
    assert outcome.code == 3 and "Traceback" not in outcome.stderr
    assert password not in outcome.stderr and password not in outcome.stdout.decode()


def test_credentials_never_appear_in_a_connection_error(tmp_path: Path) -> None:
    password = "hunter2-very-secret"
    with HostileServer("ok") as server:
        port = server.port  # closed once the block ends: nothing listens there any more
    outcome = run_cli(
        "models", "--base-url", f"http://bob:{password}@127.0.0.1:{port}", "--retries", "0",
        tmp=tmp_path,
    )  # fmt: skip
    assert outcome.code == 4 and password not in outcome.stderr, outcome.stderr
    assert "***@127.0.0.1" in outcome.stderr


# -- argv and environment: exit 2, one line -----------------------------------------------------


@pytest.mark.parametrize(
    "args, env",
    [
        (["run", "x", "--base-url", "http://[::1"], {}),
        (["run", "x", "--base-url", "http://127.0.0.1:99999"], {}),
        (["models", "--base-url", "http://user:pw@[::1/v1"], {}),
        (["run", "x", "--base-url", "http://127.0.0.1:1"], {"CEREBRAS_CUSTOM_HEADERS": "Bad Name: x"}),
        (["run", "x"], {"CEREBRAS_BASE_URL": "http://h:port"}),
        (["sim", "--port", "99999"], {}),
        (["sim", "--rate", "nan"], {}),
        (["sim", "--rate", "inf"], {}),
        (["sim", "--fault-times", "-1"], {}),
        (["sim", "--port", "eighty"], {}),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else "",
)
def test_bad_arguments_exit_2_with_one_line(args: list[str], env: dict[str, str], tmp_path: Path) -> None:
    outcome = run_cli(*args, env_extra=env, tmp=tmp_path)
    lines = outcome.stderr.strip().splitlines()
    assert outcome.code == 2 and "Traceback" not in outcome.stderr, outcome.stderr
    assert len(lines) == 1 and "pw" not in lines[0], outcome.stderr


# -- in process, over a real socket ---------------------------------------------------------------


@pytest.mark.parametrize("mode", ["keepalive", "empty-events"])
async def test_a_stream_without_progress_ends_at_the_no_progress_limit(mode: str) -> None:
    with HostileServer(mode) as server:
        endpoint = Endpoint(base_url=server.base_url)
        timeouts = Timeouts(read=0.5, progress=1.0)
        started = time.monotonic()
        async with CompletionClient(endpoint, timeouts=timeouts, max_retries=0) as client:
            with pytest.raises(errors.APITimeoutError, match="no-progress limit"):
                await client.collect(CompletionRequest(model="m", prompt="x", stream=True))
        assert time.monotonic() - started < MAX_SECONDS


async def test_a_body_sent_a_byte_at_a_time_ends_at_the_no_progress_limit() -> None:
    with HostileServer("trickle") as server:
        timeouts = Timeouts(read=1.0, progress=1.0)
        async with CompletionClient(
            Endpoint(base_url=server.base_url), timeouts=timeouts, max_retries=0
        ) as client:
            with pytest.raises(errors.APITimeoutError, match="did not finish sending"):
                await client.list_models()


async def test_retry_waits_are_announced_before_they_start() -> None:
    heard: list[tuple[int, float, str]] = []
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)

    with HostileServer("retry-inf") as server:
        async with CompletionClient(
            Endpoint(base_url=server.base_url),
            on_retry=lambda *args: heard.append(args),
            sleep=sleep,
            random=lambda: 0.0,
        ) as client:
            result = await client.collect(CompletionRequest(model="m", prompt="x", stream=True))
    assert result.text == "Hello from the hostile server."
    assert heard == [(2, 0.5, "HTTP 429 rate limit")] and waited == [0.5]
    assert retry_notice(2, 60.0, "HTTP 429 rate limit", 3) == (
        "HTTP 429 rate limit: retrying in 60 s (attempt 2 of 3)"
    )


async def test_limits_are_constructor_arguments(sim: SimServer) -> None:
    limits = Limits(choice_chars=300)
    async with CompletionClient(Endpoint(base_url=sim.base_url), limits=limits) as client:
        for stream in (True, False):
            request = CompletionRequest(
                model="llama3.1-8b", prompt="It is", max_tokens=500, min_tokens=400, stream=stream
            )
            with pytest.raises(errors.ResponseTooLargeError, match="300 characters") as raised:
                await client.collect(request)
            if stream:  # a stream keeps what arrived before the cap
                partial = raised.value.partial
                assert partial is not None and 0 < len(partial.text) <= 300


def test_limits_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="choice_chars"):
        Limits(choice_chars=0)


async def test_tokenize_uses_the_endpoints_tokenizer(sim: SimServer) -> None:
    async with CompletionClient(Endpoint(base_url=sim.base_url)) as client:
        ids = await client.tokenize("It is a truth universally acknowledged")
    assert ids == sim.tokenizer.encode("It is a truth universally acknowledged")
    assert sim.requests[-1].path == "/tokenize"


async def test_tokenize_is_none_where_there_is_no_tokenizer() -> None:
    with HostileServer("not-found") as server:
        async with CompletionClient(Endpoint(base_url=server.base_url)) as client:
            assert await client.tokenize("hello") is None
        assert len(server.requests) == 1  # not retried


# -- units: linear, bounded, never crash --------------------------------------------------------


def test_twenty_thousand_choice_indexes_accumulate_in_linear_time() -> None:
    builder = ResultBuilder(rate_limits=RateLimits(), sent_at=0.0, limits=Limits(choices=50_000))
    started = time.monotonic()
    # Out of order on purpose: the end first, then the rest.
    for index in [*range(10_000, 20_000), *range(10_000)]:
        builder.add({"choices": [{"index": index, "text": "x", "finish_reason": "stop"}]})
    result = builder.finish()
    assert time.monotonic() - started < MAX_SECONDS / 4  # was 21 s; linear takes well under 1 s
    assert [c.index for c in result.choices] == list(range(20_000))


def test_a_server_may_not_send_more_choices_than_asked_for() -> None:
    builder = ResultBuilder(rate_limits=RateLimits(), sent_at=0.0, expected_choices=2)
    builder.add({"choices": [{"index": 0, "text": "a"}, {"index": 1, "text": "b"}]})
    with pytest.raises(OutputLimitReached, match="more than 2 choices"):
        builder.add({"choices": [{"index": 7, "text": "c"}]})


@pytest.mark.parametrize(
    "body",
    ["<script" * 1_000_000, "<title" * 500_000, "<" * 2_000_000, "</" * 1_000_000,
     "<a " + "x" * 5_000_000, "<style>" + "<!--" * 500_000],
    ids=["script", "title", "lt", "close", "long-tag", "style"],
)
def test_extracting_a_message_is_linear_on_pathological_html(body: str) -> None:
    started = time.monotonic()
    for status in (200, 500):
        error = status_error(
            status, body.encode(), headers={}, endpoint=Endpoint(base_url="http://127.0.0.1:1"),
            url="http://127.0.0.1:1/v1/completions",
        )  # fmt: skip
        assert "\n" not in str(error)
    text_extract(body)
    assert time.monotonic() - started < 2.0  # was minutes; a linear pass takes milliseconds


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096) | st.text(max_size=2048).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_failure_extractor_on_arbitrary_bytes(content: bytes) -> None:
    body = read_error_body(content)
    assert body.message is None or ("\n" not in body.message and len(body.message) <= 200)
    error = status_error(
        500, content, headers={}, endpoint=Endpoint(base_url="http://127.0.0.1:1"), url="u"
    )
    assert isinstance(error, errors.InternalServerError)
    assert "\n" not in str(error) and len(str(error)) < 600


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["<", ">", "</", "script", "title", "style", "x", " ", "&amp;",
                                 "\n", "é", "<title>", "</title>", "<script>"]), max_size=300))
def test_text_extract_on_arbitrary_markup(pieces: list[str]) -> None:
    extract = text_extract("".join(pieces))
    assert "\n" not in extract and len(extract) <= 200


def test_sse_line_and_event_caps_hold_even_a_byte_at_a_time() -> None:
    decoder = SSEDecoder(max_line_bytes=100_000, max_event_bytes=10**9)
    started = time.monotonic()
    with pytest.raises(SSELimitError, match="line"):
        decoder.feed(b"data: ")
        for _ in range(200_000):
            decoder.feed(b"a")
    assert time.monotonic() - started < MAX_SECONDS / 4  # linear, not a copy per byte
    decoder = SSEDecoder(max_line_bytes=1000, max_event_bytes=10_000)
    with pytest.raises(SSELimitError, match="event"):
        decoder.feed(b"data: xxxxxxxxx\n" * 2000)


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e400", "-5", "99999999999999999999", "x" * 10_000])
def test_retry_after_values_that_are_not_a_wait_fall_back_to_backoff(value: str) -> None:
    for name in ("retry-after", "retry-after-ms"):
        delay = retry_delay(0, {name: value}, random=lambda: 0.0)
        assert delay == 0.5
        asked = retry_after_seconds({name: value})
        assert asked is None or math.isfinite(asked)


def test_garbage_rate_limit_headers_read_as_absent() -> None:
    limits = RateLimits.from_headers({name.lower(): value for name, value in INF_HEADERS})
    assert limits == RateLimits()


def test_error_messages_do_not_double_words_or_full_stops() -> None:
    endpoint = Endpoint(base_url="http://127.0.0.1:1")
    body = b'{"message": "Internal server error (simulated).", "type": "server_error"}'
    text = str(status_error(500, body, headers={}, endpoint=endpoint, url="u"))
    assert ".." not in text and "(simulated). This is usually temporary" in text
    from workbench.ui.exchange_run import error_message

    bad = status_error(400, b'{"message": "no"}', headers={}, endpoint=endpoint, url="u")
    assert error_message(bad) == "Bad request (400): no"


def test_request_validation_is_a_client_error_like_the_others() -> None:
    error = RequestValidationError([FieldError("n", "must be a whole number from 1 to 16")])
    assert isinstance(error, errors.WorkbenchAPIError) and isinstance(error, ValueError)
    assert error.message == str(error) == "n: must be a whole number from 1 to 16"


def test_numbers_a_session_file_cannot_hold_are_read_as_absent() -> None:
    import json

    chunk = json.loads(
        '{"created": Infinity, "usage": {"prompt_tokens": 1e400, "completion_tokens": '
        + str(10**30)
        + ', "total_tokens": 3}, "time_info": {"completion_time": NaN, "total_time": 0.5},'
        ' "choices": [{"index": 0, "text": "ok", "finish_reason": "stop"}]}'
    )
    builder = ResultBuilder(rate_limits=RateLimits(), sent_at=0.0)
    builder.add(chunk)
    result = builder.finish()
    assert result.created is None and result.text == "ok"
    assert result.usage is not None and result.usage.completion_tokens is None
    assert result.usage.total_tokens == 3
    assert result.time_info is not None and result.time_info.completion_time is None


@pytest.mark.parametrize("index", [10**30, -1, 2**31])
def test_an_absurd_choice_index_is_a_protocol_error(index: int) -> None:
    from workbench.api.accumulate import MalformedChunk

    builder = ResultBuilder(rate_limits=RateLimits(), sent_at=0.0)
    with pytest.raises(MalformedChunk, match="out of range"):
        builder.add({"choices": [{"index": index, "text": "x"}]})


async def test_the_simulators_tokenize_endpoint_speaks_llama_cpp(sim: SimServer) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=sim.base_url) as http:
        plain = await http.post("/tokenize", json={"content": "It is a truth"})
        pieces = await http.post("/tokenize", json={"content": "It is", "with_pieces": True})
        wrong = await http.post("/tokenize", json={"content": 5})
        method = await http.get("/tokenize")
    assert plain.json() == {"tokens": sim.tokenizer.encode("It is a truth")}
    assert "".join(p["piece"] for p in pieces.json()["tokens"]) == "It is"
    assert wrong.status_code == 400 and wrong.json()["param"] == "content"
    assert method.status_code == 405
