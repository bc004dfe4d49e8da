"""The config file: read strictly, reported kindly, never fatal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.config import BINDING_IDS, DEFAULT_FIELDS, load_config

GOOD = """\
default_profile = "local"
theme = "nord"
sessions_dir = "~/sessions-here"

[profiles.local]
base_url = "http://127.0.0.1:8080"

[profiles.cerebras]
base_url = "https://api.cerebras.ai"
api_key_env = "MY_CEREBRAS_KEY"
model = "llama3.1-8b"

[defaults]
model = "qwen-3-32b"
max_tokens = 100
temperature = 1
stop = ["\\n\\n", "END"]
stream = false

[keymap]
send = "ctrl+j,f12"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_is_read_completely(tmp_path: Path) -> None:
    config, problems = load_config(write(tmp_path, GOOD))
    assert problems == []
    assert config.default_profile == "local" and config.theme == "nord"
    assert config.sessions_dir == Path("~/sessions-here").expanduser()
    assert config.profile().base_url == "http://127.0.0.1:8080"  # type: ignore[union-attr]
    cerebras = config.profile("cerebras")
    assert cerebras is not None and cerebras.model == "llama3.1-8b"
    assert cerebras.resolve_api_key({"MY_CEREBRAS_KEY": "csk-1"}) == "csk-1"
    assert cerebras.resolve_api_key({}) is None
    assert config.defaults == {
        "model": "qwen-3-32b",
        "max_tokens": 100,
        "temperature": 1.0,
        "stop": ["\n\n", "END"],
        "stream": False,
    }
    assert config.keymap == {"send": "ctrl+j,f12"}


def test_missing_default_file_is_not_a_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(tmp_path / "nowhere"))
    config, problems = load_config()
    assert problems == [] and config.profiles == {}


def test_a_missing_explicit_file_is_reported(tmp_path: Path) -> None:
    _, problems = load_config(tmp_path / "absent.toml")
    assert len(problems) == 1 and "no such config file" in problems[0]


def test_invalid_toml_names_the_line_and_falls_back(tmp_path: Path) -> None:
    config, problems = load_config(write(tmp_path, 'theme = "nord"\nmax_tokens = = 3\n'))
    assert len(problems) == 1
    assert "not valid TOML" in problems[0] and "line 2" in problems[0]
    assert config.theme is None


def test_each_bad_entry_is_one_message_with_key_line_and_suggestion(tmp_path: Path) -> None:
    text = (
        'theem = "nord"\n'  # 1
        'default_profile = "lcoal"\n'  # 2
        "[profiles.local]\n"  # 3
        'base_url = "127.0.0.1:8080"\n'  # 4
        'api_key_env = "csk-secret-value"\n'  # 5
        'modle = "x"\n'  # 6
        "[defaults]\n"  # 7
        "temprature = 0.5\n"  # 8
        "max_tokens = 0\n"  # 9
        "top_p = true\n"  # 10
        "seed = 1.5\n"  # 11
        "[keymap]\n"  # 12
        'sned = "ctrl+j"\n'  # 13
        'copy = "ctrl + y !"\n'  # 14
    )
    config, problems = load_config(write(tmp_path, text))
    by_key = {p.split(": ")[1]: p for p in problems}
    assert (
        by_key["theem"].startswith("config.toml:1:") and 'did you mean "theme"' in by_key["theem"]
    )
    assert 'did you mean "local"' in by_key["default_profile"]
    assert "config.toml:4:" in by_key["profiles.local.base_url"]
    assert "NAME of an environment variable" in by_key["profiles.local.api_key_env"]
    assert "csk-secret-value" not in " ".join(problems)  # a pasted key is never echoed
    assert 'did you mean "model"' in by_key["profiles.local.modle"]
    assert "config.toml:8:" in by_key["defaults.temprature"]
    assert 'did you mean "temperature"' in by_key["defaults.temprature"]
    assert "at least 1" in by_key["defaults.max_tokens"]
    assert "not true/false" in by_key["defaults.top_p"]
    assert "whole number" in by_key["defaults.seed"]
    assert 'did you mean "send"' in by_key["keymap.sned"]
    assert "keymap.copy" in by_key
    assert len(problems) == len(by_key) == 11
    # Everything that was fine is still used.
    # A profile with an unusable base_url is not used at all (its key must not go elsewhere).
    assert "the profile is not used" in by_key["profiles.local.base_url"]
    assert "local" not in config.profiles
    assert config.defaults == {} and config.keymap == {}


def test_request_field_at_the_top_level_points_to_defaults(tmp_path: Path) -> None:
    _, problems = load_config(write(tmp_path, "temperature = 0.3\n"))
    assert problems and 'did you mean "temperature" under [defaults]?' in problems[0]


@given(
    st.dictionaries(
        st.text(max_size=12),
        st.one_of(st.integers(), st.text(max_size=5), st.booleans(), st.floats(allow_nan=True)),
        max_size=6,
    )
)
def test_any_defaults_table_loads_without_raising(defaults: dict) -> None:
    import tempfile

    import tomli_w

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.toml"
        path.write_text(tomli_w.dumps({"defaults": defaults}), encoding="utf-8")
        config, problems = load_config(path)
    assert set(config.defaults) <= set(DEFAULT_FIELDS)
    assert len(config.defaults) + len(problems) == len(defaults)


def test_binding_ids_match_the_app() -> None:
    from workbench.ui.bindings import APP_BINDINGS

    assert sorted(b.id for b in APP_BINDINGS) == sorted(BINDING_IDS)


def test_config_path_command_prints_the_three_locations(tmp_path: Path) -> None:
    env = {
        "WORKBENCH_CONFIG_DIR": str(tmp_path / "c"),
        "WORKBENCH_DATA_DIR": str(tmp_path / "d"),
        "PATH": "/usr/bin:/bin",
    }
    completed = subprocess.run(
        [sys.executable, "-m", "workbench", "config", "path"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    out = completed.stdout
    assert f"config file:  {tmp_path / 'c' / 'config.toml'}" in out
    assert f"sessions dir: {tmp_path / 'd' / 'sessions'}" in out
    assert f"themes dir:   {tmp_path / 'c' / 'themes'}" in out


def test_config_path_takes_sessions_dir_as_the_readme_says(tmp_path: Path) -> None:
    env = {
        "WORKBENCH_CONFIG_DIR": str(tmp_path / "c"),
        "WORKBENCH_DATA_DIR": str(tmp_path / "d"),
        "PATH": "/usr/bin:/bin",
    }
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "workbench",
            "config",
            "path",
            "--sessions-dir",
            str(tmp_path / "s"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert f"sessions dir: {tmp_path / 's'}" in completed.stdout


def test_a_default_profile_with_a_bad_base_url_is_not_used(tmp_path: Path) -> None:
    config, problems = load_config(
        write(
            tmp_path,
            'default_profile = "local"\n[profiles.local]\nbase_url = "http://[::1"\n'
            'api_key_env = "LOCAL_KEY"\n',
        )
    )
    assert config.profile() is None and config.default_profile is None
    assert any('profile "local" is not used' in p for p in problems)
