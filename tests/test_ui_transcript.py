"""The line-based transcript: headers, the prompt/completion join, the one-line metrics, the
exchange cursor and its actions, search, paging from the prompt, lazy wrapping of big sessions."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from textual.app import App, ComposeResult
from ui_helpers import SIZE, make_app, send, shown_text, wait_finished, wait_for

from workbench.api.request import CompletionRequest
from workbench.api.types import Choice, ClientMetrics, CompletionResult, Usage
from workbench.ui.final_render import render_completion
from workbench.ui.transcript import Transcript


@pytest.fixture(autouse=True)
def isolated(workbench_home: None) -> None:
    """Config, data and API environment of this test only (tests/conftest.py)."""


async def test_header_numbers_the_exchange_and_names_changed_parameters(sim: Any) -> None:
    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        app.sidebar.query_one("#temperature").value = "0.2"
        await send(pilot, "First")
        first = await wait_finished(pilot)
        await send(pilot, "Second")
        second = await wait_finished(pilot, count=2)
        header = shown_text(first).splitlines()[0]
        assert header.startswith("#1 · llama3.1-8b · ")
        assert "temperature=0.2" in header
        assert "max_tokens" not in header  # the default is not repeated
        assert shown_text(second).startswith("#2 · ")
        assert first.header.row_count(app.transcript.wrap_width) == 1  # one row, always


async def test_the_completion_continues_the_prompt_on_its_line(sim: Any) -> None:
    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "It was a dark and stormy night")
        view = await wait_finished(pilot)
        completion = view.completion_text
        lines = shown_text(view).splitlines()
        assert lines[1] == "▶ It was a dark and stormy night" + completion.split("\n")[0]
        # Drawn apart: the prompt's characters in the prompt's style, the rest in the output's.
        block = view.choices[0].output.block
        assert block.lead == len("▶ It was a dark and stormy night")


async def test_metrics_fit_one_row_at_80_columns_and_finish_is_named_once(sim: Any) -> None:
    app = make_app(sim.base_url)
    async with app.run_test(size=(80, 24)) as pilot:
        app.sidebar.query_one("#max_tokens").value = "5"
        await send(pilot, "Short")
        view = await wait_finished(pilot)
        text = shown_text(view)
        assert text.count("finish") == 1 and "finish length" in text
        metrics = view.metrics.content
        assert metrics.row_count(app.transcript.wrap_width) == 1
        assert "TTFT" in metrics.text and "tok/s" in metrics.text


async def test_cursor_picks_an_earlier_exchange_for_copy_resend_export_logprobs(sim: Any) -> None:
    from workbench.ui.export_screen import ExportScreen
    from workbench.ui.token_inspector import TokenInspector

    app = make_app(sim.base_url)
    copied: list[str] = []
    app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "The first prompt")
        first = await wait_finished(pilot)
        await send(pilot, "The second prompt")
        await wait_finished(pilot, count=2)
        app.transcript.focus()
        await pilot.press("left_square_bracket")
        assert app.transcript.cursor == 1
        await pilot.press("left_square_bracket")
        assert app.transcript.selected is first
        await pilot.press("c")
        assert copied == [first.completion_text]
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen))
        assert app.screen.request.prompt == "The first prompt"
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ExportScreen))
        app.transcript.focus()
        await pilot.press("g")
        inspector = await wait_for(pilot, lambda: isinstance(app.screen, TokenInspector) and app.screen)
        assert inspector.request.prompt == "The first prompt"  # the exchange under the cursor
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, TokenInspector))
        app.transcript.focus()
        await pilot.press("r")
        assert app.prompt_pane.text == "The first prompt"
        assert app.focused is app.prompt_pane.editor
        app.transcript.focus()
        await pilot.press("escape")
        assert app.transcript.cursor is None


async def test_ctrl_f_highlights_matches_and_steps_through_them(sim: Any) -> None:
    from workbench.ui.transcript_search import TranscriptSearch

    app = make_app(sim.base_url)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "needle one")
        await wait_finished(pilot)
        await send(pilot, "needle two")
        await wait_finished(pilot, count=2)
        app.transcript.focus()
        await pilot.press("ctrl+f")
        await wait_for(pilot, lambda: isinstance(app.screen, TranscriptSearch))
        await pilot.press(*"NEEDLE")
        transcript = app.transcript
        assert transcript.match_count == 2  # case-insensitive, one per prompt
        assert transcript.match_index == 0
        await pilot.press("enter")
        assert transcript.match_index == 1
        await pilot.press("up")
        assert transcript.match_index == 0
        assert "1 of 2" in str(app.screen.query_one("#search-count").render())
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, TranscriptSearch))
        assert transcript.match_count == 0


async def test_shift_pageup_scrolls_the_transcript_from_the_prompt(sim: Any) -> None:
    app = make_app(sim.base_url)
    async with app.run_test(size=(80, 24)) as pilot:
        app.sidebar.query_one("#max_tokens").value = "600"
        app.sidebar.query_one("#min_tokens").value = "600"
        await send(pilot, "A long one")
        await wait_finished(pilot)
        app.prompt_pane.editor.focus()
        transcript = app.transcript
        await wait_for(pilot, lambda: transcript.max_scroll_y > 10)
        # The text grew without a relayout per flush: the scrollbar still knows its full height.
        assert transcript.vertical_scrollbar.window_virtual_size == transcript.virtual_size.height
        bottom = transcript.scroll_y
        await pilot.press("shift+pageup")
        await wait_for(pilot, lambda: transcript.scroll_y < bottom)
        assert not transcript.following
        assert app.focused is app.prompt_pane.editor
        await pilot.press("shift+pagedown", "shift+pagedown")
        await wait_for(pilot, lambda: transcript.following)


class _TranscriptOnly(App[None]):
    def compose(self) -> ComposeResult:
        yield Transcript(id="transcript")


def _recorded(number: int) -> tuple[CompletionRequest, CompletionResult]:
    text = " ".join(f"word{number}-{i}" for i in range(400)) + "\n\n```python\nx = 1\n```\n"
    result = CompletionResult(
        choices=[Choice(index=0, text=text, finish_reason="length")],
        usage=Usage(prompt_tokens=3, completion_tokens=400, total_tokens=403),
        metrics=ClientMetrics(time_to_first_token_s=0.01, wall_time_s=0.1),
    )
    return CompletionRequest(model="m", prompt=f"prompt {number}"), result


async def test_a_big_session_wraps_and_styles_only_what_is_on_screen() -> None:
    app = _TranscriptOnly()
    async with app.run_test(size=(80, 24)) as pilot:
        transcript = app.query_one(Transcript)
        render = lambda text: render_completion(text, "monokai")  # noqa: E731
        for number in range(300):
            request, result = _recorded(number)
            await transcript.show_recorded(request, result, "complete", None, render)
        await pilot.pause()
        await transcript.wait_styled()
        outputs = [view.choices[0].output.block for view in transcript.exchanges]
        wrapped = [block for block in outputs if block.content.width]
        styled = [block for block in outputs if block.spans]
        assert 1 <= len(wrapped) <= 3 and wrapped[-1] is outputs[-1]
        assert 1 <= len(styled) <= 3 and styled[-1] is outputs[-1]
        assert transcript.following and transcript.max_scroll_y > 300 * 10
        # The finished rendering did not change a character of what is shown.
        assert outputs[-1].content.text.endswith("```python\nx = 1\n```\n")
        # Scrolling to the top wraps (and styles) what comes into view there.
        transcript.scroll_home(animate=False)
        await pilot.pause()
        await transcript.wait_styled()
        assert outputs[0].content.width and outputs[0].spans
        assert "prompt 0" in transcript.visible_text()


async def test_mouse_selection_copies_the_rows_without_the_gutter_and_a_click_picks_an_exchange() -> None:
    from textual.geometry import Offset
    from textual.selection import Selection

    app = _TranscriptOnly()
    async with app.run_test(size=(80, 24)) as pilot:
        transcript = app.query_one(Transcript)
        for number in range(2):
            request, result = _recorded(number)
            await transcript.show_recorded(request, result, "complete", None, None)
        await pilot.pause()
        transcript.scroll_home(animate=False)
        await pilot.pause()
        assert transcript.scroll_y == 0
        # Row 0 is "#1 · m", row 1 "▶ prompt 0…": columns count from the widget's left edge.
        selected = transcript.get_selection(Selection(Offset(3, 0), Offset(5, 1)))
        assert selected is not None
        assert selected[0] == "#1 · m\n▶ "
        await pilot.click(Transcript, offset=(10, 2))
        assert transcript.cursor == 0 and transcript.selected is transcript.exchanges[0]


async def test_a_selection_over_wrapped_rows_copies_the_line_as_it_was_written() -> None:
    """Rows that only wrap a long line are joined back (no line break where the transcript
    happened to wrap); a real line end in the text stays a line break."""
    from textual.geometry import Offset
    from textual.selection import Selection

    app = _TranscriptOnly()
    async with app.run_test(size=(80, 24)) as pilot:
        transcript = app.query_one(Transcript)
        request = CompletionRequest(model="m", prompt="p")
        paragraph = " ".join(f"word{i}" for i in range(40))  # ~270 characters: four rows
        result = CompletionResult(
            choices=[Choice(index=0, text=paragraph + "\nsecond line", finish_reason="stop")],
            metrics=ClientMetrics(time_to_first_token_s=0.01, wall_time_s=0.1),
        )
        await transcript.show_recorded(request, result, "complete", None, None)
        await pilot.pause()
        transcript.scroll_home(animate=False)
        await pilot.pause()
        rows = transcript.visible_text().splitlines()
        top = next(y for y, row in enumerate(rows) if "word0 " in row)
        below = next(y for y, row in enumerate(rows) if "second line" in row)
        assert below - top >= 3  # the paragraph did wrap
        lead = rows[top][: rows[top].index("word0 ")]  # the prompt, when the text continues it
        whole, _ = transcript.get_selection(Selection(Offset(3, top), Offset(80, below)))
        assert whole == lead + paragraph + "\nsecond line"
        # From the middle of one row to the middle of another: the characters in between.
        part, _ = transcript.get_selection(
            Selection(Offset(3 + len(lead) + 6, top), Offset(3 + 5, top + 1))
        )
        second_row_start = len(rows[top]) - len(lead) + 1  # the row's text and its trailing space
        assert part == paragraph[6 : second_row_start + 5]
        assert "\n" not in part


async def test_a_selection_counts_wide_characters_as_the_two_cells_they_take() -> None:
    from rich.cells import cell_len
    from textual.geometry import Offset
    from textual.selection import Selection

    app = _TranscriptOnly()
    async with app.run_test(size=(80, 24)) as pilot:
        transcript = app.query_one(Transcript)
        result = CompletionResult(
            choices=[Choice(index=0, text="漢字かな abc", finish_reason="stop")],
            metrics=ClientMetrics(time_to_first_token_s=0.01, wall_time_s=0.1),
        )
        await transcript.show_recorded(CompletionRequest(model="m", prompt="p"), result, "complete", None, None)
        await pilot.pause()
        transcript.scroll_home(animate=False)
        await pilot.pause()
        rows = transcript.visible_text().splitlines()
        y = next(y for y, row in enumerate(rows) if "漢字" in row)
        left = 3 + cell_len(rows[y][: rows[y].index("漢")])  # gutter, then any prompt lead
        # Cells 2–6 of the completion: 字 (2 cells) and か (2 cells).
        chosen, _ = transcript.get_selection(Selection(Offset(left + 2, y), Offset(left + 6, y)))
        assert chosen == "字か"


async def test_dragging_the_mouse_over_drawn_rows_selects_their_text() -> None:
    """Rows are drawn without per-cell offsets (cheaper frames); the screen still finds the
    row and column under the mouse, so a drag selects what it went over."""
    app = _TranscriptOnly()
    async with app.run_test(size=(80, 24)) as pilot:
        transcript = app.query_one(Transcript)
        request, result = _recorded(0)
        await transcript.show_recorded(request, result, "complete", None, None)
        await pilot.pause()
        transcript.scroll_home(animate=False)
        await pilot.pause()
        widget, offset = app.screen.get_widget_and_offset_at(8, 1)
        assert widget is transcript and offset is not None and (offset.x, offset.y) == (8, 1)
        await pilot.mouse_down(Transcript, offset=(3, 1))
        await pilot.hover(Transcript, offset=(10, 1))
        await pilot.mouse_up(Transcript, offset=(10, 1))
        assert app.screen.get_selected_text() == "▶ prompt"


def test_fit_items_drops_the_least_important_first_then_cuts() -> None:
    from workbench.ui.metrics_format import fit_items

    items = [(2, "TTFT 83 ms"), (1, "client 1,712 tok/s"), (6, "queue 0 ms"), (0, "finish stop")]
    assert fit_items(items, 200) == "TTFT 83 ms · client 1,712 tok/s · queue 0 ms · finish stop"
    assert fit_items(items, 50) == "TTFT 83 ms · client 1,712 tok/s · finish stop"
    assert fit_items(items, 35) == "client 1,712 tok/s · finish stop"
    assert fit_items(items, 8) == "finish…"


@given(st.text(st.sampled_from(list("abAB ")), max_size=40), st.text(st.sampled_from(list("aAb")), min_size=1, max_size=3))
def test_search_finds_what_a_lowercase_scan_finds(text: str, query: str) -> None:
    from workbench.ui.transcript import find_all

    expected, start = [], text.lower().find(query.lower())
    while start >= 0:
        expected.append(start)
        start = text.lower().find(query.lower(), start + len(query))
    assert find_all(text, query) == expected


class _RecordingRenderer:
    """A renderer that styles nothing but notes what it was asked, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int]] = []

    def __call__(self, text: str) -> Any:
        self.calls.append(("whole", 0, len(text)))
        return render_completion(text, "monokai")

    def window(self, text: str, start: int, end: int) -> list[Any]:
        self.calls.append(("window", start, end))
        return []


