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
from typing import Mapping, Protocol
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

# A DNS name of ASCII letters, digits and hyphens: a host httpx accepts as it is.
_DNS_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_PLAIN_HOST = re.compile(rf"{_DNS_LABEL}(?:\.{_DNS_LABEL})*\.?")
_DOTTED_NUMBERS = re.compile(r"[0-9]+(?:\.[0-9]+)*\.?")
_VISIBLE_ASCII = re.compile(r"[\x21-\x7e]*")


def split_credentials(url: str) -> tuple[str, str | None]:
    """``url`` without its ``user:password@`` part, and that part (None when there is none).

    Works on any text, even one that is not a valid URL, so a message about a bad URL can
    still leave the password out.
    """
    text = url.strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        return text, None
    authority_end = len(rest)
    for stop in "/?#":
        found = rest.find(stop)
        if found != -1:
            authority_end = min(authority_end, found)
    authority = rest[:authority_end]
    userinfo, at, hostport = authority.rpartition("@")
    if not at:
        return text, None
    return f"{scheme}://{hostport}{rest[authority_end:]}", userinfo


def redact_url(url: str) -> str:
    """``url`` with any embedded credentials shown as ``***`` (for messages, logs, exports)."""
    bare, userinfo = split_credentials(url)
    if userinfo is None:
        return bare
    scheme, _, rest = bare.partition("://")
    return f"{scheme}://***@{rest}"


def normalise_base_url(url: str) -> str:
    """The root URL without trailing slashes or a trailing ``/v1``; raises on a URL we can't use.

    Credentials in the URL are kept (see :class:`Endpoint`, which takes them out); messages
    only ever show the URL through :func:`redact_url`.
    """
    text = url.strip()
    shown = redact_url(text)
    if len(shown) > 120:
        shown = shown[:119] + "…"
    example = "for example https://api.cerebras.ai or http://127.0.0.1:8080/v1"
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in text):
        raise InvalidBaseURLError(
            f"Base URL {shown!r} contains spaces or control characters; use a URL such as "
            f"https://api.cerebras.ai or http://127.0.0.1:8080/v1."
        )
    try:
        parts = urlsplit(text)
        hostname = parts.hostname
        port = parts.port  # raises ValueError for a port outside 0-65535 or not a number
    except ValueError as error:
        raise InvalidBaseURLError(
            f"Base URL {shown!r} is not a usable URL ({error}); {example}."
        ) from None
    if parts.scheme not in ("http", "https") or not hostname:
        raise InvalidBaseURLError(
            f"Base URL {shown!r} is not an http:// or https:// URL with a host ({example})."
        )
    if port == 0:
        raise InvalidBaseURLError(f"Base URL {shown!r} has port 0: use a port from 1 to 65535.")
    if parts.query or parts.fragment:
        raise InvalidBaseURLError(f"Base URL {shown!r} must not have a query or fragment.")
    path = parts.path.rstrip("/")
    while path.endswith("/v1"):
        path = path[: -len("/v1")].rstrip("/")
    root = f"{parts.scheme}://{parts.netloc}{path}"
    if not _plainly_usable(root, hostname):
        # What the HTTP library will make of it: an unusable host (bad IDNA, stray
        # characters) fails here, with one line, rather than when the first request is sent.
        import httpx  # only for unusual URLs: httpx is not imported at start-up otherwise

        try:
            httpx.URL(root)
        except (httpx.InvalidURL, ValueError) as error:
            raise InvalidBaseURLError(
                f"Base URL {shown!r} is not a usable URL ({redact_url(str(error))}); {example}."
            ) from None
    return root


def _plainly_usable(root: str, hostname: str) -> bool:
    """True when httpx is sure to accept ``root`` (visible ASCII, a plain DNS name or an IP
    address as the host), so asking it can wait: importing httpx costs ~60 ms, and the TUI
    checks its base URL before its first frame. A property test holds this to httpx's answer
    (tests/test_endpoint_plain_urls.py)."""
    if not _VISIBLE_ASCII.fullmatch(root):
        return False
    if _DOTTED_NUMBERS.fullmatch(hostname) or ":" in hostname:
        # Numbers only (httpx reads four of them as IPv4) or an IPv6 literal: only a valid
        # address is plain.
        try:
            ipaddress.ip_address(hostname.rstrip("."))
        except ValueError:
            return False
        return not hostname.endswith(".")
    return _PLAIN_HOST.fullmatch(hostname) is not None


