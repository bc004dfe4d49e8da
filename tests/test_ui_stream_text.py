"""The append-only wrapped text: incremental wrapping equals wrapping the whole text, row
offsets are right, and what reaches the terminal is safe."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from textual.app import App, ComposeResult

from workbench.api.request import CompletionRequest
from workbench.api.types import TextDelta
from workbench.ui.stream_text import WrappedText, display_text, visible_controls, wrap_paragraph
from workbench.ui.transcript import Transcript

text_piece = st.text(st.sampled_from(list("ab cd  efghij\n\u4e2d\u6587é")), max_size=30)


def wrapped_whole(text: str, width: int) -> WrappedText:
    whole = WrappedText(text)
    whole.wrap(width)
    return whole


@given(st.lists(text_piece, max_size=25), st.integers(1, 30))
@settings(max_examples=300)
def test_appending_piece_by_piece_wraps_like_the_whole_text(pieces: list[str], width: int) -> None:
    incremental = WrappedText()
    incremental.wrap(width)  # a known width: each append re-wraps only the tail row
    for piece in pieces:
        incremental.append(piece)
    whole = wrapped_whole("".join(pieces), width)
    assert incremental.rows(width) == whole.rows(width)
    count = incremental.row_count(width)
    assert [incremental.row(i) for i in range(count)] == [whole.row(i) for i in range(count)]
    assert incremental.text == "".join(pieces)


@given(st.lists(text_piece, max_size=25), st.integers(1, 30))
def test_row_offsets_point_at_the_rows_characters(pieces: list[str], width: int) -> None:
    text = "".join(pieces)
    wrapped = WrappedText()
    for piece in pieces:  # appended before any width is known: wrapped all at once later
        wrapped.append(piece)
    for index in range(wrapped.row_count(width)):
        row, start = wrapped.row(index)
        assert text[start : start + len(row)] == row
        if row:
            assert wrapped.row_of_offset(start) == index


@given(text_piece, st.integers(1, 30))
def test_rows_joined_where_they_wrap_and_split_where_a_newline_was_give_the_text(text: str, width: int) -> None:
    """What a copy of the transcript's rows relies on: a row break is either the wrap's
    (``wraps_on``) or a newline of the text, never something else."""
    wrapped = WrappedText(text)
    count = wrapped.row_count(width)
    joined = "".join(
        wrapped.row(index)[0] + ("" if wrapped.wraps_on(index) or index == count - 1 else "\n")
        for index in range(count)
    )
    assert joined == text


@given(st.lists(st.text("abc\n", max_size=30), max_size=10), st.integers(1, 30))
def test_the_estimate_is_exact_without_spaces_and_once_wrapped(pieces: list[str], width: int) -> None:
    wrapped = WrappedText("".join(pieces))
    estimate = wrapped.estimated_rows(width)  # no wrapping done for this
    assert wrapped.width == 0
    assert estimate == wrapped.row_count(width)
    wrapped.append(" more words here")
    assert wrapped.estimated_rows(width) == len(wrapped.rows(width))


@given(st.text(max_size=200), st.integers(1, 40))
def test_rows_fit_and_keep_every_character(text: str, width: int) -> None:
    paragraph = text.replace("\n", " ")
    rows = wrap_paragraph(paragraph, width)
    assert "".join(rows) == paragraph
    assert all(cell_len(row.rstrip()) <= max(width, 2) for row in rows)


def test_control_characters_are_shown_not_sent_to_the_terminal() -> None:
    assert visible_controls("a\x1b[31mb\x07\n\tc\x9b") == "a\\x1b[31mb\\x07\n\tc\\x9b"
    assert display_text("a\r\tb\x1b") == "a    b\\x1b"


class _OneTranscript(App[None]):
    def compose(self) -> ComposeResult:
        yield Transcript(id="transcript")


async def test_the_transcript_keeps_raw_text_but_draws_it_safely() -> None:
    app = _OneTranscript()
    async with app.run_test(size=(60, 10)) as pilot:
        transcript = app.query_one(Transcript)
        request = CompletionRequest(model="m", prompt="p\x1b]52;c;evil\x07")
        view = await transcript.start_exchange(request, flush_hz=60)
        view.feed(TextDelta(index=0, text="red \x1b[31mtext\tend"))
        view.flush()
        await pilot.pause()
        choice = view.choices[0]
        assert choice.completion_text == "red \x1b[31mtext\tend"  # copy/continue get it exact
        assert "\x1b" not in choice.output.text
        assert "\\x1b[31m" in choice.output.text
        screen = transcript.visible_text()
        assert "\x1b" not in screen and "\\x1b]52" in screen and "\\x1b[31m" in screen


def test_long_prompts_are_clipped_in_the_transcript_with_a_count() -> None:
    from workbench.ui.exchange_view import clip_prompt

    assert clip_prompt("short\nprompt") == "short\nprompt"
    many = "\n".join(f"line {n}" for n in range(40))
    clipped = clip_prompt(many)
    assert clipped.startswith("line 0\n") and clipped.endswith("… (28 more lines)")
    wide = "x" * 5000
    assert clip_prompt(wide).endswith("… (3,000 more characters)")
