"""Synthetic meeting feeds at national scale, derived from the real recorded feeds.

The real snapshots hold 13 sources and about 12k meetings; a national clearinghouse ingests thousands of
feeds. What the pipeline's cost depends on is kept from the real data, the rest is scaled:

- **Records.** Whole real records are the templates, so names, types, days, times, notes, the share
  online and each family's native shape and quirks (``NULL`` cells, ``<br>`` types, unpublished BMLT
  meetings, a missing day) keep their joint distribution. Regions clone one template source each; template
  weights give 70 % Meeting Guide JSON, 20 % BMLT (three endpoints), 10 % TSML TSV.
- **Places.** A region is centred on a random real US ZIP centroid (``zipcodes``, the table normalization
  uses). Every template venue moves there keeping its offset from the template's centroid, gets a new
  house number and the city, state and ZIP of the nearest ZIP centroid, so address, coordinates, ZIP code
  and time zone agree and venues are shared by meetings as often as in the template.
- **Duplicates.** Sources come in regions of ``group``. Each lists ``1 - dup_share`` of its records as its
  own distinct meetings and re-publishes ``dup_share`` from the next source of its region (a ring),
  perturbed the way a district site or a finder re-types a listing: another key, name spellings,
  "St"/"Street", a room number, jittered or missing coordinates, a shifted start, a dropped type, a
  conference link without its password, no notes.
- **Online rooms.** Conference ids and dial-in digits are renumbered per region: a Zoom room is one
  meeting in one region, not a thousand-way duplicate.

Everything is seeded: the same ``Spec`` gives byte-identical feeds.

    python bench/synthetic.py OUT --sources 1000 --meetings 100000
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import math
import random
import re
import statistics
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml
import zipcodes

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from extractors import bmlt, tsml_csv
from extractors.records import SourceRecord
from tests.transforms import realdata

JSON = "application/json"
TSV = "text/tab-separated-values; charset=utf-8"


@dataclass(frozen=True)
class Spec:
    """What to generate; saved beside the feeds so a bench run can say exactly what it measured."""

    sources: int
    meetings: int
    seed: int = 7
    dup_share: float = 0.2
    """Share of every source's records that re-publish a meeting of another source of its region."""
    group: int = 4
    """Sources per region (the ring of overlapping publishers)."""
    hosts: int = 8
    """Loopback addresses the sources are spread over (``bench.multihost``)."""

    def __post_init__(self) -> None:
        if not 0 <= self.dup_share <= 0.5:
            raise ValueError("dup_share must be within 0–0.5: a source re-publishes at most its partner's own")
        if self.sources < 1 or self.meetings < self.sources or self.group < 2 or self.hosts < 1:
            raise ValueError("need at least one meeting per source, regions of two or more, one host")


@dataclass(frozen=True)
class Template:
    source_id: str
    """A real source of ``tests.transforms.realdata``."""
    family: str
    weight: float


TEMPLATES = (
    *(Template(sid, "meeting_guide", 1.0) for sid in
      ("oc-aa", "sepia-aa", "nepa-aa", "sussex-aa", "alanon-ma", "sanjose-aa", "sanjose-wp")),
    Template("gny-na", "bmlt", 2.0),
    Template("nyc-aa", "tsml_csv", 1.0),
)  # fmt: skip


@dataclass
class Feed:
    """One source's generated feed: registry fields, bodies per part and the truth per record."""

    source_id: str
    name: str
    family: str
    fellowship: str
    timezone: str
    host: int
    items: list[dict[str, Any]] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)
    """Per record, in feed order: records with the same entity are the same real-world meeting."""
    copies: int = 0

    def parts(self) -> dict[str, bytes]:
        return ADAPTERS[self.family].serialize(self.items)


@dataclass(frozen=True)
class _Venue:
    street: str | None
    city: str
    state: str
    postal_code: str
    latitude: float
    longitude: float


# --- real reference data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Zips:
    code: list[str]
    city: list[str]
    state: list[str]
    timezone: list[str]
    lat: np.ndarray
    lon: np.ndarray


