"""Regions: the YAML rules and their errors, automatic regions, where a meeting is and from which evidence
(each evidence path on real records), New York City by borough, contradicted coordinates, feed labels."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from datetime import time
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from extractors.html import intergroup_custom, intergroup_table
from extractors.records import to_arrow
from foundation import ids
from foundation.settings import DEFAULT_REGIONS
from foundation.source import Source
from tests.extractors.html.pages import one_page, read
from tests.transforms import realdata
from tests.transforms.test_resolve import online, record, run
from transforms import regions as regions_module
from transforms.county_shapes import counties_at, distance_km
from transforms.normalize import normalize
from transforms.regions import (
    CONFLICT_KM,
    MEETINGS_SQL,
    Assignment,
    Region,
    RegionError,
    SourceLabel,
    SourceLabels,
    assign,
    county_tables,
    load_regions,
    load_source_labels,
    slug,
)
from warehouse import operator_report
from warehouse.db import migrate

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[-74.4, 40.6], [-74.2, 40.6], [-74.2, 40.8], [-74.4, 40.8], [-74.4, 40.6]]],
}
BOROUGHS = {"Manhattan", "Bronx", "Brooklyn", "Queens", "Staten Island"}


def write(folder: Path, name: str, regions: list[dict], **more: Any) -> Path:
    path = folder / name
    path.write_text(json.dumps({"regions": regions, **more}))  # JSON is YAML
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


def test_a_folder_of_region_files_loads_every_region_and_the_source_labels(tmp_path: Path):
    write(tmp_path, "a.yaml", [{"id": "jersey-shore", "name": "Jersey Shore", "states": ["nj"],
                               "cities": ["Asbury Park, NJ"]}])  # fmt: skip
    (tmp_path / "square.geojson").write_text(json.dumps({"type": "Feature", "geometry": SQUARE}))
    write(tmp_path, "b.yaml", [{"id": "square", "name": "Square", "polygon": "square.geojson",
                                "sub_regions": [{"name": "Half", "polygon": "square.geojson"}]}],
          source_labels={"src": {"E": {"state": "NJ", "counties": ["34039"], "name": "Union"}}})  # fmt: skip
    regions = {r.id: r for r in load_regions(tmp_path)}
    assert list(regions) == ["jersey-shore", "square"]
    assert regions["jersey-shore"].states == ("NJ",)
    assert regions["jersey-shore"].city_keys() == {("NJ", "ASBURY PARK")}
    assert regions["square"].polygon == regions["square"].sub_regions[0].polygon == tmp_path / "square.geojson"
    label = load_source_labels(tmp_path)[("src", "E")]
    assert (label.state, label.counties, label.name) == ("NJ", ("34039",), "Union")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"id": "x", "name": "X", "counties": [36061]}, "counties"),
        ({"id": "x", "name": "X", "counties": ["3606"]}, "five digits"),
        ({"id": "x", "name": "X", "colour": "red", "states": ["NJ"]}, "colour"),
        ({"id": "x", "name": "X"}, "at least one of"),
        ({"id": "Bad Id", "name": "X", "states": ["NJ"]}, "id"),
        ({"id": "x", "name": "X", "polygon": "missing.geojson"}, "polygon"),
        ({"id": "x", "name": "X", "cities": ["Queens"]}, "City, ST"),
        ({"id": "x", "name": "X", "sub_regions": [{"name": "Empty"}]}, "needs at least one of"),
        ({"id": "x", "name": "X", "sub_regions": [{"name": "A", "zips": ["10001"]}, {"name": "A", "zips": ["10002"]}]},
         "unique"),
        ({"id": "x", "name": "X", "kind": "state", "states": ["NJ"]}, "kind"),
    ],
)  # fmt: skip
def test_a_bad_region_is_an_error_naming_the_file_the_region_and_the_key(tmp_path: Path, entry: dict, message: str):
    path = write(tmp_path, "bad.yaml", [entry])
    with pytest.raises(RegionError) as err:
        load_regions(path)
    assert str(path) in str(err.value) and f"region {entry['id']!r}" in str(err.value)
    assert message in str(err.value)


def test_a_bad_source_label_is_an_error_naming_the_file_the_source_and_the_label(tmp_path: Path):
    path = write(tmp_path, "labels.yaml", [], source_labels={"nyc-aa": {"BK": {"state": "New York"}}})
    with pytest.raises(RegionError, match=r"labels.yaml: source_labels: nyc-aa: BK: state"):
        load_source_labels(path)


def test_a_region_id_defined_twice_is_an_error(tmp_path: Path):
    write(tmp_path, "a.yaml", [{"id": "nj", "name": "NJ", "states": ["NJ"]}])
    write(tmp_path, "b.yaml", [{"id": "nj", "name": "NJ again", "zips": ["07081"]}])
    with pytest.raises(RegionError, match="already defined"):
        load_regions(tmp_path)


def test_the_demo_regions_are_new_york_city_by_borough_and_two_metros_on_top_of_the_automatic_ones():
    regions = {r.id: r for r in load_regions(DEFAULT_REGIONS)}
    assert set(regions) == {"new-york-city", "scranton-wilkes-barre", "santa-clara-valley"}
    boroughs = {s.name: s.counties for s in regions["new-york-city"].sub_regions}
    assert boroughs == {"Manhattan": ("36061",), "Bronx": ("36005",), "Brooklyn": ("36047",),
                        "Queens": ("36081",), "Staten Island": ("36085",)}  # fmt: skip


def test_the_new_york_intergroup_codes_name_the_counties_its_own_addresses_are_in(real_nyc: pa.Table):
    """Every code of the source's region column is checked against the rows that also give a city the
    gazetteer knows: the operator's reading of the codes is what the source's own addresses say."""
    from transforms.gazetteer import city_place

    labels = load_source_labels(DEFAULT_REGIONS)
    agree: dict[str, list[bool]] = {}
    for row in real_nyc.to_pylist():
        place = city_place(row["city"], row["region_code"], "US")
        if row["source_regions"] and place:
            label = labels[("nyc-aa", row["source_regions"][0])]
            fits = row["region_code"] == label.state and (not label.counties or place.counties & set(label.counties))
            agree.setdefault(row["source_regions"][0], []).append(bool(fits))
    assert set(agree) == {code for source, code in labels if source == "nyc-aa"}
    assert {code: sum(fits) / len(fits) > 0.95 for code, fits in agree.items()} == dict.fromkeys(agree, True)


# --- counties from coordinates ------------------------------------------------------------------------------


def test_zip_codes_map_to_county_fips_offline():
    _, zips = county_tables()
    county = dict(zip(zips["postal_code"].to_pylist(), zips["fips"].to_pylist(), strict=True))
    assert county["18503"] == "42069"  # Scranton, Lackawanna County PA
    assert county["10025"] == "36061"  # Manhattan: "New York County" in the ZIP table
    assert county["11201"] == "36047"  # Brooklyn: Kings County
    assert county["99501"] == "02020"  # Anchorage: the ZIP table's "Municipality of Anchorage"
    assert len(county) > 41_000


def test_coordinates_give_their_county_offline():
    points = [(-73.900094, 40.823228),  # gny-na 664's point: the Bronx (its address is Port Chester)
              (-74.168068, 40.552899),  # gny-na 660's point: Staten Island (its address is New Rochelle)
              (-73.7864, 40.8468),      # City Island, off the generalized Bronx outline: the nearest county
              (-118.2437, 34.0522),     # Los Angeles
              (-0.1276, 51.5072)]  # London: no US county  # fmt: skip
    assert counties_at(*zip(*points, strict=True)) == ["36005", "36085", "36005", "06037", None]
    assert distance_km(-74.168068, 40.552899, ["36119"]) > 40  # Staten Island is far from Westchester
    assert distance_km(-73.98, 40.75, ["36061"]) == 0


# --- assignment ------------------------------------------------------------------------------------------


def test_a_meeting_belongs_to_every_region_it_falls_in(con, tmp_path: Path):
    (tmp_path / "square.geojson").write_text(json.dumps(SQUARE))
    path = write(tmp_path, "r.yaml", [
        {"id": "union-county", "name": "Union County", "counties": ["34039"]},
        {"id": "springfield", "name": "Springfield", "zips": ["07081"]},
        {"id": "square", "name": "Square", "polygon": "square.geojson"},
        {"id": "pennsylvania", "name": "PA", "states": ["PA"]},
    ])  # fmt: skip
    run(con, [record("a", "x")])  # Springfield NJ 07081 (Union County), 40.706 −74.321
    assigned = assign(con, load_regions(path))
    assert regions_of(con) == {
        ids.meeting_id("a", "x"): {"new-jersey", "union-county", "springfield", "square"}
    }  # fmt: skip
    assert assigned.counts["pennsylvania"] == 0 and assigned.evidence == {"coordinates": 1}


def test_every_state_present_gets_a_region_named_after_it_and_online_meetings_get_theirs(con):
    run(con, [online("a", "home", "81234567890", region_code="NJ"),
              online("a", "nowhere", "89999999999", region_code=None, start_time=time(8, 0)),
              record("a", "hall", start_time=time(12, 0)),
              record("a", "juneau", region_code="AK", city="Juneau", postal_code="99801", latitude=58.30,
                     longitude=-134.42, start_time=time(13, 0)),
              record("a", "ponce", region_code="PR", city="Ponce", postal_code="00716", latitude=18.01,
                     longitude=-66.61, start_time=time(14, 0))])  # fmt: skip
    assigned = assign(con, [])
    assert [(r.id, r.name, r.kind) for r in assigned.regions] == [
        ("alaska", "Alaska", "state"), ("new-jersey", "New Jersey", "state"),
        ("puerto-rico", "Puerto Rico", "state"), ("online", "Online meetings", "online")]  # fmt: skip
    assert regions_of(con) == {
        ids.meeting_id("a", "home"): {"online", "new-jersey"},
        ids.meeting_id("a", "nowhere"): {"online"},
        ids.meeting_id("a", "hall"): {"new-jersey"},
        ids.meeting_id("a", "juneau"): {"alaska"},
        ids.meeting_id("a", "ponce"): {"puerto-rico"},
    }


def test_outside_the_us_a_region_per_province_or_per_country(con):
    run(con, [record("a", "toronto", country="CA", region_code="ON", city="Toronto", postal_code="M5V 2T6",
                     latitude=43.64, longitude=-79.39, timezone="America/Toronto"),
              record("a", "berlin", country="DE", region_code=None, city="Berlin", postal_code="10115",
                     latitude=52.53, longitude=13.38, timezone="Europe/Berlin", start_time=time(9, 0))])  # fmt: skip
    assigned = assign(con, [])
    assert [(r.id, r.name) for r in assigned.regions] == [("canada-ontario", "Ontario, Canada"),
                                                          ("germany", "Germany")]  # fmt: skip
    labels = dict(con.sql("SELECT meeting_id, labels FROM core.meeting_places").fetchall())
    assert labels[ids.meeting_id("a", "toronto")] == ["Canada", "Ontario", "Toronto"]


def test_an_operator_region_with_an_automatic_id_replaces_it(con, tmp_path: Path):
    run(con, [record("a", "x")])
    path = write(tmp_path, "r.yaml", [{"id": "new-jersey", "name": "North Jersey", "counties": ["34013"]}])
    assigned = assign(con, load_regions(path))
    assert [(r.id, r.name, r.kind) for r in assigned.regions] == [("new-jersey", "North Jersey", "operator")]
    assert assigned.counts == {"new-jersey": 0}
    assert con.sql("SELECT unplaced FROM core.meeting_places").fetchall() == [("unknown_place",)]


def test_a_state_rule_holds_only_in_its_country(con, tmp_path: Path):
    path = write(tmp_path, "r.yaml", [{"id": "wa", "name": "Western Australia", "country": "AU", "states": ["WA"]}])
    run(con, [record("a", "x", region_code="WA", postal_code="98101", latitude=47.61, longitude=-122.33)])
    assert assign(con, load_regions(path)).counts == {"washington": 1, "wa": 0}


def test_assigning_again_replaces_the_previous_assignment(con, tmp_path: Path):
    run(con, [record("a", "x")])
    assign(con, load_regions(write(tmp_path, "a.yaml", [{"id": "nj", "name": "NJ", "states": ["NJ"]}])))
    assign(con, load_regions(write(tmp_path, "b.yaml", [{"id": "zip", "name": "Z", "zips": ["07081"]}])))
    assert regions_of(con) == {ids.meeting_id("a", "x"): {"zip", "new-jersey"}}
    assert con.sql("SELECT count(*) FROM core.meeting_places").fetchall() == [(1,)]


def test_a_meeting_with_no_place_is_in_no_region_and_says_why(con):
    run(con, [record("a", "x", venue_name=None, address_line=None, city=None, region_code=None, postal_code=None,
                     latitude=None, longitude=None, geo_precision="none", coordinates_source="none")])  # fmt: skip
    assigned = assign(con, [])
    assert assigned.unplaced == {"no_place": 1} and assigned.regions == []
    assert con.sql("SELECT region_evidence, unplaced FROM core.meeting_places").fetchall() == [(None, "no_place")]


def test_a_city_list_holds_for_meetings_located_by_their_city_only(con, tmp_path: Path):
    path = write(tmp_path, "r.yaml", [{"id": "queens", "name": "Queens", "cities": ["Queens, NY"]}])
    place = {"city": "Queens", "region_code": "NY", "postal_code": None, "timezone": "America/New_York"}
    run(con, [record("a", "by-city", latitude=None, longitude=None, coordinates_source="none", **place),
              record("a", "by-point", start_time=time(9, 0), latitude=40.75, longitude=-73.98, **place)])  # fmt: skip
    assign(con, load_regions(path))
    assert regions_of(con) == {ids.meeting_id("a", "by-city"): {"queens", "new-york"},
                               ids.meeting_id("a", "by-point"): {"new-york"}}  # its point is in Manhattan  # fmt: skip


# --- real records: each evidence path, New York City, contradictions, labels ------------------------------

REAL = ("gny-na", "nyc-aa")
HTML = {
    "stpaul-aa": (intergroup_custom, "intergroup_custom", "aastpaul_meeting_directory_2016.html", "MN",
                  "America/Chicago"),
    "seattle-aa-monday": (intergroup_table, "intergroup_table", "seattleaa_monday_2012.html", "WA",
                          "America/Los_Angeles"),
}  # fmt: skip
"""Pages without a feed (Saint Paul's gives ZIP codes and no coordinates, Seattle's many rows with no town),
registered as in the demo registry (its ``region`` and ``timezone``)."""


@cache
def _real_versions() -> pa.Table:
    sources = dict(realdata.SOURCES)
    tables = [realdata.staging(*REAL)]
    for source_id, (family, folder, page, region, timezone) in HTML.items():
        source = Source(id=source_id, name=source_id, fellowship="AA", kind=f"html:{folder}",
                        url=f"https://{source_id}.example.org/", timezone=timezone, region=region)  # fmt: skip
        sources[source_id] = source
        tables.append(to_arrow(source_id, f"{source_id}@test", family.parse(one_page(source.url, read(folder, page)))))
    return normalize(pa.concat_tables(tables), sources).versions


@pytest.fixture(scope="module")
def real_nyc() -> pa.Table:
    versions = _real_versions()
    return versions.filter(pc.equal(versions["source_id"], "nyc-aa"))


@pytest.fixture(scope="module")
def placed() -> Iterable[duckdb.DuckDBPyConnection]:
    """The real records of New York (NA's BMLT server, the Intergroup's export), Saint Paul and Seattle,
    resolved and placed with the demo regions and source labels."""
    connection = duckdb.connect()
    migrate(connection)
    run(connection, _real_versions().to_pylist())
    assign(connection, load_regions(DEFAULT_REGIONS), load_source_labels(DEFAULT_REGIONS))
    yield connection
    connection.close()


def where(con: duckdb.DuckDBPyConnection, source_id: str, source_key: str) -> dict[str, Any]:
    """The place, regions and labels of the meeting a real record became."""
    relation = con.sql(
        """SELECT m.city, m.region_code, m.postal_code, m.coordinates_source, m.source_regions, p.*,
                  (SELECT map(list(region_id), list(labels)) FROM core.meeting_regions r
                   WHERE r.meeting_id = p.meeting_id) AS feeds,
                  (SELECT map(list(region_id), list(sub_region)) FROM core.meeting_regions r
                   WHERE r.meeting_id = p.meeting_id) AS subs
           FROM core.meeting_links l JOIN core.meetings m USING (meeting_id)
           JOIN core.meeting_places p USING (meeting_id)
           WHERE l.source_id = $s AND l.source_key = $k""",
        params={"s": source_id, "k": source_key},
    )
    return dict(zip(relation.columns, relation.fetchall()[0], strict=True))


def test_coordinates_place_a_meeting_whose_city_says_new_york_in_the_bronx(placed):
    """NA's server writes "New York" for every borough and no ZIP code; its point is in the Bronx."""
    meeting = where(placed, "gny-na", "66")
    assert (meeting["city"], meeting["postal_code"], meeting["coordinates_source"]) == ("New York", None, "source")
    assert (meeting["region_evidence"], meeting["county"], meeting["coordinates_conflict"]) == (
        "coordinates", "36005", False)  # fmt: skip
    assert meeting["subs"]["new-york-city"] == "Bronx"
    assert meeting["feeds"] == {"new-york": ["Bronx", "Mott Haven"], "new-york-city": ["Bronx", "Mott Haven"]}
    assert meeting["labels"] == ["New York", "Bronx", "Mott Haven"]


