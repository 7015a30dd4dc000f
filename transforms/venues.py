"""Venues: the in-person places meetings happen at, clustered across every fellowship.

A church that hosts AA on Monday, NA on Tuesday and Al-Anon on Friday is one venue, although the three
meetings never merge. Meetings are grouped by their surviving street address, normalized the way matching
normalizes it (``transforms.matching.street_key_sql``: units dropped, suffixes and ordinals abbreviated),
within the same city (matching's city key), region and country. The venue's name and address are the most
common ones among its meetings (ties go to the first in sort order, so a run is repeatable); its
coordinates are the median of their rooftop coordinates.

A venue's id is a digest of that normalized address key: the same place gets the same id every night,
whichever meeting was listed first.
"""

from __future__ import annotations

import duckdb

from foundation.ids import venue_id_sql

VENUE_ATTENDANCE = ("in_person", "hybrid", "inactive")
"""Meetings held (or temporarily not held) at a place; an online meeting's address is not where it meets."""


def build_venues(con: duckdb.DuckDBPyConnection) -> int:
    """Rebuild ``core.venues`` from ``core.meetings`` and set each meeting's ``venue_id``; returns the count.

    Reads the matching keys of the record each meeting's address came from (``res_meeting_address`` →
    ``res_records``), so the street is normalized once per run.
    """
    attendance = ", ".join(f"'{a}'" for a in VENUE_ATTENDANCE)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE res_venue_members AS
        SELECT m.meeting_id, m.fellowship, m.venue_name, m.address_line, m.city, m.region_code, m.postal_code,
               m.country,
               CASE WHEN m.geo_precision = 'rooftop' THEN m.latitude END AS lat,
               CASE WHEN m.geo_precision = 'rooftop' THEN m.longitude END AS lon,
               concat_ws('|', coalesce(m.country, ''), coalesce(m.region_code, ''), r.city_key, r.street_key)
                   AS venue_key
        FROM core.meetings m
        JOIN res_meeting_address a USING (meeting_id)
        JOIN res_records r ON r.rid = a.rid
        WHERE m.attendance IN ({attendance}) AND r.street_key IS NOT NULL AND r.city_key IS NOT NULL
        """
    )
    con.execute("DELETE FROM core.venues")
    con.execute(
        f"""
        INSERT INTO core.venues BY NAME
        WITH names AS (
            SELECT venue_key, venue_name, count(*) AS n FROM res_venue_members
            WHERE venue_name IS NOT NULL GROUP BY ALL
        ), addresses AS (
            SELECT venue_key, {{'address_line': address_line, 'city': city, 'region_code': region_code,
                               'postal_code': postal_code, 'country': country}} AS address, count(*) AS n
            FROM res_venue_members GROUP BY ALL
        ), places AS (
            SELECT venue_key, median(lat) AS latitude, median(lon) AS longitude,
                   list(DISTINCT fellowship ORDER BY fellowship) AS fellowships, count(*) AS meetings
            FROM res_venue_members GROUP BY venue_key
        )
        SELECT {venue_id_sql("p.venue_key")} AS venue_id, n.name, a.address.address_line,
               a.address.city, a.address.region_code, a.address.postal_code, a.address.country,
               p.latitude, p.longitude, p.fellowships, p.meetings
        FROM places p
        LEFT JOIN (SELECT venue_key, arg_min(venue_name, {{'n': -n, 'name': venue_name}}) AS name
                   FROM names GROUP BY venue_key) n USING (venue_key)
        JOIN (SELECT venue_key, arg_min(address, {{'n': -n, 'address': address}}) AS address
              FROM addresses GROUP BY venue_key) a USING (venue_key)
        """
    )
    con.execute(  # every meeting's, from this run (a meeting survivorship kept had last run's)
        f"""
        UPDATE core.meetings m SET venue_id = v.venue_id
        FROM (SELECT x.meeting_id, {venue_id_sql("v.venue_key")} AS venue_id
              FROM core.meetings x LEFT JOIN res_venue_members v USING (meeting_id)) v
        WHERE v.meeting_id = m.meeting_id
        """
    )
    return con.sql("SELECT count(*) FROM core.venues").fetchall()[0][0]
