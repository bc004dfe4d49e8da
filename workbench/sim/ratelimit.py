"""The ``x-ratelimit-*`` headers: a plausible, decreasing budget (informational, never enforced).

Requests count against a daily budget that resets at UTC midnight; prompt + completion tokens
count against a per-minute budget whose window starts with the first request after a reset.
Remaining values stop at zero; only the ``rate-limit`` fault answers 429, so a long benchmark
never trips over the simulated quota.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

DEFAULT_REQUESTS_PER_DAY = 14_400
DEFAULT_TOKENS_PER_MINUTE = 1_000_000


class RateLimitLedger:
    def __init__(
        self,
        requests_per_day: int = DEFAULT_REQUESTS_PER_DAY,
        tokens_per_minute: int = DEFAULT_TOKENS_PER_MINUTE,
    ) -> None:
        self.requests_per_day = requests_per_day
        self.tokens_per_minute = tokens_per_minute
        self._requests_today = 0
        self._day: str | None = None
        self._tokens_this_minute = 0
        self._minute_started: float | None = None

    def record(self, *, tokens: int = 0, count_request: bool = True) -> None:
        now = time.time()
        today = datetime.fromtimestamp(now, timezone.utc).date().isoformat()
        if today != self._day:
            self._day, self._requests_today = today, 0
        if count_request:
            self._requests_today += 1
        if self._minute_started is None or now - self._minute_started >= 60.0:
            self._minute_started, self._tokens_this_minute = now, 0
        self._tokens_this_minute += tokens

    def headers(self) -> list[tuple[str, str]]:
        now = time.time()
        moment = datetime.fromtimestamp(now, timezone.utc)
        midnight = datetime.combine(
            moment.date() + timedelta(days=1), datetime.min.time(), timezone.utc
        )
        if self._minute_started is None or now - self._minute_started >= 60.0:
            tokens_used, minute_reset = 0, 60.0
        else:
            tokens_used, minute_reset = (
                self._tokens_this_minute,
                60.0 - (now - self._minute_started),
            )
        return [
            ("x-ratelimit-limit-requests-day", str(self.requests_per_day)),
            ("x-ratelimit-limit-tokens-minute", str(self.tokens_per_minute)),
            (
                "x-ratelimit-remaining-requests-day",
                str(max(0, self.requests_per_day - self._requests_today)),
            ),
            (
                "x-ratelimit-remaining-tokens-minute",
                str(max(0, self.tokens_per_minute - tokens_used)),
            ),
            ("x-ratelimit-reset-requests-day", f"{(midnight - moment).total_seconds():.2f}"),
            ("x-ratelimit-reset-tokens-minute", f"{minute_reset:.2f}"),
        ]
