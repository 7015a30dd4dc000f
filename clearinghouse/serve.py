"""``clearinghouse serve``: the published tree over HTTP, with the headers the ``datasets`` nginx service sends.

Stable URLs: ``/latest/<file>``, ``/releases/<id>/<file>``, ``/releases.json``. ``latest`` is resolved once per
request and the file opened from the release it names, so a response never mixes two releases. The ETag is the
file's sha256 (from the release manifest when listed), so an app's conditional GET costs a 304; JSON, CSV,
GeoJSON and HTML are gzipped for clients that accept it; every answer carries CORS headers for browser apps.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
from email.message import Message
from email.utils import formatdate, parsedate_to_datetime
from functools import lru_cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote, unquote, urlsplit

from warehouse.http_headers import CONTENT_TYPES, IMMUTABLE, REVALIDATE

COMPRESSIBLE = {".csv", ".json", ".geojson", ".html", ".md", ".txt", ".svg"}
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, Last-Modified, Content-Length, Content-Encoding",
}


def feed_urls(release_dir: Path, base_url: str) -> list[str]:
    """The release's per-region Meeting Guide feeds under their stable ``latest`` URLs: what an app registers once."""
    base = base_url.rstrip("/")
    return [
        f"{base}/latest/meeting-guide/{quote(p.name)}" for p in sorted((release_dir / "meeting-guide").glob("*.json"))
    ]


def resolve(root: Path, url_path: str) -> Path | None:
    """The file or folder a URL path names under ``root``, or None when it is hidden or escapes the root.

    Symlinks (``latest``) are followed here, once: the caller opens the real path of one release.
    """
    parts = [p for p in unquote(url_path).split("/") if p]
    if any(p in (".", "..") or p.startswith(".") or "\\" in p or "\0" in p for p in parts):
        return None
    path = root.joinpath(*parts).resolve()
    return path if path.is_relative_to(root) else None


@lru_cache(maxsize=8)
def _manifest_checksums(manifest: Path, mtime_ns: int) -> dict[str, tuple[str, int]]:
    """path → (sha256, bytes) of a release manifest; releases are immutable, so it is read once."""
    files = json.loads(manifest.read_text())["files"]
    return {f["path"]: (f["sha256"], f["bytes"]) for f in files}


_COMPUTED: dict[tuple[int, int, int, int], str] = {}


def checksum(root: Path, path: Path, f: BinaryIO) -> str:
    """The manifest's sha256 for a release file it lists with the same size, else the open file's own
    (``releases.json``, ``manifest.json``), hashed once per version of the file."""
    stat = os.fstat(f.fileno())
    rel = path.relative_to(root).parts
    if len(rel) >= 3 and rel[0] == "releases":
        manifest = root / "releases" / rel[1] / "manifest.json"
        if manifest.is_file():
            listed = _manifest_checksums(manifest, manifest.stat().st_mtime_ns).get("/".join(rel[2:]))
            if listed and listed[1] == stat.st_size:
                return listed[0]
    key = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
    if key not in _COMPUTED:
        if len(_COMPUTED) >= 256:
            _COMPUTED.clear()
        _COMPUTED[key] = hashlib.file_digest(f, "sha256").hexdigest()
        f.seek(0)
    return _COMPUTED[key]


def accepts_gzip(header: str | None) -> bool:
    """``Accept-Encoding`` names gzip (or ``*``) without ``q=0``."""
    for item in (header or "").split(","):
        name, *params = (part.strip().lower() for part in item.split(";"))
        if name in ("gzip", "*"):
            q = next((p.partition("=")[2] for p in params if p.startswith("q=")), "1")
            try:
                return float(q) > 0
            except ValueError:
                return False
    return False


def not_modified(headers: Message, etag: str, mtime: float) -> bool:
    """RFC 9110 conditional GET: If-None-Match (weak comparison) wins; If-Modified-Since only without it."""
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or etag in tags
    since = headers.get("If-Modified-Since")
    if since:
        try:
            return int(mtime) <= parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError):
            return False
    return False


class DatasetServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], root: Path) -> None:
        self.root = root.resolve()
        super().__init__(address, DatasetHandler)


class DatasetHandler(BaseHTTPRequestHandler):
    """GET/HEAD/OPTIONS only; anything else is answered 501 by the base class."""

    server: DatasetServer
    protocol_version = "HTTP/1.1"
    server_version = "clearinghouse-datasets"

    def do_OPTIONS(self) -> None:
        self.send_response(HTTPStatus.NO_CONTENT)
        self.send_header("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
        if self.headers.get("Access-Control-Request-Headers"):
            self.send_header("Access-Control-Allow-Headers", self.headers["Access-Control-Request-Headers"])
        self.send_header("Access-Control-Max-Age", "86400")
        self._end(0)

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def _serve(self, send_body: bool) -> None:
        url = urlsplit(self.path).path
        if url == "/":
            return self._redirect("/latest/", HTTPStatus.FOUND)
        path = resolve(self.server.root, url)
        if path is not None and path.is_dir():
            if not url.endswith("/"):
                return self._redirect(url + "/", HTTPStatus.MOVED_PERMANENTLY)
            path = resolve(self.server.root, url + "index.html")
        try:
            f = path.open("rb") if path is not None else None
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            f = None
        if f is None:
            return self._text(HTTPStatus.NOT_FOUND, "not found\n", send_body)
        with f:
            stat = os.fstat(f.fileno())
            sha = checksum(self.server.root, path, f)
            gzipped = path.suffix in COMPRESSIBLE and accepts_gzip(self.headers.get("Accept-Encoding"))
            etag = f'"{sha}-gzip"' if gzipped else f'"{sha}"'  # each encoding is its own representation
            status = HTTPStatus.NOT_MODIFIED if not_modified(self.headers, etag, stat.st_mtime) else HTTPStatus.OK
            self.send_response(status)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", formatdate(stat.st_mtime, usegmt=True))
            self.send_header("Cache-Control", IMMUTABLE if url.startswith("/releases/") else REVALIDATE)
            if path.suffix in COMPRESSIBLE:
                self.send_header("Vary", "Accept-Encoding")
            if status == HTTPStatus.NOT_MODIFIED:
                return self._end(None)
            self.send_header("Content-Type", CONTENT_TYPES.get(path.suffix, "application/octet-stream"))
            self.send_header("X-Content-Type-Options", "nosniff")
            if gzipped:
                body = gzip.compress(f.read(), compresslevel=6, mtime=0)
                self.send_header("Content-Encoding", "gzip")
                self._end(len(body))
                if send_body:
                    self.wfile.write(body)
            else:
                self._end(stat.st_size)
                if send_body:
                    shutil.copyfileobj(f, self.wfile)

    def _redirect(self, location: str, status: HTTPStatus) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self._end(0)

    def _text(self, status: HTTPStatus, text: str, send_body: bool) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self._end(len(body))
        if send_body:
            self.wfile.write(body)

    def _end(self, length: int | None) -> None:
        """CORS on every answer; a length whenever there is a body, so keep-alive connections stay in step."""
        for name, value in CORS.items():
            self.send_header(name, value)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()


def run(root: Path, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve until interrupted; the first line on stdout is the URL (``port=0`` picks a free port)."""
    server = DatasetServer((host, port), root)
    bound_host, bound_port = server.server_address[:2]
    print(f"serving {server.root} read-only at http://{bound_host}:{bound_port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
