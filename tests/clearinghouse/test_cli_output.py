"""What an operator reads: CLI log lines with a timestamp and the run id (JSON for collectors), and `make run`
showing the pipeline's progress instead of Airflow's own log."""

from __future__ import annotations

import json
import logging

import pytest

from clearinghouse import cli, logs

AIRFLOW_OUTPUT = """\
2026-12-06T07:49:47.102111Z [info     ] [DAG TEST] starting task_id=list_sources map_index=-1 [airflow.sdk.definitions.dag] loc=dag.py:1501
2026-12-06T07:49:58.025335Z [info     ] Task started                   [airflow.api_fastapi.execution_api.routes.task_instances] correlation_id=01a2 hostname=vm loc=task_instances.py:226 previous_state=queued ti_id=01a2
2026-12-06T07:50:05.961549Z [info     ] nepa-aa GET https://aaintergroupnepa.org/robots.txt -> 200, 23 bytes, 0.00 s, attempt 1/4 [clearinghouse.http] loc=http.py:458
2026-12-06T07:50:08.557702Z [info     ] source nepa-aa: ok (480 records) [clearinghouse.fetch] loc=fetch.py:274
2026-12-06T07:50:40.000000Z [info     ] stage normalize of run manual__x: done in 3.1 s [clearinghouse.runs] loc=runs.py:150
2026-12-06T07:50:41.000000Z [info     ] Task instance state updated    [airflow.api_fastapi.execution_api.routes.task_instances] correlation_id=01a2 loc=task_instances.py:485 new_state=failed rows_affected=1 ti_id=01a2
2026-12-06T07:51:13.869571Z [info     ] DagRun Finished: dag_id=clearinghouse_nightly, run_id=manual__x, state=success, run_type=manual [airflow.models.dagrun.DagRun] loc=dagrun.py:1315
"""  # noqa: E501  (Airflow's lines as they are)


def test_make_run_shows_progress_per_source_and_stage_and_hides_airflow_chatter():
    shown = [line for line in map(cli.progress_line, AIRFLOW_OUTPUT.splitlines()) if line]
    assert shown == [
        "07:50:08 source nepa-aa: ok (480 records)",
        "07:50:40 stage normalize of run manual__x: done in 3.1 s",
        "07:50:41 a task ended failed (details in the log file)",
        "07:51:13 Airflow run finished: success",
    ]


@pytest.fixture
def cli_log(capsys):
    logs.set_run_id("cli__20261206T080000Z")
    yield lambda: capsys.readouterr().err
    logs.set_run_id("-")
    logging.getLogger().handlers[:] = [h for h in logging.getLogger().handlers if h.get_name() != logs.HANDLER]


def test_cli_lines_carry_a_timestamp_level_and_run_id(cli_log):
    logs.configure(logging.INFO, "text")
    logging.getLogger("clearinghouse.test").warning("source %s: failed", "nepa-aa")
    [line] = cli_log().splitlines()
    stamp, level, run, rest = line.split(" ", 3)
    assert stamp.endswith("Z") and stamp[10] == "T" and len(stamp) == 24
    assert (level, run, rest) == ("WARNING", "run=cli__20261206T080000Z", "clearinghouse.test: source nepa-aa: failed")


def test_json_log_format_for_collectors(cli_log):
    logs.configure(logging.INFO, "json")
    logging.getLogger("clearinghouse.test").info("stage %s done", "load")
    entry = json.loads(cli_log())
    assert entry["run_id"] == "cli__20261206T080000Z" and entry["level"] == "info"
    assert entry["logger"] == "clearinghouse.test" and entry["message"] == "stage load done"


def test_a_bad_command_line_is_an_error_not_nothing_to_publish():
    with pytest.raises(SystemExit) as caught:
        cli.main(["run", "--no-such-option"])
    assert caught.value.code == 1
