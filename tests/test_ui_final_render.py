"""Finished completions: highlighted code, light Markdown on prose, never a changed character."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from workbench.ui.final_render import (
    BOLD_STYLE,
    HEADING_STYLE,
    INLINE_CODE_STYLE,
    render_completion,
)


def styles_at(text_obj, start: int, end: int) -> set:
    return {span.style for span in text_obj.spans if span.start <= start and span.end >= end}


def test_plain_prose_is_left_to_the_streaming_widget() -> None:
    assert render_completion("Just some words, nothing else.", "monokai") is None


def test_markdown_marks_in_prose_are_styled_in_place() -> None:
    text = "# Title\nSome **bold** words and `code` here."
    rendered = render_completion(text, "monokai")
    assert rendered is not None and rendered.plain == text
    assert HEADING_STYLE in styles_at(rendered, 0, 7)
    bold = text.index("**bold**")
    assert BOLD_STYLE in styles_at(rendered, bold, bold + 8)
    code = text.index("`code`")
    assert INLINE_CODE_STYLE in styles_at(rendered, code, code + 6)


def test_code_fences_are_highlighted_and_prose_around_them_styled() -> None:
    text = "**Answer**:\n```python\nprint('hi')\n```\nDone."
    rendered = render_completion(text, "monokai")
    assert rendered is not None and rendered.plain == text
    assert BOLD_STYLE in styles_at(rendered, 0, 10)
    inside = text.index("print")
    assert any(
        span.start <= inside < span.end for span in rendered.spans if span.style != BOLD_STYLE
    )


@given(st.text(st.sampled_from(list("ab #*`_\n~py")), max_size=80))
def test_rendering_never_changes_the_text(text: str) -> None:
    rendered = render_completion(text, "monokai")
    assert rendered is None or rendered.plain == text
