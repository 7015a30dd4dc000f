"""A fault-injection HTTP server for tests: loopback only, one scripted behaviour per URL path.

Each ``FaultSite`` is one origin (``http://127.0.0.1:<port>``), so the polite client's per-host lock and
robots.txt apply to it alone: slow faults on different sites run in parallel instead of queuing behind
each other. A path answers with its behaviours in order, the last one repeating (``500, 502, 503, then
200`` is a server that recovers). ``refused_url`` gives a port that refuses connections.

The tests in ``tests/extractors/test_http.py`` script status/body/headers; this server adds what a plain
reply cannot express: a server that never answers, drips its body, streams more than the limit, or loops.
"""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

JSON = "application/json"
HTML = "text/html; charset=utf-8"

Behaviour = Callable[["_Handler"], None]
"""Writes one answer (or deliberately none) to the request the handler holds."""


@dataclass(frozen=True)
class Hit:
    """One request the site received."""

    path: str
    query: str
    at: float
    """``time.monotonic()`` when the request arrived."""


@dataclass(frozen=True)
class Reply:
    """A complete answer: status, body and headers."""

    status: int = 200
    body: bytes = b""
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)

    def __call__(self, handler: _Handler) -> None:
        handler.send_response(self.status)
        handler.send_header("Content-Type", self.content_type)
        for name, value in self.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(self.body)))
        handler.end_headers()
        handler.wfile.write(self.body)


@dataclass(frozen=True)
class Hang:
    """Accept the connection and never answer (until ``seconds`` pass or the site stops): a dead backend."""

    seconds: float = 30.0

    def __call__(self, handler: _Handler) -> None:
        handler.server.site.stopping.wait(self.seconds)
        handler.close_connection = True


@dataclass(frozen=True)
class Drip:
    """Announce the whole body, then send it ``chunk`` bytes every ``every`` seconds (a slowloris answer)."""

    body: bytes
    chunk: int = 16
    every: float = 0.05

    def __call__(self, handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", JSON)
        handler.send_header("Content-Length", str(len(self.body)))
        handler.end_headers()
        for start in range(0, len(self.body), self.chunk):
            if handler.server.site.stopping.wait(self.every):
                return
            handler.wfile.write(self.body[start : start + self.chunk])
            handler.wfile.flush()


@dataclass(frozen=True)
class Stream:
    """A body of ``size`` bytes generated on the fly (an oversize feed without holding it in memory)."""

    size: int
    filler: bytes = b" " * 65536

    def __call__(self, handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", JSON)
        handler.send_header("Content-Length", str(self.size))
        handler.end_headers()
        sent = 0
        try:
            while sent < self.size:
                piece = self.filler[: self.size - sent]
                handler.wfile.write(piece)
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading at its limit, as it should


@dataclass(frozen=True)
class RequireKey:
    """A feed for key holders: ``ok`` when the query carries ``key=<key>``, else 401."""

    key: str
    ok: Behaviour

    def __call__(self, handler: _Handler) -> None:
        sent = parse_qs(urlsplit(handler.path).query).get("key")
        (self.ok if sent == [self.key] else Reply(401, b"missing or wrong key", "text/plain"))(handler)


def redirect_loop(handler: _Handler) -> None:
    """Redirect the path to itself, forever."""
    Reply(302, headers={"Location": handler.path})(handler)


def gzip_bomb(decoded_bytes: int) -> Reply:
    """A small gzip body that inflates to ``decoded_bytes`` zeros."""
    return Reply(body=gzip.compress(b"0" * decoded_bytes, compresslevel=9), headers={"Content-Encoding": "gzip"})


def retry_after(status: int, seconds: int | str) -> Reply:
    return Reply(status, b"slow down", "text/plain", {"Retry-After": str(seconds)})


CHALLENGE_PAGE = (
    b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
    b"<noscript>Enable JavaScript and cookies to continue</noscript></body></html>"
)
"""What a bot-protection wall answers with status 200 instead of the feed."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: FaultSite


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self.server.site.answer(self)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""


class FaultSite:
    """One origin on 127.0.0.1 with scripted behaviours per path and a log of every request."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Behaviour]] = {}
        self.robots = b"User-agent: *\nAllow: /\n"
        self.hits: list[Hit] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.site = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def route(self, path: str, *behaviours: Behaviour) -> str:
        """Answer ``path`` with ``behaviours`` in turn (the last repeats); return its absolute URL."""
        with self._lock:
            self.routes[path] = list(behaviours)
        return self.url + path

    def requests(self, path: str) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if h.path == path]

    def answer(self, handler: _Handler) -> None:
        parts = urlsplit(handler.path)
        with self._lock:
            self.hits.append(Hit(parts.path, parts.query, time.monotonic()))
            queue = self.routes.get(parts.path)
            behaviour: Behaviour
            if queue:
                behaviour = queue.pop(0) if len(queue) > 1 else queue[0]
            elif parts.path == "/robots.txt":
                behaviour = Reply(body=self.robots, content_type="text/plain")
            else:
                behaviour = Reply(404, b"not found", "text/plain")
        behaviour(handler)

    def close(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def fault_sites() -> Iterator[Callable[[], FaultSite]]:
    """A factory of sites that are all stopped on exit."""
    sites: list[FaultSite] = []

    def new() -> FaultSite:
        sites.append(FaultSite())
        return sites[-1]

    try:
        yield new
    finally:
        for site in sites:
            site.close()


@contextmanager
def refused_url(path: str = "/meetings.json") -> Iterator[str]:
    """A URL whose port refuses connections: bound (so no one else takes it) but never listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}{path}"
