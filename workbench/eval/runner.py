"""Send every cell, a few at a time, and turn each answer into a :class:`CellRecord`.

The client is used with its own retries off: the runner retries, so that it *sees* each 429
(to slow every sender down, see :mod:`workbench.eval.limiter`) and can count the waits for the
progress line. Other failures are retried as the client would (408/409/5xx and connection
errors, ``retries`` times, with the SDK's back-off); a cell that still fails is recorded as an
error and the run goes on. Re-sending a cell whose stream broke is safe here: nothing of it was
shown to anyone.

If the first cells *all* fail the same way (no key, nothing listening, an unknown model for
every variant) the run stops early instead of failing thousands of cells one by one.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Awaitable, Callable, Sequence

from workbench.api import errors
from workbench.api.client import CompletionClient
from workbench.api.retry import retry_after_seconds, retry_delay, should_retry_status
from workbench.api.types import CompletionResult
from workbench.eval.limiter import AdaptiveLimiter
from workbench.eval.plan import Cell, request_digest
from workbench.eval.results import CellRecord

DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 64
MAX_RATE_LIMIT_WAITS = 10  # 429s one cell waits through before it counts as an error
GIVE_UP_AFTER = 10  # the first this many cells all failing alike stops the run

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Progress:
    done: int
    total: int
    failed: int  # failed assertions
    errored: int  # no usable answer
    waits: int  # pauses for rate limits so far
    waiting_s: float  # pause left now (0 when sending)
    concurrency: int  # the limit now
    elapsed_s: float

    @property
    def eta_s(self) -> float | None:
        if self.done == 0 or self.done >= self.total:
            return None
        return self.elapsed_s / self.done * (self.total - self.done)


def judge(cell: Cell, record: CellRecord) -> CellRecord:
    """Fill ``status`` and ``failures`` from the cell's assertions (errors stay errors)."""
    if record.status == "error":
        record.failures = []
        return record
    observed = record.observed()
    failures = []
    for assertion in cell.case.assertions:
        outcome = assertion.evaluate(observed)
        if not outcome.passed:
            failures.append({"assertion": outcome.assertion, "message": outcome.message})
    record.failures = failures
    record.status = "fail" if failures else "pass"
    return record


def record_result(cell: Cell, result: CompletionResult, attempts: int, waits: int) -> CellRecord:
    choices = sorted(result.choices, key=lambda c: c.index)
    usage: dict[str, int] = {}
    if result.usage is not None:
        for name in ("prompt_tokens", "completion_tokens", "total_tokens"):
            value = getattr(result.usage, name)
            if value is not None:
                usage[name] = value
    metrics: dict[str, float] = {}
    for name, value in (
        ("ttft_s", result.metrics.time_to_first_token_s),
        ("wall_s", result.metrics.wall_time_s),
        ("tokens_per_s", result.metrics.client_tokens_per_s),
        ("server_tokens_per_s", result.metrics.server_tokens_per_s),
    ):
        if value is not None:
            metrics[name] = float(value)
    record = CellRecord(
        case=cell.case.name,
        variant=cell.variant.name,
        digest=request_digest(cell.request),
        status="pass",
        request=cell.request.to_body(),
        outputs=[choice.text for choice in choices] or [""],
        finish_reasons=[c.finish_reason for c in choices if c.finish_reason is not None],
        usage=usage,
        metrics=metrics,
        attempts=attempts,
        rate_limited=waits,
    )
    return judge(cell, record)


def record_error(cell: Cell, error: BaseException, attempts: int, waits: int, kind: str) -> CellRecord:
    message = error.message if isinstance(error, errors.WorkbenchAPIError) else str(error)
    return CellRecord(
        case=cell.case.name,
        variant=cell.variant.name,
        digest=request_digest(cell.request),
        status="error",
        request=cell.request.to_body(),
        error=message,
        error_kind=kind,
        attempts=attempts,
        rate_limited=waits,
    )


def error_kind(error: BaseException) -> str:
    return "network" if isinstance(error, errors.APIConnectionError) else "api"


