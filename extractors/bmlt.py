"""BMLT root servers (Narcotics Anonymous).

The registry ``url`` is the root server (``https://host/main_server/``). Every value is a string and ""
means null; ``weekday_tinyint`` is 1 = Sunday … 7 = Saturday; per-server format keys are mapped to
world ids through ``format_shared_id_list`` → GetFormats ``id`` → ``world_id`` (the key string is kept
when a format has no world id, so the crosswalk can still count it).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from extractors.records import ParseError, Snapshot, SnapshotPart, SourceRecord, iso_weekday_from_sunday1
from extractors.registry import Source

EXPECT = "json"
SWITCHERS = {
    "meetings": "GetSearchResults",
    "formats": "GetFormats",
    "service_bodies": "GetServiceBodies",
}


def endpoint(root_url: str, switcher: str) -> str:
    return f"{root_url.rstrip('/')}/client_interface/json/?switcher={switcher}"


def fetch(source: Source, get: Callable[[str, str], SnapshotPart]) -> list[SnapshotPart]:
    return [get(name, endpoint(source.url, switcher)) for name, switcher in SWITCHERS.items()]


def _json_list(snapshot: Snapshot, name: str) -> list[dict[str, Any]]:
    part = snapshot.part(name)
    try:
        data = json.loads(part.body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(
            snapshot.source_id, f"{part.url} is not valid JSON ({exc}); is it a BMLT root server?"
        ) from exc
    if isinstance(data, dict) and isinstance(data.get("meetings"), list):  # GetSearchResults with get_formats
        data = data["meetings"]
    if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
        raise ParseError(snapshot.source_id, f"{part.url}: expected a JSON array of objects ({SWITCHERS[name]})")
    return data


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


def _types(item: dict[str, Any], codes: dict[str, str]) -> list[str]:
    ids = [i.strip() for i in (item.get("format_shared_id_list") or "").split(",") if i.strip()]
    if ids:
        return [codes.get(i, f"id:{i}") for i in ids]
    return [k.strip() for k in (item.get("formats") or "").split(",") if k.strip()]


def parse(snapshot: Snapshot) -> list[SourceRecord]:
    meetings = _json_list(snapshot, "meetings")
    codes = format_codes(_json_list(snapshot, "formats"))
    records = []
    for raw in meetings:
        item = _blank_to_none(raw)
        key = item.get("id_bigint")
        if not key:
            raise ParseError(snapshot.source_id, f"a meeting without id_bigint: {json.dumps(raw)[:200]}")
        records.append(
            SourceRecord(
                source_key=str(key),
                raw=raw,
                name=item.get("meeting_name"),
                weekday=iso_weekday_from_sunday1(item.get("weekday_tinyint")),
                weekday_raw=item.get("weekday_tinyint"),
                start_time=item.get("start_time"),
                duration=item.get("duration_time"),
                timezone=item.get("time_zone"),
                venue_name=item.get("location_text"),
                address=item.get("location_street"),
                city=item.get("location_municipality") or item.get("location_city_subsection"),
                region_code=item.get("location_province"),
                postal_code=item.get("location_postal_code_1"),
                country=item.get("location_nation"),
                latitude=item.get("latitude"),
                longitude=item.get("longitude"),
                attendance_hint={"1": "in_person", "2": "online", "3": "hybrid"}.get(item.get("venue_type") or ""),
                conference_url=item.get("virtual_meeting_link"),
                conference_url_notes=item.get("virtual_meeting_additional_info"),
                conference_phone=item.get("phone_meeting_number"),
                types=_types(item, codes),
                languages=[item["lang_enum"]] if item.get("lang_enum") else [],
                notes=item.get("comments"),
                location_notes=item.get("location_info"),
                source_status="unpublished" if item.get("published") == "0" else None,
            )
        )
    return records
