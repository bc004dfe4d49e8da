"""Turn what went wrong on the wire into an error class with a message a person can act on.

Two sources: an error *response* (HTTP status ≥ 400, or an error event inside a stream) and a
*transport* failure (httpx exception: refused, DNS, timeout, connection dropped). Messages name
the host, the field, the limit or the setting to change — and never contain the API key.
"""

from __future__ import annotations

import errno
import html
import json
import math
import re
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Mapping

import httpx

from workbench.api import errors
from workbench.api.endpoint import ENV_API_KEY, redact_url
from workbench.api.retry import retry_after_seconds

if TYPE_CHECKING:
    from workbench.api.endpoint import Endpoint
    from workbench.api.types import CompletionResult, RateLimits

TEXT_EXTRACT_CHARS = 200
# The part of a body looked at for a message (characters; the client reads at most
# Limits.error_body_bytes of an error body anyway).
ERROR_BODY_CHARS = 64 * 1024
# How much of a non-JSON error body an error keeps in ``body``.
RAW_BODY_CHARS = 4096

_STATUS_CLASSES: dict[int, type[errors.APIStatusError]] = {
    400: errors.BadRequestError,
    401: errors.AuthenticationError,
    402: errors.PaymentRequiredError,
    403: errors.PermissionDeniedError,
    404: errors.NotFoundError,
    408: errors.RequestTimeoutError,
    409: errors.ConflictError,
    422: errors.UnprocessableEntityError,
    429: errors.RateLimitError,
}


def status_class(status: int) -> type[errors.APIStatusError]:
    if status >= 500:
        return errors.InternalServerError
    return _STATUS_CLASSES.get(status, errors.APIStatusError)


@dataclass(slots=True)
class ErrorBody:
    """What an error body says, whatever its shape (flat Cerebras, nested OpenAI, HTML, text)."""

    message: str | None = None
    error_type: str | None = None
    param: str | None = None
    code: str | None = None
    status_code: int | None = None  # an int "status_code" in the body overrides the HTTP status
    parsed: Any = None  # the JSON value, or the raw text when it was not JSON


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def read_error_body(content: bytes | str | Any, limit: int = ERROR_BODY_CHARS) -> ErrorBody:
    """What an error body says. Only the first ``limit`` bytes/characters are looked at, and
    every step is linear in them: a body can be anything a broken proxy or a hostile server
    sends (an endless HTML page, ``"<script" * 10**6``, JSON nested a million deep)."""
    if isinstance(content, (bytes, bytearray, str)):
        prefix = content[:limit]
        text = (
            bytes(prefix).decode("utf-8", errors="replace")
            if isinstance(prefix, (bytes, bytearray))
            else prefix
        )
        try:
            data: Any = json.loads(text)
        except (ValueError, RecursionError):
            # ``parsed`` keeps the raw start of the body (bounded) for whoever wants to look.
            return ErrorBody(message=text_extract(text) or None, parsed=text[:RAW_BODY_CHARS])
    else:
        data = content
    if not isinstance(data, dict):
        try:
            shown = json.dumps(data)[:limit]
        except (ValueError, TypeError, RecursionError):
            shown = type(data).__name__
        return ErrorBody(message=text_extract(shown), parsed=data)
    inner = data.get("error") if isinstance(data.get("error"), dict) else data
    status = data.get("status_code")
    message = _str_or_none(inner.get("message"))
    if message is None and isinstance(data.get("error"), str):
        message = data["error"]
    code = inner.get("code")
    return ErrorBody(
        message=one_line(message) if message else None,
        error_type=_short(inner.get("type")),
        param=_short(inner.get("param")),
        code=_short(str(code)) if isinstance(code, (str, int)) and code != "" else None,
        status_code=status_or_none(status),
        parsed=data,
    )


def status_or_none(value: Any) -> int | None:
    """An HTTP status from a body (``status_code``), or None unless it is one."""
    if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599:
        return value
    return None


def _short(value: Any, limit: int = 80) -> str | None:
    """A short field (type, param, code) from a server: a string, on one line, bounded."""
    text = _str_or_none(value)
    return one_line(text, limit) if text else None


_SPACE = re.compile(r"\s+")
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-:")
# Elements whose content is never readable text.
_SKIPPED = ("script", "style", "noscript", "template")


