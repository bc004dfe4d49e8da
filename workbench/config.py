"""The user's settings: one TOML file, read strictly but forgivingly (no Textual here).

``load_config`` never raises on bad content. Every problem becomes one message that names the
key (and its line when we can find it) and suggests the nearest valid key, and the offending
entry is dropped so the app still starts with defaults. The TUI shows the messages as a
notification; ``workbench config path`` tells people where the file lives.

Example::

    default_profile = "cerebras"
    theme = "workbench-dark"
    sessions_dir = "~/work/sessions"

    [profiles.cerebras]
    base_url = "https://api.cerebras.ai"
    api_key_env = "CEREBRAS_API_KEY"      # the NAME of the variable holding the key

    [profiles.local]
    base_url = "http://127.0.0.1:8080"

    [defaults]                            # request fields the sidebar starts with
    model = "llama3.1-8b"
    max_tokens = 256
    temperature = 0.7

    [keymap]                              # binding id = keys (comma-separated for several)
    send = "ctrl+j"
"""

from __future__ import annotations

import difflib
import os
import re
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from workbench import paths
from workbench.api.endpoint import normalise_base_url
from workbench.api.errors import InvalidBaseURLError
from workbench.api.fields import FIELD_BY_NAME, FIELDS, FieldValueError, check_value
from workbench.api.request import CompletionRequest
from workbench.keymap import BINDING_IDS, check_keymap

__all__ = ["BINDING_IDS", "DEFAULT_FIELDS", "Config", "ConfigProblem", "Profile", "load_config"]

TOP_LEVEL_KEYS = ("default_profile", "theme", "sessions_dir", "profiles", "defaults", "keymap")
PROFILE_KEYS = ("base_url", "api_key_env", "api_key", "model", "allow_insecure")
# Request fields that make sense as defaults (everything but the prompt), from the registry.
DEFAULT_FIELDS: dict[str, tuple[type, ...]] = {
    spec.name: spec.python_types() for spec in FIELDS if spec.config_default
}
# The model every command and the TUI start with when neither a flag, the profile nor
# [defaults] names one (README "Configuration").
DEFAULT_MODEL: str = FIELD_BY_NAME["model"].default or "llama3.1-8b"
# A config file is a few hundred bytes; anything past this is not one (and tomllib would hold
# all of it, and its nesting, in memory).
MAX_CONFIG_BYTES = 1_000_000