@cache
def _zips() -> _Zips:
    """Contiguous-US ZIP centroids with a time zone, in a fixed order."""
    rows = sorted(
        (z for z in zipcodes.list_all() if z["lat"] and z["long"] and z["timezone"] and z["active"]),
        key=lambda z: z["zip_code"],
    )
    rows = [z for z in rows if 24.5 < float(z["lat"]) < 49.5 and -125 < float(z["long"]) < -66.9]
    return _Zips(
        [z["zip_code"] for z in rows],
        [z["city"] for z in rows],
        [z["state"] for z in rows],
        [z["timezone"] for z in rows],
        np.array([float(z["lat"]) for z in rows]),
        np.array([float(z["long"]) for z in rows]),
    )


def _template_items(template: Template) -> list[dict[str, Any]]:
    """The template's records as native single-day items (a multi-day listing becomes one item per day)."""
    return [ADAPTERS[template.family].item(r) for r in realdata.records(template.source_id)]


@cache
def _templates() -> dict[str, tuple[list[dict[str, Any]], tuple[float, float]]]:
    """Items and coordinate centroid (median) of every template."""
    out = {}
    for template in TEMPLATES:
        adapter = ADAPTERS[template.family]
        items = _template_items(template)
        coords = [(lat, lon) for lat, lon in (adapter.coords(i) for i in items) if lat is not None]
        centroid = (
            (statistics.median(c[0] for c in coords), statistics.median(c[1] for c in coords)) if coords else (0, 0)
        )
        out[template.source_id] = (items, centroid)
    return out


# --- family adapters: read and write the fields the generator moves, in each family's native shape --------

_HOUSE = re.compile(r"\b\d+\b")
"""The house number: the first whole number of a street line ("1336" in "Trinity Church 1336 1st Ave")."""
_ROOM_NUMBER = re.compile(r"(?<=[/=,])\d{9,11}")
"""A Zoom-style room id in a link (``/j/…``, ``=…``) or after the dial-in's ``,,`` (not the dial-in itself)."""
_LAST_SEGMENT = re.compile(r"/([A-Za-z0-9][A-Za-z0-9-]{3,})/?(?:[?#].*)?$")
_ALPHABET = ("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(:\d{2})?\s*([AaPp][Mm])?$")
_SPELLED = {"St": "Street", "Ave": "Avenue", "Rd": "Road", "Blvd": "Boulevard", "Dr": "Drive", "Ln": "Lane",
            "Pl": "Place", "Hwy": "Highway", "Pkwy": "Parkway"}  # fmt: skip
_ABBREVIATION = re.compile(r"\b(" + "|".join(_SPELLED) + r")\b\.?")
_NAME_VARIANTS = ((r"\bSaint\b", "St."), (r"\bSt\.? ", "Saint "), (r" and ", " & "), (r" & ", " and "),
                  (r"\bMeeting\b", "Mtg"), (r"\bGroup\b", "Grp"), (r"^The ", ""))  # fmt: skip


def _float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number != 0 else None


def _coord(template_value: Any, value: float) -> Any:
    """A coordinate in the type the template used (Meeting Guide sites send numbers or strings)."""
    return f"{value:.7f}" if isinstance(template_value, str) else round(value, 7)


class _Adapter:
    """Field names of one family; subclasses handle what is not a plain field."""

    name = "name"
    time = "time"
    notes = "notes"
    lat = "latitude"
    lon = "longitude"
    conference = ("conference_url", "conference_phone", "conference_url_notes", "conference_phone_notes")

    def item(self, record: SourceRecord) -> dict[str, Any]:
        return dict(record.raw)

    def coords(self, item: dict[str, Any]) -> tuple[float | None, float | None]:
        lat, lon = _float(item.get(self.lat)), _float(item.get(self.lon))
        return (lat, lon) if lat is not None and lon is not None else (None, None)

    def street(self, item: dict[str, Any]) -> str | None:
        raise NotImplementedError

    def set_street(self, item: dict[str, Any], street: str) -> None:
        raise NotImplementedError

    def place(self, item: dict[str, Any], venue: _Venue, timezone: str) -> None:
        raise NotImplementedError

    def set_key(self, item: dict[str, Any], key: str, position: int) -> None:
        raise NotImplementedError

    def drop_type(self, rng: random.Random, item: dict[str, Any]) -> None:
        raise NotImplementedError

    def serialize(self, items: list[dict[str, Any]]) -> dict[str, bytes]:
        raise NotImplementedError


