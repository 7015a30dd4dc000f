"""New York Intergroup's legacy ColdFusion meeting list (``meetinglist.cfm?borough=…&zone=…``), 2012–2015.

One table row per group and place: the venue in an ``h4``, "GROUP NAME - Meeting name" in the first
``b``, the address as loose text lines ("20 Cardinal Hayes Place, Rectory Basement," / "(Between Duane
and Pearl Streets), NY 10007"), and in the second cell several day-slots, each "<b>Mondays From</b>
7:00 AM <b>to</b> 8:00 AM <b>Meeting Type</b> OD = Open Discussion meeting <b>Special Interest</b> …".
One record per weekday and start time; the site lists a meeting twice when it has two formats, so slots
of one row with the same day and time are one meeting with both types. The row's "Get Directions" link
carries the site's ``meetingid``, which keys the records. One registry source per zone page.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from bs4 import NavigableString, Tag

from extractors.families import Getter
from extractors.html import base
from extractors.html.base import Page, text
from extractors.records import Snapshot, SnapshotPart, SourceRecord, iso_weekday_from_name
from foundation.ids import hashed_source_key
from foundation.source import Source

EXPECT = base.EXPECT
ROWS = 'tr[style^="margin-bottom:10px"]'
PLACE = "td:nth-of-type(1)"
VENUE = "h4"
GROUP = "b"
DETAILS = "div.detailsBox"
WHEELCHAIR = 'img[alt^="Wheelchair"]'
DIRECTIONS = "a.GetDirections[href]"
SLOTS = "td:nth-of-type(2)"
SLOT_LABELS = "td:nth-of-type(2) > b"

_SLOT_START = re.compile(r"^(?P<day>[A-Za-z]+) From$")
_LABELS = {"to": "end", "Meeting Type": "types", "Special Interest": "types"}
_ZIP_LINE = re.compile(r"(?:\b(?P<state>NY|NJ|CT)\s*)?(?P<zip>\d{5})\s*$")


def fetch(source: Source, get: Getter) -> list[SnapshotPart]:
    return base.crawl(source, get)


def split_group(label: str) -> tuple[str | None, str]:
    """(group, meeting name) from "GROUP NAME - Meeting name": the group is the longest upper-case part
    before a " - " (group names may hold " - " themselves); an empty meeting name means the group's."""
    parts = label.split(" - ")
    for cut in range(len(parts) - 1, 0, -1):
        group = " - ".join(parts[:cut]).strip()
        if group and not any(c.islower() for c in group):
            name = " - ".join(parts[cut:]).strip()
            return group, name or group
    return None, label.strip(" -")


def _address(place: Tag) -> dict[str, str | None]:
    """Street line, cross-street notes, state and ZIP from the loose text lines of the first cell."""
    lines = [" ".join(s.split()) for s in place.find_all(string=True, recursive=False)]
    lines = [line for line in lines if line]
    joined = "\n".join(lines)
    found = _ZIP_LINE.search(joined)
    if found:
        joined = joined[: found.start()]
    street, _, rest = joined.partition("\n")
    return {
        "address": street.strip(" ,") or None,
        "location_notes": rest.strip(" ,") or None,
        "region_code": found["state"] if found else None,
        "postal_code": found["zip"] if found else None,
    }


@dataclass
class Slot:
    day: str
    start: str | None = None
    end: str | None = None
    types: list[str] = field(default_factory=list)


def _slots(cell: Tag) -> list[Slot]:
    """Day-slots of the second cell, by walking its ``b`` labels and the text after each."""
    slots: list[Slot] = []
    target: str | None = None
    for node in cell.children:
        if isinstance(node, Tag) and node.name == "b":
            label = text(node) or ""
            if start := _SLOT_START.match(label):
                slots.append(Slot(start["day"]))
                target = "start"
            else:
                target = _LABELS.get(label)
        elif isinstance(node, NavigableString) and slots and target and (value := " ".join(node.split())):
            if target == "types":
                slots[-1].types.append(value)
            else:
                setattr(slots[-1], target, value)
            target = None
    return slots


def _merge(slots: list[Slot]) -> list[Slot]:
    """Slots of the same day, start and end are one meeting listed once per format: keep one, all types."""
    merged: dict[tuple[str, str | None, str | None], Slot] = {}
    for slot in slots:
        kept = merged.setdefault((slot.day, slot.start, slot.end), Slot(slot.day, slot.start, slot.end))
        kept.types.extend(t for t in slot.types if t not in kept.types)
    return list(merged.values())


def _records(page: Page) -> list[SourceRecord]:
    borough = next((text(h) for h in page.soup.select("h4") if "Borough:" in (text(h) or "")), None)
    city = borough.partition(":")[2].strip() if borough else None
    rows = page.items(ROWS)
    records: list[SourceRecord] = []
    starts: list[str | None] = []
    for row in rows:
        place = page.select_one(PLACE, row)
        venue = text(place.select_one(VENUE))
        label = place.select_one(GROUP)
        group, name = split_group(re.sub(r"\s+", " ", label.get_text()) if label else "")
        address = _address(place)
        link = row.select_one(DIRECTIONS)
        base_key = (
            base.key_from_url(page.absolute(str(link["href"])), keep=["meetingid"])
            if link
            else hashed_source_key(venue, group, address["address"])
        )
        features = ["Wheelchair access"] if place.select_one(WHEELCHAIR) else []
        slots = _merge(_slots(page.select_one(SLOTS, row)))
        weekdays = [iso_weekday_from_name(slot.day) for slot in slots]
        keys = base.slot_keys(base_key, [(day, slot.start) for day, slot in zip(weekdays, slots, strict=True)])
        for key, weekday, slot in zip(keys, weekdays, slots, strict=True):
            starts.append(slot.start)
            records.append(
                SourceRecord(
                    source_key=key,
                    raw={"venue": venue, "group": group, "name": name, **address, **asdict(slot)},
                    name=name,
                    group_name=group,
                    weekday=weekday,
                    weekday_raw=slot.day,
                    start_time=slot.start,
                    end_time=slot.end,
                    venue_name=venue,
                    city=city,
                    types=[*slot.types, *features],
                    notes=text(place.select_one(DETAILS)),
                    source_url=page.url,
                    **address,
                )
            )
    page.check_values(starts, base.looks_like_time, SLOT_LABELS, "day-slots 'Mondays From 7:00 AM to 8:00 AM'")
    return records


def parse(snapshot: Snapshot) -> list[SourceRecord]:
    return base.parse_listings(snapshot, _records)
