"""The list view of the 12 Step Meeting List WordPress plugin (2015–2016 versions), for sites without a feed.

Sites that still answer ``admin-ajax.php?action=meetings`` should use ``kind: meeting_guide``; this family
reads the rendered table (``/meetings/?tsml-day=any&v=list``): ``tbody#meetings_tbody > tr`` with
``td.time[data-sort="5-06:30"]`` (plugin day 0 = Sunday, then the 24 h start), ``td.name a`` (the meeting's
own page, whose slug keys the record), ``td.location``, ``td.address`` (street only), ``td.region`` and
``td.types`` (spelled-out type names, comma separated).
"""

from __future__ import annotations

import re

from bs4 import NavigableString

from extractors.families import Getter
from extractors.html import base
from extractors.html.base import Page, text
from extractors.records import Snapshot, SnapshotPart, SourceRecord, iso_weekday_from_sunday0
from foundation.source import Source

EXPECT = base.EXPECT
ROWS = "tbody#meetings_tbody > tr"
TIME = "td.time[data-sort]"
NAME = "td.name a[href]"
CELLS = {"location": "td.location", "address": "td.address", "region": "td.region", "types": "td.types"}

_SORT_KEY = re.compile(r"^(?P<day>\d)-(?P<time>\d{2}:\d{2})$")


def fetch(source: Source, get: Getter) -> list[SnapshotPart]:
    return base.crawl(source, get)


def _records(page: Page) -> list[SourceRecord]:
    records = []
    sort_keys = []
    for row in page.items(ROWS):
        when = page.select_one(TIME, row)
        sort_key = str(when["data-sort"])
        sort_keys.append(sort_key)
        day_time = _SORT_KEY.match(sort_key)
        link = page.select_one(NAME, row)
        url = page.absolute(str(link["href"]))
        # the plugin appends the gender restriction as <small>; the types column says it too
        name = " ".join("".join(s for s in link.children if isinstance(s, NavigableString)).split())
        cells = {name: text(row.select_one(sel)) for name, sel in CELLS.items()}
        region, types = cells["region"], cells["types"]
        records.append(
            SourceRecord(
                source_key=base.key_from_url(url),
                raw={"data_sort": sort_key, "time": text(when), "name": name, "url": url, **cells},
                name=name or text(link),
                weekday=iso_weekday_from_sunday0(day_time["day"]) if day_time else None,
                weekday_raw=day_time["day"] if day_time else None,
                start_time=day_time["time"] if day_time else text(when),
                venue_name=cells["location"],
                address=cells["address"],
                city=region.partition(",")[0] if region else None,
                types=[t.strip() for t in (types or "").split(",") if t.strip()],
                source_url=url.split("?", 1)[0],
            )
        )
    page.check_values(sort_keys, _SORT_KEY.match, TIME, "day-time sort keys such as '5-06:30'")
    return records


def parse(snapshot: Snapshot) -> list[SourceRecord]:
    return base.parse_listings(snapshot, _records)
