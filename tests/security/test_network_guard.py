"""The network guard and the crawl scope, one rule at a time, against the polite client.

The pipeline tests (``test_crawl_scope``) show the attacks end to end; these pin the rules: which addresses
are refused, that the address is checked where the connection is made (DNS rebinding), that every redirect
hop is checked again and asked robots.txt of its own host, and where the feed key may go.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs

import pytest

from extractors import netguard
from extractors.http import MAX_REDIRECTS, PoliteClient
from extractors.records import BlockedByRobots, FetchError, OffScopeLink, OffScopeRedirect, RefusedAddress
from foundation.scope import CrawlScope
from tests.faults.server import FaultSite, Reply

UA = "clearinghouse-test/1.0 (+https://example.org/contact)"
PUBLIC = "93.184.215.14"
"""A global address; nothing is ever sent to it here (the tests stub the socket)."""


@pytest.mark.parametrize(
    ("address", "private_allowed", "refused_as"),
    [
        ("8.8.8.8", False, None),
        ("2606:4700:4700::1111", False, None),
        ("127.0.0.1", False, "loopback"),
        ("127.0.0.1", True, None),
        ("::1", False, "loopback"),
        ("10.1.2.3", False, "private"),
        ("172.16.0.1", False, "private"),
        ("192.168.1.1", False, "private"),
        ("100.64.0.1", False, "private"),  # CGNAT
        ("fd12:3456::1", False, "private"),  # fc00::/7
        ("0.0.0.0", False, "unspecified"),
        ("0.1.2.3", False, "private"),  # 0.0.0.0/8
        ("224.0.0.1", False, "multicast"),
        ("240.0.0.1", False, "reserved"),
        ("169.254.169.254", True, "cloud metadata"),
        ("fd00:ec2::254", True, "cloud metadata"),
        ("100.100.100.200", True, "cloud metadata"),  # Alibaba
        ("169.254.10.10", True, "link-local"),
        ("fe80::1", True, "link-local"),
        ("::ffff:127.0.0.1", False, "loopback"),  # IPv4-mapped
        ("::ffff:169.254.169.254", True, "cloud metadata"),
        ("64:ff9b::a9fe:a9fe", True, "cloud metadata"),  # NAT64 of 169.254.169.254
        ("2002:7f00:1::", False, "loopback"),  # 6to4 of 127.0.0.1
    ],
)
def test_which_addresses_are_refused(address: str, private_allowed: bool, refused_as: str | None) -> None:
    kind = netguard.refusal(ipaddress.ip_address(address), private_allowed)
    if refused_as is None:
        assert kind is None
    else:
        assert kind is not None and refused_as in kind


@pytest.fixture
def site() -> Iterator[FaultSite]:
    site = FaultSite()
    yield site
    site.close()


@pytest.fixture
def client() -> Iterator[Callable[..., PoliteClient]]:
    clients: list[PoliteClient] = []

    def make(allow_private: bool = True) -> PoliteClient:
        clients.append(PoliteClient(user_agent=UA, min_delay_s=0, max_retries=0, timeout_s=2,
                                    allow_private_addresses=allow_private))  # fmt: skip
        return clients[-1]

    yield make
    for c in clients:
        c.close()


def test_dns_rebinding_cannot_swap_the_address_after_the_check(
    site: FaultSite, client: Callable[..., PoliteClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name answers with a public address, then with loopback: a check that looked up the name and let
    the HTTP library look it up again would connect to 127.0.0.1. The guard connects to what it checked."""
    answers = iter([PUBLIC, "127.0.0.1", "127.0.0.1", "127.0.0.1"])
    tried: list[str] = []

    def resolve(host: str, port: int) -> list[tuple[int, netguard.IPAddress]]:
        return [(socket.AF_INET, ipaddress.ip_address(next(answers)))]

    def open_socket(family, address, *args):  # type: ignore[no-untyped-def]
        tried.append(address[0])
        raise ConnectionRefusedError("no internet in tests")

    monkeypatch.setattr(netguard, "resolve", resolve)
    monkeypatch.setattr(netguard, "open_socket", open_socket)
    port = site.url.rsplit(":", 1)[1]
    with pytest.raises(FetchError):
        client(allow_private=False).get(f"http://rebind.clearinghouse.test:{port}/feed", source_id="s")
    assert tried == [PUBLIC]
    assert site.hits == []


