"""The polite client against a real local HTTP server: each test scripts the server's answers per path."""

from __future__ import annotations

import gzip
import itertools
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlsplit

import pytest

from extractors.http import PoliteClient, demo_rewrite, redact
from extractors.records import BlockedByRobots, FetchError, RestrictedFeed, UnexpectedContent
from foundation.settings import Settings

UA = "clearinghouse-test/1.0 (+https://example.org/contact)"


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Seen:
    path: str
    headers: dict[str, str]
    at: float
    port: int = 0
    """The client's port: the same port for two requests means one connection (keep-alive)."""


class Site:
    """A local HTTP server with scripted answers per path (the last one repeats) and a log of requests."""

    def __init__(self, keep_alive: bool = False) -> None:
        self.routes: dict[str, list[Reply]] = {"/robots.txt": [Reply(404)]}
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _KeepAliveHandler if keep_alive else _Handler)
        self._server.site = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, args=(0.01,), daemon=True).start()

    def stop(self) -> None:
        if self._server.socket.fileno() != -1:
            self._server.shutdown()
            self._server.server_close()

    def route(self, path: str, *replies: Reply) -> None:
        self.routes[path] = list(replies)

    def take(self, path: str, headers: dict[str, str], port: int = 0) -> Reply:
        with self._lock:
            self.seen.append(Seen(path, headers, time.monotonic(), port))
            replies = self.routes.get(urlsplit(path).path, [Reply(404)])
            return replies.pop(0) if len(replies) > 1 else replies[0]

    def paths(self) -> list[str]:
        return [s.path for s in self.seen]


class _Server(ThreadingHTTPServer):
    site: Site


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        reply = self.server.site.take(self.path, dict(self.headers), self.client_address[1])
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""


class _KeepAliveHandler(_Handler):
    """HTTP/1.1: the connection stays open after an answer, as on real sites."""

    protocol_version = "HTTP/1.1"


@pytest.fixture
def site() -> Iterator[Site]:
    site = Site()
    yield site
    site.stop()


