"""The operator's report (``clearinghouse report``), read from the warehouse: what each source's current data
contributed and what was not
understood (quarantine reasons, unknown type codes)."""

from __future__ import annotations

import duckdb

CURRENT = "SELECT source_id, current_fetch_id AS fetch_id FROM ops.source_state WHERE current_fetch_id IS NOT NULL"


# The current records of each source linked to a meeting another current record of the same source also holds:
# the source lists one meeting twice (resolution publishes it once; ``core.meeting_links.reason`` says why).
LISTED_TWICE = f"""
SELECT l.source_id, l.meeting_id, l.source_key, l.reason,
       row_number() OVER (PARTITION BY l.source_id, l.meeting_id ORDER BY l.source_key) > 1 AS extra
FROM core.meeting_links l
JOIN core.meeting_versions v USING (source_id, source_key)
JOIN ({CURRENT}) c ON c.source_id = v.source_id AND c.fetch_id = v.fetch_id
QUALIFY count(*) OVER (PARTITION BY l.source_id, l.meeting_id) > 1
"""


def reconciliation(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Per source: parsed = normalized + quarantined for its current data, and how many of its records are a
    second listing of a meeting it already lists (published once: tell the source)."""
    return con.sql(
        f"""SELECT n.source_id, n.parsed, n.normalized, n.quarantined, n.parsed = n.normalized + n.quarantined,
                   (SELECT count(*) FILTER (WHERE extra) FROM ({LISTED_TWICE}) d WHERE d.source_id = n.source_id)
            FROM ops.normalized_fetches n JOIN ({CURRENT}) c USING (source_id, fetch_id) ORDER BY 1"""
    ).fetchall()


def listed_twice(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Each meeting a source lists more than once: its keys and why they are one meeting."""
    return con.sql(
        f"""SELECT source_id, meeting_id, string_agg(source_key, ', ' ORDER BY source_key) AS source_keys,
                   string_agg(DISTINCT reason, '; ') FILTER (WHERE reason LIKE '%duplicate%') AS why
            FROM ({LISTED_TWICE}) GROUP BY ALL ORDER BY 1, 3"""
    ).fetchall()


def quarantine_reasons(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.sql(
        f"""SELECT q.source_id, q.reason, count(*) AS records, any_value(q.value) AS example
            FROM core.quarantine q JOIN ({CURRENT}) c USING (source_id, fetch_id)
            GROUP BY ALL ORDER BY 1, 3 DESC"""
    ).fetchall()


def unknown_types(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Type codes the crosswalk does not know, per source, most frequent first: add them to the crosswalk."""
    return con.sql(
        f"""SELECT u.source_id, u.fellowship, u.code, sum(u.count)::BIGINT AS records
            FROM core.unknown_types u JOIN ({CURRENT}) c USING (source_id, fetch_id)
            GROUP BY ALL ORDER BY 1, 4 DESC, 3"""
    ).fetchall()


def fidelity(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Per source, what its current records really said: places kept as written because we could not parse
    them (``address_unparsed``; ``unparsed_addresses`` lists them), end times given / implied by a duration /
    not given, monthly meetings, and meetings published inactive."""
    return con.sql(
        f"""SELECT v.source_id, count(*) AS records,
                   count(*) FILTER (WHERE v.unparsed_address IS NOT NULL) AS address_unparsed,
                   count(*) FILTER (WHERE v.end_time_source = 'source') AS end_time_given,
                   count(*) FILTER (WHERE v.end_time_source = 'duration') AS end_from_duration,
                   count(*) FILTER (WHERE v.end_time_source = 'none') AS no_end_time,
                   count(*) FILTER (WHERE v.frequency = 'monthly') AS monthly,
                   count(*) FILTER (WHERE v.attendance = 'inactive') AS inactive
            FROM core.meeting_versions v JOIN ({CURRENT}) c USING (source_id, fetch_id)
            GROUP BY ALL ORDER BY 1"""
    ).fetchall()


def unparsed_addresses(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """The places each source wrote that we could not parse (published as written), most frequent first."""
    return con.sql(
        f"""SELECT v.source_id, v.unparsed_address, count(*) AS records
            FROM core.meeting_versions v JOIN ({CURRENT}) c USING (source_id, fetch_id)
            WHERE v.unparsed_address IS NOT NULL GROUP BY ALL ORDER BY 1, 3 DESC, 2"""
    ).fetchall()


def regions(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Per region of the last release (automatic ones first): kind, meetings, meetings per sub-region, what
    located them (``region_evidence``); an empty region says so."""
    return con.sql(
        """WITH members AS (
               SELECT r.region_id, r.sub_region, p.region_evidence FROM core.meeting_regions r
               JOIN core.meeting_places p USING (meeting_id)
           ), subs AS (
               SELECT g.region_id, string_agg(s.name || ' ' || coalesce(n.meetings, 0), ', ' ORDER BY s.i) AS subs
               FROM core.regions g, unnest(g.sub_regions) WITH ORDINALITY AS s(name, i)
               LEFT JOIN (SELECT region_id, sub_region, count(*) AS meetings FROM members GROUP BY ALL) n
                 ON n.region_id = g.region_id AND n.sub_region = s.name
               GROUP BY g.region_id
           ), evidence AS (
               SELECT region_id, string_agg(coalesce(region_evidence, 'none') || ' ' || n, ', ' ORDER BY n DESC,
                                            region_evidence) AS evidence
               FROM (SELECT region_id, region_evidence, count(*) AS n FROM members GROUP BY ALL) GROUP BY region_id
           )
           SELECT g.region_id, g.name, g.kind, (SELECT count(*) FROM members m WHERE m.region_id = g.region_id),
                  coalesce(s.subs, ''), coalesce(e.evidence, 'empty')
           FROM core.regions g LEFT JOIN subs s USING (region_id) LEFT JOIN evidence e USING (region_id)
           ORDER BY g.position"""
    ).fetchall()


def unplaced(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Published meetings in no region, per reason and source, with an example."""
    from transforms.regions import UNPLACED

    rows = con.sql(
        """SELECT p.unplaced, u.s.source_id, count(*) AS meetings,
                  any_value(m.name || ' (' || u.s.source_id || ' ' || u.s.source_key || ')') AS example
           FROM core.meeting_places p JOIN core.meetings m USING (meeting_id), unnest(m.sources) AS u(s)
           WHERE p.unplaced IS NOT NULL GROUP BY ALL ORDER BY 3 DESC, 1, 2"""
    ).fetchall()
    return [(reason, source, n, UNPLACED.get(reason, ""), example) for reason, source, n, example in rows]


def coordinate_conflicts(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Per source, the meetings whose coordinates contradict their address (the address wins), with examples:
    the address, the county the point lies in and how far it is from what the address names."""
    return con.sql(
        """SELECT u.s.source_id, count(*) AS meetings,
                  string_agg(concat_ws(', ', m.address_line, m.city, m.region_code, m.postal_code,
                                       nullif(array_to_string(m.source_regions, ' > '), '')) || ' → '
                             || coalesce(c.name || ' ' || c.state, 'outside every county') || ', '
                             || p.conflict_km || ' km', '; ' ORDER BY p.conflict_km DESC, m.meeting_id)
                  FILTER (WHERE p.coordinates_conflict) AS examples
           FROM core.meeting_places p JOIN core.meetings m USING (meeting_id), unnest(m.sources) AS u(s)
           LEFT JOIN ref.us_counties c ON c.fips = p.coordinates_county
           WHERE p.coordinates_conflict GROUP BY 1 ORDER BY 2 DESC, 1"""
    ).fetchall()
