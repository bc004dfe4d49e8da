"""`workbench completion bash|zsh|fish`: the bash script is loaded into a real bash and asked to
complete, the way bash does on TAB (COMP_WORDS / COMP_CWORD), calling the real command for the
values that change (issue 15, item 4)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import require_program
from cli_harness import TIMEOUT_S, clean_env, workbench

from workbench.sessions.model import Session
from workbench.sessions.store import SessionStore

BASH = shutil.which("bash")
pytestmark = pytest.mark.skipif(BASH is None, reason="bash is not installed")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = clean_env(tmp_path)
    # The script runs `workbench completion --values …`: the command under test must be the one
    # found on PATH.
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}"
    return environment


@pytest.fixture
def script(env: dict[str, str], tmp_path: Path) -> Path:
    result = workbench("completion", "bash", env=env)
    assert result.returncode == 0, result.stderr
    path = tmp_path / "workbench.bash"
    path.write_bytes(result.stdout)
    return path


def complete(script: Path, env: dict[str, str], line: str) -> list[str]:
    """What bash offers for ``line`` (the cursor at its end), as TAB would."""
    words = line.split(" ")
    program = f"""
        source {script} || exit 91
        COMP_WORDS=({" ".join(_bash_quote(w) for w in words)})
        COMP_CWORD={len(words) - 1}
        COMP_LINE={_bash_quote(line)}
        COMP_POINT=${{#COMP_LINE}}
        _workbench workbench {_bash_quote(words[-1])} {_bash_quote(words[-2] if len(words) > 1 else "")}
        printf '%s\\n' "${{COMPREPLY[@]}}"
    """
    done = subprocess.run(
        [BASH, "--norc", "--noprofile", "-c", program],
        capture_output=True,
        text=True,
        env=env,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return [line for line in done.stdout.splitlines() if line]


def _bash_quote(word: str) -> str:
    return "'" + word.replace("'", "'\\''") + "'"


def test_the_bash_script_loads_without_error_and_registers_both_names(script, env) -> None:
    done = subprocess.run(
        [BASH, "--norc", "--noprofile", "-c", f"source {script} && complete -p workbench cbwb"],
        capture_output=True,
        text=True,
        env=env,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert "-F _workbench workbench" in done.stdout and "-F _workbench cbwb" in done.stdout


def test_completes_sub_commands_actions_and_flags(script, env) -> None:
    assert complete(script, env, "workbench se") == ["serve", "sessions"]
    assert set(complete(script, env, "workbench ")) >= {"run", "models", "doctor", "completion"}
    assert complete(script, env, "workbench sessions s") == ["show"]
    assert "--max-tokens" in complete(script, env, "workbench run --max")
    assert complete(script, env, "workbench run --grammar-root fc") == ["fcall"]
    assert complete(script, env, "workbench completion f") == ["fish"]
    # A flag's value is not mistaken for the command's action or positional.
    assert complete(script, env, "workbench run --max-tokens 5 --te") == ["--temperature"]


def test_completes_a_session_id_for_show_replay_and_export(script, env) -> None:
    store = SessionStore(Path(env["WORKBENCH_DATA_DIR"]) / "sessions")
    first = Session.new(title="first")
    store.save(first)
    for line in (
        "workbench sessions show ",
        "workbench replay ",
        "workbench export --format json ",
    ):
        assert first.id in complete(script, env, line), line
    assert complete(script, env, f"workbench sessions show {first.id[:15]}") == [first.id]


def test_session_ids_come_from_a_sessions_dir_typed_on_the_line(script, env, tmp_path) -> None:
    elsewhere = tmp_path / "elsewhere"
    other = Session.new(title="other")
    SessionStore(elsewhere).save(other)
    line = f"workbench replay --sessions-dir {elsewhere} "
    assert complete(script, env, line) == [other.id]
    assert other.id not in complete(script, env, "workbench replay ")


def test_model_ids_come_from_the_last_models_call(script, env) -> None:
    assert complete(script, env, "workbench run --model llama3") == []  # nothing cached yet
    listed = workbench("models", "--offline", env=env)
    assert listed.returncode == 0, listed.stderr
    assert complete(script, env, "workbench run --model llama3") == ["llama3.1-8b"]
    assert "llama3.1-8b" in complete(script, env, "workbench replay x -m llama")


def test_profile_names_come_from_the_config(script, env) -> None:
    config = Path(env["WORKBENCH_CONFIG_DIR"]) / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        '[profiles.local]\nbase_url = "http://127.0.0.1:8080"\n[profiles.work]\n', "utf-8"
    )
    assert complete(script, env, "workbench run --profile lo") == ["local"]
    assert complete(script, env, "workbench --profile w") == ["work"]


def test_a_hostile_model_id_never_reaches_the_shell(script, env, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    cache = Path(env["WORKBENCH_DATA_DIR"]) / "models-cache.json"
    cache.parent.mkdir(parents=True, exist_ok=True)
    evil = [f"$(touch {marker})", f"`touch {marker}`", "a;b", "fine-model"]
    cache.write_text(json.dumps({"models": evil}), "utf-8")
    assert complete(script, env, "workbench run --model ") == ["fine-model"]
    assert not marker.exists()


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_cover_the_same_commands(env, shell: str) -> None:
    result = workbench("completion", shell, env=env)
    assert result.returncode == 0, result.stderr
    text = result.stdout.decode()
    words = {
        "zsh": ("bashcompinit", "run", "sessions", "doctor", "--max-tokens", "_workbench_values"),
        "fish": ("-a run", "-a sessions", "-a doctor", "-l max-tokens", "--values sessions"),
    }[shell]
    for word in words:
        assert word in text, word
    binary = require_program(shell)  # installed by .ci/run; skipped where it is missing
    path = Path(env["WORKBENCH_DATA_DIR"]) / f"completion.{shell}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    command = (
        [binary, "-n", str(path)] if shell == "fish" else [binary, "-f", "-c", f"source {path}"]
    )
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=TIMEOUT_S)
    assert done.returncode == 0 and not done.stderr, done.stderr
