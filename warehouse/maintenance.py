"""Housekeeping by retention: old raw snapshots, old releases, staging rows nobody needs, warehouse space."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb

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


def prune_staging(con: duckdb.DuckDBPyConnection) -> int:
    """Staging rows of fetches that are no longer any source's current data."""
    before = con.sql("SELECT count(*) FROM staging.source_records").fetchall()[0][0]
    con.execute(
        "DELETE FROM staging.source_records WHERE fetch_id NOT IN "
        "(SELECT current_fetch_id FROM ops.source_state WHERE current_fetch_id IS NOT NULL)"
    )
    return before - con.sql("SELECT count(*) FROM staging.source_records").fetchall()[0][0]


def compact(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CHECKPOINT")
    con.execute("VACUUM")


def run_maintenance(home: Path, warehouse: Path, keep_raw_days: int, keep_releases: int, today: date) -> dict:
    result = prune_raw(home / "raw", keep_raw_days, today)
    published = home / "published"
    if (published / "releases").exists():
        result["releases_removed"] = len(prune(published, keep_releases))
        write_releases_index(published)  # releases.json lists only releases that still exist
    with duckdb.connect(str(warehouse)) as con:
        result["staging_rows_removed"] = prune_staging(con)
        compact(con)
    return result
