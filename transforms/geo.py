"""Places: countries, regions, postal codes, coordinates and the time zones they imply — offline.

Reference data comes from packages the pipeline already installs (``tzdata``'s ISO 3166 and zone tables,
``zipcodes``' ZIP centroids, ``timezonefinder``'s zone polygons) plus small alias tables in ``data/``.
Each table is loaded once per process, on first use.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import NamedTuple

import zipcodes
from timezonefinder import TimezoneFinder

from foundation.model import iana_zones
from transforms.refdata import data_rows

_ZIP = re.compile(r"^(?P<zip>\d{3,5})(?:\.0+)?(?:\s*-\s*(?:(?P<ext>\d{4})|\d*))?$")
_CA_POSTAL = re.compile(r"^([A-Z]\d[A-Z])\s*(\d[A-Z]\d)$")
_PADDED_POSTAL = {"US": 5, "DE": 5, "FR": 5, "ES": 5, "IT": 5, "MX": 5}
"""Fixed-width numeric postal codes: leading zeros that spreadsheets dropped can be restored."""


def _tzdata_rows(name: str) -> Iterator[list[str]]:
    with resources.files("tzdata").joinpath("zoneinfo", name).open(encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                yield line.rstrip("\n").split("\t")


def _alias_key(text: str) -> str:
    return " ".join(text.upper().replace(".", " ").replace("_", " ").split())


@cache
def _countries() -> dict[str, str]:
    table: dict[str, str] = {}
    for code, name in _tzdata_rows("iso3166.tab"):
        table[_alias_key(code)] = table[_alias_key(name)] = code
    table.update({_alias_key(r["alias"]): r["country"] for r in data_rows("country_aliases.csv")})
    return table


@cache
def _country_names() -> dict[str, str]:
    return {code: name for code, name in _tzdata_rows("iso3166.tab")}


def country_name(code: str | None) -> str | None:
    """The ISO 3166 short name of a country code ("DE" → "Germany"); ``None`` for an unknown code."""
    return _country_names().get(code.upper()) if code else None


def country_code(value: str | None) -> str | None:
    """ISO 3166-1 alpha-2 code for "USA", "U.S.A", "United States", "Deutschland", "de", …; else ``None``."""
    return _countries().get(_alias_key(value)) if value else None


@cache
def _regions() -> dict[tuple[str, str], str]:
    table: dict[tuple[str, str], str] = {}
    for r in data_rows("regions.csv"):
        table[(r["country"], _alias_key(r["code"]))] = r["code"]
        table[(r["country"], _alias_key(r["name"]))] = r["code"]
    return table


def known_region(value: str | None, country: str | None) -> str | None:
    """State/province code ("New York" → "NY", "ny" → "NY") when ``value`` is in the country's list."""
    return _regions().get((country or "", _alias_key(value))) if value else None


def region_code(value: str | None, country: str | None) -> str | None:
    """``known_region``, else the value as given (regions of countries without a list)."""
    return known_region(value, country) or value


def clean_postal_code(value: str | None, country: str | None) -> tuple[str | None, str | None]:
    """(postal code, ZIP+4 extension). US "2138" → "02138"; "10467-1234" → ("10467", "1234"); a US value
    without a digit ("USA") is no postal code."""
    if not value:
        return None, None
    text = " ".join(value.upper().split())
    width = _PADDED_POSTAL.get(country or "")
    if width and (match := _ZIP.match(text)):
        return match["zip"].zfill(width), match["ext"] if country == "US" else None
    if country == "US" and not any(ch.isdigit() for ch in text):
        return None, None  # "USA", "NY": a source's other field typed into the ZIP column, not a ZIP
    if country == "CA" and (match := _CA_POSTAL.match(text)):
        return f"{match[1]} {match[2]}", None
    return text, None


class ZipInfo(NamedTuple):
    latitude: float
    longitude: float
    timezone: str | None
    region_code: str
    city: str
    other_cities: tuple[str, ...] = ()
    """Other towns the Postal Service accepts for the ZIP (98001 Auburn: Algona, Federal Way)."""


@cache
def _zip_table() -> dict[str, ZipInfo]:
    """All US ZIP codes with a centroid: loaded once (about a second), then every lookup is a dict hit."""
    return {
        z["zip_code"]: ZipInfo(
            float(z["lat"]),
            float(z["long"]),
            z["timezone"] or None,
            z["state"],
            z["city"],
            tuple(z["acceptable_cities"] or ()),
        )
        for z in zipcodes.list_all()
        if z["lat"] and z["long"]
    }


def zip_info(postal_code: str | None, country: str | None) -> ZipInfo | None:
    """Centroid, time zone, state and city of a US ZIP code."""
    if country != "US" or not postal_code:
        return None
    return _zip_table().get(postal_code)


@cache
def _timezone_names() -> dict[str, str]:
    return {name.lower(): name for name in iana_zones()}


def valid_timezone(value: str | None) -> str | None:
    """The IANA name (canonical capitalisation) when ``value`` is one, else ``None``."""
    return _timezone_names().get(value.strip().lower()) if value else None


@cache
def _finder() -> TimezoneFinder:
    return TimezoneFinder(in_memory=True)


@cache
def _zone_countries() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for name in ("zone.tab", "zone1970.tab"):
        for row in _tzdata_rows(name):
            table.setdefault(row[2], set()).update(row[0].split(","))
    return {zone: frozenset(codes) for zone, codes in table.items()}


class Position(NamedTuple):
    latitude: float | None
    longitude: float | None
    timezone: str | None
    """Zone containing the point (from the polygons), when the point is kept."""


def _number(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else math.nan
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def locate(latitude: str | None, longitude: str | None, country: str | None) -> Position:
    """Validated coordinates and their time zone; invalid ones are dropped, never guessed.

    Dropped: unparseable, out of range, (0, 0), at sea, or in a zone that does not serve ``country``
    (swapped latitude/longitude and placeholder points in another country land here).
    """
    dropped = Position(None, None, None)
    lat, lon = _number(latitude), _number(longitude)
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return dropped
    zone = _finder().timezone_at_land(lat=lat, lng=lon)
    if zone is None:
        return dropped
    serves = _zone_countries().get(zone)
    if country and serves is not None and country not in serves:
        return dropped
    return Position(lat, lon, zone)


@cache
def city_names(region_code: str) -> dict[str, str]:
    """The US towns of a state (each ZIP's town and the other towns it accepts), as the ZIP table spells them,
    keyed by their lower-case letters and spaces."""
    return {
        " ".join("".join(ch for ch in town.lower() if ch.isalpha() or ch == " ").split()): town
        for info in _zip_table().values()
        if info.region_code == region_code
        for town in (info.city, *info.other_cities)
    }
