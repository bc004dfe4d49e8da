"""Summarise a py-spy ``--format raw`` (collapsed stacks) profile: top frames, self and inclusive.

Run: ``python bench/_profile_summary.py PROFILE [--top 25] [--match workbench/]``.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter

_LINE = re.compile(r"\s*\(([^)]*?):\d+\)$")


def _function(frame: str) -> str:
    """'name (path:line)' -> 'name (path)', so lines of one function count together."""
    return _LINE.sub(lambda m: f" ({m.group(1)})", frame.strip())


def summarise(path: str) -> tuple[int, Counter[str], Counter[str]]:
    total = 0
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    with open(path, encoding="utf-8", errors="replace") as profile:
        for line in profile:
            stack, _, count_text = line.rstrip("\n").rpartition(" ")
            if not stack:
                continue
            count = int(count_text)
            frames = [_function(frame) for frame in stack.split(";")]
            total += count
            own[frames[-1]] += count
            for frame in set(frames):
                inclusive[frame] += count
    return total, own, inclusive


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("profile")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--match", default="", help="only frames containing this text (inclusive list)")
    args = parser.parse_args()
    total, own, inclusive = summarise(args.profile)
    print(f"{total} samples")
    print("-- self time --")
    for frame, count in own.most_common(args.top):
        print(f"{100 * count / total:5.1f}%  {frame}")
    print(f"-- inclusive time{' of frames matching ' + args.match if args.match else ''} --")
    shown = 0
    for frame, count in inclusive.most_common():
        if args.match in frame:
            print(f"{100 * count / total:5.1f}%  {frame}")
            shown += 1
            if shown >= args.top:
                break


if __name__ == "__main__":
    main()
