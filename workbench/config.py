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
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from workbench import paths
from workbench.api.request import CompletionRequest

TOP_LEVEL_KEYS = ("default_profile", "theme", "sessions_dir", "profiles", "defaults", "keymap")
PROFILE_KEYS = ("base_url", "api_key_env", "api_key", "model")
# Request fields that make sense as defaults: everything but the prompt itself.
DEFAULT_FIELDS: dict[str, tuple[type, ...]] = {
    "model": (str,),
    "stream": (bool,),
    "echo": (bool,),
    "return_raw_tokens": (bool,),
    "max_tokens": (int,),
    "min_tokens": (int,),
    "temperature": (int, float),
    "top_p": (int, float),
    "seed": (int,),
    "stop": (str, list),
    "grammar_root": (str,),
    "user": (str,),
    "logprobs": (int,),
}
# The ids of the app's bindings that [keymap] may remap. Kept here (not in the UI) so the
# config can be checked without importing Textual; the UI asserts it binds exactly these.
BINDING_IDS = (
    "send",
    "cancel",
    "continue",
    "regenerate",
    "clear",
    "copy",
    "edit",
    "toggle_sidebar",
    "focus_next_pane",
    "focus_previous_pane",
    "save",
    "sessions",
    "help",
    "prompt_form",
    "logprobs",
    "reset_parameters",
    "export",
    "compare",
)
_KEY_SPEC = re.compile(r"^[a-z0-9_+\-]+(,[a-z0-9_+\-]+)*$")


@dataclass(frozen=True, slots=True)
class Profile:
    """A named endpoint. ``api_key_env`` names the variable holding the key, never the key."""

    name: str
    base_url: str | None = None
    api_key_env: str | None = None
    api_key: str | None = None
    model: str | None = None

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
        text = file.read_text(encoding="utf-8")
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
        report.add(
            "",
            "default_profile",
            f'no profile named "{config.default_profile}"'
            + _suggest(config.default_profile, list(config.profiles)),
        )
        config.default_profile = None
    return config, report.problems


def _read_profiles(value: Any, config: Config, report: _Reporter) -> None:
    if not isinstance(value, dict):
        report.add("", "profiles", "must be a table of [profiles.NAME] tables")
        return
    for name, entries in value.items():
        table = f"profiles.{name}"
        if not isinstance(entries, dict):
            report.add("profiles", name, "must be a table ([profiles.NAME])")
            continue
        kept: dict[str, str] = {}
        for key, item in entries.items():
            if key not in PROFILE_KEYS:
                report.add(table, key, "unknown profile setting" + _suggest(key, PROFILE_KEYS))
            elif not isinstance(item, str) or not item:
                report.add(table, key, "must be a non-empty string")
            elif key == "base_url" and not re.match(r"^https?://", item):
                report.add(table, key, "must start with http:// or https://")
            elif key == "api_key_env" and not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", item):
                report.add(
                    table,
                    key,
                    "must be the NAME of an environment variable (e.g. CEREBRAS_API_KEY), "
                    "not the key itself",
                )
            else:
                kept[key] = item
        config.profiles[name] = Profile(name=name, **kept)


def _read_defaults(value: Any, config: Config, report: _Reporter) -> None:
    if not isinstance(value, dict):
        report.add("", "defaults", "must be a table ([defaults])")
        return
    typed: dict[str, Any] = {}
    for key, item in value.items():
        kinds = DEFAULT_FIELDS.get(key)
        if kinds is None:
            report.add(
                "defaults", key, "not a request field" + _suggest(key, tuple(DEFAULT_FIELDS))
            )
        elif isinstance(item, bool) and bool not in kinds:
            report.add("defaults", key, f"must be {_kind_name(kinds)}, not true/false")
        elif not isinstance(item, kinds):
            report.add("defaults", key, f"must be {_kind_name(kinds)}")
        else:
            typed[key] = float(item) if key in ("temperature", "top_p") else item
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


def _kind_name(kinds: tuple[type, ...]) -> str:
    names = {
        bool: "true or false",
        int: "a whole number",
        float: "a number",
        str: "a string",
        list: "a list of strings",
    }
    if kinds == (int, float):
        return "a number"
    return " or ".join(names[kind] for kind in kinds)


def _read_keymap(value: Any, config: Config, report: _Reporter) -> None:
    if not isinstance(value, dict):
        report.add("", "keymap", "must be a table ([keymap])")
        return
    for key, item in value.items():
        if key not in BINDING_IDS:
            report.add("keymap", key, "no such action" + _suggest(key, BINDING_IDS))
        elif not isinstance(item, str) or not _KEY_SPEC.match(item.replace(" ", "")):
            report.add("keymap", key, 'must be keys like "ctrl+j" (several: "ctrl+j,f5")')
        else:
            config.keymap[key] = item.replace(" ", "")