@pytest.mark.parametrize(
    ("key", "address", "county", "label"),
    [("660", ("New Rochelle", "10801"), "36119", ["Westchester County", "New Rochelle"]),
     ("664", ("Port Chester", "10573"), "36119", ["Westchester County", "Port Chester"]),
     ("275", ("New York", "11232"), "36047", ["Brooklyn", "Sunset Park"])],
)  # fmt: skip
def test_coordinates_that_contradict_the_address_are_flagged_and_the_address_wins(placed, key, address, county, label):
    """Rooftop points of Westchester addresses that lie in the Bronx and on Staten Island; a Sunset Park
    (Brooklyn) address whose point is in Queens."""
    meeting = where(placed, "gny-na", key)
    assert (meeting["city"], meeting["postal_code"]) == address
    assert meeting["coordinates_conflict"] and meeting["conflict_km"] > CONFLICT_KM
    assert meeting["coordinates_county"] in {"36005", "36085", "36081"}  # where the point lies: in the city
    assert (meeting["region_evidence"], meeting["county"]) == ("postal_code", county)
    assert ("new-york-city" in meeting["feeds"]) == (county == "36047")
    assert meeting["feeds"]["new-york"] == label
    assert meeting["address_latitude"] is not None  # the ZIP centroid is published instead of the point


