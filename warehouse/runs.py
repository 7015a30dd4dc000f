"""What each run did, in ``ops.runs``, ``ops.stage_runs`` and ``ops.source_runs``, and what a release says
about each source.

The stage runner (``clearinghouse.pipeline``) records a run through these functions; the release manifest,
the run summary and the scorecard read a source's status from here, so "stale" means the same everywhere.

A run's life: every stage opens with ``stage()``, which (re)marks the run ``running`` with its host, process
and a heartbeat, and closes the stage ``done``, ``blocked``, ``nothing_to_publish`` or ``failed`` (the run
then carries the error). The run ends ``published``, ``blocked``, ``nothing_to_publish``, ``built`` (a
``clearinghouse_build`` run, published by another) or ``failed``. A run left ``running`` whose stage process
is gone, or that showed no life for ``CLEARINGHOUSE_ABANDON_AFTER_S``, is marked ``abandoned`` by the next.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa

from extractors.archive import FetchRecord
from foundation.settings import settings
from foundation.source import Source
from warehouse.errors import NothingToPublish, QualityGateFailed

log = logging.getLogger("clearinghouse.runs")
FINAL = ("published", "blocked", "nothing_to_publish", "built", "failed", "abandoned")
"""How a run ends (``ops.runs.status``); ``running`` while a stage is at work or the next one is queued."""

STALE_AFTER = timedelta(days=7)
"""A source that failed or was held longer ago than this since its last good data is reported ``stale``."""


def shown_status(status: str | None, last_good_at: datetime | None, now: datetime) -> str | None:
    """A source's status as reports show it: ``failed``/``held`` becomes ``stale`` once its last good data is
    older than ``STALE_AFTER``."""
    if status in ("failed", "held") and last_good_at is not None and now - last_good_at > STALE_AFTER:
        return "stale"
    return status


def _process() -> tuple[str, int]:
    return socket.gethostname(), os.getpid()


def start_run(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """The run's row in ``ops.runs``: created by whichever stage runs first; a later stage (or a retry after a
    failure) marks it ``running`` again, here and now."""
    host, pid = _process()
    con.execute(
        """INSERT INTO ops.runs (run_id, started_at, status, host, pid, heartbeat_at)
           VALUES ($run_id, now(), 'running', $host, $pid, now())
           ON CONFLICT DO UPDATE SET status = 'running', finished_at = NULL, error = NULL, host = excluded.host,
                                     pid = excluded.pid, heartbeat_at = now()""",
        {"run_id": run_id, "host": host, "pid": pid},
    )


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def abandon_stale(con: duckdb.DuckDBPyConnection, run_id: str, now: datetime | None = None) -> list[str]:
    """Mark other runs ``abandoned`` that are still ``running`` although a stage's process on this host is
    gone, or that showed no heartbeat for ``abandon_after_s`` (another host, or killed between stages)."""
    now = now or datetime.now(UTC)
    host, _ = _process()
    limit = timedelta(seconds=settings().abandon_after_s)
    rows = con.execute(
        """SELECT r.run_id, r.heartbeat_at, list(s.pid) FILTER (WHERE s.status = 'running' AND s.host = $host)
           FROM ops.runs r LEFT JOIN ops.stage_runs s USING (run_id)
           WHERE r.status = 'running' AND r.run_id <> $run_id GROUP BY ALL""",
        {"host": host, "run_id": run_id},
    ).fetchall()
    abandoned = []
    for other, heartbeat, pids in rows:
        gone = [p for p in pids or [] if not _alive(p)]
        silent = heartbeat is None or now - heartbeat > limit
        if not gone and not silent:
            continue
        if gone:
            why = f"its stage process (PID {gone[0]} on {host}) is gone"
        else:
            why = f"no heartbeat since {heartbeat:%Y-%m-%d %H:%M:%S %Z}" if heartbeat else "no heartbeat"
        error = f"abandoned: {why}; found by run {run_id}"
        con.execute("UPDATE ops.runs SET status = 'abandoned', finished_at = $now, error = $error WHERE run_id = $id",
                    {"now": now, "error": error, "id": other})  # fmt: skip
        con.execute(
            "UPDATE ops.stage_runs SET status = 'abandoned', finished_at = $now, error = $error "
            "WHERE run_id = $id AND status = 'running'",
            {"now": now, "error": error, "id": other},
        )
        log.warning("run %s marked abandoned: %s", other, why)
        abandoned.append(other)
    return abandoned


def _stage_status(exc: BaseException) -> str:
    if isinstance(exc, NothingToPublish):
        return "nothing_to_publish"
    return "blocked" if isinstance(exc, QualityGateFailed) else "failed"


@contextmanager
def stage(con: duckdb.DuckDBPyConnection, run_id: str, name: str) -> Iterator[dict[str, Any]]:
    """Record one stage of a run in ``ops.stage_runs``: its start, end, outcome and the counts the caller puts
    in the yielded dict. A failure marks the stage and the run ``failed`` with the error, then re-raises; a
    gate's verdict (blocked, nothing to publish) marks the stage, and the run is closed by its recorder."""
    abandon_stale(con, run_id)
    start_run(con, run_id)
    host, pid = _process()
    con.execute(
        """INSERT OR REPLACE INTO ops.stage_runs (run_id, stage, started_at, status, host, pid)
           VALUES ($run_id, $stage, now(), 'running', $host, $pid)""",
        {"run_id": run_id, "stage": name, "host": host, "pid": pid},
    )
    counts: dict[str, Any] = {}
    started = time.monotonic()
    log.info("stage %s of run %s: started", name, run_id)
    try:
        yield counts
    except BaseException as exc:
        status = _stage_status(exc)
        error = f"{type(exc).__name__}: {exc}"[:4000]
        log.error("stage %s of run %s: %s after %.1f s", name, run_id, status, time.monotonic() - started)
        try:
            _finish_stage(con, run_id, name, status, error, counts)
            if status == "failed":
                fail_run(con, run_id, f"{name}: {error}")
        except duckdb.Error:  # the connection itself broke: the next run marks this one abandoned
            log.exception("could not record the failure of stage %s of run %s", name, run_id)
        raise
    _finish_stage(con, run_id, name, "done", None, counts)
    shown = ", ".join(f"{k} {v}" for k, v in counts.items() if isinstance(v, (int, float, str)))
    log.info("stage %s of run %s: done in %.1f s%s", name, run_id, time.monotonic() - started,
             f" ({shown})" if shown else "")  # fmt: skip


