"""``meetings.parquet``, ``meetings.csv`` and ``meetings.geojson``: one row or feature per meeting, every
published column (a contract: ``docs/architecture.md``), provenance ``sources`` included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from warehouse.exporters.common import (
    RELEASE_TABLE,
    SCOPE_VIEW,
    Scope,
    copy,
    file_entry,
    iso_sql,
    json_sql,
    target,
    write_csv,
    write_json_items,
)

GEOJSON_HEAD = '{"type": "FeatureCollection", "features": [\n'
GEOJSON_TAIL = "\n]}"


def _values(con: duckdb.DuckDBPyConnection, nested_as_text: bool) -> list[tuple[str, str]]:
    """(name, SQL) of each published column as a plain value: timestamps as ISO 8601 UTC, and lists and
    structs as JSON text when ``nested_as_text`` (CSV cells are flat: a spreadsheet shows the text, a program
    parses it)."""
    relation = con.sql(f"SELECT * FROM {RELEASE_TABLE} LIMIT 0")
    values = []
    for name, kind in zip(relation.columns, (str(t) for t in relation.types), strict=True):
        if nested_as_text and (kind.endswith("]") or kind.startswith("STRUCT")):
            values.append((name, f"to_json({name})"))
        elif kind in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMP"):
            values.append((name, iso_sql(name, aware=kind != "TIMESTAMP")))
        else:
            values.append((name, name))
    return values


def _geojson_sql(con: duckdb.DuckDBPyConnection) -> str:
    properties = "{" + ", ".join(f"'{name}': {sql}" for name, sql in _values(con, False)) + "}"
    feature = f"""{{'type': 'Feature', 'id': meeting_id,
        'geometry': CASE WHEN latitude IS NOT NULL AND longitude IS NOT NULL
                         THEN {{'type': 'Point', 'coordinates': [longitude, latitude]}} END,
        'properties': {properties}}}"""
    return f"SELECT {json_sql(feature, strip_nulls=False)} FROM {SCOPE_VIEW} ORDER BY meeting_id"


def write(con: duckdb.DuckDBPyConnection, scope: Scope, root: Path) -> list[dict[str, Any]]:
    base = f"{scope.folder}meetings"
    parquet, csv, geojson = (target(root, f"{base}.{ext}") for ext in ("parquet", "csv", "geojson"))
    ordered = f"SELECT * FROM {SCOPE_VIEW} ORDER BY meeting_id"
    rows = copy(con, ordered, parquet, "FORMAT parquet, COMPRESSION zstd")
    flat = ", ".join(f"{sql} AS {name}" for name, sql in _values(con, True))
    write_csv(con, f"SELECT {flat} FROM {SCOPE_VIEW}", "meeting_id", csv)
    features = write_json_items(con, _geojson_sql(con), geojson, GEOJSON_HEAD, GEOJSON_TAIL)
    return [file_entry(root, parquet, rows), file_entry(root, csv, rows), file_entry(root, geojson, features)]