def test_a_postal_code_places_a_meeting_without_coordinates(placed):
    meeting = where(placed, "stpaul-aa", "56552")
    assert (meeting["city"], meeting["postal_code"], meeting["coordinates_source"]) == ("Saint Paul", "55102",
                                                                                        "postal")  # fmt: skip
    assert (meeting["region_evidence"], meeting["county"]) == ("postal_code", "27123")  # Ramsey County
    assert meeting["feeds"] == {"minnesota": ["Ramsey County", "Saint Paul"]}


def test_a_city_places_a_meeting_without_postal_code_or_coordinates_queens_names_its_neighbourhoods(placed):
    astoria = next(r for r in _real_versions().to_pylist() if r["source_id"] == "nyc-aa" and r["city"] == "Astoria")
    meeting = where(placed, "nyc-aa", astoria["source_key"])
    assert (meeting["postal_code"], meeting["coordinates_source"], meeting["source_regions"]) == (None, "none",
                                                                                                  ["Q"])  # fmt: skip
    assert (meeting["region_evidence"], meeting["county"]) == ("city", "36081")
    assert meeting["feeds"] == {"new-york": ["Queens", "Astoria"], "new-york-city": ["Queens", "Astoria"]}


def test_a_city_in_two_boroughs_takes_the_borough_its_source_label_names(placed):
    """The ZIP codes named Jamaica lie in Queens and Brooklyn; the Intergroup files the meeting under Q."""
    jamaica = next(r for r in _real_versions().to_pylist() if r["source_id"] == "nyc-aa" and r["city"] == "Jamaica")
    meeting = where(placed, "nyc-aa", jamaica["source_key"])
    assert (meeting["region_evidence"], meeting["county"]) == ("city", "36081")
    assert meeting["subs"] == {"new-york": None, "new-york-city": "Queens"}


