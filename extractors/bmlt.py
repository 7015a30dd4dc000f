"""BMLT root servers (Narcotics Anonymous).

The registry ``url`` is the root server (``https://host/main_server/``). Every value is a string and ""
means null; ``weekday_tinyint`` is 1 = Sunday … 7 = Saturday; per-server format keys are mapped to
world ids through ``format_shared_id_list`` → GetFormats ``id`` → ``world_id`` (the key string is kept
when a format has no world id, so the crosswalk can still count it). The meeting's service body
(GetServiceBodies: name, url, helpline) is the service entity responsible for the listing.

A server costs two requests, whatever its number of service bodies: one ``GetSearchResults`` without a
service-body filter (every published meeting of the server) with ``get_used_formats=1``, which makes the
answer ``{"meetings": [...], "formats": [...]}`` with exactly the formats those meetings use, and one
``GetServiceBodies``. A server that ignores ``get_used_formats`` answers a bare list; only then is
``GetFormats`` asked as well (three requests, as every server cost before).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from typing import Any

from extractors.records import (
    ParseError,
    Snapshot,
    SnapshotPart,
    SourceField,
    SourceRecord,
    iso_weekday_from_sunday1,
)
from foundation.source import Source

EXPECT = "json"
_F = SourceField
FIELDS: tuple[SourceField, ...] = (
    _F("id_bigint", "source_key", "unique per server", direct=False),
    _F("meeting_name", "name"),
    _F("weekday_tinyint", "weekday", "1 = Sunday … 7 = Saturday", direct=False),
    _F("start_time", "start_time"),
    _F("duration_time", "duration"),
    _F("time_zone", "timezone"),
    _F("venue_type", "attendance_hint", "1 in person, 2 virtual, 3 hybrid", direct=False),
    _F("formats", "types", "the server's key strings, when `format_shared_id_list` is empty", direct=False),
    _F("format_shared_id_list", "types", "→ GetFormats `world_id` (LANG: the key string), else the key",
       direct=False),
    _F("lang_enum", "languages", direct=False),
    _F("location_text", "venue_name", "or the street, when it is one and `location_street` is empty",
       direct=False),
    _F("location_street", "address", direct=False),
    _F("location_info", "location_notes"),
    _F("location_municipality", "city", "else `location_city_subsection`", direct=False),
    _F("location_city_subsection", "source_regions", "borough or city district: second region label",
       direct=False),
    _F("location_neighborhood", "source_regions", "third region label", direct=False),
    _F("location_sub_province", "source_regions", "county: first region label", direct=False),
    _F("location_province", "region_code"),
    _F("location_postal_code_1", "postal_code"),
    _F("location_nation", "country"),
    _F("latitude", "latitude"),
    _F("longitude", "longitude"),
    _F("virtual_meeting_link", "conference_url"),
    _F("virtual_meeting_additional_info", "conference_url_notes"),
    _F("phone_meeting_number", "conference_phone"),
    _F("comments", "notes"),
    _F("published", "source_status", "0: withheld by the server (quarantined `unpublished_at_source`)",
       direct=False),
    _F("service_body_bigint", "entity", "→ GetServiceBodies `name`; its `url` → entity_url, `helpline` → "
       "entity_phone", direct=False),
    _F("worldid_mixed", None, "NA World Services' group id: not a meeting property apps read"),
    _F("email_contact", None, "a trusted servant's address: not published"),
    _F("contact_name_1", None, "personal contact: never published"),
    _F("contact_phone_1", None, "personal contact: never published"),
    _F("contact_email_1", None, "personal contact: never published"),
    _F("contact_name_2", None, "personal contact: never published"),
    _F("contact_phone_2", None, "personal contact: never published"),
    _F("contact_email_2", None, "personal contact: never published"),
    *(_F(f"contact_{part}{n}", None, "personal contact (older servers' naming): never published")
      for n in (1, 2) for part in ("name", "phone", "email")),
    _F("shared_group_id_bigint", None, "the server's id of a group shared by several meetings: not read yet"),
    _F("seat_reservation", None, "a server extension (booking a seat): not read yet"),
    _F("bus_lines", None, "transit directions: not read yet"),
    _F("train_lines", None, "transit directions: not read yet"),
    _F("public_transport", None, "transit directions: not read yet"),
    _F("format_comments", None, "free text about the formats: not read yet"),
    _F("root_server_uri", None, "the server itself (the registry names it)"),
    _F("zone", None, "empty on every server seen; meaning not documented"),
    _F("distance_in_km", None, "distance from a search point: a property of the query"),
    _F("distance_in_miles", None, "distance from a search point: a property of the query"),
)  # fmt: skip
"""Every field of GetSearchResults the real servers return, and what becomes of it."""
_DIRECT = tuple((f.source, f.record) for f in FIELDS if f.direct and f.record)
_STREET = re.compile(r"^\d+[A-Za-z]?(?:-\d+)?\s+\S+.*\b[A-Za-z]{2,}\.?$")
"""A street line ("230 South 7th Ave"): some servers put it in ``location_text`` and leave the street empty."""
SWITCHERS = {
    "meetings": "GetSearchResults",
    "formats": "GetFormats",
    "service_bodies": "GetServiceBodies",
}
"""Snapshot part → the semantic API call that answered it."""
SEARCH_OPTIONS = "&get_used_formats=1"
"""Asked with every search: the formats its meetings use come in the same answer (no ``GetFormats`` call)."""


def endpoint(root_url: str, switcher: str) -> str:
    return f"{root_url.rstrip('/')}/client_interface/json/?switcher={switcher}"


def urls(root_url: str) -> dict[str, str]:
    """Part → the URL the fetch asks for it (``formats`` only of a server that ignores ``get_used_formats``)."""
    return {
        name: endpoint(root_url, switcher) + (SEARCH_OPTIONS if name == "meetings" else "")
        for name, switcher in SWITCHERS.items()
    }


def fetch(source: Source, get: Callable[[str, str], SnapshotPart]) -> list[SnapshotPart]:
    """Every meeting and the formats they use in one search, then the service bodies: two requests."""
    plan = urls(source.url)
    meetings = get("meetings", plan["meetings"])
    formats = [] if _has_used_formats(meetings.body) else [get("formats", plan["formats"])]
    return [meetings, *formats, get("service_bodies", plan["service_bodies"])]


def _has_used_formats(body: bytes) -> bool:
    """The search answered with its formats (``get_used_formats``), or with something no format list can save.

    A body that is not JSON fails its parse anyway, so asking ``GetFormats`` for it would be a wasted request.
    """
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return True
    if isinstance(data, dict) and isinstance(data.get("meetings"), list):
        return isinstance(data.get("formats"), list)
    return not isinstance(data, list)


def _json(snapshot: Snapshot, name: str) -> tuple[SnapshotPart, Any]:
    part = snapshot.part(name)
    try:
        return part, json.loads(part.body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(
            snapshot.source_id, f"{part.url} is not valid JSON ({exc}); is it a BMLT root server?"
        ) from exc


def _objects(snapshot: Snapshot, part: SnapshotPart, data: Any) -> list[dict[str, Any]]:
    if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
        raise ParseError(snapshot.source_id, f"{part.url}: expected a JSON array of objects ({SWITCHERS[part.name]})")
    return data


def _json_list(snapshot: Snapshot, name: str) -> list[dict[str, Any]]:
    return _objects(snapshot, *_json(snapshot, name))


def _meetings_and_formats(snapshot: Snapshot) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The search's meetings, and the formats: ``GetFormats`` when it was asked (older snapshots, servers
    that ignore ``get_used_formats``), else the ones the search answered with."""
    part, data = _json(snapshot, "meetings")
    used = None
    if isinstance(data, dict) and isinstance(data.get("meetings"), list):  # the get_used_formats envelope
        data, used = data["meetings"], data.get("formats")
    meetings = _objects(snapshot, part, data)
    if used is None or any(p.name == "formats" for p in snapshot.parts):
        return meetings, _json_list(snapshot, "formats")
    return meetings, _objects(snapshot, dataclasses.replace(part, name="formats"), used)


