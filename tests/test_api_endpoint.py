"""Endpoint: base URL precedence and normalisation, key rules, custom headers, no key leaks."""

from __future__ import annotations

import pytest

from workbench.api.endpoint import CEREBRAS_BASE_URL, Endpoint, parse_custom_headers
from workbench.api.errors import InvalidBaseURLError, InvalidHeaderError, MissingAPIKeyError

SECRET = "csk-secret-0123456789"


def test_base_url_precedence_flag_then_env_then_default() -> None:
    env = {"CEREBRAS_BASE_URL": "http://env-host:1"}
    assert Endpoint.from_env(base_url="http://flag:2", environ=env).base_url == "http://flag:2"
    assert Endpoint.from_env(environ=env).base_url == "http://env-host:1"
    assert Endpoint.from_env(environ={}).base_url == CEREBRAS_BASE_URL
    assert Endpoint.from_env(environ={"CEREBRAS_BASE_URL": "  "}).base_url == CEREBRAS_BASE_URL


@pytest.mark.parametrize(
    "given, root",
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080"),
        ("http://127.0.0.1:8080/v1/", "http://127.0.0.1:8080"),
        ("https://proxy.example/cerebras/v1", "https://proxy.example/cerebras"),
        (" https://api.cerebras.ai ", "https://api.cerebras.ai"),
    ],
)
def test_both_base_url_forms_give_one_v1(given: str, root: str) -> None:
    endpoint = Endpoint.from_env(base_url=given, environ={})
    assert endpoint.base_url == root
    assert endpoint.url("/v1/completions") == root + "/v1/completions"
    assert "/v1/v1" not in endpoint.url("/v1/completions")


@pytest.mark.parametrize("bad", ["api.cerebras.ai", "ftp://host", "http://", "http://h/?q=1"])
def test_unusable_base_url_is_refused_with_an_example(bad: str) -> None:
    with pytest.raises(InvalidBaseURLError, match="http"):
        Endpoint.from_env(base_url=bad, environ={})


def test_key_comes_from_flag_or_environment_and_says_where() -> None:
    env = {"CEREBRAS_API_KEY": SECRET}
    from_env = Endpoint.from_env(environ=env)
    assert from_env.api_key == SECRET
    assert "CEREBRAS_API_KEY" in (from_env.key_source or "")
    flag = Endpoint.from_env(api_key="other", environ=env, key_source="profile 'work'")
    assert flag.api_key == "other" and flag.key_source == "profile 'work'"
    assert Endpoint.from_env(environ={"CEREBRAS_API_KEY": ""}).api_key is None


def test_key_required_for_cerebras_host_only() -> None:
    with pytest.raises(MissingAPIKeyError) as raised:
        Endpoint.from_env(environ={}).require_key()
    assert "CEREBRAS_API_KEY" in str(raised.value) and "--offline" in str(raised.value)
    Endpoint.from_env(base_url="http://127.0.0.1:9", environ={}).require_key()  # no error
    Endpoint.from_env(environ={"CEREBRAS_API_KEY": SECRET}).require_key()
    assert Endpoint(base_url="https://eu.api.cerebras.ai").is_cerebras
    assert not Endpoint(base_url="https://cerebras.ai.evil.example").is_cerebras


def test_no_authorization_header_without_key() -> None:
    assert Endpoint.from_env(base_url="http://127.0.0.1:9", environ={}).auth_headers() == {}
    keyed = Endpoint.from_env(environ={"CEREBRAS_API_KEY": SECRET})
    assert keyed.auth_headers() == {"Authorization": f"Bearer {SECRET}"}


def test_custom_headers_parsed_like_the_sdk() -> None:
    text = "X-Team: research\n\nbroken line\nX-Trace:  a:b \r\n"
    assert parse_custom_headers(text) == {"X-Team": "research", "X-Trace": "a:b"}
    endpoint = Endpoint.from_env(environ={"CEREBRAS_CUSTOM_HEADERS": text}, headers={"X-Team": "ops"})
    assert endpoint.headers == {"X-Team": "ops", "X-Trace": "a:b"}


def test_repr_never_shows_the_key_or_header_values() -> None:
    endpoint = Endpoint.from_env(
        environ={"CEREBRAS_API_KEY": SECRET, "CEREBRAS_CUSTOM_HEADERS": f"X-Token: {SECRET}"}
    )
    for text in (repr(endpoint), str(endpoint), f"{endpoint}", repr([endpoint])):
        assert SECRET not in text
    assert "X-Token" in repr(endpoint) and "api_key=<set>" in repr(endpoint)


@pytest.mark.parametrize(
    "headers, words",
    [
        ("X-Name: Grüße", "only visible ASCII"),
        ("Bad Name: x", "not a valid HTTP header name"),
    ],
)
def test_unsendable_custom_headers_are_refused_by_name(headers: str, words: str) -> None:
    with pytest.raises(InvalidHeaderError) as raised:
        Endpoint.from_env(environ={"CEREBRAS_CUSTOM_HEADERS": headers})
    assert words in str(raised.value) and "CEREBRAS_CUSTOM_HEADERS" in str(raised.value)


def test_unsendable_key_is_refused_without_echoing_it() -> None:
    key = "csk-pasted\u200bkey"
    with pytest.raises(InvalidHeaderError) as raised:
        Endpoint.from_env(environ={"CEREBRAS_API_KEY": key})
    assert "CEREBRAS_API_KEY" in str(raised.value) and key not in str(raised.value)
    # Surrounding whitespace from copy and paste is simply dropped.
    assert Endpoint.from_env(api_key=f"  {SECRET}\n", environ={}).api_key == SECRET


@pytest.mark.parametrize(
    "url, loopback",
    [("http://127.0.0.1:8080", True), ("http://localhost:1", True), ("http://[::1]:5", True),
     ("http://127.1.2.3", True), ("https://api.cerebras.ai", False), ("http://10.0.0.2", False)],
)
def test_loopback_detection(url: str, loopback: bool) -> None:
    assert Endpoint(base_url=url).is_loopback is loopback
