"""``published/releases.json``: every release on disk and which one ``latest`` is.

Apps list or pin releases from it; the ``datasets`` service and the bucket serve it as ``/releases.json``.
Rebuilt from the manifests after each publish and each rollback, and swapped in with one rename, so a reader
gets the old index or the new one. The same state always gives the same bytes (no timestamp of its own), so
its ETag only changes when a release or ``latest`` does.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

INDEX_NAME = "releases.json"


def latest_release_id(published: Path) -> str | None:
    """The release ``latest`` points at, or None before the first publish."""
    link = published / "latest"
    return link.resolve().name if link.exists() else None


def build_index(published: Path) -> dict[str, Any]:
    """The index document: newest release first, each with its counts, quality status and relative path."""
    latest = latest_release_id(published)
    manifests = [
        json.loads(path.read_text())
        for path in (published / "releases").glob("*/manifest.json")
        if not path.parent.name.startswith(".")  # a release still being built
    ]
    manifests.sort(key=lambda m: (m["created_at"], m["release_id"]), reverse=True)
    return {
        "latest": latest,
        "releases": [
            {
                "release_id": m["release_id"],
                "created_at": m["created_at"],
                "schema_version": m.get("schema_version"),
                "quality": (m.get("quality") or {}).get("status"),
                "counts": m.get("counts", {}),
                "path": f"releases/{m['release_id']}/",
                "latest": m["release_id"] == latest,
            }
            for m in manifests
        ],
    }


def index_bytes(published: Path) -> bytes:
    return (json.dumps(build_index(published), indent=2, default=str) + "\n").encode()


def write_releases_index(published: Path) -> Path:
    """Write ``published/releases.json`` atomically (temp file in the same folder, then ``os.replace``)."""
    target = published / INDEX_NAME
    tmp = published / f".{INDEX_NAME}-{os.getpid()}-{threading.get_ident()}"
    tmp.write_bytes(index_bytes(published))
    os.replace(tmp, target)
    return target
