"""The raw archive: every response body, content-addressed, and one metadata record per fetch attempt.

Layout under ``CLEARINGHOUSE_HOME/raw/<source_id>/``:
- ``<YYYY-MM-DD>/<sha256>.<ext>``: response bodies (immutable; the same bytes are stored once: a later day
  holds a hard link to the earlier copy);
- ``<YYYY-MM-DD>/<fetch_id>.fetch.json``: what one fetch attempt did (also when it failed);
- ``<YYYY-MM-DD>/<fetch_id>.records.parquet``: the records parsed from that fetch, for the loader;
- ``state.json``: the last good fetch (validators for conditional GET, snapshot hash, record counts).

Only the fetch of a source writes its folder, so fetch tasks can run in parallel on any worker.

Durability: bodies, records and ``state.json`` are fsynced as they are written. The record of a fetch that
found nothing new (``unchanged``: most sources most nights) is not: it is written whole under its final name,
and ``commit_fetch_records`` fsyncs all of them once, at the end of the fetch stage (a group commit: the
first fsync writes back the journal they share, the others find nothing left to do). A crash before the
commit can lose such records, never state: ``state.json`` did not change, so the next night asks the source
again and records it then; readers skip a record a crash left empty (``fetch_records``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from foundation.paths import component, inside, replay_day

EXTENSIONS = {
    "json": "json",
    "html": "html",
    "xml": "xml",
    "csv": "csv",
    "tab-separated": "tsv",
    "javascript": "js",
}


log = logging.getLogger(__name__)
_uncommitted: set[Path] = set()
"""Fetch records written without their own fsync, waiting for ``commit_fetch_records`` (this process)."""
_uncommitted_lock = threading.Lock()


def atomic_write(path: Path, data: bytes, durable: bool = True) -> None:
    """Write whole or not at all: a crash never leaves a half-written file under its final name (unless not
    ``durable``: then the file is fsynced later, by ``commit_fetch_records``, and may be empty after a crash)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _link(existing: Path, target: Path) -> bool:
    """Hard-link ``existing`` as ``target`` (atomically, like ``atomic_write``); False where links are not possible."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.link")
    try:
        tmp.unlink(missing_ok=True)
        os.link(existing, tmp)
        os.replace(tmp, target)
    except OSError:
        tmp.unlink(missing_ok=True)
        return False
    return True


def commit_fetch_records() -> int:
    """Make every fetch record written without an fsync durable (one group commit); return how many."""
    with _uncommitted_lock:
        paths = sorted(_uncommitted)
        _uncommitted.clear()
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:  # pruned meanwhile
            continue
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    for folder in {p.parent for p in paths}:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)  # the renames
        finally:
            os.close(fd)
    return len(paths)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def extension(content_type: str, url: str) -> str:
    for marker, ext in EXTENSIONS.items():
        if marker in content_type:
            return ext
    tail = url.split("?", 1)[0].rsplit(".", 1)
    return tail[1].lower() if len(tail) == 2 and 1 <= len(tail[1]) <= 4 else "bin"


@dataclass
class PartRecord:
    """One archived response of a fetch."""

    name: str
    url: str
    status: int
    sha256: str
    bytes: int
    path: str
    """Relative to the archive root."""
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    redirects: list[str] = field(default_factory=list)
    """The URLs redirects led to before this body (secrets redacted)."""


OFF_SCOPE_EXAMPLES = 10
"""Skipped off-scope links kept by URL in a fetch record (all are counted)."""


@dataclass
class FetchRecord:
    """Metadata of one fetch attempt: the row of ``raw.fetches``."""

    fetch_id: str
    source_id: str
    started_at: str
    finished_at: str | None = None
    status: str = "failed"
    reason_code: str | None = None
    reason: str | None = None
    snapshot_sha256: str | None = None
    records: int | None = None
    records_path: str | None = None
    data_fetch_id: str | None = None
    """The fetch whose records are this source's data after this attempt: itself when ok, the last good
    fetch when unchanged, failed or held."""
    parts: list[PartRecord] = field(default_factory=list)
    off_scope_links: int = 0
    """Links to hosts outside the source's scope that the crawl skipped (never requested)."""
    off_scope_examples: list[str] = field(default_factory=list)
    """The first ``OFF_SCOPE_EXAMPLES`` of them (secrets redacted)."""

    def skipped_off_scope(self, url: str) -> None:
        self.off_scope_links += 1
        if len(self.off_scope_examples) < OFF_SCOPE_EXAMPLES:
            self.off_scope_examples.append(url)

    def to_json(self) -> dict[str, Any]:
        """The record as plain data (what ``dataclasses.asdict`` gives, without its deep copy of every value:
        the fields are strings, numbers and lists of strings, copied here so the result is the caller's)."""
        data = dict(vars(self))
        data["parts"] = [{**vars(p), "redirects": list(p.redirects)} for p in self.parts]
        data["off_scope_examples"] = list(self.off_scope_examples)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FetchRecord:
        parts = [PartRecord(**p) for p in data.get("parts", [])]
        return cls(**{**data, "parts": parts})


