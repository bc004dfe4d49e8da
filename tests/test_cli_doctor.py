"""`workbench doctor` end to end: the real command in a subprocess against the simulator, a dead
port, a server that refuses the key, and fake tmux/screen environments (issue 15, item 3)."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_harness import clean_env, closed_port_url, workbench

from workbench.sim import ThreadedSim

SECRET = "csk-doctor-SECRET-4711"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = clean_env(tmp_path, {"TERM": "xterm-256color", "LANG": "C.UTF-8"})
    for name in (
        "TMUX",
        "STY",
        "SSH_CONNECTION",
        "SSH_TTY",
        "SSH_CLIENT",
        "LC_ALL",
        "LC_CTYPE",
        "TERM_PROGRAM",
        "VTE_VERSION",
        "KITTY_WINDOW_ID",
        "WT_SESSION",
        "COLORTERM",
    ):
        environment.pop(name, None)
    return environment


@pytest.fixture
def sim() -> Iterator[ThreadedSim]:
    with ThreadedSim(rate=None, api_key=SECRET) as server:
        yield server


def doctor(env: dict[str, str], *args: str) -> tuple[int, dict, str]:
    """(exit code, the --json report, the human report) for the same arguments."""
    as_json = workbench("doctor", "--json", *args, env=env)
    human = workbench("doctor", *args, env=env)
    assert as_json.returncode == human.returncode
    for result in (as_json, human):
        assert b"Traceback" not in result.stderr and SECRET.encode() not in result.stdout
    return as_json.returncode, json.loads(as_json.stdout), human.stdout.decode()


def find(report: dict, area: str, needle: str) -> dict:
    matches = [c for c in report["checks"] if c["area"] == area and needle in c["detail"]]
    assert matches, (area, needle, report["checks"])
    return matches[0]


def test_against_the_sim_with_the_right_key_all_is_well(env, sim) -> None:
    env["CEREBRAS_API_KEY"] = SECRET
    code, report, human = doctor(env, "--base-url", sim.base_url)
    assert code == 0 and report["problems"] == 0
    api = find(report, "api", "/v1/models answered in")
    assert api["status"] == "ok" and api["detail"].endswith("models")
    key = find(report, "key", "will be sent to 127.0.0.1")
    assert f"{len(SECRET)} characters" in key["detail"]
    assert find(report, "rate limits", "x-ratelimit")["status"] in ("ok", "skipped")
    assert "0 problems" in human or "everything looks fine" in human
    # The model list is kept for shell completion.
    cached = workbench("completion", "--values", "models", env=env).stdout.decode().split()
    assert "llama3.1-8b" in cached


def test_a_refused_key_is_a_problem_with_a_fix(env, sim) -> None:
    env["CEREBRAS_API_KEY"] = "csk-wrong-key"
    code, report, human = doctor(env, "--base-url", sim.base_url)
    assert code == 1
    check = find(report, "api", "the key was refused: HTTP 401")
    assert check["status"] == "problem" and "cloud.cerebras.ai" in check["fix"]
    assert "csk-wrong-key" not in human
    assert "fix: check the key" in human


def test_a_dead_port_is_a_problem_with_a_fix(env) -> None:
    code, report, _human = doctor(env, "--base-url", closed_port_url())
    assert code == 1
    check = find(report, "api", "cannot reach 127.0.0.1")
    assert check["status"] == "problem" and check["fix"]


def test_offline_skips_the_network_and_says_so(env) -> None:
    code, report, human = doctor(env, "--offline")
    assert code == 0
    assert find(report, "api", "not called")["status"] == "skipped"
    assert "skipped  offline: /v1/models not called" in human


def test_cerebras_without_a_key_is_a_problem(env) -> None:
    env["CEREBRAS_BASE_URL"] = "https://api.cerebras.ai"
    code, report, _human = doctor(env)
    assert code == 1
    check = find(report, "key", "No API key for api.cerebras.ai")
    assert check["status"] == "problem" and "CEREBRAS_API_KEY" in check["fix"]


def fake_tmux(tmp_path: Path, env: dict[str, str], set_clipboard: str) -> None:
    """A `tmux` on PATH that answers `show-options -gv set-clipboard` as a real one would."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    tmux = bin_dir / "tmux"
    tmux.write_text(
        '#!/bin/sh\n[ "$1 $2 $3" = "show-options -gv set-clipboard" ] && '
        f"echo {set_clipboard} && exit 0\nexit 1\n",
        encoding="utf-8",
    )
    tmux.chmod(0o755)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["TMUX"] = "/tmp/tmux-1000/default,1234,0"
    env["TERM"] = "tmux-256color"


