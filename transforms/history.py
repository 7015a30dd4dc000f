"""History: what changed about each meeting, run by run, kept after the meeting is gone.

Runs after resolution with the same ``now``. It compares the rebuilt ``core.meetings`` with the open versions
of ``core.meeting_history`` (SCD2: ``valid_from``/``valid_to``) and writes ``core.meeting_events``:

- ``created``: a meeting id seen for the first time; ``reopened``: an id that had closed comes back;
  ``split``: a new id that resolution split off another (``related_meeting_id``, from
  ``core.resolution_events``);
- ``changed``: a tracked field differs from the open version (``fields`` names them);
- ``closed``: the id is gone from ``core.meetings``. Resolution keeps a record that disappeared from a healthy
  source for the grace period (``transforms.presence``), so this happens only after the configured number
  of healthy runs without it, never because a source failed; ``merged``: the id was absorbed into
  ``related_meeting_id``.

It also sets ``last_seen`` (the last run a source listed the meeting; a meeting carried through the grace
period keeps the time it was last listed) and ``last_verified`` (the start of the last healthy fetch that
listed it) on ``core.meetings``, and keeps ``core.meeting_lifecycle`` — every id ever published with its
life span, which survival analysis needs after the meeting is gone. Re-running with the same ``now`` and the
same meetings changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import duckdb

from transforms.survivorship import MEETING_FIELDS

TRACKED_FIELDS: tuple[str, ...] = (
    *(f for f in MEETING_FIELDS if f not in ("record_hash", "source_updated_at")),
    "sources",
)
"""Fields whose change makes a new version (and a ``changed`` event). ``source_updated_at`` moves whenever a
source saves anything, including fields that are never published; ``record_hash`` is derived."""
HISTORY_FIELDS: tuple[str, ...] = (*(f for f in MEETING_FIELDS if f != "record_hash"), "sources")
"""Fields each version row stores (``core.meeting_history``)."""


def version_hash_sql() -> str:
    """SQL for the hash of a meeting's tracked fields (equal hashes: same version)."""
    parts = ", ".join(f"coalesce(CAST({f} AS VARCHAR), chr(0))" for f in TRACKED_FIELDS)
    return f"md5(concat_ws(chr(31), {parts}))"


def changed_fields_sql(old: str, new: str, fields: Iterable[str] = TRACKED_FIELDS) -> str:
    """SQL for the list of ``fields`` (default: the tracked ones) that differ between two rows."""
    cases = ", ".join(f"CASE WHEN {old}.{f} IS DISTINCT FROM {new}.{f} THEN '{f}' END" for f in fields)
    return f"list_filter([{cases}], lambda f: f IS NOT NULL)"


SEEN_SQL = """
UPDATE core.meetings m SET last_seen = s.last_seen, last_verified = s.last_verified
FROM (
    SELECT x.meeting_id,
           CASE WHEN bool_or(coalesce(p.absent_runs, 0) = 0) THEN $now ELSE max(p.last_present_at) END AS last_seen,
           max(p.last_verified_at) AS last_verified
    FROM (SELECT meeting_id, unnest(sources, recursive := true) FROM core.meetings) x
    LEFT JOIN core.record_presence p USING (source_id, source_key)
    GROUP BY x.meeting_id
) s
WHERE m.meeting_id = s.meeting_id
"""

STAGE_SQL = (
    "CREATE OR REPLACE TEMP TABLE hist_now AS SELECT meeting_id, {hash} AS version_hash, {fields} FROM core.meetings",
    "CREATE OR REPLACE TEMP TABLE hist_open AS SELECT * FROM core.meeting_history WHERE valid_to IS NULL",
    "CREATE OR REPLACE TEMP TABLE hist_resolution AS "
    "SELECT kind, meeting_id, from_meeting_id FROM core.resolution_events WHERE run_at = $now",
)

