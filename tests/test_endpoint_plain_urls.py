"""The base-URL check skips httpx for plain URLs (a start-up saving): that shortcut must never
accept a URL httpx would refuse, and the unusual ones must still be asked of httpx."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.api.endpoint import _plainly_usable, normalise_base_url
from workbench.api.errors import InvalidBaseURLError

label = st.from_regex(r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,20}[a-zA-Z0-9])?", fullmatch=True)
dns_names = st.lists(label, min_size=1, max_size=4).map(".".join)
numbers = st.lists(st.integers(0, 999).map(str), min_size=1, max_size=5).map(".".join)
ipv6 = st.ip_addresses(v=6).map(lambda address: f"[{address}]")
any_host = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x24F, blacklist_characters="/?#@[]"),
    min_size=1,
    max_size=30,
)
hosts = st.one_of(dns_names, numbers, ipv6, any_host, dns_names.map(lambda name: name + "."))
paths = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x2FF, blacklist_characters="?#"),
    max_size=20,
).map(lambda text: "/" + text if text else "")
ports = st.one_of(st.just(""), st.integers(1, 65535).map(lambda port: f":{port}"))
userinfo = st.one_of(st.just(""), st.just("user:secret@"), st.just("u%20s@"))


@settings(max_examples=400, deadline=None)
@given(scheme=st.sampled_from(["http", "https"]), info=userinfo, host=hosts, port=ports, path=paths)
def test_a_url_taken_as_plain_is_one_httpx_accepts(
    scheme: str, info: str, host: str, port: str, path: str
) -> None:
    root = f"{scheme}://{info}{host}{port}{path}"
    try:
        hostname = urlsplit(root).hostname
    except ValueError:
        return
    if hostname and _plainly_usable(root, hostname):
        httpx.URL(root)  # raises if the shortcut ever let through what httpx refuses


@pytest.mark.parametrize(
    ("url", "usable"),
    [
        ("http://999.1.1.1:8080", False),  # four numbers: an IPv4 address, and not a valid one
        ("http://☃.net", False),  # not a valid IDNA name
        ("http://[::zz]:9", False),  # not an IPv6 address
        ("http://xn--a.com", True),
        ("http://ex_ample.com:1", True),  # not plain (the underscore): httpx is asked, and agrees
        ("http://bücher.example", True),
    ],
)
def test_unusual_hosts_are_still_checked_by_httpx(url: str, usable: bool) -> None:
    if usable:
        assert normalise_base_url(url) == url
    else:
        with pytest.raises(InvalidBaseURLError, match="not a usable URL|not an http"):
            normalise_base_url(url)
