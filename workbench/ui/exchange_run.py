"""One request in flight: drives the client's event stream into an :class:`ExchangeView`.

The app runs :meth:`ExchangeRun.execute` in its exclusive "request" worker and turns however
the worker ends (success, error, cancellation) into the exchange's outcome in one handler.
Everything a cancelled or failed run needs afterwards — the partial result, the timestamps,
the live speed — is kept here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable

from workbench.api.errors import APIStatusError, WorkbenchAPIError
from workbench.api.request import CompletionRequest
from workbench.api.types import (
    ChoiceFinished,
    CompletionResult,
    RateLimits,
    ResponseStarted,
    StreamFinished,
    TextDelta,
)
from workbench.sessions.model import Session
from workbench.ui.exchange_view import ExchangeView

if TYPE_CHECKING:  # the client (and httpx) load when the app builds one, not with this module
    from workbench.api.client import CompletionClient, CompletionStream

# Until an exchange has finished with usage figures, assume the usual ~4 characters a token.
DEFAULT_CHARS_PER_TOKEN = 4.0


def chars_per_token(result: CompletionResult | None) -> float | None:
    """Characters per completion token in a finished result (None when it cannot tell)."""
    if result is None or result.usage is None or not result.usage.completion_tokens:
        return None
    characters = sum(len(choice.text) for choice in result.choices)
    return characters / result.usage.completion_tokens if characters else None


def error_message(error: BaseException) -> str:
    """The client's message for the transcript, prefixed with what kind of failure it was."""
    if isinstance(error, WorkbenchAPIError):
        # Already one line naming the kind of failure and its status (see api/errors.py).
        return error.message
    # Not a client error: a bug. Say what it was rather than taking the app down.
    return f"unexpected {type(error).__name__}: {error}"


@dataclass
class ExchangeRun:
    """The state of one request while it runs, and what is left of it when it stops."""

    request: CompletionRequest
    view: ExchangeView
    on_response: Callable[[RateLimits], None] | None = None
    # The session this exchange belongs to: fixed at the start, so clearing the transcript or
    # loading another session while it runs cannot file it in the wrong place.
    session: Session | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    finished_at: datetime | None = None
    rate_limits: RateLimits | None = None
    _stream: CompletionStream | None = None
    _first_token_at: float | None = None
    _last_token_at: float | None = None
    # Text chunks carry no token counts (one chunk may hold dozens of tokens), so the live
    # speed counts characters and converts them with the ratio of the last finished exchange.
    chars_per_token: float = DEFAULT_CHARS_PER_TOKEN
    _tokens: int = 0
    _characters: int = 0

    async def execute(self, client: CompletionClient) -> CompletionResult:
        if self.request.stream is False:
            result = await client.complete(self.request)
            self.rate_limits = result.rate_limits
            return result
        self._stream = client.stream(self.request)
        async with self._stream as stream:
            async for event in stream:
                if isinstance(event, TextDelta):
                    now = time.perf_counter()
                    if self._first_token_at is None:
                        self._first_token_at = now
                    self._last_token_at = now
                    if event.tokens is not None:
                        self._tokens += len(event.tokens)
                    self._characters += len(event.text)
                    self.view.feed(event)
                elif isinstance(event, ChoiceFinished):
                    self.view.set_finish(event.index, event.finish_reason)
                elif isinstance(event, ResponseStarted):
                    self.rate_limits = event.rate_limits
                    if self.on_response is not None:
                        self.on_response(event.rate_limits)
                elif isinstance(event, StreamFinished):
                    return event.result
        # The client ends every successful stream with StreamFinished; if not, keep what came.
        return self.partial() or CompletionResult()

    def partial(self) -> CompletionResult | None:
        """What arrived before the run stopped (None when the response never started)."""
        return self._stream.partial if self._stream is not None else None

    @property
    def tokens_so_far(self) -> float:
        """Tokens received: exact for raw token ids, estimated from characters for text."""
        return self._tokens or self._characters / self.chars_per_token

    @property
    def live_rate(self) -> float | None:
        """Tokens per second since the first chunk: counted exactly for raw token ids,
        estimated from characters for text; None until there is something to divide."""
        if self._first_token_at is None:
            return None
        elapsed = time.perf_counter() - self._first_token_at
        tokens = self.tokens_so_far
        if elapsed <= 0 or tokens < 2:
            return None
        return tokens / elapsed

    def mark_finished(self) -> None:
        self.finished_at = datetime.now(timezone.utc)
