"""The formats of the demo release, validated against their specs: the manifest's checksums, Meeting Guide
JSON (the spec's rules), Open Referral HSDS 3 (the official JSON Schemas and ``frictionless validate``), GeoJSON,
CSV, the regions and the release page."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import jsonschema
import pyarrow.parquet as pq
import pytest
from frictionless import Package

from tests.conftest import REPO
from transforms.regions import load_regions
from warehouse.exporters import hsds, meeting_guide
from warehouse.publish import PUBLISHED_COLUMNS

SPEC_TYPES = set(json.loads((REPO / "tests" / "fixtures" / "normalize" / "spec_types.json").read_text()))
MG_SCHEMA = REPO / "tests" / "fixtures" / "meeting_guide" / "meeting-guide.schema.json"
HSDS_SCHEMAS = Path(hsds.__file__).parent / "hsds_schema"
DEMO_STATES = ["alaska", "california", "connecticut", "delaware", "massachusetts", "minnesota", "new-hampshire",
               "new-jersey", "new-york", "pennsylvania", "vermont", "virginia", "washington", "wisconsin"]  # fmt: skip
"""The states the demo's meetings are in: each gets its region without configuration."""
REGIONS = [*DEMO_STATES, "online", *(r.id for r in load_regions(REPO / "regions"))]
BOROUGHS = {"Manhattan", "Bronx", "Brooklyn", "Queens", "Staten Island"}
CONTACT_FIELD = re.compile(r"contact_[123]_")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[a-z]{2,}", re.IGNORECASE)
VALIDATED_SCOPE = "regions/pennsylvania/hsds"
"""HSDS rows validated one by one with jsonschema (every scope has the same shape; one keeps the test fast)."""
HSDS_EMPTY_TABLES = {"program", "contact"}
"""Written with their header only: the package's foreign keys name them, and no meeting has a row in them."""


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def parquet_rows(path: Path, columns: list[str] | None = None) -> list[dict[str, Any]]:
    return pq.read_table(path, columns=columns).to_pylist()


@pytest.fixture(scope="module")
def manifest(demo_release: Path) -> dict[str, Any]:
    return read_json(demo_release / "manifest.json")


# --- manifest -------------------------------------------------------------------------------------------


def test_every_file_matches_its_manifest_checksum_and_size(demo_release: Path, manifest):
    for entry in manifest["files"]:
        data = (demo_release / entry["path"]).read_bytes()
        assert (hashlib.sha256(data).hexdigest(), len(data)) == (entry["sha256"], entry["bytes"]), entry["path"]


def test_the_manifest_lists_every_file_of_the_release(demo_release: Path, manifest):
    on_disk = {p.relative_to(demo_release).as_posix() for p in demo_release.rglob("*") if p.is_file()}
    assert on_disk - {f["path"] for f in manifest["files"]} <= {"manifest.json", "clearinghouse.duckdb"}


def test_the_manifest_follows_the_release_contract(manifest):
    assert {"release_id", "created_at", "schema_version", "sources", "counts", "files", "quality"} <= set(manifest)
    assert all({"path", "sha256", "bytes", "rows"} <= set(f) for f in manifest["files"])
    assert {s["status"] for s in manifest["sources"]} <= {"ok", "unchanged", "failed", "held", "stale", "link_only"}
    assert manifest["quality"]["status"] in ("passed", "warning")
    assert set(manifest["counts"]["regions"]) == set(REGIONS)


def test_every_demo_region_has_meetings(manifest):
    assert all(n > 0 for n in manifest["counts"]["regions"].values())


# --- meetings.parquet / csv / geojson ------------------------------------------------------------------------


@pytest.mark.parametrize("folder", ["", *(f"regions/{r}/" for r in REGIONS)])
def test_parquet_csv_geojson_and_meeting_guide_hold_the_same_meetings(demo_release: Path, folder: str):
    ids = [r["meeting_id"] for r in parquet_rows(demo_release / f"{folder}meetings.parquet", ["meeting_id"])]
    with (demo_release / f"{folder}meetings.csv").open(newline="") as f:
        assert [row["meeting_id"] for row in csv.DictReader(f)] == ids
    assert [f["id"] for f in read_json(demo_release / f"{folder}meetings.geojson")["features"]] == ids
    guide = "meeting-guide.json" if not folder else f"meeting-guide/{folder.split('/')[1]}.json"
    assert [m["slug"] for m in read_json(demo_release / guide)] == ids
    assert len(ids) == len(set(ids)) > 0


