"""Fault modes the simulator can inject, and the Cerebras-shaped error bodies it answers with.

A fault is chosen per request: the ``x-sim-fault`` header wins, else the server-wide mode (which
``fault_times`` limits to the first N completion requests, so retry logic can be tested against
"fails twice, then works").
"""

from __future__ import annotations

from typing import Any

FAULT_MODES: tuple[str, ...] = (
    "rate-limit",
    "server-error",
    "unavailable",
    "html-502",
    "drop",
    "stall",
    "malformed-sse",
    "error-event",
    "no-done",
    "split-utf8",
    "slow-first-byte",
)

# Faults answered instead of a completion, before any generation happens.
STATUS_FAULTS: frozenset[str] = frozenset({"rate-limit", "server-error", "unavailable", "html-502"})
# Faults that break a response after this many text chunks (so the partial text is non-empty).
MID_STREAM_FAULTS: frozenset[str] = frozenset({"drop", "stall", "malformed-sse", "error-event"})
CHUNKS_BEFORE_FAULT = 6
SLOW_FIRST_BYTE_S = 0.5


def error_body(
    message: str, error_type: str, param: str | None, code: str | None
) -> dict[str, Any]:
    """The flat error body Cerebras sends with an HTTP error status."""
    return {"message": message, "type": error_type, "param": param, "code": code}


RATE_LIMIT_BODY = error_body(
    "Requests per minute limit exceeded - too many requests sent.",
    "too_many_requests_error",
    "quota",
    "request_quota_exceeded",
)
SERVER_ERROR_BODY = error_body(
    "Internal server error (simulated).", "server_error", None, "internal_server_error"
)
UNAVAILABLE_BODY = error_body(
    "We're experiencing high traffic right now! Please try again soon. (simulated)",
    "too_many_requests_error",
    "queue",
    "queue_exceeded",
)
# What a proxy in front of the API sends when the upstream is gone: not JSON at all.
HTML_502_PAGE = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def stream_error_event(request_id: str) -> dict[str, Any]:
    """The error object a stream carries in a data event when the server fails mid-stream."""
    return {
        "error": {
            "message": "The model is temporarily unavailable (simulated mid-stream failure).",
            "type": "server_error",
            "param": None,
            "code": "service_unavailable",
            "id": request_id,
        },
        "status_code": 503,
    }


class FaultPlan:
    """The server-wide fault and how many more completion requests it applies to."""

    def __init__(self, mode: str | None, times: int | None) -> None:
        if mode is not None and mode not in FAULT_MODES:
            raise ValueError(f"unknown fault mode {mode!r}; choose from {', '.join(FAULT_MODES)}")
        if times is not None and times < 0:
            raise ValueError("fault_times must be >= 0")
        self.mode = mode
        self.remaining = times

    def take(self) -> str | None:
        """The server-wide fault for the next completion request (consumes one use)."""
        if self.mode is None:
            return None
        if self.remaining is None:
            return self.mode
        if self.remaining <= 0:
            return None
        self.remaining -= 1
        return self.mode