def one_line(text: str, limit: int = TEXT_EXTRACT_CHARS) -> str:
    """``text`` on one line (runs of whitespace, newlines included, become one space),
    cut to ``limit`` characters with an ellipsis. Linear, and looks at a bounded prefix."""
    text = _SPACE.sub(" ", text[: limit * 4 + 64]).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def _tag_name(text: str, start: int, end: int) -> str:
    """The lower-case element name of the tag ``text[start:end]`` (``<`` at ``start``)."""
    i = start + 1
    if i < end and text[i] == "/":
        i += 1
    j = i
    while j < end and j - i < 20 and text[j] in _NAME_CHARS:
        j += 1
    return text[i:j].lower()


def _find_closing(text: str, name: str, start: int) -> tuple[int, int] | None:
    """Where ``</name …>`` starts and ends after ``start`` (case-insensitive), or None.

    One forward scan over ``</`` occurrences: linear in the rest of the text.
    """
    i = start
    while True:
        j = text.find("</", i)
        if j == -1:
            return None
        if text[j + 2 : j + 2 + len(name)].lower() == name:
            end = text.find(">", j)
            return (j, len(text) if end == -1 else end + 1)
        i = j + 2


def html_to_text(text: str) -> tuple[str, str]:
    """(title, body text) of an HTML page or plain text, tags and skipped elements removed.

    A single forward pass: each step moves past what it looked at, so the work is linear
    in ``len(text)`` whatever the markup (unclosed tags and elements included).
    """
    title = ""
    parts: list[str] = []
    i, n = 0, len(text)
    while i < n:
        lt = text.find("<", i)
        if lt == -1:
            parts.append(text[i:])
            break
        parts.append(text[i:lt])
        gt = text.find(">", lt + 1)
        if gt == -1:
            break  # an unclosed tag runs to the end: nothing readable follows
        name = _tag_name(text, lt, gt)
        i = gt + 1
        if text[lt + 1 : lt + 2] == "/":
            parts.append(" ")
            continue
        if name in _SKIPPED or name == "title":
            closing = _find_closing(text, name, i)
            inner_end, i = closing if closing else (n, n)
            if name == "title" and not title:
                title = text[gt + 1 : inner_end]
        parts.append(" ")
    return title, "".join(parts)


def text_extract(text: str, limit: int = TEXT_EXTRACT_CHARS) -> str:
    """A short readable extract of a non-JSON body (an HTML page from a proxy, plain text).

    Linear and bounded: only the first :data:`ERROR_BODY_CHARS` characters are looked at.
    """
    title, body = html_to_text(text[:ERROR_BODY_CHARS])
    words = [one_line(html.unescape(part), ERROR_BODY_CHARS) for part in (title, body)]
    if words[0] and words[1].startswith(words[0]):
        words[1] = words[1][len(words[0]) :].strip()  # a page's <h1> usually repeats its title
    return one_line(" — ".join(word for word in words if word), limit)


def redact(message: str, endpoint: Endpoint) -> str:
    """Belt and braces: a server (or proxy) that echoes the key or the URL's credentials must
    not get them on screen, in a saved ``error`` field or in a log."""
    return endpoint.redact(message)


def _sentence(text: str) -> str:
    """``text`` ending with exactly one full stop (or its own ``!``/``?``/``…``), so a
    template can go on with " Next sentence" without "(simulated).. This"."""
    text = text.rstrip()
    if text.endswith(("!", "?", "…")):
        return text
    return text.rstrip(".").rstrip() + "."