def test_meeting_files_have_the_published_columns(demo_release: Path):
    assert pq.read_schema(demo_release / "meetings.parquet").names == PUBLISHED_COLUMNS
    with (demo_release / "meetings.csv").open(newline="") as f:
        assert next(csv.reader(f)) == PUBLISHED_COLUMNS


def test_each_meeting_names_its_source_records(demo_release: Path):
    sources = [r["sources"] for r in parquet_rows(demo_release / "meetings.parquet", ["sources"])]
    assert all(s and all(p["source_id"] and p["source_key"] for p in s) for s in sources)


def test_region_files_hold_the_meetings_that_carry_the_region(demo_release: Path):
    whole = parquet_rows(demo_release / "meetings.parquet", ["meeting_id", "regions"])
    for region in REGIONS:
        expected = {r["meeting_id"] for r in whole if region in r["regions"]}
        ids = {
            r["meeting_id"] for r in parquet_rows(demo_release / f"regions/{region}/meetings.parquet", ["meeting_id"])
        }
        assert ids == expected, region


def test_csv_cells_are_flat_lists_are_json_and_times_iso(demo_release: Path):
    with (demo_release / "meetings.csv").open(newline="") as f:
        row = next(csv.DictReader(f))
    assert json.loads(row["sources"])[0]["source_id"]
    assert isinstance(json.loads(row["types"]), list)
    assert row["first_seen"].endswith("Z") and "T" in row["first_seen"]


def test_geojson_points_are_longitude_then_latitude(demo_release: Path):
    rows = parquet_rows(demo_release / "meetings.parquet", ["meeting_id", "latitude", "longitude"])
    coordinates = {r["meeting_id"]: (r["longitude"], r["latitude"]) for r in rows}
    collection = read_json(demo_release / "meetings.geojson")
    assert collection["type"] == "FeatureCollection"
    for feature in collection["features"]:
        lon, lat = coordinates[feature["id"]]
        if lat is None:
            assert feature["geometry"] is None
        else:
            assert feature["geometry"] == {"type": "Point", "coordinates": [lon, lat]}
        assert feature["properties"]["meeting_id"] == feature["id"]


# --- Meeting Guide ---------------------------------------------------------------------------------------


@cache
def mg_validator() -> jsonschema.Validator:
    schema = read_json(MG_SCHEMA)
    schema["items"]["properties"]["types"]["items"]["enum"] = sorted(SPEC_TYPES)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("name", ["meeting-guide.json", *(f"meeting-guide/{r}.json" for r in REGIONS)])
def test_meeting_guide_feeds_follow_the_spec(demo_release: Path, name: str):
    feed = read_json(demo_release / name)
    errors = [f"{list(e.path)}: {e.message}" for e in mg_validator().iter_errors(feed)]
    assert errors == []
    slugs = [m["slug"] for m in feed]
    assert len(slugs) == len(set(slugs))


def test_meeting_guide_days_count_from_sunday_and_times_are_the_local_start(demo_release: Path):
    rows = {r["meeting_id"]: r for r in parquet_rows(demo_release / "meetings.parquet",
                                                     ["meeting_id", "weekday", "start_time"])}  # fmt: skip
    feed = read_json(demo_release / "meeting-guide.json")
    for m in feed:
        row = rows[m["slug"]]
        assert m["day"] == {7: 0}.get(row["weekday"], row["weekday"])
        assert m["time"] == row["start_time"].strftime("%H:%M")
    assert {m["day"] for m in feed} == set(range(7))


def derived_attendance(m: dict[str, Any]) -> str:
    """Attendance as the 12 Step Meeting List (code4recovery/12-step-meeting-list) derives it from a feed entry."""
    online = bool(m.get("conference_url") or m.get("conference_phone"))
    if "TC" in m.get("types", []):
        return "online" if online else "inactive"
    if online:
        return "hybrid" if m["approximate"] == "no" else "online"
    return "in_person" if m["approximate"] == "no" else "inactive"


