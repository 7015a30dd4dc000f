"""Resolution: source records → real-world meetings with ids that do not change from night to night.

1. ``matching``: blocking joins and rules find the pairs of current records that are the same meeting. A
   night re-scores only the pairs with a record that changed (``core.match_records`` keeps each record's
   fingerprint, ``core.match_pairs`` the links found); ``full`` re-scores all, with the same result.
2. ``clusters``: pairs become clusters; no cluster holds two listings of one source.
3. Ids: a cluster keeps the id of its oldest member (earliest ``first_linked_at`` in ``core.meeting_links``,
   then source id and key), so running twice gives the same ids and a new source that duplicates known
   meetings joins their ids. When two clusters claim one id (a split), the one with the oldest holder
   keeps it and the other gets ``ids.meeting_id`` of its own oldest member. Records that changed meeting
   are written to ``core.resolution_events`` (merge, split, move); records of a merged-away id that are
   not current (their source is disabled) follow the merge, so the retired id cannot come back.
4. ``survivorship`` builds ``core.meetings`` field by field (a meeting whose records did not change keeps its
   row); ``venues`` clusters their places.

Clusters, ids and meetings are rebuilt from the current versions in one transaction: the links are their
only memory. The
current versions are each enabled source's last good fetch plus, for the grace period, the last known version
of records its healthy fetches stopped listing (``transforms.presence``): a meeting closes only after that.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

import duckdb
import numpy as np
import pyarrow as pa

from foundation import ids
from foundation.source import Source
from foundation.sql import sql_text_list
from transforms import matching, presence
from transforms.clusters import cluster
from transforms.survivorship import MEETING_FIELDS, build_meetings, remember_meetings
from transforms.venues import build_venues

__all__ = ["MEETING_FIELDS", "resolve"]

DEFAULT_PRIORITY: int = Source.model_fields["priority"].default
"""Survivorship priority of a source the caller gives none for: the registry's default."""
MEMORY_LIMIT = "2GB"
"""DuckDB's share while resolving: a million records fit the 4 GB budget with Python and Arrow around it."""


def current_versions_sql(
    source_ids: Iterable[str], close_after: int = presence.CLOSE_AFTER_RUNS, replay: bool = False
) -> str:
    """The versions each enabled source currently contributes: its last good fetch, plus the last version of
    each record that fetch no longer lists, until it has been missing for ``close_after`` healthy runs."""
    ids = list(source_ids)
    return f"""
        SELECT v.* FROM core.meeting_versions v
        JOIN ops.source_state s ON s.source_id = v.source_id AND s.current_fetch_id = v.fetch_id
        WHERE v.source_id IN ({sql_text_list(ids)})
        UNION ALL
        {presence.carried_versions_sql(ids, close_after, replay)}
    """


def _clusters(con: duckdb.DuckDBPyConnection, n: int, edges: pa.Table) -> pa.Table:
    """``rid`` → ``cluster`` (the cluster's smallest rid) for every prepared record."""
    source = con.sql("SELECT src FROM res_records ORDER BY rid")
    labels = cluster(
        n,
        edges["a"].to_numpy(),
        edges["b"].to_numpy(),
        edges["score"].to_numpy(),
        edges["same_listing"].to_numpy(zero_copy_only=False),
        source.fetchnumpy()["src"],
    )
    return pa.table({"rid": np.arange(n, dtype=np.int32), "cluster": labels.astype(np.int32)})


CLAIMS_SQL = """
CREATE OR REPLACE TEMP TABLE res_claims AS
WITH holders AS (
    SELECT cluster, prev_id, min({'since': since, 'source_id': source_id, 'source_key': source_key}) AS holder
    FROM res_links WHERE prev_id IS NOT NULL GROUP BY cluster, prev_id
), best AS (
    SELECT cluster, arg_min(prev_id, holder) AS prev_id, min(holder) AS holder FROM holders GROUP BY cluster
)
SELECT cluster, prev_id, row_number() OVER (PARTITION BY prev_id ORDER BY holder) = 1 AS keeps FROM best
"""

FRESH_SQL = """
SELECT cluster, arg_min({'source_id': source_id, 'source_key': source_key},
                        {'since': since, 'source_id': source_id, 'source_key': source_key}) AS oldest
FROM res_links
WHERE cluster NOT IN (SELECT cluster FROM res_claims WHERE keeps)
GROUP BY cluster
"""

