"""The nightly DAG under a real scheduler: PostgreSQL metadata DB, Redis broker, a real Celery worker.

Starts `airflow api-server`, `scheduler`, `dag-processor` and `celery worker` on loopback, triggers
clearinghouse_nightly in demo mode, waits for success, then stops every process it started by its PID.
Skipped, loudly, when PostgreSQL (127.0.0.1:5432) or Redis (127.0.0.1:6379) is unreachable.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
import warnings
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

pytestmark = [pytest.mark.slow, pytest.mark.services]
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
DEADLINE_S = 420


def _reachable() -> str | None:
    try:
        import psycopg2

        psycopg2.connect(connect_timeout=3, **PG).close()
    except Exception as exc:
        return f"PostgreSQL on 127.0.0.1:5432 is unreachable ({exc})"
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=3) as s:
            s.sendall(b"PING\r\n")
            if not s.recv(16).startswith(b"+PONG"):
                return "Redis on 127.0.0.1:6379 did not answer PING"
    except OSError as exc:
        return f"Redis on 127.0.0.1:6379 is unreachable ({exc})"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sql(dbname: str, query: str, params: tuple = ()) -> list[tuple]:
    import psycopg2

    con = psycopg2.connect(**{**PG, "dbname": dbname})
    con.autocommit = True
    try:
        with con.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall() if cur.description else []
    finally:
        con.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    reason = _reachable()
    if reason:
        warnings.warn(f"SKIPPING the scheduler/Celery integration test: {reason}", stacklevel=1)
        pytest.skip(f"scheduler/Celery integration test needs PostgreSQL and Redis: {reason}")
    from clearinghouse import demo

    root = tmp_path_factory.mktemp("scheduler")
    dbname = f"clearinghouse_af_{uuid.uuid4().hex[:8]}"
    _sql("postgres", f"CREATE DATABASE {dbname}")
    registry = root / "sources.yaml"
    demo_sources = yaml.safe_load((REPO / "sources" / "demo.yaml").read_text())["sources"]
    registry.write_text(yaml.safe_dump({"sources": [s for s in demo_sources if s["id"] in ("gny-na", "sussex-aa")]}))
    server, demo_url = demo.start()
    port = _free_port()
    pg_url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{dbname}"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(root / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": pg_url,
        "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:6379/{int(uuid.uuid4().int % 14) + 1}",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://postgres@127.0.0.1:5432/{dbname}",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API_AUTH__JWT_SECRET": uuid.uuid4().hex,
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "CLEARINGHOUSE_HOME": str(root / "home"),
        "CLEARINGHOUSE_SOURCES": str(registry),
        "CLEARINGHOUSE_DEMO_URL": demo_url,
        "CLEARINGHOUSE_MIN_DELAY_S": "0",
        "CLEARINGHOUSE_SCHEDULE": "manual",  # no catch-up run racing the one this test triggers
    }
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    subprocess.run([sys.executable, "-m", "clearinghouse.cli", "airflow-pools"], env=env, check=True, timeout=120)
    procs: list[subprocess.Popen] = []
    logs = root / "logs"
    logs.mkdir()
    for name, args in (("api-server", ["api-server", "--port", str(port)]), ("scheduler", ["scheduler"]),
                       ("dag-processor", ["dag-processor"]), ("worker", ["celery", "worker"])):  # fmt: skip
        log = open(logs / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process below)
        procs.append(subprocess.Popen([AIRFLOW, *args], env=env, stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True))  # fmt: skip
    try:
        yield {"env": env, "db": dbname, "home": root / "home", "logs": logs, "procs": procs}
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=10)
        server.shutdown()
        _sql("postgres", f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")


def _wait(predicate, what: str, cluster: dict, timeout: float = DEADLINE_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        dead = [p.args[1] for p in cluster["procs"] if p.poll() is not None]
        assert not dead, f"airflow processes died: {dead}; logs in {cluster['logs']}"
        time.sleep(2)
    tails = {f.name: f.read_text(errors="replace")[-1500:] for f in cluster["logs"].iterdir()}
    raise AssertionError(f"timed out waiting for {what}; log tails: {json.dumps(tails, indent=1)}")


@pytest.fixture(scope="module")
def nightly_run(cluster: dict) -> dict:
    db, env = cluster["db"], cluster["env"]
    _wait(lambda: _sql(db, "SELECT 1 FROM serialized_dag WHERE dag_id = 'clearinghouse_nightly'"), "DAG parse",
          cluster)  # fmt: skip
    subprocess.run([AIRFLOW, "dags", "unpause", "clearinghouse_nightly"], env=env, check=True, capture_output=True)
    subprocess.run([AIRFLOW, "dags", "trigger", "clearinghouse_nightly", "--run-id", "scheduler_test"], env=env,
                   check=True, capture_output=True)  # fmt: skip

    def finished():
        rows = _sql(db, "SELECT state FROM dag_run WHERE dag_id = 'clearinghouse_nightly' AND run_id = %s",
                    ("scheduler_test",))  # fmt: skip
        return rows and rows[0][0] in ("success", "failed") and rows[0][0]

    return {"state": _wait(finished, "clearinghouse_nightly to finish", cluster), **cluster}


def test_nightly_succeeds_under_the_scheduler(nightly_run: dict):
    assert nightly_run["state"] == "success", f"run failed; logs in {nightly_run['logs']}"


def test_tasks_ran_on_the_celery_worker(nightly_run: dict):
    rows = _sql(nightly_run["db"], "SELECT task_id, state, executor, queued_by_job_id FROM task_instance "
                "WHERE dag_id = 'clearinghouse_nightly' AND run_id = 'scheduler_test'")  # fmt: skip
    assert {r[0] for r in rows} == {"list_sources", "fetch", "load", "normalize", "quality", "resolve", "publish"}
    assert all(r[1] == "success" for r in rows), rows
    worker_log = (nightly_run["logs"] / "worker.log").read_text(errors="replace")
    assert "clearinghouse_nightly" in worker_log, "the Celery worker never received a task"


def test_release_published_by_that_run(nightly_run: dict):
    manifest = json.loads((nightly_run["home"] / "published" / "latest" / "manifest.json").read_text())
    assert manifest["run_id"] == "scheduler_test"
    assert {s["id"]: s["status"] for s in manifest["sources"]} == {"gny-na": "ok", "sussex-aa": "ok"}


def test_every_started_process_is_stopped(cluster: dict, nightly_run: dict):
    """Runs last in the module: the fixture teardown already ran for nothing yet, so stop and check here."""
    for p in cluster["procs"]:
        os.killpg(p.pid, signal.SIGTERM)
    for p in cluster["procs"]:
        p.wait(timeout=60)
        with pytest.raises(ProcessLookupError):
            os.killpg(p.pid, 0)