def _is_loopback_host(hostname: str) -> bool:
    hostname = hostname.lower().rstrip(".")
    if hostname == "localhost" or hostname.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def _is_cerebras_host(hostname: str) -> bool:
    hostname = hostname.lower().rstrip(".")
    return hostname == CEREBRAS_DOMAIN or hostname.endswith("." + CEREBRAS_DOMAIN)


_CREDENTIAL_HEADERS = {"authorization", "proxy-authorization", "cookie"}
_CREDENTIAL_WORDS = ("key", "token", "secret", "auth", "password", "session")


def _is_credential_header(name: str) -> bool:
    """A header that may carry a secret (``Authorization``, ``X-Api-Key``, ``X-Auth-Token`` …)."""
    lowered = name.lower()
    return lowered in _CREDENTIAL_HEADERS or any(word in lowered for word in _CREDENTIAL_WORDS)


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


class ProfileLike(Protocol):
    """What :meth:`Endpoint.from_profile` needs of a config profile (``workbench.config.Profile``)."""

    name: str
    base_url: str | None
    api_key_env: str | None

    def resolve_api_key(self, environ: Mapping[str, str] | None = None) -> str | None: ...


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(split_credentials(normalise_base_url(split_credentials(url)[0]))[0])
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower().rstrip("."), parts.port or default