class FakeTime:
    """A clock that only moves when the client sleeps, so waits are recorded instead of spent."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def make_client(fake_time: FakeTime) -> Iterator[Callable[..., PoliteClient]]:
    clients: list[PoliteClient] = []

    def make(**overrides: Any) -> PoliteClient:
        options: dict[str, Any] = {
            "user_agent": UA,
            "min_delay_s": 0.0,
            "timeout_s": 5.0,
            "max_retries": 3,
            "backoff_s": 0.01,
            "allow_private_addresses": True,  # the test site listens on 127.0.0.1
            "sleep": fake_time.sleep,
            "clock": fake_time.clock,
        } | overrides
        client = PoliteClient(**options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def test_success_sends_honest_headers_and_returns_metadata(site: Site, make_client: Callable) -> None:
    site.route(
        "/feed.json",
        Reply(
            200,
            b'[{"name": "Hope"}]',
            {
                "Content-Type": "application/json",
                "ETag": '"v1"',
                "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT",
            },
        ),
    )
    response = make_client().get(f"{site.url}/feed.json", source_id="s", expect="json")

    assert (response.status, response.body, response.attempts) == (200, b'[{"name": "Hope"}]', 1)
    assert (response.content_type, response.etag, response.not_modified) == (
        "application/json",
        '"v1"',
        False,
    )
    assert response.last_modified == "Mon, 01 Jan 2024 00:00:00 GMT"
    assert response.url == f"{site.url}/feed.json"
    request = site.seen[-1]
    assert request.headers["User-Agent"] == UA
    assert request.headers["Accept-Encoding"] == "gzip"


def test_gzip_body_is_decoded(site: Site, make_client: Callable) -> None:
    site.route("/feed.json", Reply(200, gzip.compress(b'{"ok": true}'), {"Content-Encoding": "gzip"}))

    assert make_client().get(f"{site.url}/feed.json", source_id="s").body == b'{"ok": true}'


def test_robots_txt_is_read_once_per_host(site: Site, make_client: Callable) -> None:
    site.route("/a", Reply(200, b"a"))
    site.route("/b", Reply(200, b"b"))
    client = make_client()
    client.get(f"{site.url}/a", source_id="s")
    client.get(f"{site.url}/b", source_id="s")

    assert site.paths() == ["/robots.txt", "/a", "/b"]


def test_503_twice_then_200_is_retried_with_exponential_backoff(
    site: Site, make_client: Callable, fake_time: FakeTime
) -> None:
    site.route("/feed", Reply(503), Reply(503), Reply(200, b"[]"))
    response = make_client(backoff_s=0.5).get(f"{site.url}/feed", source_id="s")

    assert (response.status, response.body, response.attempts) == (200, b"[]", 3)
    assert fake_time.sleeps == [0.5, 1.0]
    assert site.paths().count("/feed") == 3


def test_429_retry_after_seconds_is_honoured(site: Site, make_client: Callable, fake_time: FakeTime) -> None:
    site.route("/feed", Reply(429, headers={"Retry-After": "7"}), Reply(200, b"[]"))
    response = make_client().get(f"{site.url}/feed", source_id="s")

    assert response.attempts == 2
    assert fake_time.sleeps == [7.0]


def test_503_retry_after_http_date_is_honoured(site: Site, make_client: Callable, fake_time: FakeTime) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    site.route("/feed", Reply(503, headers={"Retry-After": when}), Reply(200, b"[]"))
    make_client().get(f"{site.url}/feed", source_id="s")

    assert len(fake_time.sleeps) == 1
    assert 25 < fake_time.sleeps[0] <= 30


def test_retry_after_longer_than_the_cap_fails_without_waiting(
    site: Site, make_client: Callable, fake_time: FakeTime
) -> None:
    site.route("/feed", Reply(429, headers={"Retry-After": "3600"}), Reply(200, b"[]"))
    with pytest.raises(FetchError, match=r"wait 3600 s \(Retry-After\), longer than the 120 s"):
        make_client(max_retry_after_s=120).get(f"{site.url}/feed", source_id="s")

    assert fake_time.sleeps == []
    assert site.paths().count("/feed") == 1


def test_500s_until_retries_are_exhausted_raise_fetch_error(site: Site, make_client: Callable) -> None:
    site.route("/feed", Reply(500))
    with pytest.raises(FetchError) as caught:
        make_client(max_retries=2).get(f"{site.url}/feed", source_id="gny")

    message = str(caught.value)
    assert f"GET {site.url}/feed failed after 3 attempts (last: HTTP 500)" in message
    assert "the site may be down; last good data is kept" in message
    assert caught.value.source_id == "gny"
    assert type(caught.value) is FetchError
    assert site.paths().count("/feed") == 3


@pytest.mark.parametrize(
    "robots",
    [
        b"User-agent: *\nDisallow: /private\n",
        b"User-agent: clearinghouse-test\nDisallow: /private\n\nUser-agent: *\nAllow: /\n",
    ],
)
def test_robots_disallow_blocks_without_requesting(site: Site, make_client: Callable, robots: bytes) -> None:
    site.route("/robots.txt", Reply(200, robots))
    site.route("/private/feed", Reply(200, b"[]"))
    with pytest.raises(BlockedByRobots, match=f"blocked by robots.txt: {site.url}/private/feed"):
        make_client().get(f"{site.url}/private/feed", source_id="s")

    assert site.paths() == ["/robots.txt"]


WORDPRESS_ROBOTS = b"User-agent: *\nDisallow: /wp-admin/\nAllow: /wp-admin/admin-ajax.php\n"
"""WordPress's default robots.txt, served by nearly every 12 Step Meeting List site."""


