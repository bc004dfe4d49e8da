"""When to retry and how long to wait: the official SDK's policy, as pure functions.

Matches ``cerebras-cloud-sdk`` 1.91 ``_base_client.py``: retry connection errors, timeouts, and
HTTP 408/409/429/≥500 unless the response says ``x-should-retry: false`` (``true`` forces a
retry of any status). The delay is the server's ``retry-after-ms`` / ``Retry-After`` (seconds or
an HTTP date) when that is in (0, 60] seconds, otherwise ``min(0.5·2ⁿ, 8)·(1 − 0.25·random)``
for retry n = 0, 1, …

The one rule the SDK lacks and the client adds on top: never retry a stream once text has
reached the caller (the retry would repeat it). That decision lives in the client.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import random as _random
import time
from dataclasses import dataclass
from typing import Awaitable, Callable, Mapping

Sleep = Callable[[float], Awaitable[None]]

#: ``on_retry(attempt, delay_s, reason)``: what ``CompletionClient`` calls before it waits to
#: retry; ``attempt`` is the number of the attempt about to be made (2 for the first retry),
#: ``reason`` one short phrase ("HTTP 429 rate limit", "connection failed", "timeout").
RetryCallback = Callable[[int, float, str], None]
#: waits at least this long deserve a word to the user (shorter ones pass unnoticed)
ANNOUNCE_RETRY_AFTER_S = 1.0

DEFAULT_MAX_RETRIES = 2
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
MAX_RETRY_AFTER = 60.0

RETRYABLE_STATUSES = frozenset({408, 409, 429})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int = DEFAULT_MAX_RETRIES
    initial_delay: float = INITIAL_RETRY_DELAY
    max_delay: float = MAX_RETRY_DELAY
    max_retry_after: float = MAX_RETRY_AFTER

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be 0 or more")


def should_retry_status(status: int, headers: Mapping[str, str]) -> bool:
    """Whether an error response is worth another attempt (``headers`` keys lower-case or an
    httpx.Headers, which is case-insensitive)."""
    override = headers.get("x-should-retry")
    if override == "true":
        return True
    if override == "false":
        return False
    return status in RETRYABLE_STATUSES or status >= 500


def retry_after_seconds(
    headers: Mapping[str, str] | None, *, now: Callable[[], float] = time.time
) -> float | None:
    """The wait the server asked for, in seconds, or None when it asked for none we can read.

    As in the SDK, a parseable ``retry-after-ms`` wins even when it is out of range (the caller
    then falls back to backoff rather than to ``Retry-After``).
    """
    if headers is None:
        return None
    value_ms = headers.get("retry-after-ms")
    if value_ms is not None:
        seconds = _finite(value_ms)
        if seconds is not None:
            return seconds / 1000
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _finite(value)
    if seconds is not None:
        return seconds
    if len(value) > 64:
        return None  # no HTTP date is that long
    try:
        parsed = email.utils.parsedate_tz(value)
        if parsed is None:
            return None
        return _finite(email.utils.mktime_tz(parsed) - now())
    except (ValueError, OverflowError, TypeError, IndexError):
        return None


def _finite(value: object) -> float | None:
    """A header's number, or None when it is not one (``inf``, ``nan``, text, absurdly long)."""
    try:
        number = float(value) if not isinstance(value, str) or len(value) <= 64 else math.nan
    except (ValueError, TypeError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def retry_delay(
    retries_taken: int,
    headers: Mapping[str, str] | None = None,
    *,
    policy: RetryPolicy = RetryPolicy(),
    random: Callable[[], float] = _random.random,
    now: Callable[[], float] = time.time,
) -> float:
    """Seconds to wait before retry number ``retries_taken`` (0 for the first retry)."""
    # inf, NaN, negative and huge waits are never obeyed (retry_after_seconds gives None
    # for the first two; the range check drops the others).
    asked = retry_after_seconds(headers, now=now)
    if asked is not None and 0 < asked <= policy.max_retry_after:
        return asked
    exponent = min(retries_taken, 1000)  # the SDK caps it too, to keep pow() finite
    backoff = min(policy.initial_delay * 2.0**exponent, policy.max_delay)
    return max(backoff * (1 - 0.25 * random()), 0.0)


def retry_notice(
    attempt: int, delay_s: float, reason: str, max_attempts: int | None = None
) -> str:
    """One line for the user about a retry wait: ``"HTTP 429 rate limit: retrying in 60 s
    (attempt 2 of 3)"``."""
    wait = f"{delay_s:.0f} s" if delay_s >= 10 else f"{delay_s:.1f} s"
    of = f" of {max_attempts}" if max_attempts else ""
    return f"{reason}: retrying in {wait} (attempt {attempt}{of})"


async def real_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)
