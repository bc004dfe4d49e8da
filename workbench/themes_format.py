"""Theme files: parsing and validation, without Textual (``docs/themes.md`` is the reference).

A theme file is TOML: a name, whether it is dark, the pygments style for code, the Textual
colours under ``[colors]``, the output view's own colours under ``[output]`` and any extra
Textual CSS variables under ``[variables]``. Parsing is strict — an unknown key is an error with
a "did you mean" hint — because a typo that silently falls back to a default is the kind of
problem a user spends an evening on. Every problem names the file and the key.

This module also owns :func:`persist_theme_choice`, the one edit the app makes to the user's
config file: it rewrites the ``theme =`` line and leaves every other byte alone.
"""

from __future__ import annotations

import difflib
import os
import re
import tempfile
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

# The Textual theme colours a file may set. ``primary``, ``background`` and ``foreground`` are
# required: everything else, including the output colours, can be derived from them.
COLOR_KEYS: tuple[str, ...] = (
    "primary",
    "secondary",
    "accent",
    "background",
    "surface",
    "panel",
    "foreground",
    "success",
    "warning",
    "error",
    "boost",
)
REQUIRED_COLOR_KEYS: tuple[str, ...] = ("primary", "background", "foreground")

# The output view's colours; each becomes the CSS variable ``$wb-<role>``.
OUTPUT_ROLES: tuple[str, ...] = ("prompt", "completion", "echo", "error", "metrics")
OUTPUT_VARIABLE_PREFIX = "wb-"
# The theme's pygments style travels with the Textual theme as a variable, so whoever holds
# ``app.current_theme`` can highlight code in the right style without another lookup.
PYGMENTS_STYLE_VARIABLE = "wb-pygments-style"

TOP_LEVEL_KEYS: tuple[str, ...] = (
    "name",
    "dark",
    "ansi",
    "pygments_style",
    "luminosity_spread",
    "text_alpha",
    "colors",
    "output",
    "variables",
)

# Rich's own syntax themes that map tokens onto the terminal's 16 colours.
ANSI_SYNTAX_STYLES: tuple[str, ...] = ("ansi_dark", "ansi_light")

ANSI_COLOR_NAMES: tuple[str, ...] = (
    "ansi_default",
    "ansi_black",
    "ansi_red",
    "ansi_green",
    "ansi_yellow",
    "ansi_blue",
    "ansi_magenta",
    "ansi_cyan",
    "ansi_white",
    "ansi_bright_black",
    "ansi_bright_red",
    "ansi_bright_green",
    "ansi_bright_yellow",
    "ansi_bright_blue",
    "ansi_bright_magenta",
    "ansi_bright_cyan",
    "ansi_bright_white",
)

_HEX_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
_RGB_COLOR = re.compile(
    r"rgba?\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*(?:,\s*(?:0|1|0?\.\d+)\s*)?\)"
)
# Theme names become the CSS class ``-theme-<name>`` in Textual, so keep them CSS-safe.
_THEME_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
_VARIABLE_NAME = re.compile(r"[a-z][a-z0-9-]*")


class ThemeFormatError(ValueError):
    """A theme file breaks a rule; the message names the key and what is wrong."""


@dataclass(frozen=True, slots=True)
class ThemeProblem:
    """A theme file that could not be loaded, and why (shown to the user as one notification)."""

    path: Path
    message: str

    def __str__(self) -> str:
        return f"Theme file {self.path}: {self.message}"


@dataclass(frozen=True, slots=True)
class ThemeSpec:
    """One validated theme file."""

    name: str
    dark: bool
    pygments_style: str
    colors: dict[str, str]
    output: dict[str, str]
    variables: dict[str, str] = field(default_factory=dict)
    ansi: bool = False
    luminosity_spread: float | None = None
    text_alpha: float | None = None
    source: Path | None = None

    def css_variables(self) -> dict[str, str]:
        """The Textual theme ``variables``: ``wb-prompt`` … ``wb-metrics``, the pygments style,
        then the file's own ``[variables]`` (which may override anything before them)."""
        variables = {f"{OUTPUT_VARIABLE_PREFIX}{role}": self.output[role] for role in OUTPUT_ROLES}
        variables[PYGMENTS_STYLE_VARIABLE] = self.pygments_style
        variables.update(self.variables)
        return variables


def is_color(value: Any) -> bool:
    """Whether ``value`` is a colour this format accepts: ``#rgb``/``#rrggbb`` (with optional
    alpha), ``rgb(r, g, b)``, or one of the terminal's own colours ``ansi_<name>``."""
    if not isinstance(value, str):
        return False
    value = value.strip()
    if _HEX_COLOR.fullmatch(value) or value in ANSI_COLOR_NAMES:
        return True
    match = _RGB_COLOR.fullmatch(value)
    return bool(match) and all(int(part) <= 255 for part in match.groups()[:3])


def is_pygments_style(name: str) -> bool:
    if name in ANSI_SYNTAX_STYLES:
        return True
    from pygments.styles import STYLE_MAP, get_all_styles  # local: only parsing a theme needs it

    # Built-in names first: listing plugin styles scans every installed package (~15 ms, paid
    # by every TUI start for the shipped themes).
    return name in STYLE_MAP or name in set(get_all_styles())


