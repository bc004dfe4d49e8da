"""Where requests go and how they authenticate: base URL, API key, custom headers.

Precedence is flag > environment > default, the way the official SDK reads the environment
(``CEREBRAS_BASE_URL``, ``CEREBRAS_API_KEY``, ``CEREBRAS_CUSTOM_HEADERS``). Both the host root
(``http://h:p``) and the OpenAI-style ``http://h:p/v1`` are accepted as a base URL; it is
normalised to the root because every path this client uses carries ``/v1/`` itself — that is
what keeps ``/v1/v1/`` from ever being produced.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from typing import Mapping
from urllib.parse import urlsplit

from workbench.api.errors import InvalidBaseURLError, InvalidHeaderError, MissingAPIKeyError

CEREBRAS_BASE_URL = "https://api.cerebras.ai"
CEREBRAS_DOMAIN = "cerebras.ai"

ENV_API_KEY = "CEREBRAS_API_KEY"
ENV_BASE_URL = "CEREBRAS_BASE_URL"
ENV_CUSTOM_HEADERS = "CEREBRAS_CUSTOM_HEADERS"

# RFC 9110 token characters for a header name; a value must be visible ASCII, space or tab
# (httpx cannot encode anything else, and CR/LF would end the header).
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")


def normalise_base_url(url: str) -> str:
    """The root URL without trailing slashes or a trailing ``/v1``; raises on a URL we can't use."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises on a port outside 0-65535 or not a number
    except ValueError as error:  # "http://[::1", "http://h:99999"
        raise InvalidBaseURLError(f"Base URL {text!r} is not a valid URL ({error}).") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidBaseURLError(
            f"Base URL {text!r} is not an http:// or https:// URL with a host "
            "(for example https://api.cerebras.ai or http://127.0.0.1:8080/v1)."
        )
    if parts.query or parts.fragment:
        raise InvalidBaseURLError(f"Base URL {text!r} must not have a query or fragment.")
    path = parts.path.rstrip("/")
    while path.endswith("/v1"):
        path = path[: -len("/v1")].rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{path}"


def parse_custom_headers(text: str | None) -> dict[str, str]:
    """``CEREBRAS_CUSTOM_HEADERS``: one ``Name: value`` per line; lines without a colon are
    skipped (as the SDK does)."""
    headers: dict[str, str] = {}
    if not text:
        return headers
    for line in text.splitlines():
        name, colon, value = line.partition(":")
        if colon and name.strip():
            headers[name.strip()] = value.strip()
    return headers


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A server and its credentials. ``repr`` never shows the key or custom header values."""

    base_url: str = CEREBRAS_BASE_URL
    api_key: str | None = field(default=None, repr=False)
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    # Where the key and URL came from, so an error can tell the user what to change.
    key_source: str | None = None
    base_url_source: str = "default"

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", normalise_base_url(self.base_url))
        key = self.api_key.strip() if self.api_key else None
        object.__setattr__(self, "api_key", key or None)
        if key and not _HEADER_VALUE.fullmatch(key):
            # Never echo the key: say where it came from and what is wrong with it.
            raise InvalidHeaderError(
                f"The API key from {self.key_source or 'the configuration'} contains characters "
                "that cannot be sent in an HTTP header (non-ASCII or control characters, often "
                "from copy and paste). Copy the key again."
            )
        for name, value in self.headers.items():
            if not _HEADER_NAME.fullmatch(name):
                raise InvalidHeaderError(
                    f"Custom header name {name!r} (from {ENV_CUSTOM_HEADERS}) is not a valid "
                    "HTTP header name."
                )
            if not _HEADER_VALUE.fullmatch(value):
                raise InvalidHeaderError(
                    f"The value of custom header {name!r} (from {ENV_CUSTOM_HEADERS}) has "
                    "characters that cannot be sent in an HTTP header (only visible ASCII)."
                )

    def __repr__(self) -> str:
        key = "set" if self.api_key else "none"
        names = ", ".join(sorted(self.headers)) or "none"
        return (
            f"Endpoint(base_url={self.base_url!r}, api_key=<{key}>, "
            f"custom_headers=<{names}>)"
        )

    __str__ = __repr__

    @classmethod
    def from_env(
        cls,
        base_url: str | None = None,
        api_key: str | None = None,
        environ: Mapping[str, str] | None = None,
        *,
        base_url_source: str = "--base-url",
        key_source: str = "--api-key",
        headers: Mapping[str, str] | None = None,
    ) -> Endpoint:
        """Build from explicit values (flags, config) falling back to the environment.

        ``*_source`` name where the explicit values came from (a flag, a config profile);
        ``headers`` are merged over ``CEREBRAS_CUSTOM_HEADERS``.
        """
        env = os.environ if environ is None else environ
        if base_url:
            url, url_source = base_url, base_url_source
        elif env.get(ENV_BASE_URL, "").strip():
            url, url_source = env[ENV_BASE_URL], f"the {ENV_BASE_URL} environment variable"
        else:
            url, url_source = CEREBRAS_BASE_URL, "default"
        if api_key:
            key, source = api_key, key_source
        elif env.get(ENV_API_KEY, "").strip():
            key, source = env[ENV_API_KEY].strip(), f"the {ENV_API_KEY} environment variable"
        else:
            key, source = None, None
        custom = parse_custom_headers(env.get(ENV_CUSTOM_HEADERS))
        custom.update(headers or {})
        return cls(
            base_url=url,
            api_key=key,
            headers=custom,
            key_source=source,
            base_url_source=url_source,
        )

    @property
    def host(self) -> str:
        """``host`` or ``host:port`` as the user would recognise it in a message."""
        return urlsplit(self.base_url).netloc

    @property
    def is_cerebras(self) -> bool:
        """True for Cerebras' own hosts, where a request without a key can only fail."""
        hostname = (urlsplit(self.base_url).hostname or "").lower()
        return hostname == CEREBRAS_DOMAIN or hostname.endswith("." + CEREBRAS_DOMAIN)

    @property
    def is_loopback(self) -> bool:
        """True for this machine (the simulator): such requests must never go via a proxy."""
        hostname = (urlsplit(self.base_url).hostname or "").lower()
        if hostname == "localhost" or hostname.endswith(".localhost"):
            return True
        try:
            return ipaddress.ip_address(hostname).is_loopback
        except ValueError:
            return False

    def url(self, path: str) -> str:
        """Absolute URL for an API path such as ``/v1/completions``."""
        return self.base_url + "/" + path.lstrip("/")

    def require_key(self) -> None:
        """Raise :class:`MissingAPIKeyError` when talking to Cerebras without a key."""
        if self.is_cerebras and not self.api_key:
            raise MissingAPIKeyError(
                f"No API key for {self.host}: set the {ENV_API_KEY} environment variable "
                "(create a key at https://cloud.cerebras.ai), or run with --offline to use "
                "the built-in simulator."
            )

    def auth_headers(self) -> dict[str, str]:
        """The Authorization header, or nothing when there is no key (local servers)."""
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