def test_robots_longest_rule_wins_so_a_wordpress_feed_is_allowed(site: Site, make_client: Callable) -> None:
    """RFC 9309 §2.2.2: the most specific rule wins; a first-match parser blocks every admin-ajax feed."""
    site.route("/robots.txt", Reply(200, WORDPRESS_ROBOTS))
    site.route("/wp-admin/admin-ajax.php", Reply(200, b"[]"))
    site.route("/wp-admin/options.php", Reply(200, b"[]"))
    client = make_client()

    assert client.get(f"{site.url}/wp-admin/admin-ajax.php?action=meetings", source_id="s").body == b"[]"
    with pytest.raises(BlockedByRobots):
        client.get(f"{site.url}/wp-admin/options.php", source_id="s")
    assert site.paths() == ["/robots.txt", "/wp-admin/admin-ajax.php?action=meetings"]


def test_robots_rules_for_other_agents_do_not_block_us(site: Site, make_client: Callable) -> None:
    site.route("/robots.txt", Reply(200, b"User-agent: otherbot\nDisallow: /\n"))
    site.route("/feed", Reply(200, b"[]"))

    assert make_client().get(f"{site.url}/feed", source_id="s").body == b"[]"


def test_robots_5xx_is_treated_as_disallow_all(site: Site, make_client: Callable) -> None:
    site.route("/robots.txt", Reply(500))
    site.route("/feed", Reply(200, b"[]"))
    with pytest.raises(BlockedByRobots, match="RFC 9309") as caught:
        make_client(max_retries=1).get(f"{site.url}/feed", source_id="s")

    assert "HTTP 500" in str(caught.value)
    assert "/feed" not in site.paths()


@pytest.mark.parametrize("status", [401, 403])
def test_robots_4xx_allows_everything(site: Site, make_client: Callable, status: int) -> None:
    site.route("/robots.txt", Reply(status))
    site.route("/feed", Reply(200, b"[]"))

    assert make_client().get(f"{site.url}/feed", source_id="s").body == b"[]"


def test_oversize_body_raises_unexpected_content(site: Site, make_client: Callable) -> None:
    site.route("/big", Reply(200, b"x" * 5000))
    with pytest.raises(UnexpectedContent, match=r"limit of 1000 bytes.*CLEARINGHOUSE_MAX_BODY_BYTES"):
        make_client(max_body_bytes=1000).get(f"{site.url}/big", source_id="s")

    assert site.paths().count("/big") == 1


def test_body_exactly_at_the_limit_is_accepted(site: Site, make_client: Callable) -> None:
    site.route("/edge", Reply(200, b"x" * 1000))

    assert len(make_client(max_body_bytes=1000).get(f"{site.url}/edge", source_id="s").body) == 1000


def test_gzip_bomb_is_stopped_by_decoded_size(site: Site, make_client: Callable) -> None:
    bomb = gzip.compress(b"0" * 20_000_000)
    assert len(bomb) < 100_000
    site.route("/bomb", Reply(200, bomb, {"Content-Encoding": "gzip"}))
    with pytest.raises(UnexpectedContent, match="limit of 1000000 bytes"):
        make_client(max_body_bytes=1_000_000).get(f"{site.url}/bomb", source_id="s")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"\xef\xbb\xbf \n<!DOCTYPE html><html><title>Just a moment...</title></html>", "application/json"),
        (b'{"looks": "like json"}', "text/html; charset=utf-8"),
    ],
)
def test_html_instead_of_json_raises_unexpected_content(
    site: Site, make_client: Callable, body: bytes, content_type: str
) -> None:
    site.route("/feed", Reply(200, body, {"Content-Type": content_type}))
    with pytest.raises(UnexpectedContent, match="expected JSON but got an HTML page"):
        make_client().get(f"{site.url}/feed", source_id="s", expect="json")


def test_markup_is_fine_when_xml_is_expected(site: Site, make_client: Callable) -> None:
    site.route("/feed.xml", Reply(200, b"<?xml version='1.0'?><rss/>", {"Content-Type": "application/xml"}))

    assert make_client().get(f"{site.url}/feed.xml", source_id="s", expect="xml").body.startswith(b"<?xml")


