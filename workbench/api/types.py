"""Typed results and stream events of the completions API.

Parsing is lenient on purpose (see ``shared/cerebras-api.md``): unknown fields are kept in
``raw``, missing ones are None, and unknown ``finish_reason`` strings are accepted as they are.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import Any, Mapping


# Larger numbers in an x-ratelimit-* header are garbage (and would not fit a TOML integer).
MAX_HEADER_NUMBER = 2.0**53


# What a TOML file (a saved session) can hold: a signed 64-bit integer.
INT64_MAX = 2**63 - 1


def _int_or_none(value: Any) -> int | None:
    """A server's integer, or None when it is not one a session file could hold."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if -INT64_MAX <= value <= INT64_MAX else None


def finite_float(value: Any) -> float | None:
    """A server's number as a finite float, or None (JSON from Python servers may say NaN)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Usage | None:
        if not isinstance(data, dict):
            return None
        return cls(
            prompt_tokens=_int_or_none(data.get("prompt_tokens")),
            completion_tokens=_int_or_none(data.get("completion_tokens")),
            total_tokens=_int_or_none(data.get("total_tokens")),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class TimeInfo:
    """Server-side timings in seconds."""

    queue_time: float | None = None
    prompt_time: float | None = None
    completion_time: float | None = None
    total_time: float | None = None
    created: float | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> TimeInfo | None:
        if not isinstance(data, dict):
            return None
        return cls(
            queue_time=finite_float(data.get("queue_time")),
            prompt_time=finite_float(data.get("prompt_time")),
            completion_time=finite_float(data.get("completion_time")),
            total_time=finite_float(data.get("total_time")),
            created=finite_float(data.get("created")),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class RateLimits:
    """The ``x-ratelimit-*`` headers Cerebras sends on every response (None when absent)."""

    limit_requests_day: int | None = None
    limit_tokens_minute: int | None = None
    remaining_requests_day: int | None = None
    remaining_tokens_minute: int | None = None
    reset_requests_day_s: float | None = None
    reset_tokens_minute_s: float | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateLimits:
        def number(name: str, kind: type) -> Any:
            # Garbage, inf, NaN, negative or absurd values read as absent: these are shown
            # and saved, and must never stop a response that otherwise succeeded.
            value = headers.get(name)
            if value is None or len(value) > 32:
                return None
            try:
                parsed = float(value)
            except ValueError:
                return None
            if not math.isfinite(parsed) or not 0 <= parsed <= MAX_HEADER_NUMBER:
                return None
            return int(parsed) if kind is int else parsed

        return cls(
            limit_requests_day=number("x-ratelimit-limit-requests-day", int),
            limit_tokens_minute=number("x-ratelimit-limit-tokens-minute", int),
            remaining_requests_day=number("x-ratelimit-remaining-requests-day", int),
            remaining_tokens_minute=number("x-ratelimit-remaining-tokens-minute", int),
            reset_requests_day_s=number("x-ratelimit-reset-requests-day", float),
            reset_tokens_minute_s=number("x-ratelimit-reset-tokens-minute", float),
        )

    @property
    def present(self) -> bool:
        return any(
            value is not None
            for value in (
                self.limit_requests_day,
                self.limit_tokens_minute,
                self.remaining_requests_day,
                self.remaining_tokens_minute,
            )
        )


@dataclass(frozen=True, slots=True)
class ClientMetrics:
    """What the client saw, in seconds on a monotonic clock, from the request being sent."""

    time_to_first_token_s: float | None = None
    wall_time_s: float | None = None
    completion_tokens: int | None = None
    # completion tokens / (last token time - first token time); wall time when only one chunk.
    client_tokens_per_s: float | None = None
    # usage.completion_tokens / time_info.completion_time: the speed Cerebras reports.
    server_tokens_per_s: float | None = None


@dataclass(slots=True)
class Choice:
    index: int
    text: str = ""
    tokens: list[int] | None = None
    finish_reason: str | None = None
    logprobs: dict[str, Any] | None = None


@dataclass(slots=True)
class CompletionResult:
    """A whole response: from a non-streaming call, or accumulated from a stream."""

    id: str | None = None
    model: str | None = None
    created: int | None = None
    system_fingerprint: str | None = None
    choices: list[Choice] = field(default_factory=list)
    usage: Usage | None = None
    time_info: TimeInfo | None = None
    rate_limits: RateLimits = field(default_factory=RateLimits)
    metrics: ClientMetrics = field(default_factory=ClientMetrics)
    raw: dict[str, Any] = field(default_factory=dict)
    _by_index: dict[int, Choice] = field(default_factory=dict, repr=False, compare=False)

    def choice(self, index: int) -> Choice:
        """The choice with this index, created on first use (streams may interleave them).

        Constant time for a known index; a new one is appended (the usual, increasing
        order) or inserted in place, so thousands of choices stay linear overall.
        """
        by_index = self._by_index
        if len(by_index) != len(self.choices):
            by_index.clear()  # choices was set or edited directly: index it again
            by_index.update((choice.index, choice) for choice in self.choices)
        existing = by_index.get(index)
        if existing is not None:
            return existing
        created = Choice(index=index)
        if not self.choices or self.choices[-1].index < index:
            self.choices.append(created)
        else:
            bisect.insort(self.choices, created, key=lambda c: c.index)
        by_index[index] = created
        return created

    @property
    def text(self) -> str:
        """Text of all choices, in index order (the usual single-choice case: its text)."""
        return "".join(choice.text for choice in self.choices)


# -- stream events ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResponseStarted:
    """Headers arrived: the request was accepted (after any retries)."""

    status: int
    rate_limits: RateLimits
    attempts: int = 1


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of one choice's output. ``tokens`` is set for ``return_raw_tokens``."""

    index: int
    text: str = ""
    tokens: tuple[int, ...] | None = None
    logprobs: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ChoiceFinished:
    index: int
    finish_reason: str | None


@dataclass(frozen=True, slots=True)
class StreamFinished:
    """The last event of a successful stream: the accumulated result with usage and metrics."""

    result: CompletionResult


StreamEvent = ResponseStarted | TextDelta | ChoiceFinished | StreamFinished
