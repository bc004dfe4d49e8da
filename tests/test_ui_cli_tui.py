"""`workbench` with no sub-command: where the TUI sends requests, decided before it starts."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from workbench.cli import build_parser
from workbench.cli.tui import choose_target
from workbench.config import load_config


def parse(*argv: str):  # -> argparse.Namespace
    return build_parser().parse_args(["tui", *argv])


def config_with(tmp_path: Path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    config, problems = load_config(path)
    assert problems == []
    return config


def test_no_key_and_no_base_url_means_the_offline_simulator(tmp_path: Path) -> None:
    target = choose_target(parse(), config_with(tmp_path, ""), environ={})
    assert target.offline and target.endpoint is None and target.notices == ()


def test_a_key_in_the_environment_means_the_real_api(tmp_path: Path) -> None:
    target = choose_target(parse(), config_with(tmp_path, ""), {"CEREBRAS_API_KEY": "csk-x"})
    assert not target.offline
    assert target.endpoint.is_cerebras and target.endpoint.api_key == "csk-x"


def test_base_url_flag_wins_and_needs_no_key_for_other_hosts(tmp_path: Path) -> None:
    target = choose_target(
        parse("--base-url", "http://127.0.0.1:9/v1"), config_with(tmp_path, ""), environ={}
    )
    assert not target.offline and target.endpoint.base_url == "http://127.0.0.1:9"


def test_offline_flag_wins_over_everything(tmp_path: Path) -> None:
    target = choose_target(parse("--offline"), config_with(tmp_path, ""), {"CEREBRAS_API_KEY": "k"})
    assert target.offline


def test_profile_reads_its_key_from_the_named_variable(tmp_path: Path) -> None:
    config = config_with(
        tmp_path,
        '[profiles.work]\nbase_url = "https://api.cerebras.ai"\napi_key_env = "WORK_KEY"\n',
    )
    target = choose_target(parse("--profile", "work"), config, {"WORK_KEY": "csk-work"})
    assert target.profile == "work" and target.endpoint.api_key == "csk-work"


def test_cerebras_profile_without_its_key_falls_back_offline_and_says_why(tmp_path: Path) -> None:
    config = config_with(
        tmp_path,
        'default_profile = "work"\n[profiles.work]\napi_key_env = "WORK_KEY"\n',
    )
    target = choose_target(parse(), config, environ={})
    assert target.offline
    assert "CEREBRAS_API_KEY" in target.notices[0] and "offline simulator" in target.notices[0]


def test_tui_flags_parse(tmp_path: Path) -> None:
    args = parse("--model", "m", "--config", "c.toml", "--sessions-dir", "s", "--ssh")
    assert (args.model, args.config, args.sessions_dir, args.ssh) == ("m", "c.toml", "s", True)


def test_unknown_profile_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from workbench.cli.tui import run

    path = tmp_path / "config.toml"
    path.write_text('[profiles.local]\nbase_url = "http://127.0.0.1:1"\n', encoding="utf-8")
    assert run(parse("--config", str(path), "--profile", "locl"), environ={}) == 2
    assert 'did you mean "local"' in capsys.readouterr().err


def test_workbench_with_no_arguments_opens_the_tui_on_the_offline_simulator(
    tmp_path: Path,
) -> None:
    """The real entry point on a real pseudo-terminal: badge, a streamed exchange, autosave."""

    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "TERM": "xterm-256color",
        "WORKBENCH_CONFIG_DIR": str(tmp_path / "config"),
        "WORKBENCH_DATA_DIR": str(tmp_path / "data"),
    }
    controller, terminal = pty.openpty()

    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "workbench"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
        start_new_session=True,
    )
    os.close(terminal)
    screen = bytearray()

    def read_until(marker: bytes, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while marker not in screen:
            assert time.monotonic() < deadline, f"{marker!r} never appeared"
            ready, _, _ = select.select([controller], [], [], 0.5)
            if ready:
                try:
                    screen.extend(os.read(controller, 65536))
                except OSError:
                    raise AssertionError(f"the app exited before {marker!r} appeared") from None

    try:
        read_until(b"OFFLINE SIMULATOR")
        read_until(b"CEREBRAS_API_KEY=")
        os.write(controller, b"Hello from a terminal")
        read_until(b"Hello from a terminal")
        os.write(controller, b"\n")  # ctrl+j
        read_until(b"TTFT")
        os.write(controller, b"\x11")  # ctrl+q
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(controller)
    saved = list((tmp_path / "data" / "sessions").glob("*.toml"))
    assert len(saved) == 1 and "Hello from a terminal" in saved[0].read_text("utf-8")


@pytest.mark.parametrize(
    ("argv", "environ", "ssh"),
    [
        ((), {}, False),
        (("--ssh",), {}, True),
        ((), {"SSH_CONNECTION": "10.0.0.1 5000 10.0.0.2 22"}, True),
    ],
)
def test_ssh_mode_from_the_flag_or_the_environment(
    tmp_path: Path, argv: tuple[str, ...], environ: dict[str, str], ssh: bool
) -> None:
    from workbench.api.endpoint import Endpoint
    from workbench.cli.tui import Target, build_app

    endpoint = Endpoint.from_env(base_url="http://127.0.0.1:9", environ={})
    config = config_with(tmp_path, "")
    app = build_app(parse(*argv), environ, Target(endpoint, False, None), endpoint, config, [])
    assert app.ssh is ssh
    assert (app.animation_level == "none") is ssh
    assert app.flush_hz == (15.0 if ssh else 20.0)


# -- how the TUI ends: never 0 after a crash, nothing unsaved left unsaid (issue 8, item 8) ------


async def test_a_crash_exits_70_and_says_where_the_session_is(
    sim, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ui_helpers import make_app, send, wait_finished

    from workbench.cli import EXIT_INTERNAL
    from workbench.cli.tui import exit_status

    app = make_app(sim.base_url, sessions_dir=tmp_path / "sessions")

    def boom() -> None:
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError, match="a bug"):
        async with app.run_test() as pilot:
            await send(pilot, "Before the crash")
            await wait_finished(pilot)
            app.call_later(boom)
            await pilot.pause()
    assert exit_status(app) == EXIT_INTERNAL
    (saved,) = (tmp_path / "sessions").glob("*.toml")
    # Textual prints the traceback; our line comes last, where the user looks.
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("workbench: the app stopped on an unexpected error")
    assert last.endswith(f"this session is saved in {saved}")


async def test_a_failed_autosave_is_rescued_and_reported_on_quit(
    sim, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ui_helpers import make_app, send, wait_finished

    from workbench.cli import EXIT_FILES
    from workbench.cli.tui import exit_status
    from workbench.sessions.codec import decode

    not_a_folder = tmp_path / "sessions"
    not_a_folder.write_text("a file where the sessions folder should be", encoding="utf-8")
    app = make_app(sim.base_url, sessions_dir=not_a_folder)
    async with app.run_test() as pilot:
        await send(pilot, "Keep me")
        await wait_finished(pilot)
    assert exit_status(app) == EXIT_FILES
    err = capsys.readouterr().err.strip()
    assert err.startswith("workbench: autosave failed") and "\n" not in err
    rescue = Path(err.split(" is in ")[1].split(" (")[0])
    try:
        session = decode(rescue.read_bytes())
        assert session.exchanges[0].request.prompt == "Keep me"
        assert rescue.stat().st_mode & 0o777 == 0o600
    finally:
        rescue.unlink()


async def test_a_clean_quit_exits_0(sim, tmp_path: Path) -> None:
    from ui_helpers import make_app, send, wait_finished

    from workbench.cli.tui import exit_status

    app = make_app(sim.base_url, sessions_dir=tmp_path / "sessions")
    async with app.run_test() as pilot:
        await send(pilot, "Fine")
        await wait_finished(pilot)
    assert exit_status(app) == 0


@pytest.mark.parametrize(
    ("argv", "config_text", "expected"),
    [
        ((), "", "llama3.1-8b"),
        ((), '[defaults]\nmodel = "from-defaults"\n', "from-defaults"),
        (
            ("--profile", "p"),
            '[defaults]\nmodel = "from-defaults"\n[profiles.p]\nbase_url = "http://127.0.0.1:9"\n'
            'model = "from-profile"\n',
            "from-profile",
        ),
        (("--model", "from-flag"), '[defaults]\nmodel = "from-defaults"\n', "from-flag"),
    ],
)
def test_one_default_model_rule(tmp_path: Path, argv, config_text: str, expected: str) -> None:
    """The TUI starts with the model `run` would send: flag > profile > [defaults] > built-in."""
    from workbench.cli.run import build_request
    from workbench.cli.tui import starting_model

    config = config_with(tmp_path, config_text)
    target = choose_target(parse(*argv), config, environ={})
    assert starting_model(parse(*argv), config, target) == expected
    run_args = build_parser().parse_args(
        ["run", "--config", str(tmp_path / "config.toml"), *argv, "hi"]
    )
    assert build_request(run_args, None).model == expected