def test_conditional_get_304_is_not_modified(site: Site, make_client: Callable) -> None:
    site.route("/feed", Reply(304, headers={"ETag": '"v1"'}))
    since = "Mon, 01 Jan 2024 00:00:00 GMT"
    response = make_client().get(f"{site.url}/feed", source_id="s", etag='"v1"', last_modified=since)

    assert (response.status, response.not_modified, response.body, response.etag) == (304, True, b"", '"v1"')
    request = site.seen[-1]
    assert request.headers["If-None-Match"] == '"v1"'
    assert request.headers["If-Modified-Since"] == since


@pytest.mark.parametrize("status", [401, 403])
def test_restricted_feed_names_the_auth_fix_and_is_not_retried(site: Site, make_client: Callable, status: int) -> None:
    site.route("/feed", Reply(status))
    with pytest.raises(
        RestrictedFeed, match=rf"HTTP {status}.*set `auth: CLEARINGHOUSE_FEED_KEY_<NAME>` in the registry"
    ):
        make_client().get(f"{site.url}/feed", source_id="s")

    assert site.paths().count("/feed") == 1


def test_other_4xx_is_a_fetch_error_without_retry(site: Site, make_client: Callable) -> None:
    with pytest.raises(FetchError, match="answered HTTP 404 \\(not retried\\)") as caught:
        make_client().get(f"{site.url}/missing", source_id="s")

    assert type(caught.value) is FetchError
    assert site.paths().count("/missing") == 1


SECRET = "s3cr3t key/+="


def _secret_forms() -> list[str]:
    return [SECRET, quote_plus(SECRET), "s3cr3t"]


def test_secret_is_sent_but_never_shown(site: Site, make_client: Callable, caplog: pytest.LogCaptureFixture) -> None:
    site.route("/feed", Reply(200, b"[]"))
    site.route("/down", Reply(500))
    client = make_client(max_retries=1)
    with caplog.at_level(logging.INFO, logger="clearinghouse.http"):
        response = client.get(f"{site.url}/feed?a=1", source_id="s", secret=SECRET, secret_param="apikey")
        with pytest.raises(FetchError) as caught:
            client.get(f"{site.url}/down", source_id="s", secret=SECRET)

    sent = urlsplit(site.seen[1].path)
    assert parse_qs(sent.query) == {"a": ["1"], "apikey": [SECRET]}
    assert response.url == f"{site.url}/feed?a=1&apikey=***"
    assert f"{site.url}/down?key=***" in str(caught.value)
    logged = [record.getMessage() for record in caplog.records]
    assert any("/feed?a=1&apikey=***" in line for line in logged)
    for text in [response.url, str(caught.value), *logged]:
        for form in _secret_forms():
            assert form not in text


def test_secret_is_redacted_from_connection_errors(site: Site, make_client: Callable) -> None:
    site.route("/feed", Reply(200, b"[]"))
    client = make_client(max_retries=1)
    client.get(f"{site.url}/feed", source_id="s")  # caches robots.txt, so the next failure is on the feed
    site.stop()
    with pytest.raises(FetchError) as caught:
        client.get(f"{site.url}/feed", source_id="s", secret=SECRET)

    message = str(caught.value)
    assert "failed after 2 attempts (last: ConnectionError" in message
    assert f"{site.url}/feed?key=***" in message
    for form in _secret_forms():
        assert form not in message
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_connection_refused_is_a_fetch_error(make_client: Callable, fake_time: FakeTime) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # free now, refused once closed
    with pytest.raises(FetchError, match=r"robots\.txt unreachable") as caught:
        make_client(max_retries=2, backoff_s=1.0).get(f"http://127.0.0.1:{port}/feed", source_id="s")

    assert type(caught.value) is FetchError
    assert "failed after 3 attempts (last: ConnectionError" in str(caught.value)
    assert "the site may be down" in str(caught.value)
    assert fake_time.sleeps == [1.0, 2.0]


