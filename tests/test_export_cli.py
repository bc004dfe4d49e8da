"""`workbench export`, run as a user runs it, on sessions saved by the session store; the
exported snippet is then run against the simulator and must reproduce the saved completion."""

from __future__ import annotations

import asyncio
import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from cli_harness import clean_env, workbench
from workbench.api.client import CompletionClient
from workbench.api.endpoint import Endpoint
from workbench.api.request import CompletionRequest
from workbench.sessions.model import Exchange, Session
from workbench.sessions.store import SessionStore
from workbench.sim import ThreadedSim

SECRET = "sk-cli-export-5150"


def _save_session(
    tmp_path: Path,
    base_url: str | None,
    requests: list[CompletionRequest],
    sim: ThreadedSim | None = None,
) -> Session:
    session = Session.new(title="export me", base_url=base_url)
    for request in requests:
        result = None
        if sim is not None:

            async def run(req: CompletionRequest = request):  # noqa: B023 - bound per loop
                endpoint = Endpoint.from_env(base_url=sim.base_url, api_key=SECRET, environ={})
                async with CompletionClient(endpoint) as client:
                    return await client.complete(req)

            result = asyncio.run(run())
        session.exchanges.append(Exchange.from_outcome(request, result))
    SessionStore(tmp_path / "data" / "sessions").save(session)
    return session


def _request(prompt: str) -> CompletionRequest:
    return CompletionRequest(
        model="llama3.1-8b", prompt=prompt, max_tokens=16, seed=99, temperature=0.0
    )


def test_exports_the_last_exchange_by_default_and_any_by_number(tmp_path: Path) -> None:
    session = _save_session(tmp_path, None, [_request("first"), _request("second $HOME")])
    env = clean_env(tmp_path)
    done = workbench("export", session.id, "--format", "json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["prompt"] == "second $HOME"
    done = workbench("export", session.id, "--exchange", "1", "-f", "curl", env=env)
    words = shlex.split(done.stdout.decode())
    assert words[1] == "https://api.cerebras.ai/v1/completions"
    assert json.loads(words[words.index("--data-raw") + 1])["prompt"] == "first"


def test_a_missing_exchange_or_session_is_a_usage_error(tmp_path: Path) -> None:
    session = _save_session(tmp_path, None, [_request("only")])
    env = clean_env(tmp_path)
    done = workbench("export", session.id, "--exchange", "2", env=env)
    assert done.returncode == 2 and b"numbered 1 to 1" in done.stderr and done.stdout == b""
    done = workbench("export", "no-such-session", env=env)
    assert done.returncode == 2 and b"no session" in done.stderr


def test_output_file_is_written_once_and_never_overwritten(tmp_path: Path) -> None:
    session = _save_session(tmp_path, None, [_request("to a file")])
    env = clean_env(tmp_path)
    target = tmp_path / "request.py"
    done = workbench("export", session.id, "-f", "python", "-o", str(target), env=env)
    assert done.returncode == 0 and done.stdout == b""
    assert 'prompt="to a file"' in target.read_text(encoding="utf-8")
    done = workbench("export", session.id, "-f", "httpx", "-o", str(target), env=env)
    assert done.returncode == 2 and b"already exists" in done.stderr
    assert "from cerebras.cloud.sdk import Cerebras" in target.read_text(encoding="utf-8")


def test_exported_httpx_reproduces_the_saved_completion(tmp_path: Path) -> None:
    with ThreadedSim(rate=None, api_key=SECRET) as sim:
        session = _save_session(tmp_path, sim.base_url, [_request("Once upon a time")], sim)
        saved_text = session.exchanges[-1].output_text
        assert saved_text
        env = clean_env(tmp_path, {"CEREBRAS_API_KEY": SECRET})
        done = workbench("export", session.id, "-f", "httpx", env=env)  # the session's own server
        assert done.returncode == 0, done.stderr
        assert SECRET.encode() not in done.stdout
        ran = subprocess.run(
            [sys.executable, "-c", done.stdout.decode()],
            capture_output=True,
            env=env,
            timeout=60,
            check=False,
        )
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.decode() == saved_text + "\n"


def test_base_url_flag_wins_over_the_session_s(tmp_path: Path) -> None:
    session = _save_session(tmp_path, "http://127.0.0.1:9", [_request("x")])
    done = workbench(
        "export",
        session.id,
        "-f",
        "python",
        "--base-url",
        "http://example.test/v1",
        env=clean_env(tmp_path),
    )
    assert b'base_url="http://example.test"' in done.stdout


@pytest.mark.parametrize("fmt", ["curl", "python", "httpx", "json"])
def test_every_format_is_offered(fmt: str, tmp_path: Path) -> None:
    session = _save_session(tmp_path, None, [_request("x")])
    assert workbench("export", session.id, "-f", fmt, env=clean_env(tmp_path)).returncode == 0