def _blank_to_none(item: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, str) and not v.strip() else v) for k, v in item.items()}


def format_codes(formats: list[dict[str, Any]]) -> dict[str, str]:
    """Format id → world id (or the server's key string when it has no world id), English rows first."""
    codes: dict[str, str] = {}
    for row in sorted(formats, key=lambda f: f.get("lang") != "en"):
        fid = str(row.get("id", "")).strip()
        if fid and fid not in codes:
            world_id, key = (row.get("world_id") or "").strip(), (row.get("key_string") or "").strip()
            # LANG only says "a language"; the server's key (ES, FR, …) says which one.
            code = key if world_id == "LANG" and key else world_id or key
            if code:
                codes[fid] = code
    return codes


def _entities(snapshot: Snapshot) -> dict[str, dict[str, Any]]:
    """Service body id → its row (older snapshots without GetServiceBodies: none)."""
    if not any(part.name == "service_bodies" for part in snapshot.parts):
        return {}
    return {str(body.get("id", "")).strip(): _blank_to_none(body) for body in _json_list(snapshot, "service_bodies")}


def _regions(item: dict[str, Any]) -> list[str]:
    """County, borough (city subsection), neighbourhood: the server's own labels, most general first."""
    labels = [item.get(k) for k in ("location_sub_province", "location_city_subsection", "location_neighborhood")]
    return [label for label in labels if label]


def _venue_and_street(item: dict[str, Any]) -> tuple[str | None, str | None]:
    venue, street = item.get("location_text"), item.get("location_street")
    if street is None and venue is not None and _STREET.match(venue.strip()):
        return None, venue
    return venue, street


def _types(item: dict[str, Any], codes: dict[str, str]) -> list[str]:
    ids = [i.strip() for i in (item.get("format_shared_id_list") or "").split(",") if i.strip()]
    if ids:
        return [codes.get(i, f"id:{i}") for i in ids]
    return [k.strip() for k in (item.get("formats") or "").split(",") if k.strip()]


def parse(snapshot: Snapshot) -> list[SourceRecord]:
    meetings, formats = _meetings_and_formats(snapshot)
    codes = format_codes(formats)
    entities = _entities(snapshot)
    records = []
    for raw in meetings:
        item = _blank_to_none(raw)
        key = item.get("id_bigint")
        if not key:
            raise ParseError(snapshot.source_id, f"a meeting without id_bigint: {json.dumps(raw)[:200]}")
        body = entities.get(str(item.get("service_body_bigint") or ""), {})
        venue, street = _venue_and_street(item)
        records.append(
            SourceRecord(
                source_key=str(key),
                raw=raw,
                weekday=iso_weekday_from_sunday1(item.get("weekday_tinyint")),
                weekday_raw=item.get("weekday_tinyint"),
                venue_name=venue,
                address=street,
                city=item.get("location_municipality") or item.get("location_city_subsection"),
                source_regions=_regions(item),
                attendance_hint={"1": "in_person", "2": "online", "3": "hybrid"}.get(item.get("venue_type") or ""),
                types=_types(item, codes),
                languages=[item["lang_enum"]] if item.get("lang_enum") else [],
                source_status="unpublished" if item.get("published") == "0" else None,
                entity=body.get("name"),
                entity_url=body.get("url"),
                entity_phone=body.get("helpline"),
                **{record: item.get(source) for source, record in _DIRECT},
            )
        )
    return records
