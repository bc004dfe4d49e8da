"""The client's errors: a small typed hierarchy whose messages a person can act on.

Every error may carry ``partial``: what had arrived before it happened (a dropped stream keeps
its text). The CLI maps these classes to exit codes; the TUI prints ``str(error)`` in the
transcript at the exchange that failed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.api.types import CompletionResult, RateLimits


class WorkbenchAPIError(Exception):
    """Base of everything the client raises, request validation included
    (:class:`workbench.api.request.RequestValidationError` is one too).

    ``str(error)`` (== ``error.message``) is one self-contained line that already says what
    kind of failure it was and the HTTP status when there was one: show it as it is, without
    prefixing ``label`` or the status again (that doubled words: "bad request (HTTP 400): Bad
    request (400): …"). ``label`` is for places with room for a word only (a status bar).
    """

    #: short label for the transcript / status bar ("rate limit", "timeout", …)
    label = "error"
    #: how many HTTP attempts were made before giving up (retries + 1)
    attempts = 1

    def __init__(
        self,
        message: str,
        *,
        partial: CompletionResult | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.partial = partial


# -- the server answered with an error status ------------------------------------------------


class APIStatusError(WorkbenchAPIError):
    """The server refused the request (HTTP status ≥ 400, or an error event in a stream)."""

    label = "API error"

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: Any = None,
        error_type: str | None = None,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        partial: CompletionResult | None = None,
    ) -> None:
        super().__init__(message, partial=partial)
        self.status_code = status_code
        self.body = body
        self.error_type = error_type
        self.param = param
        self.code = code
        self.headers = headers or {}


class BadRequestError(APIStatusError):  # 400
    label = "bad request"


class AuthenticationError(APIStatusError):  # 401
    label = "authentication"


class PaymentRequiredError(APIStatusError):  # 402
    label = "payment required"


class PermissionDeniedError(APIStatusError):  # 403
    label = "permission denied"


class NotFoundError(APIStatusError):  # 404
    label = "not found"


class RequestTimeoutError(APIStatusError):  # 408
    label = "request timeout"


class ConflictError(APIStatusError):  # 409
    label = "conflict"


class UnprocessableEntityError(APIStatusError):  # 422
    label = "unprocessable"


class RateLimitError(APIStatusError):  # 429
    label = "rate limit"

    def __init__(self, message: str, *, rate_limits: RateLimits | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.rate_limits = rate_limits


class InternalServerError(APIStatusError):  # >= 500
    label = "server error"


# -- no usable response ----------------------------------------------------------------------


class APIConnectionError(WorkbenchAPIError):
    """Could not reach the server: refused, DNS, reset before a response, TLS."""

    label = "connection"


class APITimeoutError(APIConnectionError):
    """Connect or read timeout (including a stream that stalls in the middle)."""

    label = "timeout"


class StreamInterruptedError(APIConnectionError):
    """The connection broke in the middle of a stream (reset, closed without the final chunk).

    A network failure, not a protocol one: the partial text is in ``partial``.
    """

    label = "connection dropped"


# -- the response could not be understood -----------------------------------------------------


class ProtocolError(WorkbenchAPIError):
    """Malformed JSON or SSE from the server."""

    label = "protocol"


class ResponseTooLargeError(ProtocolError):
    """The response went past one of the client's :class:`~workbench.api.limits.Limits`
    (body, SSE line or event, model list, choices, text per choice). What arrived before the
    cap is kept in ``partial``."""

    label = "too large"


class StreamTruncatedError(ProtocolError):
    """The stream ended without ``data: [DONE]``: the text so far is kept in ``partial``."""

    label = "truncated"


class MissingAPIKeyError(WorkbenchAPIError):
    """No key configured for the Cerebras host."""

    label = "no API key"


class InvalidBaseURLError(WorkbenchAPIError, ValueError):
    """The configured base URL is not an http(s) URL with a host."""

    label = "bad base URL"


class InvalidHeaderError(WorkbenchAPIError, ValueError):
    """A custom header (or the API key) cannot be sent in an HTTP header."""

    label = "bad header"
