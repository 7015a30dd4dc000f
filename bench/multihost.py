"""A local HTTP server on several loopback addresses, serving generated feeds as real sites would.

The pipeline's fetch path is measured for real: requests go through the polite client, its per-host lock
and lease, conditional GET and the raw archive. Each address (127.0.0.2, 127.0.0.3, …) is a host of its
own to the client, so per-host politeness holds per address while hosts are fetched in parallel.

Answers carry a strong ``ETag`` and ``Last-Modified`` derived from the file's size and modification time, so
a feed rewritten on disk (``bench.synthetic.change_sources``) answers 200 with the new bytes and every
other feed answers ``304 Not Modified``, as on an incremental night. ``latency_s`` is added to every
answer (a site's think time), in the handler's own thread so it never delays other requests.

    python bench/multihost.py DATASET --hosts 8 --latency-ms 10   # prints {"bases": [...]} then serves
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROBOTS = b"User-agent: *\nAllow: /\n"


def addresses(count: int) -> list[str]:
    """``count`` loopback addresses from 127.0.0.2 (127.0.0.1 stays free for the demo server and tests)."""
    if not 1 <= count <= 250:
        raise ValueError("between 1 and 250 loopback hosts")
    return [f"127.0.0.{2 + i}" for i in range(count)]


class MultiHostServer:
    """Threads serving ``routes`` (path with query → (file relative to ``root``, content type)) on every address."""

    def __init__(self, root: Path, routes: dict[str, tuple[str, str]], hosts: list[str], latency_s: float = 0.0):
        self.root = root
        self.routes = routes
        self.hosts = hosts
        self.latency_s = latency_s
        self.requests = 0
        self.not_modified = 0
        self._count = threading.Lock()
        self._servers: list[ThreadingHTTPServer] = []

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real sites: the client reuses its connections
            disable_nagle_algorithm = True  # headers and body leave at once, no delayed-ACK stall per answer

            def do_GET(self) -> None:
                if server.latency_s:
                    time.sleep(server.latency_s)
                status, body, headers = server.answer(self.path, self.headers.get("If-None-Match"))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def answer(self, path: str, if_none_match: str | None) -> tuple[int, bytes, dict[str, str]]:
        """Status, body and headers for ``path``: robots.txt allows all, unknown paths are 404."""
        with self._count:
            self.requests += 1
        if path == "/robots.txt":
            return 200, ROBOTS, {"Content-Type": "text/plain"}
        route = self.routes.get(path)
        if route is None:
            return 404, b"not found", {"Content-Type": "text/plain"}
        file, content_type = route
        stat = (self.root / file).stat()
        headers = {
            "Content-Type": content_type,
            "ETag": f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"',
            "Last-Modified": formatdate(stat.st_mtime, usegmt=True),
        }
        if if_none_match == headers["ETag"]:
            with self._count:
                self.not_modified += 1
            return 304, b"", headers
        return 200, (self.root / file).read_bytes(), headers

    def start(self, port: int = 0) -> list[str]:
        """Bind every address (``port`` 0: any free port each) and serve; return the base URL per address."""
        bases = []
        for host in self.hosts:
            httpd = ThreadingHTTPServer((host, port), self._handler())
            httpd.daemon_threads = True
            threading.Thread(target=httpd.serve_forever, daemon=True).start()
            self._servers.append(httpd)
            bases.append(f"http://{host}:{httpd.server_address[1]}")
        return bases

    def stop(self) -> None:
        for httpd in self._servers:
            httpd.shutdown()
            httpd.server_close()
        self._servers.clear()


def load_routes(dataset: Path) -> dict[str, tuple[str, str]]:
    """The routes ``bench.synthetic.generate`` wrote beside the feeds."""
    return {path: (file, ctype) for path, (file, ctype) in json.loads((dataset / "routes.json").read_text()).items()}


@contextmanager
def serving(dataset: Path, hosts: int, latency_ms: float = 0.0) -> Iterator[list[str]]:
    """This server in its own process (as remote sites would be); yields the base URLs."""
    server = subprocess.Popen(
        [sys.executable, __file__, str(dataset), "--hosts", str(hosts), "--latency-ms", str(latency_ms)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = server.stdout.readline() if server.stdout else ""
        if not line:
            raise RuntimeError(f"multihost server did not start: {server.stderr.read() if server.stderr else ''}")
        yield json.loads(line)["bases"]
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path, help="a folder written by bench/synthetic.py")
    parser.add_argument("--hosts", type=int, default=8)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    server = MultiHostServer(args.dataset, load_routes(args.dataset), addresses(args.hosts), args.latency_ms / 1000)
    print(json.dumps({"bases": server.start()}), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.stop()
    print(json.dumps({"requests": server.requests, "not_modified": server.not_modified}), file=sys.stderr)


if __name__ == "__main__":
    main()
