"""DuckDB connection and versioned migrations (``warehouse/migrations/NNN_name.sql``, applied in order).

Single-writer rule: only one process writes ``warehouse.duckdb`` at a time (the loader and the stages
after it), and a read-only session in another process also holds the file's lock. A writer that finds the
lock taken waits for it (``CLEARINGHOUSE_LOCK_WAIT_S``, logged), then fails naming the holder. Readers that
must never wait, and must never make the nightly wait, use the release's own DuckDB file instead
(``clearinghouse sql``).
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from foundation.settings import settings

log = logging.getLogger("clearinghouse.warehouse")
MIGRATIONS = Path(__file__).parent / "migrations"
_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
_HOLDER = re.compile(r"lock is held in (?P<process>.*?) \(PID (?P<pid>\d+)\)")
LOCK_RETRY_S = (1.0, 30.0)
"""First and longest pause between two attempts at a locked warehouse (the pause doubles)."""


class MigrationError(RuntimeError):
    pass


class WarehouseLocked(RuntimeError):
    """Another process kept the warehouse's lock for longer than the writer may wait."""


def _is_lock_conflict(exc: duckdb.Error) -> bool:
    return "could not set lock" in str(exc).lower()


def _holder(exc: duckdb.Error) -> str:
    match = _HOLDER.search(str(exc))
    return f"PID {match['pid']} ({match['process']})" if match else "another process"


def open_waiting(path: Path, read_only: bool, config: dict[str, str], wait_s: float) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect``, retried while another process holds the file's lock, for at most ``wait_s`` seconds.

    An analyst's read-only session on the warehouse delays a stage instead of failing the night; every wait
    is logged with the holder's process id, and when the time is up the error says how to find the holder.
    """
    deadline = time.monotonic() + wait_s
    pause = LOCK_RETRY_S[0]
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=config)
        except duckdb.IOException as exc:
            if not _is_lock_conflict(exc):
                raise
            left = deadline - time.monotonic()
            if left <= 0:
                raise WarehouseLocked(
                    f"{path} is locked by {_holder(exc)}; waited {wait_s:.0f} s "
                    f"(CLEARINGHOUSE_LOCK_WAIT_S). Find the holder with `lsof {path}` or `fuser -v {path}` "
                    "(often an analyst's DuckDB session: query published/latest/clearinghouse.duckdb with "
                    "`clearinghouse sql` instead), end it, then rerun the stage."
                ) from exc
            log.warning("warehouse %s is locked by %s; retrying in %.0f s (%.0f s left of %.0f s)",
                        path, _holder(exc), min(pause, left), left, wait_s)  # fmt: skip
            time.sleep(min(pause, left))
            pause = min(pause * 2, LOCK_RETRY_S[1])


def migrations() -> list[tuple[int, str, Path]]:
    found = []
    for path in sorted(MIGRATIONS.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path}: migration files must be named NNN_name.sql")
        found.append((int(match.group(1)), match.group(2), path))
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration numbers in {MIGRATIONS}")
    return found


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply pending migrations, each in its own transaction; refuse if an applied one was edited."""
    con.execute("CREATE SCHEMA IF NOT EXISTS ops")
    con.execute(
        "CREATE TABLE IF NOT EXISTS ops.schema_migrations ("
        "version INTEGER PRIMARY KEY, name VARCHAR, checksum VARCHAR, applied_at TIMESTAMPTZ DEFAULT now())"
    )
    applied = dict(con.execute("SELECT version, checksum FROM ops.schema_migrations").fetchall())
    done = []
    for version, name, path in migrations():
        sql = path.read_text()
        checksum = hashlib.sha256(sql.encode()).hexdigest()
        if version in applied:
            if applied[version] != checksum:
                raise MigrationError(
                    f"migration {path.name} was changed after it was applied; add a new migration instead"
                )
            continue
        con.execute("BEGIN")
        try:
            con.execute(sql)
            con.execute(
                "INSERT INTO ops.schema_migrations (version, name, checksum) VALUES (?, ?, ?)",
                [version, name, checksum],
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        done.append(path.name)
    return done


@contextmanager
def connect(
    path: Path, read_only: bool = False, memory_limit: str | None = None, lock_wait_s: float | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the warehouse, migrated when opened for writing; ``memory_limit`` caps DuckDB's
    buffer pool (``Settings.duckdb_memory_limit``); a lock held elsewhere is waited for up to ``lock_wait_s``
    (default ``Settings.lock_wait_s``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    config = {"memory_limit": memory_limit} if memory_limit else {}
    wait_s = settings().lock_wait_s if lock_wait_s is None else lock_wait_s
    con = open_waiting(path, read_only, config, wait_s)
    try:
        if not read_only:
            migrate(con)
        yield con
    finally:
        con.close()
