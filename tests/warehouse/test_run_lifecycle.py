"""ops.runs / ops.stage_runs: every stage's start, end and outcome; a failure closes the run ``failed`` with its
error; a run whose process is gone is marked ``abandoned`` by the next; the publish gate's verdicts."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from warehouse import db, release_gate, runs
from warehouse.errors import NothingToPublish, ReleaseBlocked


@pytest.fixture
def con():
    with duckdb.connect() as con:
        db.migrate(con)
        yield con


def run_row(con, run_id):
    return con.execute("SELECT status, error, finished_at IS NOT NULL FROM ops.runs WHERE run_id = ?",
                       [run_id]).fetchall()[0]  # fmt: skip


def stage_rows(con, run_id):
    return con.execute("SELECT stage, status, error FROM ops.stage_runs WHERE run_id = ? ORDER BY started_at",
                       [run_id]).fetchall()  # fmt: skip


def test_a_failing_stage_fails_the_run_with_its_error(con):
    with runs.stage(con, "r1", "load") as counts:
        counts["ok"] = 3
    with pytest.raises(ZeroDivisionError), runs.stage(con, "r1", "normalize"):
        1 / 0  # noqa: B018
    assert run_row(con, "r1") == ("failed", "normalize: ZeroDivisionError: division by zero", True)
    assert stage_rows(con, "r1") == [
        ("load", "done", None),
        ("normalize", "failed", "ZeroDivisionError: division by zero"),
    ]


def test_a_retried_stage_resumes_the_run(con):
    with pytest.raises(RuntimeError), runs.stage(con, "r1", "load"):
        raise RuntimeError("disk full")
    with runs.stage(con, "r1", "load"):
        pass
    assert run_row(con, "r1") == ("running", None, False)
    assert stage_rows(con, "r1") == [("load", "done", None)]


def test_a_gate_verdict_marks_the_stage_not_the_run_failed(con):
    runs.start_run(con, "r1")
    with pytest.raises(NothingToPublish), runs.stage(con, "r1", "publish"):
        runs.finish_run(con, "r1", "nothing_to_publish", "every source failed")
        raise NothingToPublish([])
    assert run_row(con, "r1") == ("nothing_to_publish", "every source failed", True)
    assert stage_rows(con, "r1")[0][:2] == ("publish", "nothing_to_publish")


def test_a_run_whose_stage_process_is_gone_is_abandoned_by_the_next(con):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)
    host, _ = runs._process()
    con.execute(
        "INSERT INTO ops.runs (run_id, started_at, status, heartbeat_at) VALUES ('old', now(), 'running', now())"
    )
    con.execute("INSERT INTO ops.stage_runs (run_id, stage, started_at, status, host, pid) "
                "VALUES ('old', 'resolve', now(), 'running', ?, ?)", [host, dead_pid])  # fmt: skip
    with runs.stage(con, "new", "load"):
        pass
    status, error, finished = run_row(con, "old")
    assert (status, finished) == ("abandoned", True)
    assert f"PID {dead_pid}" in error and "found by run new" in error
    assert stage_rows(con, "old")[0][1] == "abandoned"


def test_a_silent_run_is_abandoned_and_a_live_one_is_not(con, monkeypatch):
    monkeypatch.setenv("CLEARINGHOUSE_ABANDON_AFTER_S", "3600")
    old = datetime.now(UTC) - timedelta(hours=2)
    con.execute(
        "INSERT INTO ops.runs (run_id, started_at, status, heartbeat_at) VALUES "
        "('silent', $old, 'running', $old), ('between-stages', now(), 'running', now())",
        {"old": old},
    )
    assert runs.abandon_stale(con, "new") == ["silent"]
    assert run_row(con, "between-stages")[0] == "running"


def test_recent_runs_shows_stages_and_sources(con):
    with runs.stage(con, "r1", "load"):
        pass
    runs.record_stage(con, "r1", "fetch", "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:05+00:00", {"ok": 1})
    [run] = runs.recent_runs(con)
    assert run["run_id"] == "r1" and run["status"] == "running"
    assert {s["stage"] for s in run["stages"]} == {"fetch", "load"}
    assert next(s for s in run["stages"] if s["stage"] == "fetch")["seconds"] == 5


SOURCES = [{"id": "a", "status": "ok", "records": 90}, {"id": "b", "status": "failed", "reason": "HTTP 503"},
           {"id": "c", "status": "link_only", "records": 0}]  # fmt: skip


def test_gate_nothing_to_publish_when_every_fetched_source_failed_or_was_held():
    down = [{"id": "a", "status": "failed"}, {"id": "b", "status": "held"}, {"id": "c", "status": "stale"},
            {"id": "d", "status": "link_only"}]  # fmt: skip
    with pytest.raises(NothingToPublish) as caught:
        release_gate.check(down, 100, {"counts": {"meetings": 100}}, 0.2)
    assert [s["id"] for s in caught.value.sources] == ["a", "b", "c"]


def test_a_publish_only_run_always_has_something_to_publish():
    down = [{"id": "a", "status": "stale", "records": 12}]
    assert release_gate.check(down, 12, None, 0.2, fetched_this_run=False)["status"] == "passed"
    with pytest.raises(ReleaseBlocked):
        release_gate.check(down, 0, None, 0.2, fetched_this_run=False)


def test_gate_first_release_needs_an_ok_source_with_meetings():
    assert release_gate.check(SOURCES, 90, None, 0.2)["status"] == "passed"
    with pytest.raises(ReleaseBlocked) as caught:
        release_gate.check([{"id": "a", "status": "ok", "records": 0}], 0, None, 0.2)
    assert caught.value.failed[0]["expectation"] == "first_release_has_meetings"


@pytest.mark.parametrize(
    ("meetings", "accept", "verdict"),
    [(80, False, "passed"), (79, False, "blocked"), (10, True, "accepted"), (120, False, "passed")],
)
def test_gate_blocks_a_drop_beyond_the_share_unless_accepted(meetings, accept, verdict):
    previous = {"release_id": "R1", "counts": {"meetings": 100}}
    if verdict == "blocked":
        with pytest.raises(ReleaseBlocked) as caught:
            release_gate.check(SOURCES, meetings, previous, 0.2, accept)
        assert caught.value.failed[0]["examples"][0] == {"previous_release": "R1", "previous_meetings": 100,
                                                         "meetings": 79, "drop": "21.0%", "allowed": "20%"}  # fmt: skip
    else:
        assert release_gate.check(SOURCES, meetings, previous, 0.2, accept)["status"] == verdict
