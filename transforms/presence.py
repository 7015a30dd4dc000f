"""Which source records are still listed: the grace period before a listing that disappeared counts as gone.

A feed that drops a meeting for one night (an editor's slip, a half-saved spreadsheet) must not make it
vanish from every app. So each *healthy* observation of a source — a fetch that was ok or unchanged, which
moves ``ops.source_state.last_good_at`` — is counted once into ``core.record_presence``: records it lists
are present (``absent_runs`` 0), records it no longer lists gain one absent run. Resolution keeps using the
last known version of a record until it has been absent for ``close_after`` consecutive healthy observations
(``carried_versions_sql``); then its meeting closes (``transforms.history``). A failed or held fetch does not
move ``last_good_at``, so it observes nothing and can never close a meeting. Nor does a replay of an archived
day: it is re-parsed and republished, but it is no observation (``resolve(..., replay=True)``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import duckdb

from foundation.settings import Settings
from foundation.sql import sql_text_list

CLOSE_AFTER_RUNS = Settings.close_after_runs
"""Default grace: consecutive healthy observations a record may be missing before its meeting closes
(``CLEARINGHOUSE_CLOSE_AFTER_RUNS``)."""


NEW_OBSERVATIONS_SQL = """
CREATE OR REPLACE TEMP TABLE presence_sources AS
SELECT s.source_id, s.current_fetch_id AS fetch_id, s.last_good_at AS good_at
FROM ops.source_state s
WHERE s.source_id IN ({sources}) AND s.current_fetch_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM ops.source_observations o
                  WHERE o.source_id = s.source_id AND o.fetch_id = s.current_fetch_id
                    AND o.good_at IS NOT DISTINCT FROM s.last_good_at)
"""

MERGED_SQL = """
CREATE OR REPLACE TEMP TABLE presence_merged AS
WITH listed AS (
    SELECT v.source_id, v.source_key, v.fetch_id, s.good_at
    FROM core.meeting_versions v JOIN presence_sources s USING (fetch_id)
), known AS (
    SELECT * FROM core.record_presence WHERE source_id IN (SELECT source_id FROM presence_sources)
)
SELECT coalesce(l.source_id, k.source_id) AS source_id, coalesce(l.source_key, k.source_key) AS source_key,
       coalesce(l.fetch_id, k.last_fetch_id) AS last_fetch_id,
       CASE WHEN l.source_key IS NULL THEN k.last_present_at ELSE $now END AS last_present_at,
       CASE WHEN l.source_key IS NULL THEN k.last_verified_at ELSE l.good_at END AS last_verified_at,
       CASE WHEN l.source_key IS NULL THEN k.absent_runs + 1 ELSE 0 END AS absent_runs
FROM listed l FULL OUTER JOIN known k USING (source_id, source_key)
"""


def observe(con: duckdb.DuckDBPyConnection, source_ids: Iterable[str], now: datetime) -> int:
    """Count each source's healthy fetch not counted yet into ``core.record_presence``; return how many.

    Idempotent: a source whose current fetch and ``last_good_at`` were already observed is skipped.
    """
    con.execute(NEW_OBSERVATIONS_SQL.format(sources=sql_text_list(source_ids)))
    try:
        observed = con.sql("SELECT count(*) FROM presence_sources").fetchall()[0][0]
        if not observed:
            return 0
        con.execute(MERGED_SQL, {"now": now})
        con.execute("BEGIN")
        try:
            con.execute("DELETE FROM core.record_presence WHERE source_id IN (SELECT source_id FROM presence_sources)")
            con.execute("INSERT INTO core.record_presence BY NAME SELECT * FROM presence_merged")
            con.execute(
                "DELETE FROM ops.source_observations WHERE source_id IN (SELECT source_id FROM presence_sources)"
            )
            con.execute(
                "INSERT INTO ops.source_observations SELECT source_id, fetch_id, good_at, $now FROM presence_sources",
                {"now": now},
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        return observed
    finally:
        con.execute("DROP TABLE IF EXISTS presence_merged")
        con.execute("DROP TABLE presence_sources")


def carried_versions_sql(source_ids: Iterable[str], close_after: int, replay: bool = False) -> str:
    """The last known versions of records missing from their source for fewer than ``close_after`` runs.

    ``replay``: a replayed day is not an observation (``observe`` is skipped), so every record the source
    still listed before the replay and the replayed snapshot lacks is carried too: a replay never closes a
    meeting.
    """
    if not replay:
        return f"""
        SELECT v.* FROM core.meeting_versions v
        JOIN core.record_presence p ON p.last_fetch_id = v.fetch_id AND p.source_key = v.source_key
        WHERE p.source_id IN ({sql_text_list(source_ids)}) AND p.absent_runs BETWEEN 1 AND {close_after - 1}
    """
    return f"""
        SELECT v.* FROM core.meeting_versions v
        JOIN core.record_presence p ON p.last_fetch_id = v.fetch_id AND p.source_key = v.source_key
        WHERE p.source_id IN ({sql_text_list(source_ids)}) AND p.absent_runs < {close_after}
          AND NOT EXISTS (SELECT 1 FROM core.meeting_versions c
                          JOIN ops.source_state s ON s.source_id = c.source_id AND s.current_fetch_id = c.fetch_id
                          WHERE c.source_id = p.source_id AND c.source_key = p.source_key)
    """
