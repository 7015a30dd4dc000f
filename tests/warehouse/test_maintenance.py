"""Maintenance gives the space of deleted rows back: the warehouse is copied into a fresh file and swapped in."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from warehouse import db, maintenance


def fill(path: Path, rows: int) -> None:
    with db.connect(path) as con:
        con.execute(
            "INSERT INTO ops.source_runs (run_id, source_id, status, reason) "
            "SELECT 'run-' || (i // 1000), 'source-' || i, 'failed', repeat(md5(i::VARCHAR), 8) FROM range($n) t(i)",
            {"n": rows},
        )


def test_compaction_shrinks_the_file_after_deletes_and_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    fill(path, 100_000)
    with db.connect(path) as con:
        con.execute("DELETE FROM ops.source_runs WHERE run_id <> 'run-7'")
        con.execute("CHECKPOINT")
        con.execute("VACUUM")  # what maintenance did before: the file does not shrink
    vacuumed = path.stat().st_size

    sizes = maintenance.compact(path)

    assert sizes["warehouse_bytes_before"] == vacuumed
    assert sizes["warehouse_bytes_after"] == path.stat().st_size < vacuumed / 4
    assert not list(tmp_path.glob(".*.compact"))
    with db.connect(path) as con:  # migrations still recorded: nothing to apply, nothing refused
        assert con.sql("SELECT count(*), min(run_id), max(run_id) FROM ops.source_runs").fetchall() == [
            (1000, "run-7", "run-7")
        ]
        with pytest.raises(duckdb.ConstraintException):  # the primary key came along
            con.execute("INSERT INTO ops.source_runs (run_id, source_id, status) VALUES ('run-7', 'source-7000', 'ok')")


def test_weekly_maintenance_prunes_staging_then_compacts(tmp_path: Path) -> None:
    home = tmp_path / "home"
    path = home / "warehouse.duckdb"
    home.mkdir()
    fill(path, 1000)
    result = maintenance.run_maintenance(home, path, keep_raw_days=90, keep_releases=10, today=date(2026, 12, 6))
    assert result["staging_rows_removed"] == 0
    assert result["warehouse_bytes_after"] <= result["warehouse_bytes_before"]


def test_staging_keeps_the_source_records_of_versions_resolution_still_carries(tmp_path: Path) -> None:
    """A listing missing from its source stays published for a few healthy runs with its last version; the
    source's own record of it (the NA world id matching reads) must outlive the weekly pruning until then."""
    with db.connect(tmp_path / "warehouse.duckdb") as con:
        con.execute(
            "INSERT INTO staging.source_records (source_id, fetch_id, record_index, source_key) VALUES "
            "('s', 'f1', 0, 'carried'), ('s', 'f1', 1, 'closed'), ('s', 'f1', 2, 'listed'), ('s', 'f2', 0, 'listed')"
        )
        con.execute("INSERT INTO ops.source_state (source_id, current_fetch_id) VALUES ('s', 'f2')")
        con.execute(
            "INSERT INTO core.record_presence VALUES "
            "('s', 'carried', 'f1', now(), now(), 1), ('s', 'closed', 'f1', now(), now(), 3), "
            "('s', 'listed', 'f2', now(), now(), 0)"
        )
        assert maintenance.prune_staging(con, close_after=3) == 2
        assert con.sql("SELECT fetch_id, source_key FROM staging.source_records ORDER BY ALL").fetchall() == [
            ("f1", "carried"), ("f2", "listed")
        ]  # fmt: skip
