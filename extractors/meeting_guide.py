"""Meeting Guide JSON feeds (12 Step Meeting List sites, sheets, many intergroups).

A feed is one JSON array, no envelope, no paging. ``day`` is 0–6 with Sunday = 0, or a list of days:
a listing on several days becomes one record per day with key ``<slug>-<day>``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from extractors.records import (
    ParseError,
    Snapshot,
    SnapshotPart,
    SourceField,
    SourceRecord,
    iso_weekday_from_sunday0,
)
from foundation.source import Source

PART = "meetings"
EXPECT = "json"
MEETING_KEYS = frozenset({"name", "slug", "day", "time"})
"""Fields every Meeting Guide meeting has; a feed whose items have none of them is another API's."""

_F = SourceField
FIELDS: tuple[SourceField, ...] = (
    _F("name", "name"),
    _F("slug", "source_key", "the key; `<slug>-<day>` when `day` is a list; else `id`, else the position",
       direct=False),
    _F("day", "weekday", "0 = Sunday … 6 = Saturday, or a list (one record per day)", direct=False),
    _F("time", "start_time"),
    _F("end_time", "end_time"),
    _F("timezone", "timezone"),
    _F("group", "group_name"),
    _F("group_notes", "group_notes"),
    _F("district", "district"),
    _F("location", "venue_name"),
    _F("location_notes", "location_notes"),
    _F("formatted_address", "formatted_address"),
    _F("address", "address"),
    _F("city", "city"),
    _F("state", "region_code"),
    _F("postal_code", "postal_code"),
    _F("country", "country"),
    _F("latitude", "latitude"),
    _F("longitude", "longitude"),
    _F("approximate", "approximate"),
    _F("attendance_option", "attendance_hint", "12 Step Meeting List's own attendance (not in the spec)"),
    _F("regions", "source_regions", "the list as given, most general first", direct=False),
    _F("region", "source_regions", "with `sub_region` and `sub_sub_region` when `regions` is absent",
       direct=False),
    _F("sub_region", "source_regions", "second level of `region`", direct=False),
    _F("sub_sub_region", "source_regions", "third level of `region`", direct=False),
    _F("conference_url", "conference_url"),
    _F("conference_url_notes", "conference_url_notes"),
    _F("conference_phone", "conference_phone"),
    _F("conference_phone_notes", "conference_phone_notes"),
    _F("types", "types", "a list, or a comma-separated string", direct=False),
    _F("notes", "notes"),
    _F("url", "source_url"),
    _F("updated", "source_updated_at"),
    _F("website", "website"),
    _F("entity", "entity"),
    _F("entity_url", "entity_url"),
    _F("entity_website_url", "entity_url", "the spec's definition list names `entity_url` this way", direct=False),
    _F("entity_email", "entity_email"),
    _F("entity_phone", "entity_phone"),
    _F("entity_location", "entity_location"),
    _F("feedback_url", "feedback_url"),
    _F("fellowship", "fellowship", "multi-fellowship feeds (not in the spec)"),
    _F("id", None, "the site's database id; `slug` keys the record"),
    _F("location_id", None, "the site's database id of the location"),
    _F("region_id", None, "the site's database id of the region"),
    _F("district_id", None, "the site's database id of the district"),
    _F("group_id", None, "the site's database id of the group"),
    _F("time_formatted", None, "`time` as the site displays it"),
    _F("location_url", None, "the site's page of the location; `url` is the meeting's"),
    _F("edit_url", None, "the site's editing page for trusted servants"),
    _F("last_contact", None, "when the site last heard from the group: internal bookkeeping"),
    _F("author", None, "the site user who last edited the listing: not published"),
    _F("entity_logo", None, "no app the release feeds reads it"),
    _F("feedback_emails", None, "addresses for feedback to the site's editors, often a person's: not published"),
    _F("email", None, "group contact address, often a member's: not published"),
    _F("phone", None, "group contact number, often a member's: not published"),
    *(_F(f"contact_{n}_{part}", None, "personal contact: never published")
      for n in (1, 2, 3) for part in ("name", "email", "phone")),
    *(_F(handle, None, "7th Tradition contribution handle: not read yet")
      for handle in ("venmo", "square", "paypal", "homegroup_online")),
)  # fmt: skip
"""Every Meeting Guide field (the spec's, and those 12 Step Meeting List sites add) and what becomes of it."""
_DIRECT = tuple((f.source, f.record) for f in FIELDS if f.direct and f.record)


def fetch(source: Source, get: Callable[[str, str], SnapshotPart]) -> list[SnapshotPart]:
    return [get(PART, source.url)]


def _load(snapshot: Snapshot) -> list[Any]:
    part = snapshot.part(PART)
    try:
        text = part.body.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = part.body.decode("latin-1")  # legacy sites; latin-1 decodes any byte string
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(
            snapshot.source_id,
            f"{part.url} is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
            "the feed may be truncated or not a Meeting Guide feed",
        ) from exc
    if isinstance(data, dict) and "error" in data:
        raise ParseError(snapshot.source_id, f"{part.url} answered with an error object: {data['error']!r}")
    if not isinstance(data, list):
        raise ParseError(
            snapshot.source_id,
            f"{part.url}: expected a JSON array of meetings (Meeting Guide spec), got {type(data).__name__}",
        )
    return data


def _days(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value or [None]
    return [value]


def _regions(item: dict[str, Any]) -> list[str]:
    """The source's region labels, most general first: ``regions``, else region > sub_region > sub_sub_region."""
    labels = item.get("regions")
    if not isinstance(labels, list):
        labels = [item.get("region"), item.get("sub_region"), item.get("sub_sub_region")]
    return [str(label) for label in labels if label is not None and not isinstance(label, (dict, list))]


def _types(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str):
        return [t.strip() for t in value.split(",")]
    return []


def parse(snapshot: Snapshot) -> list[SourceRecord]:
    """One record per meeting per day.

    Items that are not objects, or objects without any Meeting Guide field, are errors: the feed is not what
    we think. Parsed anyway, the second kind would all be quarantined and replace the source's last good
    meetings with none.
    """
    items = _load(snapshot)
    if items and all(isinstance(item, dict) and not MEETING_KEYS & item.keys() for item in items):
        raise ParseError(
            snapshot.source_id,
            f"{snapshot.part(PART).url}: none of its {len(items)} items has a Meeting Guide field "
            f"({', '.join(sorted(MEETING_KEYS))}), so these are not Meeting Guide meetings; the first has "
            f"{', '.join(sorted(items[0])[:8]) or 'no keys'}",
        )
    records: list[SourceRecord] = []
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            raise ParseError(
                snapshot.source_id, f"item {position} is a {type(item).__name__}, expected a meeting object"
            )
        slug = str(item.get("slug") or item.get("id") or "").strip() or f"position-{position}"
        days = _days(item.get("day"))
        common = {record: item.get(source) for source, record in _DIRECT}
        common["entity_url"] = common["entity_url"] or item.get("entity_website_url")
        for day in days:
            records.append(
                SourceRecord(
                    source_key=slug if len(days) == 1 else f"{slug}-{day}",
                    raw=item,
                    weekday=iso_weekday_from_sunday0(day),
                    weekday_raw=None if day is None else str(day),
                    types=_types(item.get("types")),
                    source_regions=_regions(item),
                    **common,
                )
            )
    if items and not records:
        raise ParseError(snapshot.source_id, "the feed had items but none could be read as meetings")
    return records
