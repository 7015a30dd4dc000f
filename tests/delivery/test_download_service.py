"""The download service contract, checked against ``clearinghouse serve`` and the ``datasets`` nginx config alike.

Apps download from stable URLs, learn cheaply whether the data changed (a conditional GET answered 304), get
JSON/CSV gzipped, and can fetch from a browser (CORS); nothing outside ``published/`` or half-built is reachable.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from clearinghouse.serve import DatasetServer
from tests.conftest import REPO
from tests.delivery.conftest import free_port, http_get, release_env

NGINX_CONF = REPO / "deploy" / "nginx" / "datasets.conf"


@contextmanager
def clearinghouse_serve(published: Path) -> Iterator[str]:
    """``clearinghouse serve --port 0`` in its own process; its first line names the URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "clearinghouse.cli", "serve", "--port", "0"],
        env=release_env(published),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert match, f"unexpected first line from clearinghouse serve: {line!r}"
        yield match.group(0)
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def nginx(published: Path, tmp: Path) -> Iterator[str]:
    """The compose service's config, as is, but for the root (the volume's mount point) and the port."""
    if shutil.which("nginx") is None:
        pytest.skip("nginx is not installed; the compose service itself is validated in tests/deploy")
    port = free_port()
    site = NGINX_CONF.read_text()
    site = site.replace("root /srv/clearinghouse/published;", f"root {published};")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
    (tmp / "site.conf").write_text(site)
    temp_paths = " ".join(
        f"{name}_temp_path {tmp / name};" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (tmp / "nginx.conf").write_text(
        f"daemon off; master_process off; worker_processes 1; pid {tmp / 'nginx.pid'}; error_log stderr;\n"
        f"events {{}}\nhttp {{ access_log off; {temp_paths} include {tmp / 'site.conf'}; }}\n"
    )
    process = subprocess.Popen(["nginx", "-p", str(tmp), "-e", "stderr", "-c", str(tmp / "nginx.conf")],
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                http_get(f"http://127.0.0.1:{port}", "/releases.json")
                break
            except OSError:
                assert process.poll() is None, process.stderr.read()
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module", params=["clearinghouse serve", "nginx"])
def service(request: pytest.FixtureRequest, published: Path, tmp_path_factory: pytest.TempPathFactory):
    if request.param == "nginx":
        with nginx(published, tmp_path_factory.mktemp("nginx")) as base:
            yield base
    else:
        with clearinghouse_serve(published) as base:
            yield base


def latest(published: Path) -> Path:
    return (published / "latest").resolve()


def region_feed(published: Path) -> str:
    """The largest region's Meeting Guide feed (regions with no meeting have an empty list)."""
    return max((latest(published) / "meeting-guide").glob("*.json"), key=lambda p: p.stat().st_size).name


def test_latest_parquet_downloads_then_revalidates_to_304(service: str, published: Path):
    status, headers, body = http_get(service, "/latest/meetings.parquet")
    assert status == 200
    assert body == (latest(published) / "meetings.parquet").read_bytes()
    assert headers["content-type"] == "application/vnd.apache.parquet"
    assert headers["cache-control"] == "no-cache"

    status, again, body = http_get(service, "/latest/meetings.parquet", {"If-None-Match": headers["etag"]})
    assert (status, body, again["etag"]) == (304, b"", headers["etag"])
    status, _, _ = http_get(service, "/latest/meetings.parquet", {"If-Modified-Since": headers["last-modified"]})
    assert status == 304


def test_meeting_guide_feed_is_gzipped_for_clients_that_accept_it(service: str, published: Path):
    path = f"/latest/meeting-guide/{region_feed(published)}"
    expected = (latest(published) / "meeting-guide" / region_feed(published)).read_bytes()

    status, headers, body = http_get(service, path, {"Accept-Encoding": "gzip"})
    assert (status, headers["content-encoding"], headers["content-type"]) == (200, "gzip", "application/json")
    assert "Accept-Encoding" in headers["vary"]
    assert gzip.decompress(body) == expected
    assert json.loads(expected)[0]["slug"]
    assert http_get(service, path, {"Accept-Encoding": "gzip", "If-None-Match": headers["etag"]})[0] == 304

    status, plain, body = http_get(service, path)
    assert (status, body, "content-encoding" in plain) == (200, expected, False)


def test_csv_is_served_as_csv_and_gzipped(service: str):
    status, headers, body = http_get(service, "/latest/meetings.csv", {"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["content-type"] == "text/csv; charset=utf-8"
    assert gzip.decompress(body).startswith(b"meeting_id,")


def test_releases_json_names_the_latest_release(service: str, published: Path):
    manifest = json.loads((latest(published) / "manifest.json").read_text())
    status, headers, body = http_get(service, "/releases.json")
    index = json.loads(body)
    assert (status, headers["content-type"], headers["cache-control"]) == (200, "application/json", "no-cache")
    assert index["latest"] == manifest["release_id"]
    assert index["releases"][0]["path"] == f"releases/{manifest['release_id']}/"


def test_a_release_url_is_immutable(service: str, published: Path):
    release_id = latest(published).name
    status, headers, body = http_get(service, f"/releases/{release_id}/manifest.json")
    assert status == 200
    assert json.loads(body)["release_id"] == release_id
    assert "immutable" in headers["cache-control"]


def test_browser_apps_get_cors_headers_and_a_preflight_answer(service: str):
    _, headers, _ = http_get(service, "/latest/meetings.parquet", {"Origin": "https://app.example"})
    assert headers["access-control-allow-origin"] == "*"
    assert "ETag" in headers["access-control-expose-headers"]

    status, preflight, _ = http_get(
        service,
        "/latest/meetings.parquet",
        {"Origin": "https://app.example", "Access-Control-Request-Method": "GET",
         "Access-Control-Request-Headers": "if-none-match"},
        method="OPTIONS",
    )  # fmt: skip
    assert status == 204
    assert preflight["access-control-allow-origin"] == "*"
    assert "GET" in preflight["access-control-allow-methods"]
    assert preflight["access-control-allow-headers"] == "if-none-match"


@pytest.mark.parametrize(
    "path",
    [
        "/../warehouse.duckdb",
        "/latest/../../warehouse.duckdb",
        "/%2e%2e/warehouse.duckdb",
        "/releases/%2E%2E/%2e%2e/warehouse.duckdb",
        "/latest/..%2f..%2fwarehouse.duckdb",
        "/releases/.tmp-building/meetings.parquet",
        "/.latest-123",
    ],
)
def test_nothing_outside_published_or_half_built_is_served(service: str, published: Path, path: str):
    building = published / "releases" / ".tmp-building"
    building.mkdir()
    try:
        shutil.copy(latest(published) / "meetings.parquet", building / "meetings.parquet")
        status, _, body = http_get(service, path)
    finally:
        shutil.rmtree(building)
    assert status in (400, 403, 404)
    assert not body.startswith(b"PAR1")
    assert b"DUCK" not in body[:64]


def test_serve_etag_is_the_manifest_sha256(published: Path):
    manifest = json.loads((latest(published) / "manifest.json").read_text())
    sha = {f["path"]: f["sha256"] for f in manifest["files"]}["meetings.parquet"]
    with clearinghouse_serve(published) as base:
        assert http_get(base, "/latest/meetings.parquet")[1]["etag"] == f'"{sha}"'
        assert http_get(base, "/latest/meetings.parquet", method="HEAD")[2] == b""


def test_latest_is_resolved_on_every_request(tmp_path: Path):
    """Repointing ``latest`` (as a publish or rollback does) changes the next answer, never mixes two releases."""
    for release_id, text in (("A", "first"), ("B", "second")):
        (tmp_path / "releases" / release_id).mkdir(parents=True)
        (tmp_path / "releases" / release_id / "data.json").write_text(json.dumps(text))
    (tmp_path / "latest").symlink_to("releases/A")
    server = DatasetServer(("127.0.0.1", 0), tmp_path)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        _, first, body = http_get(base, "/latest/data.json")
        assert body == b'"first"'
        (tmp_path / ".latest-new").symlink_to("releases/B")
        os.replace(tmp_path / ".latest-new", tmp_path / "latest")
        status, second, body = http_get(base, "/latest/data.json", {"If-None-Match": first["etag"]})
        assert (status, body) == (200, b'"second"')
        assert second["etag"] != first["etag"]
        assert http_get(base, "/latest")[1]["location"] == "/latest/"
    finally:
        server.shutdown()
        server.server_close()
