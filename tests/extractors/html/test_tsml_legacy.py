"""The ``tsml_legacy`` family on the real 2016 list view of the Greater Minneapolis Intergroup (Fridays)."""

from __future__ import annotations

from functools import cache

from extractors.html import tsml_legacy
from extractors.records import SourceRecord
from tests.extractors.html.pages import one_page, read

URL = "http://aaminneapolis.org/meetings/?d=5&v=list"


@cache
def records() -> list[SourceRecord]:
    return tsml_legacy.parse(one_page(URL, read("tsml_legacy", "aaminneapolis_meetings_2016.html")))


def meeting(slug: str) -> SourceRecord:
    [record] = [r for r in records() if r.source_key == f"/meetings/{slug}"]
    return record


def test_one_record_per_table_row() -> None:
    assert len(records()) == 131
    assert len({r.source_key for r in records()}) == 131


def test_weekday_from_the_plugin_sort_key_where_sunday_is_0() -> None:
    assert {(r.weekday, r.weekday_raw) for r in records()} == {(5, "5")}


def test_start_time_is_the_24h_sort_key_not_the_display_text() -> None:
    assert meeting("sahara-sunrise-2").start_time == "06:30"
    assert meeting("its-noon-somewhere-4").start_time == "12:00"  # shown as "Noon"
    assert meeting("sos-sisters-of-sobriety").start_time == "18:00"  # shown as "6:00 pm"


def test_name_without_the_gender_the_plugin_appends_in_small() -> None:
    assert meeting("sisters-shoulder-shoulder").name == "Sisters Shoulder To Shoulder"


def test_location_and_street_address() -> None:
    record = meeting("sahara-sunrise-2")
    assert (record.venue_name, record.address) == ("Sahara Club", "4944 Xerxes Avenue South")


def test_city_is_the_region_before_its_sub_region() -> None:
    assert meeting("sahara-sunrise-2").city == "Minneapolis"  # region "Minneapolis, Southwest"
    assert meeting("sahara-sunrise-2").raw["region"] == "Minneapolis, Southwest"


def test_types_are_the_spelled_out_names() -> None:
    assert meeting("sisters-shoulder-shoulder").types == ["Handicapped Equipped", "Open", "Step & Tradition", "Women"]


def test_source_url_is_the_meeting_page_without_view_parameters() -> None:
    assert meeting("sahara-sunrise-2").source_url == "http://aaminneapolis.org/meetings/sahara-sunrise-2/"


def test_page_gives_no_time_zone_or_online_link() -> None:
    assert {(r.timezone, r.conference_url) for r in records()} == {(None, None)}
