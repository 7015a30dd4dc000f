"""Open Referral HSDS 3: the tabular datapackage (``hsds/*.csv`` + ``datapackage.json``) and the same data as
nested JSON (``hsds/services.json``), per scope — what 211s and referral systems import.

A meeting is a ``service`` of its fellowship's ``organization``; its place is a physical ``location`` with an
``address`` (shared by the meetings of one venue), its online access a virtual ``location`` (``url``; the
dial-in number a ``phone``), each linked by a ``service_at_location``. Canonical types, accessibility and
open/closed are attributes of the service (one term each, taxonomy ``clearinghouse``; the attribute's ``value``
repeats the term's code, so the nested JSON needs no copy of the term in every service); languages are
``language`` rows. Every id is a UUID derived from the meeting id (``foundation.ids.uuid_sql``), stable
across releases. Every fellowship of the directory (``ref.fellowships``) is an ``organization`` with a
``service`` of kind referral (attribute term ``referral``, value its category): "Find a … meeting", whose ``url``
is the fellowship's own finder and whose ``phone`` is its national helpline when one is sourced; referrals carry
no meeting and are in every scope, so a region without a fellowship's meetings still points to it. CSV columns
follow the official datapackage's field order (``hsds_schema/``); empty JSON
members are left out, as the schema types none as nullable.

The package is checked as a whole (``frictionless validate``), so it holds every resource its foreign keys
name: ``program`` and ``contact`` are written with their header only (meetings belong to no program, and
members' contacts are never published). An ``address`` row needs street, city, state and postal code (the
schema requires them): a place missing one of them has its ``location`` (name, coordinates) without an address.

Schedules: ``freq`` WEEKLY and ``byday`` MO…SU, or MONTHLY and "1SA" / "-1FR" for monthly meetings
(``_recurrence_sql``), ``opens_at``/``closes_at`` as the
meeting's local wall-clock time in the tabular ``time`` format ("19:00:00"). HSDS's ``timezone`` is a single UTC
offset, which is wrong for half the year in a zone with daylight saving, so it is written only for zones whose
offset is the same all year (America/Phoenix, Pacific/Honolulu …); the IANA zone is always kept as an
``attribute`` of the schedule (taxonomy term ``timezone``) and named in the description. A meeting that runs
past midnight has ``closes_at`` earlier than ``opens_at``: as in the iCalendar rules HSDS schedules follow, the
recurrence names the day the meeting starts and it ends on the next day, which the description spells out
("Saturday 23:30 – Sunday 00:30"). A meeting whose source gave no end has no ``closes_at``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa

from foundation.ids import uuid_sql
from foundation.model import WEEKDAYS
from foundation.sql import sql_text
from transforms.refdata import data_rows
from warehouse.exporters.common import (
    RELEASE_TABLE,
    SCOPE_VIEW,
    Scope,
    file_entry,
    hhmm_sql,
    iso_sql,
    target,
    temp_table,
    write_csv,
    write_json_items,
)

SCHEMA_DIR = Path(__file__).parent / "hsds_schema"
TABLES = ("organization", "program", "service", "location", "address", "service_at_location", "contact",
          "schedule", "phone", "language", "attribute", "taxonomy", "taxonomy_term")  # fmt: skip
"""HSDS resources written, in the datapackage's order of dependence (``program`` and ``contact`` stay empty)."""
FIXED_OFFSET_DAYS = 2 * 366
"""A zone's offset is written only if it is the same on every day of this many days from the release."""
TAXONOMY = "clearinghouse"
BYDAY = "['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU']"
ATTENDING = {"in_person": "in person", "online": "online", "hybrid": "in person or online",
             "inactive": "temporarily not meeting in person"}  # fmt: skip
ATTRIBUTION = "Human Services Data Specification: an Open Referral resource (resource schemas; CC BY-SA 4.0)"
EXTRA_TERMS = (
    ("open", "open_closed", "open meeting: anyone may attend"),
    ("closed", "open_closed", "closed meeting: for members and those who think they may have the problem"),
    ("timezone", "schedule", "IANA time zone of the schedule's local times; the attribute value is the zone name"),
    (
        "referral",
        "service_kind",
        "a referral to a fellowship's own meeting finder (its meetings may not be listed "
        "here); the attribute value is the fellowship's category",
    ),
)


