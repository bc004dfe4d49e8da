"""Where each entry of the transcript starts, in rows at one width (no Textual here).

The transcript draws rows; entries (exchanges, the hint) are lists of blocks of wrapped text.
This index keeps each entry's height and the row it starts at, so a row number finds its entry
by bisection. Heights are exact for the entries that have been wrapped at the current width
and estimates for the rest (a session of a thousand exchanges is not wrapped to be opened);
:meth:`RowIndex.refine` makes a window of them exact before it is drawn.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.ui.exchange_view import Block, Entry


class RowIndex:
    """The entries in order, their heights and first rows; re-measured from the first change."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self._heights: list[int] = []
        self._starts: list[int] = [0]  # row where each entry starts; last item: total rows
        self._stale: set[int] = set()
        self._positions: dict[int, int] = {}  # id(entry) -> its position
        self.width = 0  # rows are counted at this text width (0: not yet known)

    @property
    def total(self) -> int:
        """Rows of all entries (estimates included)."""
        return self._starts[-1]

    def start_of(self, position: int) -> int:
        return self._starts[position]

    def end_of(self, position: int) -> int:
        return self._starts[position + 1]

    def position(self, entry: Entry) -> int | None:
        return self._positions.get(id(entry))

    def add(self, entry: Entry) -> None:
        self._positions[id(entry)] = len(self.entries)
        self.entries.append(entry)
        self._heights.append(entry.row_count(self.width, exact=False) if self.width else 0)
        self._starts.append(self._starts[-1] + self._heights[-1])

    def mark_changed(self, entry: Entry) -> bool:
        """Note that ``entry``'s rows changed (measured at the next :meth:`measure`)."""
        position = self._positions.get(id(entry))
        if position is None:
            return False
        self._stale.add(position)
        return True

    def clear(self) -> None:
        self.entries, self._heights, self._starts, self._positions = [], [], [0], {}
        self._stale.clear()

    def set_width(self, width: int) -> None:
        """Count rows at another width: every entry is re-measured (by estimate)."""
        self.width = width
        self._stale = set(range(len(self.entries)))
        self.measure()

    def measure(self) -> int:
        """Heights of the changed entries and the rows after them; returns the total."""
        if self._stale and self.width:
            first = min(self._stale)
            for position in self._stale:
                self._heights[position] = self.entries[position].row_count(self.width, exact=False)
            self._stale.clear()
            starts = self._starts
            del starts[first + 1 :]
            total = starts[first]
            for height in self._heights[first:]:
                total += height
                starts.append(total)
        return self._starts[-1]

    def entry_at(self, row: int) -> int:
        """The position of the entry that shows ``row`` (clamped to the entries there are)."""
        return min(max(0, bisect_right(self._starts, row) - 1), max(0, len(self.entries) - 1))

    def locate(self, row: int) -> tuple[int, Block, int] | None:
        """(entry position, block, row in that block) for ``row``; None past the end."""
        if not 0 <= row < self._starts[-1] or not self.width:
            return None
        position = bisect_right(self._starts, row) - 1
        found = self.entries[position].locate(row - self._starts[position], self.width)
        if found is None:
            return None
        return position, found[0], found[1]

    def refine(self, top: int, bottom: int, anchor: int | None = None) -> tuple[bool, int]:
        """Make the heights of the entries meeting rows [top, bottom) exact (wrapping them).

        Returns whether any height changed, and by how many rows the entries starting above
        row ``anchor`` (default ``top``) grew (negative: shrank), so a view whose first row is
        ``anchor`` can scroll by as much and keep what it shows in place.
        """
        anchor = top if anchor is None else anchor
        if not self.entries or not self.width:
            return False, 0
        position = self.entry_at(top)
        changed, above = False, 0
        while position < len(self.entries) and self._starts[position] < bottom:
            exact = self.entries[position].row_count(self.width, exact=True)
            if exact != self._heights[position]:
                if self._starts[position] < anchor:
                    above += exact - self._heights[position]
                self._stale.add(position)
                changed = True
            position += 1
        if changed:
            self.measure()
        return changed, above

    def visible(self, top: int, bottom: int) -> list[int]:
        """Positions of the entries meeting rows [top, bottom)."""
        if not self.entries:
            return []
        positions = []
        position = self.entry_at(top)
        while position < len(self.entries) and self._starts[position] < bottom:
            if self._starts[position + 1] > top:
                positions.append(position)
            position += 1
        return positions
