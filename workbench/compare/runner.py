"""Run every lane of a compare at once, each on its own stream.

Each lane is one task. Retries happen here, per lane, rather than inside the client: a lane
told to wait (429 with Retry-After, 503, a refused connection …) shows that it is waiting and
for how long, while the other lanes go on streaming. The rule is the client's own
(:mod:`workbench.api.retry`): the server's Retry-After when it gives one, else backoff, and
never once the response has started (text would be delivered twice).

Text is not pushed anywhere: each lane keeps what arrived since it was last asked
(:meth:`LaneState.take_pending`), so a screen drains it once per frame and a fast stream costs
one append per frame, whatever the token rate (see docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Awaitable, Callable, Literal, Sequence

from workbench.api.client import CompletionClient, CompletionStream
from workbench.api.errors import APIConnectionError, APIStatusError, WorkbenchAPIError
from workbench.api.request import CompletionRequest
from workbench.api.retry import RetryPolicy, retry_delay, should_retry_status
from workbench.api.types import (
    ChoiceFinished,
    CompletionResult,
    ResponseStarted,
    StreamFinished,
    TextDelta,
)
from workbench.compare.variants import Variant
from workbench.sessions.ids import new_id

LaneStatus = Literal["pending", "waiting", "streaming", "complete", "cancelled", "error"]
FINAL_STATUSES = frozenset({"complete", "cancelled", "error"})
# Until a lane has usage figures, its live speed converts characters at ~4 a token.
CHARS_PER_TOKEN = 4.0

Sleep = Callable[[float], Awaitable[None]]
Listener = Callable[["LaneState"], None]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def describe_failure(error: BaseException) -> str:
    """One line for a lane's failure: the kind, the status and the client's message."""
    if isinstance(error, APIStatusError):
        return f"{error.label} (HTTP {error.status_code}): {error.message}"
    if isinstance(error, WorkbenchAPIError):
        if error.label == "error" or error.message.lower().startswith(error.label):
            return error.message
        return f"{error.label}: {error.message}"
    return f"unexpected {type(error).__name__}: {error}"


@dataclass(eq=False)
class LaneState:
    """One lane: its request, what has arrived, and how it ended."""

    index: int
    variant: Variant
    request: CompletionRequest
    status: LaneStatus = "pending"
    result: CompletionResult | None = None
    error: WorkbenchAPIError | None = None
    error_message: str | None = None
    #: retries taken so far, and the current wait (seconds) and why, while status is "waiting"
    retries: int = 0
    wait_s: float | None = None
    wait_reason: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    response_started: bool = False
    _texts: dict[int, list[str]] = field(default_factory=dict)
    _finish: dict[int, str | None] = field(default_factory=dict)
    _pending: list[tuple[int, str]] = field(default_factory=list)
    _stream: CompletionStream | None = None
    _first_at: float | None = None
    _last_at: float | None = None
    _characters: int = 0
    _tokens: int = 0

    # -- what arrived --------------------------------------------------------------------------

    def add(self, event: TextDelta) -> None:
        text = event.text
        if event.tokens is not None and not text:
            # Raw token ids: shown space-separated, as `workbench run` prints them.
            pieces = self._texts.get(event.index)
            text = (" " if pieces else "") + " ".join(str(t) for t in event.tokens)
            self._tokens += len(event.tokens)
        if not text:
            return
        now = time.perf_counter()
        if self._first_at is None:
            self._first_at = now
        self._last_at = now
        self._characters += len(text)
        self._texts.setdefault(event.index, []).append(text)
        self._pending.append((event.index, text))

    def take_pending(self) -> list[tuple[int, str]]:
        """(choice index, text) pieces that arrived since the last call, in order."""
        pending, self._pending = self._pending, []
        return pending

    def choice_indexes(self) -> list[int]:
        indexes = set(self._texts) | set(self._finish)
        if self.result is not None:
            indexes |= {c.index for c in self.result.choices}
        return sorted(indexes)

    def choice_text(self, index: int) -> str:
        pieces = self._texts.get(index)
        if pieces is None:
            return ""
        if len(pieces) > 1:
            pieces[:] = ["".join(pieces)]
        return pieces[0]

    def finish_reason(self, index: int) -> str | None:
        return self._finish.get(index)

    @property
    def text(self) -> str:
        """Every choice's text, in index order, one per line for a batch."""
        return "\n".join(self.choice_text(i) for i in self.choice_indexes()) if self._texts else ""

    @property
    def done(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def live_rate(self) -> float | None:
        """Tokens per second since the first piece (estimated from characters for text)."""
        if self._first_at is None:
            return None
        elapsed = time.perf_counter() - self._first_at
        tokens = self._tokens or self._characters / CHARS_PER_TOKEN
        return tokens / elapsed if elapsed > 0 and tokens >= 2 else None

    def partial(self) -> CompletionResult | None:
        return self._stream.partial if self._stream is not None else None

    # -- outcome -------------------------------------------------------------------------------

    def _end(
        self,
        status: LaneStatus,
        result: CompletionResult | None,
        error: WorkbenchAPIError | None = None,
    ) -> None:
        self.status = status
        self.wait_s = self.wait_reason = None
        self.finished_at = _now()
        self.error = error
        if error is not None:
            self.error_message = describe_failure(error)
        elif status == "cancelled":
            self.error_message = "cancelled"
        if result is not None:
            self.result = result
            for choice in result.choices:
                self._finish.setdefault(choice.index, choice.finish_reason)
                if choice.index not in self._texts:
                    # A non-streamed answer (or a stream's text we never saw): show it whole.
                    text = choice.text
                    if not text and choice.tokens is not None:
                        text = " ".join(str(t) for t in choice.tokens)
                    if text:
                        self._texts[choice.index] = [text]
                        self._pending.append((choice.index, text))


def _retryable(error: WorkbenchAPIError) -> bool:
    if isinstance(error, APIStatusError):
        return should_retry_status(error.status_code, error.headers)
    return isinstance(error, APIConnectionError)


def _wait_reason(error: WorkbenchAPIError) -> str:
    if isinstance(error, APIStatusError):
        if error.status_code == 429:
            return "rate limited (429)"
        return f"HTTP {error.status_code}"
    return error.label


class CompareRun:
    """Every lane of one compare: ``await run.run(client)``; cancel one lane or all."""

    def __init__(
        self,
        requests: Sequence[CompletionRequest],
        variants: Sequence[Variant],
        *,
        group: str | None = None,
    ) -> None:
        if len(requests) != len(variants):
            raise ValueError("one request per variant")
        self.group = group or new_id()
        self.lanes = [
            LaneState(index, variant, request)
            for index, (variant, request) in enumerate(zip(variants, requests))
        ]
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self.started_at: datetime | None = None
        self.finished_at: datetime | None = None

    @property
    def done(self) -> bool:
        return all(lane.done for lane in self.lanes)

    async def run(
        self,
        client: CompletionClient,
        *,
        sleep: Sleep = asyncio.sleep,
        on_change: Listener | None = None,
    ) -> list[LaneState]:
        """Stream every lane at once and wait for all of them; each lane records its own
        outcome (an error in one never stops another). Cancelling this call cancels every
        lane, each keeping its partial text."""
        policy = client.policy
        # The retries are ours (see the module docstring): the lanes' client makes none.
        lane_client = CompletionClient(client.endpoint, timeouts=client.timeouts, max_retries=0)
        self.started_at = _now()
        notify = on_change or (lambda lane: None)
        try:
            async with lane_client:
                for lane in self.lanes:
                    task = asyncio.create_task(
                        self._run_lane(lane, lane_client, policy, sleep, notify),
                        name=f"compare lane {lane.index + 1}",
                    )
                    self._tasks[lane.index] = task
                try:
                    await asyncio.gather(*self._tasks.values(), return_exceptions=True)
                except asyncio.CancelledError:
                    for task in self._tasks.values():
                        task.cancel()
                    # Let each lane record its partial result before the connections close.
                    await asyncio.wait(list(self._tasks.values()))
                    raise
        finally:
            self.finished_at = _now()
        return self.lanes

    def cancel(self, index: int) -> bool:
        """Stop one lane (its partial text is kept); False when it was not running."""
        task = self._tasks.get(index)
        if task is None or task.done():
            return False
        task.cancel()
        return True

    def cancel_all(self) -> int:
        return sum(self.cancel(lane.index) for lane in self.lanes)

    async def _run_lane(
        self,
        lane: LaneState,
        client: CompletionClient,
        policy: RetryPolicy,
        sleep: Sleep,
        notify: Listener,
    ) -> None:
        lane.started_at = _now()
        try:
            while True:
                try:
                    result = await self._attempt(lane, client, notify)
                except WorkbenchAPIError as error:
                    if (
                        not lane.response_started
                        and lane.retries < policy.max_retries
                        and _retryable(error)
                    ):
                        delay = retry_delay(
                            lane.retries, getattr(error, "headers", None), policy=policy
                        )
                        lane.status = "waiting"
                        lane.wait_s = delay
                        lane.wait_reason = _wait_reason(error)
                        notify(lane)
                        await sleep(delay)
                        lane.retries += 1
                        lane.status = "pending"
                        lane.wait_s = lane.wait_reason = None
                        notify(lane)
                        continue
                    lane._end("error", error.partial or lane.partial(), error)
                    notify(lane)
                    return
                lane._end("complete", result)
                notify(lane)
                return
        except asyncio.CancelledError:
            lane._end("cancelled", lane.partial())
            notify(lane)
            raise

    async def _attempt(
        self, lane: LaneState, client: CompletionClient, notify: Listener
    ) -> CompletionResult:
        if lane.request.stream is False:
            result = await client.complete(lane.request)
            lane.response_started = True
            return result
        lane._stream = client.stream(lane.request)
        async with lane._stream as events:
            async for event in events:
                if isinstance(event, TextDelta):
                    lane.add(event)
                elif isinstance(event, ChoiceFinished):
                    lane._finish[event.index] = event.finish_reason
                elif isinstance(event, ResponseStarted):
                    lane.response_started = True
                    lane.status = "streaming"
                    notify(lane)
                elif isinstance(event, StreamFinished):
                    return event.result
        return lane.partial() or CompletionResult()  # pragma: no cover - client always finishes
