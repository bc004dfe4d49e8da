"""Which host gets which key (issue 8, item 3), decided in workbench.api.endpoint.

- ``CEREBRAS_API_KEY`` (a key not named for a host) goes only to Cerebras over https:// and
  to loopback;
- a key named for the host (a profile's key with its own base_url, explicit flags) goes there,
  but over plain http:// to another machine only with ``allow_insecure``;
- ``user:password@`` in a base URL is never shown, and follows the same http:// rule.

End to end over a real socket (through the hostile server acting as the proxy for a
non-loopback host) in test_hardening_network.py.
"""

from __future__ import annotations

import pytest

from workbench.api.endpoint import Endpoint, redact_url, split_credentials
from workbench.api.errors import InvalidBaseURLError, MissingAPIKeyError
from workbench.api.failures import status_error, transport_error

KEY = "csk-policy-secret-0123456789"
ENV = {"CEREBRAS_API_KEY": KEY}


@pytest.mark.parametrize(
    "url, sent",
    [
        ("https://api.cerebras.ai", True),
        ("https://eu.api.cerebras.ai/v1", True),
        ("http://api.cerebras.ai", False),  # Cerebras, but in clear text
        ("https://cerebras.ai.evil.example", False),
        ("https://proxy.example/cerebras", False),
        ("http://10.0.0.2:8080", False),
        ("http://anything", False),
        ("http://127.0.0.1:8080", True),
        ("http://localhost:1", True),
        ("http://[::1]:5/v1", True),
    ],
)
def test_environment_key_goes_only_to_cerebras_https_and_loopback(url: str, sent: bool) -> None:
    for endpoint in (
        Endpoint.from_env(base_url=url, environ=ENV),
        Endpoint.from_env(environ={**ENV, "CEREBRAS_BASE_URL": url}),
        # key_for_host speaks of an explicit key: the environment's key never becomes one.
        Endpoint.from_env(base_url=url, environ=ENV, key_for_host=True, allow_insecure=True),
    ):
        assert (endpoint.auth_headers() == {"Authorization": f"Bearer {KEY}"}) is sent
        assert (endpoint.key_withheld_reason is None) is sent
        if not sent:
            reason = endpoint.key_withheld_reason or ""
            assert "\n" not in reason and KEY not in reason
            assert "CEREBRAS_API_KEY" in reason and endpoint.host in reason
            assert "withheld" in repr(endpoint)


@pytest.mark.parametrize(
    "url, allow_insecure, sent",
    [
        ("https://proxy.example", False, True),
        ("http://proxy.example", False, False),
        ("http://proxy.example", True, True),
        ("http://127.0.0.1:9", False, True),
    ],
)
def test_a_key_named_for_the_host_goes_there_https_or_when_allowed(
    url: str, allow_insecure: bool, sent: bool
) -> None:
    endpoint = Endpoint.from_env(
        base_url=url, api_key=KEY, environ={}, key_source="profile work",
        key_for_host=True, allow_insecure=allow_insecure,
    )  # fmt: skip
    assert bool(endpoint.auth_headers()) is sent
    if not sent:
        assert "http://" in (endpoint.key_withheld_reason or "")
        assert "allow_insecure = true" in (endpoint.key_withheld_reason or "")


def test_an_explicit_key_not_said_to_be_for_the_host_is_treated_like_the_environments() -> None:
    endpoint = Endpoint.from_env(base_url="https://other.example", api_key=KEY, environ={})
    assert endpoint.auth_headers() == {} and endpoint.key_withheld_reason
    direct = Endpoint(base_url="https://other.example", api_key=KEY)
    assert direct.auth_headers() == {}


def test_cerebras_over_http_says_why_there_is_no_key() -> None:
    endpoint = Endpoint.from_env(base_url="http://api.cerebras.ai", environ=ENV)
    with pytest.raises(MissingAPIKeyError) as raised:
        endpoint.require_key()
    assert "https://" in str(raised.value) and KEY not in str(raised.value)


def test_a_401_from_a_host_whose_key_was_withheld_says_why() -> None:
    endpoint = Endpoint.from_env(base_url="https://proxy.example", environ=ENV)
    error = status_error(401, b'{"message": "no key"}', headers={}, endpoint=endpoint, url="u")
    assert "was not sent to proxy.example" in str(error)


@pytest.mark.parametrize(
    "url, bare, userinfo",
    [
        ("http://u:p@h:1/v1", "http://h:1/v1", "u:p"),
        ("https://h/v1", "https://h/v1", None),
        ("http://a@b@h/x?q=@", "http://h/x?q=@", "a@b"),
        ("not a url", "not a url", None),
        ("http://u:p@[::1", "http://[::1", "u:p"),
    ],
)
def test_credentials_are_split_from_any_text(url: str, bare: str, userinfo: str | None) -> None:
    assert split_credentials(url) == (bare, userinfo)
    assert "p@" not in redact_url(url) or userinfo is None