@cache
def datapackage() -> dict[str, Any]:
    """The official HSDS 3.0 datapackage (resource schemas, field order)."""
    return json.loads((SCHEMA_DIR / "datapackage.json").read_text())


def resource(name: str) -> dict[str, Any]:
    return next(r for r in datapackage()["resources"] if r["name"] == name)


@cache
def fellowship_names() -> dict[str, str]:
    """Fellowship code → its longest spelled-out name ("AA" → "Alcoholics Anonymous")."""
    names: dict[str, str] = {}
    for row in data_rows("fellowship_aliases.csv"):
        alias, code = row["alias"], row["fellowship"]
        if len(alias) > len(names.get(code, "")) and alias != code.lower():
            names[code] = alias.title()
    return names


def fixed_offset(zone: str, now: datetime) -> float | None:
    """The zone's UTC offset in hours if it is the same every day of the next two years (no daylight saving),
    else ``None``: HSDS's numeric ``timezone`` cannot say "-5 in winter, -4 in summer"."""
    tz = ZoneInfo(zone)
    start = now.astimezone(UTC)
    offsets = {(start + timedelta(days=d)).astimezone(tz).utcoffset() for d in range(FIXED_OFFSET_DAYS)}
    if len(offsets) != 1:
        return None
    (offset,) = offsets
    return offset.total_seconds() / 3600 if offset is not None else None


def reference(con: duckdb.DuckDBPyConnection, now: datetime | None = None) -> None:
    """Small lookup tables: fellowship names, each zone's all-year offset (or null), the taxonomy's terms."""
    now = now or datetime.now(UTC)
    found = con.sql(f"SELECT DISTINCT timezone FROM {RELEASE_TABLE} WHERE timezone IS NOT NULL ORDER BY 1")
    zones = [z for (z,) in found.fetchall()]
    offsets = [fixed_offset(z, now) for z in zones]
    names = fellowship_names()
    terms = [(r["code"], r["group"], r["meaning"]) for r in data_rows("type_vocabulary.csv")] + list(EXTRA_TERMS)
    tables = {
        "hsds_zones": pa.table({"timezone": pa.array(zones, pa.string()),
                                "utc_offset": pa.array(offsets, pa.float64())}),
        "hsds_fellowships": pa.table({"fellowship": list(names), "fellowship_name": list(names.values())}),
        "hsds_terms": pa.table({"code": [t[0] for t in terms], "term_group": [t[1] for t in terms],
                                "meaning": [t[2] for t in terms]}),
    }  # fmt: skip
    for name, table in tables.items():
        temp_table(con, name, table)


def _time_sql(expr: str) -> str:
    """SQL for "HH:MM:SS" of a TIME (the tabular ``time`` type; "HH:MM" is not one)."""
    return f"strftime(DATE '2000-01-01' + {expr}, '%H:%M:%S')"


def _recurrence_sql(m: str) -> tuple[str, str]:
    """SQL for the schedule's (``freq``, ``byday``) of the meeting row ``m``: weekly on its weekday.

    Monthly meetings (canonical ``frequency`` / ``weeks_of_month``) become ``freq`` MONTHLY with one ``byday``
    per week of the month ("1SA", "-1FR", "1SA,3SA"); a monthly meeting whose source does not say which week
    has no ``byday`` (a bare "SA" would mean every Saturday) and its description says so. This is the one place
    that decides it."""
    day = f"{BYDAY}[{m}.weekday]"
    monthly = f"{m}.frequency = 'monthly'"
    weeks = f"array_to_string(list_transform({m}.weeks_of_month, lambda w: w::VARCHAR || {day}), ',')"
    return (
        f"CASE WHEN {monthly} THEN 'MONTHLY' ELSE 'WEEKLY' END",
        f"CASE WHEN NOT {monthly} THEN {day} WHEN len({m}.weeks_of_month) > 0 THEN {weeks} END",
    )