def test_the_connected_address_is_checked_again(
    site: FaultSite, client: Callable[..., PoliteClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the lookup said, the socket's far end decides: here a stub resolver says public, and the
    connection lands on 127.0.0.1 (as a hostile resolver or a routing trick could make it)."""
    real_open = netguard.open_socket
    port = int(site.url.rsplit(":", 1)[1])
    monkeypatch.setattr(netguard, "resolve", lambda host, p: [(socket.AF_INET, ipaddress.ip_address(PUBLIC))])
    monkeypatch.setattr(netguard, "open_socket", lambda family, address, *a: real_open(family, ("127.0.0.1", port), *a))
    with pytest.raises(RefusedAddress, match=r"was connected to 127\.0\.0\.1, a loopback address"):
        client(allow_private=False).get(f"http://looks-public.clearinghouse.test:{port}/feed", source_id="s")
    assert site.hits == []  # connected, nothing sent


def test_loopback_is_refused_without_the_allowance(site: FaultSite, client: Callable[..., PoliteClient]) -> None:
    url = site.route("/feed", Reply(body=b"[]"))
    with pytest.raises(RefusedAddress, match=r"127\.0\.0\.1 is a loopback address"):
        client(allow_private=False).get(url, source_id="s")
    assert client(allow_private=True).get(url, source_id="s").body == b"[]"
    assert [h.path for h in site.hits] == ["/robots.txt", "/feed"]


def test_cloud_metadata_names_are_refused_before_any_lookup(
    client: Callable[..., PoliteClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    looked_up: list[str] = []
    monkeypatch.setattr(netguard, "resolve", lambda host, port: looked_up.append(host) or [])
    with pytest.raises(RefusedAddress, match=r"metadata\.google\.internal is the name of a cloud metadata service"):
        client(allow_private=True).get("http://metadata.google.internal/computeMetadata/v1/", source_id="s")
    assert looked_up == []


def test_every_redirect_hop_is_checked_and_asks_robots_of_its_host(
    client: Callable[..., PoliteClient],
) -> None:
    first, second = FaultSite(), FaultSite()
    try:
        second.robots = b"User-agent: *\nDisallow: /private/\n"
        second.route("/public/feed", Reply(body=b"[1]"))
        first.route("/a", Reply(302, headers={"Location": f"{second.url}/public/feed"}))
        first.route("/b", Reply(302, headers={"Location": f"{second.url}/private/feed"}))
        scope = CrawlScope.of(f"{first.url}/a", [second.url.removeprefix("http://")])
        polite = client()
        response = polite.get(f"{first.url}/a", source_id="s", scope=scope)
        assert (response.body, response.redirects) == (b"[1]", (f"{second.url}/public/feed",))
        with pytest.raises(BlockedByRobots, match="/private/feed"):
            polite.get(f"{first.url}/b", source_id="s", scope=scope)
        assert [h.path for h in second.hits] == ["/robots.txt", "/public/feed"]
        with pytest.raises(OffScopeRedirect, match="outside the source's hosts"):
            client().get(f"{first.url}/a", source_id="s")  # the second host is not in the default scope
    finally:
        first.close()
        second.close()


def test_redirect_hops_are_limited(site: FaultSite, client: Callable[..., PoliteClient]) -> None:
    for n in range(MAX_REDIRECTS + 2):
        site.route(f"/hop{n}", Reply(302, headers={"Location": f"/hop{n + 1}"}))
    with pytest.raises(FetchError, match=f"redirected more than {MAX_REDIRECTS} times"):
        client().get(f"{site.url}/hop0", source_id="s")
    assert len([h for h in site.hits if h.path.startswith("/hop")]) == MAX_REDIRECTS + 1


def test_the_key_goes_to_the_origin_only(site: FaultSite, client: Callable[..., PoliteClient]) -> None:
    other = FaultSite()
    try:
        other.route("/feed", Reply(body=b"[2]"))
        site.route("/feed", Reply(302, headers={"Location": f"{other.url}/feed?token=s3cret&page=1"}))
        scope = CrawlScope.of(f"{site.url}/feed", [other.url.removeprefix("http://")])
        assert client().get(f"{site.url}/feed", source_id="s", secret="s3cret", secret_param="token",
                            scope=scope).body == b"[2]"  # fmt: skip
        assert parse_qs(site.requests("/feed")[0].query) == {"token": ["s3cret"]}
        assert parse_qs(other.requests("/feed")[0].query) == {"page": ["1"]}
        with pytest.raises(OffScopeLink):
            client().get(f"{site.url.replace('127.0.0.1', 'localhost')}/feed", source_id="s", secret="s3cret",
                         scope=scope)  # fmt: skip
    finally:
        other.close()


@pytest.mark.parametrize(
    ("url", "allowed", "key"),
    [
        ("https://feeds.example.org/other.json", True, True),
        ("http://feeds.example.org/upgrade-is-fine-too", True, False),
        ("https://feeds.example.org:8443/x", False, False),
        ("https://cdn.example.org/page-2", True, False),
        ("https://evil.example/x", False, False),
        ("https://feeds.example.org.evil.example/x", False, False),
        ("https://feeds.example.org@evil.example/x", False, False),
        ("https://evil.example\\@feeds.example.org/x", False, False),
        ("javascript:alert(1)", False, False),
        ("//evil.example/x", False, False),
    ],
)
def test_scope_and_key_origin(url: str, allowed: bool, key: bool) -> None:
    scope = CrawlScope.of("https://feeds.example.org/meetings.json", ["cdn.example.org"])
    assert (scope.allows(url), scope.sends_key(url)) == (allowed, key)


def test_an_http_url_sends_its_key_to_its_https_form_only() -> None:
    scope = CrawlScope.of("http://feeds.example.org/meetings.json")
    assert scope.sends_key("https://feeds.example.org/meetings.json")
    assert not scope.sends_key("https://feeds.example.org:8443/meetings.json")