def _finish_stage(con: duckdb.DuckDBPyConnection, run_id: str, name: str, status: str, error: str | None,
                  counts: Mapping[str, Any]) -> None:  # fmt: skip
    if status != "done":
        with suppress(duckdb.Error):
            con.execute("ROLLBACK")  # a statement that failed inside a transaction left it open
    con.execute(
        """UPDATE ops.stage_runs SET finished_at = now(), status = $status, error = $error, counts = $counts
           WHERE run_id = $run_id AND stage = $stage""",
        {"status": status, "error": error, "counts": json.dumps(counts, default=str), "run_id": run_id,
         "stage": name},
    )  # fmt: skip
    con.execute("UPDATE ops.runs SET heartbeat_at = now() WHERE run_id = ?", [run_id])


def record_stage(con: duckdb.DuckDBPyConnection, run_id: str, name: str, started_at: str | None,
                 finished_at: str | None, counts: Mapping[str, Any]) -> None:  # fmt: skip
    """A stage that ran outside the warehouse (the fetch), recorded afterwards with its times and counts."""
    if not started_at:
        return
    host, pid = _process()
    con.execute(
        """INSERT OR REPLACE INTO ops.stage_runs (run_id, stage, started_at, finished_at, status, host, pid, counts)
           VALUES ($run_id, $stage, CAST($started AS TIMESTAMPTZ), CAST($finished AS TIMESTAMPTZ), 'done', $host,
                   $pid, $counts)""",
        {"run_id": run_id, "stage": name, "started": started_at, "finished": finished_at or started_at,
         "host": host, "pid": pid, "counts": json.dumps(counts, default=str)},
    )  # fmt: skip


def fail_run(con: duckdb.DuckDBPyConnection, run_id: str, error: str) -> None:
    con.execute(
        "UPDATE ops.runs SET finished_at = now(), status = 'failed', error = ? WHERE run_id = ?", [error, run_id]
    )


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, status: str, error: str | None = None,
               summary: Mapping[str, Any] | None = None) -> None:  # fmt: skip
    """Close the run with one of ``FINAL``; ``summary`` (JSON) replaces the run's summary when given."""
    if status not in FINAL:
        raise ValueError(f"run status {status!r} is not one of {FINAL}")
    con.execute(
        """UPDATE ops.runs SET finished_at = now(), status = $status, error = $error,
                  summary = coalesce($summary, summary) WHERE run_id = $run_id""",
        {"status": status, "error": error, "run_id": run_id,
         "summary": json.dumps(summary, default=str) if summary is not None else None},
    )  # fmt: skip


