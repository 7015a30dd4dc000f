"""Regions: the areas a release is cut into, which meetings fall in each, from which evidence, and how each
region's feed labels its meetings.

**Automatic regions** come from the data: one per US state or territory present (``new-york``, the slug of
its name), one per province elsewhere (``canada-ontario``) or per country when the province is unknown
(``germany``), and ``online`` (online-only meetings). **Operator regions** come from ``regions/*.yaml`` on
top; an operator region with an automatic region's id replaces it. Each has an ``id`` (slug, names its
files), a ``name`` and rules — a meeting belongs when any rule holds:

- ``states``: state or province codes in the region's ``country`` (default US);
- ``counties``: US county FIPS codes (5 digits);
- ``zips``: postal codes;
- ``cities``: "City, ST" — places the gazetteer does not know or names differently ("Queens, NY");
- ``polygon``: a GeoJSON file beside the YAML (Polygon or MultiPolygon, bare or in a Feature or
  FeatureCollection);
- ``online: true``: online-only meetings;
- ``sub_regions``: named parts with the same place rules (NYC's five boroughs), which also label the feed.

**Where a meeting is** comes from the best evidence it has, in order (``region_evidence``): ``coordinates``
(the source's own point: the county it lies in, offline — ``transforms.county_shapes``; the point for
polygons), ``postal_code`` (the ZIP code's county and centroid), ``city`` (city + state through the
gazetteer — every county the city's ZIP codes are in — and the operators' ``cities``), ``source_region``
(the source's own region labels: one that names a county of the meeting's state, "Kings" or "Erie County",
or a code an operator mapped in ``source_labels:``, New York Intergroup's "BK") and ``state``. A county rule
holds when every county the deciding evidence allows is in it; a polygon when the deciding point is inside;
a city rule when the meeting is located by its city; zip and state rules on the meeting's own postal code and
state. A sub-region is the one whose rules the best evidence that tells them apart satisfies.

**Contradictions.** Coordinates that lie farther than ``CONFLICT_KM`` from every county the address names (its
ZIP code, its city, its labels, else its state) contradict it: the address wins, the meeting is located by
it (``coordinates_conflict``), and the release publishes the ZIP centroid (precision ``postal``) or no
point instead of the source's.

**Labels.** Each feed gives every meeting its place in a hierarchy (Meeting Guide ``regions``, ``region``,
``sub_region``): the national and online feeds [state, county, city, neighbourhood], a state feed the same
without the state, an operator region [sub-region or city, neighbourhood]. Counties are named as the Census
names them ("Westchester County"), except a county that is an operator's sub-region on its own, which takes
that name ("Brooklyn"); a city is left out where it only repeats a level above ("New York" in Manhattan); the
neighbourhood is the source's most specific label that is not one of those places.

``us_counties.csv``: US Census Bureau county FIPS codes (2020; US government work, public domain) with the
alternative names the Census file lists, plus the two Alaska census areas created in 2019 and the Alaska
names the ZIP table spells differently.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
import pyarrow as pa
import shapely
import yaml
import zipcodes
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from foundation.versions import files_digest
from transforms.county_shapes import counties_at, distance_km
from transforms.gazetteer import city_key, city_place, county_codes, county_key
from transforms.geo import country_name, zip_info
from transforms.refdata import data_rows

EVIDENCE = ("coordinates", "postal_code", "city", "source_region", "state")
"""``region_evidence``, best first: what located a meeting."""
CONFLICT_KM = 4.0
"""Coordinates farther than this from every county of the address contradict it (county outlines are
generalized to about a kilometre, and a ZIP code may cross a county line)."""
ONLINE = "online"
UNPLACED = {
    "no_place": "the source gives no coordinates, postal code, city, state or region label",
    "unknown_place": "its city, postal code or region labels name no place the gazetteer or the operator's "
    "source_labels know, and it gives no state",
    "unknown_state": "its state or province code is not one of its country's",
}
"""Why a meeting is in no region (``core.meeting_places.unplaced``)."""


class RegionError(ValueError):
    pass


def slug(text: str) -> str:
    """ "New York" → "new-york", "U.S. Virgin Islands" → "us-virgin-islands"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.replace(".", "")).strip("-")


# --- configuration -------------------------------------------------------------------------------------------


