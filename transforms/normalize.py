"""Normalization: staging source records → canonical meeting versions, quarantine rows, unknown type codes.

Every rule lives in a small module (``timeparse``, ``address``, ``geo``, ``conference``, ``crosswalk``,
``text``, ``privacy``); this module wires them over Arrow columns. Rules run once per *distinct* input
(``vector.map_distinct``), the rest is Arrow compute, so a night's hundred thousand records take seconds.

Per (source, fetch), every staging row ends up in exactly one of ``versions`` or ``quarantine``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from foundation.model import CANONICAL_FIELDS, COORDINATES_SOURCES, FIELD_NAMES, TIMEZONE_SOURCES
from foundation.source import Source
from foundation.timeparse import parse_timestamp, schedule
from transforms.address import NO_PLACE_TEXT, Address, clean_address, split_details, unparsed_place
from transforms.conference import normalize_phone, parse_conference_url
from transforms.crosswalk import classify, fellowship_code, language_codes, scheme_for
from transforms.gazetteer import city_timezone, region_timezone
from transforms.geo import locate, valid_timezone, zip_info
from transforms.privacy import redact
from transforms.recurrence import CANDIDATE, recurrence
from transforms.text import clean_text
from transforms.vector import map_distinct

VALUE_MAX_CHARS = 200
NAME_MAX_CHARS = 200
"""Real names run to about 90 characters; a longer one is notes or a page pasted into the name field."""

QUARANTINE_REASONS: dict[str, tuple[str, str]] = {
    # Normalization's own reasons. The staging suite (``dq:*``) catches a missing name, weekday or time before
    # normalization runs; these still catch what only normalization sees (a name that is only markup or a
    # NULL literal, a time no rule reads, no time zone from anything) and guard callers that skip staging.
    "no_name": ("name", "expected a meeting name; the record has none (blank or a NULL literal)"),
    "name_too_long": (
        "name",
        f"expected a meeting name of at most {NAME_MAX_CHARS} characters; a longer value is not a name",
    ),
    "no_weekday": (
        "weekday",
        "expected a weekday (Monday–Sunday); the source gave none or one that is not a day",
    ),
    "no_time": ("start_time", "expected a start time; the source gave none"),
    "bad_time": ("start_time", "expected a start time such as 18:30, 6:30 PM, 7:00a, noon or 18:30:00"),
    "no_timezone": (
        "timezone",
        "expected a time zone from the record, its coordinates, ZIP code, city or state, or the registry's "
        "timezone or region; found none (give the source a timezone: in the registry)",
    ),
}
"""Reason code → (field, what was expected). Order is priority: a record is quarantined for the first."""

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("source_id", pa.string(), nullable=False),
        pa.field("fetch_id", pa.string(), nullable=False),
        pa.field("source_key", pa.string()),
        pa.field("record_index", pa.int32(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("field", pa.string(), nullable=False),
        pa.field("value", pa.string()),
        pa.field("detail", pa.string(), nullable=False),
    ]
)
UNKNOWN_TYPES_SCHEMA = pa.schema(
    [
        pa.field("source_id", pa.string(), nullable=False),
        pa.field("fetch_id", pa.string(), nullable=False),
        pa.field("fellowship", pa.string(), nullable=False),
        pa.field("code", pa.string(), nullable=False),
        pa.field("count", pa.int64(), nullable=False),
    ]
)
_ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "TINYINT": pa.int8(),
    "TINYINT[]": pa.list_(pa.int8()),
    "SMALLINT": pa.int16(),
    "DOUBLE": pa.float64(),
    "TIME": pa.time64("us"),
    "TIMESTAMP": pa.timestamp("us"),
    "VARCHAR[]": pa.list_(pa.string()),
}
VERSIONS_SCHEMA = pa.schema([pa.field(f.name, _ARROW_TYPES[f.type]) for f in CANONICAL_FIELDS])
"""Arrow schema of ``NormalizeResult.versions``, derived from the canonical model."""

_HASHED = [name for name in FIELD_NAMES if name not in ("source_id", "source_key", "fetch_id", "record_hash")]
_ATTENDANCE_HINTS = {
    "in_person": "in_person", "in person": "in_person", "inperson": "in_person", "1": "in_person",
    "online": "online", "virtual": "online", "2": "online",
    "hybrid": "hybrid", "3": "hybrid",
    "inactive": "inactive", "temporarily closed": "inactive",
}  # fmt: skip
"""Meeting Guide ``attendance_option`` and BMLT ``venue_type`` (1 in person, 2 virtual, 3 hybrid)."""
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_YES = frozenset({"yes", "true", "1", "y"})
_NO = frozenset({"no", "false", "0", "n"})
_STRING_LIST = pa.list_(pa.string())


@dataclass(frozen=True)
class NormalizeResult:
    versions: pa.Table
    """Columns exactly ``foundation.model.FIELD_NAMES`` (``VERSIONS_SCHEMA``)."""
    quarantine: pa.Table
    """``QUARANTINE_SCHEMA``: one row per record that could not become a meeting, with the first reason."""
    unknown_types: pa.Table
    """``UNKNOWN_TYPES_SCHEMA``: every source type code the crosswalk did not know, per source and fetch."""


def _free_text(value: str | None, keep_phone: str | None, multiline: bool) -> tuple[str | None]:
    return (redact(clean_text(value, multiline=multiline), keep_phone=keep_phone),)


def _single_line(value: str | None, keep_phone: str | None) -> tuple[str | None]:
    return _free_text(value, keep_phone, multiline=False)


def _multi_line(value: str | None, keep_phone: str | None) -> tuple[str | None]:
    return _free_text(value, keep_phone, multiline=True)


def _plain(value: str | None) -> tuple[str | None]:
    return (clean_text(value),)


def _url(value: str | None, schemes: tuple[str, ...] = ("http://", "https://")) -> tuple[str | None]:
    text = clean_text(value)
    return (text if text and text.lower().startswith(schemes) and " " not in text else None,)


def _feedback_url(value: str | None) -> tuple[str | None]:
    """The spec allows on- and off-site pages and ``mailto:`` links."""
    return _url(value, ("http://", "https://", "mailto:"))


def _email(value: str | None) -> tuple[str | None]:
    text = clean_text(value)
    return (text if text and _EMAIL.match(text) else None,)


def _labels(values: list[str]) -> tuple[list[str]]:
    """Region labels as plain text, blanks out, a label repeated next to itself once (county "Bronx" > borough
    "Bronx")."""
    labels: list[str] = []
    for value in values:
        if (text := clean_text(value)) and (not labels or labels[-1].casefold() != text.casefold()):
            labels.append(text)
    return (labels,)


def _approximate(value: str | None) -> tuple[bool | None]:
    text = (value or "").strip().lower()
    return (True if text in _YES else False if text in _NO else None,)


def _types(codes: list[str], languages: list[str], scheme: str, fellowship: str) -> tuple[object, ...]:
    c = classify(codes, scheme, fellowship)
    langs = sorted(set(c.languages) | set(language_codes(languages)))
    return c.open_closed, c.types, c.accessibility, langs, sorted(c.attendance), c.unknown


def _attendance(
    hint: str | None, signals: list[str], online: bool, exact: bool, place: bool, approximate: bool | None
) -> tuple[str]:
    """As the 12 Step Meeting List and BMLT derive attendance, with one difference: without an ``approximate``
    flag from the source, a place the source gives keeps the meeting in person even when we could not read it
    as a street address (inactive is for meetings the source closes or gives no place and no access for)."""
    if known := _ATTENDANCE_HINTS.get((hint or "").strip().lower()):
        return (known,)
    if "hybrid" in signals:
        return ("hybrid",)
    if "online" in signals:
        return ("online",)
    online = online or "online_access" in signals
    if "location_closed" in signals:
        return ("online" if online else "inactive",)
    if online:
        return ("hybrid" if exact else "online",)
    in_person = exact if approximate is not None else place
    return ("in_person" if in_person else "inactive",)


def _minutes_to_time(minutes: pa.Array) -> pa.Array:
    return pc.multiply(minutes.cast(pa.int64()), 60_000_000).cast(pa.time64("us"))


def _source_columns(source_id: pa.Array, sources: Mapping[str, Source]) -> dict[str, pa.Array]:
    missing = sorted(set(pc.unique(source_id).to_pylist()) - set(sources))
    if missing:
        raise ValueError(f"staging rows of sources missing from the registry: {', '.join(missing)}")

    def attrs(source_id: str) -> tuple[str, str, str | None, str, str | None]:
        s = sources[source_id]
        return (
            scheme_for(s.family),
            s.fellowship,
            s.timezone or region_timezone(s.region, s.country),
            s.country,
            s.region,
        )

    names = ("scheme", "fellowship", "timezone", "country", "region")
    columns = map_distinct(attrs, [source_id], [pa.string()] * len(names))
    return dict(zip(names, columns, strict=True))


def _hash_part(field: pa.Field) -> str:
    """A field as text with an explicit, version-stable format (lists joined, coordinates to 7 decimals)."""
    if pa.types.is_list(field.type):
        text = f"array_to_string({field.name}, chr(30))"
    elif pa.types.is_floating(field.type):
        text = f"printf('%.7f', {field.name})"
    else:
        text = f"CAST({field.name} AS VARCHAR)"
    return f"coalesce({text}, chr(0))"


_HASH_SQL = "SELECT md5(concat_ws(chr(31), {})) AS h FROM v".format(
    ", ".join(_hash_part(VERSIONS_SCHEMA.field(name)) for name in _HASHED)
)


def _record_hash(versions: pa.Table) -> pa.Array:
    """md5 of the published fields (not provenance), computed by DuckDB in one vectorized pass."""
    con = duckdb.connect()
    try:
        con.register("v", versions)
        return con.sql(_HASH_SQL).to_arrow_table()["h"].combine_chunks()
    finally:
        con.close()


def _text_columns(t: dict[str, pa.Array]) -> dict[str, pa.Array]:
    """Free text cleaned and redacted (keeping the meeting's own dial-in), links, the source's stamp."""
    phone = t["conference_phone"]

    def text(name: str, rule=_single_line) -> pa.Array:
        return map_distinct(rule, [t[name], phone], [pa.string()])[0]

    def value(name: str, rule=_plain) -> pa.Array:
        return map_distinct(rule, [t[name]], [pa.string()])[0]

    return {
        "name": text("name"),
        "group_name": text("group_name"),
        "group_notes": text("group_notes", _multi_line),
        "notes": text("notes", _multi_line),
        "conference_url_notes": text("conference_url_notes", _multi_line),
        "conference_phone_notes": text("conference_phone_notes", _multi_line),
        "district": value("district"),
        "entity": value("entity"),
        "entity_location": value("entity_location"),
        "entity_phone": value("entity_phone"),
        "entity_email": value("entity_email", _email),
        "website": value("website", _url),
        "entity_url": value("entity_url", _url),
        "feedback_url": value("feedback_url", _feedback_url),
        "source_url": value("source_url", _url),
        "source_regions": map_distinct(_labels, [t["source_regions"]], [_STRING_LIST])[0],
        "source_updated_at": map_distinct(
            lambda v: (parse_timestamp(v),), [t["source_updated_at"]], [pa.timestamp("us")]
        )[0],
    }


def _schedule_columns(t: dict[str, pa.Array], name: pa.Array, notes: pa.Array) -> dict[str, pa.Array]:
    start, end, duration, end_source = map_distinct(
        schedule, [t["start_time"], t["end_time"], t["duration"]], [pa.int16(), pa.int16(), pa.int16(), pa.string()]
    )
    said = pc.or_(
        pc.fill_null(pc.match_substring_regex(name, CANDIDATE), False),
        pc.fill_null(pc.match_substring_regex(notes, CANDIDATE), False),
    )
    frequency, weeks = map_distinct(
        lambda n, o, w, s: tuple(recurrence(n, o, w, s)),
        [pc.if_else(said, name, None), pc.if_else(said, notes, None), t["weekday"], start],
        [pa.string(), pa.list_(pa.int8())],
    )
    return {"start_time": start, "end_time": end, "duration_min": duration, "end_time_source": end_source,
            "frequency": frequency, "weeks_of_month": weeks}  # fmt: skip


def _place(*values: str | None) -> tuple[str | None, ...]:
    """The canonical address, the details split off its street and the place text we could not read (both
    redacted: a listing that writes "please call 555-0100 for location" in its address column exists)."""
    *fields, default_country, default_region = values
    address = clean_address(*fields, default_country, default_region)
    street, details = split_details(address.address_line, address.city, address.region_code, address.postal_code)
    formatted, line = fields[6], fields[1]
    unparsed = unparsed_place(formatted or line, address)
    inside = "; ".join(d for d in (address.details, details) if d) or None
    return (*address._replace(address_line=street)[:-1], redact(inside), redact(unparsed))


def _location_notes(details: str | None, notes: str | None) -> tuple[str | None]:
    return ("\n".join(n for n in (details, notes) if n) or None,)


def _local_timezone(city: str | None, region: str | None, country: str | None) -> tuple[str | None, str | None]:
    return city_timezone(city, region, country), region_timezone(region, country)


def _place_columns(t: dict[str, pa.Array], src: dict[str, pa.Array]) -> tuple[dict[str, pa.Array], pa.Array]:
    """Address, coordinates and time zone; also whether the address is exact (for attendance)."""
    names = [*Address._fields[:-1], "location_details", "unparsed_address"]
    inputs = ["venue_name", "address", "city", "region_code", "postal_code", "country", "formatted_address"]
    cleaned = [map_distinct(lambda v: (clean_text(v),), [t[c]], [pa.string()])[0] for c in inputs]
    values = map_distinct(_place, [*cleaned, src["country"], src["region"]], [pa.string()] * len(names))
    place = dict(zip(names, values, strict=True))
    lat, lon, coord_tz = map_distinct(
        lambda la, lo, c: tuple(locate(la, lo, c)),
        [t["latitude"], t["longitude"], place["country"]],
        [pa.float64(), pa.float64(), pa.string()],
    )
    zip_lat, zip_lon, zip_tz = map_distinct(
        lambda p, c: tuple(z[:3]) if (z := zip_info(p, c)) else (None, None, None),
        [place["postal_code"], place["country"]],
        [pa.float64(), pa.float64(), pa.string()],
    )
    city_tz, state_tz = map_distinct(
        _local_timezone, [place["city"], place["region_code"], place["country"]], [pa.string(), pa.string()]
    )
    (approximate,) = map_distinct(_approximate, [t["approximate"]], [pa.bool_()])
    street = pc.or_(pc.is_valid(place["address_line"]), pc.fill_null(pc.match_substring_regex(
        place["unparsed_address"], r"\d"), False))  # fmt: skip
    exact = pc.if_else(pc.is_valid(approximate), pc.invert(approximate), street)
    has_coords = pc.is_valid(lat)
    named = pc.invert(pc.fill_null(pc.match_substring_regex(place["venue_name"], NO_PLACE_TEXT.pattern,
                                                           ignore_case=True), True))  # fmt: skip
    given = pc.or_(pc.or_(street, named), pc.or_(pc.is_valid(place["unparsed_address"]), has_coords))
    place["latitude"] = pc.if_else(has_coords, lat, zip_lat)
    place["longitude"] = pc.if_else(has_coords, lon, zip_lon)
    place["geo_precision"] = pc.if_else(
        has_coords, pc.if_else(exact, "rooftop", "postal"), pc.if_else(pc.is_valid(zip_lat), "postal", "none")
    )
    place["coordinates_source"] = pc.case_when(
        pa.StructArray.from_arrays([has_coords, pc.is_valid(zip_lat)], names=list(COORDINATES_SOURCES[:2])),
        *COORDINATES_SOURCES,
    )
    (record_tz,) = map_distinct(lambda v: (valid_timezone(v),), [t["timezone"]], [pa.string()])
    candidates = (record_tz, coord_tz, zip_tz, city_tz, state_tz, src["timezone"])
    place["timezone"] = pc.coalesce(*candidates)
    place["timezone_source"] = pc.case_when(
        pa.StructArray.from_arrays([pc.is_valid(x) for x in candidates], names=list(TIMEZONE_SOURCES)),
        *TIMEZONE_SOURCES,
    )
    signals = {"exact": exact, "place": given, "approximate": approximate}
    return place, signals


def _type_columns(
    t: dict[str, pa.Array], scheme: pa.Array, fellowship: pa.Array
) -> tuple[dict[str, pa.Array], pa.Array]:
    """Crosswalk attributes; also the attendance signals the codes carry."""
    names = ["open_closed", "types", "accessibility", "languages"]
    *values, signals, unknown = map_distinct(
        _types,
        [t["types"], t["languages"], scheme, fellowship],
        [pa.string(), _STRING_LIST, _STRING_LIST, _STRING_LIST, _STRING_LIST, _STRING_LIST],
    )
    return {**dict(zip(names, values, strict=True)), "source_types": t["types"], "unknown_types": unknown}, signals


def _online_columns(
    t: dict[str, pa.Array], country: pa.Array, signals: pa.Array, where: dict[str, pa.Array]
) -> dict[str, pa.Array]:
    url, provider, meeting_id = map_distinct(
        lambda u: tuple(parse_conference_url(u)), [t["conference_url"]], [pa.string()] * 3
    )
    (phone,) = map_distinct(lambda p, c: (normalize_phone(p, c),), [t["conference_phone"], country], [pa.string()])
    online = pc.or_(pc.is_valid(url), pc.is_valid(phone))
    (attendance,) = map_distinct(
        _attendance,
        [t["attendance_hint"], signals, online, where["exact"], where["place"], where["approximate"]],
        [pa.string()],
    )
    return {
        "attendance": attendance,
        "conference_url": url,
        "conference_provider": provider,
        "conference_id": meeting_id,
        "conference_phone": phone,
    }


def _quarantine_reason(t: dict[str, pa.Array], columns: dict[str, pa.Array]) -> pa.Array:
    """The first reason (``QUARANTINE_REASONS`` order) a row cannot become a meeting, else null."""
    weekday = t["weekday"]
    weekday_ok = pc.fill_null(pc.and_(pc.greater_equal(weekday, 1), pc.less_equal(weekday, 7)), False)
    checks = {
        "no_name": pc.is_null(columns["name"]),
        "name_too_long": pc.fill_null(pc.greater(pc.utf8_length(columns["name"]), NAME_MAX_CHARS), False),
        "no_weekday": pc.invert(weekday_ok),
        "no_time": pc.is_null(t["start_time"]),
        "bad_time": pc.is_null(columns["start_time"]),
        "no_timezone": pc.is_null(columns["timezone"]),
    }
    conditions = pa.StructArray.from_arrays(list(checks.values()), names=list(checks))
    return pc.case_when(conditions, *list(checks))


def normalize(staging: pa.Table, sources: Mapping[str, Source]) -> NormalizeResult:
    """Canonical versions, quarantine and unknown-code counts for a staging table (``STAGING_SCHEMA``)."""
    t = {name: staging[name].combine_chunks() for name in staging.column_names if name != "raw"}
    src = _source_columns(t["source_id"], sources)
    (fellowship,) = map_distinct(
        lambda own, default: (fellowship_code(own, default),), [t["fellowship"], src["fellowship"]], [pa.string()]
    )
    place, where = _place_columns(t, src)
    codes, signals = _type_columns(t, src["scheme"], fellowship)
    text = _text_columns(t)
    location_notes = map_distinct(_multi_line, [t["location_notes"], t["conference_phone"]], [pa.string()])[0]
    columns = {
        "source_id": t["source_id"],
        "source_key": t["source_key"],
        "fetch_id": t["fetch_id"],
        "fellowship": fellowship,
        "weekday": t["weekday"],
        **text,
        **_schedule_columns(t, text["name"], text["notes"]),
        **place,
        "location_notes": map_distinct(_location_notes, [place["location_details"], location_notes], [pa.string()])[0],
        **codes,
        **_online_columns(t, place["country"], signals, where),
    }
    reason = _quarantine_reason(t, columns)
    columns["start_time"] = _minutes_to_time(columns["start_time"])
    columns["end_time"] = _minutes_to_time(columns["end_time"])
    published = [f.name for f in VERSIONS_SCHEMA if f.name != "record_hash"]
    versions = pa.table({name: columns[name] for name in published}).filter(pc.is_null(reason))
    versions = versions.append_column("record_hash", _record_hash(versions)).cast(VERSIONS_SCHEMA)
    return NormalizeResult(
        versions=versions,
        quarantine=_quarantine(staging, reason),
        unknown_types=_unknown_counts(t["source_id"], t["fetch_id"], fellowship, columns["unknown_types"]),
    )


def _quarantine(t: pa.Table, reason: pa.Array) -> pa.Table:
    rejected = pc.is_valid(reason)
    rows = t.filter(rejected)
    reasons = reason.filter(rejected)
    offending = {
        "no_name": rows["name"],
        "name_too_long": rows["name"],
        "no_weekday": pc.coalesce(rows["weekday_raw"], rows["weekday"].cast(pa.string())),
        "no_time": rows["start_time"],
        "bad_time": rows["start_time"],
        "no_timezone": rows["timezone"],
    }
    value = pc.case_when(
        pa.StructArray.from_arrays([pc.equal(reasons, r) for r in offending], names=list(offending)),
        *offending.values(),
    )
    field_of = pa.array([QUARANTINE_REASONS[r][0] for r in QUARANTINE_REASONS])
    detail_of = pa.array([QUARANTINE_REASONS[r][1] for r in QUARANTINE_REASONS])
    position = pc.index_in(reasons, value_set=pa.array(list(QUARANTINE_REASONS)))
    return pa.table(
        {
            "source_id": rows["source_id"],
            "fetch_id": rows["fetch_id"],
            "source_key": rows["source_key"],
            "record_index": rows["record_index"],
            "reason": reasons,
            "field": field_of.take(position),
            "value": pc.utf8_slice_codeunits(value, 0, VALUE_MAX_CHARS),
            "detail": detail_of.take(position),
        },
        schema=QUARANTINE_SCHEMA,
    )


def _unknown_counts(source_id: pa.Array, fetch_id: pa.Array, fellowship: pa.Array, unknown: pa.Array) -> pa.Table:
    """Rows per (source, fetch, fellowship, code) over every staging row, quarantined ones included."""
    parents = pc.list_parent_indices(unknown)
    keys = ["source_id", "fetch_id", "fellowship", "code"]
    flat = pa.table(
        [*(pc.take(c, parents) for c in (source_id, fetch_id, fellowship)), pc.list_flatten(unknown)],
        names=keys,
    )
    counts = flat.group_by(keys).aggregate([([], "count_all")])
    counts = counts.select([*keys, "count_all"]).rename_columns([*keys, "count"])
    order = [
        ("source_id", "ascending"),
        ("fetch_id", "ascending"),
        ("count", "descending"),
        ("code", "ascending"),
    ]
    return counts.sort_by(order).cast(UNKNOWN_TYPES_SCHEMA)
