"""A compare group exported as one snippet is a real program: the Python ones are run against
the loopback simulator (which demands the key from the environment) and must print every
lane's text as the workbench's own client gets it; curl's script is one block per lane; the
key is never written."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import require_program

from workbench.api.client import CompletionClient
from workbench.api.endpoint import Endpoint
from workbench.api.request import CompletionRequest
from workbench.compare.export import render_group
from workbench.compare.variants import lane_requests, parse_variant
from workbench.export import EXPORT_FORMATS
from workbench.sim import ThreadedSim

SECRET = "sk-compare-export-31c"
BASE = CompletionRequest(
    model="llama3.1-8b", prompt="It's a \"dark\" night; $HOME `whoami` 'é'", max_tokens=16, seed=5
)
VARIANTS = [
    parse_variant("stream=true"),
    parse_variant("model=qwen-3-32b,temperature=0.3,stream=false"),
    parse_variant("stream=true,stop=[\"\\n\\n\",\"END\"],user=u-1"),
]
LABELS = ["lane 1 · stream", "lane 2 · qwen", "lane 3 · stops"]


@pytest.fixture(scope="module")
def sim() -> Iterator[ThreadedSim]:
    with ThreadedSim(rate=None, api_key=SECRET) as server:
        yield server


def _expected(sim: ThreadedSim, requests: list[CompletionRequest]) -> list[str]:
    async def run() -> list[str]:
        endpoint = Endpoint.from_env(base_url=sim.base_url, api_key=SECRET, environ={})
        async with CompletionClient(endpoint) as client:
            return [(await client.collect(r)).text for r in requests]

    return asyncio.run(run())


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CEREBRAS_")}
    env["CEREBRAS_API_KEY"] = SECRET
    return env


@pytest.mark.parametrize("fmt", ["python", "httpx"])
def test_python_snippets_send_every_lane(fmt: str, sim: ThreadedSim, tmp_path: Path) -> None:
    if fmt == "python":
        pytest.importorskip("cerebras.cloud.sdk")
    requests = lane_requests(BASE, VARIANTS)
    snippet = render_group(requests, fmt, sim.base_url, LABELS)
    script = tmp_path / "group.py"
    script.write_text(snippet, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=_env(), timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    expected = "".join(f"=== {label} ===\n{text}\n" for label, text in zip(LABELS, _expected(sim, requests)))
    assert done.stdout == expected


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_no_group_snippet_contains_the_key(fmt: str) -> None:
    snippet = render_group(lane_requests(BASE, VARIANTS), fmt, None, LABELS)
    assert SECRET not in snippet and "sk-" not in snippet


def test_json_is_every_body_as_sent() -> None:
    requests = lane_requests(BASE, VARIANTS)
    items = json.loads(render_group(requests, "json"))
    assert [item["body"] for item in items] == [r.to_body() for r in requests]
    assert [item["label"] for item in items] == ["lane 1", "lane 2", "lane 3"]


def test_curl_script_runs_one_request_per_lane(sim: ThreadedSim) -> None:
    require_program("curl")  # installed by .ci/run
    requests = lane_requests(BASE, VARIANTS)
    before = len(sim.requests)
    done = subprocess.run(
        ["sh", "-c", render_group(requests, "curl", sim.base_url, LABELS)],
        capture_output=True, text=True, env=_env(), timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stdout.splitlines() if line.startswith("===")] == [
        f"=== {label} ===" for label in LABELS
    ]
    bodies = [r.body for r in sim.requests[before:]]
    assert bodies == [r.to_body() for r in requests]


def test_workbench_export_of_a_compare_lane_writes_the_whole_group(sim: ThreadedSim, tmp_path: Path) -> None:
    from cli_harness import clean_env, workbench

    env = clean_env(tmp_path)
    sessions = tmp_path / "sessions"
    saved = workbench(
        "compare", "--offline", "hello", "--lane", "seed=1", "--lane", "model=qwen-3-32b,seed=2",
        "--max-tokens", "5", "--save", "--sessions-dir", str(sessions), env=env,
    )  # fmt: skip
    assert saved.returncode == 0, saved.stderr
    path = saved.stderr.decode().strip().rsplit(" as ", 1)[1]
    done = workbench("export", path, "--exchange", "1", "--format", "json", "--sessions-dir", str(sessions), env=env)
    assert done.returncode == 0, done.stderr
    items = json.loads(done.stdout)
    assert [item["body"]["seed"] for item in items] == [1, 2]
    assert [item["label"] for item in items] == ["lane 1 · seed=1", "lane 2 · model=qwen-3-32b,seed=2"]