EVENTS_SQL = """
CREATE OR REPLACE TEMP TABLE hist_events AS
SELECT $now AS event_at, n.meeting_id, 'changed' AS kind, {changed} AS fields,
       NULL::VARCHAR AS related_meeting_id, n.sources
FROM hist_now n JOIN hist_open o USING (meeting_id)
WHERE n.version_hash <> o.version_hash
UNION ALL
SELECT $now, n.meeting_id,
       CASE WHEN s.from_id IS NOT NULL THEN 'split'
            WHEN n.meeting_id IN (SELECT meeting_id FROM core.meeting_history) THEN 'reopened'
            ELSE 'created' END,
       NULL, s.from_id, n.sources
FROM hist_now n
LEFT JOIN (SELECT meeting_id, min(from_meeting_id) AS from_id FROM hist_resolution WHERE kind = 'split'
           GROUP BY meeting_id) s USING (meeting_id)
WHERE n.meeting_id NOT IN (SELECT meeting_id FROM hist_open)
UNION ALL
SELECT $now, o.meeting_id, CASE WHEN r.into_id IS NULL THEN 'closed' ELSE 'merged' END, NULL, r.into_id,
       o.sources
FROM hist_open o
LEFT JOIN (SELECT from_meeting_id AS meeting_id, min(meeting_id) AS into_id FROM hist_resolution
           WHERE kind = 'merge' GROUP BY from_meeting_id) r USING (meeting_id)
WHERE o.meeting_id NOT IN (SELECT meeting_id FROM hist_now)
"""

WRITE_SQL = (
    "INSERT INTO core.meeting_events SELECT * FROM hist_events",
    """UPDATE core.meeting_history SET valid_to = $now
       WHERE valid_to IS NULL
         AND meeting_id IN (SELECT meeting_id FROM hist_events WHERE kind IN ('changed', 'closed', 'merged'))""",
    """INSERT INTO core.meeting_history BY NAME
       SELECT meeting_id, $now AS valid_from, NULL AS valid_to, version_hash, {fields} FROM hist_now
       WHERE meeting_id IN (SELECT meeting_id FROM hist_events WHERE kind <> 'closed' AND kind <> 'merged')""",
    """UPDATE core.meeting_lifecycle l SET status = e.kind, ended_at = $now
       FROM hist_events e WHERE e.kind IN ('closed', 'merged') AND l.meeting_id = e.meeting_id""",
    """UPDATE core.meeting_lifecycle l
       SET status = 'active', first_seen = least(l.first_seen, m.first_seen), last_seen = m.last_seen,
           last_verified = m.last_verified, ended_at = NULL
       FROM core.meetings m WHERE l.meeting_id = m.meeting_id""",
    """INSERT INTO core.meeting_lifecycle
       SELECT meeting_id, 'active', coalesce(first_seen, $now), coalesce(last_seen, $now), last_verified, NULL
       FROM core.meetings WHERE meeting_id NOT IN (SELECT meeting_id FROM core.meeting_lifecycle)""",
)
TEMP_TABLES = ("hist_now", "hist_open", "hist_resolution", "hist_events")


def record(con: duckdb.DuckDBPyConnection, now: datetime) -> dict[str, int]:
    """Update last_seen/last_verified, events, versions and life spans for the run at ``now``; return the
    number of events of each kind it wrote."""
    fields = ", ".join(HISTORY_FIELDS)
    params = {"now": now}
    con.execute("BEGIN")
    try:
        con.execute(SEEN_SQL, params)
        for sql in STAGE_SQL:
            con.execute(sql.format(hash=version_hash_sql(), fields=fields), params if "$now" in sql else None)
        con.execute(EVENTS_SQL.format(changed=changed_fields_sql("o", "n")), params)
        for sql in WRITE_SQL:
            con.execute(sql.format(fields=fields), params if "$now" in sql else None)
        counts = dict(con.sql("SELECT kind, count(*) FROM hist_events GROUP BY kind").fetchall())
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        for table in TEMP_TABLES:
            con.execute(f"DROP TABLE IF EXISTS {table}")
    return {kind: counts.get(kind, 0) for kind in ("created", "changed", "closed", "reopened", "merged", "split")}
