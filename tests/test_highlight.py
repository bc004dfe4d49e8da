"""Code fences in finished completions: splitting is lossless, highlighting never changes a
character, the fence's language or a believable guess picks the lexer, the theme's style
picks the colours."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.control import strip_control_codes
from rich.text import Text

from workbench.ui.highlight import (
    guess_language,
    has_code_fence,
    highlight_code,
    highlight_completion,
    join_segments,
    split_fences,
)

COMPLETION = """Here is the function:

```python
def add(a, b):
    return a + b
```

And a shell line:
~~~~ bash extra words
echo "$HOME"
~~~~
done."""

_piece = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "```",
            "```python\n",
            "~~~\n",
            "  ```js\n",
            "````\n",
            "\n```\n",
            "``` a`b\n",
            "    ```\n",
            "\n",
            "\r\n",
            "\u2028",
            "~~~~ sh\n",
        ]
    ),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_piece, max_size=12).map("".join))
def test_splitting_then_joining_gives_back_the_text(text: str) -> None:
    assert join_segments(split_fences(text)) == text


@settings(max_examples=150, deadline=None)
@given(
    st.lists(_piece, max_size=10).map("".join), st.sampled_from(["monokai", "default", "ansi_dark"])
)
def test_highlighting_never_changes_a_character(text: str, style: str) -> None:
    # Rich drops the control codes a terminal would act on (BEL, BS, VT, FF, CR), as it does
    # for any text it displays; every other character is kept.
    assert highlight_completion(text, style).plain == strip_control_codes(text)


def test_prose_and_code_segments() -> None:
    segments = split_fences(COMPLETION)
    assert [s.kind for s in segments] == ["prose", "code", "prose", "code", "prose"]
    assert segments[1].language == "python"
    assert segments[1].code == "def add(a, b):\n    return a + b\n"
    assert segments[3].language == "bash" and segments[3].code == 'echo "$HOME"\n'
    assert segments[4].text == "done."


def test_a_fence_cut_off_by_max_tokens_runs_to_the_end() -> None:
    segments = split_fences("Sure:\n```python\nx = 1\ny =")
    assert segments[-1].kind == "code" and not segments[-1].closed
    assert segments[-1].code == "x = 1\ny ="


def test_a_longer_fence_is_not_closed_by_a_shorter_one() -> None:
    text = "````md\n```python\nx\n```\n````\n"
    (segment,) = split_fences(text)
    assert segment.code == "```python\nx\n```\n" and segment.closed


def test_inline_backticks_are_not_a_fence() -> None:
    assert not has_code_fence("use ```a`b``` inline\n")
    assert has_code_fence("```\nx\n```")


def _colours(text: Text) -> set[str]:
    return {
        str(span.style.color)
        for span in text.spans
        if hasattr(span.style, "color") and span.style.color
    }


def test_code_is_coloured_in_the_theme_s_style_and_prose_is_not() -> None:
    monokai = highlight_completion(COMPLETION, "monokai")
    solarized = highlight_completion(COMPLETION, "solarized-light")
    assert _colours(monokai) and _colours(solarized) and _colours(monokai) != _colours(solarized)
    prose_end = COMPLETION.index("```python")
    assert all(span.start >= prose_end for span in monokai.spans)
    # no background from the pygments style: code sits on the view's own background
    assert all(getattr(span.style, "bgcolor", None) is None for span in monokai.spans)


def test_the_ansi_style_uses_terminal_colours() -> None:
    text = highlight_code("def f():\n    return 1\n", "python", "ansi_dark")
    assert _colours(text) and all("#" not in colour for colour in _colours(text))


def test_keywords_get_a_style() -> None:
    text = highlight_code("def f():\n    return 1\n", "python", "monokai")
    styled = {text.plain[span.start : span.end] for span in text.spans if str(span.style)}
    assert "def" in styled and "return" in styled


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("import os\nprint(os.getcwd())\n", "python"),
        ("#!/bin/bash\necho hello\n", "bash"),
        ('{"a": 1, "b": [true, null]}\n', "json"),
        ("#include <stdio.h>\nint main(void) { return 0; }\n", "c"),
    ],
)
def test_unlabelled_code_is_guessed_when_the_guess_is_believable(code: str, expected: str) -> None:
    assert guess_language(code) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Once upon a time there was a little fox who lived in the woods.\n",
        # pygments guesses "Tera Term macro" for this, with a score of 0.01: junk
        "def fib(n):\n    if n < 2:\n        return n\n    return fib(n-1) + fib(n-2)\n",
        "",
    ],
)
def test_junk_guesses_fall_back_to_plain_text(text: str) -> None:
    assert guess_language(text) is None
    assert highlight_code(text, "", "monokai").spans == []


def test_an_unknown_fence_language_is_plain_text() -> None:
    assert highlight_code("x := 1\n", "no-such-language", "monokai").spans == []


def test_styles_stay_on_their_words_when_the_code_has_carriage_returns() -> None:
    text = highlight_code("def f():\r\n    return 1\r\n", "python", "monokai")
    styled = {text.plain[span.start : span.end] for span in text.spans}
    assert "def" in styled and "return" in styled
