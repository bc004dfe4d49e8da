"""The transcript: every exchange of the session, drawn from one store of wrapped rows.

One line-API widget (like Textual's ``Log``): exchanges are blocks of text (see
:mod:`workbench.ui.exchange_view`), each wrapped into rows on demand; only the visible rows
are drawn, and a streaming flush re-wraps only the tail row of the text it grew. Nothing is
laid out per exchange, so the cost of a frame does not grow with the session, and opening a
session of a thousand exchanges wraps only what is on screen (the rest is measured by an
estimate until it is scrolled to).

Following: ``following`` is true while the view sits at the bottom; text arriving then keeps
it there. Scrolling up turns it off (reading earlier output is not interrupted); scrolling
back to the bottom turns it on again.

Keys (when the transcript has focus): ``[`` / ``]`` move a cursor over exchanges; on the
exchange under the cursor ``c`` copies its text, ``x`` exports it, ``r`` puts its prompt back
into the prompt pane (to edit and send again), ``g`` shows its logprobs. ``ctrl+f`` searches.
The app handles what to do with an exchange (:class:`Transcript.ExchangeAction`).
"""

from __future__ import annotations

import asyncio
import re
from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, ClassVar, Literal

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Span, Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip
from textual.timer import Timer

from workbench.api.request import CompletionRequest
from workbench.api.types import CompletionResult
from workbench.ui.exchange_view import Block, Entry, ExchangeStatus, ExchangeView, Hint
from workbench.ui.probability_bands import theme_band_styles
from workbench.ui.transcript_rows import RowIndex

# Cells left of the text: a space, the exchange's bar, a space; one cell is kept on the right.
GUTTER = 3
RIGHT_MARGIN = 1
# The bar beside an exchange, and beside the one under the cursor.
BAR = "▌"
CURSOR_BAR = "┃"

# Finished texts longer than this have their visible lines styled before the whole text.
VISIBLE_FIRST_CHARS = 20_000

ExchangeActionName = Literal["copy", "export", "resend", "logprobs"]


def styled_spans(rendered: Any, offset: int) -> list[Span] | None:
    """The spans of a rendered (Rich ``Text``) finished text, moved by ``offset`` characters."""
    if rendered is None:
        return None
    spans = [
        Span(span.start + offset, span.end + offset, span.style)
        for span in rendered.spans
        if span.end > span.start
    ]
    if rendered.style:
        spans.insert(0, Span(offset, offset + len(rendered.plain), rendered.style))
    spans.sort(key=lambda span: span.start)
    return spans


def find_all(text: str, query: str) -> list[int]:
    """Start offsets of ``query`` in ``text``, case-insensitive, not overlapping (a regular
    expression search: no lower-cased copy of a long transcript per key typed)."""
    if not query:
        return []
    return [match.start() for match in re.finditer(re.escape(query), text, re.IGNORECASE)]


@dataclass(frozen=True)
class Match:
    """One search hit: the entry, the block and the characters it covers."""

    entry: Entry
    block: Block
    start: int
    end: int


