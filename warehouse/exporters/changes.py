"""``CHANGES.json``: meetings added, removed and changed (with the fields) against the previous release.

Compared with the previous release's ``meetings.parquet`` rather than with the warehouse history, so it says
exactly what a consumer of the previous release must update, however many runs happened in between. Fields
compared: ``transforms.history.TRACKED_FIELDS`` that both releases publish.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from foundation.sql import sql_text
from transforms.history import TRACKED_FIELDS, changed_fields_sql
from warehouse.exporters.common import RELEASE_TABLE, file_entry

PATH = "CHANGES.json"

DIFF_SQL = """
SELECT coalesce(n.meeting_id, o.meeting_id) AS meeting_id,
       CASE WHEN o.meeting_id IS NULL THEN 'added' WHEN n.meeting_id IS NULL THEN 'removed' ELSE 'changed' END
           AS kind,
       {changed} AS fields
FROM {release} n FULL OUTER JOIN {previous} o USING (meeting_id)
"""

DOCUMENT_SQL = """
SELECT to_json({{
    'release_id': {release_id}, 'previous_release_id': {previous_id},
    'counts': {{'added': count(*) FILTER (WHERE kind = 'added'), 'removed': count(*) FILTER (WHERE kind = 'removed'),
                'changed': count(*) FILTER (WHERE kind = 'changed')}},
    'added': coalesce(list(meeting_id ORDER BY meeting_id) FILTER (WHERE kind = 'added'), []),
    'removed': coalesce(list(meeting_id ORDER BY meeting_id) FILTER (WHERE kind = 'removed'), []),
    'changed': coalesce(list({{'meeting_id': meeting_id, 'fields': fields}} ORDER BY meeting_id)
                        FILTER (WHERE kind = 'changed'), [])
}})::VARCHAR,
count(*) FILTER (WHERE kind = 'added'), count(*) FILTER (WHERE kind = 'removed'),
count(*) FILTER (WHERE kind = 'changed')
FROM ({diff}) WHERE kind <> 'changed' OR len(fields) > 0
"""


def write(
    con: duckdb.DuckDBPyConnection, root: Path, release_id: str, previous: Path | None
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Write ``CHANGES.json``; return its manifest entry and counts (no previous release: all added)."""
    before = previous / "meetings.parquet" if previous else None
    if before and before.exists():
        source = f"read_parquet({sql_text(str(before))})"
        columns = set(con.sql(f"SELECT * FROM {source} LIMIT 0").columns)
        fields = [f for f in TRACKED_FIELDS if f in columns]
    else:
        source = f"(SELECT * FROM {RELEASE_TABLE} WHERE false)"
        fields = []
    diff = DIFF_SQL.format(changed=changed_fields_sql("o", "n", fields) if fields else "[]::VARCHAR[]",
                           release=RELEASE_TABLE, previous=source)  # fmt: skip
    previous_id = sql_text(previous.name) if previous else "NULL"
    document, *counts = con.sql(
        DOCUMENT_SQL.format(release_id=sql_text(release_id), previous_id=previous_id, diff=diff)
    ).fetchall()[0]
    path = root / PATH
    path.write_text(document + "\n")
    return [file_entry(root, path, sum(counts))], dict(zip(("added", "removed", "changed"), counts, strict=True))
