"""The ``finder`` family on constructed listing and detail pages (``tests/fixtures/html/finder/README.md``)."""

from __future__ import annotations

from functools import cache

import pytest

from extractors.html import finder
from extractors.records import LayoutChanged, SnapshotPart, SourceRecord
from foundation.source import Source
from tests.extractors.html.pages import FINDER_FILES, FINDER_HOST, finder_parts, read, snapshot

SOURCE = Source(id="smart-finder", name="SMART finder", fellowship="SMART", kind="html:finder",
                url=f"{FINDER_HOST}/meetings/")  # fmt: skip


@cache
def records() -> list[SourceRecord]:
    return finder.parse(snapshot(finder_parts()))


def meeting(key: str) -> SourceRecord:
    [record] = [r for r in records() if r.source_key == key]
    return record


def fake_get(requested: list[str]):
    def get(name: str, url: str) -> SnapshotPart:
        requested.append(f"{name} {url.removeprefix(FINDER_HOST)}")
        return SnapshotPart(name, url, read("finder", FINDER_FILES[url.removeprefix(FINDER_HOST)]), "text/html")

    return get


def test_fetch_follows_pagination_and_every_detail_page_in_order() -> None:
    requested: list[str] = []
    finder.fetch(SOURCE, fake_get(requested))
    assert requested == ["listing-1 /meetings/", "detail-1 /meetings/5823/", "detail-2 /meetings/5840/",
                         "detail-3 /meetings/6012/", "listing-2 /meetings/?page=2", "detail-4 /meetings/6107/",
                         "detail-5 /meetings/6230/"]  # fmt: skip


def test_fetch_stops_with_a_clear_error_past_max_pages() -> None:
    requested: list[str] = []
    with pytest.raises(finder.base.PageLimitExceeded, match=r"max_pages=4.*raise max_pages"):
        finder.fetch(SOURCE.model_copy(update={"max_pages": 4}), fake_get(requested))
    assert len(requested) == 4


def test_one_record_per_meeting_and_weekly_day() -> None:
    assert [r.source_key for r in records()] == ["/meetings/5823", "/meetings/5840#1", "/meetings/5840#4",
                                                 "/meetings/6012", "/meetings/6107", "/meetings/6230"]  # fmt: skip


def test_weekday_from_the_rrule_byday() -> None:
    assert (meeting("/meetings/5823").weekday, meeting("/meetings/5823").weekday_raw) == (2, "TU")
    assert [meeting(k).weekday for k in ("/meetings/5840#1", "/meetings/5840#4")] == [1, 4]


def test_local_start_and_end_from_the_calendar_widget() -> None:
    record = meeting("/meetings/5823")
    assert (record.start_time, record.end_time) == ("06:30 PM", "08:00 PM")


def test_iana_time_zone_from_the_calendar_widget() -> None:
    assert meeting("/meetings/5823").timezone == "America/Phoenix"
    assert meeting("/meetings/6230").timezone == "America/Chicago"


def test_name_and_venue_and_address() -> None:
    record = meeting("/meetings/6107")
    assert (record.name, record.venue_name) == ("Portland Saturday Morning", "Hawthorne Library, Meeting Room B")
    assert (record.address, record.city, record.region_code, record.postal_code) == (
        "3605 SE Hawthorne Blvd", "Portland", "OR", "97214")  # fmt: skip


def test_online_meeting_has_its_zoom_link_and_no_address() -> None:
    record = meeting("/meetings/5840#4")
    assert record.conference_url == "https://zoom.us/j/85512345678?pwd=ZXhhbXBsZQ"
    assert (record.attendance_hint, record.address) == ("Online", None)


def test_hybrid_meeting_has_both() -> None:
    record = meeting("/meetings/6012")
    assert (record.attendance_hint, record.address) == ("Hybrid", "2823 Fairfax St")
    assert record.conference_url == "https://us02web.zoom.us/j/87654321098"


def test_source_url_is_the_detail_page() -> None:
    assert meeting("/meetings/6230").source_url == f"{FINDER_HOST}/meetings/6230/"


def test_a_widget_value_in_another_shape_fails_at_once() -> None:
    """Machine-written: one odd detail page means the widget changed, not a typo."""
    parts = finder_parts()
    url, body = parts["detail-4"]
    parts["detail-4"] = (url, body.replace(b"FREQ=WEEKLY;BYDAY=SA", b"FREQ=MONTHLY;BYSETPOS=1"))
    with pytest.raises(LayoutChanged, match=r"/meetings/6107/.*span\.recurring.*BYDAY"):
        finder.parse(snapshot(parts))