EVENTS_SQL = """
INSERT INTO core.resolution_events
SELECT $now, CASE WHEN l.prev_id NOT IN (SELECT meeting_id FROM res_ids) THEN 'merge'
                  WHEN i.fresh THEN 'split' ELSE 'move' END,
       i.meeting_id, l.prev_id, count(*),
       list({'source_id': l.source_id, 'source_key': l.source_key} ORDER BY l.source_id, l.source_key)
FROM res_links l JOIN res_ids i USING (cluster)
WHERE l.prev_id IS NOT NULL AND l.prev_id <> i.meeting_id
GROUP BY ALL
"""

# Non-current records of an id merged away follow the records of that id that were the oldest.
RELINK_RETIRED_SQL = """
UPDATE core.meeting_links k SET meeting_id = r.meeting_id
FROM (SELECT l.prev_id, arg_min(i.meeting_id, {'since': l.since, 'source_id': l.source_id,
                                               'source_key': l.source_key}) AS meeting_id
      FROM res_links l JOIN res_ids i USING (cluster)
      WHERE l.prev_id IS NOT NULL AND l.prev_id NOT IN (SELECT meeting_id FROM res_ids)
      GROUP BY l.prev_id) r
WHERE k.meeting_id = r.prev_id
"""

BEST_LINK_SQL = """
CREATE OR REPLACE TEMP TABLE res_best AS
WITH ends AS (
    SELECT a AS rid, b AS other, score, reasons FROM res_edges
    UNION ALL SELECT b, a, score, reasons FROM res_edges
)
SELECT e.rid, arg_max({'score': e.score, 'reasons': e.reasons, 'other': e.other}, {'s': e.score, 'o': -e.other})
           AS best
FROM ends e JOIN res_clusters x ON x.rid = e.rid JOIN res_clusters y ON y.rid = e.other
WHERE x.cluster = y.cluster
GROUP BY e.rid
"""

LINKS_SQL = """
CREATE OR REPLACE TEMP TABLE res_new_links AS
SELECT l.source_id, l.source_key, i.meeting_id,
       coalesce(b.best.score, 1.0) AS score, coalesce(b.best.reasons, 'only_record') AS reason,
       l.since AS first_linked_at, $now AS last_seen_at, o.source_id AS matched_source_id,
       o.source_key AS matched_source_key, l.prev_id IS NULL AS is_new
FROM res_links l
JOIN res_ids i USING (cluster)
LEFT JOIN res_best b USING (rid)
LEFT JOIN res_records o ON o.rid = b.best.other
"""


