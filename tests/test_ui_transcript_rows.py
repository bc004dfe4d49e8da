"""The transcript's row index: entries found by row, heights exact where refined, estimates
elsewhere, and a height change above a window reported so the view can keep its place."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from workbench.ui.exchange_view import Block, Entry
from workbench.ui.transcript_rows import RowIndex

words = st.lists(st.sampled_from(["a", "bb", "cccccccc", "dddddddddddddddd", "\n"]), max_size=30)


def entry_of(parts: list[str]) -> Entry:
    entry = Entry()
    entry.blocks = [Block("header", "#"), Block("output", " ".join(parts)), Block("blank")]
    return entry


@given(st.lists(words, min_size=1, max_size=12), st.integers(4, 30))
def test_every_row_is_found_in_order_once_refined(texts: list[list[str]], width: int) -> None:
    index = RowIndex()
    entries = [entry_of(parts) for parts in texts]
    for entry in entries:
        index.add(entry)
    index.set_width(width)
    index.refine(0, 10**6)
    expected = [line for entry in entries for line in entry.plain_lines(width)]
    assert index.total == len(expected)
    found = []
    for row in range(index.total):
        located = index.locate(row)
        assert located is not None
        _, block, block_row = located
        found.append(block.content.row(block_row)[0])
    assert found == expected
    assert index.locate(index.total) is None


@given(st.lists(words, min_size=3, max_size=12), st.integers(4, 30))
def test_refining_reports_how_much_the_entries_above_the_window_moved(
    texts: list[list[str]], width: int
) -> None:
    index = RowIndex()
    entries = [entry_of(parts) for parts in texts]
    for entry in entries:
        index.add(entry)
    index.set_width(width)  # estimates only
    top_entry = len(entries) // 2
    anchor = index.start_of(top_entry)  # the first row a view shows
    estimated = [e.row_count(width, exact=False) for e in entries]  # nothing wrapped yet
    changed, above = index.refine(0, 10**6, anchor=anchor)
    exact = [e.row_count(width, exact=True) for e in entries]
    assert changed == (estimated != exact)
    assert above == index.start_of(top_entry) - anchor == sum(exact[:top_entry]) - anchor
    assert index.total == sum(exact)


def test_a_changed_entry_moves_the_ones_after_it() -> None:
    index = RowIndex()
    first, second = entry_of(["a"]), entry_of(["b"])
    index.add(first)
    index.add(second)
    index.set_width(10)
    before = index.start_of(1)
    first.blocks[1].append("\nmore\nlines")
    assert index.mark_changed(first)
    index.measure()
    assert index.start_of(1) == before + 2
    assert not index.mark_changed(entry_of(["x"]))  # not in the index: ignored
