"""Fitting the one-line status bar to the terminal's width, and its speed sparkline.

No widgets here: the status bar hands over what each item would say, this decides what fits,
so the choice can be tested at any width without a screen. Items give way in a fixed order —
the least useful first: the endpoint (static, shown at start-up), the speed history, the quota
(first shortened, then dropped), the badge's long form, the speed's long form, the prompt
gauge's long form; the model is cut last, with an ellipsis. The offline badge always stays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size

# Each label has one cell of padding either side.
PADDING = 2
# The model is cut no shorter than this (an id cut to three letters says nothing).
MIN_MODEL_CELLS = 10

BARS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True, slots=True)
class StatusItem:
    """What one part of the bar would say: its full text and, if it has one, a shorter one."""

    name: str
    text: str
    short: str | None = None


# (item, what it does) in the order things give way on a narrow bar.
GIVE_WAY: tuple[tuple[str, str], ...] = (
    ("endpoint", "drop"),
    ("speeds", "drop"),
    ("quota", "short"),
    ("badge", "short"),
    ("quota", "drop"),
    ("speed", "short"),
    ("gauge", "short"),
    ("model", "cut"),
    ("speed", "drop"),
    ("model", "cut"),  # again: the dropped item left it room
    ("gauge", "drop"),
    ("model", "cut"),
    ("model", "drop"),
)


def _width(texts: dict[str, str]) -> int:
    return sum(cell_len(text) + PADDING for text in texts.values() if text)


def cut(text: str, cells: int) -> str:
    """``text`` in at most ``cells`` cells, an ellipsis marking the cut."""
    if cell_len(text) <= cells:
        return text
    return set_cell_size(text, max(0, cells - 1)) + "…" if cells > 0 else ""


def fit_status(items: Sequence[StatusItem], width: int) -> dict[str, str]:
    """The text each item shows at ``width`` cells ("" = hidden), in the items' order."""
    by_name = {item.name: item for item in items}
    shown = {item.name: item.text for item in items}
    for name, how in GIVE_WAY:
        if _width(shown) <= width:
            break
        item = by_name.get(name)
        if item is None or not shown.get(name):
            continue
        if how == "drop":
            shown[name] = ""
        elif how == "short" and item.short is not None:
            shown[name] = item.short
        elif how == "cut":
            others = _width({k: v for k, v in shown.items() if k != name})
            room = width - others - PADDING
            if room >= MIN_MODEL_CELLS:
                shown[name] = cut(item.text, room)
    return shown


def sparkline(values: Sequence[float], cells: int) -> str:
    """The last ``cells`` values, one cell each, scaled between their own minimum and
    maximum (a single value or equal values sit mid-height: no range to show)."""
    recent = [v for v in values if v == v][-cells:] if cells > 0 else []  # NaN-free
    if not recent:
        return ""
    low, high = min(recent), max(recent)
    if high - low <= high * 1e-9:
        return BARS[len(BARS) // 2 - 1] * len(recent)
    top = len(BARS) - 1
    return "".join(BARS[round((value - low) / (high - low) * top)] for value in recent)
