"""``regions/<region>/index.json``: what a region publishes and where, small and stable.

A region's own file is its Meeting Guide feed (``meeting-guide/<region>.json``: apps register one URL per
region). The national ``meetings.{parquet,csv,geojson}`` and ``hsds/`` carry every meeting's ``regions``, so
a region's rows are a filter of them, not a copy; the index says which filter, and lists the per-region
copies the operator opted in to (``CLEARINGHOUSE_REGION_FORMATS``). It names no release, so a region whose
meetings did not change keeps a byte-identical index.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from foundation.sql import sql_text
from warehouse.exporters.common import SCOPE_VIEW, Scope, file_entry, target

NATIONAL = ("meetings.parquet", "meetings.csv", "meetings.geojson", "hsds/datapackage.json", "hsds/services.json")
"""The whole release's files that hold this region's meetings too (relative to the release)."""


def path_of(scope: Scope) -> str:
    return f"{scope.folder}index.json"


def write(con: duckdb.DuckDBPyConnection, scope: Scope, root: Path, written: list[dict[str, Any]]) -> list[dict]:
    """Write the index of ``scope`` (a region) beside the files already ``written`` for it."""
    meetings = con.sql(f"SELECT count(*) FROM {SCOPE_VIEW}").fetchall()[0][0]
    document = {
        "region": scope.region,
        "name": scope.name,
        "meetings": meetings,
        "meeting_guide": f"meeting-guide/{scope.region}.json",
        "national": list(NATIONAL),
        "filter": {
            "sql": f"list_contains(regions, {sql_text(scope.region or '')})",
            "description": "the national files' rows whose `regions` list holds this region id",
        },
        "files": sorted(e["path"] for e in written),
    }
    path = target(root, path_of(scope))
    path.write_text(json.dumps(document, indent=2) + "\n")
    return [file_entry(root, path, meetings)]
