"""An append-only, soft-wrapped plain-text widget for text that arrives at thousands of tok/s.

Why not a Static/Markdown: re-rendering the whole message on every update is O(n) per update,
and at 3,000 tok/s that falls behind within seconds (see ``shared/design.md``). Here an append
only re-wraps the last *row* of the last paragraph: greedy word wrapping never moves an earlier
row break when text is added at the end, so the cost of an append is proportional to the new
text, not to the whole message. Rendering uses the line API, so only visible rows are drawn.
"""

from __future__ import annotations

import re

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

_WORDS = re.compile(r"\S+\s*|\s+")

# Model output may carry ESC, CSI, OSC … which, drawn raw, would reach the terminal and could
# recolour it, move the cursor or write the clipboard. They are shown as visible ``\xNN``
# instead (as the CLI does); newline and tab pass (tab becomes spaces when appended).
_VISIBLE_CONTROLS = {
    code: f"\\x{code:02x}"
    for code in (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0))
    if code not in (0x09, 0x0A)
}


def visible_controls(text: str) -> str:
    """``text`` with every control character but newline and tab shown as ``\\xNN``."""
    return text.translate(_VISIBLE_CONTROLS)


def _hard_split(word: str, width: int) -> list[str]:
    """Split a word wider than the row into row-sized pieces (by terminal cells)."""
    pieces: list[str] = []
    current = ""
    current_width = 0
    for char in word:
        char_width = cell_len(char)
        if current and current_width + char_width > width:
            pieces.append(current)
            current, current_width = "", 0
        current += char
        current_width += char_width
    pieces.append(current)
    return pieces


def wrap_paragraph(text: str, width: int) -> list[str]:
    """Greedy word wrap of one line of text into rows of at most ``width`` cells.

    Trailing spaces may overhang a row (they are cropped when drawn), so that no row ever
    starts with the space that ended the previous word.
    """
    width = max(1, width)
    if not text:
        return [""]
    rows: list[str] = []
    current = ""
    current_width = 0
    for word in _WORDS.findall(text):
        visible = cell_len(word.rstrip())
        if current and current_width + visible > width:
            rows.append(current)
            current, current_width = "", 0
        if not current and visible > width:
            # Split the visible part by cells; its trailing spaces stay on the last piece.
            stripped = word.rstrip()
            *full, rest = _hard_split(stripped, width)
            rows.extend(full)
            rest += word[len(stripped) :]
            current, current_width = rest, cell_len(rest)
            continue
        current += word
        current_width += cell_len(word)
    rows.append(current)
    return rows


class StreamText(Widget):
    """Plain text that only ever grows at the end; height follows the wrapped text."""

    DEFAULT_CSS = """
    StreamText {
        height: auto;
        width: 1fr;
    }
    """

    def __init__(
        self,
        text: str = "",
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._chunks: list[str] = []
        self._length = 0
        # Logical lines (split at "\n"); only the last one can still grow.
        self._paragraphs: list[str] = [""]
        self._rows: list[str] = [""]
        self._tail_row_start = 0
        self._wrap_width = 0
        # Drawn rows, by row number: only the tail row changes when text is appended, while
        # every visible row is asked for again each frame (the view scrolls as it grows).
        self._strips: dict[int, Strip] = {}
        self._strips_key: tuple[int, object] | None = None
        self._line_style: Style | None = None
        if text:
            self.append(text)

    # -- content ----------------------------------------------------------------------------

    @property
    def text(self) -> str:
        """Everything shown so far (control characters made visible, tabs as spaces)."""
        if len(self._chunks) > 1:
            self._chunks = ["".join(self._chunks)]
        return self._chunks[0] if self._chunks else ""

    @property
    def length(self) -> int:
        """Characters appended so far (cheap; the benchmark polls it)."""
        return self._length

    def append(self, text: str) -> None:
        """Add text at the end; the cost is proportional to ``text``, not to the whole."""
        if not text:
            return
        text = visible_controls(text.replace("\r", "").replace("\t", "    "))
        self._chunks.append(text)
        self._length += len(text)
        first, *rest = text.split("\n")
        self._paragraphs[-1] += first
        if self._wrap_width:
            self._rewrap_tail_row(first)
        for paragraph in rest:
            self._paragraphs.append(paragraph)
            if self._wrap_width:
                self._tail_row_start = len(self._rows)
                self._rows.extend(wrap_paragraph(paragraph, self._wrap_width))
        self.refresh(layout=True)

    def _rewrap_tail_row(self, added: str) -> None:
        self._forget_strips_from(len(self._rows) - 1)
        last_row = self._rows.pop()
        self._rows.extend(wrap_paragraph(last_row + added, self._wrap_width))

    def _forget_strips_from(self, row: int) -> None:
        for y in [y for y in self._strips if y >= row]:
            del self._strips[y]

    def _rewrap_all(self, width: int) -> None:
        self._strips.clear()
        self._wrap_width = width
        self._rows = []
        for paragraph in self._paragraphs:
            self._tail_row_start = len(self._rows)
            self._rows.extend(wrap_paragraph(paragraph, width))

    # -- layout and drawing -------------------------------------------------------------------

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if width > 0 and width != self._wrap_width:
            self._rewrap_all(width)
        return len(self._rows)

    def render_lines(self, crop: Region) -> list[Strip]:
        # The style is the same for every row, and working it out walks the ancestors: once
        # per redraw, not once per row (every visible row is redrawn as the view scrolls).
        self._line_style = self.rich_style
        try:
            return super().render_lines(crop)
        finally:
            self._line_style = None

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if width != self._wrap_width and width > 0:
            self._rewrap_all(width)
        style = self._line_style or self.rich_style
        if y >= len(self._rows):
            return Strip.blank(width, style)
        key = (width, style)
        if key != self._strips_key:
            self._strips.clear()
            self._strips_key = key
        strip = self._strips.get(y)
        if strip is None:
            if len(self._strips) > 512:  # rows scrolled away long ago are not kept
                self._strips.clear()
            row = self._rows[y]
            strip = Strip([Segment(row, style)], cell_len(row)).adjust_cell_length(width, style)
            self._strips[y] = strip
        return strip