@pytest.mark.parametrize(
    ("code", "feeds", "state"),
    [("BK", {"new-york": ["Brooklyn"], "new-york-city": ["Brooklyn"]}, "NY"),
     ("PD", {"new-york": ["Putnam and Dutchess"]}, "NY"),
     ("C", {"connecticut": []}, "CT")],
)  # fmt: skip
def test_the_source_region_label_places_a_row_that_gives_no_town(placed, code, feeds, state):
    """Rows of the Intergroup's export with a street and its region code only (no city, state or ZIP)."""
    row = next(r for r in _real_versions().to_pylist()
               if r["source_id"] == "nyc-aa" and r["source_regions"] == [code] and r["city"] is None)  # fmt: skip
    meeting = where(placed, "nyc-aa", row["source_key"])
    assert (meeting["region_code"], meeting["region_evidence"], meeting["state"]) == (None, "source_region", state)
    assert meeting["feeds"] == feeds


def test_a_state_alone_places_a_meeting_in_its_state_and_nothing_places_it_nowhere(placed):
    rows = [r for r in _real_versions().to_pylist() if r["source_id"] == "seattle-aa-monday" and not r["city"]]
    by_state = where(placed, "seattle-aa-monday", next(r["source_key"] for r in rows if r["region_code"] == "WA"))
    assert (by_state["region_evidence"], by_state["feeds"]) == ("state", {"washington": []})
    nowhere = where(placed, "seattle-aa-monday", next(r["source_key"] for r in rows if not r["region_code"]))
    assert (nowhere["region_evidence"], nowhere["unplaced"], nowhere["feeds"]) == (None, "no_place", None)