def _suggest(key: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(key, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_keys(table: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    # Keys are named with dots ("colors.primary"), never "[colors]": square brackets would be
    # read as markup by a notification.
    prefix = f"{where}." if where else ""
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, list(allowed), n=1)
            hint = f" (did you mean {prefix}{close[0]}?)" if close else ""
            raise ThemeFormatError(f"unknown key {prefix}{key}{hint}")


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ThemeFormatError(f"{key} must be a table of keys, not {value!r}")
    return value


def _color(value: Any, where: str) -> str:
    if not is_color(value):
        raise ThemeFormatError(
            f"{where} = {value!r} is not a colour (use #rrggbb, rgb(r, g, b) or ansi_<name>)"
        )
    return value.strip()


def _bool(data: dict[str, Any], key: str, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise ThemeFormatError(f"{key!r} must be true or false, not {value!r}")
    return value


def _fraction(data: dict[str, Any], key: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ThemeFormatError(f"{key!r} must be a number from 0 to 1, not {value!r}")
    return float(value)


def derive_output_colors(colors: dict[str, str], given: dict[str, str]) -> dict[str, str]:
    """Fill the output colours a file leaves out from its theme colours."""
    fallback = {
        "prompt": colors.get("primary"),
        "completion": colors.get("foreground"),
        "echo": colors.get("secondary") or colors.get("primary"),
        "error": colors.get("error") or "#e5484d",
        "metrics": colors.get("accent") or colors.get("secondary") or colors.get("primary"),
    }
    return {role: given.get(role) or fallback[role] or "#888888" for role in OUTPUT_ROLES}


def parse_theme(text: str, *, default_name: str = "") -> ThemeSpec:
    """Parse and validate the text of one theme file.

    ``default_name`` (the file's stem) is used when the file has no ``name``.
    Raises :class:`ThemeFormatError` naming the first problem found.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ThemeFormatError(f"not valid TOML: {error}") from None
    _check_keys(data, TOP_LEVEL_KEYS, "")

    name = data.get("name", default_name)
    if not isinstance(name, str) or not _THEME_NAME.fullmatch(name):
        raise ThemeFormatError(
            f"name = {name!r}: use lower-case letters, digits, '-' and '_' (e.g. 'my-theme')"
        )
    dark = _bool(data, "dark", True)
    ansi = _bool(data, "ansi", False)

    style = data.get("pygments_style", "monokai" if dark else "default")
    if not isinstance(style, str) or not is_pygments_style(style):
        from pygments.styles import get_all_styles

        choices = sorted(get_all_styles()) + list(ANSI_SYNTAX_STYLES)
        hint = _suggest(style, choices) if isinstance(style, str) else ""
        raise ThemeFormatError(f"pygments_style = {style!r} is not a pygments style{hint}")

    color_table = _table(data, "colors")
    _check_keys(color_table, COLOR_KEYS, "colors")
    missing = [key for key in REQUIRED_COLOR_KEYS if key not in color_table]
    if missing:
        raise ThemeFormatError("missing " + ", ".join(f"colors.{k}" for k in missing))
    colors = {key: _color(value, f"colors.{key}") for key, value in color_table.items()}

    output_table = _table(data, "output")
    _check_keys(output_table, OUTPUT_ROLES, "output")
    given = {key: _color(value, f"output.{key}") for key, value in output_table.items()}
    output = derive_output_colors(colors, given)

    variable_table = _table(data, "variables")
    variables: dict[str, str] = {}
    for key, value in variable_table.items():
        if not _VARIABLE_NAME.fullmatch(key):
            raise ThemeFormatError(f"variables.{key} is not a CSS variable name")
        # Values are Textual CSS values (a colour, "35%" after a colour, "bold" …): only refuse
        # what would break the stylesheet itself.
        if not isinstance(value, str) or not value.strip() or any(c in value for c in ";{}\n"):
            raise ThemeFormatError(f"variables.{key} = {value!r} is not a CSS value")
        variables[key] = value.strip()

    return ThemeSpec(
        name=name,
        dark=dark,
        ansi=ansi,
        pygments_style=style,
        colors=colors,
        output=output,
        variables=variables,
        luminosity_spread=_fraction(data, "luminosity_spread"),
        text_alpha=_fraction(data, "text_alpha"),
    )


def load_theme_file(path: Path) -> ThemeSpec:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ThemeFormatError(f"cannot be read: {error}") from None
    spec = parse_theme(text, default_name=path.stem)
    return replace(spec, source=path)


def load_theme_dir(directory: Path) -> tuple[list[ThemeSpec], list[ThemeProblem]]:
    """Every ``*.toml`` in ``directory`` (sorted by file name); a missing folder is empty.

    A broken file becomes a :class:`ThemeProblem` and loading goes on with the next one.
    """
    specs: list[ThemeSpec] = []
    problems: list[ThemeProblem] = []
    if not directory.is_dir():
        return specs, problems
    seen: dict[str, Path] = {}
    for path in sorted(directory.glob("*.toml")):
        try:
            spec = load_theme_file(path)
        except ThemeFormatError as error:
            problems.append(ThemeProblem(path, str(error)))
            continue
        if spec.name in seen:
            problems.append(
                ThemeProblem(path, f"name {spec.name!r} is already used by {seen[spec.name].name}")
            )
            continue
        seen[spec.name] = path
        specs.append(spec)
    return specs, problems


def load_all_themes(
    shipped_dir: Path, user_dir: Path | None
) -> tuple[list[ThemeSpec], list[ThemeProblem]]:
    """Shipped themes, then the user's; a user theme with a shipped theme's name replaces it."""
    shipped, problems = load_theme_dir(shipped_dir)
    by_name = {spec.name: spec for spec in shipped}
    if user_dir is not None:
        user, user_problems = load_theme_dir(user_dir)
        problems.extend(user_problems)
        by_name.update({spec.name: spec for spec in user})
    return list(by_name.values()), problems


# -- remembering the user's choice -----------------------------------------------------------

_TABLE_HEADER = re.compile(r"\s*\[")
_THEME_LINE = re.compile(r"(?P<indent>\s*)theme\s*=")
_SIMPLE_VALUE = re.compile(
    r"""(?P<indent>\s*)theme\s*=\s*(?:"(?:[^"\\\n]|\\.)*"|'[^'\n]*')(?P<rest>\s*(?:\#.*)?)"""
)


class ThemePersistError(Exception):
    """The config file could not be updated (it is left exactly as it was)."""


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def set_theme_in_config_text(text: str, name: str) -> str:
    """``text`` with its top-level ``theme`` key set to ``name``; comments, order, spacing and
    every other key are kept byte for byte. Raises :class:`ThemePersistError` when ``text`` is
    not valid TOML (editing a file we cannot read could make it worse)."""
    try:
        before = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ThemePersistError(f"the config file is not valid TOML ({error})") from None
    if "theme" in before and not isinstance(before["theme"], str):
        raise ThemePersistError("the config file's 'theme' key is not a string")
    new_line = f"theme = {_toml_string(name)}"
    # Only "\n" ends a TOML line (str.splitlines would also split on U+0085 and friends).
    lines = text.split("\n")
    lines = [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    first_table = next(
        (index for index, line in enumerate(lines) if _TABLE_HEADER.match(line)), len(lines)
    )
    edited: str | None = None
    for index in range(first_table):
        line = lines[index]
        if not _THEME_LINE.match(line):
            continue
        ending = line[len(line.rstrip("\r\n")) :]
        match = _SIMPLE_VALUE.fullmatch(line.rstrip("\r\n"))
        if match is None:
            raise ThemePersistError("the config file's 'theme' line is not a simple string")
        lines[index] = f"{match['indent']}{new_line}{match['rest']}{ending}"
        edited = "".join(lines)
        break
    if edited is None:
        # No theme key yet: it has to go before the first [table] to stay top-level.
        newline = "\r\n" if "\r\n" in text else "\n"
        if first_table < len(lines):
            lines.insert(first_table, new_line + newline)
            edited = "".join(lines)
        else:
            separator = "" if not text or text.endswith(("\n", "\r")) else newline
            edited = text + separator + new_line + newline
    after = tomllib.loads(edited)
    before["theme"] = name
    if after != before:  # a guard: never write a file that means something else
        raise ThemePersistError("could not update the 'theme' key without changing other keys")
    return edited


def persist_theme_choice(config_path: Path, name: str) -> None:
    """Set ``theme = "<name>"`` in the config file (created if missing), atomically.

    A symlinked config file (dotfiles kept in a repository) is written THROUGH the link: the
    file it points to is replaced atomically in its own folder and the link stays a link.
    When that folder cannot be written, the error says so and nothing changes.
    """
    config_path = _through_links(Path(config_path))
    try:
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as error:
        raise ThemePersistError(f"cannot read {config_path}: {error}") from None
    new_text = set_theme_in_config_text(text, name)
    if new_text == text:
        return
    try:
        config_path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(
            prefix=f".{config_path.name}.", suffix=".tmp", dir=config_path.parent
        )
    except OSError as error:
        raise ThemePersistError(
            f"cannot write next to {config_path} ({error.strerror or error}); "
            f'set theme = "{name}" there by hand'
        ) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as temp:
            temp.write(new_text)
            temp.flush()
            os.fsync(temp.fileno())
        if config_path.exists():
            os.chmod(temp_name, config_path.stat().st_mode & 0o777)
        os.replace(temp_name, config_path)
    except OSError as error:
        Path(temp_name).unlink(missing_ok=True)
        raise ThemePersistError(f"cannot write {config_path} ({error.strerror or error})") from None
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def _through_links(path: Path) -> Path:
    """The file a (chain of) symlink(s) points to, so that writing replaces the target, not
    the link. A dangling link gives its target, which is then created, as ``echo >`` would."""
    if not path.is_symlink():
        return path
    try:
        return Path(os.path.realpath(path, strict=False))
    except (OSError, RuntimeError) as error:  # a loop of links
        raise ThemePersistError(f"cannot follow the link {path} ({error})") from None