def test_url_credentials_are_used_but_never_shown() -> None:
    password = "s3cret-password"
    endpoint = Endpoint(base_url=f"https://alice:{password}@proxy.example/v1")
    assert endpoint.base_url == "https://proxy.example"  # what sessions and exports see
    assert endpoint.redacted_base_url == "https://***@proxy.example"
    assert endpoint.url("/v1/models") == f"https://alice:{password}@proxy.example/v1/models"
    for text in (repr(endpoint), str(endpoint), endpoint.host, endpoint.redacted_base_url):
        assert password not in text
    error = status_error(
        404, f'{{"message": "nothing for alice:{password}"}}'.encode(), headers={},
        endpoint=endpoint, url=endpoint.url("/v1/completions"),
    )  # fmt: skip
    assert password not in str(error) and "***@proxy.example" in str(error)


def test_url_credentials_do_not_travel_over_plain_http_to_another_machine() -> None:
    endpoint = Endpoint(base_url="http://alice:pw12345@proxy.example")
    assert endpoint.url("/v1/models") == "http://proxy.example/v1/models"
    assert "credentials" in (endpoint.key_withheld_reason or "")
    allowed = Endpoint(base_url="http://alice:pw12345@proxy.example", allow_insecure=True)
    assert allowed.url("/v1/models") == "http://alice:pw12345@proxy.example/v1/models"
    local = Endpoint(base_url="http://alice:pw12345@127.0.0.1:8080")
    assert local.url("/x") == "http://alice:pw12345@127.0.0.1:8080/x"


@pytest.mark.parametrize(
    "bad",
    ["http://[::1", "http://127.0.0.1:99999", "http://h:-1", "http://h:port", "http://a b/",
     "http://u:secretpw@[::1", "http://h\x1b[31m/", "http://:80", "http://h:0"],
)
def test_malformed_base_urls_are_one_line_without_credentials(bad: str) -> None:
    with pytest.raises(InvalidBaseURLError) as raised:
        Endpoint.from_env(base_url=bad, environ=ENV)
    text = str(raised.value)
    assert "\n" not in text and "secretpw" not in text and "\x1b" not in text


def test_transport_errors_never_show_url_credentials() -> None:
    import httpx

    endpoint = Endpoint(base_url="https://alice:pw-12345678@127.0.0.1:1")
    error = transport_error(
        httpx.ConnectError("refused"), endpoint=endpoint, connect_timeout=5, read_timeout=60,
        response_started=False,
    )  # fmt: skip
    assert "pw-12345678" not in str(error) and "***@127.0.0.1:1" in str(error)


def test_a_profile_key_is_named_for_the_profiles_own_host_only() -> None:
    from workbench.config import Profile

    env = {"GATEWAY_KEY": KEY}
    gateway = Profile(name="gw", base_url="https://gw.example/v1", api_key_env="GATEWAY_KEY")
    assert Endpoint.from_profile(gateway, env).auth_headers() == {"Authorization": f"Bearer {KEY}"}
    same_host = Endpoint.from_profile(gateway, env, base_url="https://GW.example:443/other")
    assert same_host.auth_headers()
    # A --base-url elsewhere: the profile's key does not follow it.
    elsewhere = Endpoint.from_profile(gateway, env, base_url="https://evil.example")
    assert elsewhere.auth_headers() == {} and "GATEWAY_KEY" in (elsewhere.key_withheld_reason or "")
    lab = Profile(name="lab", base_url="http://10.0.0.5:8080", api_key_env="GATEWAY_KEY")
    assert Endpoint.from_profile(lab, env).auth_headers() == {}
    lab = Profile(name="lab", base_url="http://10.0.0.5:8080", api_key_env="GATEWAY_KEY",
                  allow_insecure=True)
    assert Endpoint.from_profile(lab, env).auth_headers()
    # No key of its own: CEREBRAS_API_KEY under the usual rule.
    bare = Profile(name="bare", base_url="https://gw.example")
    assert Endpoint.from_profile(bare, ENV).auth_headers() == {}


def test_credential_headers_from_the_environment_follow_the_key_rule() -> None:
    """CEREBRAS_CUSTOM_HEADERS may hold an Authorization or X-Api-Key line: like the key, it
    goes only to Cerebras over https:// and to this machine; other headers go everywhere."""
    from workbench.api.endpoint import Endpoint

    env = {"CEREBRAS_CUSTOM_HEADERS": "Authorization: Bearer csk-leak\nX-Api-Key: k1\nX-Trace: 7"}
    elsewhere = Endpoint.from_env(base_url="https://gateway.example.com", environ=env)
    assert elsewhere.headers == {"X-Trace": "7"}
    assert "Authorization, X-Api-Key headers from CEREBRAS_CUSTOM_HEADERS were not sent" in (
        elsewhere.key_withheld_reason or ""
    )
    assert "csk-leak" not in (elsewhere.key_withheld_reason or "")
    for url in ("https://api.cerebras.ai", "http://127.0.0.1:8080"):
        kept = Endpoint.from_env(base_url=url, environ=env)
        assert set(kept.headers) == {"Authorization", "X-Api-Key", "X-Trace"}, url
    # Headers given explicitly (not from the environment) are the caller's choice.
    explicit = Endpoint.from_env(
        base_url="https://gateway.example.com", environ={}, headers={"Authorization": "Bearer x"}
    )
    assert explicit.headers == {"Authorization": "Bearer x"}