class _MeetingGuide(_Adapter):
    def item(self, record: SourceRecord) -> dict[str, Any]:
        day = record.weekday_raw
        return {**record.raw, "day": int(day) if day is not None and day.isdigit() else None}

    def street(self, item: dict[str, Any]) -> str | None:
        first = (item.get("formatted_address") or "").split(", ")[0]
        return first if first[:1].isdigit() else None

    def set_street(self, item: dict[str, Any], street: str) -> None:
        rest = (item.get("formatted_address") or "").split(", ")[1:]
        item["formatted_address"] = ", ".join([street, *rest])

    def place(self, item: dict[str, Any], venue: _Venue, timezone: str) -> None:
        if venue.street:
            item["formatted_address"] = f"{venue.street}, {venue.city}, {venue.state} {venue.postal_code}, USA"
        else:  # an approximate place (online meetings): the city only
            item["formatted_address"] = f"{venue.city}, {venue.state}, USA"
        if item.get(self.lat) not in (None, ""):
            item[self.lat], item[self.lon] = (
                _coord(item[self.lat], venue.latitude),
                _coord(item[self.lon], venue.longitude),
            )
        for key, value in (("region", venue.city), ("regions", [venue.city]), ("timezone", timezone)):
            if key in item:
                item[key] = value

    def set_key(self, item: dict[str, Any], key: str, position: int) -> None:
        item["slug"] = key
        if "id" in item:
            item["id"] = position + 1

    def drop_type(self, rng: random.Random, item: dict[str, Any]) -> None:
        types = list(item.get("types") or [])
        rng.shuffle(types)
        item["types"] = types[:-1]

    def serialize(self, items: list[dict[str, Any]]) -> dict[str, bytes]:
        return {"meetings": json.dumps(items, ensure_ascii=False).encode()}


class _Bmlt(_Adapter):
    name = "meeting_name"
    time = "start_time"
    notes = "comments"
    conference = ("virtual_meeting_link", "phone_meeting_number")

    def street(self, item: dict[str, Any]) -> str | None:
        return item.get("location_street") or None

    def set_street(self, item: dict[str, Any], street: str) -> None:
        item["location_street"] = street

    def place(self, item: dict[str, Any], venue: _Venue, timezone: str) -> None:
        item.update(
            location_street=venue.street or "", location_municipality=venue.city, location_city_subsection="",
            location_neighborhood="", location_sub_province="", location_province=venue.state,
            location_postal_code_1=venue.postal_code,
        )  # fmt: skip
        if _float(item.get(self.lat)) is not None:
            item[self.lat], item[self.lon] = f"{venue.latitude:.7f}", f"{venue.longitude:.7f}"

    def set_key(self, item: dict[str, Any], key: str, position: int) -> None:
        item["id_bigint"] = str(position + 1)

    def drop_type(self, rng: random.Random, item: dict[str, Any]) -> None:
        ids = [i for i in (item.get("format_shared_id_list") or "").split(",") if i]
        keys = [k for k in (item.get("formats") or "").split(",") if k]
        if ids:
            drop = rng.randrange(len(ids))
            item["format_shared_id_list"] = ",".join(ids[:drop] + ids[drop + 1 :])
            if len(keys) == len(ids):
                item["formats"] = ",".join(keys[:drop] + keys[drop + 1 :])

    def serialize(self, items: list[dict[str, Any]]) -> dict[str, bytes]:
        return {"meetings": json.dumps(items, ensure_ascii=False).encode()}


class _TsmlCsv(_Adapter):
    """The New York export's shape: no coordinates, no ZIP column, ``NULL`` literals, ``<br>`` in cells."""

    def item(self, record: SourceRecord) -> dict[str, Any]:
        return {**record.raw, "day": record.weekday_raw or ""}

    def coords(self, item: dict[str, Any]) -> tuple[float | None, float | None]:
        return None, None

    def street(self, item: dict[str, Any]) -> str | None:
        address = item.get("address")
        return address if address and address != "NULL" else None

    def set_street(self, item: dict[str, Any], street: str) -> None:
        item["address"] = street

    def place(self, item: dict[str, Any], venue: _Venue, timezone: str) -> None:
        if venue.street:
            item["address"] = venue.street
        for key, value in (("city", venue.city), ("state", venue.state)):
            if item.get(key) not in (None, "", "NULL"):  # a cell the template left empty stays empty
                item[key] = value

    def set_key(self, item: dict[str, Any], key: str, position: int) -> None:
        """The export has no id column: the parser hashes the identifying cells, as for the real file."""

    def drop_type(self, rng: random.Random, item: dict[str, Any]) -> None:
        tokens = [t for t in re.split(r"<br>", item.get("types") or "") if t.strip()]
        if tokens:
            tokens.pop(rng.randrange(len(tokens)))
            item["types"] = "<br>".join(tokens) or "<br>"

    def serialize(self, items: list[dict[str, Any]]) -> dict[str, bytes]:
        header = _tsml_header()
        out = io.StringIO()
        writer = csv.writer(out, delimiter="\t", lineterminator="\r\n")
        writer.writerow(header)
        for item in items:
            writer.writerow(["" if item.get(tsml_csv._slug(h)) is None else item[tsml_csv._slug(h)] for h in header])
        return {"meetings": out.getvalue().encode()}