@dataclass(frozen=True, slots=True)
class Profile:
    """A named endpoint. ``api_key_env`` names the variable holding the key, never the key."""

    name: str
    base_url: str | None = None
    api_key_env: str | None = None
    api_key: str | None = None
    model: str | None = None
    # Lets this profile's key travel over plain http:// to another machine (see
    # workbench.api.endpoint.Endpoint: otherwise such a key is withheld).
    allow_insecure: bool = False

    def resolve_api_key(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The key itself: from the named variable, else the literal ``api_key`` entry."""
        env = os.environ if environ is None else environ
        if self.api_key_env and env.get(self.api_key_env):
            return env[self.api_key_env]
        return self.api_key


@dataclass(slots=True)
class Config:
    """Everything the config file can set; every field has a usable default."""

    path: Path | None = None
    default_profile: str | None = None
    theme: str | None = None
    sessions_dir: Path | None = None
    profiles: dict[str, Profile] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    keymap: dict[str, str] = field(default_factory=dict)

    def profile(self, name: str | None = None) -> Profile | None:
        """The named profile, or the default one; None when there is none."""
        wanted = name or self.default_profile
        return self.profiles.get(wanted) if wanted else None


class ConfigProblem(str):
    """One human-readable problem with the config file (a ``str`` so it prints as itself)."""


def _suggest(word: str, valid: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, list(valid), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


class _Reporter:
    """Collects problems and finds the line of a key so each message points at it."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.problems: list[ConfigProblem] = []
        self.unusable_profiles: list[str] = []

    def line_of(self, table: str, key: str) -> int | None:
        current = ""
        key_pattern = re.compile(rf'^\s*("?){re.escape(key)}\1\s*=')
        header_pattern = re.compile(r"^\s*\[+\s*([^\]]+?)\s*\]+")
        for number, line in enumerate(self.lines, start=1):
            header = header_pattern.match(line)
            if header:
                current = header.group(1).replace('"', "").replace(" ", "")
                if not table and key and current == key:
                    return number
                continue
            if current == table and key_pattern.match(line):
                return number
        return None

    def add(self, table: str, key: str, message: str) -> None:
        dotted = f"{table}.{key}" if table else key
        line = self.line_of(table, key)
        where = f"{self.path.name}:{line}" if line else self.path.name
        self.problems.append(ConfigProblem(f"{where}: {dotted}: {message}"))


def load_config(path: Path | str | None = None) -> tuple[Config, list[ConfigProblem]]:
    """Read the config file (default: ``paths.config_file()``); never raises on bad content.

    A missing file is not a problem: it just means defaults. Each problem names the key and
    line; the bad entry is dropped and everything else is kept.
    """
    file = Path(path) if path is not None else paths.config_file()
    config = Config(path=file)
    try:
        text = _read_bounded(file)
    except FileNotFoundError:
        if path is not None:
            return config, [ConfigProblem(f"{file}: no such config file; using defaults")]
        return config, []
    except (OSError, UnicodeDecodeError) as error:
        return config, [
            ConfigProblem(f"{file}: cannot read the config file ({error}); using defaults")
        ]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        return config, [ConfigProblem(f"{file.name}: not valid TOML: {error}; using defaults")]
    except RecursionError:
        return config, [ConfigProblem(f"{file.name}: nested too deeply to read; using defaults")]

    report = _Reporter(file, text)
    for key, value in data.items():
        if key not in TOP_LEVEL_KEYS:
            hint = _suggest(key, TOP_LEVEL_KEYS)
            if not hint and _suggest(key, tuple(DEFAULT_FIELDS)):
                # A request field at the top: it belongs in the [defaults] table.
                field_name = _suggest(key, tuple(DEFAULT_FIELDS)).split('"')[1]
                hint = f' (did you mean "{field_name}" under [defaults]?)'
            report.add("", key, "unknown setting" + hint)
            continue
        if key in ("default_profile", "theme"):
            if isinstance(value, str) and value:
                setattr(config, key, value)
            else:
                report.add("", key, "must be a non-empty string")
        elif key == "sessions_dir":
            if isinstance(value, str) and value:
                config.sessions_dir = Path(value).expanduser()
            else:
                report.add("", key, "must be a folder path (a string)")
        elif key == "profiles":
            _read_profiles(value, config, report)
        elif key == "defaults":
            _read_defaults(value, config, report)
        elif key == "keymap":
            _read_keymap(value, config, report)

    if config.default_profile and config.default_profile not in config.profiles:
        if config.default_profile in report.unusable_profiles:
            message = f'profile "{config.default_profile}" is not used (its base_url is invalid)'
        else:
            names = [*config.profiles, *report.unusable_profiles]
            message = f'no profile named "{config.default_profile}"' + _suggest(
                config.default_profile, names
            )
        report.add("", "default_profile", message)
        config.default_profile = None
    return config, report.problems


class _TooBig(OSError):
    pass


def _read_bounded(file: Path) -> str:
    """The file's text; a FIFO, a device or an oversized file is refused, not read forever."""
    if not stat.S_ISREG(os.stat(file).st_mode):  # raises FileNotFoundError when missing
        raise _TooBig("not a regular file")
    with open(file, "rb") as handle:
        data = handle.read(MAX_CONFIG_BYTES + 1)
    if len(data) > MAX_CONFIG_BYTES:
        raise _TooBig(f"larger than {MAX_CONFIG_BYTES:,} bytes")
    return data.decode("utf-8")


def _base_url_problem(url: str) -> str | None:
    try:
        normalise_base_url(url)
    except InvalidBaseURLError:
        return "must be an http:// or https:// URL with a host (and a port from 1 to 65535)"
    return None


def _read_profiles(value: Any, config: Config, report: _Reporter) -> None:
    if not isinstance(value, dict):
        report.add("", "profiles", "must be a table of [profiles.NAME] tables")
        return
    for name, entries in value.items():
        table = f"profiles.{name}"
        if not isinstance(entries, dict):
            report.add("profiles", name, "must be a table ([profiles.NAME])")
            continue
        kept: dict[str, Any] = {}
        # A profile whose base_url cannot be used is left out entirely: falling back to another
        # URL would send the profile's key where it was never meant to go.
        unusable = False
        for key, item in entries.items():
            if key not in PROFILE_KEYS:
                report.add(table, key, "unknown profile setting" + _suggest(key, PROFILE_KEYS))
            elif key == "allow_insecure":
                if isinstance(item, bool):
                    kept[key] = item
                else:
                    report.add(table, key, "must be true or false")
            elif not isinstance(item, str) or not item:
                report.add(table, key, "must be a non-empty string")
            elif key == "base_url" and _base_url_problem(item):
                report.add(table, key, f"{_base_url_problem(item)}; the profile is not used")
                unusable = True
            elif key == "api_key_env" and not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", item):
                report.add(
                    table,
                    key,
                    "must be the NAME of an environment variable (e.g. CEREBRAS_API_KEY), "
                    "not the key itself",
                )
            else:
                kept[key] = item
        if unusable:
            report.unusable_profiles.append(name)
            continue
        config.profiles[name] = Profile(name=name, **kept)


def _read_defaults(value: Any, config: Config, report: _Reporter) -> None:
    if not isinstance(value, dict):
        report.add("", "defaults", "must be a table ([defaults])")
        return
    typed: dict[str, Any] = {}
    for key, item in value.items():
        spec = FIELD_BY_NAME.get(key)
        if spec is None or not spec.config_default:
            report.add(
                "defaults", key, "not a request field" + _suggest(key, tuple(DEFAULT_FIELDS))
            )
            continue
        try:
            checked = check_value(spec, item)
        except FieldValueError as error:
            # check_value's message starts with the field name, which add() prints already.
            message = str(error).removeprefix(f"{key}: ")
            if isinstance(item, bool):
                message += ", not true/false"
            report.add("defaults", key, message)
            continue
        if checked is not None:
            typed[key] = checked
    # The request model owns the value rules (ranges, stop count …): reuse them here.
    probe = CompletionRequest(model=typed.get("model") or "probe", prompt="")
    for key, item in typed.items():
        setattr(probe, key, item)
    bad = {error.field: error.message for error in probe.validate()}
    for key, item in typed.items():
        if key in bad:
            report.add("defaults", key, bad[key])
        else:
            config.defaults[key] = item


def _read_keymap(value: Any, config: Config, report: _Reporter) -> None:
    if not isinstance(value, dict):
        report.add("", "keymap", "must be a table ([keymap])")
        return
    keymap, problems = check_keymap(value)
    for action, message in problems:
        report.add("keymap", action, message)
    config.keymap.update(keymap)
