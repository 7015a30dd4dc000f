"""The stages of a nightly run, as plain functions: the CLI calls them in order, the DAGs wire them as tasks.

fetch (parallel, raw files only) → load → normalize → resolve → quality → publish (single DuckDB writer).
Every stage takes the run id and is idempotent for it. The stages orchestrate; what they write is recorded
by ``warehouse.runs`` (each stage's start, end and outcome in ``ops.stage_runs``), and a release is
delivered by ``warehouse.delivery``. How a run ends maps to the exit codes of ``clearinghouse run``:
published (0), nothing to publish (2), blocked by a gate (3), failed (1).
"""

from __future__ import annotations

import heapq
import json
import logging
import os
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from extractors.archive import FetchRecord, commit_fetch_records
from extractors.fetch import ParsePool, SnapshotParser, fetch_source, parse_to_records_file, replay_source
from extractors.http import PoliteClient, host_of
from extractors.registry import cached_registry, select
from foundation import ids
from foundation.paths import replay_day as checked_day
from foundation.settings import Settings, settings
from foundation.source import Source
from warehouse import db, runs
from warehouse.errors import NothingToPublish, QualityGateFailed, ReleaseBlocked

log = logging.getLogger("clearinghouse.pipeline")
PARSE_POOL_MIN_SOURCES = 50
"""From this many sources a night parses in worker processes (``ParsePool``); fewer do not repay starting them."""


def registry(sources_path: Path | None = None, only: Iterable[str] | None = None) -> list[Source]:
    """The sources a run covers: every enabled one, or exactly the ``only`` ids."""
    return select(cached_registry(sources_path), only)


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
        commit_fetch_records()


def _by_host(sources: Iterable[Source]) -> dict[str, list[Source]]:
    """Sources grouped by the host their politeness counts against (``extractors.http.host_of``)."""
    hosts: dict[str, list[Source]] = {}
    for source in sources:
        hosts.setdefault(host_of(source.url), []).append(source)
    return hosts


def fetch_batches(sources: list[Source], hosts_per_batch: int | None = None) -> list[list[str]]:
    """Source ids in batches of whole hosts, at most ``hosts_per_batch`` hosts each (default
    ``CLEARINGHOUSE_FETCH_WORKERS``), the busiest hosts first.

    The nightly DAG maps one fetch task over each batch, and the task fetches its hosts in parallel
    (``fetch_all``). A host is never split between batches, so two tasks never queue on one host's lease
    while a worker slot idles; and the batches stay far below Airflow's ``max_map_length`` (1024) with
    thousands of sources. Under ``airflow dags test`` (``make run``), which runs mapped tasks one after
    another, a night costs the sum of the batches' slowest hosts instead of the sum of every source.
    """
    hosts = sorted(_by_host(sources).values(), key=len, reverse=True)
    size = max(1, hosts_per_batch or settings().fetch_workers)
    return [[s.id for host in hosts[i : i + size] for s in host] for i in range(0, len(hosts), size)]


