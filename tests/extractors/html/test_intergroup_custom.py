"""The ``intergroup_custom`` family on the real 2016 directory of the Saint Paul & Suburban Area Intergroup."""

from __future__ import annotations

from collections import Counter
from functools import cache

from extractors.html import intergroup_custom
from extractors.records import SourceRecord
from tests.extractors.html.pages import one_page, read

URL = "http://www.aastpaul.org/?topic=8&article=76"


@cache
def records() -> list[SourceRecord]:
    return intergroup_custom.parse(one_page(URL, read("intergroup_custom", "aastpaul_meeting_directory_2016.html")))


def meeting(site_id: str) -> SourceRecord:
    [record] = [r for r in records() if r.source_key == site_id]
    return record


def test_one_record_per_key_value_table_keyed_by_the_site_id() -> None:
    assert len(records()) == 702  # "There are 702 meetings that match this search request."
    assert len({r.source_key for r in records()}) == 702


def test_weekday_from_the_heading_above() -> None:
    assert Counter(r.weekday for r in records()) == {1: 102, 2: 112, 3: 104, 4: 111, 5: 88, 6: 101, 7: 84}
    assert (meeting("57447").weekday, meeting("57447").weekday_raw) == (7, "Sunday")


def test_time_and_duration() -> None:
    assert (meeting("57447").start_time, meeting("57447").duration) == ("7:30 PM", "60")


def test_name_is_the_group_heading() -> None:
    assert (meeting("57447").name, meeting("57447").group_name) == ("Keep It Simple", "Keep It Simple")


def test_location_cell_gives_venue_street_city_state_zip() -> None:
    record = meeting("57447")
    assert (record.venue_name, record.address) == ("Christ Church", "12925 Johnny Cake Ridge Road")
    assert (record.city, record.region_code, record.postal_code) == ("Apple Valley", "MN", "55124")


def test_directions_are_location_notes() -> None:
    assert meeting("57447").location_notes == "Use the side door"


def test_attendance_format_ages_gender_services_are_types() -> None:
    assert meeting("57591").types == ["Open", "Big Book", "All ages", "Mixed", "Accessible", "Childcare"]


def test_notes() -> None:
    assert meeting("57123").notes.startswith("The first Saturday of the month this meeting is a speaker meeting")


def test_source_url_is_the_group_page() -> None:
    assert meeting("57447").source_url == "http://www.aastpaul.org/?topic=8&article=94&groupid=479"


def test_group_phone_numbers_are_not_read() -> None:
    assert not any("Phone" in r.raw for r in records())


def test_page_gives_no_time_zone_or_online_link() -> None:
    assert {(r.timezone, r.conference_url) for r in records()} == {(None, None)}


def test_the_room_above_the_venue_is_a_location_note() -> None:
    """ID 57601's cell: "Basement" / "Central Presbyterian Church" / 500 Cedar Street / "Saint Paul, MN 55101"."""
    [record] = [r for r in records() if r.venue_name == "Central Presbyterian Church"]
    assert (record.venue_name, record.address) == ("Central Presbyterian Church", "500 Cedar Street")
    assert record.location_notes.startswith("Basement\nParking is behind the church")
