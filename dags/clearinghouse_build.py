"""
### clearinghouse_build

Scheduled by the raw-snapshots Asset (a `clearinghouse_source_<id>` run): loads the new fetches, normalizes,
resolves and checks quality, then updates the build Asset that schedules `clearinghouse_publish`. Its run
ends `built` in `ops.runs` (`clearinghouse_publish` publishes under its own run id).
Every task writes the warehouse, so all run in the one-slot `duckdb_writer` pool.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, get_current_context, task

from clearinghouse.wiring import BUILT, RAW_SNAPSHOTS, WRITER_POOL, on_failure, run_id, verdicts_are_final


@dag(
    dag_id="clearinghouse_build",
    schedule=[RAW_SNAPSHOTS],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["clearinghouse", "build"],
    doc_md=__doc__,
    on_failure_callback=on_failure,
    default_args={"owner": "clearinghouse", "retries": 1, "retry_delay": timedelta(minutes=2), "pool": WRITER_POOL},
)
def clearinghouse_build():
    @task
    def load() -> dict:
        from clearinghouse.pipeline import load_stage

        events = get_current_context()["triggering_asset_events"][RAW_SNAPSHOTS]
        fetches = [f for event in events for f in (event.extra or {}).get("fetches", [])]
        return load_stage(run_id(), fetches)

    @task
    def normalize() -> dict:
        from clearinghouse.pipeline import normalize_stage

        return normalize_stage(run_id())

    @task
    def resolve() -> dict:
        from clearinghouse.pipeline import resolve_stage

        return resolve_stage(run_id())

    @task(outlets=[BUILT])
    def quality() -> dict:
        from clearinghouse.pipeline import quality_stage

        with verdicts_are_final():
            return quality_stage(run_id(), ends_run=True)

    load() >> normalize() >> resolve() >> quality()


clearinghouse_build()