def test_every_real_meeting_whose_city_is_a_borough_is_in_new_york_city_labelled_by_borough(placed):
    rows = placed.sql(
        """SELECT m.city, r.sub_region, r.labels FROM core.meetings m
           LEFT JOIN core.meeting_regions r ON r.meeting_id = m.meeting_id AND r.region_id = 'new-york-city'
           WHERE m.region_code = 'NY' AND m.city IN ('New York', 'Manhattan', 'Brooklyn', 'Bronx', 'Queens',
                                                     'Staten Island')"""
    ).fetchall()
    assert len(rows) > 1500
    assert [r for r in rows if r[1] not in BOROUGHS or r[2][0] != r[1]] == []


def test_every_real_meeting_whose_own_point_lies_in_the_city_is_in_new_york_city(placed):
    rows = placed.sql(
        """SELECT p.coordinates_conflict, r.sub_region FROM core.meeting_places p
           LEFT JOIN core.meeting_regions r ON r.meeting_id = p.meeting_id AND r.region_id = 'new-york-city'
           WHERE p.coordinates_county IN ('36005', '36047', '36061', '36081', '36085')"""
    ).fetchall()
    assert len(rows) > 400
    assert {(conflict, sub in BOROUGHS) for conflict, sub in rows} == {(False, True), (True, False), (True, True)}
    assert sum(1 for conflict, _ in rows if conflict) == 3  # the two Westchester meetings and Sunset Park


