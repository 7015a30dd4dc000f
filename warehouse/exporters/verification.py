"""``verification.parquet``: when each published meeting was last listed (``last_seen``) and last confirmed by
a healthy fetch (``last_verified``).

These two move every night for every meeting, so they are kept apart from the meeting files: a release whose
meetings did not change then has byte-identical ``meetings.*``, feeds and HSDS files, shared with the previous
release (``warehouse.release_store``), and only this small file is new. The release DuckDB joins it back
(``meetings`` view).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from warehouse.exporters.common import RELEASE_TABLE, copy, file_entry, target

PATH = "verification.parquet"
COLUMNS = ("meeting_id", "last_seen", "last_verified")


def write(con: duckdb.DuckDBPyConnection, root: Path) -> list[dict[str, Any]]:
    path = target(root, PATH)
    sql = (
        "SELECT m.meeting_id, m.last_seen, m.last_verified FROM core.meetings m "
        f"SEMI JOIN {RELEASE_TABLE} p ON p.meeting_id = m.meeting_id ORDER BY m.meeting_id"
    )
    rows = copy(con, sql, path, "FORMAT parquet, COMPRESSION zstd")
    return [file_entry(root, path, rows)]
