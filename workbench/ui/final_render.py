"""How a finished completion is drawn: code fences highlighted in the theme's pygments style,
and a light Markdown touch on the prose (headings, **bold**, `inline code`).

Only called once a stream has ended (design.md: never re-lex a growing text). Styling never
changes a character, so what is shown is still exactly the text that copy and *continue* use.
Text with neither fences nor Markdown marks returns None: the view keeps its plain
append-only widget as it is.
"""

from __future__ import annotations

import re
from typing import Callable

from rich.style import Style
from rich.text import Span, Text
from textual.app import App

from workbench.ui.highlight import highlight_completion, split_fences
from workbench.ui.themes import pygments_style_for

HEADING_STYLE = Style(bold=True, underline=True)
BOLD_STYLE = Style(bold=True)
INLINE_CODE_STYLE = Style(italic=True, bold=True)

# Each rule: a pattern over one prose run and the style of the whole match.
_PROSE_RULES: tuple[tuple[re.Pattern[str], Style], ...] = (
    (re.compile(r"^ {0,3}#{1,6} [^\n]+", re.MULTILINE), HEADING_STYLE),
    (re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__"), BOLD_STYLE),
    (re.compile(r"`[^`\n]+`"), INLINE_CODE_STYLE),
)


def style_prose(rendered: Text, prose: str, offset: int) -> bool:
    """Stylize Markdown marks of ``prose`` (which starts at ``offset`` in ``rendered``)."""
    found = False
    for pattern, style in _PROSE_RULES:
        for match in pattern.finditer(prose):
            rendered.stylize(style, offset + match.start(), offset + match.end())
            found = True
    return found


def render_completion(text: str, pygments_style: str) -> Text | None:
    """The finished text, styled; None when there is nothing to style."""
    segments = split_fences(text)
    has_code = any(segment.kind == "code" for segment in segments)
    rendered = highlight_completion(text, pygments_style) if has_code else Text(text)
    if rendered.plain != text:  # cannot happen for shown text (controls are made visible)
        return rendered if has_code else None
    styled = False
    offset = 0
    for segment in segments:
        if segment.kind == "prose":
            styled = style_prose(rendered, segment.text, offset) or styled
        offset += len(segment.text)
    return rendered if has_code or styled else None


def render_window(text: str, start: int, end: int, pygments_style: str) -> list[Span]:
    """Spans (offsets into ``text``) styling only the whole lines around [start, end): what a
    long output shows first, before the whole text is styled.

    A window inside a code fence is lexed after that fence's opening line, so it is highlighted
    as the language the fence names (a window starting inside a string or a comment may be
    coloured wrongly until the whole text is done)."""
    line_start = text.rfind("\n", 0, max(0, start)) + 1
    line_end = text.find("\n", max(start, end))
    line_end = len(text) if line_end < 0 else line_end + 1
    window = text[line_start:line_end]
    prefix = ""
    offset = 0
    for segment in split_fences(text):
        if offset <= line_start < offset + len(segment.text):
            if segment.kind == "code":
                opening = segment.text.split("\n", 1)[0] + "\n"
                if line_start >= offset + len(opening):
                    prefix = opening
            break
        offset += len(segment.text)
    rendered = render_completion(prefix + window, pygments_style)
    if rendered is None:
        return []
    shift = line_start - len(prefix)
    return [
        Span(max(span.start, len(prefix)) + shift, span.end + shift, span.style)
        for span in rendered.spans
        if span.end > len(prefix) and span.end > span.start
    ]


class CompletionRenderer:
    """How the app's current theme draws finished text: the whole of it, or a window first."""

    def __init__(self, pygments_style: str) -> None:
        self.pygments_style = pygments_style

    def __call__(self, text: str) -> Text | None:
        return render_completion(text, self.pygments_style)

    def window(self, text: str, start: int, end: int) -> list[Span]:
        return render_window(text, start, end, self.pygments_style)


def renderer_for(app: App[object]) -> CompletionRenderer:
    return CompletionRenderer(pygments_style_for(app.current_theme))