def test_the_report_counts_regions_unplaced_meetings_and_contradictions_per_source(placed):
    regions = {r[0]: r for r in operator_report.regions(placed)}
    assert regions["new-york-city"][4].startswith("Manhattan ") and regions["new-york-city"][3] > 1500
    assert {r[2] for r in regions.values()} == {"state", "operator"}
    assert regions["santa-clara-valley"][3:] == (0, "", "empty")
    assert [(r[0], r[1]) for r in operator_report.unplaced(placed)] == [("no_place", "seattle-aa-monday")]
    [(source, count, examples)] = operator_report.coordinate_conflicts(placed)
    assert source == "gny-na" and count == len(examples.split("; ")) >= 4
    assert "55 Parkway Dr, Port Chester, NY, 10573, Westchester → Bronx County NY, 9.5 km" in examples
    assert "2763 Webster Ave, Bronx, NY, 10458, Fordham → Fairfield County CT" in examples  # a Bronx address


# --- the place cache ----------------------------------------------------------------------------------------

TABLES = {
    "core.meeting_places": "SELECT * FROM core.meeting_places ORDER BY meeting_id",
    "core.meeting_regions": "SELECT * FROM core.meeting_regions ORDER BY meeting_id, region_id",
    "core.regions": "SELECT * FROM core.regions ORDER BY position",
}


