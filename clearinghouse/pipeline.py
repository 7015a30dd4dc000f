"""The stages of a nightly run, as plain functions: the CLI calls them in order, the DAG wires them as tasks.

fetch (parallel, raw files only) → load → normalize → quality → resolve → publish (single DuckDB writer).
Every stage takes the run id and is idempotent for it.
"""

from __future__ import annotations

import heapq
import json
import logging
import os
import re
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa

from clearinghouse.config import Settings, settings
from clearinghouse.paths import replay_day as checked_day
from clearinghouse.testing import crash_point
from extractors.archive import FetchRecord
from extractors.fetch import ParsePool, Stager, fetch_source, replay_source, stage_records
from extractors.http import PoliteClient
from extractors.registry import Source, load_registry, select
from warehouse import db

log = logging.getLogger("clearinghouse.pipeline")
STALE_AFTER = timedelta(days=7)
PARSE_POOL_MIN_SOURCES = 50
"""From this many sources a night parses in worker processes (``ParsePool``); fewer do not repay starting them."""


def new_run_id(now: datetime | None = None, prefix: str = "cli") -> str:
    return f"{prefix}__{(now or datetime.now(UTC)).strftime('%Y%m%dT%H%M%SZ')}"


def safe_run_id(run_id: str) -> str:
    """Airflow run ids contain ':' and '+': keep them readable but path-safe."""
    return re.sub(r"[^A-Za-z0-9_.@-]+", "_", run_id)


def _signature(path: Path) -> tuple[tuple[str, int, int], ...]:
    files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml")) if path.is_dir() else [path]
    return tuple((str(f), (st := f.stat()).st_mtime_ns, st.st_size) for f in files)


@lru_cache(maxsize=8)
def _validated(path: Path, signature: tuple[tuple[str, int, int], ...]) -> tuple[Source, ...]:
    return tuple(load_registry(path))


def load_sources(sources_path: Path | None = None) -> list[Source]:
    """Every registry entry, validated once per process while the registry files are unchanged.

    Each stage reads the registry, and validating a source takes milliseconds (time zones, recipes): at
    thousands of sources, validating it again in every stage cost each stage seconds.
    """
    path = Path(sources_path or settings().sources_path)
    if not path.exists():
        return load_registry(path)  # raises the registry's own error
    return list(_validated(path, _signature(path)))


def clear_registry_cache() -> None:
    """Validate the registry again on next use, as a new process would (benchmarks, tests)."""
    _validated.cache_clear()


def registry(sources_path: Path | None = None, only: Iterable[str] | None = None) -> list[Source]:
    return select(load_sources(sources_path), only)


def fetch_one(source: Source, cfg: Settings | None = None, replay_day: str | None = None) -> dict[str, Any]:
    """Fetch (or replay from the archive) one source; the result is small and JSON-able (an XCom)."""
    cfg = cfg or settings()
    if replay_day:
        return replay_source(source, cfg, checked_day(replay_day)).to_json()
    client = PoliteClient.from_settings(cfg)
    try:
        return fetch_source(source, cfg, client).to_json()
    finally:
        client.close()


