"""The migrations build the tables the code declares, and 006 upgrades a warehouse of the earlier schema."""

from __future__ import annotations

import hashlib

import duckdb

from extractors.records import STAGING_SCHEMA
from foundation.model import FIELD_NAMES
from transforms.history import HISTORY_FIELDS
from transforms.survivorship import MEETING_FIELDS, SURVIVING_FIELDS
from warehouse import db


def columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    return {c for (c,) in con.sql(f"SELECT column_name FROM duckdb_columns() WHERE schema_name = '{schema}' "
                                   f"AND table_name = '{table}'").fetchall()}  # fmt: skip


def test_tables_hold_every_declared_field() -> None:
    con = duckdb.connect()
    db.migrate(con)
    assert columns(con, "core", "meeting_versions") == set(FIELD_NAMES)
    assert set(MEETING_FIELDS) <= columns(con, "core", "meetings")
    assert set(HISTORY_FIELDS) - {"sources"} <= columns(con, "core", "meeting_history")
    assert set(SURVIVING_FIELDS) <= columns(con, "core", "meeting_field_sources")
    assert set(STAGING_SCHEMA.names) <= columns(con, "staging", "source_records")


def test_an_earlier_warehouse_is_upgraded_and_normalized_again() -> None:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA ops")
    con.execute("CREATE TABLE ops.schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, checksum VARCHAR, "
                "applied_at TIMESTAMPTZ DEFAULT now())")  # fmt: skip
    fidelity = next(v for v, name, _ in db.migrations() if name == "fidelity")
    for version, name, path in db.migrations():
        if version < fidelity:  # what a warehouse of the previous release holds
            con.execute(path.read_text())
            checksum = hashlib.sha256(path.read_text().encode()).hexdigest()
            con.execute("INSERT INTO ops.schema_migrations (version, name, checksum) VALUES (?, ?, ?)",
                        [version, name, checksum])  # fmt: skip
    con.execute("INSERT INTO core.meeting_versions (source_id, source_key, fetch_id, end_time, duration_min) "
                "VALUES ('a', 'k', 'a@1', '20:00', 60)")  # fmt: skip
    con.execute("INSERT INTO ops.normalized_fetches VALUES ('a@1', 'a', 1, 1, 0, now())")
    assert db.migrate(con) == [f"{v:03d}_{name}.sql" for v, name, _ in db.migrations() if v >= fidelity]
    assert columns(con, "core", "meeting_versions") == set(FIELD_NAMES)
    # every current fetch is normalized again: no invented end time survives the upgrade
    assert con.sql("SELECT count(*) FROM ops.normalized_fetches").fetchall() == [(0,)]
