"""What the DAG files use at parse time: Assets, pools, params, the schedule, the registry's ids, the failure
callback and the run id. Wiring only: importing it loads no business module and reads no database.

raw snapshots (a source was fetched) → build (load, normalize, resolve, quality) → release (published).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import yaml
from airflow.sdk import Asset, Param, get_current_context

from foundation.ids import safe_run_id
from foundation.settings import registry_files, settings

RAW_SNAPSHOTS = Asset("clearinghouse://raw", extra={"what": "new raw snapshots of one or more sources"})
BUILT = Asset("clearinghouse://warehouse/core", extra={"what": "core layer rebuilt and quality-checked"})
RELEASE = Asset("clearinghouse://published/latest", extra={"what": "the latest published release"})

FETCH_POOL = "clearinghouse_fetch"
"""Bounds concurrent fetches across workers; per-host politeness is the client's host lease."""
WRITER_POOL = "duckdb_writer"
"""One slot: DuckDB allows one writer process, so every task that writes the warehouse queues here."""
POOLS = {FETCH_POOL: (8, "concurrent source fetches"), WRITER_POOL: (1, "single writer of warehouse.duckdb")}


def ensure_pools() -> list[str]:
    """Create or update the pools the DAGs use (``clearinghouse airflow-pools``; needs the metadata DB)."""
    from airflow.models.pool import Pool

    for name, (slots, description) in POOLS.items():
        Pool.create_or_update_pool(name=name, slots=slots, description=description, include_deferred=False)
    return sorted(POOLS)


def replay_date_param() -> Param:
    """``replay_date`` of the DAGs that can replay the raw archive: a day written YYYY-MM-DD, or none. Airflow
    refuses anything else when the run is triggered; ``pipeline.fetch_one`` checks it again before any path
    is built from it."""
    return Param(None, type=["null", "string"], pattern=r"^\d{4}-\d{2}-\d{2}$",
                 description="YYYY-MM-DD: re-parse that day's archived snapshots instead of fetching.")  # fmt: skip


def nightly_schedule() -> str | None:
    """``CLEARINGHOUSE_SCHEDULE`` as Airflow takes it: a cron expression, or None for ``manual``."""
    schedule = settings().schedule
    return None if schedule == "manual" else schedule


def registry_ids() -> list[str]:
    """The source ids of the registry, read from its YAML without validating it: the DAG ids of the per-source
    DAGs come from them, so this runs when the DAG file is parsed (local files only; no network, no database)."""
    ids = []
    for file in registry_files(settings().sources_path):
        doc = yaml.safe_load(file.read_text()) or {}
        ids += [s["id"] for s in doc.get("sources", []) if isinstance(s, dict) and "id" in s]
    return ids


def on_failure(context: Mapping[str, Any]) -> None:
    """The DAG-level ``on_failure_callback`` of every DAG: one alert digest per failed DAG run (never one per
    failed task, however many mapped fetches failed). The alert module loads when it fires, not at parse."""
    from clearinghouse.alerts import on_run_end

    on_run_end(context, failed=True)


def on_success(context: Mapping[str, Any]) -> None:
    """The DAG-level ``on_success_callback`` of the DAGs that end a run: a digest when sources failed, were
    held or went stale, or quarantine spiked (a clean night sends nothing)."""
    from clearinghouse.alerts import on_run_end

    on_run_end(context, failed=False)


@contextmanager
def verdicts_are_final() -> Iterator[None]:
    """Inside a task: a gate's verdict (nothing to publish, release blocked) fails the task without retries;
    rerunning the stage cannot change it, and the retry delay would only hold back the alert."""
    from airflow.sdk.exceptions import AirflowFailException

    from warehouse.errors import NothingToPublish, QualityGateFailed

    try:
        yield
    except (NothingToPublish, QualityGateFailed) as exc:
        raise AirflowFailException(str(exc)) from exc


def check_map_length(count: int, what: str = "registry sources") -> None:
    """At DAG parse: the nightly maps one fetch per source, and Airflow refuses to map more than
    ``[core] max_map_length`` (default 1024) at run time; fail the parse with a clear error instead."""
    from airflow.configuration import conf

    limit = conf.getint("core", "max_map_length", fallback=1024)
    if count > limit:
        raise ValueError(
            f"the registry has {count} {what} but Airflow maps at most {limit} tasks ([core] max_map_length); "
            f"set AIRFLOW__CORE__MAX_MAP_LENGTH to at least {count} (docker-compose.yaml sets it)"
        )


def run_id() -> str:
    """The running task's Airflow run id, path-safe: the run id every stage of one DAG run shares."""
    return safe_run_id(get_current_context()["run_id"])
