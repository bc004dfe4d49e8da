"""Comparing a saved output with a replayed one: the verdict, a unified diff, inline spans."""

from __future__ import annotations

import difflib
import re
from typing import Literal

from workbench.sessions.model import Exchange

Verdict = Literal["same", "different"]


# How the app has rendered an error around the server's words: the TUI's "label (HTTP 400): "
# prefix, and the client's retry note. Neither is part of what the server said.
_TUI_PREFIX = re.compile(r"^[a-z][a-z ]* \(HTTP \d{3}\): ")
_RETRY_NOTE = re.compile(r" \(gave up after \d+ attempts\)")


def error_text(exchange: Exchange) -> str:
    """The error as the server put it: structured when recorded (status and the server's own
    message), else the saved message without the app's own wrapping."""
    if exchange.http_status is not None:
        said = exchange.server_message or ""
        return f"HTTP {exchange.http_status}" + (f": {said}" if said else "")
    return _RETRY_NOTE.sub("", _TUI_PREFIX.sub("", exchange.error or "")).strip()


def same_outcome(saved: Exchange, replayed: Exchange) -> bool:
    """Same status, and for errors the same HTTP status and server message. Never compares
    renderings: "bad request (HTTP 400): Bad request (400): x" (the TUI's) equals a replayed
    "Bad request (400): x" (the CLI's), and a retry count or a host name does not matter."""
    if saved.status != replayed.status:
        return False
    if saved.status != "error":
        return True
    if saved.http_status is not None and replayed.http_status is not None:
        return (saved.http_status, saved.server_message or "") == (
            replayed.http_status,
            replayed.server_message or "",
        )
    structured = saved if saved.http_status is not None else replayed
    other = replayed if structured is saved else saved
    if structured.http_status is not None:
        # One side recorded the status and message, the other only a rendering of them.
        text = other.error or ""
        return str(structured.http_status) in text and (structured.server_message or "") in text
    return error_text(saved) == error_text(replayed)


def comparable_text(exchange: Exchange) -> str:
    """What a replay must reproduce: each choice's text (or token ids) and finish reason, and
    the outcome status. Written as text so the difference can be shown as a diff."""
    return _outputs(exchange) + _status_line(exchange)


def _status_line(exchange: Exchange) -> str:
    if exchange.status == "error":
        return f"[status: error: {error_text(exchange)}]\n"
    if exchange.status != "complete":
        return f"[status: {exchange.status}]\n"
    return ""


def _outputs(exchange: Exchange) -> str:
    lines: list[str] = []
    choices = sorted(exchange.choices, key=lambda c: c.index)
    for choice in choices:
        if len(choices) > 1:
            lines.append(f"[choice {choice.index}]\n")
        if choice.tokens is not None and not choice.text:
            body = " ".join(str(t) for t in choice.tokens)
        else:
            body = choice.text
        lines.extend(body.splitlines(keepends=True))
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines.append(f"[finish_reason: {choice.finish_reason or 'none'}]\n")
    return "".join(lines)


def verdict(saved: Exchange, replayed: Exchange) -> Verdict:
    same = _outputs(saved) == _outputs(replayed) and same_outcome(saved, replayed)
    return "same" if same else "different"


def unified(saved: Exchange, replayed: Exchange, *, label: str = "") -> str:
    """A unified diff from the saved output to the replayed one ('' when they are the same)."""
    if verdict(saved, replayed) == "same":
        return ""
    before = comparable_text(saved).splitlines(keepends=True)
    after = comparable_text(replayed).splitlines(keepends=True)
    prefix = f"{label} " if label else ""
    return "".join(
        difflib.unified_diff(before, after, fromfile=f"{prefix}saved", tofile=f"{prefix}replayed")
    )


Segment = tuple[Literal["equal", "delete", "insert"], str]


def inline_segments(saved: str, replayed: str) -> tuple[list[Segment], list[Segment]]:
    """Word-level spans for showing the two texts side by side with changes highlighted."""
    a, b = _words(saved), _words(replayed)
    left: list[Segment] = []
    right: list[Segment] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            left.append(("equal", "".join(a[i1:i2])))
            right.append(("equal", "".join(b[j1:j2])))
            continue
        if i2 > i1:
            left.append(("delete", "".join(a[i1:i2])))
        if j2 > j1:
            right.append(("insert", "".join(b[j1:j2])))
    return left, right


def _words(text: str) -> list[str]:
    """Split into words with their trailing whitespace, so joining gives the text back."""
    pieces: list[str] = []
    start = 0
    length = len(text)
    index = 0
    while index < length:
        while index < length and not text[index].isspace():
            index += 1
        while index < length and text[index].isspace():
            index += 1
        pieces.append(text[start:index])
        start = index
    return pieces