@cache
def _tsml_header() -> list[str]:
    """The template export's own header row (``Time``, ``Day``, ``Name``, …)."""
    text, _ = tsml_csv.decode((realdata.TSML / "nyintergroup_2015-10.tsv").read_bytes())
    return next(csv.reader(io.StringIO(text, newline=""), delimiter="\t"))


ADAPTERS: dict[str, _Adapter] = {"meeting_guide": _MeetingGuide(), "bmlt": _Bmlt(), "tsml_csv": _TsmlCsv()}


# --- regions --------------------------------------------------------------------------------------------


def regions(spec: Spec) -> list[range]:
    """Source indices per region: ``group`` each, the remainder joins the last region (never a lone source)."""
    count = max(1, spec.sources // spec.group)
    bounds = [r * spec.group for r in range(count)] + [spec.sources]
    return [range(bounds[r], bounds[r + 1]) for r in range(count)]


def records_of(spec: Spec, index: int) -> int:
    """Records of source ``index``: ``meetings`` spread as evenly as integers allow."""
    base, extra = divmod(spec.meetings, spec.sources)
    return base + (index < extra)


def source_id(index: int) -> str:
    return f"syn-{index:05d}"


class _Region:
    """One region's template, centre, venues and renumbered conference ids (all from the region's rng)."""

    def __init__(self, spec: Spec, number: int):
        self.rng = random.Random(f"{spec.seed}/region/{number}")
        self.number = number
        self.template = self.rng.choices(TEMPLATES, weights=[t.weight for t in TEMPLATES])[0]
        self.adapter = ADAPTERS[self.template.family]
        self.items, self.centroid = _templates()[self.template.source_id]
        zips = _zips()
        centre = self.rng.randrange(len(zips.code))
        self.lat, self.lon, self.timezone = zips.lat[centre], zips.lon[centre], zips.timezone[centre]
        self.city = zips.city[centre].title()
        near = np.flatnonzero((np.abs(zips.lat - self.lat) < 1.5) & (np.abs(zips.lon - self.lon) < 2.0))
        self.near = near
        self.venues: dict[tuple[Any, ...], _Venue] = {}
        self.numbers: dict[tuple[str, int], str] = {}

    def venue(self, item: dict[str, Any], cycle: int) -> _Venue:
        """The region's venue for a template venue (``cycle`` > 0: a further venue, for large sources)."""
        street = self.adapter.street(item)
        lat, lon = self.adapter.coords(item)
        key = (street, lat, lon, cycle)
        if key not in self.venues:
            if lat is None or lon is None:  # no coordinates in the template: a spread like a county's
                d_lat, d_lon = self.rng.uniform(-0.15, 0.15), self.rng.uniform(-0.2, 0.2)
            else:
                d_lat, d_lon = lat - self.centroid[0], lon - self.centroid[1]
            new_lat, new_lon = self.lat + d_lat + 0.011 * cycle, self.lon + d_lon + 0.013 * cycle
            zips = _zips()
            scale = math.cos(math.radians(self.lat)) ** 2
            nearest = self.near[
                np.argmin((zips.lat[self.near] - new_lat) ** 2 + scale * (zips.lon[self.near] - new_lon) ** 2)
            ]
            if street:  # a new house number; a line without one gets one, or it would repeat in every clone
                number = str(self.rng.randrange(10, 9999))
                street = _HOUSE.sub(number, street, count=1) if _HOUSE.search(street) else f"{number} {street}"
            self.venues[key] = _Venue(
                street, zips.city[nearest].title(), zips.state[nearest], zips.code[nearest], new_lat, new_lon
            )
        return self.venues[key]

    def renumber(self, text: Any, cycle: int, link: bool) -> Any:
        """Conference ids and dial-in digits of the region (same old id, same new one). A ``link`` without a
        numeric id (``gotomeet.me/UDGAA``, a Google Meet code) gets its last path segment rewritten instead."""
        if not isinstance(text, str):
            return text

        def new(old: str) -> str:
            if (old, cycle) not in self.numbers:
                self.numbers[old, cycle] = (
                    str(self.rng.randrange(10 ** (len(old) - 1), 10 ** len(old)))
                    if old.isdigit()
                    else "".join(
                        self.rng.choice(_ALPHABET[c.isupper()] if c.isalpha() else "123456789") if c.isalnum() else c
                        for c in old
                    )
                )
            return self.numbers[old, cycle]

        renumbered = _ROOM_NUMBER.sub(lambda m: new(m[0]), text)
        if link and renumbered == text and (match := _LAST_SEGMENT.search(text)):
            return text[: match.start(1)] + new(match[1]) + text[match.end(1) :]
        return renumbered

    def meeting(self, index: int, cycle: int) -> dict[str, Any]:
        """Template item ``index`` moved into the region (``cycle`` > 0: again, at other venues)."""
        item = dict(self.items[index])
        venue = self.venue(item, cycle)
        self.adapter.place(item, venue, self.timezone)
        if venue.street is None and isinstance(item.get(self.adapter.name), str):
            # a listing with no place is an online meeting: its name is its identity, not every clone's
            item[self.adapter.name] += f" ({self.city})"
        for name in self.adapter.conference:
            if name in item:
                item[name] = self.renumber(item[name], cycle, link=name == self.adapter.conference[0])
        return item


def _digest(*parts: object) -> str:
    return hashlib.sha1("\x1f".join(map(str, parts)).encode()).hexdigest()


def _shift(clock: Any, minutes: int) -> Any:
    """``clock`` ("19:30", "14:00:00", "7:30 PM") moved by ``minutes``, in the same notation."""
    match = _CLOCK.match(clock.strip()) if isinstance(clock, str) else None
    if not match:
        return clock
    hour, minute = int(match[1]) % 12 if match[4] else int(match[1]), int(match[2])
    if match[4] and match[4].lower() == "pm":
        hour += 12
    total = (hour * 60 + minute + minutes) % 1440
    hour, minute = divmod(total, 60)
    if match[4]:
        return f"{(hour - 1) % 12 + 1}:{minute:02d} {'PM' if hour >= 12 else 'AM'}"
    return f"{hour:02d}:{minute:02d}{':00' if match[3] else ''}"


def perturb(rng: random.Random, item: dict[str, Any], adapter: _Adapter) -> dict[str, Any]:
    """The same meeting as another site re-types it."""
    out = dict(item)
    name = out.get(adapter.name)
    if isinstance(name, str) and name:
        variants = [(p, r) for p, r in _NAME_VARIANTS if re.search(p, name)]
        if variants and rng.random() < 0.4:
            name = re.sub(*rng.choice(variants), name, count=1)
        roll = rng.random()
        if roll < 0.08:
            name = name.upper()
        elif roll < 0.16 and not name.endswith("Group"):
            name += " Group"
        out[adapter.name] = name
    street = adapter.street(out)
    if street:
        if rng.random() < 0.5:
            street = _ABBREVIATION.sub(lambda m: _SPELLED[m[1]], street, count=1)
        if rng.random() < 0.1:
            street += rng.choice([" #2", " Room 8", " Suite 100"])
        adapter.set_street(out, street)
    lat, lon = adapter.coords(out)
    if lat is not None and lon is not None:
        roll = rng.random()
        if roll < 0.15:
            out[adapter.lat] = out[adapter.lon] = ""
        elif roll < 0.55:
            distance, bearing = rng.uniform(5, 60), rng.uniform(0, 2 * math.pi)
            out[adapter.lat] = _coord(out[adapter.lat], lat + distance * math.cos(bearing) / 111_320)
            out[adapter.lon] = _coord(
                out[adapter.lon], lon + distance * math.sin(bearing) / (111_320 * math.cos(math.radians(lat)))
            )
    if rng.random() < 0.08:
        out[adapter.time] = _shift(out.get(adapter.time), rng.choice([-15, -10, -5, 5, 10, 15]))
    if rng.random() < 0.3:
        adapter.drop_type(rng, out)
    for name in adapter.conference[:1]:
        if isinstance(out.get(name), str) and rng.random() < 0.4:
            out[name] = out[name].split("?")[0]
    if rng.random() < 0.5 and out.get(adapter.notes):
        out[adapter.notes] = ""
    return out


def region_feeds(spec: Spec, number: int, night: int = 0, changed: frozenset[int] = frozenset()) -> list[Feed]:
    """The feeds of region ``number``; on ``night`` > 0 the sources in ``changed`` edited some listings."""
    indices = regions(spec)[number]
    region = _Region(spec, number)
    adapter = region.adapter
    fellowship = realdata.SOURCES[region.template.source_id].fellowship
    sizes = [records_of(spec, i) for i in indices]
    own_counts = [size - round(size * spec.dup_share) for size in sizes]
    order = list(range(len(region.items)))
    region.rng.shuffle(order)
    own: list[list[tuple[dict[str, Any], str, int]]] = []
    drawn = 0
    for count in own_counts:
        listed = []
        for _ in range(count):
            cycle, at = divmod(drawn, len(order))
            index = order[at]
            listed.append((region.meeting(index, cycle), f"r{number}/{index}/{cycle}", cycle))
            drawn += 1
        own.append(listed)
    feeds = []
    for j, source_index in enumerate(indices):
        feed = Feed(
            source_id(source_index),
            f"Synthetic {region.template.source_id} region {number} #{j + 1}",
            region.template.family,
            fellowship,
            region.timezone,
            source_index % spec.hosts,
        )
        rows = [(dict(item), entity, f"{_slug(item, adapter)}-{entity.split('/', 1)[1].replace('/', '-')}")
                for item, entity, _ in own[j]]  # fmt: skip
        partner = own[(j + 1) % len(indices)]
        copies = min(sizes[j] - own_counts[j], len(partner))
        for item, entity, _ in region.rng.sample(partner, copies):
            rows.append(
                (perturb(region.rng, item, adapter), entity, f"{_slug(item, adapter)}-{_digest(j, entity)[:6]}")
            )
        feed.copies = copies
        region.rng.shuffle(rows)
        for position, (item, entity, key) in enumerate(rows):
            adapter.set_key(item, key, position)
            feed.items.append(item)
            feed.entities.append(entity)
        if night and source_index in changed:
            _edit(random.Random(f"{spec.seed}/night/{night}/{source_index}"), feed, adapter)
        feeds.append(feed)
    return feeds


def _slug(item: dict[str, Any], adapter: _Adapter) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(item.get(adapter.name) or "meeting").lower())[:40].strip("-") or "meeting"


