"""Database-export directories: one page per weekday, one plain table row per meeting (Seattle 2012).

Uppercase tags, two documents concatenated: a heading document ("MONDAY … Last updated February 16,
2012") and a table whose header (repeated every few dozen rows) is exactly ``divisions | time | O/C |
name | address | notedisp``. The header is checked, because a reordered export would silently shift every
field. A few rows carry the address at the end of the name cell ("PASS IT ON - 17801 1st Ave S 98148"):
it is read as the address when the address cell is empty or says the same. Times are "6:00 AM" or "NOON";
``notedisp`` holds lower-case feature codes ("oh we wp wb"). The site gives no ids: records are keyed by a
hash of weekday, division, time, name and address as the cells hold them.
"""

from __future__ import annotations

import re
from datetime import datetime

from extractors.families import Getter
from extractors.html import base
from extractors.html.base import Page, text
from extractors.records import Snapshot, SnapshotPart, SourceRecord, iso_weekday_from_name
from foundation.ids import hashed_source_key
from foundation.source import Source

EXPECT = base.EXPECT
HEADING = "center"
HEADER = "th"
ROWS = "tr:has(> td)"
COLUMNS = ("divisions", "time", "O/C", "name", "address", "notedisp")

_UPDATED = re.compile(r"Last updated (\w+ \d{1,2}, \d{4})")
_NAME_WITH_ADDRESS = re.compile(r"^(?P<name>.*?[A-Za-z].*?)\s*(?:-\s*|\s)(?P<address>\d+\s+\S.*\b\d{5})$")
"""A name cell that ends with the address ("PASS IT ON - 17801 1st Ave S 98148", the address cell left empty)."""


def fetch(source: Source, get: Getter) -> list[SnapshotPart]:
    return base.crawl(source, get)


def _heading(page: Page) -> tuple[str | None, str | None]:
    """(weekday name, updated date as ISO) from the heading document."""
    heading = page.select_one(HEADING)
    words = (text(heading) or "").split()
    weekday = words[0] if words and iso_weekday_from_name(words[0]) else None
    if weekday is None:
        raise page.changed(HEADING, f"the heading {text(heading)!r} does not start with a weekday")
    updated = _UPDATED.search(text(heading) or "")
    try:
        stamp = datetime.strptime(updated[1], "%B %d, %Y").date().isoformat() if updated else None
    except ValueError:
        stamp = None
    return weekday, stamp


def _records(page: Page) -> list[SourceRecord]:
    weekday, updated = _heading(page)
    header = tuple(text(th) for th in page.select(HEADER)[: len(COLUMNS)])
    if header != COLUMNS:
        raise page.changed(HEADER, f"the columns are {list(header)}, expected {list(COLUMNS)}")
    records = []
    for row in page.items(ROWS):
        cells = dict(zip(COLUMNS, (text(td) for td in row.find_all("td", recursive=False)), strict=False))
        division, time, open_closed, name, address, notes = (cells.get(c) for c in COLUMNS)
        key = hashed_source_key(weekday, division, time, name, address)
        if name and (typed_in := _NAME_WITH_ADDRESS.match(name)) and address in (None, typed_in["address"]):
            name, address = typed_in["name"], typed_in["address"]
        records.append(
            SourceRecord(
                source_key=key,
                raw={**cells, "weekday": weekday},
                name=name,
                weekday=iso_weekday_from_name(weekday),
                weekday_raw=weekday,
                start_time=time,
                formatted_address=address,
                types=[c for c in (open_closed, *(notes or "").split()) if c],
                source_url=page.url,
                source_updated_at=updated,
            )
        )
    page.check_values([r.start_time for r in records], base.looks_like_time, f"{ROWS} > td:nth-of-type(2)",
                      "clock times such as '6:00 AM' or 'NOON'")  # fmt: skip
    return records


def parse(snapshot: Snapshot) -> list[SourceRecord]:
    return base.parse_listings(snapshot, _records)
