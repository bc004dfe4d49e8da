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
from rich.text import Text
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


def renderer_for(app: App[object]) -> Callable[[str], Text | None]:
    style_name = pygments_style_for(app.current_theme)
    return lambda text: render_completion(text, style_name)
