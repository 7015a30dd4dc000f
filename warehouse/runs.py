"""What each run did, in ``ops.runs`` and ``ops.source_runs``, and what a release says about each source.

The stage runner (``clearinghouse.pipeline``) records a run through these functions; the release manifest,
the run summary and the scorecard read a source's status from here, so "stale" means the same everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa

from extractors.archive import FetchRecord
from foundation.source import Source

STALE_AFTER = timedelta(days=7)
"""A source that failed or was held longer ago than this since its last good data is reported ``stale``."""


def shown_status(status: str | None, last_good_at: datetime | None, now: datetime) -> str | None:
    """A source's status as reports show it: ``failed``/``held`` becomes ``stale`` once its last good data is
    older than ``STALE_AFTER``."""
    if status in ("failed", "held") and last_good_at is not None and now - last_good_at > STALE_AFTER:
        return "stale"
    return status


def start_run(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """The run's row in ``ops.runs``, once: every stage calls it, whichever runs first creates it."""
    con.execute(
        "INSERT INTO ops.runs (run_id, started_at, status) VALUES (?, now(), 'running') ON CONFLICT DO NOTHING",
        [run_id],
    )


def run_started_at(con: duckdb.DuckDBPyConnection, run_id: str) -> datetime:
    return con.execute("SELECT started_at FROM ops.runs WHERE run_id = ?", [run_id]).fetchall()[0][0]


def record_fetches(con: duckdb.DuckDBPyConnection, run_id: str, records: list[FetchRecord]) -> None:
    """One ``ops.source_runs`` row per fetch of the run (replacing the run's earlier rows: a rerun is idempotent)."""
    con.execute("DELETE FROM ops.source_runs WHERE run_id = ?", [run_id])
    runs = pa.table(
        {
            "source_id": [r.source_id for r in records],
            "fetch_id": [r.fetch_id for r in records],
            "status": [r.status for r in records],
            "reason_code": [r.reason_code for r in records],
            "reason": [r.reason for r in records],
            "parsed": pa.array([r.records for r in records], pa.int64()),
        }
    )
    con.register("new_source_runs", runs)
    try:
        con.execute(
            "INSERT INTO ops.source_runs (run_id, source_id, fetch_id, status, reason_code, reason, parsed) "
            "SELECT $run_id, * FROM new_source_runs",
            {"run_id": run_id},
        )
    finally:
        con.unregister("new_source_runs")


def record_normalized(con: duckdb.DuckDBPyConnection, run_id: str, summary: Mapping[str, Mapping[str, int]]) -> None:
    """The run's normalized and quarantined counts per source (``summary``: source id → counts)."""
    counts = pa.table(
        {
            "source_id": list(summary),
            "normalized": pa.array([c["normalized"] for c in summary.values()], pa.int64()),
            "quarantined": pa.array([c["quarantined"] for c in summary.values()], pa.int64()),
        }
    )
    con.register("normalized_counts", counts)
    try:
        con.execute(
            """UPDATE ops.source_runs r SET normalized = c.normalized, quarantined = c.quarantined
               FROM normalized_counts c WHERE r.run_id = $run_id AND r.source_id = c.source_id""",
            {"run_id": run_id},
        )
    finally:
        con.unregister("normalized_counts")


def record_blocked(con: duckdb.DuckDBPyConnection, run_id: str, failed: list[dict[str, Any]]) -> None:
    """The run ends ``blocked`` by a quality gate, with the checks that failed."""
    summary = {"run_id": run_id, "status": "blocked", "quality": {"status": "failed", "failed_checks": failed}}
    start_run(con, run_id)
    con.execute(
        "UPDATE ops.runs SET finished_at = now(), status = 'blocked', summary = ? WHERE run_id = ?",
        [json.dumps(summary, default=str), run_id],
    )


def record_published(con: duckdb.DuckDBPyConnection, run_id: str, release_id: str, summary: dict[str, Any]) -> None:
    con.execute(
        "UPDATE ops.runs SET finished_at = now(), status = 'published', release_id = ?, summary = ? WHERE run_id = ?",
        [release_id, json.dumps(summary, default=str), run_id],
    )


def current_record_counts(con: duckdb.DuckDBPyConnection, source_ids: Iterable[str]) -> dict[str, int]:
    """parsed, normalized and quarantined over each source's current data (also when unchanged tonight), so
    parsed = normalized + quarantined holds for a release as it does per source."""
    parsed, normalized, quarantined = con.sql(
        """SELECT coalesce(sum(n.parsed), 0), coalesce(sum(n.normalized), 0), coalesce(sum(n.quarantined), 0)
           FROM ops.source_state s JOIN ops.normalized_fetches n ON n.fetch_id = s.current_fetch_id
           WHERE s.source_id IN (SELECT unnest($ids))""",
        params={"ids": list(source_ids)},
    ).fetchall()[0]
    return {"parsed": parsed, "normalized": normalized, "quarantined": quarantined}


def source_statuses(con: duckdb.DuckDBPyConnection, run_id: str, sources: list[Source]) -> list[dict[str, Any]]:
    """The manifest's ``sources``: per registry source, this run's status (or its latest one, for a
    publish-only run), when its data was last good, and how many published meetings it contributes."""
    rows = con.sql(
        """
        SELECT st.source_id, r.status, r.reason, st.last_good_at, st.current_fetch_id,
               (SELECT count(*) FROM core.meetings m, unnest(m.sources) AS u(p)
                WHERE m.status = 'active' AND p.source_id = st.source_id) AS published,
               (SELECT f.off_scope_links FROM raw.fetches f WHERE f.fetch_id = r.fetch_id) AS off_scope
        FROM ops.source_state st
        LEFT JOIN (SELECT r.* FROM ops.source_runs r LEFT JOIN ops.runs u USING (run_id)
                   QUALIFY row_number() OVER (PARTITION BY r.source_id
                                              ORDER BY r.run_id = $run_id DESC, u.started_at DESC NULLS LAST) = 1) r
               ON r.source_id = st.source_id  -- this run's attempt, else the latest (a publish-only run)
        """,
        params={"run_id": run_id},
    ).fetchall()
    by_id = {row[0]: row for row in rows}
    report = []
    now = datetime.now(UTC)
    for source in sources:
        _, status, reason, last_good, _, published, off_scope = by_id.get(
            source.id, (source.id, None, None, None, None, 0, 0)
        )
        if status is None:
            status, reason = "failed", "not fetched in this run"
        status = shown_status(status, last_good, now)
        entry = {
            "id": source.id,
            "name": source.name,
            "fellowship": source.fellowship,
            "status": status,
            "fetched_at": last_good.isoformat() if last_good else None,
            "records": published,
        }
        if status not in ("ok", "unchanged"):
            entry["reason"] = reason
        if off_scope:
            entry["off_scope_links"] = off_scope  # links to other hosts, skipped (raw.fetches has examples)
        if source.link_only:
            entry["url"] = source.url
        report.append(entry)
    return report
