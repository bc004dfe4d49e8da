"""Prompt templates: ``{{name}}`` is a variable, ``{{{{`` and ``}}}}`` are literal ``{{``/``}}``.

Deliberately tiny (no filters, loops or expressions): a prompt under test should read as the text
that is sent. Anything that looks like template syntax but is not valid is an error rather than
literal text, so a typo such as ``{{ text }`` cannot silently reach the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

# A variable name: what a CSV header or a TOML key would reasonably hold.
_VARIABLE = re.compile(r"\{\{[ \t]*([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*\}\}")


class TemplateError(ValueError):
    """A template that cannot be parsed; ``offset`` is where in the text the problem starts."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass(frozen=True, slots=True)
class Variable:
    name: str


Segment = str | Variable


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed template: literal text and variables, in order."""

    source: str
    segments: tuple[Segment, ...]

    @property
    def variables(self) -> tuple[str, ...]:
        """Variable names in order of first use, each once."""
        seen: dict[str, None] = {}
        for segment in self.segments:
            if isinstance(segment, Variable):
                seen.setdefault(segment.name, None)
        return tuple(seen)

    def render(self, values: Mapping[str, str]) -> str:
        """The text with every variable filled (KeyError names the first missing one)."""
        return "".join(
            values[segment.name] if isinstance(segment, Variable) else segment
            for segment in self.segments
        )


def parse(text: str) -> Template:
    """Parse ``text``; raises :class:`TemplateError` for a ``{{`` or ``}}`` that is neither a
    variable nor an escape."""
    segments: list[Segment] = []
    literal: list[str] = []
    position = 0
    length = len(text)
    while position < length:
        # Jump to the next brace pair: templates are mostly literal text.
        next_open = text.find("{{", position)
        next_close = text.find("}}", position)
        candidates = [i for i in (next_open, next_close) if i >= 0]
        if not candidates:
            literal.append(text[position:])
            break
        at = min(candidates)
        literal.append(text[position:at])
        if at == next_open:
            if text.startswith("{{{{", at):
                literal.append("{{")
                position = at + 4
                continue
            match = _VARIABLE.match(text, at)
            if match is None and text.startswith("{{{", at):
                # "{{{x}}": a literal "{" right before a variable.
                literal.append("{")
                position = at + 1
                continue
            if match is None:
                raise TemplateError(
                    f"'{{{{' at character {at + 1} does not start a variable such as "
                    "{{name}} (write {{{{ for a literal {{)",
                    at,
                )
            if literal:
                segments.append("".join(literal))
                literal = []
            segments.append(Variable(match.group(1)))
            position = match.end()
        else:
            if text.startswith("}}}}", at):
                literal.append("}}")
                position = at + 4
                continue
            raise TemplateError(
                f"'}}}}' at character {at + 1} closes no variable (write }}}}}}}} for a literal }}}})",
                at,
            )
    if literal and "".join(literal):
        segments.append("".join(literal))
    return Template(text, _merge_literals(segments))


def _merge_literals(segments: list[Segment]) -> tuple[Segment, ...]:
    merged: list[Segment] = []
    for segment in segments:
        if isinstance(segment, str) and merged and isinstance(merged[-1], str):
            merged[-1] = merged[-1] + segment
        elif segment != "":
            merged.append(segment)
    return tuple(merged)


def escape(text: str) -> str:
    """Literal text as template source (the inverse of what :func:`parse` does to literals)."""
    return text.replace("{{", "{{{{").replace("}}", "}}}}")
