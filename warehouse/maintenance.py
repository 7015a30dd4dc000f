"""Housekeeping by retention: old raw snapshots, old releases, staging rows nobody needs, warehouse space."""

from __future__ import annotations

import json
import os
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb

from foundation.sql import sql_name, sql_text
from transforms.presence import CLOSE_AFTER_RUNS
from warehouse import db
from warehouse.publish import prune
from warehouse.releases_index import write_releases_index


def prune_raw(raw_dir: Path, keep_days: int, today: date) -> dict[str, int]:
    """Delete day folders older than ``keep_days``, except the bodies a source's last good fetch still uses
    (conditional GET answers 304 from them, and a replay needs them)."""
    cutoff = (today - timedelta(days=keep_days)).isoformat()
    removed = kept = 0
    for source_dir in (p for p in raw_dir.iterdir() if p.is_dir()) if raw_dir.exists() else []:
        state_file = source_dir / "state.json"
        state = json.loads(state_file.read_text()) if state_file.exists() else {}
        needed = {Path(p["path"]).parent.name for p in state.get("parts", [])}
        needed.add(Path(state.get("records_path", "x/x")).parent.name)
        for day_dir in (d for d in source_dir.iterdir() if d.is_dir()):
            if day_dir.name < cutoff and day_dir.name not in needed:
                shutil.rmtree(day_dir)
                removed += 1
            else:
                kept += 1
    return {"raw_days_removed": removed, "raw_days_kept": kept}


def prune_staging(con: duckdb.DuckDBPyConnection, close_after: int = CLOSE_AFTER_RUNS) -> int:
    """Staging rows that are no longer any source's current data, nor the last version of a record resolution
    still carries (missing for fewer than ``close_after`` healthy runs): matching reads the source's own
    record of those (the NA world id), so pruning it would change their links."""
    before = con.sql("SELECT count(*) FROM staging.source_records").fetchall()[0][0]
    con.execute(
        """
        DELETE FROM staging.source_records r
        WHERE fetch_id NOT IN (SELECT current_fetch_id FROM ops.source_state WHERE current_fetch_id IS NOT NULL)
          AND NOT EXISTS (SELECT 1 FROM core.record_presence p
                          WHERE p.last_fetch_id = r.fetch_id AND p.source_key = r.source_key
                            AND p.absent_runs BETWEEN 1 AND $close_after - 1)
        """,
        {"close_after": close_after},
    )
    return before - con.sql("SELECT count(*) FROM staging.source_records").fetchall()[0][0]


def _size(path: Path) -> int:
    wal = path.with_name(path.name + ".wal")
    return sum(p.stat().st_size for p in (path, wal) if p.exists())


def compact(warehouse: Path, memory_limit: str | None = None) -> dict[str, int]:
    """Rewrite the warehouse into a fresh file and swap it in with one ``rename``; returns the sizes in bytes.

    DuckDB reuses the blocks that deletes free but never gives them back to the file system (``VACUUM`` does
    not shrink the file), so after pruning, only a copy is smaller. The copy is made under the writer's lock
    (``db.connect`` waits for it like any stage); a crash before the rename leaves the old file whole and a
    ``.compact`` leftover that the next compaction replaces.
    """
    before = _size(warehouse)
    fresh = warehouse.with_name(f".{warehouse.name}.compact")
    fresh.unlink(missing_ok=True)
    with db.connect(warehouse, memory_limit=memory_limit) as con:
        con.execute("CHECKPOINT")
        source = con.sql("SELECT current_database()").fetchall()[0][0]
        con.execute(f"ATTACH {sql_text(str(fresh))} AS compacted")
        try:
            con.execute(f"COPY FROM DATABASE {sql_name(source)} TO compacted")
        finally:
            con.execute("DETACH compacted")
    os.replace(fresh, warehouse)
    return {"warehouse_bytes_before": before, "warehouse_bytes_after": _size(warehouse)}


def run_maintenance(
    home: Path,
    warehouse: Path,
    keep_raw_days: int,
    keep_releases: int,
    today: date,
    memory_limit: str | None = None,
    close_after: int = CLOSE_AFTER_RUNS,
) -> dict:
    result = prune_raw(home / "raw", keep_raw_days, today)
    published = home / "published"
    if (published / "releases").exists():
        result["releases_removed"] = len(prune(published, keep_releases))
        write_releases_index(published)  # releases.json lists only releases that still exist
    if warehouse.exists():
        with db.connect(warehouse, memory_limit=memory_limit) as con:
            result["staging_rows_removed"] = prune_staging(con, close_after)
        result |= compact(warehouse, memory_limit)
    return result
