"""Server-rendered meeting finders (SMART Recovery, LifeRing, Women for Sobriety style): listing + detail pages.

The listing (``/meetings/``, paged by ``nav.pagination a[rel=next]``) shows one ``article.meeting-card``
per meeting, linking to its detail page ``/meetings/<id>/``. The detail page holds the name, format badge
("In person", "Online", "Hybrid"), the address as ``address`` with street/locality/region/postal-code
spans, an optional join link, and an "add to calendar" widget (``div.addeventatc``) whose spans carry the
first occurrence ("01/02/2024 06:30 PM"), the end, the IANA time zone and the weekly rule
(``FREQ=WEEKLY;BYDAY=MO,TH``). The weekday comes from ``BYDAY`` (one record per day), the local time
from ``start``, the zone from ``timezone``; the detail URL keys the record.

The widget's fields are machine-written, so a value in another shape means the widget changed: it fails
the source at once. What people type (names, addresses) passes through to normalization.
"""

from __future__ import annotations

import re

from extractors.families import Getter
from extractors.html import base
from extractors.html.base import Listing, Page, text
from extractors.records import Snapshot, SnapshotPart, SourceRecord, iso_weekday_from_name
from foundation.source import Source

EXPECT = base.EXPECT
CARDS = "article.meeting-card"
CARD_LINK = "a.meeting-card__link[href]"
NEXT = "nav.pagination a[rel=next][href]"
TITLE = "h1.meeting-detail__title"
FORMAT = ".meeting-detail__badges .badge--format"
VENUE = ".meeting-detail__venue"
ADDRESS = {"address": "address .street", "city": "address .locality", "region_code": "address .region",
           "postal_code": "address .postal-code"}  # fmt: skip
JOIN = "a.meeting-detail__join[href]"
ABOUT = ".meeting-detail__about p"
CALENDAR = "div.addeventatc"
START = f"{CALENDAR} span.start"
END = f"{CALENDAR} span.end"
TIMEZONE = f"{CALENDAR} span.timezone"
RULE = f"{CALENDAR} span.recurring"

_DETAIL_PATH = re.compile(r"/meetings/\d+/?$")
_WHEN = re.compile(r"^\d{2}/\d{2}/\d{4}\s+(?P<time>\d{1,2}:\d{2}\s*[AP]M)$", re.IGNORECASE)
_BYDAY = re.compile(r"(?:^|;)BYDAY=(?P<days>[A-Z]{2}(?:,[A-Z]{2})*)(?:;|$)")


def links(page: Page) -> Listing:
    """Detail pages and the next listing page of one listing page."""
    hrefs = [page.absolute(str(page.select_one(CARD_LINK, card)["href"])) for card in page.items(CARDS)]
    page.check_values(hrefs, _DETAIL_PATH.search, CARD_LINK, "meeting pages such as /meetings/5823/")
    following = page.soup.select_one(NEXT)
    return Listing(details=hrefs, next_url=page.absolute(str(following["href"])) if following else None)


def fetch(source: Source, get: Getter) -> list[SnapshotPart]:
    return base.crawl(source, get, links)


def _widget_value(page: Page, selector: str, pattern: re.Pattern[str], expected: str) -> re.Match[str]:
    value = text(page.select_one(selector)) or ""
    found = pattern.search(value)
    if found is None:
        raise page.changed(selector, f"expected {expected} as the add-to-calendar widget writes it, found {value!r}")
    return found


def _detail_records(page: Page) -> list[SourceRecord]:
    page.items(CALENDAR, "the meeting page has no add-to-calendar widget")
    start = _widget_value(page, START, _WHEN, "'01/02/2024 06:30 PM'")["time"]
    end = _WHEN.search(text(page.soup.select_one(END)) or "")
    days = _widget_value(page, RULE, _BYDAY, "a weekly rule with BYDAY=MO,TH")["days"].split(",")
    weekdays = [iso_weekday_from_name(day) for day in days]
    name = text(page.select_one(TITLE))
    join = page.soup.select_one(JOIN)
    address = {field: text(page.soup.select_one(selector)) for field, selector in ADDRESS.items()}
    record = {
        "name": name,
        "start_time": start,
        "end_time": end["time"] if end else None,
        "timezone": text(page.select_one(TIMEZONE)),
        "attendance_hint": text(page.soup.select_one(FORMAT)),
        "venue_name": text(page.soup.select_one(VENUE)),
        "conference_url": str(join["href"]) if join else None,
        "notes": "\n".join(t for p in page.soup.select(ABOUT) if (t := text(p))) or None,
        **address,
    }
    keys = base.slot_keys(base.key_from_url(page.url), [(day, start) for day in weekdays])
    return [
        SourceRecord(
            source_key=key,
            raw={**record, "rrule": ",".join(days)},
            weekday=weekday,
            weekday_raw=day,
            source_url=page.url,
            **record,
        )
        for key, weekday, day in zip(keys, weekdays, days, strict=True)
    ]


def parse(snapshot: Snapshot) -> list[SourceRecord]:
    return [
        record
        for listing in base.listing_pages(snapshot)
        for page in base.detail_pages(snapshot, links(listing).details)
        for record in _detail_records(page)
    ]
