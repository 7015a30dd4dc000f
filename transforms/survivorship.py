"""Survivorship: the canonical meeting built field by field from the records that back it.

Each field group has one rule; fields of a group come from the same record so they stay consistent (a
street never pairs with another source's city). Rules, with ties broken by the next rule and finally by
the lowest record:

- ``priority``: the registry's ``priority`` decides (an intergroup's own feed over a national finder);
- ``recency``: the most recently updated source decides (Zoom links and notes go stale first) — when every
  record of the meeting carries the source's updated stamp; a missing stamp says nothing, so then
  priority decides;
- ``completeness``: the most complete value decides (rooftop coordinates over a ZIP centroid, the longer
  type list, the fuller address).

A record without a value never wins over one with a value, so a merged meeting takes each field from a
source that gives it: the end time of the one source that states it (never an end another source left
unknown), conference notes, group notes, the entity. Attendance travels with the conference fields, so a
meeting is never "in person" with a Zoom link from another source. Some groups depend on another group's
winner (``same_as``): the end time comes from a record that starts when the meeting starts, the URL's notes
from a record with the same URL, the dial-in's notes from one with the same number.

For every meeting backed by several records, ``core.meeting_field_sources`` holds, per field, the position
(1-based) in ``core.meetings.sources`` of the record whose value won; the rule is the field's ``RULES``
entry. A single-record meeting takes every field from its only source and has no row there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

import duckdb

from foundation.model import FIELD_NAMES
from foundation.versions import files_digest


@dataclass(frozen=True)
class FieldRule:
    fields: tuple[str, ...]
    rule: str
    completeness: str = "0"
    """SQL over a record: larger is more complete (used by the ``completeness`` rule)."""
    present: str | None = None
    """SQL: the record gives the group (default: its first field has a value)."""
    same_as: tuple[str, ...] = ()
    """Fields of other groups a record must share with the meeting's winners to take part."""
    absent: tuple[tuple[str, str], ...] = ()
    """(field, SQL) values when no record takes part (a dependent group only)."""
    why: str = ""
    """Why this rule, for the data dictionary."""


RULES: tuple[FieldRule, ...] = (
    FieldRule(("fellowship",), "priority"),
    FieldRule(("name",), "priority"),
    FieldRule(("group_name",), "priority"),
    FieldRule(("group_notes",), "priority"),
    FieldRule(("district",), "priority"),
    FieldRule(("website",), "priority"),
    FieldRule(("weekday", "start_time", "timezone", "timezone_source"), "priority",
              why="the schedule of one source, so the weekday, start and zone agree"),
    FieldRule(("end_time", "duration_min", "end_time_source"), "priority", same_as=("start_time",),
              absent=(("end_time_source", "'none'"),),
              why="from a source that gives an end (or a duration) for the same start; unknown when none does"),
    FieldRule(("frequency", "weeks_of_month"), "priority", present="frequency <> 'weekly'",
              why="monthly when a source says so (weekly is every format's unstated default)"),
    FieldRule(("venue_name",), "priority"),
    FieldRule(
        ("address_line", "city", "region_code", "postal_code", "postal_code_ext", "country", "unparsed_address"),
        "completeness",
        "len(list_filter([address_line, city, region_code, postal_code, postal_code_ext, country],"
        " lambda x: x IS NOT NULL))",
        present="address_line IS NOT NULL OR unparsed_address IS NOT NULL OR city IS NOT NULL",
        why="the fullest address, its parts from one source",
    ),
    FieldRule(("source_regions",), "priority", present="len(source_regions) > 0"),
    FieldRule(
        ("latitude", "longitude", "geo_precision", "coordinates_source"),
        "completeness",
        "CASE WHEN coordinates_source = 'source' THEN 2 ELSE 0 END + CASE geo_precision WHEN 'rooftop' THEN 1 "
        "ELSE 0 END",
        why="a source's own rooftop point over a ZIP centroid",
    ),
    FieldRule(
        ("attendance", "conference_url", "conference_provider", "conference_id", "conference_phone"),
        "recency",
        "len(list_filter([conference_url, conference_phone], lambda x: x IS NOT NULL))",
        why="online access goes stale first; attendance travels with it",
    ),
    FieldRule(("conference_url_notes",), "recency", same_as=("conference_url",),
              why="notes (passcode) of the same URL"),
    FieldRule(("conference_phone_notes",), "recency", same_as=("conference_phone",),
              why="notes (access code) of the same dial-in"),
    FieldRule(("open_closed",), "priority"),
    FieldRule(("types", "source_types", "unknown_types"), "completeness", "len(types)"),
    FieldRule(("languages",), "completeness", "len(languages)"),
    FieldRule(("accessibility",), "completeness", "len(accessibility)"),
    FieldRule(("notes",), "recency"),
    FieldRule(("location_notes",), "recency"),
    FieldRule(("source_url",), "priority"),
    FieldRule(("entity", "entity_url", "entity_email", "entity_phone", "entity_location"), "priority",
              why="one entity's name and contacts together"),
    FieldRule(("feedback_url",), "priority"),
    FieldRule(("source_updated_at",), "recency"),
)  # fmt: skip
DERIVED = ("record_hash",)
"""Recomputed from the surviving fields, as normalization computes it for a version."""
MEETING_FIELDS = [f for f in FIELD_NAMES if f not in ("source_id", "source_key", "fetch_id")]
_LIST_FIELDS = {
    "types",
    "source_types",
    "unknown_types",
    "languages",
    "accessibility",
    "source_regions",
    "weeks_of_month",
}