def test_redirects_are_followed(site: Site, make_client: Callable) -> None:
    site.route("/old", Reply(301, headers={"Location": "/new"}))
    site.route("/new", Reply(200, b"moved"))

    assert make_client().get(f"{site.url}/old", source_id="s").body == b"moved"


def test_redirect_loop_is_a_fetch_error_without_retry(site: Site, make_client: Callable, fake_time: FakeTime) -> None:
    site.route("/loop", Reply(302, headers={"Location": "/loop"}))
    with pytest.raises(FetchError, match="redirected more than 10 times"):
        make_client().get(f"{site.url}/loop", source_id="s")

    assert site.paths().count("/loop") == 11
    assert fake_time.sleeps == []


def test_per_host_delay_is_enforced_on_the_original_host(
    site: Site, make_client: Callable, fake_time: FakeTime
) -> None:
    site.route("/one.example/a", Reply(200, b"a"))
    site.route("/two.example/a", Reply(200, b"a"))
    client = make_client(min_delay_s=5.0, rewrite=demo_rewrite(site.url))
    # one.example: robots.txt, then /a 5 s later, then /a again 5 s later.
    client.get("https://one.example/a", source_id="s")
    client.get("https://one.example/a", source_id="s")
    # two.example is another host on the same server: its robots.txt at once, /a after the 2 s override.
    client.get("https://two.example/a", source_id="s", min_delay_s=2.0)
    # 2 s have passed since the last request to one.example: 3 s to go.
    client.get("https://one.example/a", source_id="s")

    assert fake_time.sleeps == [5.0, 5.0, 2.0, 3.0]
    assert site.paths() == [
        "/one.example/robots.txt",
        "/one.example/a",
        "/one.example/a",
        "/two.example/robots.txt",
        "/two.example/a",
        "/one.example/a",
    ]


def test_threads_fetching_one_host_are_serialized_and_spaced(site: Site) -> None:
    site.route("/feed", Reply(200, b"[]"))
    client = PoliteClient(user_agent=UA, min_delay_s=0.1, max_retries=0, allow_private_addresses=True)
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(client.get, f"{site.url}/feed", source_id=f"s{i}") for i in range(4)]
        statuses = [future.result().status for future in futures]
    client.close()

    assert statuses == [200] * 4
    arrivals = [seen.at for seen in site.seen]
    assert site.paths() == ["/robots.txt"] + ["/feed"] * 4
    assert all(later - earlier >= 0.1 for earlier, later in itertools.pairwise(arrivals))


def test_demo_rewrite_maps_host_and_path_under_the_demo_server() -> None:
    rewrite = demo_rewrite("http://127.0.0.1:8765/")

    assert rewrite("https://host.org/path/x?a=1") == "http://127.0.0.1:8765/host.org/path/x?a=1"
    assert rewrite("http://host.org:8080/main_server/") == "http://127.0.0.1:8765/host.org:8080/main_server/"


def test_from_settings_uses_the_contact_user_agent_and_demo_server(site: Site, tmp_path: Path) -> None:
    site.route("/feeds.example/meetings.json", Reply(200, b"[]"))
    settings = Settings(
        home=tmp_path,
        sources_path=tmp_path / "sources.yaml",
        contact_url="https://example.org/contact",
        demo_url=site.url,
        min_delay_s=0.0,
        allow_private_addresses=True,  # the demo server listens on 127.0.0.1
    )
    client = PoliteClient.from_settings(settings)
    response = client.get("https://feeds.example/meetings.json", source_id="s")
    client.close()

    assert response.url == "https://feeds.example/meetings.json"
    assert site.paths() == ["/feeds.example/robots.txt", "/feeds.example/meetings.json"]
    assert site.seen[-1].headers["User-Agent"] == settings.user_agent