class EvalRunner:
    """One run: ``await runner.run(cells)``; records go to ``on_record`` as they finish."""

    def __init__(
        self,
        client: CompletionClient,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        retries: int = 2,
        on_record: Callable[[CellRecord], None] = lambda record: None,
        on_progress: Callable[[Progress], None] = lambda progress: None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.limiter = AdaptiveLimiter(concurrency, clock=clock)
        self.retries = retries
        self.on_record = on_record
        self.on_progress = on_progress
        self._sleep = sleep
        self._clock = clock
        self.records: list[CellRecord] = []
        self.gave_up: str | None = None  # why the run stopped early
        self._failed = self._errored = 0
        self._total = 0
        self._started = 0.0

    def progress(self) -> Progress:
        return Progress(
            done=len(self.records),
            total=self._total,
            failed=self._failed,
            errored=self._errored,
            waits=self.limiter.waits,
            waiting_s=self.limiter.pause_left,
            concurrency=self.limiter.limit,
            elapsed_s=self._clock() - self._started,
        )

    async def run(self, cells: Sequence[Cell]) -> list[CellRecord]:
        self._total = len(cells)
        self._started = self._clock()
        queue = list(reversed(cells))
        workers = [
            asyncio.create_task(self._worker(queue), name=f"eval-worker-{n}")
            for n in range(min(self.limiter.maximum, len(cells)))
        ]
        try:
            await asyncio.gather(*workers)
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        if self.gave_up is not None:
            kind = self.records[0].error_kind or "api"  # what failed: the API or the network
            for cell in reversed(queue):
                self._finish(record_error(cell, RuntimeError(f"not sent: {self.gave_up}"), 0, 0, kind))
        return self.records

    async def _worker(self, queue: list[Cell]) -> None:
        while queue and self.gave_up is None:
            cell = queue.pop()
            self._finish(await self._send(cell))

    def _finish(self, record: CellRecord) -> None:
        self.records.append(record)
        if record.status == "fail":
            self._failed += 1
        elif record.status == "error":
            self._errored += 1
        self.on_record(record)
        self._check_give_up()
        self.on_progress(self.progress())

    def _check_give_up(self) -> None:
        if self.gave_up is not None or len(self.records) != min(GIVE_UP_AFTER, self._total):
            return
        if self._total <= GIVE_UP_AFTER:
            return  # nothing left to save
        first = self.records
        if all(r.status == "error" for r in first) and len({r.error_kind for r in first}) == 1:
            self.gave_up = f"the first {len(first)} cells all failed: {first[0].error}"

    async def _send(self, cell: Cell) -> CellRecord:
        attempts = waits = retries_taken = 0
        while True:
            await self.limiter.acquire()
            attempts += 1
            try:
                result = await self.client.collect(cell.request)
            except errors.RateLimitError as error:
                if waits >= MAX_RATE_LIMIT_WAITS:
                    return record_error(cell, error, attempts, waits, "api")
                waits += 1
                self.limiter.rate_limited(self._rate_limit_delay(error, waits))
                self.on_progress(self.progress())
                continue
            except (errors.APIStatusError, errors.APIConnectionError) as error:
                headers = error.headers if isinstance(error, errors.APIStatusError) else None
                retryable = isinstance(error, errors.APIConnectionError) or should_retry_status(
                    error.status_code, error.headers  # type: ignore[union-attr]
                )
                if not retryable or retries_taken >= self.retries:
                    return record_error(cell, error, attempts, waits, error_kind(error))
                delay = retry_delay(retries_taken, headers)
                retries_taken += 1
            except errors.WorkbenchAPIError as error:  # protocol errors: not worth repeating
                return record_error(cell, error, attempts, waits, "api")
            else:
                tokens = (cell.request.max_tokens or 256) * (cell.request.n or 1)
                self.limiter.succeeded(result.rate_limits, tokens)
                return record_result(cell, result, attempts, waits)
            finally:
                await self.limiter.release()
            await self._sleep(delay)

    @staticmethod
    def _rate_limit_delay(error: errors.RateLimitError, waits: int) -> float:
        asked = retry_after_seconds(error.headers)
        if asked is not None and 0 < asked <= 60:
            return asked
        return retry_delay(waits - 1, None)
