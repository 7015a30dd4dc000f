"""Address cleaning on real address shapes, and its invariants (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.address import Address, clean_address, parse_formatted, split_venue, standardize_street
from transforms.geo import clean_postal_code


def formatted(text: str, default_country: str = "US") -> Address:
    return clean_address(None, None, None, None, None, None, text, default_country)


def test_meeting_guide_formatted_address() -> None:
    """oc-aa "40 Minutes to Freedom"."""
    assert formatted("3186 Pullman St, Costa Mesa, CA 92626, USA") == Address(
        None, "3186 Pullman St", "Costa Mesa", "CA", "92626", None, "US"
    )


def test_formatted_address_without_street_is_city_only() -> None:
    """Approximate locations of online meetings (oc-aa "ZOOM", sepia "Virtual Only")."""
    assert formatted("Orange County, CA, USA") == Address(None, None, "Orange County", "CA", None, None, "US")
    assert formatted("Milford, PA 18337, USA") == Address(None, None, "Milford", "PA", "18337", None, "US")


def test_formatted_address_with_route_name() -> None:
    """nepa-aa 2022: a state route, no house number."""
    assert formatted("NY-17B, Callicoon, NY, USA") == Address(None, "NY-17B", "Callicoon", "NY", None, None, "US")


def test_venue_in_front_of_the_street_is_split_off() -> None:
    assert formatted("Saint Marks Church, 100 Saint Marks Place, New York, NY 10003-1234, USA") == Address(
        "Saint Marks Church", "100 Saint Marks Pl", "New York", "NY", "10003", "1234", "US"
    )
    assert split_venue("St. James Episcopal Church 123 North Main Street") == (
        "St. James Episcopal Church", "123 North Main Street",
    )  # fmt: skip
    assert split_venue("Fifth Av Presbyterian Church 7 West 55th Street") == (
        "Fifth Av Presbyterian Church", "7 West 55th Street",
    )  # fmt: skip


def test_the_sources_venue_wins_over_one_in_the_street() -> None:
    address = clean_address("Watermark OC Church", "Old Name Hall, 1 Main St", "Irvine", "CA", None, None, None, "US")
    assert (address.venue_name, address.address_line) == ("Watermark OC Church", "1 Main St")


def test_bmlt_separate_fields() -> None:
    """GNY meeting 2: separate fields, "USA" nation, a trailing period on the suffix; the room is a detail."""
    address = clean_address(
        "North Central Bronx Hospital, Room 14B07", "3424 Kossuth Ave.", "New York", "NY", "10467", "USA", None, "US"
    )
    assert address == Address(
        "North Central Bronx Hospital", "3424 Kossuth Ave", "New York", "NY", "10467", None, "US", "Room 14B07"
    )


def test_tsv_street_with_room_and_no_city() -> None:
    """New York export: City NULL; the part after the comma is the room, not a city: a location detail."""
    address = clean_address(None, "411 East 12th Street, Basement", None, None, None, "US", None, "US")
    assert (address.address_line, address.city, address.region_code) == ("411 E 12th St", None, None)
    assert address.details == "Basement"


def test_tsml_csv_address_column_holding_a_whole_line() -> None:
    address = clean_address(
        "Saturday Nite Live", "2634 Union Ave, San Jose, CA 95124, USA", None, None, None, None, None, "US"
    )
    assert address == Address("Saturday Nite Live", "2634 Union Ave", "San Jose", "CA", "95124", None, "US")


def test_german_address_and_country_names() -> None:
    assert clean_address(None, "Hauptstr. 5, 10115 Berlin, Deutschland", None, None, None, None, None, "US") == Address(
        None, "Hauptstr. 5", "Berlin", None, "10115", None, "DE"
    )
    assert clean_address(None, "Hauptstr. 5", "Berlin", None, "1067", "Deutschlang", None, "DE").postal_code == "01067"


@pytest.mark.parametrize("nation", ["USA", "U.S.A", "United States", "US", "United States of America", "usa", None, ""])
def test_bmlt_nation_spellings(nation: str | None) -> None:
    assert clean_address(None, "1 Main St", "Troy", "NY", None, nation, None, "US").country == "US"


def test_unknown_country_falls_back_to_the_source() -> None:
    assert clean_address(None, "1 Main St", "Troy", "NY", None, "Narnia", None, "US").country == "US"


def test_state_names_and_zip_fill() -> None:
    address = clean_address(None, "1 Massachusetts Ave", None, "Massachusetts", "2138", None, None, "US")
    assert (address.region_code, address.postal_code, address.city) == ("MA", "02138", "Cambridge")
    assert clean_address(None, "1 Main St", None, None, "10467", None, None, "US").region_code == "NY"


@pytest.mark.parametrize(
    ("street", "standard"),
    [
        ("7 West 55th Street", "7 W 55th St"),
        ("1937 West MacDade Boulevard", "1937 W MacDade Blvd"),
        ("123 Main Street North", "123 Main St N"),
        ("10 N. Main St.", "10 N Main St"),
        ("3424 Kossuth Ave.", "3424 Kossuth Ave"),
        ("7 West 55th Street, 5th Floor", "7 W 55th St, 5th Floor"),
        ("123 North Street", "123 North St"),  # "North" is the name here
        ("100 Avenue A", "100 Avenue A"),
        ("100 Avenue of the Americas", "100 Avenue of the Americas"),
        ("100 Saint Marks Place", "100 Saint Marks Pl"),  # Saint is kept
        ("NY-17B", "NY-17B"),
    ],
)
def test_standardize_street(street: str, standard: str) -> None:
    assert standardize_street(street) == standard


def test_parse_formatted_needs_a_recognizable_tail() -> None:
    assert parse_formatted("411 East 12th Street, Basement", "US") is None


@pytest.mark.parametrize(
    ("value", "country", "expected"),
    [
        ("2138", "US", ("02138", None)),
        ("2138.0", "US", ("02138", None)),
        ("802", "US", ("00802", None)),
        ("10467-1234", "US", ("10467", "1234")),
        ("10467 - ", "US", ("10467", None)),
        ("k1a0b1", "CA", ("K1A 0B1", None)),
        ("SW1A 1AA", "GB", ("SW1A 1AA", None)),
    ],
)
def test_clean_postal_code(value: str, country: str, expected: tuple[str, str | None]) -> None:
    assert clean_postal_code(value, country) == expected


# --- properties ---------------------------------------------------------------------------------------------

_WORDS = st.sampled_from(["Main", "Oak", "West", "North", "Saint", "Church", "Avenue", "Street", "Market", "Elm"])
_SUFFIXES = st.sampled_from(["Street", "St", "Avenue", "Ave.", "Road", "Boulevard", "Drive", "Lane", "Place", ""])
_CITIES = st.sampled_from(["Costa Mesa", "San Jose", "Philadelphia", "West Pittston", "Bronx"])
_STATES = st.sampled_from(["CA", "PA", "NY", "New York", "Pennsylvania"])
_ZIP_RANGES = {"CA": (90001, 96162), "PA": (15001, 19640), "NY": (10001, 14925), "New York": (10001, 14925),
               "Pennsylvania": (15001, 19640)}  # fmt: skip
"""ZIP codes of each state's range: a ZIP of another state is not the address's (and is dropped)."""


@st.composite
def us_lines(draw: st.DrawFn) -> tuple[int, str, str, str, int]:
    number = draw(st.integers(1, 99999))
    street = " ".join([str(number), *draw(st.lists(_WORDS, min_size=1, max_size=3)), draw(_SUFFIXES)]).strip()
    state = draw(_STATES)
    return number, street, draw(_CITIES), state, draw(st.integers(*_ZIP_RANGES[state]))


@settings(deadline=None)  # the first example may load reference tables
@given(us_lines())
def test_formatted_line_round_trip(parts: tuple[int, str, str, str, int]) -> None:
    """ "street, city, ST zip, USA" always splits back into its parts; the house number is never altered."""
    number, street, city, state, zip_code = parts
    address = formatted(f"{street}, {city}, {state} {zip_code:05d}, USA")
    assert address.address_line is not None and address.address_line.split()[0] == str(number)
    assert (address.city, address.postal_code, address.country) == (city, f"{zip_code:05d}", "US")
    assert address.region_code in {"CA", "PA", "NY"}


@settings(deadline=None)
@given(us_lines())
def test_cleaning_is_idempotent(parts: tuple[int, str, str, str, int]) -> None:
    _, street, city, state, zip_code = parts
    first = clean_address("Hall", street, city, state, str(zip_code), "USA", None, "US")
    again = clean_address(*first[:5], first.country, None, "US")
    assert again == first._replace(postal_code_ext=None, details=None)


@settings(deadline=None)
@given(st.integers(1, 99999))
def test_zip_codes_padded_to_five(zip_code: int) -> None:
    assert clean_postal_code(str(zip_code), "US") == (f"{zip_code:05d}" if zip_code >= 100 else str(zip_code), None)


@settings(deadline=None)
@given(st.text(max_size=60))
def test_clean_address_total(text: str) -> None:
    """Arbitrary text in any field never raises and the country is always an ISO code or the default."""
    address = clean_address(text or None, text or None, None, None, text or None, text or None, text or None, "US")
    assert address.country is None or len(address.country) == 2


# --- the source's state, ZIPs that do not fit, details ------------------------------------------------------


def test_the_registry_region_is_the_state_of_an_address_that_names_none() -> None:
    """Seattle's directory gives no state; its registry entry says WA."""
    address = clean_address(None, None, None, None, None, None, "Lynnwood Alano Club", "US", "WA")
    assert (address.venue_name, address.region_code, address.postal_code) == ("Lynnwood Alano Club", "WA", None)