def test_apps_derive_the_published_attendance_from_the_feed(demo_release: Path):
    feed = read_json(demo_release / "meeting-guide.json")
    located = [m for m in feed if m["attendance_option"] not in ("in_person", "hybrid") or m.get("address")]
    reachable = [m for m in located if m["attendance_option"] not in ("online", "hybrid")
                 or m.get("conference_url") or m.get("conference_phone")]  # fmt: skip
    assert len(reachable) > 0.99 * len(feed)  # the rest lack a street or a way to join (quality warnings)
    assert [m["slug"] for m in reachable if derived_attendance(m) != m["attendance_option"]] == []


def test_canonical_attributes_map_back_to_the_spec_codes_that_say_them():
    codes = meeting_guide.spec_codes()
    assert set(codes.values()) <= SPEC_TYPES
    assert (codes["t:step"], codes["t:meditation"], codes["t:women"], codes["oc:closed"]) == ("ST", "MED", "W", "C")
    assert (codes["l:es"], codes["a:wheelchair"], codes["t:gay"], codes["t:lgbtq"]) == ("S", "X", "G", "LGBTQ")


OFFICIAL_CONTACTS = ("entity_email", "feedback_url")
"""The only published fields an e-mail address may be in: the service entity's official contacts."""


def _without_official_contacts(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_official_contacts(v) for k, v in value.items() if k not in OFFICIAL_CONTACTS}
    if isinstance(value, list):
        return [_without_official_contacts(v) for v in value]
    return value


def test_no_contact_field_or_personal_e_mail_address_in_any_published_file(demo_release: Path, manifest):
    """No ``contact_N_*`` anywhere; e-mail addresses only as the entity's official contacts (NEPA's feed gives
    ``entity_email`` for every meeting, so the test would find nothing to allow if that broke)."""
    official = 0
    for entry in manifest["files"]:  # (datapackage.json: the official schemas, with their examples)
        path = demo_release / entry["path"]
        if not entry["path"].endswith((".json", ".csv", ".geojson", ".html")) or "datapackage" in entry["path"]:
            continue
        text = path.read_text()
        assert not CONTACT_FIELD.search(text), entry["path"]
        if entry["path"].endswith((".json", ".geojson")):
            data = json.loads(text)
            official += bool(EMAIL.search(json.dumps(data))) and not EMAIL.search(
                json.dumps(_without_official_contacts(data))
            )
            assert not EMAIL.search(json.dumps(_without_official_contacts(data))), entry["path"]
        elif entry["path"].endswith(".csv"):
            rows = list(csv.DictReader(io.StringIO(text)))
            assert not EMAIL.search(json.dumps(_without_official_contacts(rows))), entry["path"]
        else:
            assert not EMAIL.search(text), entry["path"]
    assert official, "no file carries the entities' official e-mail addresses"


# --- HSDS ------------------------------------------------------------------------------------------------


@cache
def tabular_schemas() -> dict[str, dict[str, Any]]:
    return read_json(HSDS_SCHEMAS / "tabular.json")["properties"]


def typed(table: str, row: dict[str, str]) -> dict[str, Any]:
    """A CSV row as JSON: numbers as numbers (the datapackage's field types), empty cells left out unless the
    field is required (a CSV cannot tell an empty string from a missing value: an address whose postal code
    is unknown has an empty one)."""
    item = tabular_schemas()[table]["items"]
    numbers = {f["name"] for f in hsds.resource(table)["schema"]["fields"] if f["type"] in ("number", "integer")}
    return {k: float(v) if k in numbers else v for k, v in row.items() if v != "" or k in item["required"]}