def snapshot_hash(parts: Iterable[PartRecord]) -> str:
    """One hash for a multi-part snapshot: same parts, same bytes → same hash."""
    return sha256("\n".join(f"{p.name}:{p.sha256}" for p in sorted(parts, key=lambda p: p.name)).encode())


class Archive:
    def __init__(self, root: Path):
        self.root = root

    def source_dir(self, source_id: str) -> Path:
        """The folder of one source; an id that is not one folder name inside the root is refused."""
        return inside(self.root, component(source_id, "source id"))

    def day_dir(self, source_id: str, day: str) -> Path:
        return inside(self.root, component(source_id, "source id"), replay_day(day))

    def store_body(self, source_id: str, day: str, body: bytes, content_type: str, url: str) -> tuple[str, str]:
        """Store a body content-addressed; returns (sha256, path relative to the root).

        The same bytes already archived on another day (a feed without ETag or Last-Modified, unchanged) are
        hard-linked into today's folder, not written again: every day keeps its complete snapshot, the disk
        holds the body once, and pruning an old day frees nothing a later day still uses.
        """
        digest = sha256(body)
        name = f"{digest}.{extension(content_type, url)}"
        target = self.day_dir(source_id, day) / name
        if not target.exists():
            earlier = next((p for p in sorted(self.source_dir(source_id).glob(f"*/{name}"), reverse=True)), None)
            if earlier is None or not _link(earlier, target):
                atomic_write(target, body)
        return digest, str(target.relative_to(self.root))

    def path(self, rel_path: str) -> Path:
        """The file ``rel_path`` names under the root, refused if it leads outside (check once, use twice)."""
        return inside(self.root, rel_path)

    def read_body(self, rel_path: str) -> bytes:
        return self.path(rel_path).read_bytes()

    def has(self, rel_path: str) -> bool:
        return self.path(rel_path).exists()

    def fetch_path(self, record: FetchRecord) -> Path:
        safe = component(record.fetch_id.replace("@", "_"), "fetch id")
        return self.day_dir(record.source_id, record.started_at[:10]) / f"{safe}.fetch.json"

    def records_path(self, record: FetchRecord) -> Path:
        path = self.fetch_path(record)
        return path.with_name(path.name.replace(".fetch.json", ".records.parquet"))

    def write_fetch(self, record: FetchRecord, durable: bool = True) -> Path:
        """Write the record; when not ``durable`` its fsync waits for ``commit_fetch_records``."""
        path = self.fetch_path(record)
        # One line, not indented: the C encoder writes it (an indent makes json fall back to pure Python), and
        # one is written per source per night; `jq .` shows it indented.
        atomic_write(path, json.dumps(record.to_json(), sort_keys=True).encode(), durable)
        if not durable:
            with _uncommitted_lock:
                _uncommitted.add(path)
        return path

    def read_fetch(self, path: Path) -> FetchRecord:
        return FetchRecord.from_json(json.loads(path.read_text()))

    def fetch_records(self, source_id: str, day: str | None = None) -> list[FetchRecord]:
        """The fetch records of a source (of ``day``), oldest first, without those a crash left unreadable."""
        records = []
        for path in self.fetches(source_id, day):
            try:
                records.append(self.read_fetch(path))
            except (ValueError, TypeError, KeyError) as exc:
                log.warning("%s: fetch record unreadable (%s), left out; written before a crash?", path, exc)
        return records

    def fetches(self, source_id: str, day: str | None = None) -> list[Path]:
        """Fetch records of a source, oldest first (optionally of one day, YYYY-MM-DD)."""
        if day:
            return sorted(self.day_dir(source_id, day).glob("*.fetch.json"))
        return sorted(self.source_dir(source_id).glob("*/*.fetch.json"))

    def state(self, source_id: str) -> dict[str, Any]:
        path = self.source_dir(source_id) / "state.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def write_state(self, source_id: str, state: dict[str, Any]) -> None:
        atomic_write(self.source_dir(source_id) / "state.json", json.dumps(state, indent=2, sort_keys=True).encode())
