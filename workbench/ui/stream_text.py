"""Append-only text wrapped into rows, for text that arrives at thousands of tok/s (no Textual).

Why not re-wrap the whole message on every update: that is O(n) per update, and at 3,000 tok/s
it falls behind within seconds (see ``shared/design.md``). Here an append only re-wraps the
last *row* of the last paragraph: greedy word wrapping never moves an earlier row break when
text is added at the end, so the cost of an append is proportional to the new text, not to
the whole message.

Rows are kept with the offset of their first character in the whole text, so styles given as
character spans (the highlighted rendering of a finished completion) can be drawn row by row.
Nothing is wrapped until a width is asked for: a session of a thousand exchanges opens without
wrapping the ones nobody scrolls to.
"""

from __future__ import annotations

import re

from rich.cells import cell_len

from workbench.terminal_text import display_text, visible_controls

__all__ = ["WrappedText", "display_text", "visible_controls", "wrap_paragraph"]

_WORDS = re.compile(r"\S+\s*|\s+")


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
    starts with the space that ended the previous word. ``"".join(rows) == text``.
    """
    width = max(1, width)
    if not text:
        return [""]
    if text.isascii() and len(text) <= width:
        return [text]
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


class WrappedText:
    """Text that only grows at the end, with its rows at one width (wrapped on demand).

    The text given must already be safe to draw (see :func:`display_text`); this class never
    changes a character, so ``"".join(rows)`` plus the newlines between paragraphs is the text.
    Only the text itself (the strings appended, shared with the caller) and the offset of each
    paragraph are kept; rows exist only once a width is asked for.
    """

    __slots__ = ("_chunks", "_length", "_paragraph_starts", "_rows", "_starts", "_width")

    def __init__(self, text: str = "") -> None:
        self._chunks: list[str] = []
        self._length = 0
        self._paragraph_starts: list[int] = [0]  # where each line (split at "\n") starts
        self._rows: list[str] = []
        self._starts: list[int] = []  # offset of each row's first character
        self._width = 0  # 0: not wrapped yet
        if text:
            self.append(text)

    @property
    def text(self) -> str:
        if len(self._chunks) > 1:
            self._chunks = ["".join(self._chunks)]
        return self._chunks[0] if self._chunks else ""

    @property
    def length(self) -> int:
        """Characters so far (cheap)."""
        return self._length

    @property
    def width(self) -> int:
        """The width the rows are wrapped at (0 before anyone asked)."""
        return self._width

    def append(self, text: str) -> None:
        """Add text at the end; the cost is proportional to ``text``, not to the whole."""
        if not text:
            return
        base = self._length
        self._chunks.append(text)
        self._length += len(text)
        newline = text.find("\n")
        first = text if newline < 0 else text[:newline]
        if first and self._width:
            self._rewrap_tail_row(first)
        while newline >= 0:
            start = newline + 1
            self._paragraph_starts.append(base + start)
            following = text.find("\n", start)
            if self._width:
                paragraph = text[start:] if following < 0 else text[start:following]
                self._add_rows(wrap_paragraph(paragraph, self._width), base + start)
            newline = following

    def _add_rows(self, rows: list[str], start: int) -> None:
        for row in rows:
            self._rows.append(row)
            self._starts.append(start)
            start += len(row)

    def _rewrap_tail_row(self, added: str) -> None:
        last_row = self._rows.pop()
        start = self._starts.pop()
        self._add_rows(wrap_paragraph(last_row + added, self._width), start)

    def wrap(self, width: int) -> None:
        """Wrap at ``width`` (a no-op when already wrapped there)."""
        width = max(1, width)
        if width == self._width:
            return
        self._width = width
        self._rows = []
        self._starts = []
        text = self.text
        ends = [start - 1 for start in self._paragraph_starts[1:]] + [len(text)]
        for start, end in zip(self._paragraph_starts, ends):
            self._add_rows(wrap_paragraph(text[start:end], width), start)

    def rows(self, width: int) -> list[str]:
        self.wrap(width)
        return self._rows

    def row_count(self, width: int) -> int:
        self.wrap(width)
        return len(self._rows)

    def row(self, index: int) -> tuple[str, int]:
        """Row ``index`` at the current width and the offset of its first character."""
        return self._rows[index], self._starts[index]

    def wraps_on(self, index: int) -> bool:
        """True when row ``index + 1`` (at the current width) goes on with the line of row
        ``index`` — the row break is the wrap's, not a newline in the text."""
        return index + 1 < len(self._rows) and self._starts[index + 1] == self._starts[index] + len(self._rows[index])

    def estimated_rows(self, width: int) -> int:
        """Rows at ``width`` without wrapping: exact once wrapped there, else an estimate
        from the paragraphs' lengths (exact for text without spaces or wide characters; good
        enough for a scrollbar until the text is scrolled to and wrapped for real)."""
        if width == self._width:
            return len(self._rows)
        width = max(1, width)
        starts = self._paragraph_starts
        lengths = [b - a - 1 for a, b in zip(starts, starts[1:])] + [self._length - starts[-1]]
        return sum((length - 1) // width + 1 if length > 0 else 1 for length in lengths)

    def row_of_offset(self, offset: int) -> int:
        """The row (at the current width) that shows character ``offset``."""
        from bisect import bisect_right

        return max(0, bisect_right(self._starts, offset) - 1)
