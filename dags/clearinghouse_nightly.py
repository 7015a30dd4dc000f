"""
### clearinghouse_nightly

Gathers every enabled source of the registry into one release:
`fetch` (one mapped task per batch of whole hosts, `CLEARINGHOUSE_FETCH_WORKERS` hosts fetched in parallel
inside each, one request at a time per host; raw files only, pool `clearinghouse_fetch`) → `load` → `normalize`
(staging suite: bad records quarantined by expectation) → `resolve` → `quality` (core suite: a critical failure
stops here) → `publish` (release suite on the built files before `latest` moves; updates the release Asset).
Every task after `fetch` writes the warehouse and runs in the one-slot `duckdb_writer` pool.

A source that fails keeps its last good data and is reported in the release manifest and the night's alert
digest; it does not fail the run. The run fails (and the digest says why) when there is nothing to publish
(every source failed or was held), when a gate blocks the release (a critical quality check, or the meeting
count falling more than `CLEARINGHOUSE_MAX_RELEASE_DROP` below the previous release), or on an error; `latest`
is kept. One digest per run, from the DAG's callbacks, never one per failed task.

Params: `only` (source ids to run), `replay_date` (YYYY-MM-DD: re-parse that day's archived snapshots instead
of fetching). Schedule: `CLEARINGHOUSE_SCHEDULE` (cron, default nightly at 03:00 UTC; `manual` for runs
triggered only by an operator or an external scheduler).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from clearinghouse.wiring import (
    FETCH_POOL,
    RELEASE,
    WRITER_POOL,
    check_map_length,
    nightly_schedule,
    on_failure,
    on_success,
    registry_ids,
    replay_date_param,
    run_id,
    verdicts_are_final,
)


@dag(
    dag_id="clearinghouse_nightly",
    schedule=nightly_schedule(),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["clearinghouse", "nightly"],
    doc_md=__doc__,
    on_failure_callback=on_failure,
    on_success_callback=on_success,
    default_args={
        "owner": "clearinghouse",
        "retries": 1,
        "retry_delay": timedelta(minutes=2),
        "pool": WRITER_POOL,
    },
    params={
        "only": Param([], type="array", description="Run only these source ids (empty: every enabled source)."),
        "replay_date": replay_date_param(),
    },
)
def clearinghouse_nightly():
    check_map_length(len(registry_ids()))

    @task(pool="default_pool")
    def list_sources() -> list[list[str]]:
        from clearinghouse.pipeline import fetch_batches, registry

        return fetch_batches(registry(only=get_current_context()["params"]["only"] or None))

    @task(
        pool=FETCH_POOL,
        retries=3,
        retry_delay=timedelta(minutes=1),
        retry_exponential_backoff=True,
        map_index_template="{{ batch }}",
    )
    def fetch(source_ids: list[str]) -> list[dict]:
        from clearinghouse.pipeline import fetch_all, registry

        context = get_current_context()
        more = f" +{len(source_ids) - 1}" if len(source_ids) > 1 else ""
        context["batch"] = source_ids[0] + more  # type: ignore[typeddict-unknown-key]  (names the mapped task)
        return fetch_all(registry(only=source_ids), replay_day=context["params"]["replay_date"])

    @task
    def load(batches: list[list[dict]]) -> dict:
        from clearinghouse.pipeline import load_stage

        return load_stage(run_id(), [fetched for batch in batches for fetched in batch])

    @task
    def normalize() -> dict:
        from clearinghouse.pipeline import normalize_stage

        return normalize_stage(run_id())

    @task
    def resolve() -> dict:
        from clearinghouse.pipeline import resolve_stage

        params = get_current_context()["params"]
        return resolve_stage(run_id(), only=params["only"] or None, replay=bool(params["replay_date"]))

    @task
    def quality() -> dict:
        from clearinghouse.pipeline import quality_stage

        with verdicts_are_final():
            return quality_stage(run_id())

    @task(outlets=[RELEASE])
    def publish() -> dict:
        from clearinghouse.pipeline import publish_stage

        with verdicts_are_final():
            return publish_stage(run_id())

    fetched = fetch.expand(source_ids=list_sources())
    load(fetched) >> normalize() >> resolve() >> quality() >> publish()


clearinghouse_nightly()
