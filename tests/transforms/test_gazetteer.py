"""The offline gazetteer: city + state → time zone and counties, a state's or province's single zone."""

from __future__ import annotations

import pytest

from transforms.gazetteer import (
    city_key,
    city_place,
    city_timezone,
    county_codes,
    county_key,
    postal_city,
    region_timezone,
)


@pytest.mark.parametrize(
    ("city", "state", "zone"),
    [
        ("New York", "NY", "America/New_York"),
        ("Brooklyn", "ny", "America/New_York"),
        ("Mt. Kisco", "NY", "America/New_York"),  # abbreviations as listings write them
        ("Yorktown Hts", "NY", "America/New_York"),
        ("Pensacola", "FL", "America/Chicago"),  # Florida spans two zones: the city decides
        ("Miami", "FL", "America/New_York"),
        ("El Paso", "TX", "America/Denver"),  # one of its 138 ZIP codes is filed under Chicago
        ("Boise", "ID", "America/Boise"),
        ("Moscow", "ID", "America/Los_Angeles"),
    ],
)
def test_a_us_city_names_its_zone(city: str, state: str, zone: str) -> None:
    assert city_timezone(city, state, "US") == zone


def test_unknown_or_incomplete_places_name_no_zone() -> None:
    assert city_timezone("Nowhere Special", "NY", "US") is None
    assert city_timezone("Springfield", None, "US") is None  # a city name alone is in many states
    assert city_timezone("Toronto", "ON", "CA") is None  # the ZIP table is US only


@pytest.mark.parametrize(
    ("state", "country", "zone"),
    [("NY", "US", "America/New_York"), ("CA", "US", "America/Los_Angeles"), ("PR", "US", "America/Puerto_Rico"),
     ("HI", "US", "Pacific/Honolulu"), ("AB", "CA", "America/Edmonton"), ("NS", "CA", "America/Halifax")],
)  # fmt: skip
def test_a_state_or_province_in_one_zone_names_it(state: str, country: str, zone: str) -> None:
    assert region_timezone(state, country) == zone


@pytest.mark.parametrize("state", ["FL", "TX", "IN", "KY", "TN", "MI", "ND", "SD", "NE", "KS", "ID", "OR", "AZ"])
def test_states_that_span_two_zones_name_none(state: str) -> None:
    assert region_timezone(state, "US") is None


@pytest.mark.parametrize("province", ["ON", "QC", "BC", "NL", "SK", "NU"])
def test_provinces_that_span_two_zones_name_none(province: str) -> None:
    assert region_timezone(province, "CA") is None


def test_a_city_names_its_counties_for_regional_membership() -> None:
    assert city_place("Brooklyn", "NY", "US").counties == {"36047"}  # Kings County
    assert city_place("New York", "NY", "US").counties == {"36061"}  # Manhattan (New York County)
    assert county_codes()[county_key("NY", "Kings County")] == "36047"


def test_a_city_that_spans_counties_counts_its_zip_codes_in_each() -> None:
    jamaica = city_place("Jamaica", "NY", "US")  # Queens, and one Brooklyn ZIP code the Postal Service names so
    assert jamaica.counties == {"36047", "36081"}
    assert jamaica.county_zips["36081"] > jamaica.county_zips["36047"]


def test_city_keys_expand_the_abbreviations_listings_use() -> None:
    assert city_key("Mt. Kisco") == city_key("Mount Kisco") == "MOUNT KISCO"
    assert city_key("E White Plains") == "EAST WHITE PLAINS"
    assert city_key("Croton-on-Hudson") == "CROTON ON HUDSON"


@pytest.mark.parametrize(
    ("city", "state", "postal"),
    [("Manhattan", "NY", "NEW YORK"), ("NYC", "NY", "NEW YORK"), ("New York", "NY", "NEW YORK"),
     ("Bklyn", "NY", "BROOKLYN"), ("Brooklyn", "NY", "BROOKLYN"), ("Mt. Kisco", "NY", "MOUNT KISCO")],
)  # fmt: skip
def test_a_city_name_gives_the_postal_service_city_it_stands_for(city: str, state: str, postal: str) -> None:
    assert postal_city(city, state, "US") == postal


def test_a_place_the_postal_service_does_not_name_gives_no_postal_city() -> None:
    assert postal_city("Queens", "NY", "US") is None
    assert postal_city("Manhattan", "KS", "DE") is None
    assert postal_city("Manhattan", None, "US") is None
