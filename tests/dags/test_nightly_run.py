"""The README's `make run` path: the nightly DAG once through real Airflow (`airflow dags test`), demo mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from extractors.registry import load_registry
from tests.conftest import REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def airflow_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    home = tmp_path_factory.mktemp("home")
    env = {**os.environ, "CLEARINGHOUSE_HOME": str(home), "AIRFLOW_HOME": str(home / "airflow")}
    manifests = []
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, "-m", "clearinghouse.cli", "airflow-run"], env=env, cwd=REPO,
            capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
        manifests.append(json.loads((home / "published" / "latest" / "manifest.json").read_text()))
    (home / "second-run-output.txt").write_text(result.stdout + result.stderr)  # what the terminal showed
    return home, manifests


def test_every_demo_source_publishes(airflow_runs):
    _, (first, _) = airflow_runs
    expected = {s.id: "link_only" if s.link_only else "ok" for s in load_registry(REPO / "sources" / "demo.yaml")}
    assert {s["id"]: s["status"] for s in first["sources"]} == expected
    assert first["counts"]["meetings"] >= 3000


def test_second_run_is_unchanged_with_same_ids(airflow_runs):
    home, (first, second) = airflow_runs
    assert {s["status"] for s in second["sources"]} == {"unchanged", "link_only"}
    assert second["counts"]["meetings"] == first["counts"]["meetings"]
    releases = sorted((home / "published" / "releases").iterdir())
    ids = []
    for release in (releases[0], releases[-1]):
        with duckdb.connect() as con:
            ids.append(con.sql(f"SELECT list(meeting_id ORDER BY meeting_id) FROM '{release}/meetings.parquet'")
                       .fetchall()[0][0])  # fmt: skip
    assert ids[0] == ids[1]


def test_airflow_ran_the_stage_tasks(airflow_runs):
    home, (first, _) = airflow_runs
    assert first["run_id"].startswith("manual__")
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        runs = con.sql("SELECT count(*) FROM ops.runs WHERE status = 'published'").fetchall()[0][0]
    assert runs == 2


def test_make_run_shows_progress_and_the_summary_not_airflows_log(airflow_runs):
    home, _ = airflow_runs
    output = (home / "second-run-output.txt").read_text()
    lines = output.splitlines()
    assert len(lines) < 150, f"{len(lines)} lines"
    assert any("source nepa-aa: unchanged" in line for line in lines)
    assert any("stage publish of run manual__" in line and "done in" in line for line in lines)
    logs = sorted((home / "logs").glob("airflow-run-*.log"))
    assert len(logs) == 2 and f"Airflow's log: {logs[-1]}" in " ".join(output.split())
    assert "[DAG TEST] starting task_id=publish" in logs[-1].read_text()


def test_every_stage_of_a_nightly_run_is_recorded_and_no_run_is_left_running(airflow_runs):
    home, _ = airflow_runs
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        assert con.sql("SELECT count(*) FROM ops.runs WHERE status <> 'published'").fetchall() == [(0,)]
        stages = con.sql("SELECT stage, count(*), bool_and(status = 'done') FROM ops.stage_runs GROUP BY 1 "
                         "ORDER BY min(started_at)").fetchall()  # fmt: skip
    assert stages == [(s, 2, True) for s in ("fetch", "load", "normalize", "resolve", "quality", "publish")]
