"""Variants: a compare lane is the base request plus field overrides.

Parsed and type-checked by :mod:`workbench.api.fields` (the registry every layer shares) and
validated by :meth:`CompletionRequest.validate`, so a lane is refused by exactly the rules that
refuse the sidebar's request, with the field named and the nearest valid name suggested.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from workbench.api.fields import (
    FIELD_NAMES,
    FieldValueError,
    apply_overrides,
    encode_escapes,
    parse_overrides,
)
from workbench.api.request import CompletionRequest

MIN_LANES = 2
MAX_LANES = 8  # headless; the TUI shows at most MAX_SCREEN_LANES
MAX_SCREEN_LANES = 4


class VariantError(ValueError):
    """A lane that cannot be sent; ``lane`` is 0-based, ``field`` names the culprit when known."""

    def __init__(self, message: str, *, lane: int | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.lane = lane
        self.field = field


@dataclass(frozen=True, slots=True)
class Variant:
    """One lane's overrides (field name -> value; None unsets the base's value)."""

    overrides: dict[str, Any] = field(default_factory=dict)
    label: str = ""

    @property
    def title(self) -> str:
        """What a header shows: the label, else the overrides, else "base"."""
        return self.label or describe(self.overrides) or "base request"


def format_value(value: Any) -> str:
    """A value as it would be typed after ``KEY=`` (so a description can be pasted back)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return encode_escapes(value)
    if isinstance(value, list):
        # One sequence may be written bare, unless it would read back as something else: a
        # comma (the next override), "none"/"null" or blank (unset), a JSON array, or spaces
        # at its ends (stripped).
        if len(value) == 1 and isinstance(value[0], str) and _bare_ok(value[0]):
            return encode_escapes(value[0])
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _bare_ok(text: str) -> bool:
    stripped = text.strip()
    return (
        "," not in text
        and stripped == text
        and stripped.lower() not in ("", "none", "null")
        and not stripped.startswith("[")
    )


def describe(overrides: Mapping[str, Any]) -> str:
    """``model=qwen-3-32b,temperature=0.2``: the overrides in the form ``--lane`` takes,
    in the registry's field order."""
    order = {name: position for position, name in enumerate(FIELD_NAMES)}
    names = sorted(overrides, key=lambda name: order.get(name, len(order)))
    return ",".join(f"{name}={format_value(overrides[name])}" for name in names)


def parse_variant(text: str, *, lane: int | None = None) -> Variant:
    """``"model=x,temperature=0.2"`` as a :class:`Variant` (raises :class:`VariantError`)."""
    try:
        return Variant(parse_overrides(text))
    except FieldValueError as error:
        raise _lane_error(str(error), lane, error.field) from None


def lane_request(base: CompletionRequest, variant: Variant, *, lane: int | None = None) -> CompletionRequest:
    """The request lane ``lane`` sends; raises :class:`VariantError` naming the first broken
    field (``validate()``'s rules, the same as for any request)."""
    try:
        request = apply_overrides(base, variant.overrides)
    except FieldValueError as error:
        raise _lane_error(str(error), lane, error.field) from None
    errors = request.validate()
    if errors:
        first = errors[0]
        raise _lane_error(str(first), lane, first.field)
    return request


def lane_requests(base: CompletionRequest, variants: Sequence[Variant]) -> list[CompletionRequest]:
    """Every lane's request, checked before anything is sent; also checks the lane count."""
    check_lane_count(len(variants), MAX_LANES)
    return [lane_request(base, variant, lane=index) for index, variant in enumerate(variants)]


def check_lane_count(count: int, most: int = MAX_LANES) -> None:
    if count < MIN_LANES:
        raise VariantError(
            f"compare needs at least {MIN_LANES} lanes, got {count} "
            "(e.g. --lane model=llama3.1-8b --lane model=qwen-3-32b)"
        )
    if count > most:
        raise VariantError(f"compare takes at most {most} lanes, got {count}")


def _lane_error(message: str, lane: int | None, field_name: str | None) -> VariantError:
    prefix = f"lane {lane + 1}: " if lane is not None else ""
    return VariantError(prefix + message, lane=lane, field=field_name)

