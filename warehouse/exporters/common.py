"""What every exporter shares: scopes, manifest entries, streamed JSON and value formats."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from foundation.sql import sql_name, sql_text

RELEASE_TABLE = "pub_meetings"
"""Temp table of every published meeting (``warehouse.publish`` builds it once per release)."""
SCOPE_VIEW = "pub_scope"
"""Temp view of the meetings of the scope being written."""
LABELS_TABLE = "pub_labels"
"""Temp table (meeting_id, scope, labels): each meeting's place in each feed's region hierarchy (scope '' is
the whole release, else a region id); ``warehouse.publish`` builds it from ``transforms.regions``' output."""
BATCH_ROWS = 50_000
CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class Scope:
    """The meetings one set of files describes: the whole release (``region`` None) or one region."""

    region: str | None = None
    name: str = "All meetings"

    @property
    def folder(self) -> str:
        """Where the scope's tables go, relative to the release ("" or ``regions/<id>/``)."""
        return f"regions/{self.region}/" if self.region else ""

    def select(self, con: duckdb.DuckDBPyConnection) -> None:
        """Point ``pub_scope`` at this scope's meetings."""
        where = "" if self.region is None else f"WHERE list_contains(regions, {sql_text(self.region)})"
        con.execute(f"CREATE OR REPLACE TEMP VIEW {SCOPE_VIEW} AS SELECT * FROM {RELEASE_TABLE} {where}")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def file_entry(root: Path, path: Path, rows: int | None) -> dict[str, Any]:
    """The manifest's record of one file (checksum streamed: files may be larger than memory allows)."""
    return {"path": path.relative_to(root).as_posix(), "sha256": sha256_file(path), "bytes": path.stat().st_size,
            "rows": rows}  # fmt: skip


def target(root: Path, relative: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def copy(con: duckdb.DuckDBPyConnection, sql: str, path: Path, options: str) -> int:
    """``COPY (sql) TO path (options)``; returns the rows written."""
    return con.execute(f"COPY ({sql}) TO {sql_text(str(path))} ({options})").fetchall()[0][0]


FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection)."""
SIGNED_CODE = r"[+-][0-9][0-9A-Z,.#*]*"
"""A signed number or code that cannot call anything (no letter before a digit, no parenthesis, space, quote,
``!`` or ``|``): a dial-in "+16465588656,,123#", an RRULE week "-1FR". It stays as written: numbers stay numbers."""


def csv_safe_sql(con: duckdb.DuckDBPyConnection, sql: str, order_by: str) -> str:
    """The rows of ``sql`` ordered by ``order_by``, each text cell that begins with a formula trigger prefixed
    by ``'`` (the OWASP rule), so a spreadsheet shows it as text instead of running it. Only text (VARCHAR)
    columns, and not a signed number or code (``SIGNED_CODE``): numbers stay numbers (a longitude of -73.98, a
    dial-in +16465588656). The order is applied here, after
    the projection, because DuckDB does not keep a subquery's order through it."""
    relation = con.sql(f"SELECT * FROM ({sql}) LIMIT 0")
    triggers = ", ".join(sql_text(t) for t in FORMULA_TRIGGERS)
    columns = []
    for name, kind in zip(relation.columns, relation.types, strict=True):
        column = sql_name(name)
        if str(kind) == "VARCHAR":
            neutral = (
                f"CASE WHEN left({column}, 1) IN ({triggers}) AND NOT regexp_full_match({column}, "
                f"{sql_text(SIGNED_CODE)}) THEN chr(39) || {column} ELSE {column} END"
            )
            column = f"{neutral} AS {column}"
        columns.append(column)
    return f"SELECT {', '.join(columns)} FROM ({sql}) ORDER BY {order_by}"


def write_csv(con: duckdb.DuckDBPyConnection, sql: str, order_by: str, path: Path) -> int:
    """Every CSV of a release is written here: a header row, then the rows of ``sql`` in ``order_by`` order
    with their text cells neutralized (``csv_safe_sql``; CSV only: Parquet, JSON and DuckDB keep the source's
    text); returns the rows written."""
    return copy(con, csv_safe_sql(con, sql, order_by), path, "FORMAT csv, HEADER")


def write_json_items(
    con: duckdb.DuckDBPyConnection, sql: str, path: Path, head: str = "[", tail: str = "]", sep: str = ",\n"
) -> int:
    """Write ``head`` + the JSON texts of ``sql``'s one column joined by ``sep`` + ``tail``; return the count.

    DuckDB serializes every item; each batch is joined by Arrow and its UTF-8 buffer written as is, so no
    Python runs per meeting and no text is decoded and encoded again.
    """
    count = 0
    with path.open("wb") as f:
        f.write(head.encode())
        for batch in con.sql(sql).to_arrow_reader(BATCH_ROWS):
            if not batch.num_rows:
                continue
            column = batch.column(0)
            whole = pa.ListArray.from_arrays(pa.array([0, len(column)], pa.int32()), column)
            if count:
                f.write(sep.encode())
            f.write(pc.binary_join(whole, sep)[0].as_buffer())
            count += batch.num_rows
        f.write((tail + "\n").encode())
    return count


def json_sql(struct: str, strip_nulls: bool = True) -> str:
    """SQL for the JSON text of a struct; without its null members (and theirs) when ``strip_nulls``:
    a spec that types a field as a string does not accept null for it."""
    return f"json_merge_patch('{{}}', to_json({struct}))::VARCHAR" if strip_nulls else f"to_json({struct})::VARCHAR"


def iso_sql(expr: str, aware: bool = True) -> str:
    """SQL for an ISO 8601 UTC timestamp ("2026-03-20T03:00:00Z") of a TIMESTAMPTZ (``aware``) or of a
    TIMESTAMP already in UTC (sources' updated stamps)."""
    utc = f"(({expr}) AT TIME ZONE 'UTC')" if aware else f"({expr})"
    return f"strftime({utc}, '%Y-%m-%dT%H:%M:%SZ')"


def hhmm_sql(expr: str) -> str:
    """SQL for "HH:MM" of a TIME."""
    return f"left(CAST({expr} AS VARCHAR), 5)"


def temp_table(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    """Copy an Arrow table into a DuckDB temp table (so later statements need no registered Python object)."""
    con.register(f"{name}_arrow", table)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
    finally:
        con.unregister(f"{name}_arrow")
