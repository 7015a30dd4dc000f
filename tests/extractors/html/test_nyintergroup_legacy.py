"""The ``nyintergroup_legacy`` family on three real zone pages of the New York Intergroup's 2015 list."""

from __future__ import annotations

from functools import cache

import pytest

from extractors.html import nyintergroup_legacy
from extractors.records import SourceRecord
from tests.extractors.html.pages import one_page, read

URL = "http://www.nyintergroup.org/meetinglist/meetinglist.cfm?borough=M&zone={zone}"


@cache
def zone(number: str) -> list[SourceRecord]:
    return nyintergroup_legacy.parse(one_page(URL.format(zone=number), read("nyintergroup_legacy", f"m{number}.html")))


def meeting(number: str, key: str) -> SourceRecord:
    [record] = [r for r in zone(number) if r.source_key == key]
    return record


DESIGN_FOR_LIVING = "/meetinglist/getdirections.cfm?meetingid=1505#4"


@pytest.mark.parametrize(("number", "count"), [("01", 57), ("05", 120), ("10", 43)])
def test_one_record_per_day_slot_with_same_time_slots_merged(number: str, count: int) -> None:
    # 57/138/44 slots on the pages; zone 05 lists 18 meetings twice (once per format), zone 10 one
    assert len(zone(number)) == count
    assert len({r.source_key for r in zone(number)}) == count


def test_weekday_from_the_plural_day_label() -> None:
    assert (meeting("01", DESIGN_FOR_LIVING).weekday, meeting("01", DESIGN_FOR_LIVING).weekday_raw) == (4, "Thursdays")


def test_start_and_end_time_as_the_page_writes_them() -> None:
    record = meeting("01", DESIGN_FOR_LIVING)
    assert (record.start_time, record.end_time) == ("7:00 AM", "8:00 AM")


def test_venue_from_the_heading() -> None:
    assert meeting("01", DESIGN_FOR_LIVING).venue_name == "St Andrews Church"


def test_address_line_and_zip_from_the_loose_text_lines() -> None:
    record = meeting("01", DESIGN_FOR_LIVING)
    assert (record.address, record.postal_code) == ("20 Cardinal Hayes Place, Rectory Basement", "10007")
    assert record.location_notes == "(Between Duane and Pearl Streets)"


def test_state_when_the_zip_line_names_it() -> None:
    assert meeting("01", "/meetinglist/getdirections.cfm?meetingid=78").region_code == "NY"


def test_city_is_the_borough_of_the_page() -> None:
    assert meeting("01", DESIGN_FOR_LIVING).city == "Manhattan"


def test_group_name_holding_a_dash_is_split_from_the_meeting_name() -> None:
    record = meeting("01", "/meetinglist/getdirections.cfm?meetingid=74#1")
    assert (record.group_name, record.name) == ("CHAMBERS STREET - A BRIDGE BACK", "Chambers Street - A Bridge Back")


def test_empty_meeting_name_falls_back_to_the_group() -> None:
    assert meeting("01", DESIGN_FOR_LIVING).name == "A DESIGN FOR LIVING"


def test_types_and_special_interest_and_wheelchair_icon() -> None:
    record = meeting("01", "/meetinglist/getdirections.cfm?meetingid=435")
    assert record.types == ["B = Beginners meeting", "Young People", "Wheelchair access"]


def test_notes_from_the_details_box() -> None:
    assert meeting("01", "/meetinglist/getdirections.cfm?meetingid=435").notes == "Open Anniv. Last Saturday."


def test_a_meeting_listed_once_per_format_is_one_record_with_both_types() -> None:
    record = meeting("05", "/meetinglist/getdirections.cfm?meetingid=265#2-1815")
    assert (record.weekday, record.start_time, record.types) == (
        2,
        "6:15 PM",
        ["B = Beginners meeting", "S = Step meeting"],
    )


def test_keys_carry_the_time_when_a_group_meets_twice_a_day() -> None:
    keys = {r.source_key for r in zone("05") if "meetingid=265#2-" in r.source_key}
    assert keys >= {
        "/meetinglist/getdirections.cfm?meetingid=265#2-0615",
        "/meetinglist/getdirections.cfm?meetingid=265#2-1815",
    }


def test_page_gives_no_time_zone_or_online_link() -> None:
    """New York's zone comes from the registry; this list predates online meetings."""
    assert {(r.timezone, r.conference_url) for r in zone("10")} == {(None, None)}
