"""Error classification and messages, from bodies and headers alone (no network).

The same paths are exercised end to end over the loopback simulator in test_api_client_*.py;
here the cases the simulator cannot produce (402, 403, 422, odd bodies) are pinned down.
"""

from __future__ import annotations

import json

import pytest

from workbench.api import errors
from workbench.api.endpoint import Endpoint
from workbench.api.failures import read_error_body, status_error, text_extract
from workbench.api.types import CompletionResult, RateLimits

SECRET = "csk-abcdef0123456789"
CEREBRAS = Endpoint.from_env(environ={"CEREBRAS_API_KEY": SECRET})
LOCAL = Endpoint.from_env(base_url="http://127.0.0.1:9999/v1", environ={})
URL = "https://api.cerebras.ai/v1/completions"


def make(status: int, body: object, endpoint: Endpoint = CEREBRAS, **kwargs) -> errors.APIStatusError:
    content = body if isinstance(body, (bytes, str)) else json.dumps(body)
    kwargs.setdefault("headers", {})
    return status_error(status, content, endpoint=endpoint, url=URL, **kwargs)


def flat(message: str, param: str | None = None, code: str | None = None) -> dict:
    return {"message": message, "type": "invalid_request_error", "param": param, "code": code}


@pytest.mark.parametrize(
    "status, cls",
    [(400, errors.BadRequestError), (401, errors.AuthenticationError),
     (402, errors.PaymentRequiredError), (403, errors.PermissionDeniedError),
     (404, errors.NotFoundError), (408, errors.RequestTimeoutError), (409, errors.ConflictError),
     (422, errors.UnprocessableEntityError), (429, errors.RateLimitError),
     (500, errors.InternalServerError), (503, errors.InternalServerError),
     (418, errors.APIStatusError)],
)
def test_status_classes_match_the_sdk(status: int, cls: type) -> None:
    error = make(status, flat("boom"))
    assert type(error) is cls and error.status_code == status
    assert "boom" in str(error)


def test_400_names_the_server_message_and_field() -> None:
    error = make(400, flat("temperature must be at most 1.5", param="temperature"))
    assert str(error) == "Bad request (400): temperature must be at most 1.5 (field: temperature)"
    assert error.param == "temperature"


def test_401_says_the_key_was_refused_and_where_it_came_from_without_the_key() -> None:
    error = make(401, flat(f"Wrong API Key {SECRET}", param="api_key", code="wrong_api_key"))
    text = str(error)
    assert "refused" in text and "CEREBRAS_API_KEY" in text
    assert SECRET not in text


def test_401_without_a_key_says_to_set_one() -> None:
    text = str(make(401, flat("Wrong API Key"), endpoint=LOCAL))
    assert "none was sent" in text and "CEREBRAS_API_KEY" in text


def test_404_unknown_model_is_named_with_a_next_step() -> None:
    body = flat("Model nope does not exist or you do not have access to it.", "model", "model_not_found")
    text = str(make(404, body, model="nope"))
    assert "'nope'" in text and "workbench models" in text


def test_404_elsewhere_points_at_the_base_url() -> None:
    text = str(make(404, "Not Found", endpoint=LOCAL))
    assert "http://127.0.0.1:9999" in text and "base URL" in text


def test_402_and_403_say_what_to_check() -> None:
    assert "billing" in str(make(402, flat("Payment required")))
    assert "may not use this model" in str(make(403, flat("Forbidden")))


@pytest.mark.parametrize(
    "message, kind, headers, reset",
    [
        ("Requests per minute limit exceeded - too many requests sent.", "requests per minute",
         {"retry-after": "12"}, "12 s (retry-after)"),
        ("Tokens per minute limit exceeded - too many tokens processed.", "tokens per minute",
         {"x-ratelimit-reset-tokens-minute": "33.5", "retry-after": "2"},
         "34 s (x-ratelimit-reset-tokens-minute)"),
        ("Requests per day limit exceeded.", "requests per day",
         {"x-ratelimit-reset-requests-day": "7260"}, "2 h 1 min (x-ratelimit-reset-requests-day)"),
    ],
)
def test_429_says_which_limit_and_when_it_resets(message, kind, headers, reset) -> None:
    error = make(429, flat(message), headers=headers, rate_limits=RateLimits.from_headers(headers))
    assert isinstance(error, errors.RateLimitError)
    assert f"Rate limit reached: {kind}" in str(error)
    assert f"resets in about {reset}" in str(error)


def test_500_says_it_is_temporary_and_counts_attempts() -> None:
    error = make(500, flat("Internal server error"), attempts=3)
    assert "usually temporary" in str(error) and "gave up after 3 attempts" in str(error)
    assert error.attempts == 3


def test_html_body_from_a_proxy_gives_a_short_readable_message() -> None:
    page = "<html><head><title>502 Bad Gateway</title><style>b{x:y}</style></head><body>" + (
        "<center><h1>502 Bad Gateway</h1></center><p>" + "lorem ipsum " * 100 + "</p></body></html>"
    )
    error = make(502, page)
    text = str(error)
    assert isinstance(error, errors.InternalServerError)
    assert "502 Bad Gateway" in text and "<" not in text and "x:y" not in text
    assert len(text) < 400


def test_text_extract_strips_tags_unescapes_and_truncates() -> None:
    assert text_extract("<p>a &amp; b</p>") == "a & b"
    assert len(text_extract("x" * 1000)) == 200


def test_status_code_in_body_overrides_http_status() -> None:
    body = {"error": {"message": "overloaded", "type": "server_error"}, "status_code": 503}
    partial = CompletionResult()
    partial.choice(0).text = "Once upon"
    error = make(200, body, in_stream=True, partial=partial)
    assert isinstance(error, errors.InternalServerError) and error.status_code == 503
    assert error.partial is partial
    assert "middle of the stream" in str(error) and "9 characters" in str(error)


@pytest.mark.parametrize(
    "content, message",
    [(b"", None), (b"[1,2]", "[1, 2]"), (b'{"error":"plain"}', "plain"),
     (b'{"error":{"message":"nested","param":"p"}}', "nested")],
)
def test_odd_error_bodies_are_read_leniently(content: bytes, message: str | None) -> None:
    assert read_error_body(content).message == message