def fetch_all(
    sources: list[Source],
    cfg: Settings | None = None,
    replay_day: str | None = None,
    workers: int | None = None,
    on_done: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Fetch sources concurrently with one shared polite client: up to ``workers`` hosts at once (default
    ``CLEARINGHOUSE_FETCH_WORKERS``), one source at a time per host.

    The client serializes requests to a host (its delay must hold between them), so a second thread on a
    busy host would only wait while another host idles. The idle host with the most sources left goes
    next, so a big host starts early instead of being the run's tail. A replay has no hosts: every
    source is its own queue. With many sources, snapshots are parsed in one worker process per core.
    """
    cfg = cfg or settings()
    workers = workers or cfg.fetch_workers
    replay_day = checked_day(replay_day) if replay_day else None
    client = PoliteClient.from_settings(cfg)
    cores = os.cpu_count() or 1
    parse_pool = ParsePool(cores) if cores > 1 and len(sources) >= PARSE_POOL_MIN_SOURCES else None
    parse: SnapshotParser = parse_pool or parse_to_records_file
    results: list[dict[str, Any]] = []
    groups = {s.id: [s] for s in sources} if replay_day else _by_host(sources)
    queues = {key: deque(group) for key, group in groups.items()}
    idle = [(-len(queue), key) for key, queue in queues.items()]
    heapq.heapify(idle)

    def one(source: Source) -> dict[str, Any]:
        if replay_day:
            return replay_source(source, cfg, replay_day, parse=parse).to_json()
        return fetch_source(source, cfg, client, parse=parse).to_json()

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
        commit_fetch_records()  # the records of unchanged sources, in one group commit
    return sorted(results, key=lambda r: r["source_id"])


def load_stage(run_id: str, fetches: list[dict[str, Any]], cfg: Settings | None = None) -> dict[str, Any]:
    from warehouse.load import load

    cfg = cfg or settings()
    records = [FetchRecord.from_json(f) for f in fetches]
    statuses = {r.source_id: r.status for r in records}
    with db.connect(cfg.warehouse_path, memory_limit=cfg.duckdb_memory_limit) as con:
        with runs.stage(con, run_id, "load") as counts:
            load(con, run_id, cfg.raw_dir, records)
            runs.record_fetches(con, run_id, records)
            counts.update(_tally(statuses.values()))
        runs.record_stage(con, run_id, "fetch", min((r.started_at for r in records), default=None),
                          max((r.finished_at or r.started_at for r in records), default=None),
                          counts)  # fmt: skip
    return statuses


def _tally(statuses: Iterable[str]) -> dict[str, int]:
    tally: dict[str, int] = {}
    for status in statuses:
        tally[status] = tally.get(status, 0) + 1
    return tally


def normalize_stage(run_id: str, sources_path: Path | None = None, cfg: Settings | None = None) -> dict[str, Any]:
    from warehouse.normalize import normalize_pending

    cfg = cfg or settings()
    sources = {s.id: s for s in cached_registry(sources_path or cfg.sources_path)}
    with (
        db.connect(cfg.warehouse_path, memory_limit=cfg.duckdb_memory_limit) as con,
        runs.stage(con, run_id, "normalize") as counts,
    ):
        summary = normalize_pending(con, sources, run_id)
        runs.record_normalized(con, run_id, summary)
        counts.update({k: sum(c[k] for c in summary.values()) for k in ("normalized", "quarantined")})
    return summary


def resolve_stage(
    run_id: str,
    sources_path: Path | None = None,
    only: Iterable[str] | None = None,
    cfg: Settings | None = None,
    replay: bool = False,
    full: bool = False,
) -> dict[str, Any]:
    """Resolve the current records into meetings, then record what changed (``transforms.history``).

    A listing missing from a healthy source stays for ``close_after_runs`` healthy runs before it closes.
    ``replay``: the run re-parsed an archived day; it republishes, but never advances the absence counters
    or closes a meeting. ``full``: re-score every pair of records, not only those with a record that changed
    (the weekly maintenance and ``clearinghouse resolve --full``).
    """
    from transforms import history
    from transforms.resolve import resolve

    cfg = cfg or settings()
    sources = [s for s in cached_registry(sources_path or cfg.sources_path) if s.enabled or s.id in (only or [])]
    with db.connect(cfg.warehouse_path, memory_limit=cfg.duckdb_memory_limit) as con:
        with runs.stage(con, run_id, "resolve") as recorded:
            now = datetime.now(UTC)
            counts = resolve(con, [s.id for s in sources], now, priorities={s.id: s.priority for s in sources},
                             close_after=cfg.close_after_runs, replay=replay, full=full)  # fmt: skip
            result = {**counts, "events": history.record(con, now)}
            recorded.update(result)
        return result


def quality_stage(run_id: str, cfg: Settings | None = None, ends_run: bool = False) -> dict[str, Any]:
    """The core suite: passed or warning, or ``QualityGateFailed`` (the task fails, nothing is published).

    ``ends_run``: the run stops here (``clearinghouse_build``; another run publishes) and is closed ``built``.
    """
    from warehouse.quality import validate_core

    cfg = cfg or settings()
    with db.connect(cfg.warehouse_path, memory_limit=cfg.duckdb_memory_limit) as con:
        with runs.stage(con, run_id, "quality") as counts:
            try:
                result = validate_core(con, run_id)
            except QualityGateFailed as exc:
                _blocked(con, run_id, cfg, exc)
                raise
            counts["status"] = result.get("status")
        return result


def _blocked(con: duckdb.DuckDBPyConnection, run_id: str, cfg: Settings, exc: Exception) -> None:
    """Record the blocked run with its failed checks and build the reports, so operators see why."""
    from warehouse.quality import build_reports

    runs.record_blocked(con, run_id, getattr(exc, "failed", []), str(exc))
    build_reports(con, run_id, cfg.reports_dir)
    log.error("run %s blocked: %s", run_id, exc)


def publish_stage(
    run_id: str, sources_path: Path | None = None, cfg: Settings | None = None, accept_drop: bool = False
) -> dict[str, Any]:
    """Gate the release (``warehouse.release_gate``), build it, check it (release suite + latest core checks)
    before ``latest`` moves, report. ``NothingToPublish`` or ``ReleaseBlocked`` leave ``latest`` untouched;
    ``accept_drop`` lets an operator publish a drop in meetings the gate would block."""
    cfg = cfg or settings()
    with (
        db.connect(cfg.warehouse_path, memory_limit=cfg.duckdb_memory_limit) as con,
        runs.stage(con, run_id, "publish") as counts,
    ):
        summary = _publish(con, run_id, sources_path, cfg, accept_drop)
        counts.update(meetings=summary["counts"].get("meetings"), release_id=summary["release_id"])
    from warehouse.delivery import deliver

    summary["delivery"] = deliver(cfg)
    return summary


def _publish(
    con: duckdb.DuckDBPyConnection, run_id: str, sources_path: Path | None, cfg: Settings, accept_drop: bool
) -> dict[str, Any]:
    from foundation.fellowship import load_directory
    from transforms.regions import load_regions, load_source_labels
    from warehouse import fellowships, release_gate
    from warehouse.publish import publish, release_id_for
    from warehouse.quality import build_reports, quality_summary, validate_release

    regions = load_regions(cfg.regions_path)
    registry_entries = cached_registry(sources_path or cfg.sources_path)
    sources = [s for s in registry_entries if s.enabled]
    fellowships.sync(con, load_directory(cfg.fellowships_path), registry_entries)
    started = runs.run_started_at(con, run_id)
    source_report = runs.source_statuses(con, run_id, sources)
    manifest_extra = {
        "run_id": run_id,
        "sources": source_report,
        "counts": runs.current_record_counts(con, [s.id for s in sources]),
    }
    latest = cfg.published_dir / "latest" / "manifest.json"
    previous = json.loads(latest.read_text()) if latest.exists() else None
    meetings = con.sql("SELECT count(*) FROM core.meetings WHERE status = 'active'").fetchall()[0][0]
    fetched = con.execute("SELECT count(*) FROM ops.source_runs WHERE run_id = ?", [run_id]).fetchall()[0][0] > 0
    try:
        verdict = release_gate.check(source_report, meetings, previous, cfg.max_release_drop, accept_drop,
                                     fetched_this_run=fetched)  # fmt: skip
    except NothingToPublish as exc:
        runs.finish_run(con, run_id, "nothing_to_publish", str(exc),
                        {"run_id": run_id, "status": "nothing_to_publish", "sources": source_report,
                         "reason": str(exc)})  # fmt: skip
        build_reports(con, run_id, cfg.reports_dir)
        log.error("run %s: %s", run_id, exc)
        raise
    except ReleaseBlocked as exc:
        release_gate.record(con, run_id, exc)
        _blocked(con, run_id, cfg, exc)
        raise
    max_drop = None if verdict["status"] == "accepted" else cfg.max_release_drop

    # A region that had meetings in the previous release must still have some (a new one is not held to it).
    had = {r for r, n in ((previous or {}).get("counts", {}).get("regions") or {}).items() if n}
    watched = [r.id for r in regions if r.id in had]

    def gate(release_dir: Path) -> dict[str, Any]:
        validate_release(con, run_id, release_dir, previous, regions=watched, max_drop=max_drop)
        quality = quality_summary(con, run_id)
        if quality["status"] == "failed":  # the latest core checks failed and nothing re-ran them
            raise QualityGateFailed([f for f in quality["failed_checks"] if f["severity"] == "critical"])
        return quality

    release_id = release_id_for(cfg.published_dir, run_id, started)
    try:
        release = publish(con, cfg.published_dir, release_id, manifest_extra, keep=cfg.keep_releases, check=gate,
                          regions=regions, source_labels=load_source_labels(cfg.regions_path),
                          region_formats=cfg.region_formats)  # fmt: skip
    except QualityGateFailed as exc:
        _blocked(con, run_id, cfg, exc)
        raise
    summary = {
        "run_id": run_id,
        "status": "published",
        "release_id": release.release_id,
        "release_path": str(cfg.published_dir / "latest"),
        "sources": source_report,
        "counts": release.manifest["counts"],
        "quality": release.manifest["quality"],
        "gate": verdict,
    }
    runs.record_published(con, run_id, release.release_id, summary)
    summary["reports"] = build_reports(con, run_id, cfg.reports_dir)
    return summary


def weekly_maintenance(cfg: Settings | None = None) -> dict[str, Any]:
    """Weekly maintenance (the ``clearinghouse_maintenance`` DAG): a full resolution pass and the core checks,
    then prune old raw days and releases, drop superseded staging rows, compact the warehouse (a fresh copy
    swapped in).

    Nights re-score only the pairs of records that changed; the full pass re-scores every pair. When no fetch
    arrived since the last night, a record it moves to another meeting is drift of the incremental passes: it
    is corrected here (the next night publishes it) and logged as a warning. A failed pass or failed checks
    fail the task (an alert), after the housekeeping.
    """
    from warehouse.maintenance import run_maintenance

    cfg = cfg or settings()
    result: dict[str, Any] = {}
    failure: Exception | None = None
    if cfg.warehouse_path.exists():
        run_id = ids.new_run_id(prefix="maintenance")
        try:
            resolved = resolve_stage(run_id, cfg=cfg, full=True)
            quality_stage(run_id, cfg=cfg, ends_run=True)
        except Exception as exc:
            log.error("the weekly full resolution pass failed: %s; the housekeeping goes on", exc)
            failure = exc
        else:
            moved = sum(resolved[k] for k in ("merges", "splits", "moves"))
            if moved and not resolved["observed"]:
                log.warning("the weekly full resolution pass moved records of %d meetings (%d merges, %d splits, "
                            "%d moves): incremental nights had drifted; the next night publishes the correction",
                            moved, resolved["merges"], resolved["splits"], resolved["moves"])  # fmt: skip
            keys = ("records", "observed", "meetings", "merges", "splits", "moves")
            result["full_resolution"] = {k: resolved[k] for k in keys}
    result |= run_maintenance(cfg.home, cfg.warehouse_path, keep_raw_days=cfg.keep_raw_days,
                              keep_releases=cfg.keep_releases, today=datetime.now(UTC).date(),
                              memory_limit=cfg.duckdb_memory_limit, close_after=cfg.close_after_runs)  # fmt: skip
    if failure is not None:
        raise failure
    return result