def assigned_tables(
    con: duckdb.DuckDBPyConnection, regions: list[Region], labels: SourceLabels
) -> tuple[tuple, dict[str, list[tuple]]]:
    """What ``assign`` returns (with the order of its lists and counts) and the three tables it rebuilds."""
    a: Assignment = assign(con, regions, labels)
    returned = ([r.model_dump() for r in a.regions], list(a.counts.items()), list(a.unplaced.items()),
                list(a.evidence.items()), a.conflicts)  # fmt: skip
    return returned, {name: con.sql(query).fetchall() for name, query in TABLES.items()}


def uncached(con: duckdb.DuckDBPyConnection, regions: list[Region], labels: SourceLabels) -> tuple:
    """The full computation for ``con``'s meetings: a new warehouse (an empty cache) with a copy of them, where
    every meeting is a place of its own (its id is one of its place inputs), so that the reference does not
    depend on which inputs the place key covers."""
    fresh = duckdb.connect()
    try:
        migrate(fresh)
        fresh.register("meetings", con.sql("SELECT * FROM core.meetings").to_arrow_table())
        fresh.execute("INSERT INTO core.meetings SELECT * FROM meetings")
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(
                regions_module, "MEETINGS_SQL", MEETINGS_SQL.replace("meeting_id,", "meeting_id, meeting_id AS own,", 1)
            )
            return assigned_tables(fresh, regions, labels)
    finally:
        fresh.close()


def meeting_of(con: duckdb.DuckDBPyConnection, source_id: str, source_key: str) -> str:
    return con.sql("SELECT meeting_id FROM core.meeting_links WHERE source_id = $s AND source_key = $k",
                   params={"s": source_id, "k": source_key}).fetchall()[0][0]  # fmt: skip


def place(con: duckdb.DuckDBPyConnection, meeting_id: str) -> tuple:
    """(county, labels, {region: labels}) of a meeting."""
    return con.sql(
        """SELECT p.county, p.labels, (SELECT map(list(region_id), list(labels)) FROM core.meeting_regions r
                                       WHERE r.meeting_id = p.meeting_id)
           FROM core.meeting_places p WHERE meeting_id = $m""",
        params={"m": meeting_id},
    ).fetchall()[0]


def test_the_place_cache_holds_every_column_of_a_meetings_place():
    connection = duckdb.connect()
    migrate(connection)
    cache = {c for (c,) in connection.sql("SELECT column_name FROM duckdb_columns() WHERE table_name = 'place_cache'"
                                          ).fetchall()}  # fmt: skip
    places = {c for (c,) in connection.sql("SELECT column_name FROM duckdb_columns() "
                                           "WHERE table_name = 'meeting_places'").fetchall()}  # fmt: skip
    assert cache - {"place_key", "fingerprint", "regions"} == places - {"meeting_id"}


