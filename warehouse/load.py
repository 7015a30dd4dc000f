"""Load fetch results into the warehouse: the single writer after the parallel fetches.

Idempotent: loading the same fetch twice replaces its rows. A source whose fetch failed or was held
keeps its current data (``ops.source_state.current_fetch_id`` does not move).

Each step is one statement for the whole batch (fetch rows, staging rows read from every records file
at once, the state upsert), not one per source: with thousands of sources, per-source statements were
most of the stage's time.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import duckdb
import pyarrow as pa

from extractors.archive import FetchRecord

log = logging.getLogger("clearinghouse.load")
CURRENT_STATUSES = ("ok", "unchanged")


def _waves(records: list[FetchRecord]) -> list[list[FetchRecord]]:
    """Batches in which each source appears once, in order: a source fetched twice is loaded twice, in turn."""
    waves: list[list[FetchRecord]] = []
    last: dict[str, int] = {}
    for record in records:
        wave = last.get(record.source_id, -1) + 1
        if wave == len(waves):
            waves.append([])
        waves[wave].append(record)
        last[record.source_id] = wave
    return waves


def _record_fetches(con: duckdb.DuckDBPyConnection, run_id: str, records: list[FetchRecord]) -> None:
    rows = pa.table(
        {
            "fetch_id": [r.fetch_id for r in records],
            "source_id": [r.source_id for r in records],
            "run_id": [run_id] * len(records),
            "started_at": [r.started_at for r in records],
            "finished_at": [r.finished_at for r in records],
            "status": [r.status for r in records],
            "reason_code": [r.reason_code for r in records],
            "reason": [r.reason for r in records],
            "snapshot_sha256": [r.snapshot_sha256 for r in records],
            "records": pa.array([r.records for r in records], pa.int64()),
            "data_fetch_id": [r.data_fetch_id for r in records],
            "parts": [json.dumps([vars(p) for p in r.parts]) for r in records],
            "off_scope_links": pa.array([r.off_scope_links for r in records], pa.int32()),
            "off_scope_examples": pa.array([r.off_scope_examples for r in records], pa.list_(pa.string())),
        }
    )
    con.register("load_fetches", rows)
    try:
        con.execute("DELETE FROM raw.fetches WHERE fetch_id IN (SELECT fetch_id FROM load_fetches)")
        con.execute("INSERT INTO raw.fetches BY NAME SELECT * FROM load_fetches")
    finally:
        con.unregister("load_fetches")


def _insert_staging(con: duckdb.DuckDBPyConnection, raw_dir: Path, records: list[FetchRecord]) -> None:
    """Make sure the records of each source's data fetch are in staging (also after a lost warehouse)."""
    if not records:
        return
    expected = {r.data_fetch_id: r for r in records}
    present = dict(
        con.execute(
            "SELECT fetch_id, count(*) FROM staging.source_records WHERE fetch_id IN (SELECT unnest(?)) GROUP BY 1",
            [list(expected)],
        ).fetchall()
    )
    missing = [r for fetch_id, r in expected.items() if not present.get(fetch_id) or present[fetch_id] != r.records]
    if not missing:
        return
    con.execute(
        "DELETE FROM staging.source_records WHERE fetch_id IN (SELECT unnest(?))", [[r.data_fetch_id for r in missing]]
    )
    con.execute(
        "INSERT INTO staging.source_records BY NAME SELECT * FROM read_parquet(?)",
        [[str(raw_dir / str(r.records_path)) for r in missing]],
    )


def _move_pointers(con: duckdb.DuckDBPyConnection, records: list[FetchRecord]) -> None:
    current = [r.status in CURRENT_STATUSES for r in records]
    rows = pa.table(
        {
            "source_id": [r.source_id for r in records],
            "current_fetch_id": [r.data_fetch_id if ok else None for r, ok in zip(records, current, strict=True)],
            "last_good_at": [r.started_at if ok else None for r, ok in zip(records, current, strict=True)],
            "last_attempt_at": [r.started_at for r in records],
            "last_status": [r.status for r in records],
            "last_reason": [r.reason for r in records],
        }
    )
    con.register("load_state", rows)
    try:
        con.execute(
            """
            INSERT INTO ops.source_state AS s
            SELECT source_id, current_fetch_id, CAST(last_good_at AS TIMESTAMPTZ),
                   CAST(last_attempt_at AS TIMESTAMPTZ), last_status, last_reason
            FROM load_state
            ON CONFLICT (source_id) DO UPDATE SET
                current_fetch_id = coalesce(excluded.current_fetch_id, s.current_fetch_id),
                last_good_at = coalesce(excluded.last_good_at, s.last_good_at),
                last_attempt_at = excluded.last_attempt_at,
                last_status = excluded.last_status,
                last_reason = excluded.last_reason
            """
        )
    finally:
        con.unregister("load_state")


def load(con: duckdb.DuckDBPyConnection, run_id: str, raw_dir: Path, records: list[FetchRecord]) -> None:
    """Record every attempt; copy into staging the records of sources that are ok or unchanged; move their pointer."""
    con.execute("BEGIN")
    try:
        for wave in _waves(records):
            _record_fetches(con, run_id, wave)
            _insert_staging(con, raw_dir, [r for r in wave if r.status in CURRENT_STATUSES])
            _move_pointers(con, wave)
            for record in wave:
                log.info("loaded %s: %s (%s records)", record.source_id, record.status, record.records)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
