"""Versions of code and data: a digest that changes whenever one of the files it covers does.

A stage that reuses what an earlier run computed (a release's unchanged files, the places of unchanged
meetings) keys the reuse by such a version, so that a change to the code or to its reference data recomputes
instead of serving what the old code made.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path


def files_digest(seed: str, paths: Iterable[Path]) -> str:
    """sha256 of ``seed`` (a schema version, package versions …), then of each file's name and bytes, in path
    order (hex)."""
    digest = hashlib.sha256(seed.encode())
    for path in sorted(paths):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