def _schedule_description_sql(m: str) -> str:
    """'Weekly on Monday 19:00–20:00, local time (America/New_York)'; past midnight the end names its day."""
    day = f"({_weekday_names()})[{m}.weekday]"
    next_day = f"({_weekday_names()})[{m}.weekday % 7 + 1]"
    start, end = hhmm_sql(f"{m}.start_time"), hhmm_sql(f"{m}.end_time")
    when = f"""CASE WHEN {m}.end_time IS NULL THEN {day} || ' from ' || {start}
                    WHEN {m}.end_time < {m}.start_time
                        THEN {day} || ' ' || {start} || ' – ' || {next_day} || ' ' || {end}
                    ELSE {day} || ' ' || {start} || '–' || {end} END"""
    ordinals = "['last', '', 'first', 'second', 'third', 'fourth', 'fifth']"
    weeks = f"array_to_string(list_transform({m}.weeks_of_month, lambda w: {ordinals}[w + 2]), ' and ')"
    how = f"""CASE WHEN {m}.frequency <> 'monthly' THEN 'Weekly on '
                   WHEN len({m}.weeks_of_month) > 0 THEN 'Monthly on the ' || {weeks} || ' '
                   ELSE 'Monthly (the source does not say which week) on ' END"""
    return f"{how} || {when} || ', local time (' || {m}.timezone || ')'"


