"""Build a :class:`CompletionResult` from response JSON — a whole body or stream chunks — and
measure the client-side metrics while doing it.

A non-streaming body has the same shape as one big chunk, so both paths share this code; that
is what makes "stream and non-stream results agree" true by construction.
"""

from __future__ import annotations

import io
import time
from typing import Any, Callable

from workbench.api.limits import DEFAULT_LIMITS, Limits
from workbench.api.logprobs import extend_logprobs
from workbench.api.types import (
    finite_float,
    ChoiceFinished,
    ClientMetrics,
    CompletionResult,
    RateLimits,
    TextDelta,
    TimeInfo,
    Usage,
)

Clock = Callable[[], float]


def _logprobs_items(logprobs: dict[str, Any]) -> int:
    """How many entries a logprobs payload adds (each costs tens of bytes once parsed): one
    per list element, plus one per alternative in ``top_logprobs``."""
    count = 0
    for value in logprobs.values():
        if isinstance(value, list):
            count += len(value)
            for item in value:
                if isinstance(item, (dict, list)):
                    count += len(item)
        elif isinstance(value, dict):
            count += len(value)
        else:
            count += 1
    return count


class OutputLimitReached(Exception):
    """A response went past one of the :class:`Limits`; the client turns this into
    ResponseTooLargeError with the partial result."""


class MalformedChunk(Exception):
    """A chunk the client cannot take (a choice index out of range); the client turns this
    into ProtocolError with the partial result."""


# Choice indexes are small (n ≤ 16 per prompt); anything past this is garbage, and would not
# survive a session file (TOML integers are 64-bit) anyway.
MAX_CHOICE_INDEX = 2**31 - 1


def _token_ids(value: Any) -> tuple[int, ...] | None:
    if not isinstance(value, list):
        return None
    return tuple(t for t in value if isinstance(t, int) and not isinstance(t, bool))