def test_a_zip_never_overrides_the_state_and_city_the_source_gives() -> None:
    """10001 is a Manhattan ZIP: the record says Seattle, WA, so the ZIP is not this address's."""
    address = clean_address(None, "1010 Valley St", "Seattle", "WA", "10001", None, None, "US")
    assert (address.city, address.region_code, address.postal_code) == ("Seattle", "WA", None)


def test_a_number_at_the_end_of_a_line_is_a_zip_only_in_the_sources_state() -> None:
    assert clean_address(None, None, None, None, None, None, "Hall, 1 Main St 01504", "US", "WA").postal_code is None
    assert clean_address(None, None, None, None, None, None, "Hall, 1 Main St 98115", "US", "WA").postal_code == "98115"


@pytest.mark.parametrize(
    ("line", "city"),
    [
        ("Reformed Ch, 1221 148th Ave NE, B'vue 98007", "Bellevue"),  # an abbreviation of the ZIP's town
        ("All Saints Ch, 27225 Military Rd S, Fed Way 98001", "Federal Way"),  # a town the ZIP also serves
        ("Mt. Zion Ch, 21428-44th Ave W, Mtlk Terr 98043", "Mountlake Terrace"),
        ("St. Thomas Episcopal, 8398 NE 12th St, Medina 98004", "Medina"),  # a town of its own: kept
    ],
)
def test_a_city_is_spelled_out_only_from_its_zips_towns(line: str, city: str) -> None:
    assert clean_address(None, None, None, None, None, None, line, "US", "WA").city == city


def test_rooms_and_entrances_around_the_street_are_details() -> None:
    address = clean_address(None, None, None, None, None, None, "Dunshee House, 303 17th Ave E, Back Room, 98112", "US")
    assert (address.venue_name, address.address_line, address.details) == (
        "Dunshee House",
        "303 17th Ave E",
        "Back Room",
    )
    moravian = clean_address(
        "Moravian Church (back door)", "115 East 4th Street", "Chaska", "MN", None, None, None, "US"
    )
    assert (moravian.venue_name, moravian.details) == ("Moravian Church", "back door")
