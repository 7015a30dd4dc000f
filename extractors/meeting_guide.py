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
    SourceRecord,
    iso_weekday_from_sunday0,
)
from extractors.registry import Source

PART = "meetings"
EXPECT = "json"
MEETING_KEYS = frozenset({"name", "slug", "day", "time"})
"""Fields every Meeting Guide meeting has; a feed whose items have none of them is another API's."""


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
        for day in days:
            records.append(
                SourceRecord(
                    source_key=slug if len(days) == 1 else f"{slug}-{day}",
                    raw=item,
                    name=item.get("name"),
                    weekday=iso_weekday_from_sunday0(day),
                    weekday_raw=None if day is None else str(day),
                    start_time=item.get("time"),
                    end_time=item.get("end_time"),
                    timezone=item.get("timezone"),
                    group_name=item.get("group"),
                    venue_name=item.get("location"),
                    address=item.get("address"),
                    city=item.get("city"),
                    region_code=item.get("state"),
                    postal_code=item.get("postal_code"),
                    country=item.get("country"),
                    formatted_address=item.get("formatted_address"),
                    latitude=item.get("latitude"),
                    longitude=item.get("longitude"),
                    approximate=item.get("approximate"),
                    attendance_hint=item.get("attendance_option"),
                    conference_url=item.get("conference_url"),
                    conference_url_notes=item.get("conference_url_notes"),
                    conference_phone=item.get("conference_phone"),
                    conference_phone_notes=item.get("conference_phone_notes"),
                    types=_types(item.get("types")),
                    notes=item.get("notes"),
                    location_notes=item.get("location_notes"),
                    source_url=item.get("url"),
                    source_updated_at=item.get("updated"),
                    fellowship=item.get("fellowship"),
                )
            )
    if items and not records:
        raise ParseError(snapshot.source_id, "the feed had items but none could be read as meetings")
    return records
