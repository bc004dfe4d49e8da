"""The Cerebras completions API: request model, async client, typed results, errors.

Nothing here imports Textual: the client is usable from the CLI, tests and scripts alike.
"""

from __future__ import annotations

import sys
from importlib import import_module
from typing import TYPE_CHECKING, Any

# httpx's package imports its own command-line tool (``httpx._main``: click, rich.syntax and
# pygments' lexer table) whenever click happens to be installed — 2.5 MB and ~20 ms that this
# process never uses (docs/benchmarks.md, memory). Marking the module absent makes httpx's
# ``from ._main import main`` fail, which httpx handles (its ``main`` then explains itself).
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[assignment]

# Loaded on first use (PEP 562): ``import workbench.api.request`` runs this file first, and
# importing the client here would pull httpx (≈60 ms) into every start, even the TUI's first
# frame, which needs only the request model and the field registry.
_EXPORTS: dict[str, str] = {
    "APIConnectionError": "workbench.api.errors",
    "APIStatusError": "workbench.api.errors",
    "APITimeoutError": "workbench.api.errors",
    "AuthenticationError": "workbench.api.errors",
    "BadRequestError": "workbench.api.errors",
    "CEREBRAS_BASE_URL": "workbench.api.endpoint",
    "Choice": "workbench.api.types",
    "ChoiceFinished": "workbench.api.types",
    "ClientMetrics": "workbench.api.types",
    "CompletionClient": "workbench.api.client",
    "CompletionRequest": "workbench.api.request",
    "CompletionResult": "workbench.api.types",
    "CompletionStream": "workbench.api.client",
    "ConflictError": "workbench.api.errors",
    "Endpoint": "workbench.api.endpoint",
    "FieldError": "workbench.api.request",
    "InternalServerError": "workbench.api.errors",
    "InvalidBaseURLError": "workbench.api.errors",
    "InvalidHeaderError": "workbench.api.errors",
    "MissingAPIKeyError": "workbench.api.errors",
    "NotFoundError": "workbench.api.errors",
    "PaymentRequiredError": "workbench.api.errors",
    "PermissionDeniedError": "workbench.api.errors",
    "ProtocolError": "workbench.api.errors",
    "RateLimitError": "workbench.api.errors",
    "RateLimits": "workbench.api.types",
    "RequestTimeoutError": "workbench.api.errors",
    "RequestValidationError": "workbench.api.request",
    "ResponseStarted": "workbench.api.types",
    "ResponseTooLargeError": "workbench.api.errors",
    "Limits": "workbench.api.limits",
    "retry_notice": "workbench.api.client",
    "RetryPolicy": "workbench.api.retry",
    "StreamEvent": "workbench.api.types",
    "StreamFinished": "workbench.api.types",
    "StreamInterruptedError": "workbench.api.errors",
    "StreamTruncatedError": "workbench.api.errors",
    "TextDelta": "workbench.api.types",
    "TimeInfo": "workbench.api.types",
    "Timeouts": "workbench.api.timeouts",
    "UnprocessableEntityError": "workbench.api.errors",
    "Usage": "workbench.api.types",
    "WorkbenchAPIError": "workbench.api.errors",
}

if TYPE_CHECKING:  # for type checkers and editors: the same names, imported eagerly
    from workbench.api.client import CompletionClient, CompletionStream, retry_notice
    from workbench.api.endpoint import CEREBRAS_BASE_URL, Endpoint
    from workbench.api.errors import (
        APIConnectionError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        ConflictError,
        InternalServerError,
        InvalidBaseURLError,
        InvalidHeaderError,
        MissingAPIKeyError,
        NotFoundError,
        PaymentRequiredError,
        PermissionDeniedError,
        ProtocolError,
        RateLimitError,
        RequestTimeoutError,
        ResponseTooLargeError,
        StreamInterruptedError,
        StreamTruncatedError,
        UnprocessableEntityError,
        WorkbenchAPIError,
    )
    from workbench.api.limits import Limits
    from workbench.api.request import CompletionRequest, FieldError, RequestValidationError
    from workbench.api.retry import RetryPolicy
    from workbench.api.timeouts import Timeouts
    from workbench.api.types import (
        Choice,
        ChoiceFinished,
        ClientMetrics,
        CompletionResult,
        RateLimits,
        ResponseStarted,
        StreamEvent,
        StreamFinished,
        TextDelta,
        TimeInfo,
        Usage,
    )


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench.api' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # the next look-up is an ordinary one
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = sorted(_EXPORTS)
