"""How a finished completion is drawn: code fences highlighted in the theme's pygments style.

Only called once a stream has ended (design.md: never re-lex a growing text). Prose-only
completions return None so the view keeps its plain append-only widget as it is.
"""

from __future__ import annotations

from typing import Callable

from rich.text import Text
from textual.app import App

from workbench.ui.highlight import has_code_fence, highlight_completion
from workbench.ui.themes import pygments_style_for


def renderer_for(app: App[object]) -> Callable[[str], Text | None]:
    style_name = pygments_style_for(app.current_theme)

    def render(text: str) -> Text | None:
        if not has_code_fence(text):
            return None
        return highlight_completion(text, style_name)

    return render
