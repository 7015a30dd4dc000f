"""What the DAG files use at parse time: Assets, pools, params, the schedule, the registry's ids, the failure
callback and the run id. Wiring only: importing it loads no business module and reads no database.

raw snapshots (a source was fetched) → build (load, normalize, resolve, quality) → release (published).
"""

from __future__ import annotations

from collections.abc import Mapping
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
    """The ``on_failure_callback`` of the DAGs' tasks; the alert module loads when a task fails, not at parse."""
    from clearinghouse.alerts import alert

    alert(context)


def run_id() -> str:
    """The running task's Airflow run id, path-safe: the run id every stage of one DAG run shares."""
    return safe_run_id(get_current_context()["run_id"])
