"""Demo mode: a local HTTP server that answers for the registry's real URLs from recorded snapshots.

The polite client rewrites ``https://host/path?q`` to ``<demo_url>/host/path?q`` (see
``extractors.http.demo_rewrite``); this server looks the original URL up in ``sources/snapshots/index.yaml``
and serves the recorded bytes with an ETag, so a second run costs a 304, as a real server's would.
"""

from __future__ import annotations

import hashlib
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

from foundation.settings import REPO_ROOT

SNAPSHOTS = REPO_ROOT / "sources" / "snapshots"
CONTENT_TYPES = {".json": "application/json", ".csv": "text/csv", ".tsv": "text/tab-separated-values",
                 ".html": "text/html", ".xml": "application/xml", ".js": "application/javascript"}  # fmt: skip


def load_index(root: Path = SNAPSHOTS) -> dict[str, Path]:
    """Original URL (without scheme) → recorded file."""
    entries = yaml.safe_load((root / "index.yaml").read_text())["snapshots"]
    return {e["url"].split("://", 1)[1]: root / e["file"] for e in entries}


def _handler(index: dict[str, Path]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            original = self.path.lstrip("/")
            if original.endswith("/robots.txt") and original not in index:
                return self._send(200, b"User-agent: *\nAllow: /\n", "text/plain", None)
            path = index.get(original)
            if path is None or not path.exists():
                return self._send(404, f"no recorded snapshot for {original}\n".encode(), "text/plain", None)
            body = path.read_bytes()
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            if self.headers.get("If-None-Match") == etag:
                return self._send(304, b"", None, etag)
            self._send(200, body, CONTENT_TYPES.get(path.suffix, "application/octet-stream"), etag)

        def _send(self, status: int, body: bytes, content_type: str | None, etag: str | None) -> None:
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            if etag:
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", formatdate(usegmt=True))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # quiet: the client logs requests
            pass

    return Handler


def start(port: int = 0, root: Path = SNAPSHOTS) -> tuple[ThreadingHTTPServer, str]:
    """Start the snapshot server on 127.0.0.1 in a daemon thread; returns (server, base URL)."""
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(load_index(root)))
    threading.Thread(target=server.serve_forever, daemon=True, name="demo-snapshots").start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
