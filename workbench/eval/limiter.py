"""How many cells may be in flight: adaptive, so a rate-limited run slows down by itself.

Additive increase, multiplicative decrease (as TCP does): a 429 halves the limit and pauses
*every* sender until the server's ``Retry-After`` has passed; each run of ``limit`` successes in
a row raises the limit by one, up to the ``--concurrency`` the user asked for. The
``x-ratelimit-*`` headers of a success are read too: when the tokens left this minute would not
cover the requests in flight, sending pauses until the minute resets instead of collecting a
row of 429s.
"""

from __future__ import annotations

import asyncio
import time
from typing import Callable

from workbench.api.types import RateLimits

# A reset further away than this is not waited for (the server's own 429 will say how long).
MAX_PAUSE_S = 60.0


class AdaptiveLimiter:
    def __init__(self, maximum: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if maximum < 1:
            raise ValueError("concurrency must be at least 1")
        self.maximum = maximum
        self.limit = maximum
        self.in_flight = 0
        self.paused_until = 0.0
        self.waits = 0  # how many times sending paused (429s and exhausted quotas)
        self._successes = 0
        self._clock = clock
        self._changed = asyncio.Condition()

    @property
    def pause_left(self) -> float:
        return max(0.0, self.paused_until - self._clock())

    async def acquire(self) -> None:
        async with self._changed:
            while True:
                pause = self.pause_left
                if pause > 0:
                    try:
                        await asyncio.wait_for(self._changed.wait(), pause)
                    except TimeoutError:
                        pass
                    continue
                if self.in_flight < self.limit:
                    self.in_flight += 1
                    return
                await self._changed.wait()

    async def release(self) -> None:
        async with self._changed:
            self.in_flight -= 1
            self._changed.notify_all()

    def rate_limited(self, delay: float) -> None:
        """A 429: halve the limit and pause everyone for ``delay`` seconds."""
        self.waits += 1
        self.limit = max(1, self.limit // 2)
        self._successes = 0
        self.paused_until = max(self.paused_until, self._clock() + min(delay, MAX_PAUSE_S))

    def succeeded(self, rate_limits: RateLimits | None, tokens_per_request: int) -> None:
        self._successes += 1
        if self._successes >= self.limit and self.limit < self.maximum:
            self.limit += 1
            self._successes = 0
        if rate_limits is None:
            return
        remaining = rate_limits.remaining_tokens_minute
        reset = rate_limits.reset_tokens_minute_s
        if remaining is None or reset is None or not 0 < reset <= MAX_PAUSE_S:
            return
        if remaining < tokens_per_request * max(1, self.in_flight):
            self.waits += 1
            self.paused_until = max(self.paused_until, self._clock() + reset)
