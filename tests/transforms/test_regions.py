"""Regions: the YAML rules, their errors, and which meetings fall in each region."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import time
from pathlib import Path

import duckdb
import pytest

from foundation import ids
from foundation.settings import DEFAULT_REGIONS
from tests.transforms.test_resolve import online, record, run
from transforms.regions import RegionError, assign, county_tables, load_regions
from warehouse.db import migrate

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[-74.4, 40.6], [-74.2, 40.6], [-74.2, 40.8], [-74.4, 40.8], [-74.4, 40.6]]],
}


def write(folder: Path, name: str, regions: list[dict]) -> Path:
    path = folder / name
    path.write_text(json.dumps({"regions": regions}))  # JSON is YAML
    return path


@pytest.fixture
def con() -> Iterable[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    migrate(connection)
    yield connection
    connection.close()


def regions_of(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for meeting_id, region_id in con.sql("SELECT meeting_id, region_id FROM core.meeting_regions").fetchall():
        found.setdefault(meeting_id, set()).add(region_id)
    return found


# --- loading ------------------------------------------------------------------------------------------------


def test_a_folder_of_region_files_loads_every_region(tmp_path: Path):
    write(tmp_path, "a.yaml", [{"id": "new-jersey", "name": "New Jersey", "states": ["nj"]}])
    (tmp_path / "square.geojson").write_text(json.dumps({"type": "Feature", "geometry": SQUARE}))
    write(tmp_path, "b.yaml", [{"id": "square", "name": "Square", "polygon": "square.geojson"},
                               {"id": "online", "name": "Online", "online": True}])  # fmt: skip
    regions = {r.id: r for r in load_regions(tmp_path)}
    assert list(regions) == ["new-jersey", "square", "online"]
    assert regions["new-jersey"].states == ("NJ",)
    assert regions["square"].polygon == tmp_path / "square.geojson"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"id": "x", "name": "X", "counties": [36061]}, "counties"),
        ({"id": "x", "name": "X", "counties": ["3606"]}, "five digits"),
        ({"id": "x", "name": "X", "colour": "red", "states": ["NJ"]}, "colour"),
        ({"id": "x", "name": "X"}, "at least one of"),
        ({"id": "Bad Id", "name": "X", "states": ["NJ"]}, "id"),
        ({"id": "x", "name": "X", "polygon": "missing.geojson"}, "polygon"),
    ],
)
def test_a_bad_region_is_an_error_naming_the_file_the_region_and_the_key(tmp_path: Path, entry: dict, message: str):
    path = write(tmp_path, "bad.yaml", [entry])
    with pytest.raises(RegionError) as err:
        load_regions(path)
    assert str(path) in str(err.value) and f"region {entry['id']!r}" in str(err.value)
    assert message in str(err.value)


def test_a_region_id_defined_twice_is_an_error(tmp_path: Path):
    write(tmp_path, "a.yaml", [{"id": "nj", "name": "NJ", "states": ["NJ"]}])
    write(tmp_path, "b.yaml", [{"id": "nj", "name": "NJ again", "zips": ["07081"]}])
    with pytest.raises(RegionError, match="already defined"):
        load_regions(tmp_path)


def test_the_demo_regions_load():
    ids_ = [r.id for r in load_regions(DEFAULT_REGIONS)]
    assert {"pennsylvania", "new-york-city", "california", "massachusetts", "delaware", "minnesota", "online",
            "scranton-wilkes-barre", "santa-clara-valley"} <= set(ids_)  # fmt: skip


# --- counties --------------------------------------------------------------------------------------------


def test_zip_codes_map_to_county_fips_offline():
    _, zips = county_tables()
    county = dict(zip(zips["postal_code"].to_pylist(), zips["fips"].to_pylist(), strict=True))
    assert county["18503"] == "42069"  # Scranton, Lackawanna County PA
    assert county["10025"] == "36061"  # Manhattan: "New York County" in the ZIP table
    assert county["11201"] == "36047"  # Brooklyn: Kings County
    assert county["99501"] == "02020"  # Anchorage: the ZIP table's "Municipality of Anchorage"
    assert len(county) > 41_000


# --- assignment ------------------------------------------------------------------------------------------


def test_a_meeting_belongs_to_every_region_it_falls_in(con, tmp_path: Path):
    (tmp_path / "square.geojson").write_text(json.dumps(SQUARE))
    path = write(tmp_path, "r.yaml", [
        {"id": "new-jersey", "name": "NJ", "states": ["NJ"]},
        {"id": "union-county", "name": "Union County", "counties": ["34039"]},
        {"id": "springfield", "name": "Springfield", "zips": ["07081"]},
        {"id": "square", "name": "Square", "polygon": "square.geojson"},
        {"id": "pennsylvania", "name": "PA", "states": ["PA"]},
    ])  # fmt: skip
    run(con, [record("a", "x")])  # Springfield NJ 07081 (Union County), 40.706 −74.321
    counts = assign(con, load_regions(path))
    assert regions_of(con) == {ids.meeting_id("a", "x"): {"new-jersey", "union-county", "springfield", "square"}}
    assert counts["pennsylvania"] == 0


def test_online_meetings_go_to_the_online_region_and_to_their_home_region_when_they_have_one(con, tmp_path: Path):
    path = write(tmp_path, "r.yaml", [{"id": "online", "name": "Online", "online": True},
                                      {"id": "new-jersey", "name": "NJ", "states": ["NJ"]}])  # fmt: skip
    run(con, [online("a", "home", "81234567890", region_code="NJ"),
              online("a", "nowhere", "89999999999", region_code=None, start_time=time(8, 0)),
              record("a", "hall", start_time=time(12, 0))])  # fmt: skip
    assign(con, load_regions(path))
    assert regions_of(con) == {
        ids.meeting_id("a", "home"): {"online", "new-jersey"},
        ids.meeting_id("a", "nowhere"): {"online"},
        ids.meeting_id("a", "hall"): {"new-jersey"},
    }


def test_a_state_rule_holds_only_in_its_country(con, tmp_path: Path):
    path = write(tmp_path, "r.yaml", [{"id": "wa", "name": "Western Australia", "country": "AU", "states": ["WA"]}])
    run(con, [record("a", "x", region_code="WA", postal_code="98101")])
    assert assign(con, load_regions(path)) == {"wa": 0}


def test_assigning_again_replaces_the_previous_assignment(con, tmp_path: Path):
    run(con, [record("a", "x")])
    assign(con, load_regions(write(tmp_path, "a.yaml", [{"id": "nj", "name": "NJ", "states": ["NJ"]}])))
    assign(con, load_regions(write(tmp_path, "b.yaml", [{"id": "zip", "name": "Z", "zips": ["07081"]}])))
    assert regions_of(con) == {ids.meeting_id("a", "x"): {"zip"}}
