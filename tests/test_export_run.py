"""The exported snippets are real programs: each one is run — curl in a shell, the Python ones
with this interpreter — against the loopback simulator, and must print the same completion the
workbench's own client gets for the same request. The simulator demands an API key, so a
snippet that did not read CEREBRAS_API_KEY from the environment would fail; and the key never
appears in a snippet."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from collections.abc import Iterator

import pytest

from conftest import require_program

from workbench.api.client import CompletionClient
from workbench.api.endpoint import Endpoint
from workbench.api.request import CompletionRequest
from workbench.export import EXPORT_FORMATS, render_export
from workbench.sim import ThreadedSim

SECRET = "sk-export-test-7d1f0c"
MODEL = "llama3.1-8b"
# Quotes, a newline, a shell variable, backticks, a backslash and non-ASCII: everything a
# careless snippet would mangle or execute.
NASTY_PROMPT = "It's a \"dark\" night;\n$HOME `whoami` \\ $(echo pwned) 'é' — ok"


@pytest.fixture(scope="module")
def sim() -> Iterator[ThreadedSim]:
    with ThreadedSim(rate=None, api_key=SECRET) as server:
        yield server


def _request(**fields: object) -> CompletionRequest:
    base = {
        "model": MODEL,
        "prompt": NASTY_PROMPT,
        "max_tokens": 24,
        "seed": 1234,
        "temperature": 0.0,
    }
    base.update(fields)
    return CompletionRequest(**base)  # type: ignore[arg-type]


def _client_text(sim: ThreadedSim, request: CompletionRequest) -> list[str]:
    async def run() -> list[str]:
        async with CompletionClient(
            Endpoint.from_env(base_url=sim.base_url, api_key=SECRET, environ={})
        ) as client:
            if request.stream:
                final = None
                async for event in client.stream(request):
                    final = getattr(event, "result", final)
                assert final is not None
                return [choice.text for choice in final.choices]
            result = await client.complete(request)
            return [choice.text for choice in result.choices]

    return asyncio.run(run())


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CEREBRAS_")}
    env.update(CEREBRAS_API_KEY=SECRET, **extra)
    return env


def _run_python(snippet: str, tmp_path: Path, env: dict[str, str]) -> str:
    script = tmp_path / "snippet.py"
    script.write_text(snippet, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _run_curl(snippet: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        ["sh", "-c", snippet.rstrip("\n") + " --silent --show-error --fail"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _multi_choice_output(texts: list[str]) -> str:
    return "".join(f"--- choice {index} ---\n{text}\n" for index, text in enumerate(texts))


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
@pytest.mark.parametrize("stream", [False, True])
def test_no_snippet_contains_the_key(fmt: str, stream: bool, sim: ThreadedSim) -> None:
    for base_url in (None, sim.base_url):
        snippet = render_export(_request(stream=stream), fmt, base_url)
        assert SECRET not in snippet


def test_curl_snippet_returns_the_client_s_completion(sim: ThreadedSim) -> None:
    require_program("curl")  # installed by .ci/run
    request = _request()
    expected = _client_text(sim, request)
    output = _run_curl(render_export(request, "curl", sim.base_url), _env())
    assert [choice["text"] for choice in json.loads(output)["choices"]] == expected
    # the shell passed the prompt through untouched: no $HOME expansion, no command run
    assert sim.requests[-1].body["prompt"] == NASTY_PROMPT


def test_streaming_curl_snippet_prints_the_server_sent_events(sim: ThreadedSim) -> None:
    require_program("curl")  # installed by .ci/run
    request = _request(stream=True)
    expected = _client_text(sim, request)
    output = _run_curl(render_export(request, "curl", sim.base_url), _env())
    events = [
        line.removeprefix("data:").strip()
        for line in output.splitlines()
        if line.startswith("data:")
    ]
    assert events[-1] == "[DONE]"
    text = "".join(c.get("text") or "" for e in events[:-1] for c in json.loads(e)["choices"])
    assert [text] == expected


def test_sdk_snippet_with_cerebras_base_url_from_the_environment(
    sim: ThreadedSim, tmp_path: Path
) -> None:
    # Exported for Cerebras, pointed at the sim the way a user would: CEREBRAS_BASE_URL.
    request = _request()
    snippet = render_export(request, "python", None)
    assert "base_url" not in snippet
    output = _run_python(snippet, tmp_path, _env(CEREBRAS_BASE_URL=sim.base_url))
    assert output == _client_text(sim, request)[0] + "\n"
    assert sim.requests[-1].headers["authorization"] == f"Bearer {SECRET}"


def test_sdk_snippet_with_its_own_base_url(sim: ThreadedSim, tmp_path: Path) -> None:
    request = _request(stop=["\n\n"], top_p=0.9, extra={"best_of": 1})
    snippet = render_export(request, "python", sim.base_url + "/v1")
    assert f'base_url="{sim.base_url}"' in snippet
    output = _run_python(snippet, tmp_path, _env())
    assert output == _client_text(sim, request)[0] + "\n"
    assert sim.requests[-1].body.get("best_of") == 1


def test_sdk_snippet_streams_several_prompts(sim: ThreadedSim, tmp_path: Path) -> None:
    request = _request(prompt=["Once upon a time", NASTY_PROMPT], stream=True)
    output = _run_python(render_export(request, "python", sim.base_url), tmp_path, _env())
    assert output == _multi_choice_output(_client_text(sim, request))


@pytest.mark.parametrize("stream", [False, True])
def test_httpx_snippet_returns_the_client_s_completion(
    stream: bool, sim: ThreadedSim, tmp_path: Path
) -> None:
    request = _request(stream=stream)
    output = _run_python(render_export(request, "httpx", sim.base_url), tmp_path, _env())
    assert output == _client_text(sim, request)[0] + "\n"


def test_httpx_snippet_with_several_prompts(sim: ThreadedSim, tmp_path: Path) -> None:
    request = _request(prompt=["Once upon a time", "The end"])
    output = _run_python(render_export(request, "httpx", sim.base_url), tmp_path, _env())
    assert output == _multi_choice_output(_client_text(sim, request))


def test_json_export_is_the_body_the_client_sends(sim: ThreadedSim) -> None:
    request = _request(extra={"best_of": 1})
    _client_text(sim, request)
    sent = dict(sim.requests[-1].body)
    sent.pop("stream", None)  # complete() says stream=false; the request itself leaves it unset
    assert json.loads(render_export(request, "json")) == sent


@pytest.mark.parametrize("fmt", ["python", "httpx"])
def test_raw_token_snippets_print_the_token_ids(fmt: str, sim: ThreadedSim, tmp_path: Path) -> None:
    request = _request(return_raw_tokens=True)

    async def tokens() -> list[int] | None:
        endpoint = Endpoint.from_env(base_url=sim.base_url, api_key=SECRET, environ={})
        async with CompletionClient(endpoint) as client:
            return (await client.complete(request)).choices[0].tokens

    expected = asyncio.run(tokens())
    assert expected
    output = _run_python(render_export(request, fmt, sim.base_url), tmp_path, _env())
    assert output == f"{expected}\n"
