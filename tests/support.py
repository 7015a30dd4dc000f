"""A local HTTP server for pipeline tests: each path answers with a fixed status and body."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def serve(routes: dict[str, tuple[int, bytes, str]], seen: list[str] | None = None) -> Iterator[str]:
    """Serve ``routes`` (path with query → (status, body, content type)) on 127.0.0.1; yields the base URL.

    Each request's path (with query) is appended to ``seen`` when given, so a test can count what was asked."""
    seen = [] if seen is None else seen

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            if self.path == "/robots.txt" and self.path not in routes:
                status, body, ctype = 200, b"User-agent: *\nAllow: /\n", "text/plain"
            else:
                status, body, ctype = routes.get(self.path, (404, b"not found", "text/plain"))
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
