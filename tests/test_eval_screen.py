"""The TUI eval screen: template from the prompt, editable cases, a run against the simulator,
the matrix and a cell's details, save; snapshots at 80x24 and 120x40."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Static, TextArea
from textual.widgets.text_area import Selection

from ui_helpers import make_app
from ui_sessions_fixtures import BrowserHost
from workbench.eval.draft import DraftCase, DraftVariant, EvalDraft
from workbench.eval.results import read_results
from workbench.eval.spec import load_eval
from workbench.sim import SimServer
from workbench.ui.eval_screen import AskScreen, CellScreen, EvalScreen, open_eval_screen


async def answer(pilot, text: str) -> None:
    """Fill the one-line question the screen asked and press enter."""
    await pilot.pause()
    assert isinstance(pilot.app.screen, AskScreen)
    pilot.app.screen.query_one(Input).value = text
    await pilot.press("enter")
    await pilot.pause()


def cell_text(table: DataTable, row: int, column: int) -> str:
    return str(table.get_cell_at((row, column)))


async def test_turn_a_prompt_into_an_eval_edit_it_run_it_and_save_it(tmp_path: Path) -> None:
    async with SimServer(rate=None) as sim:
        app = make_app(sim.base_url, sessions_dir=tmp_path / "sessions", fetch_models=False)
        async with app.run_test(size=(120, 40)) as pilot:
            app.prompt_pane.text = "Translate into French: Hello"
            open_eval_screen(app)
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, EvalScreen)
            # The sidebar's model is the first variant; its fields are the defaults.
            assert screen.draft.variants[0].overrides == {"model": "llama3.1-8b"}

            # Mark "Hello" as the variable {{text}}.
            template = screen.query_one("#eval-template", TextArea)
            template.selection = Selection((0, 23), (0, 28))
            await pilot.press("ctrl+k")
            await answer(pilot, "text")
            assert template.text == "Translate into French: {{text}}"
            cases = screen.query_one("#eval-cases", DataTable)
            assert [str(c.label) for c in cases.columns.values()] == ["name", "text", "assert"]
            assert cell_text(cases, 0, 1) == "Hello"

            # A second case, by keyboard: a adds a row, enter edits the cell under the cursor.
            cases.focus()
            await pilot.press("a")
            cases.move_cursor(row=1, column=1)
            await pilot.press("enter")
            await answer(pilot, "Good night")
            assert [c.vars for c in screen.draft.cases] == [{"text": "Hello"}, {"text": "Good night"}]
            # The first case gets an assertion that fails (the output is longer than 3).
            cases.move_cursor(row=0, column=2)
            await pilot.press("enter")
            await answer(pilot, '{ type = "max_chars", value = 3 }')
            assert cell_text(cases, 0, 2) == "max_chars 3"

            variants = screen.query_one("#eval-variants", TextArea)
            variants.load_text("8b: model=llama3.1-8b,seed=7,max_tokens=8\n32b: model=qwen-3-32b,seed=7,max_tokens=8")
            await pilot.press("ctrl+r")
            await asyncio.wait_for(screen.finished.wait(), timeout=30)
            await pilot.pause()
            matrix = screen.query_one("#eval-matrix", DataTable)
            assert [[cell_text(matrix, r, c) for c in range(3)] for r in range(2)] == [
                ["case 1", "FAIL", "FAIL"],
                ["case 2", "pass", "pass"],
            ]
            summary = screen.query_one("#eval-summary", DataTable)
            assert [cell_text(summary, r, 0) for r in range(2)] == ["8b", "32b"]
            assert cell_text(summary, 0, 1) == "50%" and cell_text(summary, 0, 3) == "1"
            assert len([r for r in sim.requests if r.path == "/v1/completions"]) == 4

            # enter on a cell: its output and the failed assertion; no previous run yet.
            matrix.focus()
            matrix.move_cursor(row=0, column=1)
            await pilot.press("enter")
            await pilot.pause()
            detail = app.screen
            assert isinstance(detail, CellScreen)
            assert "max_chars 3" in str(detail.query_one(".failure", Static).render())
            assert str(detail.query_one("#cell-output", Static).render()) == detail.record.output
            assert "No previous run" in str(detail.query_one("#cell-diff", Static).render())
            await pilot.press("escape")

            # Run again (same seeds): the cell says it matches the previous run.
            await pilot.press("ctrl+r")
            await asyncio.wait_for(screen.finished.wait(), timeout=30)
            await pilot.pause()
            matrix.focus()
            matrix.move_cursor(row=1, column=2)
            await pilot.press("enter")
            await pilot.pause()
            assert "Same output as the previous run" in str(app.screen.query_one("#cell-diff", Static).render())
            await pilot.press("escape")

            # Save: an eval file `workbench eval` accepts; later runs write results beside it.
            await pilot.press("ctrl+s")
            await answer(pilot, str(tmp_path / "greet.eval.toml"))
            spec = load_eval(tmp_path / "greet.eval.toml")
            assert [c.name for c in spec.cases] == ["case 1", "case 2"] and len(spec.variants) == 2
            await pilot.press("ctrl+r")
            await asyncio.wait_for(screen.finished.wait(), timeout=30)
            results = read_results(tmp_path / "greet.eval.results.toml")
            assert results is not None and results.complete and len(results.records) == 4
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, EvalScreen)


async def test_invalid_input_is_reported_where_the_user_looks(tmp_path: Path) -> None:
    draft = EvalDraft(prompt="Say {{text}", cases=[DraftCase("one", {"text": "x"})])
    app = BrowserHost(lambda: EvalScreen(draft))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        screen.query_one("#eval-variants", TextArea).load_text("a: modle=x")
        await pilot.press("ctrl+r")
        status = screen.query_one("#eval-status", Static)
        assert "Variants: variants line 1: unknown request field 'modle' (did you mean 'model'?)" in str(status.render())
        screen.query_one("#eval-variants", TextArea).load_text("a: model=llama3.1-8b")
        await pilot.press("ctrl+r")
        assert "Cannot run: prompt: '{{' at character 5 does not start a variable" in str(status.render())
        # A bad assertion typed into the table is refused and the old one kept.
        cases = screen.query_one("#eval-cases", DataTable)
        cases.focus()
        cases.move_cursor(row=0, column=2)
        await pilot.press("enter")
        await answer(pilot, '{ type = "contain", value = "x" }')
        assert "did you mean 'contains'?" in str(status.render())
        assert screen.draft.cases[0].asserts == []


def snapshot_draft() -> EvalDraft:
    return EvalDraft(
        title="French greetings",
        prompt="Translate into French: {{text}}\nFrench:",
        variants=[DraftVariant("8b", {"model": "llama3.1-8b"}), DraftVariant("32b", {"model": "qwen-3-32b", "temperature": 0.2})],
        cases=[
            DraftCase("hello", {"text": "Hello"}, [{"type": "contains", "value": "Bonjour"}]),
            DraftCase("night", {"text": "Good night"}, [{"type": "max_tokens", "value": 20}]),
        ],
    )


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_eval_screen_snapshot(snap_compare, size) -> None:
    app = BrowserHost(lambda: EvalScreen(snapshot_draft()))

    async def settle(pilot) -> None:
        await pilot.pause()
        app.screen.query_one("#eval-cases", DataTable).focus()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=settle)


async def test_the_command_palette_opens_the_eval_screen(tmp_path: Path) -> None:
    app = make_app("http://127.0.0.1:9", sessions_dir=tmp_path, fetch_models=False)
    async with app.run_test(size=(80, 24)) as pilot:
        app.prompt_pane.text = 'JSON: {"a": {"b": 1}}'
        (command,) = [c for c in app.get_system_commands(app.screen) if c.title.startswith("Evaluate")]
        command.callback()
        await pilot.pause()
        assert isinstance(app.screen, EvalScreen)
        # The prompt's braces were escaped: as a template it still means the same text.
        assert app.screen.draft.prompt == 'JSON: {"a": {"b": 1}}}}'


async def test_open_an_eval_file_and_import_cases(tmp_path: Path) -> None:
    (tmp_path / "fr.toml").write_text(
        'title = "fr"\nprompt = "Say {{text}}"\n[[variants]]\nname = "8b"\nmodel = "llama3.1-8b"\n'
        '[[cases]]\nname = "hello"\nvars = { text = "Hello" }\n',
        encoding="utf-8",
    )
    (tmp_path / "more.csv").write_text("__name,text\nnight,Good night\n", encoding="utf-8")
    (tmp_path / "broken.toml").write_text("title = [", encoding="utf-8")
    app = BrowserHost(lambda: EvalScreen())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        status = screen.query_one("#eval-status", Static)
        await pilot.press("ctrl+o")
        await answer(pilot, str(tmp_path / "broken.toml"))
        assert f"Cannot open {tmp_path / 'broken.toml'}" in str(status.render())
        await pilot.press("ctrl+o")
        await answer(pilot, str(tmp_path / "fr.toml"))
        assert screen.path == tmp_path / "fr.toml"
        assert screen.query_one("#eval-template", TextArea).text == "Say {{text}}"
        assert screen.query_one("#eval-variants", TextArea).text == "8b: model=llama3.1-8b"
        cases = screen.query_one("#eval-cases", DataTable)
        cases.focus()
        await pilot.press("i")
        await answer(pilot, "more.csv")  # relative to the eval file
        assert [c.name for c in screen.draft.cases] == ["hello", "night"]
        assert cell_text(cases, 1, 1) == "Good night"
        await pilot.press("d")
        assert len(screen.draft.cases) == 1
