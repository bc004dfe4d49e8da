"""Every key named in help, hints, border subtitles and notifications comes from the keymap.

Three angles: the placeholder filler itself; a scan of the UI's source for key names written
out literally (they would go stale when the key is remapped); and the app run with *every*
binding remapped, checking that no screen, help sheet or toast still names an old key.
"""

from __future__ import annotations

import ast
import html
import importlib
import inspect
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest
from textual.binding import Binding

import workbench.ui
from ui_helpers import MODEL, make_app, wait_for
from ui_sessions_fixtures import fill_store
from workbench.config import Config
from workbench.ui.bindings import APP_BINDINGS
from workbench.ui.key_hints import binding_keys, fill_keys, key_label

UI_DIR = Path(workbench.ui.__file__).parent


def ui_modules() -> list[Any]:
    return [
        importlib.import_module(f"workbench.ui.{info.name}")
        for info in pkgutil.iter_modules([str(UI_DIR)])
    ]


def every_binding() -> list[Binding]:
    """The app's bindings and those of every screen and widget class of the UI."""
    found: list[Binding] = list(APP_BINDINGS)
    for module in ui_modules():
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__:
                found += [b for b in cls.__dict__.get("BINDINGS", ()) if isinstance(b, Binding)]
    return found


def default_keys() -> dict[str, tuple[str, ...]]:
    return {ident: keys for ident, keys in binding_keys(every_binding(), {}).items() if "." in ident or ident in {b.id for b in APP_BINDINGS}}


# Key names that are also plain words ("the panel on the right", "align: left", "at the end").
PROSE_WORDS = {"left", "right", "up", "down", "home", "end"}


def key_pattern(keys: set[str]) -> re.Pattern[str]:
    """Key names as whole words ("ctrl+j", not the "f1" of "f13"). Single characters ("y",
    "s", "q") and plain words ("left", "end") cannot be told from prose and are left out;
    esc is how escape is shown."""
    names = {k for k in keys if len(k) > 1 and k not in PROSE_WORDS}
    if "escape" in names:
        names.add("esc")
    alternatives = "|".join(sorted((re.escape(n) for n in names), key=len, reverse=True))
    return re.compile(rf"(?<![\w+])({alternatives})(?![\w+])")


# -- the filler ---------------------------------------------------------------------------------


def test_placeholders_become_the_keys_bound_now() -> None:
    bindings = [Binding("ctrl+j,ctrl+enter", "send", id="send"), Binding("escape", "close", id="close")]
    keys = binding_keys(bindings, {"send": "f5,ctrl+j"})
    assert fill_keys("{key:send} sends · {keys:send} · {key:close}", keys) == (
        "f5 sends · f5 / ctrl+j · esc"
    )
    assert fill_keys("no keys {here} {1}", keys) == "no keys {here} {1}"
    with pytest.raises(KeyError, match="sned"):
        fill_keys("{key:sned}", keys)
    assert key_label(()) == "(unbound)"


# -- the source ---------------------------------------------------------------------------------


def _docstrings(tree: ast.AST) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _binding_arguments(tree: ast.AST) -> set[int]:
    """String constants inside ``Binding(...)`` calls: the declaration of the keys itself."""
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Binding":
            ids |= {id(n) for n in ast.walk(node) if isinstance(n, ast.Constant)}
    return ids


