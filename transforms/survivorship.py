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

A record without a value never wins over one with a value. Attendance travels with the conference fields,
so a meeting is never "in person" with a Zoom link from another source.

For every meeting backed by several records, ``core.meeting_field_sources`` holds, per field, the position
(1-based) in ``core.meetings.sources`` of the record whose value won; the rule is the field's ``RULES``
entry. A single-record meeting takes every field from its only source and has no row there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from transforms.model import FIELD_NAMES


@dataclass(frozen=True)
class FieldRule:
    fields: tuple[str, ...]
    rule: str
    completeness: str = "0"
    """SQL over a record: larger is more complete (used by the ``completeness`` rule)."""


RULES: tuple[FieldRule, ...] = (
    FieldRule(("fellowship",), "priority"),
    FieldRule(("name",), "priority"),
    FieldRule(("group_name",), "priority"),
    FieldRule(("weekday", "start_time", "end_time", "duration_min", "timezone", "timezone_source"), "priority"),
    FieldRule(("venue_name",), "priority"),
    FieldRule(
        ("address_line", "city", "region_code", "postal_code", "postal_code_ext", "country"),
        "completeness",
        "len(list_filter([address_line, city, region_code, postal_code, postal_code_ext, country],"
        " lambda x: x IS NOT NULL))",
    ),
    FieldRule(
        ("latitude", "longitude", "geo_precision"),
        "completeness",
        "CASE geo_precision WHEN 'rooftop' THEN 2 WHEN 'postal' THEN 1 ELSE 0 END",
    ),
    FieldRule(
        ("attendance", "conference_url", "conference_provider", "conference_id", "conference_phone"),
        "recency",
        "len(list_filter([conference_url, conference_phone], lambda x: x IS NOT NULL))",
    ),
    FieldRule(("open_closed",), "priority"),
    FieldRule(("types", "source_types", "unknown_types"), "completeness", "len(types)"),
    FieldRule(("languages",), "completeness", "len(languages)"),
    FieldRule(("accessibility",), "completeness", "len(accessibility)"),
    FieldRule(("notes",), "recency"),
    FieldRule(("location_notes",), "recency"),
    FieldRule(("source_url",), "priority"),
    FieldRule(("source_updated_at",), "recency"),
)
DERIVED = ("record_hash",)
"""Recomputed from the surviving fields, as normalization computes it for a version."""
MEETING_FIELDS = [f for f in FIELD_NAMES if f not in ("source_id", "source_key", "fetch_id")]
_LIST_FIELDS = {"types", "source_types", "unknown_types", "languages", "accessibility"}


SURVIVING_FIELDS = [f for r in RULES for f in r.fields]
RECORD_ID_BITS = 32
"""Low bits of a packed sort key: the record id, so ties go to the lowest record (deterministic)."""
_KEY_PARTS = {"recency": 16, "priority": 7, "completeness": 6}
"""Bits of each packed component: days since 1970, registry priority 0–100, completeness clamped to 63."""


def _present(field: str) -> str:
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
    return f"({_present(rule.fields[0])}::BIGINT << {shift}) + {key}"


def _struct(fields: tuple[str, ...]) -> str:
    """The group's values plus the record they come from."""
    return "{" + ", ".join(f"'{f}': {f}" for f in fields) + ", 'rid': rid, 'pos': pos}"


def _hash(columns: list[str]) -> str:
    parts = ", ".join(f"coalesce(CAST({c} AS VARCHAR), chr(0))" for c in columns)
    return f"md5(concat_ws(chr(31), {parts}))"


def build_meetings(con: duckdb.DuckDBPyConnection, now: datetime) -> None:
    """Rebuild ``core.meetings`` and ``core.meeting_field_sources`` from ``res_members``.

    ``res_members``: one row per current record with its version fields, ``rid``, ``meeting_id``,
    ``priority`` and ``since`` (when the record was first linked). Leaves ``res_meeting_address``
    (``meeting_id`` → ``rid`` of the record its address came from) for the venues.
    """
    fields = ", ".join(MEETING_FIELDS)
    published = [f for f in MEETING_FIELDS if f not in DERIVED]
    address = next(i for i, r in enumerate(RULES) if "address_line" in r.fields)
    con.execute("DELETE FROM core.meetings")
    con.execute("DELETE FROM core.meeting_field_sources")
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE res_multi AS
        SELECT *, row_number() OVER (PARTITION BY meeting_id ORDER BY source_id, source_key) AS pos,
               bool_and(source_updated_at IS NOT NULL) OVER (PARTITION BY meeting_id) AS all_stamped
        FROM res_members WHERE meeting_id IN (SELECT meeting_id FROM res_members GROUP BY meeting_id
                                              HAVING count(*) > 1)
        """
    )
    con.execute(
        f"""
        INSERT INTO core.meetings BY NAME
        SELECT meeting_id, {fields}, [{{'source_id': source_id, 'source_key': source_key}}] AS sources,
               since AS first_seen, $now AS last_seen, 'active' AS status
        FROM res_members WHERE meeting_id NOT IN (SELECT meeting_id FROM res_multi)
        """,
        {"now": now},
    )
    groups = ", ".join(f"arg_max({_struct(r.fields)}, {_sort_key(r)}) AS g{i}" for i, r in enumerate(RULES))
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE res_survived AS
        SELECT meeting_id, {", ".join(f"g{i}.{f} AS {f}" for i, r in enumerate(RULES) for f in r.fields)},
               {", ".join(f"g{i}.pos AS pos_{f}" for i, r in enumerate(RULES) for f in r.fields)},
               g{address}.rid AS address_rid, sources, first_seen
        FROM (SELECT meeting_id, {groups},
                     list({{'source_id': source_id, 'source_key': source_key}} ORDER BY pos) AS sources,
                     min(since) AS first_seen
              FROM res_multi GROUP BY meeting_id)
        """
    )
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
        SELECT meeting_id, rid FROM res_members WHERE meeting_id NOT IN (SELECT meeting_id FROM res_multi)
        UNION ALL SELECT meeting_id, address_rid FROM res_survived
        """
    )