def _same_origin(a: str, b: str) -> bool:
    """Same scheme, host and port (the credentials and path may differ)."""
    return _origin(a) == _origin(b)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A server and its credentials. ``repr`` never shows the key, custom header values or
    credentials embedded in the base URL.

    **Key policy** (decided here, so the CLI, the TUI and scripts all follow it): a key is
    sent to

    - Cerebras' own HTTPS endpoint (``https://…cerebras.ai``) and to this machine (loopback);
    - another host only when the key was named for it — ``key_for_host=True``: a profile's
      ``api_key_env``/``api_key`` next to its ``base_url``, or a key and a base URL given
      together as flags — so ``CEREBRAS_API_KEY`` never follows a ``--base-url`` elsewhere;
    - never over plain ``http://`` to a non-loopback host, unless ``allow_insecure=True``
      (a profile's ``allow_insecure = true``). The same goes for ``user:password@`` in the URL.

    A withheld key is not sent at all; :attr:`key_withheld_reason` says why in one line, for
    the CLI and the TUI to show once. :attr:`api_key` is the key that *will* be sent.

    ``base_url`` never holds credentials: ``http://user:pw@host`` is stored as ``http://host``
    plus a private ``credentials`` part that only :meth:`url` (the request itself) uses.
    """

    base_url: str = CEREBRAS_BASE_URL
    api_key: str | None = field(default=None, repr=False)
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    # Where the key and URL came from, so an error can tell the user what to change.
    key_source: str | None = None
    base_url_source: str = "default"
    #: the key was named for this host (a profile, or explicit flags), not a global default
    key_for_host: bool = False
    #: a key may travel over plain http:// to another machine (a profile's explicit choice)
    allow_insecure: bool = False
    #: ``user:password`` from the base URL (never shown; used only in :meth:`url`)
    credentials: str | None = field(default=None, repr=False)
    #: why a configured key (or URL credentials) will not be sent; None when nothing is withheld
    key_withheld_reason: str | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        bare, userinfo = split_credentials(self.base_url)
        object.__setattr__(self, "base_url", normalise_base_url(bare))
        if userinfo:
            object.__setattr__(self, "credentials", userinfo)
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
            if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
                raise InvalidHeaderError(
                    f"Custom header name {str(name)[:80]!r} (from {ENV_CUSTOM_HEADERS}) is not a "
                    "valid HTTP header name (letters, digits and !#$%&'*+-.^_`|~ only)."
                )
            if not isinstance(value, str) or not _HEADER_VALUE.fullmatch(value):
                raise InvalidHeaderError(
                    f"The value of custom header {name!r} (from {ENV_CUSTOM_HEADERS}) has "
                    "characters that cannot be sent in an HTTP header (only visible ASCII)."
                )
        key_reason = self._key_withheld() if self.api_key else None
        credentials_reason = self._credentials_withheld() if self.credentials else None
        if key_reason:
            object.__setattr__(self, "api_key", None)
        if credentials_reason:
            object.__setattr__(self, "credentials", None)
        reasons = [reason for reason in (key_reason, credentials_reason) if reason]
        if reasons:
            object.__setattr__(self, "key_withheld_reason", " ".join(reasons))

    def _key_withheld(self) -> str | None:
        """Why the API key must not go to this host, or None."""
        if self.is_loopback:
            return None
        what = f"The API key from {self.key_source or 'the configuration'}"
        secure = self.scheme == "https"
        if not self.key_for_host and not (self.is_cerebras and secure):
            return (
                f"{what} was not sent to {self.host}: a key that was not named for this host "
                "goes only to Cerebras over https:// and to this machine. To use a key here, "
                "set base_url with api_key_env (or api_key) in a profile for this server."
            )
        if not secure and not self.allow_insecure:
            return (
                f"{what} was not sent to {self.host}: the base URL is plain http:// to another "
                "machine, where anyone on the way could read it. Use https://, or set "
                "allow_insecure = true in the profile."
            )
        return None

    def _credentials_withheld(self) -> str | None:
        """Why the ``user:password@`` of the base URL must not go to this host, or None."""
        if self.is_loopback or self.scheme == "https" or self.allow_insecure:
            return None
        return (
            f"The credentials in the base URL were not sent to {self.host}: plain http:// to "
            "another machine. Use https://, or set allow_insecure = true in the profile."
        )

    def __repr__(self) -> str:
        key = "set" if self.api_key else "withheld" if self.key_withheld_reason else "none"
        names = ", ".join(sorted(self.headers)) or "none"
        return (
            f"Endpoint(base_url={self.redacted_base_url!r}, api_key=<{key}>, "
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
        key_for_host: bool = False,
        allow_insecure: bool = False,
    ) -> Endpoint:
        """Build from explicit values (flags, config) falling back to the environment.

        ``*_source`` name where the explicit values came from (a flag, a config profile);
        ``headers`` are merged over ``CEREBRAS_CUSTOM_HEADERS``. ``key_for_host=True`` says
        the explicit ``api_key`` was named for this base URL (a profile's own key with its
        own ``base_url``, or flags given together); it never applies to a key taken from
        ``CEREBRAS_API_KEY``, which follows the Cerebras-or-loopback rule. ``allow_insecure``
        lets that key travel over plain http:// (a profile's ``allow_insecure = true``).
        """
        env = os.environ if environ is None else environ
        if base_url:
            url, url_source = base_url, base_url_source
        elif env.get(ENV_BASE_URL, "").strip():
            url, url_source = env[ENV_BASE_URL], f"the {ENV_BASE_URL} environment variable"
        else:
            url, url_source = CEREBRAS_BASE_URL, "default"
        named = False
        if api_key:
            key, source, named = api_key, key_source, key_for_host
        elif env.get(ENV_API_KEY, "").strip():
            key, source = env[ENV_API_KEY].strip(), f"the {ENV_API_KEY} environment variable"
        else:
            key, source = None, None
        from_env_headers = parse_custom_headers(env.get(ENV_CUSTOM_HEADERS))
        custom = {**from_env_headers, **(headers or {})}
        endpoint = cls(
            base_url=url,
            api_key=key,
            headers=custom,
            key_source=source,
            base_url_source=url_source,
            key_for_host=named,
            allow_insecure=allow_insecure,
        )
        # CEREBRAS_CUSTOM_HEADERS is meant for Cerebras: its credential-like headers follow the
        # rule of CEREBRAS_API_KEY (Cerebras over https:// and this machine only).
        if endpoint.is_loopback or (endpoint.is_cerebras and endpoint.scheme == "https"):
            return endpoint
        withheld = [
            name for name in from_env_headers if name not in (headers or {}) and _is_credential_header(name)
        ]
        if not withheld:
            return endpoint
        for name in withheld:
            del endpoint.headers[name]
        reason = (
            f"The {', '.join(withheld)} header{'s' if len(withheld) > 1 else ''} from "
            f"{ENV_CUSTOM_HEADERS} {'were' if len(withheld) > 1 else 'was'} not sent to "
            f"{endpoint.host}: like {ENV_API_KEY}, credentials in it go only to Cerebras over "
            "https:// and to this machine."
        )
        earlier = endpoint.key_withheld_reason
        object.__setattr__(endpoint, "key_withheld_reason", f"{earlier} {reason}" if earlier else reason)
        return endpoint

    @classmethod
    def from_profile(
        cls,
        profile: ProfileLike,
        environ: Mapping[str, str] | None = None,
        *,
        base_url: str | None = None,
        base_url_source: str = "--base-url",
        headers: Mapping[str, str] | None = None,
    ) -> Endpoint:
        """The endpoint of a config profile, with the key policy applied for you.

        The profile's key (``api_key_env`` or ``api_key``) is named for the profile's own
        ``base_url``: it counts as meant for that host (``key_for_host``), and may use plain
        http:// when the profile says ``allow_insecure``. A ``base_url`` given here (a
        ``--base-url`` flag) that points at another host turns it back into an ordinary key
        (Cerebras over https:// and loopback only): a profile's key never follows a flag to
        a host it was not named for. Without a key of its own the profile falls back to
        ``CEREBRAS_API_KEY`` under the usual rule.
        """
        env = os.environ if environ is None else environ
        own_url = profile.base_url
        key = profile.resolve_api_key(env)
        named = bool(key) and bool(own_url) and (
            base_url is None or _same_origin(base_url, own_url or "")
        )
        if profile.api_key_env and env.get(profile.api_key_env):
            key_source = f"{profile.api_key_env} (profile {profile.name})"
        else:
            key_source = f"profile {profile.name}"
        return cls.from_env(
            base_url=base_url or own_url,
            api_key=key,
            environ=env,
            base_url_source=base_url_source if base_url else f"profile {profile.name}",
            key_source=key_source,
            headers=headers,
            key_for_host=named,
            allow_insecure=named and bool(getattr(profile, "allow_insecure", False)),
        )

    @property
    def scheme(self) -> str:
        return urlsplit(self.base_url).scheme

    @property
    def host(self) -> str:
        """``host`` or ``host:port`` as the user would recognise it in a message."""
        return urlsplit(self.base_url).netloc

    @property
    def redacted_base_url(self) -> str:
        """The base URL for messages: ``***@`` marks credentials without showing them."""
        if not self.credentials:
            return self.base_url
        scheme, _, rest = self.base_url.partition("://")
        return f"{scheme}://***@{rest}"

    @property
    def is_cerebras(self) -> bool:
        """True for Cerebras' own hosts, where a request without a key can only fail."""
        return _is_cerebras_host(urlsplit(self.base_url).hostname or "")

    @property
    def is_loopback(self) -> bool:
        """True for this machine (the simulator): such requests must never go via a proxy."""
        return _is_loopback_host(urlsplit(self.base_url).hostname or "")

    def url(self, path: str) -> str:
        """Absolute URL for an API path such as ``/v1/completions`` (with the URL's
        credentials when they may be sent: the HTTP library turns them into Basic auth)."""
        base = self.base_url
        if self.credentials:
            scheme, _, rest = base.partition("://")
            base = f"{scheme}://{self.credentials}@{rest}"
        return base + "/" + path.lstrip("/")

    def require_key(self) -> None:
        """Raise :class:`MissingAPIKeyError` when talking to Cerebras without a key."""
        if self.is_cerebras and not self.api_key:
            if self.key_withheld_reason:
                raise MissingAPIKeyError(self.key_withheld_reason)
            raise MissingAPIKeyError(
                f"No API key for {self.host}: set the {ENV_API_KEY} environment variable "
                "(create a key at https://cloud.cerebras.ai), or run with --offline to use "
                "the built-in simulator."
            )

    def auth_headers(self) -> dict[str, str]:
        """The Authorization header, or nothing when there is no key (or it was withheld)."""
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def redact(self, text: str) -> str:
        """``text`` without this endpoint's key or URL credentials (belt and braces for
        anything a server echoes back)."""
        for secret in (self.api_key, self.credentials):
            if secret and len(secret) >= 4:
                text = text.replace(secret, "***")
        if self.credentials:
            password = self.credentials.partition(":")[2]
            if len(password) >= 4:
                text = text.replace(password, "***")
        return text
