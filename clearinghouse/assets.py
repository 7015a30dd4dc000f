"""The Airflow Assets between the DAGs (data-aware scheduling); wiring only, safe to import at parse time.

raw snapshots (a source was fetched) → build (load, normalize, quality, resolve) → release (published).
"""

from __future__ import annotations

from airflow.sdk import Asset, Param

RAW_SNAPSHOTS = Asset("clearinghouse://raw", extra={"what": "new raw snapshots of one or more sources"})
BUILT = Asset("clearinghouse://warehouse/core", extra={"what": "core layer rebuilt and quality-checked"})
RELEASE = Asset("clearinghouse://published/latest", extra={"what": "the latest published release"})

FETCH_POOL = "clearinghouse_fetch"
"""Bounds concurrent fetches across workers; per-host politeness is the client's host lease."""
WRITER_POOL = "duckdb_writer"
"""One slot: DuckDB allows one writer process, so every task that writes the warehouse queues here."""
POOLS = {FETCH_POOL: (8, "concurrent source fetches"), WRITER_POOL: (1, "single writer of warehouse.duckdb")}


def replay_date_param() -> Param:
    """``replay_date`` of the DAGs that can replay the raw archive: a day written YYYY-MM-DD, or none. Airflow
    refuses anything else when the run is triggered; ``pipeline.fetch_one`` checks it again before any path
    is built from it."""
    return Param(None, type=["null", "string"], pattern=r"^\d{4}-\d{2}-\d{2}$",
                 description="YYYY-MM-DD: re-parse that day's archived snapshots instead of fetching.")  # fmt: skip