async def test_a_long_finished_text_has_its_visible_lines_styled_first() -> None:
    app = _TranscriptOnly()
    async with app.run_test(size=(80, 24)) as pilot:
        transcript = app.query_one(Transcript)
        text = "\n".join(f"line {n} **bold**" for n in range(3000))  # > 20,000 characters
        result = CompletionResult(choices=[Choice(index=0, text=text, finish_reason="length")])
        renderer = _RecordingRenderer()
        await transcript.show_recorded(CompletionRequest(model="m", prompt="p\n"), result, "complete", None, renderer)
        await pilot.pause()
        await transcript.wait_styled()
        (first, start, end), second = renderer.calls
        assert first == "window" and second[0] == "whole"
        # Following the bottom: the window is the text's end, a screenful of it.
        assert end == len(text) and 0 < end - start < 24 * 20


async def test_a_renderer_that_fails_leaves_the_text_plain_and_the_next_one_styled() -> None:
    app = _TranscriptOnly()
    async with app.run_test(size=(80, 24)) as pilot:
        transcript = app.query_one(Transcript)

        def broken(text: str) -> Any:
            raise ValueError("a lexer bug")

        request = CompletionRequest(model="m", prompt="p\n")
        result = CompletionResult(choices=[Choice(index=0, text="**plain** after all")])
        first = await transcript.show_recorded(request, result, "complete", None, broken)
        good = lambda text: render_completion(text, "monokai")  # noqa: E731
        second = await transcript.show_recorded(request, result, "complete", None, good)
        await pilot.pause()
        await transcript.wait_styled()
        assert first.choices[0].output.block.spans is None
        assert first.choices[0].output.text == "**plain** after all"
        assert second.choices[0].output.block.spans


async def test_scrolling_up_through_a_loaded_session_does_not_jump() -> None:
    app = _TranscriptOnly()
    async with app.run_test(size=(80, 24)) as pilot:
        transcript = app.query_one(Transcript)
        # Long words: the real wrap needs more rows than the length-based estimate.
        text = " ".join(f"{n:02d}" + "x" * 17 for n in range(30))
        for number in range(300):
            result = CompletionResult(choices=[Choice(index=0, text=text, finish_reason="stop")])
            request = CompletionRequest(model="m", prompt=f"prompt {number}\n")
            await transcript.show_recorded(request, result, "complete", None, None)
        await pilot.pause()
        transcript.scroll_to(y=transcript.max_scroll_y // 2, animate=False)
        await pilot.pause()
        before = transcript.visible_text().split("\n")
        for _ in range(12):  # up, ten rows at a time, into text never wrapped before
            transcript.scroll_to(y=transcript.scroll_y - 10, animate=False)
            await pilot.pause()
            after = transcript.visible_text().split("\n")
            assert after[10:] == before[:-10]
            before = after