def read_table(folder: Path, table: str) -> tuple[list[str], list[dict[str, str]]]:
    with (folder / hsds.resource(table)["path"]).open(newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


@pytest.mark.parametrize("table", hsds.TABLES)
def test_hsds_tables_have_the_official_columns_and_valid_rows(demo_release: Path, table: str):
    header, rows = read_table(demo_release / VALIDATED_SCOPE, table)
    assert header == [f["name"] for f in hsds.resource(table)["schema"]["fields"]]
    item = tabular_schemas()[table]["items"]
    validator = jsonschema.Draft202012Validator(item, format_checker=jsonschema.FormatChecker())
    errors = [
        f"{table} row {i}: {e.message}" for i, row in enumerate(rows) for e in validator.iter_errors(typed(table, row))
    ]
    assert errors[:5] == []
    required = item.get("tabular_required", [])
    assert all(row[c] for row in rows for c in required), f"{table}: empty {required}"
    assert len({row["id"] for row in rows}) == len(rows)
    assert (len(rows) == 0) == (table in HSDS_EMPTY_TABLES)


def hsds_packages(release: Path) -> list[Path]:
    return [release / "hsds" / "datapackage.json", *sorted(release.glob("regions/*/hsds/datapackage.json"))]


def test_frictionless_finds_no_error_in_any_hsds_datapackage(demo_release: Path):
    """What a 211 importer runs first: every row of every resource against its schema, and every foreign key."""
    packages = hsds_packages(demo_release)
    assert len(packages) == 1 + len(list((demo_release / "regions").iterdir())) > len(REGIONS)
    for path in packages:
        report = Package(path).validate()
        errors = [f"{t.name}: {e.message}" for t in report.tasks for e in t.errors] + [e.message for e in report.errors]
        assert errors[:5] == [], path.relative_to(demo_release)
        assert report.valid and report.stats["tasks"] == len(hsds.TABLES)


def test_an_address_missing_a_required_part_is_left_out_and_its_location_kept(demo_release: Path):
    folder = demo_release / "hsds"
    addressed = {r["location_id"] for r in read_table(folder, "address")[1]}
    physical = {r["id"] for r in read_table(folder, "location")[1] if r["location_type"] == "physical"}
    meetings = parquet_rows(demo_release / "meetings.parquet", ["address_line", "city", "postal_code", "attendance"])
    partial = [m for m in meetings if m["attendance"] != "online" and m["address_line"] and not m["postal_code"]]
    assert addressed < physical and partial


FOREIGN_KEYS = [
    ("service", "organization_id", "organization"),
    ("service_at_location", "service_id", "service"),
    ("service_at_location", "location_id", "location"),
    ("address", "location_id", "location"),
    ("schedule", "service_id", "service"),
    ("phone", "service_id", "service"),
    ("phone", "location_id", "location"),
    ("language", "service_id", "service"),
    ("attribute", "taxonomy_term_id", "taxonomy_term"),
    ("taxonomy_term", "taxonomy_id", "taxonomy"),
]


@pytest.mark.parametrize("scope", ["hsds", VALIDATED_SCOPE, "regions/online/hsds"])
def test_hsds_references_resolve(demo_release: Path, scope: str):
    folder = demo_release / scope
    ids = {t: {r["id"] for r in read_table(folder, t)[1]} for t in hsds.TABLES}
    for table, column, target in FOREIGN_KEYS:
        assert {r[column] for r in read_table(folder, table)[1] if r[column]} <= ids[target], (table, column)
    linked = {"service": ids["service"], "schedule": ids["schedule"]}
    assert all(r["link_id"] in linked[r["link_entity"]] for r in read_table(folder, "attribute")[1])


def test_hsds_services_json_is_valid_against_the_official_service_schema(demo_release: Path):
    schema = read_json(HSDS_SCHEMAS / "service_with_definitions.json")
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    services = read_json(demo_release / VALIDATED_SCOPE / "services.json")
    errors = [f"{s['name']}: {list(e.path)} {e.message}" for s in services for e in validator.iter_errors(s)]
    assert errors[:5] == []
    assert len(services) == len(read_table(demo_release / VALIDATED_SCOPE, "service")[1])


def test_hsds_schedules_are_weekly_with_the_iana_zone_kept_as_an_attribute(demo_release: Path):
    services = read_json(demo_release / VALIDATED_SCOPE / "services.json")
    schedule = services[0]["schedules"][0]
    assert schedule["freq"] == "WEEKLY" and schedule["byday"] in ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
    assert re.fullmatch(r"\d\d:\d\d:\d\d", schedule["opens_at"])
    assert "timezone" not in schedule  # New York's offset changes twice a year: no single number is right
    assert schedule["description"].endswith(", local time (America/New_York)")
    zone = [a for a in schedule["attributes"] if a["link_type"] == "timezone"]
    assert zone[0]["value"] == "America/New_York"
    terms = {r["id"]: r["code"] for r in read_table(demo_release / VALIDATED_SCOPE, "taxonomy_term")[1]}
    assert terms[zone[0]["taxonomy_term_id"]] == "timezone"
    assert all(terms[a["taxonomy_term_id"]] == a["value"] for a in services[0]["attributes"])


@pytest.mark.parametrize(
    ("zone", "offset"),
    [("America/New_York", None), ("Europe/Berlin", None), ("Australia/Sydney", None), ("America/Phoenix", -7.0),
     ("Pacific/Honolulu", -10.0), ("Asia/Kolkata", 5.5), ("UTC", 0.0)],
)  # fmt: skip
def test_a_schedule_offset_is_written_only_for_zones_without_daylight_saving(zone: str, offset: float | None):
    for now in (datetime(2026, 1, 15, tzinfo=UTC), datetime(2026, 7, 15, tzinfo=UTC)):
        assert hsds.fixed_offset(zone, now) == offset


def test_hsds_schedule_offsets_are_right_in_every_season(demo_release: Path):
    zones = {a["link_id"]: a["value"] for a in read_table(demo_release / "hsds", "attribute")[1]
             if a["link_type"] == "timezone"}  # fmt: skip
    schedules = read_table(demo_release / "hsds", "schedule")[1]
    with_offset = [s for s in schedules if s["timezone"]]
    steady = {z for z in zones.values() if hsds.fixed_offset(z, datetime(2026, 1, 15, tzinfo=UTC)) is not None}
    assert {zones[s["id"]] for s in with_offset} == steady  # an offset only where it holds all year
    assert "America/New_York" in set(zones.values()) - steady
    for day in (datetime(2026, 1, 15, 12, tzinfo=UTC), datetime(2026, 7, 15, 12, tzinfo=UTC)):
        assert all(
            float(s["timezone"]) * 3600 == day.astimezone(ZoneInfo(zones[s["id"]])).utcoffset().total_seconds()
            for s in with_offset
        )
    assert len(zones) == len(schedules)


def test_a_meeting_past_midnight_ends_on_the_next_day(demo_release: Path):
    schedules = read_table(demo_release / "hsds", "schedule")[1]
    overnight = [s for s in schedules if s["closes_at"] and s["closes_at"] < s["opens_at"]]
    assert overnight and all(" – " in s["description"] for s in overnight)
    # GNY NA's "Eleven Alive", Fridays 23:00 for 90 minutes (BMLT duration_time "01:30:00")
    example = next(
        s for s in overnight if (s["byday"], s["opens_at"], s["closes_at"]) == ("FR", "23:00:00", "00:30:00")
    )
    assert example["description"] == "Weekly on Friday 23:00 – Saturday 00:30, local time (America/New_York)"
    assert not any(" – " in s["description"] for s in schedules if s["closes_at"] >= s["opens_at"])


def test_hsds_datapackage_carries_the_official_resource_schemas_and_attribution(demo_release: Path):
    package = read_json(demo_release / "hsds" / "datapackage.json")
    assert [r["name"] for r in package["resources"]] == list(hsds.TABLES)
    assert all(r["schema"] == hsds.resource(r["name"])["schema"] for r in package["resources"])
    assert "Open Referral" in package["sources"][0]["title"]


# --- regional feeds ----------------------------------------------------------------------------------------


def test_every_us_meeting_with_a_state_is_in_its_states_feed(demo_release: Path):
    names = {r["code"]: r["name"] for r in csv.DictReader((REPO / "transforms/data/regions.csv").open())
             if r["country"] == "US"}  # fmt: skip
    rows = parquet_rows(demo_release / "meetings.parquet", ["region_code", "country", "regions", "region_evidence"])
    located = [r for r in rows if r["country"] == "US" and r["region_code"]]
    assert len(located) > 11_000
    assert [r for r in located if names[r["region_code"]].lower().replace(" ", "-") not in r["regions"]] == []
    unplaced = [r for r in rows if not r["regions"]]
    assert len(unplaced) < 20 and {r["region_evidence"] for r in unplaced} == {None}


def test_the_new_york_city_feed_is_labelled_by_borough_and_neighbourhood(demo_release: Path):
    feed = read_json(demo_release / "meeting-guide/new-york-city.json")
    assert len(feed) > 2500 and {m["region"] for m in feed} == BOROUGHS
    assert all(m["regions"] == [m["region"], *([m["sub_region"]] if "sub_region" in m else [])] for m in feed)
    neighbourhoods = {m["sub_region"] for m in feed if m["region"] == "Queens" and "sub_region" in m}
    assert {"Astoria", "Flushing", "Jamaica"} <= neighbourhoods and not neighbourhoods & BOROUGHS


def test_the_whole_feed_labels_meetings_state_first_so_a_region_filter_is_a_tree(demo_release: Path):
    feed = read_json(demo_release / "meeting-guide.json")
    tops = {m["regions"][0] for m in feed if "regions" in m}
    assert {"New York", "California", "Pennsylvania"} <= tops and len(tops) < 20
    state = read_json(demo_release / "meeting-guide/new-york.json")
    assert {"Westchester County", "Brooklyn", "Manhattan"} <= {m["region"] for m in state if "region" in m}


def test_coordinates_that_contradict_the_address_are_not_published_as_the_meetings_point(demo_release: Path):
    rows = [r for r in parquet_rows(demo_release / "meetings.parquet") if r["coordinates_conflict"]]
    port_chester = [r for r in rows if r["postal_code"] == "10573" and r["address_line"] == "55 Parkway Dr"]
    assert len(port_chester) == 1 and "new-york-city" not in port_chester[0]["regions"]
    assert {(r["geo_precision"], r["coordinates_source"], r["region_evidence"]) for r in port_chester} == {
        ("postal", "postal", "postal_code")}  # fmt: skip
    feed = {m["slug"]: m for m in read_json(demo_release / "meeting-guide/new-york.json")}
    assert "latitude" not in feed[port_chester[0]["meeting_id"]]  # a ZIP centroid is not the meeting's place


# --- CHANGES.json and the page ------------------------------------------------------------------------------


def test_the_first_release_adds_every_meeting(demo_release: Path, manifest):
    changes = read_json(demo_release / "CHANGES.json")
    assert changes["previous_release_id"] is None
    assert changes["counts"] == {"added": manifest["counts"]["meetings"], "removed": 0, "changed": 0}


def test_the_release_page_links_every_scope_and_shows_the_quality_and_the_plot(demo_release: Path, manifest):
    page = (demo_release / "index.html").read_text()
    for region in REGIONS:
        assert f'href="meeting-guide/{region}.json"' in page and f'href="regions/{region}/meetings.csv"' in page
    assert manifest["quality"]["status"] in page
    assert (demo_release / "meetings-per-weekday.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_release_page_shows_regions_their_sub_regions_the_unplaced_and_contradictions(demo_release: Path):
    page = (demo_release / "index.html").read_text()
    regions = page.split("<h2>Regions</h2>")[1].split("<h2>Downloads</h2>")[0]
    assert "<code>new-york</code>" in regions and "Manhattan 1" in regions and "Empty regions: none." in regions
    assert "Meetings in no region" in regions and "no_place" in regions and "seattle-aa-monday" in regions
    assert "55 Parkway Dr, Port Chester, NY, 10573" in regions


# --- fidelity of the Meeting Guide feed -----------------------------------------------------------------------


def _with_rows(demo_release: Path) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    rows = {r["meeting_id"]: r for r in parquet_rows(demo_release / "meetings.parquet")}
    return [(m, rows[m["slug"]]) for m in read_json(demo_release / "meeting-guide.json")]


def test_meeting_guide_publishes_only_end_times_the_sources_gave(demo_release: Path):
    pairs = _with_rows(demo_release)
    assert all(("end_time" in m) == (row["end_time_source"] != "none") for m, row in pairs)
    assert sum(1 for _, row in pairs if row["end_time_source"] == "none") > 4000


def test_meeting_guide_updated_is_the_sources_stamp_never_the_release_time(demo_release: Path, manifest):
    pairs = _with_rows(demo_release)
    released = manifest["created_at"][:16].replace("T", " ")
    assert not [m["slug"] for m, _ in pairs if m.get("updated", "")[:16] == released]
    for m, row in pairs:
        stamp = row["source_updated_at"]
        assert m.get("updated") == (stamp.strftime("%Y-%m-%d %H:%M:%S") if stamp else None), m["slug"]


def test_meeting_guide_coordinates_are_the_sources_own(demo_release: Path):
    pairs = _with_rows(demo_release)
    assert all(("latitude" in m) == (row["coordinates_source"] == "source") for m, row in pairs)


def test_hybrid_meetings_are_never_approximate(demo_release: Path):
    feed = read_json(demo_release / "meeting-guide.json")
    assert [m["slug"] for m in feed if m["attendance_option"] == "hybrid" and m["approximate"] == "yes"] == []
    assert all(m["approximate"] == "no" for m in feed if m["attendance_option"] == "in_person")


def test_monthly_meetings_say_so_where_apps_show_it(demo_release: Path):
    pairs = _with_rows(demo_release)
    st_paul = [(m, row) for m, row in pairs if row["sources"][0]["source_id"] == "stpaul-aa"
               and "Only held on the" in (row["notes"] or "")]  # fmt: skip
    assert len(st_paul) == 39
    assert all(m["notes"].startswith("Monthly: ") and m["notes"].endswith(row["notes"]) for m, row in st_paul)
    first = next(m for m, row in st_paul if row["weeks_of_month"] == [1] and row["weekday"] == 6)
    assert first["notes"].startswith("Monthly: first Saturday only.\n")
    weekly = [m for m, row in pairs if row["frequency"] == "weekly"]
    assert not [m["slug"] for m in weekly if (m.get("notes") or "").startswith("Monthly: ")]


def test_a_merged_meeting_ends_when_the_source_that_says_so_says(demo_release: Path):
    """NY Intergroup meeting 1441 (legacy list) ends 13:15; the TSV of the same meeting gives no end."""
    pairs = _with_rows(demo_release)
    [(m, row)] = [(m, row) for m, row in pairs
                  if {"source_id": "nyig-manhattan-05", "source_key": "/meetinglist/getdirections.cfm?meetingid=1441"}
                  in row["sources"]]  # fmt: skip
    assert len(row["sources"]) == 2
    assert (m["time"], m["end_time"], row["end_time_source"]) == ("12:30", "13:15", "source")


def test_meeting_guide_carries_the_spec_fields_the_sources_give(demo_release: Path):
    feed = read_json(demo_release / "meeting-guide.json")
    carried = {key: sum(1 for m in feed if key in m) for key in (
        "conference_url_notes", "conference_phone_notes", "district", "group_notes", "entity", "entity_url",
        "entity_email", "website", "feedback_url")}  # fmt: skip
    # sepia-aa gives feedback_url on 2,038 listings, one of them a meeting it lists twice (published once)
    assert carried["district"] >= 466 and carried["entity"] >= 480 and carried["feedback_url"] >= 2037
    assert all(carried.values()), carried
    assert not [m for m in feed if "contact_1_name" in m or "feedback_emails" in m]


def test_hsds_monthly_meetings_recur_monthly_on_their_weeks(demo_release: Path):
    """St Paul's "Only held on the 3rd Saturday" meetings: MONTHLY with a week-numbered byday, never WEEKLY."""
    schedules = read_table(demo_release / "hsds", "schedule")[1]
    monthly = [s for s in schedules if s["freq"] == "MONTHLY"]
    with duckdb.connect(str(demo_release / "clearinghouse.duckdb"), read_only=True) as con:
        expected = con.sql("SELECT count(*) FROM meetings WHERE frequency = 'monthly'").fetchall()[0][0]
    assert len(monthly) == expected >= 39
    for s in monthly:
        if s["byday"]:
            assert re.fullmatch(r"(?:-1|[1-5])(?:MO|TU|WE|TH|FR|SA|SU)(?:,(?:-1|[1-5])(?:MO|TU|WE|TH|FR|SA|SU))*",
                                s["byday"]), s  # fmt: skip
            assert s["description"].startswith("Monthly on the "), s
        else:
            assert "does not say which week" in s["description"], s
    assert {s["freq"] for s in schedules} == {"WEEKLY", "MONTHLY"}