def _tables_sql() -> dict[str, str]:
    """SQL of each HSDS table over every published meeting; rows carry ``meeting_id`` to cut scopes."""
    service = uuid_sql("service", "m.meeting_id")
    physical = uuid_sql("location", "coalesce(m.venue_id, m.meeting_id)")
    virtual = uuid_sql("virtual_location", "m.meeting_id")
    referral = uuid_sql("referral_service", "d.fellowship")
    schedule = uuid_sql("schedule", "m.meeting_id")
    term = uuid_sql("taxonomy_term", "t.code")
    has_place = "(m.attendance <> 'online' AND (m.address_line IS NOT NULL OR m.latitude IS NOT NULL))"
    has_online = "(m.conference_url IS NOT NULL OR m.conference_phone IS NOT NULL)"
    whole_address = " AND ".join(
        f"m.{c} IS NOT NULL" for c in ("address_line", "city", "region_code", "postal_code", "country")
    )
    freq, byday = _recurrence_sql("m")
    empty = "SELECT NULL::VARCHAR AS id, NULL::VARCHAR AS meeting_id WHERE false"
    return {
        "organization": f"""
            SELECT {uuid_sql("organization", "a.fellowship")} AS id,
                   coalesce(d.name, f.fellowship_name, a.fellowship) AS name,
                   coalesce(d.name || ' (' || a.fellowship || '), ' || d.category || ', for ' || d.helps_with
                                || '. ', '')
                       || CASE WHEN a.fellowship IN (SELECT fellowship FROM {RELEASE_TABLE})
                               THEN 'Meetings gathered from the public meeting lists of its service bodies.'
                               ELSE 'Referral only: no meetings of it are listed in this release; its own finder '
                                    || 'is the referral service.' END AS description,
                   d.website, a.fellowship
            FROM (SELECT fellowship FROM {RELEASE_TABLE} UNION SELECT fellowship FROM ref.fellowships) a
            LEFT JOIN ref.fellowships d USING (fellowship) LEFT JOIN hsds_fellowships f USING (fellowship)""",
        "program": empty,
        "service": f"""
            SELECT {service} AS id, {uuid_sql("organization", "m.fellowship")} AS organization_id, m.name,
                   m.group_name AS alternate_name, m.notes AS description, m.source_url AS url,
                   CASE m.attendance WHEN 'inactive' THEN 'temporarily closed' ELSE 'active' END AS status,
                   CASE m.open_closed WHEN 'open' THEN 'Open meeting: anyone may attend'
                        WHEN 'closed' THEN 'Closed meeting: for members and those who think they may have the problem'
                   END AS eligibility_description,
                   {iso_sql("m.updated_at")} AS last_modified, m.meeting_id
            FROM {RELEASE_TABLE} m
            UNION ALL
            SELECT {referral} AS id, {uuid_sql("organization", "d.fellowship")}, 'Find a ' || d.name || ' meeting',
                   NULL, 'Referral to the fellowship''s own finder: ' || d.how_it_publishes || '. Why: ' || d.why,
                   coalesce(d.finder_url, d.website), 'active', 'For ' || d.helps_with, NULL, NULL
            FROM ref.fellowships d""",
        "location": f"""
            SELECT {physical} AS id, 'physical' AS location_type, NULL AS url,
                   coalesce(m.venue_name, m.address_line) AS name, m.location_notes AS description,
                   m.latitude, m.longitude, m.meeting_id
            FROM {RELEASE_TABLE} m WHERE {has_place}
            UNION ALL
            SELECT {virtual}, 'virtual', m.conference_url, m.name || ' (online)', NULL, NULL, NULL, m.meeting_id
            FROM {RELEASE_TABLE} m WHERE {has_online}""",
        "address": f"""
            SELECT {uuid_sql("address", "coalesce(m.venue_id, m.meeting_id)")} AS id, {physical} AS location_id,
                   m.address_line AS address_1, m.city, m.region_code AS state_province, m.postal_code,
                   m.country, 'physical' AS address_type, m.meeting_id
            FROM {RELEASE_TABLE} m WHERE {has_place} AND {whole_address}""",
        "service_at_location": f"""
            SELECT {uuid_sql("service_at_location", "m.meeting_id || 'physical'")} AS id, {service} AS service_id,
                   {physical} AS location_id, m.meeting_id
            FROM {RELEASE_TABLE} m WHERE {has_place}
            UNION ALL
            SELECT {uuid_sql("service_at_location", "m.meeting_id || 'virtual'")}, {service}, {virtual},
                   m.meeting_id
            FROM {RELEASE_TABLE} m WHERE {has_online}""",
        "contact": empty,
        "schedule": f"""
            SELECT {schedule} AS id, {service} AS service_id, z.utc_offset AS timezone, 'MO' AS wkst,
                   {freq} AS freq, 1 AS interval, {byday} AS byday, {_schedule_description_sql("m")} AS description,
                   {_time_sql("m.start_time")} AS opens_at, {_time_sql("m.end_time")} AS closes_at,
                   ({_attending()})[m.attendance] AS attending_type, m.meeting_id
            FROM {RELEASE_TABLE} m LEFT JOIN hsds_zones z USING (timezone)""",
        "phone": f"""
            SELECT {uuid_sql("phone", "m.meeting_id")} AS id, {virtual} AS location_id, {service} AS service_id,
                   m.conference_phone AS number, 'voice' AS type, 'Dial-in number of the online meeting' AS description,
                   m.meeting_id
            FROM {RELEASE_TABLE} m WHERE m.conference_phone IS NOT NULL
            UNION ALL
            SELECT {uuid_sql("phone", "'helpline' || chr(31) || d.fellowship")}, NULL, {referral}, d.helpline, 'voice',
                   'National helpline of ' || d.name, NULL
            FROM ref.fellowships d WHERE d.helpline IS NOT NULL""",
        "language": f"""
            SELECT {uuid_sql("language", "m.meeting_id || chr(31) || u.code")} AS id, {service} AS service_id,
                   u.code, m.meeting_id
            FROM {RELEASE_TABLE} m, unnest(m.languages) AS u(code)""",
        "attribute": f"""
            SELECT {uuid_sql("attribute", "m.meeting_id || chr(31) || t.code")} AS id, {service} AS link_id,
                   {term} AS taxonomy_term_id, t.term_group AS link_type, 'service' AS link_entity, t.code AS value,
                   m.meeting_id
            FROM {RELEASE_TABLE} m,
                 unnest(list_concat(m.types, m.accessibility,
                                    CASE WHEN m.open_closed IS NULL THEN [] ELSE [m.open_closed] END)) AS u(code)
            JOIN hsds_terms t ON t.code = u.code
            UNION ALL
            SELECT {uuid_sql("attribute", "m.meeting_id || chr(31) || 'timezone'")}, {schedule}, {term}, 'timezone',
                   'schedule', m.timezone, m.meeting_id
            FROM {RELEASE_TABLE} m JOIN hsds_terms t ON t.code = 'timezone'
            WHERE m.timezone IS NOT NULL
            UNION ALL
            SELECT {uuid_sql("attribute", "'referral' || chr(31) || d.fellowship")}, {referral}, {term},
                   t.term_group, 'service', d.category, NULL
            FROM ref.fellowships d JOIN hsds_terms t ON t.code = 'referral'""",
        "taxonomy": f"""
            SELECT {uuid_sql("taxonomy", sql_text(TAXONOMY))} AS id, {sql_text(TAXONOMY)} AS name,
                   'Meeting attributes of the clearinghouse (docs/data-dictionary.md: types vocabulary)'
                       AS description, '1' AS version""",
        "taxonomy_term": f"""
            SELECT {term} AS id, t.code, replace(t.code, '_', ' ') AS name, t.meaning AS description,
                   {sql_text(TAXONOMY)} AS taxonomy, {uuid_sql("taxonomy", sql_text(TAXONOMY))} AS taxonomy_id
            FROM hsds_terms t""",
    }


