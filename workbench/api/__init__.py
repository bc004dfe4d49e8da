"""The Cerebras completions API: request model, async client, typed results, errors.

Nothing here imports Textual: the client is usable from the CLI, tests and scripts alike.
"""

from __future__ import annotations

from workbench.api.client import CompletionClient, CompletionStream, Timeouts, retry_notice
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

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "CEREBRAS_BASE_URL",
    "Choice",
    "ChoiceFinished",
    "ClientMetrics",
    "CompletionClient",
    "CompletionRequest",
    "CompletionResult",
    "CompletionStream",
    "ConflictError",
    "Endpoint",
    "FieldError",
    "InternalServerError",
    "InvalidBaseURLError",
    "InvalidHeaderError",
    "Limits",
    "MissingAPIKeyError",
    "NotFoundError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "ProtocolError",
    "RateLimitError",
    "RateLimits",
    "RequestTimeoutError",
    "RequestValidationError",
    "ResponseStarted",
    "ResponseTooLargeError",
    "RetryPolicy",
    "StreamEvent",
    "StreamFinished",
    "StreamInterruptedError",
    "StreamTruncatedError",
    "TextDelta",
    "TimeInfo",
    "Timeouts",
    "UnprocessableEntityError",
    "Usage",
    "WorkbenchAPIError",
    "retry_notice",
]
