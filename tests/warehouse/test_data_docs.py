"""Data Docs and the source scorecard on a small file-backed warehouse."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from warehouse import db
from warehouse.quality import build_reports, runner, validate_staging
from warehouse.quality.scorecard import sparkline

NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)


def insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    con.register("new_rows", pd.DataFrame(rows))
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM new_rows")
    con.unregister("new_rows")


@pytest.fixture
def warehouse(tmp_path: Path):
    with db.connect(tmp_path / "warehouse.duckdb") as con:
        fetches = [("ok", 40), ("ok", 42), ("failed", None), ("held", 4), ("ok", 41)]
        insert(con, "raw.fetches", [
            {"fetch_id": f"src-a@{i}", "source_id": "src-a", "started_at": NOW - timedelta(days=5 - i),
             "status": status, "records": records} for i, (status, records) in enumerate(fetches)
        ])  # fmt: skip
        insert(con, "ops.source_state", [
            {"source_id": "src-a", "current_fetch_id": "src-a@4", "last_good_at": NOW - timedelta(hours=3),
             "last_status": "ok"},
            {"source_id": "src-b", "current_fetch_id": None, "last_good_at": NOW - timedelta(days=9),
             "last_status": "failed", "last_reason": "HTTP 500 from the server"},
        ])  # fmt: skip
        insert(con, "ops.normalized_fetches", [{"fetch_id": "src-a@4", "source_id": "src-a", "parsed": 41,
                                                "normalized": 40, "quarantined": 1, "normalized_at": NOW}])  # fmt: skip
        insert(con, "core.meeting_versions", [
            {"source_id": "src-a", "source_key": f"k{i}", "fetch_id": "src-a@4", "attendance": "in_person",
             "address_line": "1 Main St" if i % 4 else None, "types": ["O"],
             "unparsed_address": None if i % 4 else "Center for Wooden Boats, Seattle",
             "end_time_source": "none" if i % 5 else "source"} for i in range(40)
        ])  # fmt: skip
        rows = [{"source_id": "src-a", "fetch_id": "src-a@4", "record_index": i, "source_key": f"k{i}",
                 "name": "M", "weekday": 1, "start_time": "19:00"} for i in range(40)]  # fmt: skip
        insert(con, "staging.source_records", [*rows, rows[0] | {"record_index": 40, "start_time": "later"}])
        insert(con, "core.quarantine", [{"source_id": "src-a", "fetch_id": "src-a@4", "record_index": 40,
                                         "reason": "dq:start_time_parseable"}])  # fmt: skip
        yield con


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"<(style|svg).*?</\1>", "", html, flags=re.S)))


def test_scorecard_shows_each_source_at_a_glance(warehouse, tmp_path):
    validate_staging(warehouse, "run-1", ["src-a@4"])
    paths = build_reports(warehouse, "run-1", tmp_path / "reports")
    page = Path(paths["scorecard"]).read_text()
    rows = {line.split()[0]: line for line in text(page).split(" src-")[1:]}
    assert rows["a"].startswith("a ok") and "41 → 0" in rows["a"] and "2.4%" in rows["a"]
    assert "dq:start_time_parseable ×1" in rows["a"]
    assert "75%" in rows["a"]  # address on 30 of 40 in-person meetings
    assert "20%" in rows["a"]  # end time as the source gave it: 8 of 40 (none invented)
    assert "– 20% 100% 0% 10 0 –" in rows["a"]  # end time, types, source url, 10 places kept unparsed, no
    # coordinates that contradict their address
    assert rows["b"].startswith("b stale HTTP 500 from the server")
    assert page.count("<svg") == 1  # src-b never fetched in raw.fetches: no sparkline
    assert page.index("src-b") < page.index("src-a")  # sickest first


def test_data_docs_link_the_scorecard_and_render_each_result_once(warehouse, tmp_path):
    validate_staging(warehouse, "run-1", ["src-a@4"])
    site = tmp_path / "reports" / "data_docs"
    build_reports(warehouse, "run-1", tmp_path / "reports")
    (page,) = site.joinpath("validations", "staging", "source_records", "run-1").rglob("*.html")
    stamp = page.stat().st_mtime_ns
    build_reports(warehouse, "run-1", tmp_path / "reports")
    assert page.stat().st_mtime_ns == stamp
    assert 'href="../scorecard.html"' in (site / "index.html").read_text()


def test_old_runs_are_pruned_from_the_store_and_the_site(warehouse, tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "KEEP_RUNS", 2)
    site = tmp_path / "reports" / "data_docs" / "validations" / "staging" / "source_records"
    for run in ("run-1", "run-2", "run-3"):
        validate_staging(warehouse, run, ["src-a@4"])
        build_reports(warehouse, run, tmp_path / "reports")
    store = runner.context(tmp_path).validation_results_store
    assert sorted({k.run_id.run_name for k in store.list_keys()}) == ["run-2", "run-3"]
    assert sorted(p.parent.parent.name for p in site.rglob("*.html")) == ["run-2", "run-3"]


def test_a_gx_project_cut_short_by_a_killed_run_is_repaired(warehouse, tmp_path, monkeypatch, caplog):
    """kill -9 while GX saves leaves a truncated config or result; the next process must not fail on it."""
    validate_staging(warehouse, "run-1", ["src-a@4"])
    project = tmp_path / "gx"
    (result,) = project.joinpath("uncommitted", "validations").rglob("*.json")
    result.write_text(result.read_text()[:100])
    project.joinpath("great_expectations.yml").write_text("")
    monkeypatch.setattr(runner, "_contexts", {})  # the next night is a new process
    validate_staging(warehouse, "run-2", ["src-a@4"])
    build_reports(warehouse, "run-2", tmp_path / "reports")
    (aside,) = project.joinpath("damaged").iterdir()
    assert aside.joinpath("great_expectations.yml").read_text() == ""
    assert "could not be opened" in caplog.text and "unreadable validation result" in caplog.text
    store = runner.context(tmp_path).validation_results_store
    assert {k.run_id.run_name for k in store.list_keys()} == {"run-2"}
    site = tmp_path / "reports" / "data_docs" / "validations" / "staging" / "source_records"
    assert [p.parent.parent.name for p in site.rglob("*.html")] == ["run-2"]


def test_sparkline_marks_held_and_failed_fetches():
    svg = sparkline([{"status": "ok", "records": 40}, {"status": "failed", "records": None},
                     {"status": "held", "records": 4}])  # fmt: skip
    assert svg.count('class="bad"') == 1 and svg.count('class="warn"') == 1
    assert "40 → 0 → 4" in svg
