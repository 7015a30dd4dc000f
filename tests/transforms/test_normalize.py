"""Normalization of real records from every family, plus the rules no real file exercises.

Real inputs: ``tests/transforms/realdata.py`` (every recorded feed through its family parser). Records built
here only where the real files have no example (e.g. a (0, 0) coordinate with a ZIP code).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from extractors.records import STAGING_SCHEMA, SourceRecord, to_arrow
from foundation.model import FIELD_NAMES
from foundation.source import Source
from tests.transforms import realdata
from tests.transforms.conftest import row
from transforms.normalize import (
    QUARANTINE_SCHEMA,
    UNKNOWN_TYPES_SCHEMA,
    VERSIONS_SCHEMA,
    NormalizeResult,
    normalize,
)

TEST_SOURCE = Source(
    id="test-aa", name="test", fellowship="AA", kind="meeting_guide", url="https://example.org/",
    timezone="America/New_York",
)  # fmt: skip


def one(**fields: Any) -> NormalizeResult:
    """Normalize one Meeting Guide-like record of ``TEST_SOURCE``; unspecified fields are a valid meeting."""
    values: dict[str, Any] = {"source_key": "k", "raw": {}, "name": "Test Group", "weekday": 2, "start_time": "19:00"}
    values.update(fields)
    return normalize(to_arrow("test-aa", "test-aa@1", [SourceRecord(**values)]), {"test-aa": TEST_SOURCE})


def version(**fields: Any) -> dict[str, Any]:
    result = one(**fields)
    assert result.quarantine.num_rows == 0, result.quarantine.to_pylist()
    return result.versions.to_pylist()[0]


# --- real records, one per family -------------------------------------------------------------------------


def test_gny_bmlt_meeting_2(real: NormalizeResult) -> None:
    """Greater New York NA, id 2: weekday_tinyint 7 (Saturday), 14:00 for 01:30, no time_zone given."""
    m = row(real.versions, "gny-na", "2")
    assert (m["weekday"], m["start_time"], m["end_time"], m["duration_min"]) == (6, time(14), time(15, 30), 90)
    assert (m["timezone"], m["timezone_source"]) == ("America/New_York", "coordinates")
    assert m["attendance"] == "in_person"
    assert (m["venue_name"], m["address_line"], m["city"], m["region_code"], m["postal_code"], m["country"]) == (
        "North Central Bronx Hospital", "3424 Kossuth Ave", "New York", "NY", "10467", "US",
    )  # fmt: skip
    assert (m["latitude"], m["longitude"], m["geo_precision"]) == (40.8806192784682, -73.8814955949783, "rooftop")
    assert (m["open_closed"], m["types"], m["source_types"]) == ("open", ["men", "step"], ["M", "OPEN", "STEP"])
    # the room of the venue field leads the location notes
    assert (m["languages"], m["location_notes"], m["fellowship"]) == (["en"], "Room 14B07\n@210th St", "NA")


def test_nyc_intergroup_row_with_br_notes(real: NormalizeResult) -> None:
    """A TSV row: Mac-Roman "‰Ûª" (a curly apostrophe through two wrong code pages), <br> in the notes."""
    m = row(real.versions, "nyc-aa", "h-o7ievucguj33bg2h")
    assert m["name"] == "HAND IN HAND WORKSHOP"
    assert (
        m["notes"]
        == "Cross street: (@ Jordan Avenue)\nNotes: Sun=Q & A’s, Mon.& Wed.=Topic, T Last Thu.\nSat=B 1st & 3rd Sat."
    )
    assert (m["weekday"], m["start_time"], m["timezone"], m["timezone_source"]) == (
        7, time(11), "America/New_York", "city",
    )  # fmt: skip
    assert (m["venue_name"], m["address_line"], m["city"], m["region_code"]) == (
        "I Can Club", "110-54 Farmers Blvd", "Jamaica", "NY",
    )  # fmt: skip
    assert m["location_notes"] == "Club Room"  # the spec's place for what is inside the building
    assert (m["attendance"], m["geo_precision"], m["latitude"]) == ("in_person", "none", None)


def test_nyc_name_mojibake_repaired(real: NormalizeResult) -> None:
    assert row(real.versions, "nyc-aa", "h-l22tx6p2o3jlzl5p")["name"] == "MONROE MEN’S GROUP"


def test_online_intergroup_meeting_with_zoom_id(real: NormalizeResult) -> None:
    m = row(real.versions, "oiaa", "thepicklejar-womens-aa-meetings-1")
    assert (m["conference_provider"], m["conference_id"]) == ("zoom", "5623930637")
    assert m["conference_url"] == "https://us06web.zoom.us/j/5623930637"
    assert (m["attendance"], m["geo_precision"], m["address_line"]) == ("online", "none", None)
    assert (m["weekday"], m["start_time"], m["end_time"], m["duration_min"]) == (1, time(11), time(12), 60)
    assert (m["timezone"], m["timezone_source"]) == ("America/New_York", "source")
    assert m["open_closed"] == "closed"  # types D, LGBTQ, W, SP, B, C
    assert m["types"] == ["big_book", "discussion", "lgbtq", "speaker", "women"]
    assert m["languages"] == ["en"]


def test_meeting_guide_formatted_address_split(real: NormalizeResult) -> None:
    m = row(real.versions, "oc-aa", "40-minutes-to-freedom")
    assert (m["venue_name"], m["address_line"], m["city"], m["region_code"], m["postal_code"]) == (
        "Watermark OC Church", "3186 Pullman St", "Costa Mesa", "CA", "92626",
    )  # fmt: skip
    assert (m["weekday"], m["start_time"], m["end_time"], m["duration_min"]) == (1, time(19, 30), time(20, 15), 45)
    assert (m["timezone"], m["geo_precision"], m["attendance"]) == ("America/Los_Angeles", "rooftop", "in_person")
    assert m["source_updated_at"] == datetime(2023, 8, 29, 15, 56, 59)


def test_al_anon_codes_mean_al_anon_things(real: NormalizeResult) -> None:
    """In Al-Anon POA is Parents of Alcoholics (not Proof of Attendance) and Y is Alateen."""
    parents = row(real.versions, "alanon-ma", "25037-par-ents-afg")
    assert (parents["fellowship"], parents["types"], parents["open_closed"]) == ("AL-ANON", ["parents"], "open")
    assert parents["conference_phone"] == "+19292056099,,1234567890#,,,,,##"
    assert "Dial-In Phone No.: 555-0100\nDial-In ID: 123 4567 890" in parents["notes"]  # a dial-in with its id
    alateen = row(real.versions, "alanon-ma", "30813985-hope-a-day-at-a-time-alateen")
    assert (alateen["types"], alateen["open_closed"]) == (["alateen"], "closed")


def test_berlin_virtual_meeting_placeholder_coordinates_dropped(real: NormalizeResult) -> None:
    """Virtual meetings of the German server carry a point in California: not in Germany, so dropped."""
    m = row(real.versions, "berlin-na", "10818")
    assert (m["latitude"], m["longitude"], m["geo_precision"], m["country"]) == (None, None, "none", "DE")
    assert (m["timezone"], m["timezone_source"], m["attendance"]) == ("Europe/Berlin", "registry", "online")
    assert (m["conference_provider"], m["conference_id"], m["languages"]) == ("zoom", "9079883918", ["de"])
    assert (m["weekday"], m["start_time"], m["duration_min"]) == (7, time(10), 35)


def test_temporarily_closed_with_online_access_is_online(real: NormalizeResult) -> None:
    """SE Pennsylvania sheet (no attendance_option): TC + ONL + Zoom → online; TC alone → inactive."""
    m = row(real.versions, "sepia-aa", "meeting-301-n-main-st-doylestown-pa-18901-usa-6-060000-Sun")
    assert (m["attendance"], m["conference_id"], m["accessibility"]) == ("online", "876406386", ["wheelchair"])
    closed = row(real.versions, "sepia-aa", "meeting-4021-walnut-st-philadelphia-pa-19104-usa-0-094500")
    assert closed["attendance"] == "inactive"


def test_tsml_template_type_names_and_zip_centroid(real: NormalizeResult) -> None:
    m = row(real.versions, "sanjose-template", "after-work-topic-meeting")
    assert (m["open_closed"], m["accessibility"], m["unknown_types"]) == ("open", ["wheelchair"], [])
    assert (m["address_line"], m["city"], m["postal_code"], m["geo_precision"]) == (
        "2634 Union Ave", "San Jose", "95124", "postal",
    )  # fmt: skip
    assert (m["latitude"], m["longitude"]) == (37.2563, -121.9229)
    assert m["source_updated_at"] == datetime(2020, 4, 4, 16, 50, 58)  # written "2020-04-0416:50:58"


# --- the contract ------------------------------------------------------------------------------------------


def test_schemas(real: NormalizeResult) -> None:
    assert real.versions.schema.equals(VERSIONS_SCHEMA)
    assert tuple(real.versions.column_names) == FIELD_NAMES
    assert real.quarantine.schema.equals(QUARANTINE_SCHEMA)
    assert real.unknown_types.schema.equals(UNKNOWN_TYPES_SCHEMA)


def test_every_staging_row_is_normalized_or_quarantined_once(real_staging: pa.Table, real: NormalizeResult) -> None:
    def counts(table: pa.Table) -> Counter[tuple[str, str]]:
        return Counter(zip(table["source_id"].to_pylist(), table["fetch_id"].to_pylist(), strict=True))

    assert counts(real.versions) + counts(real.quarantine) == counts(real_staging)
    assert len(realdata.REAL_SOURCES) == len(counts(real_staging))


def test_quarantine_reasons_on_real_data(real: NormalizeResult) -> None:
    q = Counter(zip(real.quarantine["source_id"].to_pylist(), real.quarantine["reason"].to_pylist(), strict=True))
    assert q == {
        ("nyc-aa", "no_weekday"): 10,  # empty Day cells of the New York export
        ("oiaa", "no_weekday"): 10,  # 10 meetings without day/time
        ("oiaa", "no_timezone"): 1,  # "Vision for Us 24/7": no time zone, no place, no registry zone
        ("oc-aa", "no_weekday"): 1,
    }
    nyc = next(r for r in real.quarantine.to_pylist() if r["source_id"] == "nyc-aa")
    assert (nyc["field"], nyc["value"]) == ("weekday", None)
    assert nyc["detail"].startswith("expected a weekday")


def test_unknown_type_codes_report(real: NormalizeResult) -> None:
    report = {(r["source_id"], r["code"]): r["count"] for r in real.unknown_types.to_pylist()}
    assert report[("sepia-aa", "ASBI")] == 26  # a misspelt ABSI in the sheet: reported, not guessed
    assert report[("oiaa", "D-HOH")] == 1 and report[("oiaa", "LO-I")] == 1
    assert report[("berlin-na", "KT")] == 35 and report[("berlin-na", "Beh")] == 14
    clean = {"oc-aa", "nepa-aa", "nepa-aa-2022", "sussex-aa", "alanon-ma", "sanjose-aa", "sanjose-wp", "gny-na"}
    assert not clean & {sid for sid, _ in report}
    assert set(real.unknown_types["fetch_id"].to_pylist()) >= {"sepia-aa@test", "oiaa@test"}


def test_unknown_codes_stay_on_the_record(real: NormalizeResult) -> None:
    m = row(real.versions, "oiaa", "friday-night-speakers-meeting")
    assert set(m["unknown_types"]) <= set(m["source_types"])
    sepia = real.versions.filter(pc.equal(real.versions["source_id"], "sepia-aa"))
    assert sum("ASBI" in codes for codes in sepia["unknown_types"].to_pylist()) == 26


def test_record_hash_is_stable_and_ignores_provenance() -> None:
    staging = realdata.staging("sussex-aa")
    first, again = normalize(staging, realdata.SOURCES), normalize(staging, realdata.SOURCES)
    assert first.versions["record_hash"].equals(again.versions["record_hash"])
    renamed = staging.set_column(
        staging.schema.get_field_index("fetch_id"), "fetch_id", pa.array(["other"] * len(staging))
    )
    assert normalize(renamed, realdata.SOURCES).versions["record_hash"].equals(first.versions["record_hash"])
    assert len(set(first.versions["record_hash"].to_pylist())) == first.versions.num_rows


def test_record_hash_changes_when_the_meeting_changes() -> None:
    assert version(start_time="19:00")["record_hash"] != version(start_time="19:30")["record_hash"]
    assert version(notes="a")["record_hash"] != version(notes="b")["record_hash"]
    assert version(source_key="a")["record_hash"] == version(source_key="b")["record_hash"]


def test_no_email_or_placeholder_phone_in_published_values(real: NormalizeResult) -> None:
    """The fixtures' scrubbed contacts (person@example.org, 555-0100) must not survive normalization, except
    where the number stands for a dial-in, a meeting id or a passcode."""
    for name in ("name", "group_name", "venue_name", "notes", "location_notes"):
        values = [v for v in real.versions[name].to_pylist() if v]
        assert not [v for v in values if "@" in v and "example.org" in v], name
        assert not [v for v in values if v.count("555-0100") > realdata.kept_scrubbed_phones(v)], name


def test_contact_fields_in_raw_never_reach_versions() -> None:
    raw = {"contact_1_name": "Bob Q.", "contact_1_email": "bob@example.com", "contact_1_phone": "646-555-0199"}
    m = version(raw=raw, notes="Call Bob at 646-555-0199 or bob@example.com")
    published = [v for v in m.values() if isinstance(v, str)]
    assert not [v for v in published if "Bob Q." in v or "bob@example.com" in v or "646-555-0199" in v]
    assert m["notes"] == "Call Bob at [redacted] or [redacted]"


def test_empty_staging() -> None:
    result = normalize(STAGING_SCHEMA.empty_table(), {})
    assert (result.versions.num_rows, result.quarantine.num_rows, result.unknown_types.num_rows) == (0, 0, 0)
    assert result.versions.schema.equals(VERSIONS_SCHEMA)


def test_source_missing_from_registry_is_an_error() -> None:
    staging = to_arrow("nowhere", "f", [SourceRecord(source_key="k", raw={}, name="x", weekday=1)])
    with pytest.raises(ValueError, match="nowhere"):
        normalize(staging, {})


# --- rules on constructed records ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "reason", "field", "value"),
    [
        ({"name": "NULL"}, "no_name", "name", "NULL"),
        ({"weekday": None, "weekday_raw": "Someday"}, "no_weekday", "weekday", "Someday"),
        ({"start_time": None}, "no_time", "start_time", None),
        ({"start_time": "25:61"}, "bad_time", "start_time", "25:61"),
        ({"name": None, "weekday": None}, "no_name", "name", None),  # the first reason only
    ],
)
def test_quarantine_reason(fields: dict[str, Any], reason: str, field: str, value: str | None) -> None:
    result = one(**fields)
    assert result.versions.num_rows == 0
    q = result.quarantine.to_pylist()[0]
    assert (q["reason"], q["field"], q["value"], q["source_key"], q["record_index"]) == (reason, field, value, "k", 0)


def test_no_timezone_anywhere_is_quarantined() -> None:
    source = TEST_SOURCE.model_copy(update={"timezone": None})
    staging = to_arrow("test-aa", "f", [SourceRecord(source_key="k", raw={}, name="x", weekday=1, start_time="9am")])
    q = normalize(staging, {"test-aa": source}).quarantine.to_pylist()[0]
    assert (q["reason"], q["field"]) == ("no_timezone", "timezone")


def test_quarantine_value_truncated() -> None:
    q = one(start_time="x" * 500).quarantine.to_pylist()[0]
    assert q["value"] == "x" * 200


@pytest.mark.parametrize(
    ("fields", "attendance"),
    [
        ({"types": ["TC", "ONL"], "conference_url": "https://zoom.us/j/123456789"}, "online"),
        ({"types": ["TC"], "address": "1 Main St", "city": "Springfield"}, "inactive"),
        ({"conference_url": "https://zoom.us/j/123456789", "address": "1 Main St", "city": "X"}, "hybrid"),
        ({"conference_url": "https://zoom.us/j/123456789", "formatted_address": "Philadelphia, PA, USA"}, "online"),
        ({"conference_phone": "+1 646 876 9923", "approximate": "yes", "address": "1 Main St"}, "online"),
        ({"address": "1 Main St", "city": "Springfield"}, "in_person"),
        ({"formatted_address": "Philadelphia, PA, USA"}, "inactive"),
        ({"attendance_hint": "hybrid", "formatted_address": "Philadelphia, PA, USA"}, "hybrid"),
        ({"conference_url": "zoommtg://zoom.us/join?confno=123456789", "address": "1 Main St"}, "in_person"),
    ],
)
def test_attendance_rules(fields: dict[str, Any], attendance: str) -> None:
    assert version(**fields)["attendance"] == attendance


@pytest.mark.parametrize(
    ("types", "venue_type", "attendance"),
    [(["VM"], None, "online"), (["HY"], None, "hybrid"), (["OPEN"], None, "in_person"), (["OPEN"], "online", "online")],
)
def test_bmlt_attendance(types: list[str], venue_type: str | None, attendance: str) -> None:
    source = TEST_SOURCE.model_copy(update={"kind": "bmlt", "fellowship": "NA"})
    record = SourceRecord(
        source_key="k", raw={}, name="x", weekday=1, start_time="19:00:00", address="1 Main St", city="Troy",
        types=types, attendance_hint=venue_type,
    )  # fmt: skip
    assert (
        normalize(to_arrow("test-aa", "f", [record]), {"test-aa": source}).versions["attendance"][0].as_py()
        == attendance
    )


def test_non_http_conference_url_dropped_not_the_meeting() -> None:
    m = version(conference_url="javascript:alert(1)")
    assert (m["conference_url"], m["conference_provider"], m["conference_id"]) == (None, None, None)


@pytest.mark.parametrize(
    ("latitude", "longitude", "expected"),
    [
        ("0", "0", (42.377, -71.1256, "postal")),  # dropped, then the ZIP centroid of 02138
        ("-71.1187", "42.3765", (42.377, -71.1256, "postal")),  # swapped: lands outside the US
        ("142.37", "-71.11", (42.377, -71.1256, "postal")),  # out of range
        ("48.1", "11.6", (42.377, -71.1256, "postal")),  # Munich, for a US address
        ("42.3770", "-71.1167", (42.377, -71.1167, "rooftop")),
    ],
)
def test_coordinates_validated(latitude: str, longitude: str, expected: tuple[float, float, str]) -> None:
    m = version(
        latitude=latitude, longitude=longitude, address="1 Massachusetts Ave", city="Cambridge", postal_code="2138"
    )
    assert (m["latitude"], m["longitude"], m["geo_precision"]) == expected
    assert m["postal_code"] == "02138"


def test_invalid_coordinates_without_zip_give_no_position() -> None:
    m = version(latitude="0", longitude="0", address="1 Main St", city="Springfield")
    assert (m["latitude"], m["longitude"], m["geo_precision"], m["timezone_source"]) == (None, None, "none", "registry")


def test_timezone_from_zip_when_no_coordinates() -> None:
    m = version(postal_code="92626", address="3186 Pullman St", timezone="Not/AZone")
    assert (m["timezone"], m["timezone_source"], m["region_code"], m["city"]) == (
        "America/Los_Angeles", "postal", "CA", "Costa Mesa",
    )  # fmt: skip


def test_end_before_start_crosses_midnight() -> None:
    m = version(start_time="11:30 PM", end_time="12:30 AM")
    assert (m["start_time"], m["end_time"], m["duration_min"]) == (time(23, 30), time(0, 30), 60)


def test_record_fellowship_normalized() -> None:
    assert version(fellowship="Al-Anon", types=["Y"])["fellowship"] == "AL-ANON"
    assert version(fellowship="Al-Anon", types=["Y"])["types"] == ["alateen"]
    assert version(types=["Y"])["types"] == ["young_people"]
