"""Intergroup directories of key/value tables (Saint Paul & Suburban Area Intergroup's 2016 directory).

The page runs in document order: ``h4.meeting`` weekday → ``h5.meeting`` "City - (ZIP)" → ``h6.meeting``
group (linking to the group's page) → ``table.meeting`` with one ``tr`` per label/value pair
("Meeting location:", "Time and duration:" "7:30 PM — 60 Minutes", "Format:", "ID:" …). The site's
``ID`` keys the record. Phone rows are group contacts and are not read. The location cell is "[room] / venue /
street (map link) / City, ST ZIP"; the room joins the directions as location notes.
"""

from __future__ import annotations

import re

from bs4 import Tag

from extractors.families import Getter
from extractors.html import base
from extractors.html.base import Page, text
from extractors.records import Snapshot, SnapshotPart, SourceRecord, iso_weekday_from_name
from foundation.ids import hashed_source_key
from foundation.source import Source

EXPECT = base.EXPECT
WEEKDAY = "h4.meeting"
GROUP = "h6.meeting"
TABLES = "table.meeting"
PAIRS = "tr"
TIME_LABEL = "Time and duration"
TYPE_LABELS = ("Attendance", "Format", "Ages", "Gender", "Services")
NOTE_LABELS = ("Frequency", "Notes")
PRIVATE_LABELS = ("Phone",)

_CITY_LINE = re.compile(r"^(?P<city>[^,]+),\s*(?P<state>[A-Z]{2})\s+(?P<zip>\d{5}(?:-\d{4})?)$")
_DURATION = re.compile(r"(\d+)\s*Minutes", re.IGNORECASE)


def fetch(source: Source, get: Getter) -> list[SnapshotPart]:
    return base.crawl(source, get)


def _pairs(table: Tag) -> dict[str, Tag]:
    """Label (without the colon) → value cell; the first of a repeated label wins."""
    pairs: dict[str, Tag] = {}
    for row in table.select(PAIRS):
        cells = row.find_all("td", recursive=False)
        if len(cells) == 2 and (label := text(cells[0])):
            pairs.setdefault(label.rstrip(": "), cells[1])
    return pairs


def _location(cell: Tag | None) -> dict[str, str | None]:
    """Room, venue, street (the map link) and "City, ST 55124" from the location cell.

    The lines above the street are the place's name, with the room above it when there are two ("Basement" /
    "Central Presbyterian Church"); the room is a location note."""
    if cell is None:
        return {}
    lines = [" ".join(s.split()) for s in cell.stripped_strings]
    street = text(cell.select_one("a"))
    city_line = _CITY_LINE.match(lines[-1]) if lines else None
    above = [line for line in lines if line != street and not _CITY_LINE.match(line)]
    return {
        "venue_name": above[-1] if above else None,
        "room": "; ".join(above[:-1]) or None,
        "address": street,
        "city": city_line["city"] if city_line else None,
        "region_code": city_line["state"] if city_line else None,
        "postal_code": city_line["zip"] if city_line else None,
    }


def _codes(cell: Tag | None) -> list[str]:
    """Spelled-out types: one per ``abbr`` when the cell uses them, else its comma-separated text."""
    if cell is None:
        return []
    abbrs = [text(a) for a in cell.select("abbr")]
    return [c for c in abbrs if c] or [c.strip() for c in (text(cell) or "").split(",") if c.strip()]


def _records(page: Page) -> list[SourceRecord]:
    page.items(TABLES)
    records = []
    weekday: str | None = None
    group: Tag | None = None
    for node in page.soup.select(f"{WEEKDAY}, {GROUP}, {TABLES}"):  # document order
        if node.name == "h4":
            weekday, group = text(node), None
        elif node.name == "h6":
            group = node
        else:
            pairs = _pairs(node)
            when = pairs.get(TIME_LABEL)
            duration = _DURATION.search(text(when) or "")
            site_id = text(pairs.get("ID"))
            link = group.select_one("a[href]") if group else None
            name = text(link) or text(group)
            location = _location(pairs.get("Meeting location"))
            room = location.pop("room", None)
            directions = "\n".join(n for n in (room, text(pairs.get("Directions"))) if n) or None
            records.append(
                SourceRecord(
                    source_key=site_id or hashed_source_key(weekday, name, location.get("address"), text(when)),
                    raw={k: text(v) for k, v in pairs.items() if k not in PRIVATE_LABELS} | {"weekday": weekday},
                    name=name,
                    group_name=name,
                    weekday=iso_weekday_from_name(weekday),
                    weekday_raw=weekday,
                    start_time=text(when.select_one("strong")) if when else None,
                    duration=duration[1] if duration else None,
                    types=[c for label in TYPE_LABELS for c in _codes(pairs.get(label))],
                    location_notes=directions,
                    notes="\n".join(n for label in NOTE_LABELS if (n := text(pairs.get(label)))) or None,
                    source_url=page.absolute(str(link["href"])) if link else page.url,
                    **location,
                )
            )
    page.check_values(
        [r.start_time for r in records], base.looks_like_time, f"{TABLES} {PAIRS}",
        f"'{TIME_LABEL}:' rows starting with a clock time",
    )  # fmt: skip
    return records


def parse(snapshot: Snapshot) -> list[SourceRecord]:
    return base.parse_listings(snapshot, _records)