def test_redact_hides_raw_and_url_encoded_secret() -> None:
    assert redact("key=a%2Fb+c and a/b c", "a/b c") == "key=*** and ***"
    assert redact("nothing to hide", None) == "nothing to hide"


def _lease_get(url: str, lease_dir: str) -> float:
    """One request from a fresh client, as a separate Airflow worker process would make it."""
    client = PoliteClient(user_agent=UA, min_delay_s=0.5, lease_dir=Path(lease_dir), allow_private_addresses=True)
    client.get(url, source_id="lease")
    return time.time()


def test_host_lease_spaces_requests_across_processes(site: Site, tmp_path: Path):
    """Two processes sharing a lease folder (as Celery workers share CLEARINGHOUSE_HOME) take turns per host."""
    import multiprocessing

    site.route("/feed", Reply(200, b"[]"))
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pool.starmap(_lease_get, [(site.url + "/feed", str(tmp_path))] * 2)
    feed_hits = [s.at for s in site.seen if s.path == "/feed"]
    assert len(feed_hits) == 2
    assert feed_hits[1] - feed_hits[0] >= 0.45, f"second request {feed_hits[1] - feed_hits[0]:.2f}s after the first"


def test_a_dripping_body_is_cut_off_at_the_fetch_deadline() -> None:
    """Each read is quick, so ``timeout_s`` never trips; the whole answer must still arrive in time."""
    from tests.faults.server import Drip, FaultSite

    site = FaultSite()
    url = site.route("/feed", Drip(b"[" + b" " * 1000 + b"]", chunk=8, every=0.02))
    client = PoliteClient(
        user_agent=UA, min_delay_s=0, timeout_s=1.0, max_retries=2, max_fetch_s=0.3, allow_private_addresses=True
    )
    started = time.monotonic()
    try:
        with pytest.raises(FetchError, match=r"still arriving after 0.3 s \(\d+ bytes so far\).*not retried"):
            client.get(url, source_id="s")
    finally:
        client.close()
        site.close()
    assert time.monotonic() - started < 2
    assert [h.path for h in site.hits] == ["/robots.txt", "/feed"]


def test_secret_is_redacted_from_urllib3_debug_logs(
    site: Site, make_client: Callable, caplog: pytest.LogCaptureFixture
) -> None:
    site.route("/feed", Reply(200, b"[]"))
    with caplog.at_level(logging.DEBUG):
        make_client().get(f"{site.url}/feed", source_id="s", secret=SECRET)

    logged = [record.getMessage() for record in caplog.records if record.name.startswith("urllib3")]
    assert any("/feed?key=*** " in line for line in logged)
    for form in _secret_forms():
        assert not any(form in line for line in logged)


def test_a_host_s_304s_and_small_answers_share_one_connection(make_client: Callable) -> None:
    """A quiet night: each of a host's sources answers 304 on the connection the previous one used (no new
    connection, name lookup or guard check per source); a long body we do not keep closes it instead."""
    site = Site(keep_alive=True)
    try:
        site.route("/a", Reply(304, headers={"ETag": '"a"'}))
        site.route("/b", Reply(304, headers={"ETag": '"b"'}))
        site.route("/gone", Reply(404, b"x" * 200_000))
        client = make_client()
        for path in ("/a", "/b", "/a"):
            assert client.get(site.url + path, source_id="s", etag='"x"').not_modified
        with pytest.raises(FetchError, match="HTTP 404"):
            client.get(site.url + "/gone", source_id="s")
        assert client.get(site.url + "/b", source_id="s").not_modified
    finally:
        site.stop()
    assert site.paths() == ["/robots.txt", "/a", "/b", "/a", "/gone", "/b"]
    ports = [s.port for s in site.seen]
    assert len(set(ports[:5])) == 1, "robots.txt, the 304s and the 404 came on one connection"
    assert ports[5] != ports[4], "the 404's long body was not read: its connection was closed"


