"""Word-level diff of two lanes: the replay diff's engine (:mod:`workbench.sessions.diff`)
applied to lane texts, so both views mark changes the same way."""

from __future__ import annotations

from workbench.compare.runner import LaneState
from workbench.sessions.diff import Segment, inline_segments


def lane_segments(left: LaneState, right: LaneState) -> tuple[list[Segment], list[Segment]]:
    """(left spans, right spans): "equal" words on both sides, "delete" only on the left,
    "insert" only on the right."""
    return inline_segments(left.text, right.text)


def changed_words(segments: list[Segment]) -> int:
    """How many words the spans mark as changed (for a one-line summary of the diff)."""
    return sum(len(text.split()) for kind, text in segments if kind != "equal")
