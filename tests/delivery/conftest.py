"""One real release for the delivery tests: ``clearinghouse run`` on recorded feeds served from 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from clearinghouse.cli import main
from tests.conftest import SNAPSHOTS
from tests.support import serve

FEEDS = {
    "nepa-aa": SNAPSHOTS / "mg" / "aaintergroupnepa_ne-pennsylvania_2026-03-20.json",
    "sussex-aa": SNAPSHOTS / "mg" / "sussexaa_sussex-county-de_2022-09-01.json",
}


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``<home>/published`` after one real pipeline run (the environment is restored afterwards)."""
    home = tmp_path_factory.mktemp("delivery") / "home"
    routes = {f"/{sid}.json": (200, path.read_bytes(), "application/json") for sid, path in FEEDS.items()}
    with serve(routes) as base, pytest.MonkeyPatch.context() as mp:
        mp.setenv("CLEARINGHOUSE_HOME", str(home))
        mp.delenv("CLEARINGHOUSE_DEMO_URL", raising=False)
        mp.delenv("CLEARINGHOUSE_S3_BUCKET", raising=False)
        sources = [{"id": sid, "name": sid, "fellowship": "AA", "kind": "meeting_guide", "url": f"{base}/{sid}.json",
                    "timezone": "America/New_York"} for sid in FEEDS]  # fmt: skip
        registry = home.parent / "sources.yaml"
        registry.write_text(yaml.safe_dump({"sources": sources}))
        assert main(["run", "--sources", str(registry)]) == 0
    return home / "published"


def http_get(base: str, path: str, headers: dict[str, str] | None = None, method: str = "GET"):
    """One raw request (the path is sent as given, no client-side normalization): (status, headers, body)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def release_env(published: Path) -> dict[str, str]:
    return {**os.environ, "CLEARINGHOUSE_HOME": str(published.parent)}


def two_releases(published: Path, tmp_path: Path) -> tuple[Path, str, str]:
    """A copy of the real published tree with a second, later release that ``latest`` points at."""
    tree = tmp_path / "published"
    shutil.copytree(published, tree, symlinks=True)
    first = (tree / "latest").resolve().name
    second = f"{first}-2"
    shutil.copytree(tree / "releases" / first, tree / "releases" / second)
    manifest = json.loads((tree / "releases" / second / "manifest.json").read_text())
    later = datetime.fromisoformat(manifest["created_at"]) + timedelta(minutes=1)
    manifest.update(release_id=second, created_at=later.isoformat(timespec="seconds"))
    (tree / "releases" / second / "manifest.json").write_text(json.dumps(manifest))
    (tree / ".latest-new").symlink_to(Path("releases") / second)
    os.replace(tree / ".latest-new", tree / "latest")
    return tree, first, second