QUARANTINE_SPIKE_SHARE = 0.05
"""A source's quarantine spikes when at least this share of its records is quarantined in a run, at least
``QUARANTINE_SPIKE_MIN`` records, and at least twice its share in its previous run."""
QUARANTINE_SPIKE_MIN = 10


def quarantine_spikes(con: duckdb.DuckDBPyConnection, run_id: str) -> list[dict[str, Any]]:
    """The sources of the run whose quarantined share jumped (``QUARANTINE_SPIKE_SHARE``), for the digest."""
    rows = con.execute(
        """
        WITH normalized AS (
            SELECT r.run_id, r.source_id, r.parsed, r.quarantined, u.started_at,
                   r.quarantined / r.parsed AS share
            FROM ops.source_runs r JOIN ops.runs u USING (run_id)
            WHERE r.parsed > 0 AND r.quarantined IS NOT NULL
        ), tonight AS (SELECT * FROM normalized WHERE run_id = $run_id),
        before AS (
            SELECT n.source_id, n.share FROM normalized n JOIN tonight t USING (source_id)
            WHERE n.started_at < t.started_at
            QUALIFY row_number() OVER (PARTITION BY n.source_id ORDER BY n.started_at DESC) = 1
        )
        SELECT t.source_id, t.parsed, t.quarantined, t.share, b.share
        FROM tonight t LEFT JOIN before b USING (source_id)
        WHERE t.share >= $share AND t.quarantined >= $least AND t.share >= 2 * coalesce(b.share, 0)
        ORDER BY t.share DESC, t.source_id
        """,
        {"run_id": run_id, "share": QUARANTINE_SPIKE_SHARE, "least": QUARANTINE_SPIKE_MIN},
    ).fetchall()
    keys = ("source_id", "parsed", "quarantined", "share", "previous_share")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def run_record(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, Any] | None:
    """One row of ``ops.runs`` as a dict (``summary`` parsed), or ``None``."""
    rows = con.execute(
        "SELECT run_id, status, started_at, finished_at, release_id, error, summary FROM ops.runs WHERE run_id = ?",
        [run_id],
    ).fetchall()
    if not rows:
        return None
    keys = ("run_id", "status", "started_at", "finished_at", "release_id", "error", "summary")
    run = dict(zip(keys, rows[0], strict=True))
    run["summary"] = json.loads(run["summary"]) if run["summary"] else {}
    return run


def recent_runs(con: duckdb.DuckDBPyConnection, limit: int = 20) -> list[dict[str, Any]]:
    """The latest runs, newest first: status, times, each stage's duration and outcome, source counts, error."""
    rows = con.execute(
        """
        SELECT r.run_id, r.status, r.started_at, r.finished_at, r.release_id, r.error,
               json_extract(r.summary, '$.counts.meetings')::BIGINT AS meetings,
               (SELECT list({'stage': s.stage, 'status': s.status,
                             'seconds': epoch(coalesce(s.finished_at, now()) - s.started_at)} ORDER BY s.started_at)
                FROM ops.stage_runs s WHERE s.run_id = r.run_id) AS stages,
               (SELECT map_from_entries(list((status, n))) FROM
                   (SELECT status, count(*) AS n FROM ops.source_runs u WHERE u.run_id = r.run_id GROUP BY status))
                   AS sources
        FROM ops.runs r ORDER BY r.started_at DESC NULLS LAST LIMIT ?
        """,
        [limit],
    ).fetchall()
    keys = ("run_id", "status", "started_at", "finished_at", "release_id", "error", "meetings", "stages", "sources")
    return [dict(zip(keys, row, strict=True)) for row in rows]


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


def record_blocked(
    con: duckdb.DuckDBPyConnection, run_id: str, failed: list[dict[str, Any]], reason: str | None = None
) -> None:
    """The run ends ``blocked`` by a quality gate, with the checks that failed."""
    summary = {"run_id": run_id, "status": "blocked", "quality": {"status": "failed", "failed_checks": failed}}
    start_run(con, run_id)
    finish_run(con, run_id, "blocked", reason, summary)


def record_published(con: duckdb.DuckDBPyConnection, run_id: str, release_id: str, summary: dict[str, Any]) -> None:
    con.execute(
        "UPDATE ops.runs SET finished_at = now(), status = 'published', release_id = ?, summary = ?, error = NULL "
        "WHERE run_id = ?",
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
