"""Theme files: every shipped theme validates, broken files are reported one by one, and the
user's theme choice is written back without disturbing the rest of their config file."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench import paths
from workbench.themes_format import (
    OUTPUT_ROLES,
    ThemeFormatError,
    ThemePersistError,
    is_color,
    load_all_themes,
    load_theme_dir,
    load_theme_file,
    parse_theme,
    persist_theme_choice,
    set_theme_in_config_text,
)

SHIPPED = paths.shipped_themes_dir()
SHIPPED_FILES = sorted(SHIPPED.glob("*.toml"))

MINIMAL = """
name = "mine"
[colors]
primary = "#336699"
background = "#101010"
foreground = "#eeeeee"
"""


def _luminance(hex_color: str) -> float:
    value = hex_color.lstrip("#")
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_issue_s_themes_are_shipped() -> None:
    names = {load_theme_file(path).name for path in SHIPPED_FILES}
    assert {
        "workbench-dark",
        "workbench-light",
        "workbench-high-contrast",
        "workbench-ansi",
    } <= names
    assert {"nord", "solarized-light"} <= names


@pytest.mark.parametrize("path", SHIPPED_FILES, ids=lambda p: p.stem)
def test_every_shipped_theme_sets_every_colour_explicitly(path: Path) -> None:
    spec = load_theme_file(path)
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    assert spec.name == path.stem
    for key in (
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
    ):
        assert key in raw["colors"], key
    assert set(raw["output"]) == set(OUTPUT_ROLES)
    assert "pygments_style" in raw and "dark" in raw
    variables = spec.css_variables()
    assert variables["wb-pygments-style"] == spec.pygments_style
    assert {f"wb-{role}" for role in OUTPUT_ROLES} <= set(variables)


@pytest.mark.parametrize(
    "path", [p for p in SHIPPED_FILES if "ansi" not in p.stem], ids=lambda p: p.stem
)
def test_output_colours_are_readable_on_the_background(path: Path) -> None:
    spec = load_theme_file(path)
    # WCAG AA for normal text everywhere, AAA for the high-contrast theme.
    minimum = 7.0 if "high-contrast" in spec.name else 4.5
    for role, colour in spec.output.items():
        assert _contrast(colour, spec.colors["background"]) >= minimum, role


def test_the_ansi_theme_uses_only_terminal_colours() -> None:
    spec = load_theme_file(SHIPPED / "workbench-ansi.toml")
    assert spec.ansi
    assert all(c.startswith("ansi_") for c in (*spec.colors.values(), *spec.output.values()))


def test_a_minimal_theme_derives_its_output_colours() -> None:
    spec = parse_theme(MINIMAL)
    assert spec.output["prompt"] == "#336699"
    assert spec.output["completion"] == "#eeeeee"
    assert spec.dark and spec.pygments_style == "monokai"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name = \n", "not valid TOML"),
        (MINIMAL + "[output]\nprompt = 'blue-ish'\n", "output.prompt = 'blue-ish' is not a colour"),
        (MINIMAL.replace('foreground = "#eeeeee"', ""), "missing colors.foreground"),
        (
            "pygment_style = 'nord'\n" + MINIMAL,
            "unknown key pygment_style (did you mean pygments_style?)",
        ),
        ('pygments_style = "nrod"\n' + MINIMAL, "did you mean 'nord'"),
        (
            MINIMAL + "[output]\npromt = '#ffffff'\n",
            "unknown key output.promt (did you mean output.prompt?)",
        ),
        (MINIMAL.replace('"mine"', '"My Theme"'), "name = 'My Theme'"),
        ("dark = 'yes'\n" + MINIMAL, "'dark' must be true or false"),
        (MINIMAL + "[variables]\nborder = '#fff; color: red'\n", "is not a CSS value"),
        (MINIMAL.replace("#336699", "rgb(300, 0, 0)"), "colors.primary"),
    ],
)
def test_broken_themes_name_the_problem(text: str, expected: str) -> None:
    with pytest.raises(ThemeFormatError) as caught:
        parse_theme(text, default_name="x")
    assert expected in str(caught.value)
    # shown in a notification, where "[colors]" would be swallowed as markup
    assert "[" not in str(caught.value) or "TOML" in str(caught.value)


@pytest.mark.parametrize(
    "colour", ["#abc", "#AABBCC", "#aabbcc80", "rgb(1, 2, 3)", "ansi_bright_blue", "ansi_default"]
)
def test_accepted_colours(colour: str) -> None:
    assert is_color(colour)


@pytest.mark.parametrize("colour", ["blue", "#abcde", "rgb(256,0,0)", "ansi_purple", "", 3])
def test_refused_colours(colour: object) -> None:
    assert not is_color(colour)


def test_a_broken_user_theme_is_reported_and_the_others_still_load(tmp_path: Path) -> None:
    user = tmp_path / "themes"
    user.mkdir()
    (user / "a-good.toml").write_text(MINIMAL.replace('"mine"', '"a-good"'), encoding="utf-8")
    (user / "b-broken.toml").write_text("[colors\nprimary = 1", encoding="utf-8")
    (user / "c-bad-colour.toml").write_text(
        MINIMAL.replace('"mine"', '"c-bad"').replace("#101010", "dark grey"), encoding="utf-8"
    )
    (user / "d-good.toml").write_text(MINIMAL.replace('"mine"', '"d-good"'), encoding="utf-8")
    (user / "e-undecodable.toml").write_bytes(b"name = '\xff'\n")

    specs, problems = load_all_themes(SHIPPED, user)

    names = {spec.name for spec in specs}
    assert {"a-good", "d-good", "workbench-dark", "nord"} <= names
    assert [problem.path.name for problem in problems] == [
        "b-broken.toml",
        "c-bad-colour.toml",
        "e-undecodable.toml",
    ]
    assert "colors.background = 'dark grey'" in str(problems[1])
    assert str(problems[0]).startswith(f"Theme file {user / 'b-broken.toml'}: not valid TOML")


def test_a_user_theme_replaces_a_shipped_theme_of_the_same_name(tmp_path: Path) -> None:
    (tmp_path / "my-nord.toml").write_text(MINIMAL.replace('"mine"', '"nord"'), encoding="utf-8")
    specs, problems = load_all_themes(SHIPPED, tmp_path)
    nord = [spec for spec in specs if spec.name == "nord"]
    assert problems == [] and len(nord) == 1 and nord[0].source == tmp_path / "my-nord.toml"


def test_two_user_files_with_one_name_report_the_second(tmp_path: Path) -> None:
    (tmp_path / "one.toml").write_text(MINIMAL, encoding="utf-8")
    (tmp_path / "two.toml").write_text(MINIMAL, encoding="utf-8")
    specs, problems = load_theme_dir(tmp_path)
    assert [spec.source for spec in specs] == [tmp_path / "one.toml"]
    assert "already used by one.toml" in str(problems[0])


def test_a_missing_user_folder_is_no_problem(tmp_path: Path) -> None:
    specs, problems = load_all_themes(SHIPPED, tmp_path / "nope")
    assert problems == [] and len(specs) == len(SHIPPED_FILES)


def test_the_theme_format_module_does_not_import_textual() -> None:
    code = (
        "import sys, workbench.themes_format as f; "
        f"specs, _ = f.load_all_themes(f.Path({str(SHIPPED)!r}), None); assert specs; "
        "print(any(m == 'textual' or m.startswith('textual.') for m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "False"


# -- persisting the choice -------------------------------------------------------------------

CONFIG = """\
# my workbench settings
default_profile = "local"   # the sim
theme = "nord"  # was gruvbox before