def _seconds(value: float) -> str:
    if not math.isfinite(value) or value > 366 * 24 * 3600:
        return "a very long time"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 60:
        return f"{value:.1f} s" if value < 10 else f"{value:.0f} s"
    minutes, seconds = divmod(int(round(value)), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _with_field(text: str, param: str | None) -> str:
    return f"{text} (field: {param})" if param else text


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _rate_limit_message(
    said: str, headers: Mapping[str, str], rate_limits: RateLimits | None
) -> str:
    lowered = said.lower()
    kind = "tokens" if "token" in lowered else "requests" if "request" in lowered else None
    period = next((p for p in ("minute", "hour", "day") if p in lowered), None)
    what = f"{kind} per {period}" if kind and period else kind or "a rate limit"
    reset: float | None = None
    source = ""
    if rate_limits is not None:
        if kind == "tokens" and rate_limits.reset_tokens_minute_s is not None:
            reset, source = rate_limits.reset_tokens_minute_s, "x-ratelimit-reset-tokens-minute"
        elif kind == "requests" and period == "day" and rate_limits.reset_requests_day_s:
            reset, source = rate_limits.reset_requests_day_s, "x-ratelimit-reset-requests-day"
    if reset is None:
        asked = retry_after_seconds(headers)
        if asked is not None and math.isfinite(asked) and asked > 0:
            reset, source = asked, "retry-after"
    text = f"Rate limit reached: {what} (429: {said})."
    if reset is not None:
        text += f" It resets in about {_seconds(reset)} ({source})."
    else:
        text += " Wait a moment before sending again."
    if rate_limits is not None:
        if kind == "tokens" and rate_limits.remaining_tokens_minute is not None:
            text += f" Tokens left this minute: {rate_limits.remaining_tokens_minute}."
        if rate_limits.remaining_requests_day is not None:
            text += f" Requests left today: {rate_limits.remaining_requests_day}."
    return text


def status_error(
    status: int,
    content: bytes | str | Any,
    *,
    headers: Mapping[str, str],
    endpoint: Endpoint,
    url: str,
    model: str | None = None,
    rate_limits: RateLimits | None = None,
    partial: CompletionResult | None = None,
    attempts: int = 1,
    in_stream: bool = False,
) -> errors.APIStatusError:
    """The error for an error response (or an error event inside a stream)."""
    body = read_error_body(content)
    if body.status_code is not None:
        status = body.status_code
    # The server's own words, on one line and bounded. Where a sentence of ours follows,
    # _sentence() ends it with exactly one full stop ("(simulated). This", not "..").
    said = one_line(body.message or _reason(status) or "no message") or "no message"
    url = redact_url(url)
    host = endpoint.host
    if 300 <= status < 400:
        location = redact_url(one_line(headers.get("location") or "", 120)) or "an address it did not give"
        text = (
            f"{host} redirected the request ({status}) to {location}: use that address as "
            f"the base URL (now {endpoint.redacted_base_url}, from {endpoint.base_url_source})."
        )
    elif status == 400:
        text = _with_field(f"Bad request (400): {said}", body.param)
    elif status == 401:
        if endpoint.api_key:
            text = (
                f"The API key was refused by {host} (401: {said}). The key comes from "
                f"{endpoint.key_source or 'the configuration'}: check it is complete and "
                "not revoked (keys are managed at https://cloud.cerebras.ai)."
            )
        else:
            text = (
                f"{host} requires an API key (401: {said}) and none was sent: "
                + (endpoint.key_withheld_reason or f"set {ENV_API_KEY}.")
            )
    elif status == 402:
        text = (
            f"Payment required (402): {_sentence(said)} Check the plan and billing of the account "
            "this API key belongs to."
        )
    elif status == 403:
        text = (
            f"Permission denied (403): {_sentence(said)} The key was accepted but may not use this "
            "model or feature."
        )
    elif status == 404:
        about_model = body.param == "model" or body.code == "model_not_found"
        if about_model or (model and model in said):
            text = (
                f"Unknown model {model!r} (404: {said}). Run `workbench models` to list the "
                "models your key can use."
            )
        else:
            text = (
                f"Not found (404) at {url}: {_sentence(said)} Check the base URL {endpoint.redacted_base_url} "
                f"(from {endpoint.base_url_source})."
            )
    elif status == 408:
        text = f"The server gave up waiting for the request (408): {_sentence(said)}"
    elif status == 409:
        text = f"Conflict (409): {_sentence(said)}"
    elif status == 422:
        text = _with_field(f"The server could not process the request (422): {said}", body.param)
    elif status == 429:
        text = _rate_limit_message(said, headers, rate_limits)
    elif status >= 500:
        reason = _reason(status)
        text = (
            f"Server error from {host} ({status}{' ' + reason if reason else ''}): {_sentence(said)} "
            "This is usually temporary: try again in a moment."
        )
    else:
        reason = _reason(status)
        text = _with_field(
            f"HTTP {status}{' ' + reason if reason else ''} from {host}: {said}", body.param
        )
    if in_stream:
        text = "The server reported an error in the middle of the stream: " + _sentence(text)
        text += partial_note(partial)
    if attempts > 1:
        text += f" (gave up after {attempts} attempts)"
    cls = status_class(status)
    kwargs: dict[str, Any] = dict(
        status_code=status,
        body=body.parsed,
        error_type=body.error_type,
        param=body.param,
        code=body.code,
        headers={k.lower(): v for k, v in headers.items()},
        partial=partial,
    )
    if cls is errors.RateLimitError:
        error: errors.APIStatusError = errors.RateLimitError(
            redact(text, endpoint), rate_limits=rate_limits, **kwargs
        )
    else:
        error = cls(redact(text, endpoint), **kwargs)
    error.attempts = attempts
    return error


def partial_note(partial: CompletionResult | None) -> str:
    if partial is None:
        return ""
    chars = sum(len(choice.text) for choice in partial.choices)
    tokens = sum(len(choice.tokens or ()) for choice in partial.choices)
    if chars:
        return f" {chars:,} characters arrived before it and were kept."
    if tokens:
        return f" {tokens:,} tokens arrived before it and were kept."
    return " Nothing had arrived yet."


def _exception_chain(exc: BaseException) -> list[BaseException]:
    """The exception and its causes/contexts, outermost first (httpx wraps httpcore wraps OSError)."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _connect_message(exc: BaseException, endpoint: Endpoint) -> str:
    host = endpoint.host
    hostname = urlsplit(endpoint.base_url).hostname or host
    where = f"Check the base URL {endpoint.redacted_base_url} (from {endpoint.base_url_source})"
    chain = _exception_chain(exc)
    text = " ".join(str(item) for item in chain).lower()
    if any(isinstance(item, socket.gaierror) for item in chain) or any(
        phrase in text
        for phrase in ("name or service not known", "name resolution", "nodename nor servname")
    ):
        return (
            f"Could not find the host {hostname!r} (DNS lookup failed). {where} and your "
            "network connection."
        )
    if any(
        isinstance(item, ConnectionRefusedError)
        or (isinstance(item, OSError) and item.errno == errno.ECONNREFUSED)
        for item in chain
    ) or "connection refused" in text:
        return (
            f"Connection refused by {host}: nothing is listening there. Is the server "
            f"running? {where}."
        )
    tls = next((item for item in chain if isinstance(item, ssl.SSLError)), None)
    if tls is not None or "certificate" in text:
        return f"Secure connection to {host} failed ({one_line(str(tls or exc))}). {where}."
    return f"Could not connect to {host} ({one_line(str(exc)) or type(exc).__name__}). {where}."


def _exc_text(exc: BaseException) -> str:
    """An exception's text on one short line (a library may quote what the server sent)."""
    return one_line(str(exc), 160) or type(exc).__name__


def transport_error(
    exc: httpx.RequestError,
    *,
    endpoint: Endpoint,
    connect_timeout: float | None,
    read_timeout: float | None,
    response_started: bool,
    partial: CompletionResult | None = None,
    attempts: int = 1,
) -> errors.APIConnectionError:
    """The error for an httpx transport failure, before or during the response body."""
    host = endpoint.host
    error: errors.APIConnectionError
    if isinstance(exc, httpx.ConnectTimeout):
        error = errors.APITimeoutError(
            f"Could not connect to {host} within {connect_timeout:g} s (connect timeout). "
            f"Check the base URL {endpoint.redacted_base_url} and your network.",
            partial=partial,
        )
    elif isinstance(exc, httpx.ReadTimeout) and response_started:
        error = errors.APITimeoutError(
            f"The response from {host} stalled: no data for {read_timeout:g} s (read timeout)."
            + partial_note(partial),
            partial=partial,
        )
    elif isinstance(exc, httpx.ReadTimeout):
        error = errors.APITimeoutError(
            f"{host} accepted the request but sent no response within {read_timeout:g} s "
            "(read timeout).",
            partial=partial,
        )
    elif isinstance(exc, httpx.TimeoutException):
        kind = "write" if isinstance(exc, httpx.WriteTimeout) else "connection pool"
        error = errors.APITimeoutError(
            f"Timed out sending the request to {host} ({kind} timeout).", partial=partial
        )
    elif isinstance(exc, httpx.ConnectError):
        error = errors.APIConnectionError(_connect_message(exc, endpoint), partial=partial)
    elif response_started:
        error = errors.StreamInterruptedError(
            f"The connection to {host} broke in the middle of the response ({_exc_text(exc)})."
            + partial_note(partial),
            partial=partial,
        )
    else:
        error = errors.APIConnectionError(
            f"{host} closed the connection without answering ({_exc_text(exc)}).",
            partial=partial,
        )
    message = error.message + (f" (gave up after {attempts} attempts)" if attempts > 1 else "")
    error.message = redact(message, endpoint)
    error.args = (error.message,)
    error.attempts = attempts
    return error
