"""Analysts query the release's DuckDB file while the nightly run holds the warehouse's single writer lock."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from tests.conftest import REPO
from warehouse.release_db import FILENAME, table_name, write_release_duckdb

MART = "delivery_test_meetings_by_weekday"
QUERY = f"""
import json, sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
rows = con.sql("SELECT count(*), count(DISTINCT meeting_id) FROM meetings").fetchall()[0]
tables = con.sql("SELECT schema_name || '.' || table_name FROM duckdb_tables() ORDER BY 1").fetchall()
total = con.sql("SELECT sum(meetings) FROM marts.{MART}").fetchall()[0][0]
print(json.dumps({{"rows": rows, "tables": [t for (t,) in tables], "mart_total": total}}))
"""


@pytest.fixture
def release_copy(published: Path, tmp_path: Path) -> Path:
    """A copy of the real release, so the shared one is never rewritten."""
    release = tmp_path / "release"
    shutil.copytree((published / "latest").resolve(), release)
    (release / FILENAME).unlink(missing_ok=True)
    return release


def test_release_db_is_queried_from_another_process_while_the_warehouse_is_locked(
    published: Path, release_copy: Path, tmp_path: Path
):
    warehouse = published.parent / "warehouse.duckdb"
    writer = duckdb.connect(str(warehouse))  # the nightly run: it builds the release, then holds the lock
    try:
        writer.execute(f"CREATE VIEW marts.{MART} AS SELECT weekday, count(*) AS meetings FROM core.meetings "
                       "WHERE status = 'active' GROUP BY weekday")  # fmt: skip
        database = write_release_duckdb(release_copy, writer)
        locked = subprocess.run([sys.executable, "-c", QUERY, str(warehouse)], capture_output=True, text=True,
                                timeout=60)  # fmt: skip
        assert locked.returncode != 0 and "lock" in locked.stderr.lower(), "the warehouse should be locked"

        result = subprocess.run([sys.executable, "-c", QUERY, str(database)], capture_output=True, text=True,
                                timeout=60, cwd=tmp_path)  # fmt: skip
    finally:
        writer.execute(f"DROP VIEW IF EXISTS marts.{MART}")
        writer.close()
    assert result.returncode == 0, result.stderr
    assert database == release_copy / FILENAME
    assert not database.with_name(FILENAME + ".wal").exists()
    answer = json.loads(result.stdout)
    expected = pq.read_metadata(release_copy / "meetings.parquet").num_rows
    assert answer["rows"] == [expected, expected]
    assert {"main.meeting_fields", "main.verification", f"marts.{MART}"} <= set(answer["tables"])
    assert answer["mart_total"] == expected


def test_release_db_opens_read_only_from_any_directory_with_duckdb_1_0_storage(release_copy: Path):
    region = release_copy / "regions" / "somewhere"
    region.mkdir(parents=True, exist_ok=True)
    shutil.copy(release_copy / "meetings.parquet", region / "meetings.parquet")
    database = write_release_duckdb(release_copy)
    moved = release_copy.parent / "elsewhere" / FILENAME
    moved.parent.mkdir()
    shutil.move(database, moved)
    shutil.rmtree(release_copy)  # tables, not views over the Parquet files: nothing else is needed
    con = duckdb.connect(str(moved), read_only=True)
    try:
        tables = con.sql("SELECT schema_name, table_name, comment FROM duckdb_tables() ORDER BY 2").fetchall()
        assert tables == [
            ("main", "meeting_fields", "meetings.parquet of this release"),
            ("main", "verification", "verification.parquet of this release"),
        ], "per-region subsets left out"
        # the view that joins them back binds inside the file, from any directory
        joined = con.sql("SELECT count(*), count(last_seen) FROM meetings").fetchall()[0]
        assert joined[0] == joined[1] > 0
        tags = con.sql("SELECT tags FROM duckdb_databases() WHERE database_name = 'clearinghouse'").fetchall()[0][0]
        assert tags["storage_version"].startswith("v1.0.0")
    finally:
        con.close()


def test_the_python_example_in_analysts_md_runs(release_copy: Path, tmp_path: Path):
    doc = (REPO / "docs" / "analysts.md").read_text()
    section = doc[doc.index("## Query a release while the nightly run is writing") :]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    write_release_duckdb(release_copy)
    (tmp_path / "data" / "published").mkdir(parents=True)
    (tmp_path / "data" / "published" / "latest").symlink_to(release_copy)
    check = "\nassert len(by_day) == 7 and len(online) > 0, (by_day, online)\n"
    result = subprocess.run([sys.executable, "-c", example + check], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("file", "table"),
    [("meetings.parquet", "meetings"), ("Meeting Links.parquet", "meeting_links"), ("1-2.parquet", "1_2")],
)
def test_parquet_files_become_tables_named_after_the_file(file: str, table: str):
    assert table_name(Path(file)) == table