SURVIVING_FIELDS = [f for r in RULES for f in r.fields]
RECORD_ID_BITS = 32
"""Low bits of a packed sort key: the record id, so ties go to the lowest record (deterministic)."""
_KEY_PARTS = {"recency": 16, "priority": 7, "completeness": 6}
"""Bits of each packed component: days since 1970, registry priority 0–100, completeness clamped to 63."""


def _present(rule: FieldRule) -> str:
    if rule.present:
        return f"({rule.present})"
    field = rule.fields[0]
    return f"(len({field}) > 0)" if field in _LIST_FIELDS else f"({field} IS NOT NULL)"


def _sort_key(rule: FieldRule) -> str:
    """One BIGINT per record that orders it for ``rule``: has a value, then the rule's criteria, then rid.

    Packing the criteria into an integer keeps ``arg_max`` a plain integer comparison over a million rows.
    """
    values = {
        "recency": "CASE WHEN all_stamped THEN (epoch(source_updated_at) // 86400)::BIGINT ELSE 0 END",
        "priority": "priority",
        "completeness": rule.completeness,
    }
    order = {
        "priority": ["priority", "recency", "completeness"],
        "recency": ["recency", "priority", "completeness"],
        "completeness": ["completeness", "priority", "recency"],
    }[rule.rule]
    key = f"((1::BIGINT << {RECORD_ID_BITS}) - 1 - rid)"
    shift = RECORD_ID_BITS
    for part in reversed(order):
        bits = _KEY_PARTS[part]
        key += f" + (least(greatest(({values[part]})::BIGINT, 0), {(1 << bits) - 1}) << {shift})"
        shift += bits
    return f"(coalesce({_present(rule)}, false)::BIGINT << {shift}) + {key}"


def _struct(fields: tuple[str, ...]) -> str:
    """The group's values plus the record they come from."""
    return "{" + ", ".join(f"'{f}': {f}" for f in fields) + ", 'rid': rid, 'pos': pos}"


def _hash(columns: list[str]) -> str:
    parts = ", ".join(f"coalesce(CAST({c} AS VARCHAR), chr(0))" for c in columns)
    return f"md5(concat_ws(chr(31), {parts}))"


def _survived_sql() -> str:
    """SQL creating ``res_survived``: per meeting of ``res_multi``, each group's winning values and positions.

    Independent groups are one ``arg_max`` each over the meeting's records; a dependent group's candidates
    are the records that share its ``same_as`` fields with the independent winners (none: ``absent``)."""
    independent = [(i, r) for i, r in enumerate(RULES) if not r.same_as]
    dependent = [(i, r) for i, r in enumerate(RULES) if r.same_as]
    groups = ", ".join(f"arg_max({_struct(r.fields)}, {_sort_key(r)}) AS g{i}" for i, r in independent)
    address = next(i for i, r in enumerate(RULES) if "address_line" in r.fields)
    winners = ", ".join(f"g{i}.{f} AS w_{f}" for i, r in independent for f in r.fields)
    joins = "".join(
        f"""
        LEFT JOIN (SELECT meeting_id, arg_max({_struct(r.fields)}, {_sort_key(r)}) AS g{i}
                   FROM res_multi JOIN first USING (meeting_id)
                   WHERE {_present(r)} AND {" AND ".join(f"{f} IS NOT DISTINCT FROM w_{f}" for f in r.same_as)}
                   GROUP BY meeting_id) USING (meeting_id)"""
        for i, r in dependent
    )
    values = []
    for i, r in enumerate(RULES):
        absent = dict(r.absent)
        for f in r.fields:
            value = f"w_{f}" if not r.same_as else f"coalesce(g{i}.{f}, {absent[f]})" if f in absent else f"g{i}.{f}"
            values.append(f"{value} AS {f}, g{i}.pos AS pos_{f}")
    return f"""
        CREATE OR REPLACE TEMP TABLE res_survived AS
        WITH grouped AS (
            SELECT meeting_id, {groups},
                   list({{'source_id': source_id, 'source_key': source_key}} ORDER BY pos) AS sources,
                   min(since) AS first_seen
            FROM res_multi GROUP BY meeting_id
        ), first AS (
            SELECT meeting_id, {winners}, {", ".join(f"g{i}" for i, _ in independent)}, g{address}.rid AS address_rid,
                   sources, first_seen
            FROM grouped
        )
        SELECT meeting_id, {", ".join(values)}, address_rid, sources, first_seen
        FROM first {joins}
    """


_SURVIVED_SQL = _survived_sql()


@cache
def code_version() -> str:
    """This module and the model's fields: a meeting kept from a run of other code is rebuilt."""
    return files_digest(",".join(MEETING_FIELDS), [Path(__file__)])


