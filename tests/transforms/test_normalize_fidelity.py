"""Fidelity rules of normalization on real records: nothing invented, every field carried, derived values say
how, a place we could not parse stays a place, a state names its time zone."""

from __future__ import annotations

import re
from collections import Counter
from datetime import time
from typing import Any

import pyarrow.compute as pc
import pytest

from extractors import tsml_csv
from extractors.records import SourceRecord, to_arrow
from foundation.source import Source
from foundation.timeparse import parse_duration, parse_time
from tests.transforms import realdata
from tests.transforms.conftest import row
from transforms.normalize import NormalizeResult, normalize

NO_ZONE = Source(id="nyc", name="NY Intergroup", fellowship="AA", kind="tsml_csv", url="https://example.org/m.tsv")
"""The New York Intergroup export's registry entry without a ``timezone``: the records must say where they are."""


def _nyc(source: Source) -> NormalizeResult:
    records = realdata.records("nyc-aa")
    return normalize(to_arrow(source.id, f"{source.id}@1", list(records)), {source.id: source})


def test_new_york_listings_with_city_and_state_lose_nothing_to_no_timezone() -> None:
    """Real NY Intergroup rows: city and state "NY", no ZIP column, no coordinates, no registry zone."""
    result = _nyc(NO_ZONE)
    ny = {r.source_key for r in realdata.records("nyc-aa") if r.region_code == "NY" and r.city and r.weekday}
    assert len(ny) > 2500
    lost = {q["source_key"] for q in result.quarantine.to_pylist() if q["reason"] == "no_timezone"}
    assert lost & ny == set()
    zones = Counter((v["timezone"], v["timezone_source"]) for v in result.versions.to_pylist()
                    if v["source_key"] in ny)  # fmt: skip
    assert set(zones) == {("America/New_York", "city"), ("America/New_York", "state")}
    assert zones["America/New_York", "city"] > 0.9 * len(ny)


def test_only_records_that_say_nowhere_are_quarantined_no_timezone() -> None:
    """Rows whose city and state are NULL say nowhere: they need the registry's zone or region."""
    lost = [q for q in _nyc(NO_ZONE).quarantine.to_pylist() if q["reason"] == "no_timezone"]
    records = {r.source_key: r for r in realdata.records("nyc-aa")}
    assert lost and all(records[q["source_key"]].region_code is None for q in lost)
    with_region = _nyc(NO_ZONE.model_copy(update={"region": "NY"}))
    assert "no_timezone" not in with_region.quarantine["reason"].to_pylist()


def _given_end(record: SourceRecord) -> str:
    start, end = parse_time(record.start_time), parse_time(record.end_time)
    if end is not None and end != start and ((end - (start or 0)) % 1440 <= 720 or end > (start or 0)):
        return "source"
    return "duration" if parse_duration(record.duration) is not None else "none"


def test_no_end_time_is_invented_on_any_real_record(real: NormalizeResult) -> None:
    records = {(sid, r.source_key): r for sid in realdata.REAL_SOURCES for r in realdata.records(sid)}
    for v in real.versions.to_pylist():
        record = records[(v["source_id"], v["source_key"])]
        assert v["end_time_source"] == _given_end(record), (v["source_id"], v["source_key"])
        assert (v["end_time"] is None) == (v["end_time_source"] == "none")
        assert (v["duration_min"] is None) == (v["end_time_source"] == "none")
    sources = Counter(real.versions["end_time_source"].to_pylist())
    assert sources["none"] > 5000 and sources["duration"] > 1500 and sources["source"] > 3500


def test_a_midnight_start_without_an_end_has_no_end() -> None:
    """oc-aa's midnight-howlers-3 (Saturday 23:59, no end): was published 23:59–00:59."""
    record = SourceRecord(source_key="midnight-howlers-3", raw={}, name="Midnight Howlers", weekday=6,
                          start_time="23:59")  # fmt: skip
    source = realdata.SOURCES["oc-aa"]
    v = normalize(to_arrow("oc-aa", "f", [record]), {"oc-aa": source}).versions.to_pylist()[0]
    assert (v["start_time"], v["end_time"], v["duration_min"], v["end_time_source"]) == (time(23, 59), None, None,
                                                                                          "none")  # fmt: skip


def test_meeting_guide_spec_fields_are_carried(real: NormalizeResult) -> None:
    nepa = row(real.versions, "nepa-aa", realdata.records("nepa-aa")[0].source_key)
    assert (nepa["entity"], nepa["entity_url"], nepa["entity_email"]) == (
        "Alcoholics Anonymous of North East Pennsylvania",
        "https://aaintergroupnepa.org",
        "person@example.org",
    )
    assert nepa["source_regions"] == realdata.records("nepa-aa")[0].raw["regions"]
    sussex = [v for v in real.versions.to_pylist() if v["source_id"] == "sussex-aa" and v["group_notes"]]
    assert sussex and all(v["district"] for v in sussex)
    sepia = row(real.versions, "sepia-aa", real.versions.filter(pc.equal(real.versions["source_id"], "sepia-aa"))[
        "source_key"][0].as_py())  # fmt: skip
    assert sepia["feedback_url"] == "https://aasepia.org/meeting-status/"
    assert len(sepia["source_regions"]) == 2  # county, then city or neighbourhood
    notes = [v for v in real.versions.to_pylist() if v["source_id"] == "sanjose-aa" and v["conference_url_notes"]]
    assert len(notes) > 300 and sum(1 for v in notes if v["website"]) > 0


