"""Places by name, offline: the time zone and counties of a US city + state, the zone of a state or province.

Sources often give a city and a state but no ZIP code or coordinates (New York Intergroup's export has no
postal column at all). The ZIP table of the ``zipcodes`` package names, for every US ZIP code, its city and
the other names the Postal Service accepts for it, its state, county and time zone, so it doubles as a
gazetteer: a city's zone is the zone all of its ZIP codes share, a state's zone the one all of the state's
ZIP codes share (none for the states that span two, such as Florida or Texas: there the city decides).
``data/us_counties.csv`` (Census FIPS) turns the table's county names into codes;
``data/region_timezones.csv`` names the zone of the provinces outside the US that have a single one.
City names are compared after expanding the abbreviations listings use ("Mt. Kisco", "E White Plains",
"Yorktown Hts", "Bklyn"). The same table says which names are one place: "Manhattan" and "NYC" are names the
Postal Service accepts for ZIP codes whose city is "New York" (``postal_city``). Tables load once per process,
on first use.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from functools import cache
from typing import NamedTuple

import zipcodes

from foundation.model import iana_zones
from transforms.refdata import data_rows

_WORDS = {
    "MT": "MOUNT", "ST": "SAINT", "STE": "SAINTE", "FT": "FORT", "PT": "POINT", "E": "EAST", "W": "WEST",
    "N": "NORTH", "S": "SOUTH", "HTS": "HEIGHTS", "HGTS": "HEIGHTS", "PK": "PARK", "SPR": "SPRING",
    "SPGS": "SPRINGS", "VLG": "VILLAGE", "MNR": "MANOR", "BCH": "BEACH", "JCT": "JUNCTION", "CTR": "CENTER",
    "LK": "LAKE", "TWP": "TOWNSHIP", "BKLYN": "BROOKLYN",
}  # fmt: skip
"""Abbreviations in city names, expanded before comparing."""


CITY_ZONE_SHARE = 0.9
"""Share of a city's ZIP codes that must agree on a zone (the table puts one of El Paso's 138 in Chicago's)."""


class CityPlace(NamedTuple):
    timezones: dict[str, int]
    """Zone → how many of the city's ZIP codes are in it."""
    counties: frozenset[str]
    """Census FIPS codes of the counties the city's ZIP codes are in."""
    county_zips: dict[str, int]
    """County → how many of the city's ZIP codes are in it (a city that spans counties is mostly in one)."""


def _ascii_upper(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().upper()


def city_key(name: str) -> str:
    """ "Mt. Kisco" → "MOUNT KISCO", "Croton-on-Hudson" → "CROTON ON HUDSON"."""
    return " ".join(_WORDS.get(word, word) for word in re.sub(r"[^A-Z0-9]+", " ", _ascii_upper(name)).split())


def county_key(state: str, name: str) -> tuple[str, str]:
    """Spelling-proof county key: no accents, case, punctuation or Puerto Rico's "Municipio" suffix."""
    return state, re.sub(r"[^a-z0-9]", "", _ascii_upper(name).lower()).removesuffix("municipio")


@cache
def county_codes() -> dict[tuple[str, str], str]:
    """``county_key`` → FIPS code, over every name ``data/us_counties.csv`` lists for a county."""
    codes: dict[tuple[str, str], str] = {}
    for row in data_rows("us_counties.csv"):
        codes.setdefault(county_key(row["state"], row["name"]), row["fips"])
    return codes


@cache
def _tables() -> tuple[dict[tuple[str, str], CityPlace], dict[str, frozenset[str]]]:
    zones = iana_zones()
    cities: dict[tuple[str, str], tuple[Counter[str], Counter[str]]] = defaultdict(lambda: (Counter(), Counter()))
    states: dict[str, set[str]] = defaultdict(set)
    codes = county_codes()
    for z in zipcodes.list_all():
        zone = z["timezone"] if z["timezone"] in zones else None
        fips = codes.get(county_key(z["state"], z["county"])) if z["county"] else None
        if zone:
            states[z["state"]].add(zone)
        for name in (z["city"], *z["acceptable_cities"]):
            place = cities[(z["state"], city_key(name))]
            place[0].update([zone] if zone else [])  # Counter.update counts
            place[1].update([fips] if fips else [])
    return (
        {key: CityPlace(dict(tz), frozenset(fips), dict(fips)) for key, (tz, fips) in cities.items()},
        {state: frozenset(tz) for state, tz in states.items()},
    )


def city_place(city: str | None, region: str | None, country: str | None) -> CityPlace | None:
    """What the gazetteer knows of a US city in a state (two-letter code); ``None`` when it does not know it."""
    if country != "US" or not city or not region:
        return None
    return _tables()[0].get((region.upper(), city_key(city)))


@cache
def _postal_cities() -> dict[tuple[str, str], str]:
    """(state, ``city_key``) → the ``city_key`` of the Postal Service city of most of the ZIP codes that name."""
    cities: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for z in zipcodes.list_all():
        primary = city_key(z["city"])
        for name in {z["city"], *z["acceptable_cities"]}:
            cities[(z["state"], city_key(name))][primary] += 1
    return {key: counts.most_common(1)[0][0] for key, counts in cities.items()}


def postal_city(city: str | None, region: str | None, country: str | None) -> str | None:
    """The Postal Service's name (``city_key``) for a US city name: "Manhattan, NY" and "NYC, NY" → "NEW YORK",
    "Bklyn, NY" → "BROOKLYN"; ``None`` for a name the gazetteer does not know. Two listings whose cities give
    the same postal city are in the same place, whichever name each used."""
    if country != "US" or not city or not region:
        return None
    return _postal_cities().get((region.upper(), city_key(city)))


def city_timezone(city: str | None, region: str | None, country: str | None) -> str | None:
    """The zone of a US city, when ``CITY_ZONE_SHARE`` of its ZIP codes are in it."""
    place = city_place(city, region, country)
    if place is None or not place.timezones:
        return None
    zone, count = max(place.timezones.items(), key=lambda item: item[1])
    return zone if count >= CITY_ZONE_SHARE * sum(place.timezones.values()) else None


@cache
def _region_zones() -> dict[tuple[str, str], str]:
    table = {("US", state): next(iter(zones)) for state, zones in _tables()[1].items() if len(zones) == 1}
    table.update({(r["country"], r["region"]): r["timezone"] for r in data_rows("region_timezones.csv")})
    return table


def region_timezone(region: str | None, country: str | None) -> str | None:
    """The zone of a state or province (code) that lies in one zone; ``None`` for those that span two."""
    return _region_zones().get((country or "", region.upper())) if region else None