[profiles.local]
base_url = "http://127.0.0.1:8000"
# theme = "commented out, not a key"
"""


def test_persisting_replaces_only_the_theme_value(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG, encoding="utf-8")
    persist_theme_choice(config, "workbench-light")
    assert config.read_text(encoding="utf-8") == CONFIG.replace(
        'theme = "nord"', 'theme = "workbench-light"'
    )


def test_persisting_adds_the_key_above_the_first_table(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        CONFIG.replace('theme = "nord"  # was gruvbox before\n', ""), encoding="utf-8"
    )
    persist_theme_choice(config, "nord")
    data = tomllib.loads(config.read_text(encoding="utf-8"))
    assert data["theme"] == "nord" and data["profiles"]["local"]["base_url"].endswith("8000")
    assert '# theme = "commented out' in config.read_text(encoding="utf-8")


def test_persisting_creates_a_missing_config_file(tmp_path: Path) -> None:
    config = tmp_path / "sub" / "config.toml"
    persist_theme_choice(config, "workbench-ansi")
    assert config.read_text(encoding="utf-8") == 'theme = "workbench-ansi"\n'


def test_persisting_refuses_to_touch_a_broken_config(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("theme = \n[[[", encoding="utf-8")
    with pytest.raises(ThemePersistError, match="not valid TOML"):
        persist_theme_choice(config, "nord")
    assert config.read_text(encoding="utf-8") == "theme = \n[[["


_keys = st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True).filter(lambda k: k != "theme")
_values = st.one_of(
    st.integers(), st.booleans(), st.text(max_size=20), st.lists(st.integers(), max_size=3)
)
_tables = st.dictionaries(_keys, _values, max_size=4)


@settings(max_examples=150, deadline=None)
@given(
    top=st.dictionaries(_keys, _values, max_size=4),
    tables=st.dictionaries(_keys, _tables, max_size=3),
    old_theme=st.one_of(st.none(), st.text(max_size=10)),
    comment=st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=20),
    name=st.from_regex(r"[a-z0-9][a-z0-9_-]{0,15}", fullmatch=True),
)
def test_persisting_changes_nothing_but_the_theme(top, tables, old_theme, comment, name) -> None:
    document = dict(top)
    if old_theme is not None:
        document["theme"] = old_theme
    # tables must not collide with top-level scalar keys
    document.update({key: value for key, value in tables.items() if key not in top})
    text = f"# {comment}\n" + tomli_w.dumps(document)
    edited = set_theme_in_config_text(text, name)
    expected = dict(document, theme=name)
    assert tomllib.loads(edited) == expected
    # every original line other than the theme line survives verbatim
    kept = [line for line in text.split("\n") if not line.startswith("theme =")]
    assert [line for line in edited.split("\n") if not line.startswith("theme =")] == kept