def test_bmlt_service_body_is_the_entity_and_region_labels_do_not_repeat(real: NormalizeResult) -> None:
    m = row(real.versions, "gny-na", "2")
    assert m["entity"] and m["entity"] != "Greater New York Region"  # the meeting's own area
    assert m["source_regions"] == ["Bronx", "Norwood"]  # county "Bronx" > borough "Bronx" > neighbourhood


def test_a_street_in_the_venue_field_is_the_street_and_the_meeting_stays_in_person(real: NormalizeResult) -> None:
    """GNY 2681: ``location_street`` empty, ``location_text`` "230 South 7th Ave", coordinates given."""
    m = row(real.versions, "gny-na", "2681")
    assert (m["attendance"], m["address_line"], m["venue_name"], m["city"]) == (
        "in_person",
        "230 S 7th Ave",
        None,
        "Mount Vernon",
    )
    assert (m["coordinates_source"], m["geo_precision"]) == ("source", "rooftop")


def test_floor_and_room_details_move_to_the_location_notes(real: NormalizeResult) -> None:
    m = row(real.versions, "nyc-aa", next(r.source_key for r in realdata.records("nyc-aa")
                                          if r.address == "7 West 55th Street, 5th Floor" and r.weekday))  # fmt: skip
    assert (m["address_line"], m["location_notes"]) == ("7 W 55th St", "5th Floor")
    lines = real.versions.filter(pc.is_valid(real.versions["address_line"]))["address_line"].to_pylist()
    inside = [a for a in lines if re.search(r"(?i)\b(basement|floor|flr|rm|room)\b", a)]
    # 1,700 before; left: lines with no street at all ("Conference Room A", "& 76th Street basement gymnasium")
    assert len(inside) <= 3, inside


MILL = "Old Mill, behind the feed store, north end of town"
"""A place line with no street, no city and no state in it."""


@pytest.mark.parametrize(
    ("fields", "attendance", "unparsed"),
    [
        # a place the source wrote that we could not read: kept as written, still in person
        ({"formatted_address": MILL}, "in_person", MILL),
        ({"formatted_address": MILL, "conference_url": "https://zoom.us/j/123456789"}, "online", MILL),  # no street
        # a place read whole is not "unparsed"
        ({"formatted_address": "Center for Wooden Boats, 1010 Valley St, Seattle, WA"}, "in_person", None),
        ({"venue_name": "South King Alano Club"}, "in_person", None),  # a venue is a place
        ({"formatted_address": "Philadelphia, PA, USA"}, "inactive", None),  # a city is not a place to go
        ({"formatted_address": "Online"}, "inactive", None),
        # the source's own "approximate" judgement decides, as its app shows it; the text is still kept
        ({"formatted_address": MILL, "approximate": "yes"}, "inactive", MILL),
        ({"formatted_address": "please call 646-555-0199 for location"}, "in_person", "please call [redacted] for "
         "location"),
    ],
)  # fmt: skip
def test_attendance_follows_what_the_source_gave(fields: dict[str, Any], attendance: str, unparsed: str) -> None:
    source = realdata.SOURCES["sussex-aa"]
    record = SourceRecord(source_key="k", raw={}, name="x", weekday=1, start_time="19:00", **fields)
    v = normalize(to_arrow("sussex-aa", "f", [record]), {"sussex-aa": source}).versions.to_pylist()[0]
    assert (v["attendance"], v["unparsed_address"]) == (attendance, unparsed)


def test_zip_centroids_say_so(real: NormalizeResult) -> None:
    template = real.versions.filter(pc.equal(real.versions["source_id"], "sanjose-template")).to_pylist()
    assert {v["coordinates_source"] for v in template} == {"postal"}
    assert all(v["geo_precision"] == "postal" for v in template)


def test_a_non_zip_in_the_zip_column_is_no_postal_code() -> None:
    """GNY writes "USA" and "NY" into location_postal_code_1 for a few meetings."""
    record = SourceRecord(source_key="k", raw={}, name="x", weekday=1, start_time="19:00", address="545 60th St",
                          city="New York", region_code="NY", postal_code="USA")  # fmt: skip
    source = realdata.SOURCES["gny-na"]
    v = normalize(to_arrow("gny-na", "f", [record]), {"gny-na": source}).versions.to_pylist()[0]
    assert (v["postal_code"], v["region_code"], v["timezone_source"]) == (None, "NY", "city")


def test_tsml_template_columns() -> None:
    assert {"group_notes", "district", "website", "conference_url_notes"} <= {
        f.record for f in tsml_csv.FIELDS if f.record}  # fmt: skip