DIGESTS_SQL = """
CREATE OR REPLACE TEMP TABLE res_meeting_digests AS
SELECT meeting_id, bit_xor(hash(*COLUMNS(* EXCLUDE (rid, src, fetch_id, meeting_id)), $code)) AS digest
FROM res_members GROUP BY meeting_id
"""


def _row_hash(alias: str) -> str:
    """A hash of what survivorship writes of a meeting (``last_seen``, ``last_verified``, ``venue_id`` come later)."""
    return f"hash({', '.join(f'{alias}.{c}' for c in (*MEETING_FIELDS, 'sources', 'first_seen'))})"


KEPT_SQL = f"""
CREATE OR REPLACE TEMP TABLE res_kept_meetings AS
SELECT d.meeting_id FROM res_meeting_digests d
JOIN core.match_meetings m USING (meeting_id)
JOIN core.meetings c USING (meeting_id)
WHERE m.digest = d.digest AND m.row_hash = {_row_hash("c")} AND NOT $full
"""
"""The meetings the last run built from exactly the same records (none in a full pass), whose row is still the
one it built (a row another writer changed or removed is built again)."""


def build_meetings(con: duckdb.DuckDBPyConnection, now: datetime, full: bool = True) -> None:
    """Build ``core.meetings`` and ``core.meeting_field_sources`` from ``res_members``.

    ``res_members``: one row per current record with its version fields, ``rid``, ``meeting_id``,
    ``priority`` and ``since`` (when the record was first linked). Leaves ``res_meeting_address``
    (``meeting_id`` → ``rid`` of the record its address came from) for the venues. Unless ``full``, a meeting
    whose records are those the last run built it from, field for field, keeps its rows (only ``last_seen``
    moves, as a rebuilt row's would); ``remember_meetings`` keeps the digests for the next run.
    """
    fields = ", ".join(MEETING_FIELDS)
    published = [f for f in MEETING_FIELDS if f not in DERIVED]
    con.execute(DIGESTS_SQL, {"code": code_version()})
    con.execute(KEPT_SQL, {"full": full})
    con.execute("DELETE FROM core.meetings WHERE meeting_id NOT IN (SELECT meeting_id FROM res_kept_meetings)")
    con.execute(
        "DELETE FROM core.meeting_field_sources WHERE meeting_id NOT IN (SELECT meeting_id FROM res_kept_meetings)"
    )
    con.execute("UPDATE core.meetings SET last_seen = $now, last_verified = NULL", {"now": now})
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE res_built AS
        SELECT * FROM res_members WHERE meeting_id NOT IN (SELECT meeting_id FROM res_kept_meetings)
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE res_multi AS
        SELECT *, row_number() OVER (PARTITION BY meeting_id ORDER BY source_id, source_key) AS pos,
               bool_and(source_updated_at IS NOT NULL) OVER (PARTITION BY meeting_id) AS all_stamped
        FROM res_built WHERE meeting_id IN (SELECT meeting_id FROM res_built GROUP BY meeting_id
                                            HAVING count(*) > 1)
        """
    )
    con.execute(
        f"""
        INSERT INTO core.meetings BY NAME
        SELECT meeting_id, {fields}, [{{'source_id': source_id, 'source_key': source_key}}] AS sources,
               since AS first_seen, $now AS last_seen, 'active' AS status
        FROM res_built WHERE meeting_id NOT IN (SELECT meeting_id FROM res_multi)
        """,
        {"now": now},
    )
    con.execute(_SURVIVED_SQL)
    con.execute(
        f"""
        INSERT INTO core.meetings BY NAME
        SELECT meeting_id, {", ".join(published)}, {_hash(published)} AS record_hash, sources, first_seen,
               $now AS last_seen, 'active' AS status
        FROM res_survived
        """,
        {"now": now},
    )
    con.execute(
        f"""
        INSERT INTO core.meeting_field_sources BY NAME
        SELECT meeting_id, {", ".join(f"pos_{f} AS {f}" for f in SURVIVING_FIELDS)} FROM res_survived
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE res_meeting_address AS
        SELECT meeting_id, rid FROM res_built WHERE meeting_id NOT IN (SELECT meeting_id FROM res_multi)
        UNION ALL SELECT meeting_id, address_rid FROM res_survived
        UNION ALL
        SELECT k.meeting_id, r.rid FROM res_kept_meetings k JOIN core.match_meetings m USING (meeting_id)
        JOIN res_members r ON r.source_id = m.address_source_id AND r.source_key = m.address_source_key
        """
    )


def remember_meetings(con: duckdb.DuckDBPyConnection) -> None:
    """Keep each meeting's digest and address record for the next run's ``build_meetings``."""
    con.execute("DELETE FROM core.match_meetings")
    con.execute(
        f"""
        INSERT INTO core.match_meetings
        SELECT d.meeting_id, d.digest, {_row_hash("c")}, r.source_id, r.source_key
        FROM res_meeting_digests d JOIN core.meetings c USING (meeting_id)
        JOIN res_meeting_address a USING (meeting_id) JOIN res_members r ON r.rid = a.rid
        """
    )