class Places(BaseModel):
    """The place rules a region and a sub-region share."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    counties: tuple[str, ...] = ()
    zips: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()
    polygon: Path | None = None
    """Absolute path of the GeoJSON file (the loader resolves it against the YAML's folder)."""

    @field_validator("counties")
    @classmethod
    def _counties(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [c for c in value if not re.fullmatch(r"\d{5}", c)]
        if bad:
            raise ValueError(f"county FIPS codes have five digits (state + county, quoted in YAML): {bad}")
        return value

    @field_validator("zips")
    @classmethod
    def _zips(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [z for z in value if not re.fullmatch(r"[0-9A-Za-z -]{3,10}", z)]
        if bad:
            raise ValueError(f"not postal codes: {bad}")
        return value

    @field_validator("cities")
    @classmethod
    def _cities(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [c for c in value if not re.fullmatch(r"[^,]+, *[A-Za-z]{2}", c)]
        if bad:
            raise ValueError(f'cities are written "City, ST": {bad}')
        return value

    def city_keys(self) -> frozenset[tuple[str, str]]:
        return frozenset((c.rsplit(",", 1)[1].strip().upper(), city_key(c.rsplit(",", 1)[0])) for c in self.cities)

    def geometry(self) -> BaseGeometry | None:
        return _geometry(self.polygon) if self.polygon else None

    def has_place_rule(self) -> bool:
        return bool(self.counties or self.zips or self.cities or self.polygon)


class SubRegion(Places):
    name: str = Field(min_length=1)

    @model_validator(mode="after")
    def _has_rule(self) -> SubRegion:
        if not self.has_place_rule():
            raise ValueError(f"sub-region {self.name!r} needs at least one of counties, zips, cities, polygon")
        return self


class Region(Places):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1)
    kind: Literal["operator", "state", "province", "country", "online"] = "operator"
    """``operator``: from ``regions/*.yaml``; the others are made from the data."""
    country: str = Field(default="US", pattern=r"^[A-Z]{2}$")
    states: tuple[str, ...] = ()
    online: bool = False
    sub_regions: tuple[SubRegion, ...] = ()

    @field_validator("states")
    @classmethod
    def _states(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [s for s in value if not s.strip()]
        if bad:
            raise ValueError(f"blank state: {bad}")
        return tuple(s.strip().upper() for s in value)

    @model_validator(mode="after")
    def _has_rule(self) -> Region:
        if self.country in ("US", "CA") and (bad := [s for s in self.states if not re.fullmatch(r"[A-Z]{2}", s)]):
            raise ValueError(f"state codes have two letters: {bad}")
        if self.kind == "operator" and not (self.states or self.has_place_rule() or self.online or self.sub_regions):
            raise ValueError("a region needs at least one of states, counties, zips, cities, polygon, online, "
                             "sub_regions")  # fmt: skip
        names = Counter(s.name for s in self.sub_regions)
        if twice := [n for n, k in names.items() if k > 1]:
            raise ValueError(f"sub-region names must be unique: {twice}")
        return self

    def parts(self) -> tuple[Places, ...]:
        """The region's own place rules, then each sub-region's (a region holds what its parts hold)."""
        return (self, *self.sub_regions)


class SourceLabel(BaseModel):
    """What one of a source's own region labels means: a state, and the counties it covers when known."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    state: str = Field(pattern=r"^[A-Z]{2}$")
    country: str = Field(default="US", pattern=r"^[A-Z]{2}$")
    counties: tuple[str, ...] = ()
    name: str | None = None
    """What people call the area, for the feeds' labels when it is no single county ("Putnam and Dutchess")."""

    @field_validator("counties")
    @classmethod
    def _counties(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return Places._counties(value)


SourceLabels = Mapping[tuple[str, str], SourceLabel]
"""(source id, label) → what the label means."""


@cache
def _geometry(path: Path) -> BaseGeometry:
    data = json.loads(path.read_text())
    features = data.get("features") or [data]
    geometries = [shape(f.get("geometry", f)) for f in features]
    bad = {g.geom_type for g in geometries} - {"Polygon", "MultiPolygon"}
    if bad or not geometries:
        raise ValueError(f"{path.name}: expected Polygon or MultiPolygon geometries, found {sorted(bad) or 'none'}")
    geometry = shapely.union_all(geometries)
    shapely.prepare(geometry)
    return geometry


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml"))
    return [path]


def _documents(path: Path) -> Iterable[tuple[Path, dict[str, Any]]]:
    if not path.exists():
        return
    for file in _files(path):
        document = yaml.safe_load(file.read_text()) or {}
        if not isinstance(document, dict) or set(document) - {"regions", "source_labels"}:
            raise RegionError(f"{file}: expected a mapping with the keys regions: and/or source_labels:")
        yield file, document


def _resolve_polygons(file: Path, data: dict[str, Any]) -> dict[str, Any]:
    data = dict(data)
    if isinstance(data.get("polygon"), str):
        data["polygon"] = (file.parent / data["polygon"]).resolve()
    if isinstance(data.get("sub_regions"), list):
        data["sub_regions"] = [_resolve_polygons(file, s) if isinstance(s, dict) else s for s in data["sub_regions"]]
    return data


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'region'}: {e['msg']}" for e in exc.errors())


def _region(file: Path, item: Any) -> Region:
    rid = item.get("id", "?") if isinstance(item, dict) else "?"
    if not isinstance(item, dict):
        raise RegionError(f"{file}: each entry of regions: must be a mapping, got {item!r}")
    if "kind" in item:
        raise RegionError(f"{file}: region {rid!r}: kind: set by the pipeline, not in region files")
    try:
        region = Region.model_validate(_resolve_polygons(file, item))
        for part in region.parts():
            part.geometry()
    except ValidationError as exc:
        raise RegionError(f"{file}: region {rid!r}: {_problems(exc)}") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RegionError(f"{file}: region {rid!r}: polygon: {exc}") from None
    return region


def load_regions(path: Path) -> list[Region]:
    """The operator regions of a YAML file or of the ``*.yaml`` files of a folder (none when it is missing)."""
    regions: dict[str, tuple[Region, Path]] = {}
    for file, document in _documents(path):
        for item in document.get("regions") or []:
            region = _region(file, item)
            if region.id in regions:
                raise RegionError(f"{file}: region {region.id!r}: id already defined in {regions[region.id][1]}")
            regions[region.id] = (region, file)
    return [r for r, _ in regions.values()]


def load_source_labels(path: Path) -> dict[tuple[str, str], SourceLabel]:
    """``source_labels:`` of the region files: per source id, what its region labels mean.

    ```yaml
    source_labels:
      nyc-aa:
        BK: {state: NY, counties: ["36047"]}   # Brooklyn
        C: {state: CT}                         # Connecticut
    ```
    """
    labels: dict[tuple[str, str], SourceLabel] = {}
    for file, document in _documents(path):
        sources = document.get("source_labels") or {}
        if not isinstance(sources, dict):
            raise RegionError(f"{file}: source_labels: must map source ids to their labels")
        for source_id, entries in sources.items():
            if not isinstance(entries, dict):
                raise RegionError(f"{file}: source_labels: {source_id}: must map labels to places")
            for label, place in entries.items():
                try:
                    labels[(str(source_id), str(label))] = SourceLabel.model_validate(place)
                except ValidationError as exc:
                    raise RegionError(f"{file}: source_labels: {source_id}: {label}: {_problems(exc)}") from None
    return labels


# --- reference tables ----------------------------------------------------------------------------------------


@cache
def county_tables() -> tuple[pa.Table, pa.Table]:
    """(counties: fips, state, name — the first name listed per code), (ZIP code → county FIPS)."""
    counties: dict[str, tuple[str, str]] = {}
    for row in data_rows("us_counties.csv"):
        counties.setdefault(row["fips"], (row["state"], row["name"]))
    codes = county_codes()
    zips = {
        z["zip_code"]: fips
        for z in zipcodes.list_all()
        if z["county"] and (fips := codes.get(county_key(z["state"], z["county"])))
    }
    return (
        pa.table({"fips": list(counties), "state": [s for s, _ in counties.values()],
                  "name": [n for _, n in counties.values()]}),
        pa.table({"postal_code": list(zips), "fips": list(zips.values())}),
    )  # fmt: skip


@cache
def _counties() -> dict[str, tuple[str, str]]:
    """FIPS → (state, Census name)."""
    table = county_tables()[0]
    places = zip(table["state"].to_pylist(), table["name"].to_pylist(), strict=True)
    return dict(zip(table["fips"].to_pylist(), places, strict=True))


@cache
def _zip_counties() -> dict[str, str]:
    table = county_tables()[1]
    return dict(zip(table["postal_code"].to_pylist(), table["fips"].to_pylist(), strict=True))


@cache
def _state_counties() -> dict[str, frozenset[str]]:
    states: dict[str, set[str]] = {}
    for fips, (state, _) in _counties().items():
        states.setdefault(state, set()).add(fips)
    return {s: frozenset(c) for s, c in states.items()}


@cache
def _region_names() -> dict[tuple[str, str], str]:
    return {(r["country"], r["code"]): r["name"] for r in data_rows("regions.csv")}


def ensure_reference(con: duckdb.DuckDBPyConnection) -> None:
    """Fill ``ref.us_counties`` and ``ref.us_zip_counties`` once (both ship with the code)."""
    if con.sql("SELECT count(*) FROM ref.us_counties").fetchall()[0][0]:
        return
    counties, zips = county_tables()
    con.register("ref_counties", counties)
    con.register("ref_zips", zips)
    try:
        con.execute("INSERT INTO ref.us_counties SELECT * FROM ref_counties")
        con.execute("INSERT INTO ref.us_zip_counties SELECT * FROM ref_zips")
    finally:
        con.unregister("ref_counties")
        con.unregister("ref_zips")


# --- where a meeting is --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    """What one piece of evidence says about where a meeting is."""

    evidence: str
    counties: frozenset[str] = frozenset()
    point: tuple[float, float] | None = None
    """(longitude, latitude) for polygon rules: the source's point, or the ZIP code's centroid."""


@dataclass(frozen=True)
class Address:
    """What the address (everything but the coordinates) says, per piece of evidence."""

    country: str | None
    state: str | None
    """The meeting's state, as given or, when it gives none, as its ZIP code or labels imply."""
    state_known: bool
    zip_county: str | None
    zip_point: tuple[float, float] | None
    city: str | None
    city_counties: frozenset[str]
    city_listed: bool
    """The city is in an operator region's ``cities``."""
    city_main_county: str | None
    """The county most of the city's ZIP codes are in (labels only: membership needs every county)."""
    label_counties: frozenset[str]
    label_state: str | None
    mapped_labels: frozenset[str]
    """Labels that an operator's ``source_labels`` or a county name explained (not neighbourhoods)."""
    label_name: str | None
    """The operator's name for a mapped label's area."""

    def counties(self) -> frozenset[str]:
        """Every county the address names; all of its state's when it names none."""
        named = frozenset(filter(None, (self.zip_county,))) | self.city_counties | self.label_counties
        if named or self.country != "US" or not self.state:
            return named
        return _state_counties().get(self.state, frozenset())


def _label_county(state: str | None, label: str) -> str | None:
    """The county a label names in the state ("Kings", "Erie County", "Westchester")."""
    if not state:
        return None
    codes = county_codes()
    return codes.get(county_key(state, label)) or codes.get(county_key(state, f"{label} County"))


def _address(
    key: tuple[str | None, str | None, str | None, str | None, tuple[str, ...], tuple[str, ...]],
    labels: SourceLabels,
    listed: frozenset[tuple[str, str]],
) -> Address:
    country, region_code, city, postal_code, sources, source_regions = key
    us = country == "US"
    zip_place = zip_info(postal_code, country) if us else None
    mapped = [labels[(s, label)] for s in sources for label in source_regions if (s, label) in labels]
    label_state = next((m.state for m in mapped if m.country == (country or m.country)), None)
    state = region_code or (zip_place.state if zip_place else None) or label_state
    place = city_place(city, state, country) if us else None
    county_labels = {label: c for label in source_regions if (c := _label_county(state, label)) and us}
    return Address(
        country=country or (mapped[0].country if mapped else None),
        state=state,
        state_known=state is not None and (country or "US", state) in _region_names() if us else state is not None,
        zip_county=_zip_counties().get(postal_code) if us and postal_code else None,
        zip_point=(zip_place.longitude, zip_place.latitude) if zip_place else None,
        city=city,
        city_counties=place.counties if place else frozenset(),
        city_listed=bool(city and state and (state, city_key(city)) in listed),
        city_main_county=_main_county(place.county_zips) if place else None,
        label_counties=frozenset(c for m in mapped for c in m.counties) | frozenset(county_labels.values()),
        label_state=label_state,
        mapped_labels=frozenset(label for s in sources for label in source_regions if (s, label) in labels)
        | frozenset(county_labels),
        label_name=next((m.name for m in mapped if m.name), None),
    )


def _main_county(zips: Mapping[str, int]) -> str | None:
    """The county that holds more than half of a city's ZIP codes."""
    total = sum(zips.values())
    return next((c for c, n in zips.items() if n * 2 > total), None)


def _levels(address: Address, point: tuple[float, float] | None, point_county: str | None) -> list[Level]:
    """The evidence a meeting has, best first (coordinates only when they do not contradict the address)."""
    levels = []
    if point is not None:
        levels.append(Level("coordinates", frozenset(filter(None, (point_county,))), point))
    if address.zip_county or address.zip_point:
        levels.append(Level("postal_code", frozenset(filter(None, (address.zip_county,))), address.zip_point))
    if address.city_counties or address.city_listed:
        levels.append(Level("city", address.city_counties))
    if address.label_counties or address.label_state:
        levels.append(Level("source_region", address.label_counties))
    if address.state:
        levels.append(Level("state"))
    return levels


def _state_of(address: Address, levels: list[Level]) -> str | None:
    """The state: the address's own, else the one every county of the best evidence is in."""
    if address.state:
        return address.state
    for level in levels:
        states = {_counties()[c][0] for c in level.counties if c in _counties()}
        if len(states) == 1:
            return states.pop()
    return None


@dataclass
class Compiled:
    """A region's rules in the shape the matcher reads them."""

    region: Region
    parts: list[tuple[str | None, frozenset[str], frozenset[str], frozenset[tuple[str, str]], int | None]]
    """(sub-region name or None for the region's own rules, counties, zips, city keys, polygon index)."""
    counties: frozenset[str]
    """The region's counties and its sub-regions' (a meeting in Kings or Queens is in New York City)."""


def _compile(regions: Sequence[Region], polygons: list[BaseGeometry]) -> list[Compiled]:
    compiled = []
    for region in regions:
        parts = []
        for part in region.parts():
            geometry = part.geometry()
            index = None
            if geometry is not None:
                polygons.append(geometry)
                index = len(polygons) - 1
            name = part.name if isinstance(part, SubRegion) else None
            parts.append((name, frozenset(part.counties), frozenset(z.upper() for z in part.zips), part.city_keys(),
                          index))  # fmt: skip
        compiled.append(Compiled(region, parts, frozenset(c for part in parts for c in part[1])))
    return compiled


def _holds(
    part: tuple[str | None, frozenset[str], frozenset[str], frozenset[tuple[str, str]], int | None],
    level: Level,
    address: Address,
    inside: frozenset[int],
) -> bool:
    """Whether one part's place rules hold at one level of evidence."""
    _, counties, _, cities, polygon = part
    if counties and level.counties and level.counties <= counties:
        return True
    if polygon is not None and polygon in inside:
        return True
    by_city = level.evidence in ("city", "source_region", "state")  # no coordinates or ZIP code say otherwise
    return (
        bool(by_city and cities and address.city and address.state)
        and (address.state, city_key(address.city)) in cities
    )


@dataclass
class Located:
    """Where one meeting is and the regions it belongs to."""

    evidence: str | None
    country: str | None
    state: str | None
    county: str | None
    regions: list[tuple[str, str | None]] = field(default_factory=list)
    """(region id, sub-region name)."""
    unplaced: str | None = None


def _locate(
    address: Address,
    postal_code: str | None,
    online: bool,
    point: tuple[float, float] | None,
    point_county: str | None,
    inside: tuple[frozenset[int], frozenset[int]],
    compiled: list[Compiled],
) -> Located:
    """Place one meeting: its evidence, state, county, and every region (with sub-region) it belongs to."""
    levels = _levels(address, point, point_county)
    best = levels[0] if levels else None
    polygon_hits = {"coordinates": inside[0], "postal_code": inside[1]}
    state = _state_of(address, levels)
    county = next((next(iter(lv.counties)) for lv in levels if len(lv.counties) == 1), None)
    located = Located(best.evidence if best else None, address.country, state, county)
    postal = (postal_code or "").upper()
    for item in compiled:
        region = item.region
        in_country = (address.country or "US") == region.country
        member = (
            (region.kind in ("state", "province", "operator") and in_country and state in region.states)
            or (region.kind == "country" and address.country == region.country and not region.states)
            or (region.online and online)
        )
        if not member and best is not None:
            hits = polygon_hits.get(best.evidence, frozenset())
            member = bool(best.counties and best.counties <= item.counties) or any(
                (in_country and postal and postal in part[2]) or _holds(part, best, address, hits)
                for part in item.parts
            )
        if not member:
            continue
        sub = None
        for level in levels:
            hits = polygon_hits.get(level.evidence, frozenset())
            names = {
                part[0]
                for part in item.parts[1:]
                if _holds(part, level, address, hits) or (level.evidence == "postal_code" and postal in part[2])
            }
            if len(names) == 1:
                sub = names.pop()
                break
        located.regions.append((region.id, sub))
    if not located.regions:
        located.unplaced = (
            "unknown_state" if address.state and not address.state_known
            else "unknown_place" if address.city or postal_code or address.label_counties or point
            else "no_place"
        )  # fmt: skip
    return located


# --- labels --------------------------------------------------------------------------------------------------


def _display(label: str) -> str:
    """A source label as a person reads it ("HUNTINGTON BEACH", "soundview" → "Huntington Beach", "Soundview")."""
    same_case = label.isupper() or label.islower()
    return " ".join(w.capitalize() for w in label.split()) if same_case and len(label) > 3 else label


@dataclass(frozen=True)
class Naming:
    """How places are named in labels."""

    county_names: dict[str, str]
    """FIPS → label: the operator's sub-region name for a county that is one on its own, else the Census name."""
    aliases: dict[str, frozenset[str]]
    """Region id → names (``city_key``) that repeat the region or one of its sub-regions."""


def _naming(regions: Sequence[Region]) -> Naming:
    names = {fips: name for fips, (_, name) in _counties().items()}
    aliases: dict[str, frozenset[str]] = {}
    for region in regions:
        keys = {city_key(region.name)}
        for sub in region.sub_regions:
            keys |= {city_key(sub.name)} | {k for _, k in sub.city_keys()}
            keys |= {city_key(_counties()[c][1].removesuffix(" County")) for c in sub.counties if c in _counties()}
            if len(sub.counties) == 1:
                names[sub.counties[0]] = sub.name
        aliases[region.id] = frozenset(keys)
    return Naming(names, aliases)


def _labels(
    address: Address,
    located: Located,
    source_regions: tuple[str, ...],
    naming: Naming,
    kinds: Mapping[str, Region],
) -> tuple[list[str], dict[str, list[str]]]:
    """(The national path, each region's path) of one meeting."""
    if located.country == "US" or located.country is None:
        top = [_region_names().get(("US", located.state or ""), located.state)] if located.state else []
    else:
        top = [country_name(located.country) or located.country]
        if located.state:
            top.append(_region_names().get((located.country, located.state), located.state))
    county = located.county or address.city_main_county
    area = naming.county_names.get(county) if county else address.label_name
    skip = {city_key(x) for x in (*top, located.state, area, *(naming.county_names.get(c) for c in
                                                               address.counties())) if x}  # fmt: skip
    skip |= {city_key(x.removesuffix(" County")) for x in (area or "",) if x}
    for region_id, _ in located.regions:
        skip |= naming.aliases.get(region_id, frozenset())
    locality = address.city if address.city and city_key(address.city) not in skip else None
    skip |= {city_key(address.city)} if address.city else set()
    neighbourhood = next(
        (_display(label) for label in reversed(source_regions)
         if label not in address.mapped_labels and city_key(label) not in skip and city_key(label)),
        None,
    )  # fmt: skip
    below = [x for x in (area, locality, neighbourhood) if x]
    national = [*top, *below]
    paths: dict[str, list[str]] = {}
    for region_id, sub in located.regions:
        region = kinds[region_id]
        if region.kind in ("state", "province"):
            paths[region_id] = below
        elif region.kind == "country":
            paths[region_id] = national[1:]
        elif region.kind == ONLINE:
            paths[region_id] = national
        elif region.sub_regions:
            paths[region_id] = [x for x in (sub, neighbourhood or locality) if x]
        else:
            paths[region_id] = [x for x in (locality or area, neighbourhood) if x]
    return national, paths


# --- automatic regions ---------------------------------------------------------------------------------------


def automatic_regions(places: Iterable[tuple[str | None, str | None]], any_online: bool) -> list[Region]:
    """One region per (country, state) present, per country where no state is known, and ``online``."""
    regions: dict[str, Region] = {}
    for country, state in sorted({p for p in places if p[0] or p[1]}, key=lambda p: (p[0] or "", p[1] or "")):
        country = country or "US"
        if state and (country, state) in _region_names():
            name = _region_names()[(country, state)]
            if country == "US":
                region = Region(id=slug(name), name=name, kind="state", states=(state,))
            else:
                full = f"{country_name(country) or country} {name}"
                region = Region(id=slug(full), name=f"{name}, {country_name(country) or country}", kind="province",
                                country=country, states=(state,))  # fmt: skip
        elif state and country != "US":
            full = f"{country_name(country) or country} {state}"
            shown = state.title() if len(state) > 3 else state  # a province the source names in full ("BERLIN")
            region = Region(id=slug(full), name=f"{shown}, {country_name(country) or country}", kind="province",
                            country=country, states=(state,))  # fmt: skip
        elif country != "US" and not state:
            region = Region(id=slug(country_name(country) or country), name=country_name(country) or country,
                            kind="country", country=country)  # fmt: skip
        else:
            continue
        regions.setdefault(region.id, region)
    if any_online:
        regions[ONLINE] = Region(id=ONLINE, name="Online meetings", kind=ONLINE, online=True)
    return list(regions.values())


# --- assignment ----------------------------------------------------------------------------------------------

MEETINGS_SQL = """
SELECT meeting_id, coalesce(country, 'US') AS country, upper(region_code) AS region_code, city,
       upper(postal_code) AS postal_code,
       CASE WHEN coordinates_source = 'source' THEN longitude END AS longitude,
       CASE WHEN coordinates_source = 'source' THEN latitude END AS latitude,
       attendance = 'online' AS online, coalesce(source_regions, []::VARCHAR[]) AS source_regions,
       list_sort(list_distinct([s.source_id FOR s IN sources])) AS source_ids
FROM core.meetings WHERE status = 'active' ORDER BY meeting_id
"""
"""A meeting's place inputs: every column but the meeting id is part of its place key (``PLACE_KEYS``)."""
PLACE_KEYS = "region_place_keys"
"""Temporary table of ``assign``: every active meeting, its ``place_key`` (sha256 of its place inputs, the
columns of ``MEETINGS_SQL`` but the meeting id) and those inputs."""
CACHE = "core.place_cache"
"""What each place key gave under a fingerprint (``warehouse/migrations/011_place_cache.sql``)."""


@dataclass
class Assignment:
    """What ``assign`` did: every region (automatic, then the operator's), its meetings, and the unplaced."""

    regions: list[Region]
    counts: dict[str, int]
    unplaced: dict[str, int]
    evidence: dict[str, int]
    conflicts: int


def _conflicts(
    points: list[tuple[float, float] | None], point_counties: list[str | None], addresses: list[Address]
) -> tuple[list[bool], list[float | None]]:
    """Per meeting: whether its coordinates contradict its address, and by how far."""
    flags, distances = [], []
    for point, county, address in zip(points, point_counties, addresses, strict=True):
        named = address.counties() if point is not None and address.country == "US" else frozenset()
        if not named or county in named:
            flags.append(False)
            distances.append(None)
            continue
        km = distance_km(point[0], point[1], named)
        flags.append(km is not None and km > CONFLICT_KM)
        distances.append(round(km, 1) if km is not None else None)
    return flags, distances


def _inside(polygons: list[BaseGeometry], points: list[tuple[float, float] | None]) -> list[frozenset[int]]:
    """Per point, the polygons it lies in (vectorized per polygon)."""
    hits: dict[int, set[int]] = {}
    present = [i for i, p in enumerate(points) if p is not None] if polygons else []
    if present:
        xs = np.array([points[i][0] for i in present])
        ys = np.array([points[i][1] for i in present])
        for index, geometry in enumerate(polygons):
            for i in np.flatnonzero(shapely.contains_xy(geometry, xs, ys)).tolist():
                hits.setdefault(present[i], set()).add(index)
    none: frozenset[int] = frozenset()
    return [frozenset(hits[i]) if i in hits else none for i in range(len(points))]


@cache
def places_version() -> str:
    """A digest of the code and reference data a meeting's place depends on: this module, the gazetteer, the
    county shapes, ``geo`` and their tables in ``data/``, and the versions of the packages whose data they read
    (the ZIP table, ISO 3166 names, GEOS)."""
    here = Path(__file__).parent
    modules = [here / f"{name}.py" for name in ("regions", "gazetteer", "county_shapes", "geo", "refdata")]
    data = [here / "data" / name for name in ("us_counties.csv", "regions.csv", "country_aliases.csv",
                                              "region_timezones.csv", "us_atlas_counties_10m.json")]  # fmt: skip
    packages = [f"{name}={version(name)}" for name in ("zipcodes", "tzdata", "shapely", "numpy")]
    return files_digest(",".join([*packages, f"geos={shapely.geos_version_string}"]), [*modules, *data])


def _fingerprint(regions: Sequence[Region], labels: SourceLabels, catalogue: Sequence[Region]) -> str:
    """Everything global a meeting's place depends on: the code (``places_version``), the operator's regions
    (their whole definitions and their polygons' bytes), the source labels, and the region catalogue in order
    (its automatic regions follow the states present)."""

    def described(region: Region) -> dict[str, Any]:
        polygons = [hashlib.sha256(p.polygon.read_bytes()).hexdigest() for p in region.parts() if p.polygon]
        return {"region": region.model_dump(mode="json"), "polygons": polygons}

    content = {
        "code": places_version(),
        "regions": [described(r) for r in regions],
        "catalogue": [described(r) for r in catalogue],
        "labels": sorted([s, label, meaning.model_dump(mode="json")] for (s, label), meaning in labels.items()),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _catalogue(
    states: Iterable[tuple[str | None, str | None]], any_online: bool, regions: Sequence[Region]
) -> list[Region]:
    """The regions in order: automatic ones from the states present, then the operator's (which win on an id)."""
    everything = {r.id: r for r in automatic_regions(states, any_online)}
    everything.update({r.id: r for r in regions})
    return list(everything.values())


@dataclass(frozen=True)
class Prepared:
    """One place with what its address and coordinates say, before the regions are known."""

    row: dict[str, Any]
    """The place inputs (a row of ``PLACE_KEYS``)."""
    address: Address
    point_county: str | None
    conflict: bool
    conflict_km: float | None
    usable: tuple[float, float] | None
    """The source's point when it places the meeting (not contradicting its address)."""


def _prepare(rows: list[dict[str, Any]], labels: SourceLabels, listed: frozenset[tuple[str, str]]) -> list[Prepared]:
    """Read the addresses and coordinates of places (one ``_address`` per distinct address)."""
    address_of: dict[tuple, Address] = {}
    addresses = []
    for row in rows:
        key = (row["country"], row["region_code"], row["city"], row["postal_code"], tuple(row["source_ids"]),
               tuple(row["source_regions"]))  # fmt: skip
        if key not in address_of:
            address_of[key] = _address(key, labels, listed)
        addresses.append(address_of[key])
    points = [(r["longitude"], r["latitude"]) if r["longitude"] is not None else None for r in rows]
    present = [i for i, p in enumerate(points) if p is not None]
    point_counties: list[str | None] = [None] * len(rows)
    found = counties_at([points[i][0] for i in present], [points[i][1] for i in present]) if present else []
    for i, county in zip(present, found, strict=True):
        point_counties[i] = county
    conflict, conflict_km = _conflicts(points, point_counties, addresses)
    usable = [p if p is not None and not c and (pc is not None or a.country != "US") else None
              for p, c, pc, a in zip(points, conflict, point_counties, addresses, strict=True)]  # fmt: skip
    return [Prepared(*place) for place in zip(rows, addresses, point_counties, conflict, conflict_km, usable,
                                              strict=True)]  # fmt: skip


def _states(prepared: list[Prepared]) -> set[tuple[str | None, str | None]]:
    """(Country, state) of each place, as ``_locate`` will find it."""
    distinct = {(p.address, p.usable is not None, p.point_county): p for p in prepared}.values()
    return {(p.address.country, _state_of(p.address, _levels(p.address, p.usable, p.point_county))) for p in distinct}


def _place(
    prepared: list[Prepared], regions: Sequence[Region], catalogue: list[Region], fingerprint: str
) -> list[dict[str, Any]]:
    """Locate and label places in the catalogue's regions: their rows of ``core.place_cache``."""
    if not prepared:  # a quiet night: not even the county names are needed
        return []
    polygons: list[BaseGeometry] = []
    compiled = _compile(catalogue, polygons)
    inside_point = _inside(polygons, [p.usable for p in prepared])
    inside_zip = _inside(polygons, [p.address.zip_point for p in prepared])
    naming = _naming(regions)
    kinds = {r.id: r for r in catalogue}
    done: dict[tuple, tuple[Located, list[str], dict[str, list[str]]]] = {}
    rows = []
    for i, place in enumerate(prepared):
        row, address = place.row, place.address
        key = (id(address), row["postal_code"], row["online"], place.usable is not None, place.point_county,
               inside_point[i], inside_zip[i], tuple(row["source_regions"]))  # fmt: skip
        if key not in done:
            located = _locate(address, row["postal_code"], row["online"], place.usable, place.point_county,
                              (inside_point[i], inside_zip[i]), compiled)  # fmt: skip
            done[key] = (located, *_labels(address, located, tuple(row["source_regions"]), naming, kinds))
        located, national, paths = done[key]
        zip_point = address.zip_point if place.conflict else None
        rows.append({
            "place_key": row["place_key"], "fingerprint": fingerprint, "region_evidence": located.evidence,
            "country": located.country, "state": located.state, "county": located.county,
            "coordinates_county": place.point_county, "coordinates_conflict": place.conflict,
            "conflict_km": place.conflict_km, "address_latitude": zip_point[1] if zip_point else None,
            "address_longitude": zip_point[0] if zip_point else None, "labels": national,
            "unplaced": located.unplaced,
            "regions": [{"region_id": rid, "sub_region": sub, "labels": paths[rid]} for rid, sub in located.regions],
        })  # fmt: skip
    return rows


def _places(con: duckdb.DuckDBPyConnection, which: str, fingerprint: str | None) -> list[dict[str, Any]]:
    """The distinct places of the active meetings that the cache holds under ``fingerprint`` (``which`` =
    ``SEMI``) or does not (``ANTI``)."""
    query = f"""SELECT DISTINCT ON (place_key) * EXCLUDE (meeting_id) FROM {PLACE_KEYS}
                {which} JOIN (SELECT place_key FROM {CACHE} WHERE fingerprint = $f) USING (place_key)
                ORDER BY place_key"""
    return con.sql(query, params={"f": fingerprint}).to_arrow_table().to_pylist()


def assign(con: duckdb.DuckDBPyConnection, regions: Sequence[Region], labels: SourceLabels | None = None) -> Assignment:
    """Rebuild ``core.meeting_places``, ``core.meeting_regions`` and ``core.regions`` from the active
    meetings of ``core.meetings``: automatic regions from the data, ``regions`` (the operator's) on top.

    Places are cached (``core.place_cache``): a meeting's result depends only on its place inputs (the columns
    of ``MEETINGS_SQL`` but its id: country, state, city, postal code, the source's own coordinates, online,
    source labels and source ids), hashed into its place key, and on what is global, hashed into the
    fingerprint (``_fingerprint``: the code, the operator's regions and source labels, the region catalogue).
    Only the places the cache does not hold under tonight's fingerprint are located; the cached rows give the
    others, and their states give the automatic regions without locating them again. When the fingerprint
    changed (new code, edited region files or labels, a state that appears or disappears) every place is
    located again: that night costs a full pass. The result is the full computation's, row for row. Keys no
    active meeting has any more, and rows of another fingerprint, are deleted.
    """
    ensure_reference(con)
    labels = labels or {}
    inputs = [c for c in con.sql(MEETINGS_SQL).columns if c != "meeting_id"]
    key = "sha256(to_json({" + ", ".join(f"'{c}': {c}" for c in inputs) + "}))"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {PLACE_KEYS} AS SELECT {key} AS place_key, * FROM ({MEETINGS_SQL})")
    try:
        return _assign(con, regions, labels)
    finally:
        con.execute(f"DROP TABLE IF EXISTS {PLACE_KEYS}")


def _assign(con: duckdb.DuckDBPyConnection, regions: Sequence[Region], labels: SourceLabels) -> Assignment:
    listed = frozenset(k for r in regions for part in r.parts() for k in part.city_keys())
    stored = con.sql(f"SELECT DISTINCT fingerprint FROM {CACHE} SEMI JOIN {PLACE_KEYS} USING (place_key)").fetchall()
    cached = stored[0][0] if len(stored) == 1 else None  # one fingerprint, as assign leaves it
    prepared = _prepare(_places(con, "ANTI", cached), labels, listed)
    states = _states(prepared) | set(con.sql(
        f"SELECT DISTINCT country, state FROM {CACHE} SEMI JOIN {PLACE_KEYS} USING (place_key) WHERE fingerprint = $f",
        params={"f": cached},
    ).fetchall())  # fmt: skip
    any_online = con.sql(f"SELECT coalesce(bool_or(online), false) FROM {PLACE_KEYS}").fetchall()[0][0]
    catalogue = _catalogue(states, any_online, regions)
    fingerprint = _fingerprint(regions, labels, catalogue)
    if cached is not None and fingerprint != cached:  # the cached places are not tonight's: a full pass
        prepared += _prepare(_places(con, "SEMI", cached), labels, listed)
        catalogue = _catalogue(_states(prepared), any_online, regions)
        fingerprint = _fingerprint(regions, labels, catalogue)
    _write(con, _place(prepared, regions, catalogue, fingerprint), catalogue, fingerprint)
    counts = dict(con.sql("SELECT region_id, count(*) FROM core.meeting_regions GROUP BY ALL").fetchall())
    by_first_meeting = "count(*) FROM core.meeting_places GROUP BY ALL ORDER BY min(meeting_id)"
    return Assignment(
        regions=catalogue,
        counts={r.id: counts.get(r.id, 0) for r in catalogue},
        unplaced=dict(con.sql(f"SELECT unplaced, {by_first_meeting}").filter("unplaced IS NOT NULL").fetchall()),
        evidence=dict(con.sql(f"SELECT coalesce(region_evidence, 'none'), {by_first_meeting}").fetchall()),
        conflicts=con.sql("SELECT count(*) FILTER (coordinates_conflict) FROM core.meeting_places").fetchall()[0][0],
    )


REGIONS_SCHEMA = pa.schema([("region_id", pa.string()), ("name", pa.string()), ("kind", pa.string()),
                            ("sub_regions", pa.list_(pa.string())), ("position", pa.int32())])  # fmt: skip

PLACES_SQL = f"""
INSERT INTO core.meeting_places BY NAME
SELECT k.meeting_id, c.* EXCLUDE (place_key, fingerprint, regions)
FROM {PLACE_KEYS} k JOIN {CACHE} c USING (place_key) ORDER BY k.meeting_id
"""
MEMBERSHIPS_SQL = f"""
INSERT INTO core.meeting_regions BY NAME
SELECT k.meeting_id, r.region.region_id, r.region.sub_region, r.region.labels
FROM {PLACE_KEYS} k JOIN {CACHE} c USING (place_key), unnest(c.regions) WITH ORDINALITY AS r(region, i)
ORDER BY k.meeting_id, r.i
"""
TABLES_SQL = {
    "core.meeting_places": PLACES_SQL,
    "core.meeting_regions": MEMBERSHIPS_SQL,
    "core.regions": "INSERT INTO core.regions BY NAME SELECT * FROM region_rows",
}
"""Each table ``assign`` rebuilds and how: the meetings' places and memberships from the cache."""


def _write(con: duckdb.DuckDBPyConnection, computed: list[dict[str, Any]], regions: list[Region], fingerprint: str):
    """In one transaction: the computed places into the cache (pruned), then the three tables from the cache."""
    catalogue = [(r.id, r.name, r.kind, [s.name for s in r.sub_regions], i) for i, r in enumerate(regions)]
    cache_schema = con.sql(f"SELECT * FROM {CACHE} LIMIT 0").to_arrow_table().schema
    con.register("region_places", pa.Table.from_pylist(computed, schema=cache_schema))
    con.register("region_rows", pa.Table.from_pylist([dict(zip(REGIONS_SCHEMA.names, r, strict=True))
                                                      for r in catalogue], schema=REGIONS_SCHEMA))  # fmt: skip
    con.execute("BEGIN")
    try:
        con.execute(
            f"""DELETE FROM {CACHE} c WHERE c.fingerprint <> $f
                OR c.place_key NOT IN (SELECT place_key FROM {PLACE_KEYS})
                OR c.place_key IN (SELECT place_key FROM region_places)""",
            {"f": fingerprint},
        )
        con.execute(f"INSERT INTO {CACHE} BY NAME SELECT * FROM region_places")
        for table, insert in TABLES_SQL.items():
            con.execute(f"DELETE FROM {table}")
            con.execute(insert)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("region_places")
        con.unregister("region_rows")