def _weekday_names() -> str:
    return "[" + ", ".join(sql_text(WEEKDAYS[d]) for d in sorted(WEEKDAYS)) + "]"


def _attending() -> str:
    return "MAP {" + ", ".join(f"{sql_text(k)}: {sql_text(v)}" for k, v in ATTENDING.items()) + "}"


SERVICE_JSON_SQL = """
CREATE OR REPLACE TEMP TABLE hsds_service_json AS
WITH attributes AS (SELECT link_id, list_sort(list({attribute_json})) AS items FROM hsds_attribute a GROUP BY link_id),
addresses AS (
    SELECT location_id, list_sort(list({address_json})) AS items
    FROM (SELECT DISTINCT ON (id) * FROM hsds_address ORDER BY id, meeting_id) a GROUP BY location_id
),
locations AS (
    SELECT l.id, json_merge_patch({location_json}, json_object('addresses', a.items)) AS j
    FROM (SELECT DISTINCT ON (id) * FROM hsds_location ORDER BY id, meeting_id) l
    LEFT JOIN addresses a ON a.location_id = l.id
),
at_locations AS (
    SELECT s.service_id, list_sort(list(json_merge_patch({sal_json}, json_object('location', l.j)))) AS items
    FROM hsds_service_at_location s JOIN locations l ON l.id = s.location_id GROUP BY s.service_id
),
schedules AS (
    SELECT s.service_id, list_sort(list(json_merge_patch({schedule_json}, json_object('attributes', a.items))))
           AS items
    FROM hsds_schedule s LEFT JOIN attributes a ON a.link_id = s.id GROUP BY s.service_id
),
phones AS (SELECT service_id, list_sort(list({phone_json})) AS items FROM hsds_phone GROUP BY service_id),
languages AS (SELECT service_id, list_sort(list({language_json})) AS items FROM hsds_language GROUP BY service_id),
organizations AS (SELECT id, {organization_json} AS j FROM hsds_organization)
SELECT s.meeting_id,
       json_merge_patch({service_json}, json_object('organization', o.j, 'schedules', sc.items,
                        'service_at_locations', sal.items, 'phones', p.items, 'languages', la.items,
                        'attributes', a.items))::VARCHAR AS j
FROM hsds_service s
LEFT JOIN organizations o ON o.id = s.organization_id
LEFT JOIN schedules sc ON sc.service_id = s.id
LEFT JOIN at_locations sal ON sal.service_id = s.id
LEFT JOIN phones p ON p.service_id = s.id
LEFT JOIN languages la ON la.service_id = s.id
LEFT JOIN attributes a ON a.link_id = s.id
"""


