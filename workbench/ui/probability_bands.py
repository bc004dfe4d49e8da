"""Where each generated token lies in the transcript's text, and how likely it was.

The transcript draws a choice's output from one text block; with the probability view on, each
token's characters get the style of its probability band (``workbench.api.logprobs.band``).
Token boundaries are worked out incrementally as logprobs arrive with the stream, so colouring
a 2,000 tok/s stream costs a few list appends per flush, not a pass over the whole text.

The styles are one sequential scale blended from the theme's background towards its error
colour (a single hue: readable with every common colour-vision deficiency); with the ANSI theme
(what NO_COLOR selects) the least likely tokens are underlined and reversed instead.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any, Callable

from rich.style import Style
from textual.color import Color

from workbench.api.logprobs import band, probability_of, token_probs
from workbench.terminal_text import display_text

LogprobsSource = Callable[[], "dict[str, Any] | None"]


def band_styles(background: str, hot: str, *, monochrome: bool) -> list[Style]:
    """One style per probability band (0 = near certain … 4 = surprising)."""
    if monochrome:
        return [
            Style(),
            Style(),
            Style(italic=True),
            Style(underline=True),
            Style(underline=True, reverse=True),
        ]
    base = Color.parse(background)
    target = Color.parse(hot)
    styles = [Style()]
    for factor in (0.18, 0.38, 0.6, 0.85):
        shade = base.blend(target, factor)
        styles.append(Style(bgcolor=shade.rich_color, color=shade.get_contrast_text(1.0).rich_color))
    return styles


def theme_band_styles(app: Any) -> list[Style]:
    """:func:`band_styles` for the app's current theme (monochrome for ANSI / NO_COLOR)."""
    theme = app.current_theme
    monochrome = bool(getattr(theme, "name", "").endswith("ansi")) or bool(app.no_color)
    return band_styles(theme.background or "#000000", theme.error or "#ff0000", monochrome=monochrome)


class TokenBands:
    """The band of every token shown so far in one output block, by character offset.

    ``source`` returns the choice's logprobs as they stand (they grow while streaming);
    ``lead`` is where the completion starts in the block (after a prompt it continues).
    """

    __slots__ = ("_source", "_lead", "_starts", "_bands", "_consumed", "_offset", "_whole")

    def __init__(self, source: LogprobsSource, lead: int = 0) -> None:
        self._source = source
        self._lead = lead
        self._starts: list[int] = []
        self._bands: list[int | None] = []
        self._consumed = 0
        self._offset = lead
        self._whole = False  # the per-token list shape (llama.cpp) is read once, at the end

    def catch_up(self) -> None:
        """Read the tokens that arrived since the last call (cheap when none did)."""
        logprobs = self._source()
        if not isinstance(logprobs, dict):
            return
        tokens = logprobs.get("tokens")
        if isinstance(tokens, list):
            if self._consumed >= len(tokens):
                return  # nothing new: the common case, once per drawn row
            values = logprobs.get("token_logprobs")
            values = values if isinstance(values, list) else []
            for position in range(self._consumed, len(tokens)):
                token = tokens[position]
                if not isinstance(token, str):
                    break
                self._add(token, values[position] if position < len(values) else None)
                self._consumed = position + 1
        elif not self._whole and isinstance(logprobs.get("content"), list):
            for token in token_probs(logprobs) or []:
                self._add(token.token, token.logprob)
            self._whole = True

    def _add(self, token: str, logprob: Any) -> None:
        self._starts.append(self._offset)
        self._bands.append(band(probability_of(logprob)))
        self._offset += len(display_text(token))

    def covered(self) -> int:
        """The character offset up to which tokens are known (the rows before it are final)."""
        self.catch_up()
        return self._offset

    def spans(self, start: int, end: int) -> list[tuple[int, int, int]]:
        """(start, end, band) of the tokens over characters [start, end) of the block."""
        self.catch_up()
        starts = self._starts
        out: list[tuple[int, int, int]] = []
        position = max(0, bisect_right(starts, start) - 1)
        while position < len(starts) and starts[position] < end:
            token_end = starts[position + 1] if position + 1 < len(starts) else self._offset
            level = self._bands[position]
            if level and token_end > start:  # band 0 (near certain) is drawn plain
                piece_start, piece_end = max(starts[position], start), min(token_end, end)
                if out and out[-1][2] == level and out[-1][1] == piece_start:
                    # Neighbours in one band are one span: fewer segments for the terminal.
                    out[-1] = (out[-1][0], piece_end, level)
                else:
                    out.append((piece_start, piece_end, level))
            position += 1
        return out
