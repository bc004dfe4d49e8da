"""`workbench models`: the endpoint's model ids, live, one per line or as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from cli_harness import clean_env, closed_port_url, workbench

from workbench.cli import EXIT_API, EXIT_NETWORK, EXIT_OK, EXIT_USAGE, main
from workbench.sim import ThreadedSim


def _served_ids(base_url: str) -> list[str]:
    response = httpx.get(base_url + "/v1/models", timeout=10)
    return [entry["id"] for entry in response.json()["data"]]


def test_models_lists_one_id_per_line(tmp_path: Path) -> None:
    with ThreadedSim(rate=None) as sim:
        expected = _served_ids(sim.base_url)
        result = workbench("models", "--base-url", sim.base_url + "/v1", env=clean_env(tmp_path))
    assert result.returncode == EXIT_OK, result.stderr
    assert expected and result.stdout.decode().splitlines() == expected


def test_models_json_is_the_list_of_ids(tmp_path: Path, monkeypatch, capsys) -> None:
    with ThreadedSim(rate=None) as sim:
        expected = _served_ids(sim.base_url)
        code = main(["models", "--json", "--base-url", sim.base_url])
    assert code == EXIT_OK
    assert json.loads(capsys.readouterr().out) == expected


def test_models_offline_uses_the_simulator(tmp_path: Path) -> None:
    env = clean_env(tmp_path, {"CEREBRAS_BASE_URL": closed_port_url()})
    result = workbench("models", "--offline", env=env)
    assert result.returncode == EXIT_OK, result.stderr
    assert "llama3.1-8b" in result.stdout.decode().splitlines()


@pytest.mark.parametrize(
    ("environment", "args", "code", "needle"),
    [
        ({"CEREBRAS_BASE_URL": "https://api.cerebras.ai"}, [], EXIT_USAGE, "CEREBRAS_API_KEY"),
        ({"CEREBRAS_API_KEY": "x"}, ["--base-url", "@closed", "--retries", "0"], EXIT_NETWORK, ""),
        ({}, ["--base-url", "ftp://example.com"], EXIT_USAGE, "ftp://example.com"),
    ],
)
def test_models_errors(tmp_path: Path, environment, args, code, needle) -> None:
    args = [closed_port_url() if a == "@closed" else a for a in args]
    result = workbench("models", *args, env=clean_env(tmp_path, environment))
    assert result.returncode == code
    assert result.stderr.decode().startswith("workbench: ") and needle in result.stderr.decode()


def test_models_with_a_wrong_key_is_an_api_error(tmp_path: Path) -> None:
    with ThreadedSim(rate=None, api_key="right") as sim:
        result = workbench(
            "models",
            "--base-url",
            sim.base_url,
            env=clean_env(tmp_path, {"CEREBRAS_API_KEY": "no"}),
        )
    assert result.returncode == EXIT_API
    assert "401" in result.stderr.decode()
