"""The ``intergroup_table`` family on the real Monday page of the Seattle Intergroup directory (2012)."""

from __future__ import annotations

from functools import cache

import pytest

from extractors.html import intergroup_table
from extractors.records import LayoutChanged, SourceRecord
from tests.extractors.html.pages import SEATTLE_URL, one_page, read

BODY = read("intergroup_table", "seattleaa_monday_2012.html")


@cache
def records() -> list[SourceRecord]:
    return intergroup_table.parse(one_page(SEATTLE_URL, BODY))


def meeting(name: str, time: str) -> SourceRecord:
    [record] = [r for r in records() if (r.name, r.start_time) == (name, time)]
    return record


def test_one_record_per_row_of_both_concatenated_documents() -> None:
    assert len(records()) == 201
    assert len({r.source_key for r in records()}) == 201


def test_weekday_from_the_heading_document() -> None:
    assert {(r.weekday, r.weekday_raw) for r in records()} == {(1, "MONDAY")}


def test_noon_is_kept_as_written_for_normalization() -> None:
    assert meeting("BROADVIEW NOON", "NOON").start_time == "NOON"


def test_address_cell_is_a_formatted_address() -> None:
    record = meeting("GROUP 62", "9:30 PM")
    assert record.formatted_address == "Jubilee Reach Center, 14200 SE 13th Pl, Bellevue 98007"


def test_open_closed_and_feature_codes_are_types() -> None:
    assert meeting("WOMEN'S RENDEZVOUS", "7:00 PM").types == ["C", "wo", "oh", "we", "wp", "wb"]


def test_updated_stamp_from_the_heading() -> None:
    assert meeting("GROUP 62", "9:30 PM").source_updated_at == "2012-02-16"


def test_keys_are_hashes_of_stable_fields() -> None:
    assert all(r.source_key.startswith("h-") for r in records())
    assert intergroup_table.parse(one_page(SEATTLE_URL, BODY))[0].source_key == records()[0].source_key


def test_reordered_columns_are_a_changed_layout() -> None:
    swapped = BODY.replace(b'<TH bgcolor="#FFEBCD">name</TH>', b'<TH bgcolor="#FFEBCD">xname</TH>', 1)
    with pytest.raises(LayoutChanged, match="the columns are"):
        intergroup_table.parse(one_page(SEATTLE_URL, swapped))


def test_page_gives_no_time_zone_or_online_link() -> None:
    assert {(r.timezone, r.conference_url) for r in records()} == {(None, None)}


def test_an_address_typed_into_the_name_cell_is_the_address() -> None:
    """WEST 8:00 AM: the name cell says "PASS IT ON - 17801 1st Ave S 98148", the address cell is empty."""
    record = meeting("PASS IT ON", "8:00 AM")
    assert (record.name, record.formatted_address) == ("PASS IT ON", "17801 1st Ave S 98148")
    assert record.raw["name"] == "PASS IT ON - 17801 1st Ave S 98148"  # the key hashes the cells as they are
    marzo = meeting("10 DE MARZO", "8:00 PM")  # "10 DE MARZO<BR>1225 Union Ave NE, Renton, 98059" in both cells
    assert (marzo.name, marzo.formatted_address) == ("10 DE MARZO", "1225 Union Ave NE, Renton, 98059")