@pytest.mark.parametrize(
    ("setting", "status"), [("off", "warning"), ("on", "ok"), ("external", "ok")]
)
def test_tmux_set_clipboard_decides_whether_copy_works(env, tmp_path, setting, status) -> None:
    fake_tmux(tmp_path, env, setting)
    _code, report, _human = doctor(env, "--offline")
    check = find(report, "terminal", f"set-clipboard {setting}")
    assert check["status"] == status
    if status == "warning":
        assert "set -g set-clipboard on" in check["fix"]


def test_screen_and_ssh_are_detected(env) -> None:
    env.update(
        {"STY": "1234.pts-0.host", "TERM": "screen", "SSH_CONNECTION": "10.0.0.1 5 10.0.0.2 22"}
    )
    _code, report, _human = doctor(env, "--offline")
    assert find(report, "terminal", "GNU screen")["status"] == "warning"
    assert find(report, "terminal", "SSH session")["status"] == "ok"


def test_a_non_utf8_locale_and_a_dumb_terminal_are_warnings(env) -> None:
    env.update({"LC_ALL": "C", "TERM": "dumb"})
    code, report, _human = doctor(env, "--offline")
    assert code == 0  # warnings do not fail the command
    assert find(report, "terminal", "locale is not UTF-8")["fix"].startswith("export LANG=")
    assert find(report, "terminal", "TERM is dumb")["status"] == "warning"


def test_the_sessions_folder_permissions_and_unreadable_files(env) -> None:
    folder = Path(env["WORKBENCH_DATA_DIR"]) / "sessions"
    folder.mkdir(parents=True)
    folder.chmod(0o755)
    (folder / "20260101-000000-000-abcdef--broken.toml").write_text("prompt = 5\n[[[", "utf-8")
    code, report, _human = doctor(env, "--offline")
    assert code == 0
    assert find(report, "sessions", "others can read it")["fix"] == f"chmod 700 {folder}"
    assert find(report, "sessions", "1 unreadable")["status"] == "warning"
    assert find(report, "sessions", "free")["status"] in ("ok", "warning")


def test_a_sessions_path_that_is_a_file_is_a_problem(env, tmp_path) -> None:
    not_a_folder = tmp_path / "sessions-file"
    not_a_folder.write_text("", "utf-8")
    code, report, _human = doctor(env, "--offline", "--sessions-dir", str(not_a_folder))
    assert code == 1
    assert find(report, "sessions", "is not a folder")["status"] == "problem"


def test_a_broken_config_is_a_problem(env) -> None:
    config = Path(env["WORKBENCH_CONFIG_DIR"]) / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("theme = [\n", "utf-8")
    code, report, _human = doctor(env, "--offline")
    assert code == 1
    assert find(report, "config", "not valid TOML")["status"] == "problem"


def test_a_config_warning_names_the_line(env) -> None:
    config = Path(env["WORKBENCH_CONFIG_DIR"]) / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[keymap]\nsend = "-"\n', "utf-8")
    code, report, _human = doctor(env, "--offline")
    assert code == 0
    assert find(report, "config", "config.toml:2: keymap.send")["status"] == "warning"
    assert stat.S_ISREG(config.stat().st_mode)  # doctor never edits it
