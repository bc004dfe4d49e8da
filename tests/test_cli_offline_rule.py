"""One rule for the CLI and the TUI (issue 9, item 16): with no key and no base URL both answer
from the offline simulator, and a session recorded offline replays offline with nothing set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cli_harness import clean_env, workbench
from ui_helpers import make_app, send, wait_finished

from workbench.cli import EXIT_OK


async def test_a_session_recorded_offline_replays_with_nothing_configured(
    sim: Any, tmp_path: Path
) -> None:
    sessions = tmp_path / "data" / "sessions"
    app = make_app(sim.base_url, offline=True, sessions_dir=sessions)
    async with app.run_test() as pilot:
        await send(pilot, "Recorded offline")
        await wait_finished(pilot)
    (saved,) = sessions.glob("*.toml")
    assert 'profile = "offline simulator"' in saved.read_text("utf-8")

    result = workbench("replay", str(saved), env=clean_env(tmp_path))
    assert result.returncode == EXIT_OK, result.stderr
    stderr = result.stderr.decode()
    assert stderr.startswith("workbench: no API key and no base URL configured")
    assert "exchange 1 of 1" in stderr


def test_models_with_nothing_configured_lists_the_simulator_models(tmp_path: Path) -> None:
    result = workbench("models", env=clean_env(tmp_path))
    assert result.returncode == EXIT_OK, result.stderr
    assert "llama3.1-8b" in result.stdout.decode().split()
    assert "offline simulator" in result.stderr.decode()
