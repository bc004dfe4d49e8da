"""`[keymap]` is checked at start: unknown key names, keys that type text and collisions are
reported like every other config problem, and the action keeps its default key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ui_helpers import SIZE, completion_posts, make_app, wait_finished, wait_for

from workbench.config import load_config
from workbench.keymap import DEFAULT_KEYS, RESERVED_KEYS, check_keymap


def load(tmp_path: Path, keymap: str):
    path = tmp_path / "config.toml"
    path.write_text("[keymap]\n" + keymap, encoding="utf-8")
    return load_config(path)


def test_the_issue_case_is_reported_and_send_keeps_its_default(tmp_path: Path) -> None:
    config, problems = load(tmp_path, 'send = "ctrl+nonsense,-"\n')
    assert config.keymap == {}
    (problem,) = problems
    assert problem.startswith("config.toml:2: keymap.send:")
    assert '"nonsense" is not a key name' in problem and "keeping ctrl+j" in problem


@pytest.mark.parametrize(
    "keys",
    ["-", "x", "shift+a", "space", "backspace", "left", "f12,;"],
)
def test_keys_that_type_or_edit_text_are_refused(tmp_path: Path, keys: str) -> None:
    config, problems = load(tmp_path, f'send = "{keys}"\n')
    assert config.keymap == {}
    assert len(problems) == 1 and "could no longer be typed" in problems[0]


def test_a_colliding_remap_is_reported_and_the_default_kept(tmp_path: Path) -> None:
    config, problems = load(tmp_path, 'clear = "ctrl+j"\ncopy = "f9"\n')
    assert config.keymap == {"copy": "f9"}
    (problem,) = problems
    assert "keymap.clear" in problem and "already the key of send" in problem
    assert "keeping ctrl+l" in problem


def test_keys_the_app_keeps_cannot_be_taken(tmp_path: Path) -> None:
    config, problems = load(tmp_path, 'save = "ctrl+q"\n')
    assert config.keymap == {} and "quit" in problems[0]


def test_two_remaps_on_one_key_keep_the_first(tmp_path: Path) -> None:
    config, problems = load(tmp_path, 'copy = "f9"\nsave = "f9"\n')
    assert config.keymap == {"copy": "f9"}
    assert "keymap.save" in problems[0] and "already the key of copy" in problems[0]


def test_swapping_two_actions_keys_is_fine(tmp_path: Path) -> None:
    config, problems = load(tmp_path, 'send = "ctrl+l"\nclear = "ctrl+j"\n')
    assert problems == []
    assert config.keymap == {"send": "ctrl+l", "clear": "ctrl+j"}


def test_punctuation_with_a_modifier_is_named_as_textual_names_it(tmp_path: Path) -> None:
    config, problems = load(tmp_path, 'save = "ctrl+-"\nhelp = "alt+,"\nexport = "ctrl++"\n')
    assert problems == []
    assert config.keymap == {"save": "ctrl+minus", "help": "alt+comma", "export": "ctrl+plus"}


@given(st.dictionaries(st.sampled_from(list(DEFAULT_KEYS) + ["nope"]), st.text(max_size=20)))
def test_whatever_the_table_the_final_map_has_no_collisions(remaps: dict[str, str]) -> None:
    keymap, problems = check_keymap(remaps)
    final = {**DEFAULT_KEYS, **keymap}
    seen: dict[str, str] = {}
    for action, keys in final.items():
        for key in keys.split(","):
            assert key not in RESERVED_KEYS
            assert seen.setdefault(key, action) == action, (key, action, seen[key])
    assert len(keymap) + len(problems) == len(remaps)


def test_the_accepted_names_are_keys_textual_delivers() -> None:
    """Every base key the check accepts is one Textual's key events can carry."""
    from textual.keys import Keys, _character_to_key

    from workbench.keymap import _COMMAND_KEYS, _EDITING_KEYS, _PUNCTUATION

    textual_names = {key.value for key in Keys}
    for name in _COMMAND_KEYS | _EDITING_KEYS:
        assert name in textual_names, name
    for char, name in _PUNCTUATION.items():
        assert _character_to_key(char) == name


async def test_in_the_app_a_bad_keymap_keeps_send_and_dash_types(sim: Any, tmp_path: Path) -> None:
    config, problems = load(tmp_path, 'send = "ctrl+nonsense,-"\nclear = "ctrl+j"\n')
    assert len(problems) == 2
    app = make_app(sim.base_url, config=config, config_problems=problems)
    async with app.run_test(size=SIZE) as pilot:
        app.prompt_pane.editor.focus()
        await pilot.press("a", "-", "b")
        await wait_for(pilot, lambda: app.prompt_pane.text == "a-b")
        assert completion_posts(sim) == []
        await pilot.press("ctrl+j")  # still send, not clear
        view = await wait_finished(pilot)
        assert view.status == "complete" and len(app.transcript.exchanges) == 1
