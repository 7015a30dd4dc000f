"""
### clearinghouse_publish

Scheduled by the build Asset: publishes a release from the current core layer and updates the release
Asset (downstream consumers can schedule on it).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from clearinghouse.wiring import BUILT, RELEASE, WRITER_POOL, on_failure, on_success, run_id, verdicts_are_final


@dag(
    dag_id="clearinghouse_publish",
    schedule=[BUILT],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["clearinghouse", "publish"],
    doc_md=__doc__,
    on_failure_callback=on_failure,
    on_success_callback=on_success,
    default_args={"owner": "clearinghouse", "retries": 1, "retry_delay": timedelta(minutes=2), "pool": WRITER_POOL},
)
def clearinghouse_publish():
    @task(outlets=[RELEASE])
    def publish() -> dict:
        from clearinghouse.pipeline import publish_stage

        with verdicts_are_final():
            return publish_stage(run_id())

    publish()


clearinghouse_publish()
