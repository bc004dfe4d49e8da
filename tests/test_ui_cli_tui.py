"""`workbench` with no sub-command: where the TUI sends requests, decided before it starts."""

from __future__ import annotations

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