class ResultBuilder:
    """Accumulates chunks into one result and yields the typed events each chunk produces.

    ``sent_at`` is the ``clock()`` reading taken just before the request that produced this
    response was sent (the attempt that succeeded, so retry waits don't count as latency).
    ``result``'s choice texts are brought up to date by :meth:`finish` / :meth:`snapshot`.
    """

    def __init__(
        self,
        *,
        rate_limits: RateLimits,
        sent_at: float,
        clock: Clock = time.perf_counter,
        limits: Limits = DEFAULT_LIMITS,
        expected_choices: int | None = None,
    ) -> None:
        self.result = CompletionResult(rate_limits=rate_limits)
        self.limits = limits
        # A server may not invent choices: never more than the request asked for (when known)
        # and never more than the hard cap.
        self.max_choices = min(expected_choices or limits.choices, limits.choices)
        self._chars: dict[int, int] = {}
        self._total_chars = 0
        self._total_items = 0
        self._clock = clock
        self._sent_at = sent_at
        self._first_token_at: float | None = None
        self._last_token_at: float | None = None
        self._finished: set[int] = set()
        # Text per choice, appended in place: `choice.text += text` would copy the whole text
        # per chunk (quadratic over a long stream), and a list of pieces costs ~50 bytes of
        # overhead per piece (a hostile server sends one character per chunk).
        self._texts: dict[int, io.StringIO] = {}
        self.chunks = 0
        #: set once the final result was handed out: its metrics must not move any more
        self.done = False

    @property
    def delivered_anything(self) -> bool:
        """True once any text or token has been handed out (the no-retry line)."""
        return self._first_token_at is not None

    def add(self, data: dict[str, Any]) -> list[TextDelta | ChoiceFinished]:
        """Fold one chunk (or a whole body) in; return the events it produces, in order."""
        now = self._clock()
        self.chunks += 1
        result = self.result
        for key, value in data.items():
            if key != "choices":
                result.raw[key] = value
        if isinstance(data.get("id"), str):
            result.id = data["id"]
        if isinstance(data.get("model"), str):
            result.model = data["model"]
        created = finite_float(data.get("created"))
        if created is not None and abs(created) < 2**62:
            result.created = int(created)
        if isinstance(data.get("system_fingerprint"), str):
            result.system_fingerprint = data["system_fingerprint"]
        usage = Usage.from_json(data.get("usage"))
        if usage is not None:
            result.usage = usage
        time_info = TimeInfo.from_json(data.get("time_info"))
        if time_info is not None:
            result.time_info = time_info

        events: list[TextDelta | ChoiceFinished] = []
        choices = data.get("choices")
        if not isinstance(choices, list):
            return events
        for position, raw_choice in enumerate(choices):
            if not isinstance(raw_choice, dict):
                continue
            index = raw_choice.get("index")
            if not isinstance(index, int) or isinstance(index, bool):
                index = position
            elif not 0 <= index <= MAX_CHOICE_INDEX:
                raise MalformedChunk(f"sent choice index {str(index)[:24]}, out of range")
            if index not in self._chars:
                if len(self._chars) >= self.max_choices:
                    raise OutputLimitReached(
                        f"sent more than {self.max_choices:,} choices "
                        + ("(the request asked for that many)" if self.max_choices < self.limits.choices
                           else "(the client's limit)")
                    )
                self._chars[index] = 0
            choice = result.choice(index)
            text = raw_choice.get("text")
            text = text if isinstance(text, str) else ""
            tokens = _token_ids(raw_choice.get("tokens"))
            logprobs = raw_choice.get("logprobs")
            logprobs = logprobs if isinstance(logprobs, dict) and logprobs else None
            if text or tokens or logprobs:
                self._charge(index, text, tokens, logprobs)
                if text or tokens:
                    if self._first_token_at is None:
                        self._first_token_at = now
                    self._last_token_at = now
                if text:
                    buffer = self._texts.get(index)
                    if buffer is None:
                        buffer = self._texts[index] = io.StringIO()
                    buffer.write(text)
                if tokens is not None:
                    if choice.tokens is None:
                        choice.tokens = []
                    choice.tokens.extend(tokens)
                if logprobs is not None:
                    choice.logprobs = extend_logprobs(choice.logprobs, logprobs)
                events.append(TextDelta(index=index, text=text, tokens=tokens, logprobs=logprobs))
            finish_reason = raw_choice.get("finish_reason")
            if isinstance(finish_reason, str) and finish_reason and index not in self._finished:
                choice.finish_reason = finish_reason
                self._finished.add(index)
                events.append(ChoiceFinished(index=index, finish_reason=finish_reason))
        return events

    def _charge(
        self, index: int, text: str, tokens: tuple[int, ...] | None, logprobs: dict[str, Any] | None
    ) -> None:
        """Count what this piece adds; past a cap, stop before keeping it."""
        limits = self.limits
        chars = self._chars[index] + len(text)
        if chars > limits.choice_chars:
            raise OutputLimitReached(
                f"choice {index} went past {limits.choice_chars:,} characters of text "
                "(the client's per-choice limit)"
            )
        if self._total_chars + len(text) > limits.total_chars:
            raise OutputLimitReached(
                f"the response went past {limits.total_chars:,} characters of text in all "
                "(the client's limit)"
            )
        items = (len(tokens) if tokens else 0) + (_logprobs_items(logprobs) if logprobs else 0)
        if self._total_items + items > limits.total_items:
            raise OutputLimitReached(
                f"the response went past {limits.total_items:,} token ids and logprobs "
                "entries (the client's limit)"
            )
        self._chars[index] = chars
        self._total_chars += len(text)
        self._total_items += items

    def unfinished_choices(self) -> list[int]:
        return [c.index for c in self.result.choices if c.index not in self._finished]

    def snapshot(self) -> CompletionResult:
        """The final result once done, else the partial result with metrics as of now."""
        return self.result if self.done else self.finish()

    def finish(self) -> CompletionResult:
        """Fill the metrics as of now and return the result (also used for partial results)."""
        now = self._clock()
        result = self.result
        for choice in result.choices:
            buffer = self._texts.get(choice.index)
            if buffer is not None:
                choice.text = buffer.getvalue()
        wall = now - self._sent_at
        tokens = result.usage.completion_tokens if result.usage else None
        if tokens is None and any(c.tokens for c in result.choices):
            tokens = sum(len(c.tokens or ()) for c in result.choices)
        client_rate = None
        if tokens:
            span = (
                self._last_token_at - self._first_token_at
                if self._first_token_at is not None and self._last_token_at is not None
                else 0.0
            )
            if span > 0:
                client_rate = tokens / span
            elif wall > 0:
                client_rate = tokens / wall
        server_rate = None
        completion_time = result.time_info.completion_time if result.time_info else None
        server_tokens = result.usage.completion_tokens if result.usage else None
        if server_tokens is not None and completion_time:
            server_rate = server_tokens / completion_time
        result.metrics = ClientMetrics(
            time_to_first_token_s=(
                self._first_token_at - self._sent_at if self._first_token_at is not None else None
            ),
            wall_time_s=wall,
            completion_tokens=tokens,
            client_tokens_per_s=client_rate,
            server_tokens_per_s=server_rate,
        )
        return result
