"""Many hosts fetched at once, each host politely: real loopback servers on several addresses (each address is a
host of its own to the client; two ports of one address are one host), the real polite client and its lease."""

from __future__ import annotations

import itertools
import multiprocessing
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from clearinghouse import pipeline
from foundation.source import Source
from tests.conftest import SNAPSHOTS

FEED = (SNAPSHOTS / "mg" / "sussexaa_sussex-county-de_2022-09-01.json").read_bytes()
DELAY_S = 0.3


class Hosts:
    """HTTP servers on loopback addresses that log each request's arrival as (host, path, monotonic time)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, float]] = []
        self._lock = threading.Lock()
        self._servers: list[ThreadingHTTPServer] = []

    def start(self, address: str) -> str:
        hosts = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with hosts._lock:
                    hosts.seen.append((address, self.path, time.monotonic()))
                body = b"User-agent: *\nAllow: /\n" if self.path == "/robots.txt" else FEED
                self.send_response(200)
                self.send_header("Content-Type", "text/plain" if self.path == "/robots.txt" else "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer((address, 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._servers.append(server)
        return f"http://{address}:{server.server_address[1]}"

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()

    def arrivals(self) -> dict[str, list[float]]:
        """Request arrival times per host, in order."""
        by_host: dict[str, list[float]] = {}
        for host, _, at in sorted(self.seen, key=lambda s: s[2]):
            by_host.setdefault(host, []).append(at)
        return by_host


@pytest.fixture
def hosts(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hosts]:
    monkeypatch.setenv("CLEARINGHOUSE_MIN_DELAY_S", str(DELAY_S))
    hosts = Hosts()
    yield hosts
    hosts.stop()


def _feed(sid: str, base: str) -> Source:
    return Source(id=sid, name=sid, fellowship="AA", kind="meeting_guide", url=f"{base}/{sid}.json")


def _assert_spaced(arrivals: dict[str, list[float]]) -> None:
    for host, times in arrivals.items():
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        assert all(gap >= DELAY_S * 0.95 for gap in gaps), f"{host}: requests {gaps} s apart, delay {DELAY_S} s"


def test_hosts_are_fetched_in_parallel_and_each_host_keeps_its_delay(hosts: Hosts) -> None:
    a, b = hosts.start("127.0.0.2"), hosts.start("127.0.0.3")
    c1, c2 = hosts.start("127.0.0.4"), hosts.start("127.0.0.4")  # one host, two ports: one server to its operator
    sources = [_feed("a1", a), _feed("a2", a), _feed("a3", a), _feed("b1", b), _feed("c1", c1), _feed("c2", c2)]

    results = pipeline.fetch_all(sources, workers=4)

    assert [(r["source_id"], r["status"], r["records"]) for r in results] == [(s.id, "ok", 123) for s in sorted(
        sources, key=lambda s: s.id)]  # fmt: skip
    arrivals = hosts.arrivals()
    assert {h: len(t) for h, t in arrivals.items()} == {"127.0.0.2": 4, "127.0.0.3": 2, "127.0.0.4": 4}
    _assert_spaced(arrivals)
    # In parallel: every host had its first answer before any host was asked a second time.
    assert max(t[0] for t in arrivals.values()) < min(t[1] for t in arrivals.values())


def _fetch_in_another_process(sources: list[Source]) -> list[str]:
    return [r["status"] for r in pipeline.fetch_all(sources, workers=2)]


@pytest.mark.slow  # two spawned interpreters import the pipeline
def test_two_processes_on_one_host_take_turns(hosts: Hosts) -> None:
    """The nightly fetch and a per-source DAG run in two worker processes sharing CLEARINGHOUSE_HOME: the host
    lease keeps one host's requests a delay apart across them, while another host goes on in parallel."""
    shared, other = hosts.start("127.0.0.5"), hosts.start("127.0.0.6")
    batches = [[_feed("s1", shared), _feed("s2", shared), _feed("o1", other)], [_feed("s3", shared)]]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        statuses = pool.map(_fetch_in_another_process, batches)

    assert statuses == [["ok"] * 3, ["ok"]]
    arrivals = hosts.arrivals()
    assert len(arrivals["127.0.0.5"]) == 2 + 3  # robots.txt in each process, then three feeds
    _assert_spaced(arrivals)


def test_batches_hold_whole_hosts_busiest_first(tmp_path: Path) -> None:
    def src(sid: str, url: str) -> Source:
        return Source(id=sid, name=sid, fellowship="NA", kind="bmlt", url=url)

    sources = [
        src("one", "https://one.example/main_server/"),
        src("two-a", "https://two.example/a/"),
        src("two-b", "http://TWO.example:8080/b/"),  # another scheme and port of the same host
        src("three", "https://three.example/main_server/"),
        src("four-a", "https://four.example/x/"),
        src("four-b", "https://four.example/y/"),
        src("four-c", "https://four.example/z/"),
    ]
    assert pipeline.fetch_batches(sources, 2) == [["four-a", "four-b", "four-c", "two-a", "two-b"], ["one", "three"]]
    assert pipeline.fetch_batches(sources, 8) == [[s.id for s in sources if s.id.startswith("four")]
                                                  + ["two-a", "two-b", "one", "three"]]  # fmt: skip
    assert pipeline.fetch_batches([], 8) == []


def test_the_live_registry_fits_airflow_in_a_handful_of_batches() -> None:
    """The live registry's 48 sources: a few mapped fetch tasks of eight hosts, not 48 tasks run one at a time."""
    from foundation.settings import LIVE_SOURCES

    sources = pipeline.registry(LIVE_SOURCES)
    batches = pipeline.fetch_batches(sources, 8)
    hosts = {urlsplit(s.url).hostname for s in sources}
    assert sorted(itertools.chain.from_iterable(batches)) == sorted(s.id for s in sources)
    assert len(batches) == -(-len(hosts) // 8)
