"""Countries, time zones, ZIP codes and coordinate validation, offline."""

from __future__ import annotations

import pytest

from transforms.geo import Position, country_code, locate, region_code, valid_timezone, zip_info


@pytest.mark.parametrize(
    ("value", "code"),
    [("USA", "US"), ("U.S.A", "US"), ("United States", "US"), ("United States of America", "US"), ("us", "US"),
     ("Deutschland", "DE"), ("Germany", "DE"), ("Deutschlang", "DE"), ("Canada", "CA"), ("Britain (UK)", "GB"),
     ("UK", "GB"), ("Narnia", None), ("", None), (None, None)],
)  # fmt: skip
def test_country_code(value: str | None, code: str | None) -> None:
    assert country_code(value) == code


def test_region_code() -> None:
    assert (region_code("New York", "US"), region_code("ny", "US"), region_code("Ontario", "CA")) == ("NY", "NY", "ON")
    assert region_code("Brandenburg", "DE") == "Brandenburg"


def test_valid_timezone() -> None:
    assert valid_timezone("America/New_York") == "America/New_York"
    assert valid_timezone("america/new_york") == "America/New_York"
    assert valid_timezone("Europe/Kiev") == "Europe/Kiev"  # an alias the Online Intergroup export uses
    assert valid_timezone("EST5EDT ") == "EST5EDT"
    assert valid_timezone("Eastern") is None
    assert valid_timezone(None) is None


def test_zip_info() -> None:
    info = zip_info("10467", "US")
    assert info is not None and (info.timezone, info.region_code, info.city) == ("America/New_York", "NY", "Bronx")
    assert zip_info("10467", "DE") is None
    assert zip_info("00000", "US") is None


def test_locate_gny_meeting() -> None:
    assert locate("40.8806192784682", "-73.8814955949783", "US") == Position(
        40.8806192784682, -73.8814955949783, "America/New_York"
    )


@pytest.mark.parametrize(
    ("lat", "lon", "country"),
    [
        ("0", "0", "US"),  # null island
        ("-73.88", "40.88", "US"),  # GNY pair swapped: Antarctica
        ("91", "10", "US"),
        ("40.7", "-190", "US"),
        ("abc", "-73.9", "US"),
        (None, None, "US"),
        ("nan", "1", "US"),
        ("34.235918", "-118.563659", "DE"),  # Berlin server's placeholder point for virtual meetings
        ("40.0", "-40.0", "US"),  # mid-Atlantic
    ],
)
def test_locate_drops_invalid(lat: str | None, lon: str | None, country: str) -> None:
    assert locate(lat, lon, country) == Position(None, None, None)


def test_locate_berlin() -> None:
    assert locate("52.5", "13.4", "DE").timezone == "Europe/Berlin"
    assert locate("52.5", "13.4", None).timezone == "Europe/Berlin"  # no country: range and land only
