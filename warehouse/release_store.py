"""Files shared by releases: a content-addressed store, ``published/objects/<aa>/<sha256>``.

Most nights change a few meetings, so most files of a release are byte-identical to the previous release's.
Every file of a release is a hard link to the store object named by its sha256 (the checksum the manifest
lists), so an unchanged file costs no space, whichever release first wrote it: ten kept releases of a quiet
week take little more than one. A release folder still holds every file under its usual name (readers,
the download service and the bucket mirror see plain files), and deleting a release folder removes only its
links; ``collect`` then deletes the objects no kept release links to.

Objects are read-only (mode 0444): a file edited in place would change every release sharing it, and
``warehouse.publish.verify`` refuses such a release anyway (its checksums no longer match). Where the file
system cannot hard-link (``EXDEV``, ``EPERM``), the release keeps its own copy: sharing is an economy, never
a condition of publishing.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

OBJECTS = "objects"
READ_ONLY = 0o444
log = logging.getLogger(__name__)


def object_path(published: Path, sha256: str) -> Path:
    return published / OBJECTS / sha256[:2] / sha256


def _link(source: Path, target: Path) -> None:
    """Make ``target`` a hard link to ``source``, replacing ``target`` atomically."""
    tmp = target.with_name(f".{target.name}.link-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    os.link(source, tmp)
    os.replace(tmp, target)


def share(published: Path, release_dir: Path, files: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Hard-link every manifest file of ``release_dir`` to its object, adding the objects that are new.

    Returns how many files (and bytes) were already in the store (``shared``) and how many were added.
    """
    counts = {"shared_files": 0, "shared_bytes": 0, "new_files": 0, "new_bytes": 0}
    for entry in files:
        path = release_dir / entry["path"]
        target = object_path(published, entry["sha256"])
        try:
            if target.is_file() and target.stat().st_size == entry["bytes"]:
                if not path.samefile(target):
                    _link(target, path)
                counts["shared_files"] += 1
                counts["shared_bytes"] += entry["bytes"]
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            path.chmod(READ_ONLY)
            _link(path, target)
        except OSError as exc:  # no hard links on this file system: the release keeps its own copy
            log.warning("release file %s not shared (%s); it keeps its own copy", entry["path"], exc)
            continue
        counts["new_files"] += 1
        counts["new_bytes"] += entry["bytes"]
    return counts


def collect(published: Path) -> int:
    """Delete the objects no release links to any more (link count 1: the store's own); return how many."""
    removed = 0
    for folder in (published / OBJECTS).glob("??"):
        for obj in folder.iterdir():
            if obj.name.startswith("."):
                obj.unlink(missing_ok=True)  # a link left by a publisher that died mid-way
            elif obj.stat().st_nlink <= 1:
                obj.unlink()
                removed += 1
    return removed


def disk_bytes(published: Path) -> int:
    """Bytes ``published/`` takes on disk, each shared file counted once (as ``du`` does)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for path in published.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        stat = path.stat()
        if (stat.st_dev, stat.st_ino) not in seen:
            seen.add((stat.st_dev, stat.st_ino))
            total += stat.st_size
    return total