class Transcript(ScrollView, can_focus=True):
    """All exchanges of the current session."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "transcript--header",
        "transcript--prompt",
        "transcript--label",
        "transcript--echo",
        "transcript--output",
        "transcript--finish",
        "transcript--outcome-error",
        "transcript--outcome-cancelled",
        "transcript--metrics",
        "transcript--hint",
        "transcript--blank",
        "transcript--bar",
        "transcript--bar-error",
        "transcript--bar-cancelled",
        "transcript--cursor",
        "transcript--match",
        "transcript--match-current",
    }

    DEFAULT_CSS = """
    Transcript {
        height: 1fr;
        overflow-x: hidden;
        scrollbar-size-vertical: 1;
    }
    Transcript > .transcript--header { color: $text-muted; }
    Transcript > .transcript--prompt { color: $text-primary; text-style: bold; }
    Transcript > .transcript--label { color: $text-accent; text-style: bold; }
    Transcript > .transcript--echo { color: $text-muted; text-style: italic; }
    Transcript > .transcript--finish { color: $text-muted; }
    Transcript > .transcript--outcome-error { color: $text-error; }
    Transcript > .transcript--outcome-cancelled { color: $text-warning; }
    Transcript > .transcript--metrics { color: $text-muted; }
    Transcript > .transcript--hint { color: $text-muted; }
    Transcript > .transcript--bar { color: $primary 50%; }
    Transcript > .transcript--bar-error { color: $error; }
    Transcript > .transcript--bar-cancelled { color: $warning; }
    Transcript > .transcript--cursor { color: $accent; text-style: bold; }
    Transcript > .transcript--match { background: $warning 40%; }
    Transcript > .transcript--match-current { background: $accent; color: $text; }
    Transcript:focus > .transcript--bar { color: $primary; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        # Ids, so a keymap in the config file can rebind them like the app's own keys.
        Binding("left_square_bracket", "cursor(-1)", "Previous exchange", show=False, id="transcript.previous"),
        Binding("right_square_bracket", "cursor(1)", "Next exchange", show=False, id="transcript.next"),
        Binding("c", "exchange('copy')", "Copy exchange", show=False, id="transcript.copy"),
        Binding("x", "exchange('export')", "Export exchange", show=False, id="transcript.export"),
        Binding("r", "exchange('resend')", "Prompt again", show=False, id="transcript.resend"),
        Binding("g", "exchange('logprobs')", "Logprobs of exchange", show=False, id="transcript.logprobs"),
        Binding("escape", "clear_cursor", "Drop the exchange cursor", show=False, id="transcript.uncursor"),
    ]

    HELP = """\
## Transcript

Each exchange has a header (its number — the N of `workbench export --exchange N` — the
model, the parameters that differ from the defaults, the time), its prompt, each choice as it
arrives (a completion that continues the prompt's line is shown on that line, in the normal
text colour after the prompt's bold), and a metrics line (time to first token, client and
server tok/s, usage, finish reason). Scroll up to stop following the stream; scroll to the
bottom to follow again.

- **{key:transcript.previous}** / **{key:transcript.next}** move the exchange cursor (the
  bright bar; **{key:transcript.uncursor}** drops it); on that exchange:
  **{key:transcript.copy}** copy its text, **{key:transcript.export}** export it,
  **{key:transcript.resend}** put its prompt back in the prompt pane,
  **{key:transcript.logprobs}** inspect its tokens.
- **{key:search}** (from any pane) search the transcript: matches are highlighted; the search line
  says which keys step through them.
- **{key:logprobs}** shows the tokens of the selected exchange (else the last) in the token
  inspector; **{key:probabilities}** colours every generated token by its probability.
- From the prompt, **{key:transcript.page_up}** / **{key:transcript.page_down}** scroll the
  transcript.
"""

    @dataclass
    class ExchangeAction(Message):
        """The user asked for something on one exchange (copy, export, resend, logprobs)."""

        transcript: Transcript
        exchange: ExchangeView
        action: ExchangeActionName

        @property
        def control(self) -> Transcript:
            return self.transcript

    following: reactive[bool] = reactive(True, init=False)
    """True while the view sits at the bottom, so new text keeps it there."""

    cursor: reactive[int | None] = reactive(None, init=False)
    """The exchange under the cursor (an index into :attr:`exchanges`), or None."""

    show_probabilities: reactive[bool] = reactive(False, init=False)
    """Colour every generated token by its probability (where the server sent logprobs)."""

    def __init__(self, hint: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._row_index = RowIndex()  # the entries, and the row each starts at
        # Drawn rows: a few screens of them (only the visible rows are asked for each frame).
        self._strips: LRUCache[tuple[Any, ...], Strip] = LRUCache(256)
        self._styles: dict[str, Style] = {}
        self._band_styles: list[Style] | None = None
        self._streaming: list[ExchangeView] = []
        self._flush_timer: Timer | None = None
        self._flush_interval = 0.0
        self._styling: list[Block] = []
        self._styling_task: asyncio.Task[None] | None = None
        self._matches: list[Match] = []
        self._matches_by_block: dict[int, list[tuple[int, int, int]]] = {}
        self._match_index = -1
        self._search_query = ""
        self._exchange_count = 0
        self._measure_scheduled = False
        self._drawing = False  # inside render_lines: rows for the screen, not for the mouse
        if hint:
            self._add_entry(Hint(hint))

    # -- the store ----------------------------------------------------------------------------

    @property
    def _width(self) -> int:
        return self._row_index.width

    @property
    def exchanges(self) -> list[ExchangeView]:
        return [entry for entry in self._row_index.entries if isinstance(entry, ExchangeView)]

    @property
    def last(self) -> ExchangeView | None:
        for entry in reversed(self._row_index.entries):
            if isinstance(entry, ExchangeView):
                return entry
        return None

    @property
    def wrap_width(self) -> int:
        """Cells per row of text (0 until the transcript has been laid out)."""
        return self._width

    @property
    def selected(self) -> ExchangeView | None:
        """The exchange under the cursor, or the last one when there is no cursor."""
        exchanges = self.exchanges
        if self.cursor is not None and 0 <= self.cursor < len(exchanges):
            return exchanges[self.cursor]
        return exchanges[-1] if exchanges else None

    def _add_entry(self, entry: Entry) -> None:
        entry.transcript = self
        if isinstance(entry, ExchangeView):
            self._exchange_count += 1
        self._row_index.add(entry)
        self._content_changed()

    def entry_changed(self, entry: Entry) -> None:
        """An entry's text grew or changed: re-measure it (cheap: its blocks are wrapped
        incrementally) and show the change, following the bottom if the view is there."""
        if self._row_index.mark_changed(entry):
            self._content_changed()

    def _content_changed(self) -> None:
        # Measured once per turn of the event loop, however many entries changed (a session
        # loading a thousand exchanges sets the virtual size once, not a thousand times).
        if not self._measure_scheduled:
            self._measure_scheduled = True
            self.call_later(self._measure_pending)
        self.refresh()

    def _measure_pending(self) -> None:
        if self._measure_scheduled:
            self._measure_scheduled = False
            if self._width:
                self._measure()

    def _measure(self) -> None:
        """Heights of the changed entries, the rows they start at, the virtual size."""
        self._set_virtual_height(self._row_index.measure())

    def _set_virtual_height(self, rows: int) -> None:
        size = Size(self.scrollable_content_region.width, rows)
        old = self.virtual_size
        if size != old:
            viewport = self.scrollable_content_region.height
            if (
                self.show_vertical_scrollbar
                and old.width == size.width
                and old.height > viewport
                and rows > viewport
            ):
                # Taller text with the scrollbar already there and staying: only the thumb
                # changes. Setting ``virtual_size`` would lay out the whole screen (the sidebar's
                # dozens of widgets) on every streaming flush; it did cost the last token ~3 ms.
                self.set_reactive(Transcript.virtual_size, size)
                self.vertical_scrollbar.window_virtual_size = rows
            else:  # the scrollbar may appear or go: a real layout
                self.virtual_size = size
        if self.following:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def _set_width(self, width: int) -> None:
        self._measure_scheduled = False
        self._strips.clear()
        self._row_index.set_width(width)
        self._set_virtual_height(self._row_index.total)

    # -- adding and removing exchanges --------------------------------------------------------

    async def start_exchange(
        self,
        request: CompletionRequest,
        *,
        flush_hz: float,
        hold: Callable[[], bool] | None = None,
    ) -> ExchangeView:
        """Add an exchange for a request about to be sent (ready for deltas when this returns)."""
        view = ExchangeView(
            request,
            flush_hz=flush_hz,
            hold=hold,
            started_at=datetime.now(timezone.utc),
            number=self._exchange_count + 1,
        )
        self.cursor = None  # a new exchange: copy, logprobs … are about it again
        self._add_entry(view)
        self._streaming.append(view)
        self._start_flushing(view._flush_interval)
        return view

    async def show_recorded(
        self,
        request: CompletionRequest,
        result: CompletionResult | None,
        status: ExchangeStatus,
        error: str | None,
        render: Callable[[str], Any] | None,
        *,
        started_at: datetime | None = None,
    ) -> ExchangeView:
        """Add a finished exchange (from a session file, or a test's fixed record)."""
        view = ExchangeView(request, started_at=started_at, number=self._exchange_count + 1)
        self._add_entry(view)
        view.finish(status, result, error=error, render=render)
        return view

    async def clear(self) -> None:
        """Remove every exchange (the hint, if any, stays)."""
        for view in self._streaming:
            view.transcript = None
        self._streaming.clear()
        self._stop_flushing()
        kept = [entry for entry in self._row_index.entries if not isinstance(entry, ExchangeView)]
        for entry in self._row_index.entries:
            if isinstance(entry, ExchangeView):
                entry.transcript = None
        self._row_index.clear()
        self._strips.clear()  # cached rows would keep the old exchanges' text alive
        self._exchange_count = 0
        self._styling.clear()
        self.cursor = None
        self.clear_search()
        for entry in kept:
            self._add_entry(entry)
        self._content_changed()

    def exchange_finished(self, view: ExchangeView) -> None:
        if view in self._streaming:
            self._streaming.remove(view)
        if not self._streaming:
            self._stop_flushing()
        self.refresh()

    # -- flushing -----------------------------------------------------------------------------

    def _start_flushing(self, interval: float) -> None:
        if self._flush_timer is not None and interval == self._flush_interval:
            return
        self._stop_flushing()
        self._flush_interval = interval
        self._flush_timer = self.set_interval(interval, self._timed_flush)

    def _stop_flushing(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None

    def _timed_flush(self) -> None:
        for view in self._streaming:
            view.timed_flush()

    # -- drawing ------------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._band_styles = None
        self._strips.clear()

    def _base_style(self) -> Style:
        """The widget's own style, kept until the CSS changes: ``rich_style`` walks the
        ancestors' styles on each call (~12 µs), and every drawn row needs it."""
        style = self._styles.get("")
        if style is None:
            style = self._styles[""] = self.rich_style
        return style

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self._base_style() + self.get_component_rich_style(f"transcript--{name}", partial=True)
            self._styles[name] = style
        return style

    def _probability_styles(self) -> list[Style]:
        if self._band_styles is None:
            self._band_styles = [self._base_style() + style for style in theme_band_styles(self.app)]
        return self._band_styles

    def watch_show_probabilities(self) -> None:
        self._strips.clear()
        self.refresh()

    def _text_width(self) -> int:
        return max(1, self.scrollable_content_region.width - GUTTER - RIGHT_MARGIN)

    def _locate(self, row: int) -> tuple[int, Block, int] | None:
        """(entry position, block, row in block) for transcript row ``row``."""
        return self._row_index.locate(row)

    def _prepare_visible(self) -> None:
        """Before drawing: wrap at the current width, make the heights of the entries on screen
        and a screen above and below it exact (the others may still be estimates), and queue
        the visible finished texts for styling.

        An entry above the top that turns out taller or shorter than its estimate would push
        what is on screen down or up; the view scrolls by the same amount, so what the user
        reads stays where it is while they scroll up through a long session.
        """
        width = self._text_width()
        if width != self._width:
            self._set_width(width)
        else:
            self._measure_pending()
        height = self.scrollable_content_region.height
        for _ in range(3):  # exact heights can move the window; settles in one or two rounds
            top = int(self.scroll_y)
            changed, above = self._row_index.refine(top - height, top + 2 * height, anchor=top)
            if not changed:
                break
            self._set_virtual_height(self._row_index.total)
            if above and not self.following:
                self.scroll_to(y=self.scroll_y + above, animate=False, immediate=True)
        top = int(self.scroll_y)
        for position in self._row_index.visible(top, top + height):
            for block in self._row_index.entries[position].blocks:
                if block.style_with is not None and block not in self._styling:
                    self._styling.append(block)
        if self._styling and self._styling_task is None:
            self._styling_task = asyncio.create_task(self._style_blocks())

    def render_lines(self, crop: Region) -> list[Strip]:
        self._prepare_visible()
        self._drawing = True
        try:
            return super().render_lines(crop)
        finally:
            self._drawing = False

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        row = int(self.scroll_y) + y
        base = self._base_style()
        found = self._locate(row)
        if found is None:
            return Strip.blank(width, base)
        position, block, index = found
        entry = self._row_index.entries[position]
        bar_state = self._bar_state(entry)
        matches = self._matches_by_block.get(id(block))
        current = self._match_index if matches else -1
        text, start = block.content.row(index)
        # A row's token colours are final once the tokens cover its last character; until
        # then how far they reach is part of what is drawn.
        banded = -1
        if self.show_probabilities and block.bands is not None:
            banded = min(block.bands.covered(), start + len(text))
        # Keyed on the row's own text (not on the block's growth): while a block streams, its
        # finished rows stay drawn and only the tail row is drawn again.
        key = (
            block,
            block.version,
            index,
            text,
            width,
            bar_state,
            current,
            self._search_query,
            banded,
        )
        strip = self._strips.get(key)
        if strip is None:
            strip = self._draw_row(block, index, width, bar_state, matches)
            self._strips[key] = strip
        selection = self.text_selection
        if selection is not None and (span := selection.get_span(row)) is not None:
            start, end = span
            end = strip.cell_length if end == -1 else end
            selected = self.screen.get_component_rich_style("screen--selection")
            start = max(start, GUTTER)
            if end > start:
                before, chosen, after = strip.divide([start, end, strip.cell_length])
                strip = Strip.join([before, chosen.apply_style(selected), after])
        if self._drawing:
            # Drawn rows keep the few shared styles of their segments: offsets would give every
            # segment a style of its own, which Textual's per-style caches (the truecolor filter,
            # the escape codes) then miss on every frame of a stream.
            return strip
        # Asked for one row (the screen finding the text under the mouse, for selection): the
        # offsets tell it which row and column a mouse position is.
        return strip.apply_offsets(0, row)

    ALLOW_SELECT = True

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The selected text, without the gutter. Rows that only wrap a longer line are joined
        back into that line (a paragraph copied from the transcript pastes as the paragraph,
        not as rows of the width the transcript happened to have); real line ends stay."""
        self._measure_pending()
        total = self._row_index.total
        if not total or not self._width:
            return None
        first = selection.start.y if selection.start is not None else 0
        last = min(selection.end.y if selection.end is not None else total - 1, total - 1)
        # Columns count from the widget's edge; the text starts after the gutter.
        first_column = max(0, selection.start.x - GUTTER) if selection.start is not None else 0
        last_column = max(0, selection.end.x - GUTTER) if selection.end is not None else None
        parts: list[str] = []
        for row in range(first, last + 1):
            text, wraps_on = "", False
            found = self._locate(row)
            if found is not None:
                _, block, index = found
                text = block.content.row(index)[0]
                wraps_on = block.content.wraps_on(index)
            begin = _index_at_cell(text, first_column) if row == first else 0
            if row == last:
                end = None if last_column is None else _index_at_cell(text, last_column)
                parts.append(text.rstrip()[begin:end])
            elif wraps_on:  # the line goes on in the next row: no line break, its space kept
                parts.append(text[begin:])
            else:
                parts.append(text.rstrip()[begin:] + "\n")
        return "".join(parts), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()

    def _bar_state(self, entry: Entry) -> str:
        if not isinstance(entry, ExchangeView):
            return ""
        if self.cursor is not None and entry.number - 1 == self.cursor:
            return "cursor"
        if entry.status == "error":
            return "bar-error"
        if entry.status == "cancelled":
            return "bar-cancelled"
        return "bar"

    def _draw_row(
        self,
        block: Block,
        index: int,
        width: int,
        bar_state: str,
        matches: list[tuple[int, int, int]] | None,
    ) -> Strip:
        base = self._base_style()
        text, start = block.content.row(index)
        role = self._style(block.role)
        segments = [Segment(" ", base)]
        if bar_state:
            segments.append(Segment(CURSOR_BAR if bar_state == "cursor" else BAR, self._style(bar_state)))
        else:
            segments.append(Segment(" ", base))
        segments.append(Segment(" ", base))
        end = start + len(text)
        spans = self._row_spans(block, start, end, matches)
        if not spans and (block.role != "header" or bar_state != "cursor"):
            segments.append(Segment(text, role))
        elif block.role != "header" and _disjoint(spans):
            # The common coloured row (token bands, a prompt's lead): spans side by side,
            # cut straight into segments; Rich's Text is only needed where styles overlap.
            position = 0
            for span in spans:
                if span.start > position:
                    segments.append(Segment(text[position : span.start], role))
                segments.append(Segment(text[span.start : span.end], role + span.style))
                position = span.end
            if position < len(text):
                segments.append(Segment(text[position:], role))
        else:
            line = Text(text, style=role, end="")
            if block.role == "header" and bar_state == "cursor":
                line.stylize(self._style("cursor"))
            for span in spans:
                line.stylize(span.style, span.start, span.end)
            segments.extend(line.render(self.app.console))
        return Strip(segments).crop_extend(0, width, base)

    def _row_spans(
        self, block: Block, start: int, end: int, matches: list[tuple[int, int, int]] | None
    ) -> list[Span]:
        """Styles over the row's characters [start, end), as spans relative to the row."""
        spans: list[Span] = []
        if block.lead > start:
            spans.append(Span(0, min(block.lead, end) - start, self._style("prompt")))
        if block.spans:
            starts = block.span_starts
            low = bisect_left(starts, start - block.span_reach)
            high = bisect_left(starts, end)
            for span in block.spans[low:high]:
                if span.end > start:
                    spans.append(Span(max(span.start, start) - start, min(span.end, end) - start, span.style))
        if self.show_probabilities and block.bands is not None:
            styles = self._probability_styles()
            for band_start, band_end, level in block.bands.spans(start, end):
                spans.append(Span(band_start - start, band_end - start, styles[level]))
        if matches:
            for number, match_start, match_end in matches:
                if match_end > start and match_start < end:
                    name = "match-current" if number == self._match_index else "match"
                    spans.append(Span(max(match_start, start) - start, min(match_end, end) - start, self._style(name)))
        return spans

    # -- the finished rendering, off the UI thread -------------------------------------------

    async def _style_blocks(self) -> None:
        """Style finished texts in a thread, visible ones first; swap each in when ready.

        Styling never changes a character, so the rows stay where they are: the colours
        appear without the text moving. A long text has its visible lines styled first (a
        few milliseconds), then the whole of it (pygments on 100 KB of code takes ~0.5 s).
        """
        try:
            while self._styling:
                block = self._styling.pop(0)
                if block.style_with is None:
                    continue
                render, offset = block.style_with
                block.style_with = None
                text = block.content.text[offset:]
                window = getattr(render, "window", None)
                try:
                    if len(text) > VISIBLE_FIRST_CHARS and window is not None:
                        start, end = self._visible_range(block)
                        if end > offset:
                            spans = await asyncio.to_thread(window, text, max(0, start - offset), end - offset)
                            self._apply_spans(block, [Span(s.start + offset, s.end + offset, s.style) for s in spans])
                    rendered = await asyncio.to_thread(render, text)
                except Exception:  # noqa: BLE001 - a lexer failing on odd model output
                    continue  # the text stays as it is, plain: nothing is lost
                self._apply_spans(block, styled_spans(rendered, offset))
        finally:
            self._styling_task = None

    def _apply_spans(self, block: Block, spans: list[Span] | None) -> None:
        if not spans:
            return
        spans.sort(key=lambda span: span.start)
        block.spans = spans
        block.span_starts = [span.start for span in spans]
        block.span_reach = max(span.end - span.start for span in spans)
        block.version += 1
        self.refresh()

    def _visible_range(self, block: Block) -> tuple[int, int]:
        """The characters of ``block`` on screen now, as [start, end) (empty if none)."""
        top = int(self.scroll_y)
        bottom = top + self.scrollable_content_region.height
        first = last = None
        for row in range(top, min(bottom, self._row_index.total)):
            found = self._locate(row)
            if found is not None and found[1] is block:
                text, start = block.content.row(found[2])
                first = start if first is None else first
                last = start + len(text)
        return (first, last) if first is not None and last is not None else (0, 0)

    async def wait_styled(self) -> None:
        """Until every finished text on screen is styled (tests and snapshots wait on this)."""
        self._prepare_visible()
        while self._styling_task is not None:
            await self._styling_task
            self._prepare_visible()

    # -- following, scrolling -----------------------------------------------------------------

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self.following = new_value >= self.max_scroll_y - 1

    def page(self, pages: int) -> None:
        """Scroll by whole pages (the app binds shift+pageup/pagedown to it, from the prompt)."""
        self._measure_pending()
        height = max(1, self.scrollable_content_region.height - 1)
        self.scroll_to(y=self.scroll_y + pages * height, animate=False)

    # -- the exchange cursor ------------------------------------------------------------------

    def watch_cursor(self, old: int | None, new: int | None) -> None:
        self._strips.clear()
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        """A click on an exchange puts the cursor there (without scrolling)."""
        self._measure_pending()
        found = self._locate(int(self.scroll_y) + event.y)
        if found is not None:
            entry = self._row_index.entries[found[0]]
            if isinstance(entry, ExchangeView):
                self.cursor = entry.number - 1

    def scroll_to_exchange(self, index: int) -> None:
        """Bring exchange ``index``'s header into view (its start at the top if it is long)."""
        exchanges = self.exchanges
        self._measure_pending()
        if not 0 <= index < len(exchanges) or not self._width:
            return
        position = self._row_index.position(exchanges[index])
        if position is None:
            return
        top, bottom = self._row_index.start_of(position), self._row_index.end_of(position)
        view_top = int(self.scroll_y)
        view_height = self.scrollable_content_region.height
        if top < view_top or bottom > view_top + view_height:
            self.scroll_to(y=top if bottom - top > view_height or top < view_top else bottom - view_height, animate=False)

    def action_cursor(self, step: int) -> None:
        count = len(self.exchanges)
        if not count:
            return
        if self.cursor is None:
            self.cursor = count - 1 if step < 0 else 0
        else:
            self.cursor = max(0, min(count - 1, self.cursor + step))
        self.scroll_to_exchange(self.cursor)

    def action_clear_cursor(self) -> None:
        self.cursor = None

    def action_exchange(self, action: ExchangeActionName) -> None:
        exchange = self.selected
        if exchange is None:
            self.app.bell()
            return
        self.post_message(self.ExchangeAction(self, exchange, action))

    # -- search -------------------------------------------------------------------------------

    def action_search(self) -> None:
        from workbench.ui.transcript_search import TranscriptSearch

        self.app.push_screen(TranscriptSearch(self))

    def search(self, query: str) -> int:
        """Highlight every match of ``query`` (case-insensitive); returns how many."""
        self._search_query = query
        self._matches = []
        self._matches_by_block = {}
        self._match_index = -1
        if query:
            for entry in self._row_index.entries:
                for block in entry.blocks:
                    if not block.visible:
                        continue
                    text = block.content.text
                    for start in find_all(text, query):
                        number = len(self._matches)
                        self._matches.append(Match(entry, block, start, start + len(query)))
                        self._matches_by_block.setdefault(id(block), []).append(
                            (number, start, start + len(query))
                        )
        self._strips.clear()
        self.refresh()
        return len(self._matches)

    @property
    def match_count(self) -> int:
        return len(self._matches)

    @property
    def match_index(self) -> int:
        """The current match (from 0), or -1 before next/previous was used."""
        return self._match_index

    def next_match(self, step: int = 1) -> Match | None:
        """Go to the next (``step`` 1) or previous (-1) match, scrolling it into view."""
        if not self._matches:
            return None
        if self._match_index < 0:
            self._match_index = 0 if step > 0 else len(self._matches) - 1
        else:
            self._match_index = (self._match_index + step) % len(self._matches)
        match = self._matches[self._match_index]
        self._scroll_to_match(match)
        self._strips.clear()
        self.refresh()
        return match

    def _scroll_to_match(self, match: Match) -> None:
        self._measure_pending()
        if not self._width:
            return
        position = self._row_index.position(match.entry)
        if position is None:
            return
        entry = match.entry
        row = self._row_index.start_of(position)
        for block in entry.blocks:
            if block is match.block:
                block.row_count(self._width)
                row += block.content.row_of_offset(match.start)
                break
            row += block.row_count(self._width)
        view_top = int(self.scroll_y)
        height = self.scrollable_content_region.height
        if not view_top <= row < view_top + height:
            self.scroll_to(y=max(0, row - height // 2), animate=False)

    def clear_search(self) -> None:
        if self._search_query or self._matches:
            self.search("")

    # -- text for tests and copying -----------------------------------------------------------

    def lines_of(self, entry: Entry) -> list[str]:
        """The rows an entry shows at the current width (plain text)."""
        return entry.plain_lines(self._width or 80)

    def visible_text(self) -> str:
        """What the visible rows show, as plain text."""
        self._prepare_visible()
        rows = []
        top = int(self.scroll_y)
        for row in range(top, min(self._row_index.total, top + self.scrollable_content_region.height)):
            found = self._locate(row)
            if found is not None:
                rows.append(found[1].content.row(found[2])[0].rstrip())
        return "\n".join(rows)


def _index_at_cell(text: str, column: int) -> int:
    """The index of the character at cell ``column`` of ``text`` (a wide character takes two
    cells: the mouse's columns are cells, a string's slices are characters)."""
    if text.isascii():
        return min(column, len(text))
    cells = 0
    for index, character in enumerate(text):
        if cells >= column:
            return index
        cells += cell_len(character)
    return len(text)


def _disjoint(spans: list[Span]) -> bool:
    """True when the spans are in order and do not overlap (then each cell has one style)."""
    end = 0
    for span in spans:
        if span.start < end or span.end < span.start:
            return False
        end = span.end
    return True
