"""``clearinghouse.duckdb`` inside each release: analysts query it while the nightly run holds the warehouse lock.

``warehouse.duckdb`` has one writer and DuckDB locks the file for it, so an analyst's session there waits for (or
blocks) the nightly run. The release instead ships its own database, built while the release is assembled
(before it is verified and renamed) and never written again: any number of processes open it read-only, from
any working directory, at any time.

It holds tables, not views: a view over ``'meetings.parquet'`` resolves that path against the reader's working
directory, not the database file's folder, so it breaks as soon as it is opened from elsewhere; and a mart view
over ``core.*`` needs the warehouse. The file is written in the v1.0.0 storage format, which every DuckDB since
1.0 (CLI or Python) opens.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from foundation.sql import sql_name, sql_text

FILENAME = "clearinghouse.duckdb"
JOINED = {"meetings": "meeting_fields"}
"""A Parquet table stored under another name, so that a view of its name can join ``verification`` back."""
MEETINGS_VIEW = """
CREATE VIEW meetings AS
SELECT f.*, v.last_seen, v.last_verified FROM meeting_fields f LEFT JOIN verification v USING (meeting_id)
"""
"""Every meeting with when it was last listed and verified (``verification.parquet``), as before schema 3.0."""
STORAGE_VERSION = "v1.0.0"
ALIAS = "clearinghouse_release"


def table_name(parquet: Path) -> str:
    """``meetings.parquet`` → ``meetings``; anything that is not a plain SQL name becomes ``_``."""
    return re.sub(r"[^a-z0-9_]+", "_", parquet.stem.lower()).strip("_") or "_"


def _create_view(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Create a view inside the release database whose names bind there (not in the warehouse)."""
    current = con.sql("SELECT current_database()").fetchall()[0][0]
    con.execute(f"USE {ALIAS}")
    try:
        con.execute(sql)
    finally:
        con.execute(f"USE {sql_name(current)}")


def write_release_duckdb(release_dir: Path, con: duckdb.DuckDBPyConnection | None = None) -> Path:
    """Build ``<release_dir>/clearinghouse.duckdb``; return its path.

    ``main`` gets one table per Parquet file at the release's top level (per-region files are left out:
    ``meetings.regions`` says the same); ``meetings.parquet`` becomes ``meeting_fields`` and the view
    ``meetings`` joins ``verification`` back to it. With the warehouse connection ``con``, every view or table of its
    ``marts`` schema is materialized as ``marts.<name>``, as of this release. Each table's comment says where
    it came from; the file is fully checkpointed (no ``.wal`` beside it).
    """
    target = release_dir / FILENAME
    target.unlink(missing_ok=True)
    own = con is None
    con = duckdb.connect() if con is None else con
    try:
        marts = con.sql(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database() AND table_schema = 'marts' ORDER BY table_name"
        ).fetchall()
        con.execute(f"ATTACH {sql_text(str(target))} AS {ALIAS} (STORAGE_VERSION '{STORAGE_VERSION}')")
        try:
            parquets = sorted(release_dir.glob("*.parquet"))
            joined = any(p.name == "verification.parquet" for p in parquets)
            for parquet in parquets:
                name = table_name(parquet)
                table = f"{ALIAS}.main.{sql_name(JOINED.get(name, name) if joined else name)}"
                con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_parquet(?)", [str(parquet)])
                con.execute(f"COMMENT ON TABLE {table} IS {sql_text(parquet.name + ' of this release')}")
            if joined and (release_dir / "meetings.parquet").is_file():
                _create_view(con, MEETINGS_VIEW)
            if marts:
                con.execute(f"CREATE SCHEMA {ALIAS}.marts")
            for (name,) in marts:
                table = f"{ALIAS}.marts.{sql_name(name)}"
                con.execute(f"CREATE TABLE {table} AS SELECT * FROM marts.{sql_name(name)}")
                con.execute(
                    f"COMMENT ON TABLE {table} IS {sql_text(f'the warehouse mart marts.{name} at this release')}"
                )
        finally:
            con.execute(f"DETACH {ALIAS}")
    finally:
        if own:
            con.close()
    return target