def test_no_ui_text_names_a_remappable_key_literally() -> None:
    stale = key_pattern({k for keys in default_keys().values() for k in keys})
    found = []
    for path in sorted(UI_DIR.glob("*.py")):
        if path.name == "key_hints.py":  # where key names are turned into words
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree) | _binding_arguments(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
                for match in stale.finditer(node.value):
                    found.append(f"{path.name}:{node.lineno}: {match.group(0)!r} in {node.value[:60]!r}")
    assert not found, "write {key:<binding id>} instead:\n" + "\n".join(found)


# -- the app, with every key remapped ------------------------------------------------------------

FRESH_KEYS = [
    f"{mod}f{n}"
    for mod in ("", "ctrl+", "shift+", "alt+", "ctrl+shift+", "ctrl+alt+", "alt+shift+", "ctrl+alt+shift+")
    for n in range(13, 25)
]


def kept_by_textual() -> set[str]:
    """Keys Textual's own app and screens bind without an id (tab / shift+tab move the focus,
    ctrl+q quits): no keymap moves them, so the help rightly lists them under any keymap."""
    from textual.app import App
    from textual.screen import Screen

    bindings = [b for b in (*App.BINDINGS, *Screen.BINDINGS) if isinstance(b, Binding) and b.id is None]
    return {key.strip() for binding in bindings for key in binding.key.split(",")}


def remapped() -> dict[str, str]:
    ids = sorted(default_keys())
    assert len(ids) <= len(FRESH_KEYS)
    return dict(zip(ids, FRESH_KEYS))


def screen_text(app: Any) -> str:
    """What the terminal shows, one line per row (from the SVG screenshot)."""
    svg = app.export_screenshot()
    rows: dict[str, list[str]] = {}
    for match in re.finditer(r'<text[^>]*?y="([\d.]+)"[^>]*>(.*?)</text>', svg):
        rows.setdefault(match.group(1), []).append(html.unescape(match.group(2)))
    return "\n".join(" ".join(parts).replace("\xa0", " ") for parts in rows.values())


async def test_with_every_key_remapped_no_text_names_an_old_key(sim: Any, tmp_path: Path) -> None:
    from textual.command import CommandList, CommandPalette

    from workbench.ui.compare_screen import CompareScreen, LaneDiffScreen
    from workbench.ui.eval_screen import AskScreen, EvalScreen
    from workbench.ui.export_screen import ExportScreen
    from workbench.ui.help_screen import HelpScreen
    from workbench.ui.replay_screen import ReplayScreen
    from workbench.ui.session_browser import RenameScreen, SessionBrowser
    from workbench.ui.token_inspector import TokenInspector

    keymap = remapped()
    stale = key_pattern({k for keys in default_keys().values() for k in keys} - kept_by_textual())
    fill_store(tmp_path / "sessions", count=2)
    config = Config(keymap=keymap)
    app = make_app(sim.base_url, config=config, sessions_dir=tmp_path / "sessions")
    seen: list[str] = []
    said: list[str] = []
    show = app.notify

    def notify(message: str, *args: Any, **kwargs: Any) -> None:
        said.append(message)
        show(message, *args, **kwargs)

    app.notify = notify  # type: ignore[method-assign]

    async def look(pilot: Any, where: str) -> str:
        await pilot.pause()
        text = screen_text(app)
        seen.append(text)
        for line in text.splitlines():
            assert not stale.search(line), f"{where}: stale key in {line!r}"
        return " ".join(text.split())  # words as the eye reads them, for the checks below

    async def help_for(pilot: Any, where: str) -> str:
        await pilot.press(keymap["help"])
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = await look(pilot, f"help on {where}")
        source = app.screen.query_one("#focused-help").source if app.screen.query("#focused-help") else ""
        for line in source.splitlines():
            assert not stale.search(line), f"help on {where}: {line!r}"
        # The widget's help may scroll past the screen: its whole text counts too.
        text += " " + " ".join(source.replace("**", "").split())
        await pilot.press(keymap["help.close"])
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))
        return text

    async with app.run_test(size=(160, 60)) as pilot:
        main = await look(pilot, "main screen")
        assert f"{keymap['send']} send" in main  # the prompt's border subtitle
        text = await help_for(pilot, "the prompt")
        assert keymap["send"] in text and "ctrl+q" in text  # quit is listed too
        for pane in ("transcript", "sidebar"):
            await pilot.press(keymap["focus_next_pane"])
            help_text = await help_for(pilot, pane)
            if pane == "transcript":
                assert f"{keymap['logprobs']} shows the" in help_text
            else:
                assert f"{keymap['reset_parameters']} resets every field" in help_text

        await pilot.press(keymap["sessions"])
        await wait_for(pilot, lambda: isinstance(app.screen, SessionBrowser))
        await app.workers.wait_for_complete()
        await look(pilot, "sessions")
        browser_help = await help_for(pilot, "sessions")
        assert f"{keymap['sessions.close']} closes this screen" in browser_help
        await pilot.press(keymap["sessions.rename"])
        await wait_for(pilot, lambda: isinstance(app.screen, RenameScreen))
        rename = await look(pilot, "rename")
        assert keymap["rename.cancel"] in rename
        await pilot.press(keymap["rename.cancel"])
        await wait_for(pilot, lambda: isinstance(app.screen, SessionBrowser))
        await pilot.press(keymap["sessions.delete"])
        await wait_for(pilot, lambda: said)
        assert said[-1].endswith(f"{keymap['sessions.restore']} restores it.")
        await look(pilot, "delete toast")
        await pilot.press(keymap["sessions.replay"])
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayScreen))
        await look(pilot, "replay")
        await help_for(pilot, "replay")
        await pilot.press(keymap["replay.cancel"])
        await wait_for(pilot, lambda: isinstance(app.screen, SessionBrowser))
        await pilot.press(keymap["sessions.close"])
        await wait_for(pilot, lambda: len(app.screen_stack) == 1)

        app.prompt_pane.text = "Hello"
        await pilot.press(keymap["export"])
        await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen))
        export = await look(pilot, "export")  # a modal: its hint line is its help
        assert f"{keymap['export.copy']} copy" in export
        export_help = await help_for(pilot, "export")
        assert f"{keymap['export.close']} Close" in export_help
        await pilot.press(keymap["export.close"])
        await wait_for(pilot, lambda: len(app.screen_stack) == 1)

        # logprobs, so the token inspector has alternatives to offer
        app.sidebar.fill({**app.sidebar.defaults, "model": MODEL, "logprobs": 3, "max_tokens": 8, "seed": 3})
        await pilot.press(keymap["send"])
        await wait_for(pilot, lambda: app.transcript.last is not None and app.transcript.last.status != "streaming")
        await look(pilot, "after an exchange")

        await pilot.press(keymap["logprobs"])
        await wait_for(pilot, lambda: isinstance(app.screen, TokenInspector))
        tokens = await look(pilot, "token inspector")
        below = f"{keymap['tokens.next_unlikely']}/{keymap['tokens.previous_unlikely']}: below"
        assert below in tokens and f"({keymap['tokens.threshold']})" in tokens
        assert f"({keymap['tokens.continue']} continues with one)" in tokens
        # Textual cuts a modal screen off from the app's keys: it binds the help key itself,
        # under the help id, so the remapped key opens help here too.
        inspector_help = await help_for(pilot, "token inspector")
        assert f"{keymap['tokens.continue']} to continue from there" in inspector_help
        await pilot.press(keymap["tokens.close"])
        await wait_for(pilot, lambda: len(app.screen_stack) == 1)

        app.prompt_pane.text = ""
        await pilot.press(keymap["compare"])
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
        compare = await look(pilot, "compare without a prompt")
        assert f"write a prompt first ({keymap['compare.cancel']}," in compare
        await pilot.press(keymap["compare.cancel"])
        await wait_for(pilot, lambda: len(app.screen_stack) == 1)
        app.prompt_pane.text = "Hello"
        await pilot.press(keymap["compare"])
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
        compare = await look(pilot, "compare")
        assert f"{keymap['compare.send']} sends every lane at once · {keymap['help']} help" in compare
        compare_help = await help_for(pilot, "compare")
        assert f"{keymap['compare.diff']} word diff of two lanes" in compare_help
        await pilot.resize_terminal(80, 40)  # one lane at a time: the strip names the paging key
        compare = await look(pilot, "compare, one lane at a time")
        assert f"{keymap['compare.next_lane']}: next lane" in compare
        await pilot.resize_terminal(160, 60)
        await pilot.press(keymap["compare.send"])
        await wait_for(pilot, lambda: app.screen.run is not None and all(lane.done for lane in app.screen.run.lanes))
        await look(pilot, "compare, after a run")
        await pilot.press(keymap["compare.diff"])
        await wait_for(pilot, lambda: isinstance(app.screen, LaneDiffScreen))
        diff = await look(pilot, "lane diff")
        assert f"{keymap['compare_diff.close']} close" in diff
        await pilot.press(keymap["compare_diff.close"])
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
        await pilot.press(keymap["compare.cancel"])
        await wait_for(pilot, lambda: len(app.screen_stack) == 1)

        await pilot.press("ctrl+p")  # the command palette (kept by the app, not remappable)
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"Evaluate")

        def evaluate_highlighted() -> bool:
            found = app.screen.query_one(CommandList)
            return found.highlighted is not None and "Evaluate" in str(found.get_option_at_index(found.highlighted).prompt)

        await wait_for(pilot, evaluate_highlighted)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EvalScreen))
        evaluate = await look(pilot, "eval")
        assert f"{keymap['eval.open_cell']} edit · i import · {keymap['eval.run']} run" in evaluate
        assert f"select text, {keymap['eval.mark_variable']}: variable" in evaluate
        eval_help = await help_for(pilot, "eval")
        assert f"{keymap['eval.cancel']} closes this screen;" in eval_help
        assert f"{keymap['eval.open_cell']} Edit / open cell" in eval_help
        app.screen.query_one("#eval-cases").focus()
        await pilot.press("a")
        evaluate = await look(pilot, "eval, a case added")
        assert f"{keymap['eval.open_cell']} edits a cell." in evaluate
        await pilot.press(keymap["eval.open_cell"])  # the key the hint names does what it says
        await wait_for(pilot, lambda: isinstance(app.screen, AskScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, EvalScreen))
        await pilot.press(keymap["eval.cancel"])
        await wait_for(pilot, lambda: len(app.screen_stack) == 1)
    for message in said:
        assert not stale.search(message), message
    assert MODEL