def _columns(name: str) -> list[str]:
    return [f["name"] for f in resource(name)["schema"]["fields"]]


def _object(con: duckdb.DuckDBPyConnection, name: str, alias: str) -> str:
    """SQL for the JSON object (nulls left out) of an ``hsds_<name>`` row: the official fields it has."""
    have = set(con.sql(f"SELECT * FROM hsds_{name} LIMIT 0").columns)
    fields = ", ".join(f"'{c}': {alias}.{c}" for c in _columns(name) if c in have)
    return f"json_merge_patch('{{}}', to_json({{{fields}}}))"


def prepare(con: duckdb.DuckDBPyConnection, now: datetime | None = None) -> None:
    """Build the ``hsds_*`` tables over every published meeting (scopes filter them)."""
    reference(con, now)
    for name, sql in _tables_sql().items():
        con.execute(f"CREATE OR REPLACE TEMP TABLE hsds_{name} AS {sql}")
    objects = {f"{name}_json": _object(con, name, alias) for name, alias in (
        ("attribute", "a"), ("address", "a"), ("location", "l"),
        ("service_at_location", "s"), ("schedule", "s"), ("phone", "hsds_phone"), ("language", "hsds_language"),
        ("organization", "hsds_organization"), ("service", "s"))}  # fmt: skip
    objects["sal_json"] = objects.pop("service_at_location_json")
    con.execute(SERVICE_JSON_SQL.format(**objects))


def _scoped(name: str) -> str:
    """SQL of the rows of ``hsds_<name>`` the scope needs, one per id."""
    if name in ("taxonomy", "taxonomy_term"):
        return f"SELECT * FROM hsds_{name}"
    in_scope = f"SELECT meeting_id FROM {SCOPE_VIEW}"
    if name == "organization":  # every fellowship: its referral service is in every scope
        return "SELECT * FROM hsds_organization"
    return (
        f"SELECT DISTINCT ON (id) * FROM hsds_{name} WHERE meeting_id IN ({in_scope}) OR meeting_id IS NULL "
        "ORDER BY id, meeting_id"
    )


def _datapackage(scope: Scope, files: dict[str, str]) -> dict[str, Any]:
    official = datapackage()
    return {
        "name": f"clearinghouse-meetings-{scope.region or 'all'}",
        "title": f"Self-help group meetings: {scope.name}",
        "description": "Meetings as Open Referral HSDS 3.0 (https://openreferral.org/): one service per meeting.",
        "profile": official["profile"],
        "version": official["version"],
        "sources": [{"title": ATTRIBUTION, "path": "https://openreferral.org/"}],
        "resources": [{**resource(name), "path": path} for name, path in files.items()],
    }


def write(con: duckdb.DuckDBPyConnection, scope: Scope, root: Path) -> list[dict[str, Any]]:
    folder = f"{scope.folder}hsds/"
    entries, paths = [], {}
    for name in TABLES:
        have = set(con.sql(f"SELECT * FROM hsds_{name} LIMIT 0").columns)
        select = ", ".join(c if c in have else f"NULL AS {c}" for c in _columns(name))
        path = target(root, folder + resource(name)["path"])
        rows = write_csv(con, f"SELECT {select} FROM ({_scoped(name)})", "id", path)
        entries.append(file_entry(root, path, rows))
        paths[name] = resource(name)["path"]
    package = target(root, f"{folder}datapackage.json")
    package.write_text(json.dumps(_datapackage(scope, paths), indent=2) + "\n")
    services = target(root, f"{folder}services.json")
    in_scope = f"(meeting_id IN (SELECT meeting_id FROM {SCOPE_VIEW}) OR meeting_id IS NULL)"
    count = write_json_items(
        con, f"SELECT j FROM hsds_service_json WHERE {in_scope} ORDER BY meeting_id, j", services, "[\n", "\n]"
    )
    return [*entries, file_entry(root, package, None), file_entry(root, services, count)]
