"""Text that is safe to draw on a terminal (no Textual here; the CLI and the TUI share it).

Model output and server messages can contain ESC, CSI, OSC and other control characters;
written raw to a terminal they can recolour it, move the cursor, set the window title or write
to the clipboard. They are shown instead as the Python escape ``\\xNN`` (so ESC [ 3 1 m appears
as the visible text ``\\x1b[31m``). Newline and tab pass through. C1 controls (U+0080–U+009F)
are shown too: some terminals treat U+009B as CSI.
"""

from __future__ import annotations

import re

CONTROL_ESCAPES: dict[int, str] = {
    code: f"\\x{code:02x}"
    for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))
    if code not in (0x09, 0x0A)
}
"""Every control character but newline and tab, mapped to its visible ``\\xNN`` form."""


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible_controls(text: str) -> str:
    """``text`` with every control character except newline and tab shown as ``\\xNN``."""
    return text.translate(CONTROL_ESCAPES)


# Carriage returns are dropped (a lone CR would draw the rest of the line over its start) and
# tabs become four spaces (a terminal's tab stops do not follow the wrapped rows of a view).
_FOR_ROWS = {0x0D: None, 0x09: "    "}


def display_text(text: str) -> str:
    """``text`` as a line-based view draws it: CR dropped, tabs as spaces, controls visible.

    Text with nothing to change is returned as it is (the same object: a long completion is
    then held once, not once as received and once as shown)."""
    if "\t" not in text and _CONTROL.search(text) is None:
        return text
    return visible_controls(text.translate(_FOR_ROWS))
