"""
### clearinghouse_maintenance

Weekly housekeeping: a full resolution pass and the core checks (every pair of records re-scored; nights
score only the changed ones, and a record this pass moves is logged as drift), then prunes raw snapshots
older than `CLEARINGHOUSE_KEEP_RAW_DAYS` (default 90; bodies a source's last good fetch still needs are
kept), keeps the last `CLEARINGHOUSE_KEEP_RELEASES` releases, drops staging rows of superseded fetches, and
compacts the warehouse by copying it into a fresh file swapped in atomically (in the `duckdb_writer` pool;
DuckDB's VACUUM does not shrink a file). A failed pass or failed checks fail the task after the housekeeping.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from clearinghouse.wiring import WRITER_POOL, on_failure


@dag(
    dag_id="clearinghouse_maintenance",
    schedule="0 5 * * 0",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["clearinghouse", "maintenance"],
    doc_md=__doc__,
    on_failure_callback=on_failure,
    default_args={"owner": "clearinghouse", "retries": 1, "retry_delay": timedelta(minutes=10)},
)
def clearinghouse_maintenance():
    @task(pool=WRITER_POOL)
    def housekeeping() -> dict:
        from clearinghouse.pipeline import weekly_maintenance

        return weekly_maintenance()

    housekeeping()


clearinghouse_maintenance()
