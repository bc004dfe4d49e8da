"""Finished completions: highlighted code, light Markdown on prose, never a changed character."""

from __future__ import annotations

from hypothesis import given, settings
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


# No deadline: the first unlabelled fence loads every pygments lexer to guess (~0.3 s).
@settings(deadline=None)
@given(st.text(st.sampled_from(list("ab #*`_\n~py")), max_size=80))
def test_rendering_never_changes_the_text(text: str) -> None:
    rendered = render_completion(text, "monokai")
    assert rendered is None or rendered.plain == text


def test_a_window_inside_a_long_fence_is_highlighted_as_the_fence_language() -> None:
    from workbench.ui.final_render import render_window

    body = "\n".join(f"def f{i}(a):\n    return a + {i}" for i in range(500))
    text = "Intro\n\n```python\n" + body + "\n```\nThe end.\n"
    start = text.index("def f250")
    end = start + 60
    spans = render_window(text, start, end, "monokai")
    assert spans
    line_start = text.rfind("\n", 0, start) + 1
    assert all(line_start <= span.start < span.end <= text.index("\n", end) + 1 for span in spans)
    whole = render_completion(text, "monokai")
    assert whole is not None
    # The window's colours are the ones the whole text gets there (same lexer, same state).
    window_styles = {(s.start, s.end, str(s.style)) for s in spans}
    whole_styles = {(s.start, s.end, str(s.style)) for s in whole.spans if s.start >= line_start and s.end <= end}
    assert whole_styles and whole_styles <= window_styles