def _edit(rng: random.Random, feed: Feed, adapter: _Adapter) -> None:
    """A night's edits at a source: about 5 % of its listings move by half an hour (at least one)."""
    for position in rng.sample(range(len(feed.items)), max(1, len(feed.items) // 20)):
        item = feed.items[position]
        item[adapter.time] = _shift(item.get(adapter.time), 30)


def feeds(spec: Spec) -> Iterator[Feed]:
    """Every source's feed, region by region (memory holds one region at a time)."""
    for number in range(len(regions(spec))):
        yield from region_feeds(spec, number)


# --- on disk: bodies, routes for the server, a registry for the pipeline --------------------------------


def routes_of(feed: Feed) -> dict[str, tuple[str, str]]:
    """URL path (with query) → (part name, content type); the registry URL is the first path's base."""
    sid = feed.source_id
    if feed.family == "bmlt":
        # The search body is a bare list (a server that ignores get_used_formats): the fetch asks GetFormats too.
        return {url: (part, JSON) for part, url in bmlt.urls(f"/{sid}/main_server/").items()}
    if feed.family == "tsml_csv":
        return {f"/{sid}/export/meetings.tsv": ("meetings", TSV)}
    return {f"/{sid}/wp-admin/admin-ajax.php?action=meetings": ("meetings", JSON)}


def registry_path(feed_family: str, sid: str) -> str:
    if feed_family == "bmlt":
        return f"/{sid}/main_server/"
    if feed_family == "tsml_csv":
        return f"/{sid}/export/meetings.tsv"
    return f"/{sid}/wp-admin/admin-ajax.php?action=meetings"


def _shared_bmlt_parts(out: Path) -> dict[str, str]:
    """GetFormats and GetServiceBodies are the real GNY server's for every synthetic BMLT root (stored once)."""
    shared = out / "feeds" / "_bmlt"
    shared.mkdir(parents=True, exist_ok=True)
    files = {}
    for part, name in (("formats", "GetFormats.json"), ("service_bodies", "GetServiceBodies.json")):
        (shared / name).write_bytes((realdata.SNAPSHOTS / "gny-na" / name).read_bytes())
        files[part] = f"feeds/_bmlt/{name}"
    return files


def _write_feed(out: Path, feed: Feed, shared: dict[str, str], routes: dict[str, list[str]]) -> None:
    folder = out / "feeds" / feed.source_id
    folder.mkdir(parents=True, exist_ok=True)
    bodies = feed.parts()
    for path, (part, content_type) in routes_of(feed).items():
        if part in bodies:
            rel = f"feeds/{feed.source_id}/{part}.{'tsv' if feed.family == 'tsml_csv' else 'json'}"
            (out / rel).write_bytes(bodies[part])
        else:
            rel = shared[part]
        routes[path] = [rel, content_type]


@dataclass(frozen=True)
class Summary:
    sources: int
    records: int
    copies: int
    families: dict[str, int]


def generate(spec: Spec, out: Path) -> Summary:
    """Write every feed under ``out/feeds``, plus ``routes.json`` (``bench.multihost``), ``sources.json`` and
    ``spec.json`` (``write_registry``, ``change_sources``)."""
    out.mkdir(parents=True, exist_ok=True)
    shared = _shared_bmlt_parts(out)
    routes: dict[str, list[str]] = {}
    sources = []
    records = copies = 0
    families: dict[str, int] = {}
    for feed in feeds(spec):
        _write_feed(out, feed, shared, routes)
        sources.append({"id": feed.source_id, "name": feed.name, "fellowship": feed.fellowship,
                        "kind": feed.family, "timezone": feed.timezone, "host": feed.host})  # fmt: skip
        records += len(feed.items)
        copies += feed.copies
        families[feed.family] = families.get(feed.family, 0) + 1
    (out / "routes.json").write_text(json.dumps(routes))
    (out / "sources.json").write_text(json.dumps(sources))
    (out / "spec.json").write_text(json.dumps(asdict(spec)))
    return Summary(len(sources), records, copies, families)


def change_sources(out: Path, share: float, night: int = 1) -> list[str]:
    """Rewrite the feeds of ``share`` of the sources (at least one) as they look ``night`` nights later."""
    spec = Spec(**json.loads((out / "spec.json").read_text()))
    rng = random.Random(f"{spec.seed}/changed/{night}")
    changed = frozenset(rng.sample(range(spec.sources), max(1, round(spec.sources * share))))
    shared = {part: f"feeds/_bmlt/{name}" for part, name in (("formats", "GetFormats.json"),
                                                              ("service_bodies", "GetServiceBodies.json"))}  # fmt: skip
    routes: dict[str, list[str]] = {}
    for number, indices in enumerate(regions(spec)):
        if changed.intersection(indices):
            for feed in region_feeds(spec, number, night, changed):
                if int(feed.source_id.removeprefix("syn-")) in changed:
                    _write_feed(out, feed, shared, routes)
    return sorted(source_id(i) for i in changed)


def write_registry(out: Path, bases: list[str]) -> Path:
    """``sources.yaml`` for the pipeline: source ``i`` is served by ``bases[host]`` (one per loopback address)."""
    entries = [
        {"id": s["id"], "name": s["name"], "fellowship": s["fellowship"], "kind": s["kind"],
         "url": bases[s["host"] % len(bases)] + registry_path(s["kind"], s["id"]), "timezone": s["timezone"]}
        for s in json.loads((out / "sources.json").read_text())
    ]  # fmt: skip
    path = out / "sources.yaml"
    path.write_text(yaml.safe_dump({"sources": entries}, sort_keys=False))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--meetings", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dup-share", type=float, default=0.2)
    parser.add_argument("--hosts", type=int, default=8)
    args = parser.parse_args()
    spec = Spec(args.sources, args.meetings, args.seed, args.dup_share, hosts=args.hosts)
    print(generate(spec, args.out))


if __name__ == "__main__":
    main()
