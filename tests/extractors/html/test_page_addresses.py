"""Every row of every real HTML page parses to the right venue, street, city, state and ZIP.

The expected values are written out, one table per page, beside the page (``<page>.addresses.csv``): the page's
own text for the place (``page_text``), then the venue, street, city, state, ZIP and the location notes the
address text held besides the address, each judged by reading the row. The record goes through its family's
parser and the address cleaning normalization applies, with the registry entry the demo runs the page under
(its ``country`` and ``region``, e.g. WA for Seattle).
"""

from __future__ import annotations

import csv
from functools import cache

import pytest

from extractors.families import family_module
from extractors.records import SourceRecord
from extractors.registry import load_registry
from foundation.source import Source
from tests.conftest import REPO
from tests.extractors.html.pages import FIXTURES, snapshot
from transforms.address import Address, clean_address
from transforms.text import clean_text

PAGES = {
    # table under tests/fixtures/html → (page file, the demo registry's source it is read as)
    "intergroup_table/seattleaa_monday_2012": ("seattleaa_monday_2012.html", "seattle-aa-monday"),
    "intergroup_custom/aastpaul_meeting_directory_2016": ("aastpaul_meeting_directory_2016.html", "stpaul-aa"),
    "tsml_legacy/aaminneapolis_meetings_2016": ("aaminneapolis_meetings_2016.html", "minneapolis-aa-friday"),
    "nyintergroup_legacy/m01": ("m01.html", "nyig-manhattan-05"),  # zones 01 and 10: the same site's pages
    "nyintergroup_legacy/m05": ("m05.html", "nyig-manhattan-05"),
    "nyintergroup_legacy/m10": ("m10.html", "nyig-manhattan-05"),
    "recipe/matsu_alaska_meeting_schedule": ("matsu_alaska_meeting_schedule.html", "matsu-aa"),
}
FIELDS = ("venue", "street", "city", "state", "zip", "notes")


@cache
def demo_source(source_id: str) -> Source:
    return next(s for s in load_registry(REPO / "sources" / "demo.yaml") if s.id == source_id)


@cache
def page_records(table: str) -> dict[str, SourceRecord]:
    name, source_id = PAGES[table]
    source = demo_source(source_id)
    body = (FIXTURES / table.split("/")[0] / name).read_bytes()
    parts = {"listing-1": (source.url, body)}
    records = family_module(source).parse(snapshot(parts, source.id, **source.model_dump(exclude={"url", "auth"})))
    return {r.source_key: r for r in records}


def canonical(record: SourceRecord, source: Source) -> Address:
    """The record's address as normalization computes it (clean text, then the registry's defaults)."""
    fields = (record.venue_name, record.address, record.city, record.region_code, record.postal_code,
              record.country, record.formatted_address)  # fmt: skip
    return clean_address(*(clean_text(f) for f in fields), source.country, source.region)


def expected_rows() -> list[tuple[str, dict[str, str]]]:
    rows = []
    for table in PAGES:
        with (FIXTURES / f"{table}.addresses.csv").open(newline="") as f:
            rows += [(table, row) for row in csv.DictReader(f)]
    return rows


ROWS = expected_rows()


@pytest.mark.parametrize("table", PAGES)
def test_every_row_of_the_page_has_its_expected_address(table: str) -> None:
    keys = [key for t, row in ROWS if t == table for key in [row["key"]]]
    assert sorted(keys) == sorted(page_records(table)) and len(set(keys)) == len(keys)


@pytest.mark.parametrize(
    ("table", "row"), ROWS, ids=[f"{t.split('/')[-1]}:{r['key']}" for t, r in ROWS]
)  # fmt: skip
def test_row_address(table: str, row: dict[str, str]) -> None:
    address = canonical(page_records(table)[row["key"]], demo_source(PAGES[table][1]))
    got = dict(zip(FIELDS, (address.venue_name, address.address_line, address.city, address.region_code,
                            address.postal_code, address.details), strict=True))  # fmt: skip
    assert got == {field: row[field] or None for field in FIELDS}, row["page_text"]


SEATTLE = "intergroup_table/seattleaa_monday_2012"


def seattle(page_text: str) -> Address:
    [row] = [row for t, row in ROWS if t == SEATTLE and row["page_text"] == page_text][:1]
    return canonical(page_records(SEATTLE)[row["key"]], demo_source("seattle-aa-monday"))


def test_the_street_before_a_zip_is_not_a_city() -> None:
    theodora = seattle("The Theodora, 6559 35th Ave NE 98115")
    assert (theodora.venue_name, theodora.address_line) == ("The Theodora", "6559 35th Ave NE")
    assert (theodora.city, theodora.region_code, theodora.postal_code) == ("Seattle", "WA", "98115")


def test_an_address_without_zip_keeps_its_street_and_town() -> None:
    boats = seattle("Center for Wooden Boats, 1010 Valley St, Seattle")
    assert (boats.venue_name, boats.address_line, boats.city, boats.region_code) == (
        "Center for Wooden Boats", "1010 Valley St", "Seattle", "WA"
    )  # fmt: skip


def test_a_house_number_never_becomes_a_zip() -> None:
    club = seattle("1504 Club")
    assert (club.venue_name, club.postal_code, club.region_code) == ("1504 Club", None, "WA")


def test_no_seattle_row_is_placed_outside_washington() -> None:
    records = page_records(SEATTLE).values()
    states = {canonical(r, demo_source("seattle-aa-monday")).region_code for r in records}
    assert states == {"WA", None}  # None: the rows whose address cell is empty