def test_the_place_cache_gives_the_full_computation_after_every_kind_of_change(tmp_path: Path, monkeypatch):
    """Real records of New York, Saint Paul and Seattle with the demo regions and labels, changed step by step
    (a postal code, a city, coordinates, a meeting closed, a meeting in a new state, the operator's regions,
    a source label, attendance, the sources listing a meeting): after each, the cached assignment is the full
    computation's, table for table, and only the changed places were located again (all of them when the
    fingerprint changed)."""
    located = Counter()
    locate = regions_module._locate
    monkeypatch.setattr(regions_module, "_locate", lambda *a: located.update(["place"]) or locate(*a))
    con = duckdb.connect()
    migrate(con)
    run(con, _real_versions().to_pylist())
    regions, labels = load_regions(DEFAULT_REGIONS), dict(load_source_labels(DEFAULT_REGIONS))
    saint_paul, bronx = meeting_of(con, "stpaul-aa", "56552"), meeting_of(con, "gny-na", "66")
    nyc = [r for r in _real_versions().to_pylist() if r["source_id"] == "nyc-aa"]
    astoria = meeting_of(con, "nyc-aa", next(r["source_key"] for r in nyc if r["city"] == "Astoria"))
    putnam = meeting_of(con, "nyc-aa", next(r["source_key"] for r in nyc if r["source_regions"] == ["PD"]
                                           and not r["city"]))  # fmt: skip

    def step(sql: str = "", *, located_at_most: int | None = None) -> None:
        if sql:
            con.execute(sql)
        located.clear()
        cached = assigned_tables(con, regions, labels)
        computed = located["place"]
        assert cached == uncached(con, regions, labels)
        if located_at_most is None:  # a full pass
            assert computed == located["place"] - computed > 100
        else:
            assert 0 <= computed <= located_at_most
        keys = con.sql(f"SELECT count(*) FROM (SELECT DISTINCT * EXCLUDE (meeting_id) FROM ({MEETINGS_SQL}))")
        assert con.sql("SELECT count(*) FROM core.place_cache").fetchall() == keys.fetchall()  # pruned

    step()  # a cold cache: everything
    before = {m: place(con, m) for m in (saint_paul, bronx, astoria, putnam)}
    step(located_at_most=0)  # a quiet night
    step(f"UPDATE core.meetings SET postal_code = '55401' WHERE meeting_id = '{saint_paul}'", located_at_most=1)
    assert place(con, saint_paul)[0] == "27053" != before[saint_paul][0]  # Minneapolis: Hennepin County
    step(f"UPDATE core.meetings SET city = 'White Plains' WHERE meeting_id = '{astoria}'", located_at_most=1)
    assert place(con, astoria)[0] == "36119" and "new-york-city" not in place(con, astoria)[2]  # Westchester
    step(f"UPDATE core.meetings SET longitude = -73.99, latitude = 40.69 WHERE meeting_id = '{bronx}'",
         located_at_most=1)  # fmt: skip
    assert place(con, bronx)[0] == "36047" != before[bronx][0]  # the point moved from the Bronx to Brooklyn
    step(f"UPDATE core.meetings SET status = 'closed' WHERE meeting_id = '{bronx}'", located_at_most=0)
    assert ("oregon",) not in con.sql("SELECT region_id FROM core.regions").fetchall()
    step(f"""INSERT INTO core.meetings SELECT * REPLACE ('oregon-1' AS meeting_id, 'OR' AS region_code,
             'Portland' AS city, '97201' AS postal_code) FROM core.meetings WHERE meeting_id = '{saint_paul}'""")
    assert place(con, "oregon-1")[2] == {"oregon": ["Multnomah County", "Portland"]}  # a new automatic region
    regions += load_regions(write(tmp_path, "twin-cities.yaml", [{"id": "twin-cities", "name": "Twin Cities",
                                                                   "zips": ["55401"]}]))  # fmt: skip
    step()
    assert "twin-cities" in place(con, saint_paul)[2]
    regions[-1] = load_regions(write(tmp_path, "twin-cities.yaml", [{"id": "twin-cities", "name": "Twin Cities",
                                                                      "zips": ["55102"]}]))[0]  # same id  # fmt: skip
    step()
    assert "twin-cities" not in place(con, saint_paul)[2]
    labels[("nyc-aa", "PD")] = SourceLabel(state="NY", counties=("36079",), name="Putnam")
    step()
    assert place(con, putnam)[1] != before[putnam][1]
    step(f"UPDATE core.meetings SET attendance = 'online' WHERE meeting_id = '{astoria}'")  # a new region
    step(f"UPDATE core.meetings SET attendance = 'online' WHERE meeting_id = '{saint_paul}'", located_at_most=1)
    assert "online" in place(con, astoria)[2] and "online" in place(con, saint_paul)[2]
    step(
        f"""UPDATE core.meetings SET sources = [{{'source_id': 'other-aa', 'source_key': 'x'}}]
             WHERE meeting_id = '{putnam}'""",
        located_at_most=1,
    )  # its label "PD" means nothing there
    assert place(con, putnam)[2] is None
    step(located_at_most=0)


def test_slugs_are_the_names_in_lower_case_ascii():
    assert [slug(n) for n in ("New York", "U.S. Virgin Islands", "Québec")] == ["new-york", "us-virgin-islands",
                                                                              "quebec"]  # fmt: skip
