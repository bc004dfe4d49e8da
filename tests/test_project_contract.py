"""The promises README.md makes to a newcomer, checked so they cannot silently rot."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```sh\n(.+?)\n```", text)


def test_readme_opens_with_the_two_setup_commands() -> None:
    run_app, run_tests = _readme_commands()[:2]
    assert run_app.startswith("python3 -m venv .venv") and run_app.endswith(".venv/bin/workbench")
    assert run_tests.startswith("python3 -m venv .venv") and "pytest" in run_tests


def test_ci_runs_the_readme_test_command() -> None:
    run_tests = _readme_commands()[1]
    ci_script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert run_tests in ci_script.splitlines()


def test_python_dash_m_workbench_answers_help() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "workbench", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0
    assert "Cerebras" in completed.stdout


def test_headless_layers_do_not_import_textual() -> None:
    # import-linter checks the static imports; this checks what really gets loaded at run time.
    code = (
        "import sys, workbench.api.client, workbench.sim, workbench.sessions.store, "
        "workbench.config, workbench.export; "
        "print(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert completed.stdout.strip() == "[]"
