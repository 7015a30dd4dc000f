"""DuckDB connection and versioned migrations (``warehouse/migrations/NNN_name.sql``, applied in order).

Single-writer rule: only one process writes ``warehouse.duckdb`` at a time (the loader and the stages
after it). Readers that must never wait use the release's own DuckDB file instead.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

MIGRATIONS = Path(__file__).parent / "migrations"
_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


class MigrationError(RuntimeError):
    pass


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
    path: Path, read_only: bool = False, memory_limit: str | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the warehouse, migrated when opened for writing; ``memory_limit`` caps DuckDB's
    buffer pool (``Settings.duckdb_memory_limit``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    config = {"memory_limit": memory_limit} if memory_limit else {}
    con = duckdb.connect(str(path), read_only=read_only, config=config)
    try:
        if not read_only:
            migrate(con)
        yield con
    finally:
        con.close()
