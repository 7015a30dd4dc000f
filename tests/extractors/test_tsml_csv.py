"""The ``tsml_csv`` family on the real New York Intergroup TSV and the San Jose import template."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from extractors import tsml_csv
from extractors.records import ParseError, Snapshot, SnapshotPart, SourceRecord, to_arrow

FIXTURES = Path(__file__).parents[1] / "fixtures" / "tsml_csv"
NY_BODY = (FIXTURES / "nyintergroup_2015-10.tsv").read_bytes()
SJ_BODY = (FIXTURES / "tsml_template_san_jose.csv").read_bytes()


def _snapshot(body: bytes) -> Snapshot:
    return Snapshot(
        source_id="test",
        fetch_id="f1",
        fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
        parts=(SnapshotPart(tsml_csv.PART, "https://example.org/x.tsv", body),),
    )


def _parse(body: bytes) -> list[SourceRecord]:
    return tsml_csv.parse(_snapshot(body))


@pytest.fixture(scope="module")
def ny() -> list[SourceRecord]:
    return _parse(NY_BODY)


@pytest.fixture(scope="module")
def sj() -> list[SourceRecord]:
    return _parse(SJ_BODY)


def _one(records: list[SourceRecord], name: str, weekday: int | None) -> SourceRecord:
    [record] = [r for r in records if r.name == name and r.weekday == weekday]
    return record


# --- New York Intergroup export (tab, CR-only, Mac-Roman, NULL, <br>) -------------------------------------


def test_ny_every_row_becomes_a_record(ny: list[SourceRecord]) -> None:
    # Counted independently: CR-only lines, minus the header, one record per listed day (at least one).
    rows = list(csv.reader(io.StringIO(NY_BODY.decode("mac_roman"), newline=""), delimiter="\t"))
    expected = sum(max(1, len([d for d in row[1].split(",") if d.strip()])) for row in rows[1:])
    assert NY_BODY.count(b"\r") == len(rows) - 1 == 3685
    assert expected == 3685
    assert len(ny) == 3685


def test_ny_weekdays(ny: list[SourceRecord]) -> None:
    assert Counter(r.weekday for r in ny) == {
        1: 566,
        2: 564,
        3: 526,
        4: 559,
        5: 550,
        6: 455,
        7: 455,
        None: 10,
    }


def test_ny_rows_without_day_are_kept_for_quarantine(ny: list[SourceRecord]) -> None:
    dayless = [r for r in ny if r.weekday is None]
    assert len(dayless) == 10
    assert all(r.weekday_raw is None and r.raw["day"] == "" for r in dayless)
    burnside = [r for r in dayless if r.name == "BURNSIDE"]
    assert [r.start_time for r in burnside] == ["12:00 AM", "12:00 AM"]


def test_ny_real_row(ny: list[SourceRecord]) -> None:
    record = _one(ny, "WOMEN'S TELL IT LIKE IT IS", 1)
    assert record.start_time == "12:00 PM"
    assert record.venue_name == "Blessed Sacrament (Rectory)"
    assert record.address == "152 West 71st Street"
    assert record.city == "New York"
    assert record.region_code == "NY"
    assert record.country == "US"
    assert record.postal_code is None  # the export has no postal code column
    assert record.types == ["C = Closed Discussion meeting", "Women"]
    assert record.notes == "Cross street: Between Broadway and Columbus Avenues)<br>Notes: Women's Meeting<br><br>"
    assert record.raw["region"] == "M"  # borough code, not a state: raw only


def test_ny_null_literal_is_none(ny: list[SourceRecord]) -> None:
    record = _one(ny, "BLEEDING DEACONS", 6)
    assert record.raw["city"] == record.raw["state"] == "NULL"
    assert record.city is None
    assert record.region_code is None
    assert record.address == "275 North 8th Street,Basement"


def test_ny_is_decoded_as_mac_roman(ny: list[SourceRecord]) -> None:
    # The file has no accented letters: its only high bytes are E4 F3 BB / E4 F3 F1, which a Mac showed as
    # "‰Ûª" / "‰ÛÒ" (mojibake of ’ and –); cp1252 would give "äó»". Repairing them is normalization's job.
    assert tsml_csv.decode(NY_BODY)[1] == "mac_roman"
    assert _one(ny, "MONROE MEN‰ÛªS GROUP", 7).address == "137 Stage Road"
    assert _one(ny, "BAINBRIDGE", 7).address == "268 East 207th Street, Teacher‰Ûªs Lounge"
    assert _one(ny, "ORANGE LET GO ‰ÛÒ LET GOD", 6).venue_name.startswith("Holy Infant")


def test_ny_types_split_on_br_and_keep_the_whole_token(ny: list[SourceRecord]) -> None:
    """The export's codes clash with Meeting Guide's (S is Spanish there): only "S = Step meeting" is unambiguous."""
    codes = Counter(t for r in ny for t in r.types)
    assert codes["S = Step meeting"] == 661
    assert codes["S"] == 0
    assert codes["Gay, Lesbian and Bisexual"] == 64  # a comma inside a <br>-separated name stays whole
    assert "" not in codes and "<br>" not in codes


def test_ny_exact_duplicates_are_kept_with_distinct_keys(ny: list[SourceRecord]) -> None:
    copies = [r for r in ny if r.name == "MUSTARD SEED" and r.weekday == 4 and r.start_time == "7:30 AM"]
    assert len(copies) == 3
    assert copies[0].raw == copies[1].raw == copies[2].raw
    assert len({r.source_key for r in copies}) == 3


@pytest.mark.parametrize("body", [NY_BODY, SJ_BODY], ids=["ny", "sj"])
def test_keys_are_unique_and_deterministic(body: bytes) -> None:
    keys = [r.source_key for r in _parse(body)]
    assert len(set(keys)) == len(keys)
    assert keys == [r.source_key for r in _parse(body)]


def test_ny_keys_are_hashed_without_slug(ny: list[SourceRecord]) -> None:
    assert all(r.source_key.startswith("h-") for r in ny)


def test_ny_loads_into_staging(ny: list[SourceRecord]) -> None:
    assert to_arrow("test", "f1", ny).num_rows == 3685


# --- San Jose import template (comma, LF, UTF-8, 37 columns) ----------------------------------------------


def test_sj_one_record_per_meeting(sj: list[SourceRecord]) -> None:
    assert len(sj) == 36  # no multi-day cells in the template
    assert Counter(r.weekday for r in sj) == {1: 7, 2: 6, 3: 3, 4: 2, 5: 7, 6: 8, 7: 3}
    assert sj[0].source_key == "after-work-topic-meeting"


def test_sj_named_meeting(sj: list[SourceRecord]) -> None:
    record = _one(sj, "T.G.I.F.", 5)
    assert record.source_key == "t-g-i-f"
    assert (record.start_time, record.end_time) == ("7:30 PM", "8:30 PM")
    assert record.venue_name == "7511 Gourmet Alley"
    assert record.address == "7511 Gourmet Alley, Gilroy, CA 95020, USA"
    assert record.city is None  # the template has no city column; "Region" (Gilroy) stays in raw
    assert record.raw["region"] == "Gilroy"
    assert record.timezone == "America/Los_Angeles"
    assert record.types == ["Open"]


def test_sj_online_meeting(sj: list[SourceRecord]) -> None:
    record = _one(sj, "Underground Book Study", 7)
    assert record.conference_url == "https://us04web.zoom.us/j/9999999999"
    assert record.conference_phone == "(800) 555-1212"
    assert record.types == ["Big Book", "Men", "Online Meeting", "Open", "Temporary Closure"]


def test_sj_malformed_updated_is_kept_raw(sj: list[SourceRecord]) -> None:
    assert _one(sj, "After Work Topic Meeting", 1).source_updated_at == "2020-04-0416:50:58"


def test_sj_website_and_group(sj: list[SourceRecord]) -> None:
    """``Website`` is the group's site, not the listing's page (the template has no ``url`` column)."""
    record = _one(sj, "After Work Topic Meeting", 1)
    assert record.website == "https://saturdaynitelive.org"
    assert record.source_url is None
    assert record.group_name == "Saturday Nite Live"
    assert record.source_regions == ["San Jose", "West San Jose"]


def test_contact_columns_stay_in_raw_only(sj: list[SourceRecord]) -> None:
    record = _one(sj, "After Work Topic Meeting", 1)
    assert record.raw["phone"] == "(800) 555-1212"
    assert record.raw["venmo"] == "@sample-venmo"
    mapped = {k: v for k, v in asdict(record).items() if k != "raw"}
    assert "(800) 555-1212" not in mapped.values()
    assert "@sample-venmo" not in mapped.values()


# --- Format variations on small inputs --------------------------------------------------------------------

HEADER = "Name,Day,Time,End Time,Location Notes,Postal Code,State,City,Conference URL,Slug"


def test_header_slugs_map_to_fields() -> None:
    body = f"{HEADER}\nLunch Bunch,Tuesday,12:00,13:00,Room 2<br>side door,02139,MA,Cambridge,https://x.test/1,lb\n"
    [record] = _parse(body.encode())
    assert record.location_notes == "Room 2<br>side door"
    assert (record.postal_code, record.region_code, record.city) == ("02139", "MA", "Cambridge")
    assert (record.end_time, record.conference_url, record.source_key) == ("13:00", "https://x.test/1", "lb")


@pytest.mark.parametrize("newline", ["\r", "\r\n", "\n"], ids=["cr", "crlf", "lf"])
@pytest.mark.parametrize("delimiter", [",", "\t"], ids=["comma", "tab"])
def test_line_ends_and_delimiters(newline: str, delimiter: str) -> None:
    lines = ["Name|Day|Time|Notes", 'Early Bird|Saturday|7:30 AM|"a|b"', "Night Owl|Sunday|11:00 PM|"]
    body = newline.join(line.replace("|", delimiter) for line in lines) + newline
    records = _parse(body.encode())
    assert [(r.name, r.weekday, r.start_time, r.notes) for r in records] == [
        ("Early Bird", 6, "7:30 AM", f"a{delimiter}b"),
        ("Night Owl", 7, "11:00 PM", None),
    ]


def test_utf8_bom_is_not_part_of_the_first_header() -> None:
    [record] = _parse("\ufeffName,Day,Time\r\nThe Déjà Vu Group,Monday,8:00 PM\r\n".encode())
    assert (record.name, record.weekday) == ("The Déjà Vu Group", 1)


@pytest.mark.parametrize(
    ("text", "encoding", "newline"),
    [
        ("The Déjà Vu Group", "cp1252", "\r\n"),  # aasepia feed
        ("The Déjà Vu Group", "mac_roman", "\r"),
        ("Männermeeting Potsdam", "mac_roman", "\r"),  # NA Berlin BMLT
        ("Männermeeting Potsdam", "cp1252", "\n"),
        (
            "Meditação",
            "mac_roman",
            "\n",
        ),  # Meeting Guide's Portuguese type name; ç is 0x8D, undefined in cp1252
    ],
)
def test_legacy_encoding_is_detected(text: str, encoding: str, newline: str) -> None:
    body = newline.join(["Name\tDay\tTime", f"{text}\tMonday\t7:00 PM", ""]).encode(encoding)
    assert tsml_csv.decode(body)[1] == encoding
    assert [r.name for r in _parse(body)] == [text]


def test_several_days_become_one_record_each() -> None:
    body = b'Name,Day,Time,Slug\nNooner,"Monday, Wednesday",12:00 PM,nooner\nNooner,"Monday,Friday",1 PM,\n'
    records = _parse(body)
    assert [(r.weekday, r.weekday_raw) for r in records] == [
        (1, "Monday"),
        (3, "Wednesday"),
        (1, "Monday"),
        (5, "Friday"),
    ]
    assert [r.source_key for r in records[:2]] == ["nooner-monday", "nooner-wednesday"]
    assert len({r.source_key for r in records}) == 4


def test_unknown_day_is_kept_raw() -> None:
    [record] = _parse(b"Name,Day,Time\nMystery,Someday,8 PM\n")
    assert (record.weekday, record.weekday_raw) == (None, "Someday")


def test_repeated_slug_gets_an_occurrence_suffix() -> None:
    records = _parse(b"Name,Day,Time,Slug\nA,Monday,8 PM,a\nA,Monday,8 PM,a\n")
    assert [r.source_key for r in records] == ["a", "a#2"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "is empty"),
        (b"\r\n \n", "is empty"),
        (HEADER.encode() + b"\n", "no meeting rows"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
        (bytes(range(1, 256)) * 3, "no name and no day or time column"),
        (b"id,title,when\n1,Big Book,Monday 8pm\n", "no name and no day or time column"),
        (b"Name,Address\nNooner,1 Main St\n", "no day or time column"),
    ],
    ids=["empty", "blank", "header-only", "png", "garbage", "other-csv", "no-schedule"],
)
def test_broken_input_raises(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message) as caught:
        _parse(body)
    assert caught.value.source_id == "test"
