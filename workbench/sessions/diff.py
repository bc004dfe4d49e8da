"""Comparing a saved output with a replayed one: the verdict, a unified diff, inline spans."""

from __future__ import annotations

import difflib
from typing import Literal

from workbench.sessions.model import Exchange

Verdict = Literal["same", "different"]


def comparable_text(exchange: Exchange) -> str:
    """What a replay must reproduce: each choice's text (or token ids) and finish reason, and
    the outcome status. Written as text so the difference can be shown as a diff."""
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
    status = exchange.status + (f": {exchange.error}" if exchange.error else "")
    if exchange.status != "complete":
        lines.append(f"[status: {status}]\n")
    return "".join(lines)


def verdict(saved: Exchange, replayed: Exchange) -> Verdict:
    return "same" if comparable_text(saved) == comparable_text(replayed) else "different"


def unified(saved: Exchange, replayed: Exchange, *, label: str = "") -> str:
    """A unified diff from the saved output to the replayed one ('' when they are the same)."""
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