def _origin(source: Source) -> str:
    parts = urlsplit(source.url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def fetch_all(
    sources: list[Source],
    cfg: Settings | None = None,
    replay_day: str | None = None,
    workers: int = 8,
    on_done: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Fetch sources concurrently with one shared polite client: up to ``workers`` hosts at once, one source
    at a time per host.

    The client serializes requests to a host (its delay must hold between them), so a second thread on a
    busy host would only wait while another host idles. The idle host with the most sources left goes
    next, so a big host starts early instead of being the run's tail. A replay has no hosts: every
    source is its own queue. With many sources, snapshots are parsed in one worker process per core.
    """
    cfg = cfg or settings()
    replay_day = checked_day(replay_day) if replay_day else None
    client = PoliteClient.from_settings(cfg)
    cores = os.cpu_count() or 1
    parse_pool = ParsePool(cores) if cores > 1 and len(sources) >= PARSE_POOL_MIN_SOURCES else None
    stage: Stager = parse_pool or stage_records
    results: list[dict[str, Any]] = []
    queues: dict[str, deque[Source]] = {}
    for source in sources:
        queues.setdefault(source.id if replay_day else _origin(source), deque()).append(source)
    idle = [(-len(queue), key) for key, queue in queues.items()]
    heapq.heapify(idle)

    def one(source: Source) -> dict[str, Any]:
        if replay_day:
            return replay_source(source, cfg, replay_day, stage=stage).to_json()
        return fetch_source(source, cfg, client, stage=stage).to_json()

    try:
        limit = max(1, min(workers, len(queues)))
        with ThreadPoolExecutor(max_workers=limit) as pool:
            running: dict[Future[dict[str, Any]], str] = {}
            while idle or running:
                while idle and len(running) < limit:
                    _, key = heapq.heappop(idle)
                    running[pool.submit(one, queues[key].popleft())] = key
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    key = running.pop(future)
                    if queues[key]:
                        heapq.heappush(idle, (-len(queues[key]), key))
                    result = future.result()
                    results.append(result)
                    if on_done:
                        on_done(result)
    finally:
        client.close()
        if parse_pool:
            parse_pool.close()
    return sorted(results, key=lambda r: r["source_id"])


def _start_run(con, run_id: str) -> None:
    con.execute(
        "INSERT INTO ops.runs (run_id, started_at, status) VALUES (?, now(), 'running') ON CONFLICT DO NOTHING",
        [run_id],
    )


def load_stage(run_id: str, fetches: list[dict[str, Any]], cfg: Settings | None = None) -> dict[str, Any]:
    from warehouse.load import load

    cfg = cfg or settings()
    records = [FetchRecord.from_json(f) for f in fetches]
    with db.connect(cfg.warehouse_path, memory_limit=cfg.duckdb_memory_limit) as con:
        crash_point("load")
        _start_run(con, run_id)
        load(con, run_id, cfg.raw_dir, records)
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
    return {r.source_id: r.status for r in records}


def normalize_stage(run_id: str, sources_path: Path | None = None, cfg: Settings | None = None) -> dict[str, Any]:
    from warehouse.stages import normalize_pending

    cfg = cfg or settings()
    sources = {s.id: s for s in load_sources(sources_path or cfg.sources_path)}
    with db.connect(cfg.warehouse_path, memory_limit=cfg.duckdb_memory_limit) as con:
        summary = normalize_pending(con, sources, run_id)
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
    return summary


def quality_stage(run_id: str, cfg: Settings | None = None) -> dict[str, Any]:
    """The core suite: passed or warning, or ``QualityGateFailed`` (the task fails, nothing is published)."""
    from warehouse.quality import QualityGateFailed, validate_core

    cfg = cfg or settings()
    with db.connect(cfg.warehouse_path, memory_limit=cfg.duckdb_memory_limit) as con:
        try:
            return validate_core(con, run_id)
        except QualityGateFailed as exc:
            _blocked(con, run_id, cfg, exc)
            raise


def _blocked(con, run_id: str, cfg: Settings, exc: Exception) -> None:
    """Record the blocked run with its failed checks and build the reports, so operators see why."""
    from warehouse.quality import build_reports

    failed = getattr(exc, "failed", [])
    summary = {"run_id": run_id, "status": "blocked", "quality": {"status": "failed", "failed_checks": failed}}
    _start_run(con, run_id)
    con.execute(
        "UPDATE ops.runs SET finished_at = now(), status = 'blocked', summary = ? WHERE run_id = ?",
        [json.dumps(summary, default=str), run_id],
    )
    build_reports(con, run_id, cfg.reports_dir, stale_after=STALE_AFTER)
    log.error("run %s blocked: %s", run_id, exc)


def resolve_stage(
    run_id: str,
    sources_path: Path | None = None,
    only: Iterable[str] | None = None,
    cfg: Settings | None = None,
) -> dict[str, Any]:
    """Resolve the current records into meetings, then record what changed (``transforms.history``).

    A listing missing from a healthy source stays for ``close_after_runs`` healthy runs before it closes.
    """
    from transforms import history
    from transforms.resolve import resolve

    cfg = cfg or settings()
    sources = [s for s in load_sources(sources_path or cfg.sources_path) if s.enabled or s.id in (only or [])]
    with db.connect(cfg.warehouse_path, memory_limit=cfg.duckdb_memory_limit) as con:
        crash_point("resolve")
        now = datetime.now(UTC)
        counts = resolve(con, [s.id for s in sources], now, priorities={s.id: s.priority for s in sources},
                         close_after=cfg.close_after_runs)  # fmt: skip
        return {**counts, "events": history.record(con, now)}


def _source_report(con, run_id: str, sources: list[Source]) -> list[dict[str, Any]]:
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
        if status in ("failed", "held") and last_good is not None and now - last_good > STALE_AFTER:
            status = "stale"
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


def publish_stage(run_id: str, sources_path: Path | None = None, cfg: Settings | None = None) -> dict[str, Any]:
    """Build the release, gate it (release suite + latest core checks) before ``latest`` moves, report."""
    from transforms.regions import load_regions
    from warehouse.publish import publish, release_id_for
    from warehouse.quality import QualityGateFailed, build_reports, quality_summary, validate_release

    cfg = cfg or settings()
    regions = load_regions(cfg.regions_path)
    sources = [s for s in load_sources(sources_path or cfg.sources_path) if s.enabled]
    with db.connect(cfg.warehouse_path, memory_limit=cfg.duckdb_memory_limit) as con:
        crash_point("publish")
        _start_run(con, run_id)
        started = con.execute("SELECT started_at FROM ops.runs WHERE run_id = ?", [run_id]).fetchall()[0][0]
        # The records behind this release: each enabled source's current data (also when unchanged tonight),
        # so parsed = normalized + quarantined holds in the manifest as it does per source.
        stage_counts = con.sql(
            """SELECT coalesce(sum(n.parsed), 0), coalesce(sum(n.normalized), 0), coalesce(sum(n.quarantined), 0)
               FROM ops.source_state s JOIN ops.normalized_fetches n ON n.fetch_id = s.current_fetch_id
               WHERE s.source_id IN (SELECT unnest($ids))""",
            params={"ids": [s.id for s in sources]},
        ).fetchall()[0]
        source_report = _source_report(con, run_id, sources)
        manifest_extra = {
            "run_id": run_id,
            "sources": source_report,
            "counts": {
                "parsed": stage_counts[0],
                "normalized": stage_counts[1],
                "quarantined": stage_counts[2],
            },
        }
        latest = cfg.published_dir / "latest" / "manifest.json"
        previous = json.loads(latest.read_text()) if latest.exists() else None

        # A region that had meetings in the previous release must still have some (a new one is not held to it).
        had = {r for r, n in ((previous or {}).get("counts", {}).get("regions") or {}).items() if n}
        watched = [r.id for r in regions if r.id in had]

        def gate(release_dir: Path) -> dict[str, Any]:
            validate_release(con, run_id, release_dir, previous, regions=watched)
            quality = quality_summary(con, run_id)
            if quality["status"] == "failed":  # the latest core checks failed and nothing re-ran them
                raise QualityGateFailed([f for f in quality["failed_checks"] if f["severity"] == "critical"])
            return quality

        release_id = release_id_for(cfg.published_dir, run_id, started)
        try:
            release = publish(con, cfg.published_dir, release_id, manifest_extra, keep=cfg.keep_releases, check=gate,
                              regions=regions)  # fmt: skip
        except QualityGateFailed as exc:
            _blocked(con, run_id, cfg, exc)
            raise
        summary = {
            "run_id": run_id,
            "release_id": release.release_id,
            "release_path": str(cfg.published_dir / "latest"),
            "sources": source_report,
            "counts": release.manifest["counts"],
            "quality": release.manifest["quality"],
        }
        con.execute(
            "UPDATE ops.runs SET finished_at = now(), status = 'published', release_id = ?, summary = ? "
            "WHERE run_id = ?",
            [release.release_id, json.dumps(summary, default=str), run_id],
        )
        summary["reports"] = build_reports(con, run_id, cfg.reports_dir, stale_after=STALE_AFTER)
    summary["delivery"] = deliver(cfg)
    return summary


def deliver(cfg: Settings | None = None) -> dict[str, Any]:
    """After ``latest`` moved (a publish or a rollback): rewrite ``releases.json``, then mirror to the bucket
    when one is configured. Reads only ``published/``, so it runs after the warehouse lock is released."""
    from warehouse.objectstore import BucketTarget, publish_to_bucket
    from warehouse.releases_index import write_releases_index

    cfg = cfg or settings()
    delivery: dict[str, Any] = {"index": str(write_releases_index(cfg.published_dir))}
    bucket = BucketTarget.from_env()
    if bucket:
        keys = publish_to_bucket(cfg.published_dir, bucket)
        delivery["bucket"] = {"bucket": bucket.bucket, "prefix": bucket.prefix, "objects_written": len(keys)}
    return delivery