def _assign_ids(con: duckdb.DuckDBPyConnection) -> None:
    """``res_ids``: ``cluster`` → ``meeting_id`` and whether the id is new this run."""
    con.execute(CLAIMS_SQL)
    fresh = con.sql(FRESH_SQL).to_arrow_table()
    oldest = fresh["oldest"].to_pylist()
    fresh_ids = pa.table(
        {
            "cluster": fresh["cluster"],
            "meeting_id": pa.array([ids.meeting_id(o["source_id"], o["source_key"]) for o in oldest], pa.string()),
        }
    )
    con.register("res_fresh", fresh_ids)
    try:
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE res_ids AS
            SELECT cluster, prev_id AS meeting_id, FALSE AS fresh FROM res_claims WHERE keeps
            UNION ALL SELECT cluster, meeting_id, TRUE FROM res_fresh
            """
        )
    finally:
        con.unregister("res_fresh")
    clash = con.sql("SELECT meeting_id FROM res_ids GROUP BY meeting_id HAVING count(*) > 1 LIMIT 1").fetchall()
    if clash:
        raise RuntimeError(
            f"meeting id {clash[0][0]} would name two meetings: a new cluster's oldest record founded an id "
            "another cluster keeps; resolve refuses to publish ambiguous ids"
        )


def resolve(
    con: duckdb.DuckDBPyConnection,
    source_ids: Iterable[str],
    now: datetime,
    priorities: Mapping[str, int] | None = None,
    close_after: int = presence.CLOSE_AFTER_RUNS,
    replay: bool = False,
    full: bool = False,
) -> dict[str, int]:
    """Link every current record to a meeting, rebuild ``core.meetings`` and ``core.venues``; return counts.

    First counts each source's new healthy fetch into ``core.record_presence`` (``presence.observe``; their
    number is ``observed`` in the counts), so
    records missing for fewer than ``close_after`` healthy runs stay in with their last known version. ``replay``:
    the records come from a replayed day, which is no observation (``presence.carried_versions_sql``).
    ``priorities``: the registry ``priority`` of each source (survivorship); a source missing from it has
    the registry default. A connection on DuckDB's default memory limit is capped at ``MEMORY_LIMIT``
    while resolving (DuckDB spills to disk beyond it); a connection with its own limit keeps it. ``full``:
    score every pair of records again instead of only those with a record that changed (``matching.match``;
    the links, clusters and ids are the same either way).
    """
    setting = "SELECT current_setting('memory_limit')"
    with duckdb.connect() as fresh:
        capped = con.sql(setting).fetchall() == fresh.sql(setting).fetchall()
    if capped:
        con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    try:
        ids = list(source_ids)
        # a replayed day is no observation: it never advances absence counters
        observed = 0 if replay else presence.observe(con, ids, now)
        return {**_resolve(con, ids, now, priorities or {}, close_after, replay, full), "observed": observed}
    finally:
        for (table,) in con.sql(
            "SELECT table_name FROM duckdb_tables() WHERE temporary AND table_name LIKE 'res\\_%' ESCAPE '\\'"
        ).fetchall():
            con.execute(f"DROP TABLE {table}")
        if capped:
            con.execute("RESET memory_limit")


def _table(con: duckdb.DuckDBPyConnection, name: str, data: pa.Table) -> None:
    con.register(f"{name}_arrow", data)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
    finally:
        con.unregister(f"{name}_arrow")


def _resolve(
    con: duckdb.DuckDBPyConnection,
    source_ids: list[str],
    now: datetime,
    priorities: Mapping[str, int],
    close_after: int,
    replay: bool,
    full: bool,
) -> dict[str, int]:
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW current_versions AS {current_versions_sql(source_ids, close_after, replay)}"
    )
    full = full or not matching.remembered(con)
    n = matching.prepare(con, full)
    edges = matching.match(con, full)
    _table(con, "res_edges", edges)
    _table(con, "res_clusters", _clusters(con, n, edges))
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE res_links AS
        SELECT r.rid, c.cluster, r.source_id, r.source_key, l.meeting_id AS prev_id,
               coalesce(l.first_linked_at, $now) AS since
        FROM res_records r JOIN res_clusters c USING (rid)
        LEFT JOIN core.meeting_links l USING (source_id, source_key)
        """,
        {"now": now},
    )
    _assign_ids(con)
    con.execute(BEST_LINK_SQL)
    con.execute(LINKS_SQL, {"now": now})
    _table(
        con,
        "res_priorities",
        pa.table({"source_id": pa.array(list(priorities), pa.string()),
                  "priority": pa.array(list(priorities.values()), pa.int32())}),
    )  # fmt: skip
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE res_members AS
        SELECT v.*, i.meeting_id, coalesce(p.priority, {DEFAULT_PRIORITY}) AS priority, l.since
        FROM res_versions v
        JOIN res_links l ON l.rid = v.rid
        JOIN res_ids i USING (cluster)
        LEFT JOIN res_priorities p ON p.source_id = v.source_id
        """
    )
    con.execute("DROP TABLE res_versions")
    con.execute("BEGIN")
    try:
        con.execute(EVENTS_SQL, {"now": now})
        con.execute(RELINK_RETIRED_SQL)
        con.execute(
            """
            UPDATE core.meeting_links k SET meeting_id = n.meeting_id, score = n.score, reason = n.reason,
                   last_seen_at = n.last_seen_at, matched_source_id = n.matched_source_id,
                   matched_source_key = n.matched_source_key
            FROM res_new_links n
            WHERE NOT n.is_new AND k.source_id = n.source_id AND k.source_key = n.source_key
            """
        )
        con.execute("INSERT INTO core.meeting_links BY NAME SELECT * EXCLUDE (is_new) FROM res_new_links WHERE is_new")
        build_meetings(con, now, full)
        venues = build_venues(con)
        matching.remember(con)
        remember_meetings(con)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    counts = con.sql(
        """
        SELECT (SELECT count(*) FROM res_fingerprints WHERE changed),
               (SELECT count(*) FROM res_new_links WHERE is_new),
               (SELECT count(*) FROM core.meetings),
               (SELECT count(*) FROM core.meetings WHERE len(sources) > 1),
               (SELECT count(*) FROM core.resolution_events WHERE run_at = $now AND kind = 'merge'),
               (SELECT count(*) FROM core.resolution_events WHERE run_at = $now AND kind = 'split'),
               (SELECT count(*) FROM core.resolution_events WHERE run_at = $now AND kind = 'move')
        """,
        params={"now": now},
    ).fetchall()[0]
    names = ("rematched", "new_links", "meetings", "multi_source_meetings", "merges", "splits", "moves")
    return {"records": n, **dict(zip(names, counts, strict=True)), "venues": venues}