def test_the_lease_holds_a_host_even_without_a_delay(site: Site, tmp_path: Path) -> None:
    """With ``min_delay_s`` 0 the lease file is still taken for each request: while another process holds a
    host's lease, no request goes to that host (one request at a time per host, across processes)."""
    import fcntl

    site.route("/feed", Reply(200, b"[]"))
    client = PoliteClient(user_agent=UA, min_delay_s=0, lease_dir=tmp_path, allow_private_addresses=True)
    client.get(site.url + "/feed", source_id="s")  # opens the host's lease file, which then stays open
    lease = tmp_path / "127.0.0.1.lock"
    before = float(lease.read_text())
    with open(lease, "a+") as other:  # another process's turn: its own open file, its own lock
        fcntl.flock(other, fcntl.LOCK_EX)
        worker = threading.Thread(target=client.get, args=(site.url + "/feed",), kwargs={"source_id": "s"})
        worker.start()
        worker.join(0.3)
        assert worker.is_alive() and site.paths() == ["/robots.txt", "/feed"], "it waited for the lease"
        fcntl.flock(other, fcntl.LOCK_UN)
    worker.join(5)
    client.close()
    assert site.paths() == ["/robots.txt", "/feed", "/feed"]
    assert float(lease.read_text()) >= before, "the wall time of the host's last request is kept"


def test_a_lease_file_written_longer_by_another_version_is_read_and_rewritten(site: Site, tmp_path: Path) -> None:
    site.route("/feed", Reply(200, b"[]"))
    lease = tmp_path / "127.0.0.1.lock"
    lease.write_text(f"{time.time() - 3600:.3f}" + " " * 100)
    client = PoliteClient(user_agent=UA, min_delay_s=0.5, lease_dir=tmp_path, allow_private_addresses=True)
    client.get(site.url + "/feed", source_id="s")
    client.close()
    text = lease.read_text()
    assert len(text) < 30 and abs(float(text) - time.time()) < 60


def test_a_lease_file_deleted_during_a_run_is_opened_again(site: Site, tmp_path: Path) -> None:
    """The client keeps a host's lease file open; if ``locks/`` is cleared meanwhile, its next turn must lock the
    file other processes now open, not the deleted one."""
    site.route("/feed", Reply(200, b"[]"))
    client = PoliteClient(user_agent=UA, min_delay_s=0, lease_dir=tmp_path / "locks", allow_private_addresses=True)
    client.get(site.url + "/feed", source_id="s")
    lease = tmp_path / "locks" / "127.0.0.1.lock"
    lease.unlink()
    (tmp_path / "locks").rmdir()
    client.get(site.url + "/feed", source_id="s")
    client.close()
    assert lease.exists() and abs(float(lease.read_text()) - time.time()) < 60


def test_the_request_carries_what_requests_would_send_and_no_more(site: Site, make_client: Callable) -> None:
    """The client prepares its requests itself (``_exchange``): the headers are requests' defaults with ours
    over them, in the same order, plus the validators; cookies a site set are sent back to it."""
    import requests

    site.route("/set", Reply(200, b"[]", {"Set-Cookie": "visit=1; Path=/"}))
    site.route("/feed", Reply(304))
    client = make_client()
    client.get(f"{site.url}/set", source_id="s")
    client.get(f"{site.url}/feed", source_id="s", etag='"v1"', last_modified="Mon, 01 Jan 2024 00:00:00 GMT")

    expected = requests.Session().prepare_request(
        requests.Request("GET", f"{site.url}/feed", headers={"User-Agent": UA, "Accept-Encoding": "gzip",
                         "If-None-Match": '"v1"', "If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"})
    )  # fmt: skip
    sent = site.seen[-1].headers
    assert sent.pop("Cookie") == "visit=1"
    assert sent.pop("Host") == site.url.removeprefix("http://")
    assert list(sent.items()) == list(expected.headers.items())
