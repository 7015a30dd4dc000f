"""
### clearinghouse_source_&lt;id&gt;

One DAG per registry source, for operators: rerun one source, or replay one of its archived days
(`replay_date`), without touching the others. Its fetch updates the raw-snapshots Asset, which schedules
`clearinghouse_build` and then `clearinghouse_publish`: only what depends on the new snapshot runs.

The registry is read at parse time (a local YAML file, ids only; no network, no database) because the DAG
ids come from it.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, get_current_context, task

from clearinghouse.wiring import FETCH_POOL, RAW_SNAPSHOTS, on_failure, registry_ids, replay_date_param


def _source_dag(source_id: str):
    @dag(
        dag_id=f"clearinghouse_source_{source_id.replace('-', '_')}",
        schedule=None,
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        max_active_runs=1,
        tags=["clearinghouse", "source"],
        doc_md=__doc__,
        on_failure_callback=on_failure,
        default_args={"owner": "clearinghouse", "retries": 3, "retry_delay": timedelta(minutes=1)},
        params={"replay_date": replay_date_param()},
    )
    def source_dag():
        @task(pool=FETCH_POOL, retry_exponential_backoff=True, outlets=[RAW_SNAPSHOTS])
        def fetch() -> dict:
            from clearinghouse.pipeline import fetch_one, registry

            context = get_current_context()
            (source,) = registry(only=[source_id])
            record = fetch_one(source, replay_day=context["params"]["replay_date"])
            context["outlet_events"][RAW_SNAPSHOTS].extra = {"fetches": [record]}  # read by clearinghouse_build
            return record

        fetch()

    return source_dag()


for _id in registry_ids():
    _source_dag(_id)
