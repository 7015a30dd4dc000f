"""The operator's report (``clearinghouse report``), read from the warehouse: what each source's current data
contributed and what was not
understood (quarantine reasons, unknown type codes)."""

from __future__ import annotations

import duckdb

CURRENT = "SELECT source_id, current_fetch_id AS fetch_id FROM ops.source_state WHERE current_fetch_id IS NOT NULL"


def reconciliation(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Per source: parsed = normalized + quarantined for its current data."""
    return con.sql(
        f"""SELECT n.source_id, n.parsed, n.normalized, n.quarantined, n.parsed = n.normalized + n.quarantined
            FROM ops.normalized_fetches n JOIN ({CURRENT}) c USING (source_id, fetch_id) ORDER BY 1"""
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
