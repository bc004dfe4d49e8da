"""The append-only output widget: incremental wrapping equals wrapping the whole text, and
what reaches the terminal is safe."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from textual.app import App, ComposeResult

from workbench.api.request import CompletionRequest
from workbench.api.types import TextDelta
from workbench.ui.exchange_view import ExchangeView
from workbench.ui.stream_text import StreamText, visible_controls, wrap_paragraph

text_piece = st.text(st.sampled_from(list("ab cd  efghij\n\u4e2d\u6587é")), max_size=30)


def rows_of(widget: StreamText, width: int) -> list[str]:
    widget._rewrap_all(width)
    return list(widget._rows)


@given(st.lists(text_piece, max_size=25), st.integers(1, 30))
@settings(max_examples=300)
def test_appending_piece_by_piece_wraps_like_the_whole_text(pieces: list[str], width: int) -> None:
    incremental = StreamText()
    incremental._rewrap_all(width)  # a known width: appends re-wrap only the tail row
    for piece in pieces:
        incremental._chunks.append(piece)  # bypass refresh (no app running)
        first, *rest = piece.split("\n")
        incremental._paragraphs[-1] += first
        incremental._rewrap_tail_row(first)
        for paragraph in rest:
            incremental._paragraphs.append(paragraph)
            incremental._tail_row_start = len(incremental._rows)
            incremental._rows.extend(wrap_paragraph(paragraph, width))
    whole = StreamText()
    whole._paragraphs = "".join(pieces).split("\n")
    assert incremental._rows == rows_of(whole, width)


@given(st.text(max_size=200), st.integers(1, 40))
def test_rows_fit_and_keep_every_character(text: str, width: int) -> None:
    paragraph = text.replace("\n", " ")
    rows = wrap_paragraph(paragraph, width)
    assert "".join(rows) == paragraph
    assert all(cell_len(row.rstrip()) <= max(width, 2) for row in rows)


def test_control_characters_are_shown_not_sent_to_the_terminal() -> None:
    assert visible_controls("a\x1b[31mb\x07\n\tc\x9b") == "a\\x1b[31mb\\x07\n\tc\\x9b"


class _OneExchange(App[None]):
    def compose(self) -> ComposeResult:
        yield ExchangeView(CompletionRequest(model="m", prompt="p\x1b]52;c;evil\x07"))


async def test_exchange_view_keeps_raw_text_but_draws_it_safely() -> None:
    app = _OneExchange()
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(ExchangeView)
        view.feed(TextDelta(index=0, text="red \x1b[31mtext\tend"))
        view.flush()
        await pilot.pause()
        choice = view.choices[0]
        assert choice.completion_text == "red \x1b[31mtext\tend"  # copy/continue get it exact
        assert "\x1b" not in choice.output.text
        assert "\\x1b[31m" in choice.output.text
        prompt = str(view.query_one(".prompt").render())
        assert "\x1b" not in prompt and "\\x1b]52" in prompt


def test_long_prompts_are_clipped_in_the_transcript_with_a_count() -> None:
    from workbench.ui.exchange_view import clip_prompt

    assert clip_prompt("short\nprompt") == "short\nprompt"
    many = "\n".join(f"line {n}" for n in range(40))
    clipped = clip_prompt(many)
    assert clipped.startswith("line 0\n") and clipped.endswith("… (28 more lines)")
    wide = "x" * 5000
    assert clip_prompt(wide).endswith("… (3,000 more characters)")
