"""Resolution on hand-written canonical records: one test per trap, id rule, survivorship rule and output.

Real and perturbed data: ``test_resolve_eval.py``; the whole pipeline: ``test_resolve_pipeline.py``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from foundation import ids
from foundation.model import FIELD_NAMES
from transforms.clusters import cluster, components
from transforms.explain import explain, render
from transforms.normalize import VERSIONS_SCHEMA
from transforms.resolve import MEETING_FIELDS, resolve
from transforms.survivorship import DERIVED, SURVIVING_FIELDS
from warehouse.db import migrate

NOW = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)


def record(source_id: str, source_key: str, **fields: Any) -> dict[str, Any]:
    """A canonical version; unspecified fields are an in-person AA meeting, Monday 19:00, 100 Main St."""
    row: dict[str, Any] = {
        "source_id": source_id, "source_key": source_key, "fetch_id": f"{source_id}@1", "fellowship": "AA",
        "name": "Serenity Group", "group_name": None, "weekday": 1, "start_time": time(19, 0),
        "end_time": time(20, 0), "duration_min": 60, "timezone": "America/New_York", "timezone_source": "source",
        "attendance": "in_person", "venue_name": "St. Mark's Church", "address_line": "100 Main St",
        "city": "Springfield", "region_code": "NJ", "postal_code": "07081", "postal_code_ext": None,
        "country": "US", "latitude": 40.7060, "longitude": -74.3210, "geo_precision": "rooftop",
        "conference_url": None, "conference_provider": None, "conference_id": None, "conference_phone": None,
        "open_closed": "open", "types": [], "source_types": [], "unknown_types": [], "languages": [],
        "accessibility": [], "notes": None, "location_notes": None, "source_url": None,
        "source_updated_at": None, "end_time_source": "source", "frequency": "weekly", "weeks_of_month": None,
        "coordinates_source": "source", "source_regions": [], "unparsed_address": None, "group_notes": None,
        "district": None, "website": None, "conference_url_notes": None, "conference_phone_notes": None,
        "entity": None, "entity_url": None, "entity_email": None, "entity_phone": None, "entity_location": None,
        "feedback_url": None,
    }  # fmt: skip
    row.update(fields)
    published = [row[f] for f in FIELD_NAMES if f not in ("source_id", "source_key", "fetch_id", "record_hash")]
    row["record_hash"] = hashlib.md5(repr(published).encode()).hexdigest()
    return row


def online(source_id: str, source_key: str, zoom: str | None, **fields: Any) -> dict[str, Any]:
    place = {"venue_name": None, "address_line": None, "city": None, "postal_code": None, "latitude": None,
             "longitude": None, "geo_precision": "none", "coordinates_source": "none"}  # fmt: skip
    conference = {"conference_url": f"https://zoom.us/j/{zoom}", "conference_provider": "zoom",
                  "conference_id": zoom} if zoom else {}  # fmt: skip
    return record(source_id, source_key, **{"attendance": "online", **place, **conference, **fields})


def load(con: duckdb.DuckDBPyConnection, rows: Iterable[dict[str, Any]]) -> list[str]:
    """Make ``rows`` the current versions of their sources (as the loader and normalizer leave them)."""
    table = pa.Table.from_pylist(list(rows), schema=VERSIONS_SCHEMA)
    con.execute("DELETE FROM core.meeting_versions")
    con.execute("DELETE FROM ops.source_state")
    con.register("rows", table)
    con.execute(f"INSERT INTO core.meeting_versions BY NAME SELECT {', '.join(FIELD_NAMES)} FROM rows")
    con.unregister("rows")
    con.execute(
        "INSERT INTO ops.source_state (source_id, current_fetch_id) "
        "SELECT DISTINCT source_id, fetch_id FROM core.meeting_versions"
    )
    return sorted({r[0] for r in con.sql("SELECT source_id FROM ops.source_state").fetchall()})


def run(
    con: duckdb.DuckDBPyConnection,
    rows: Iterable[dict[str, Any]],
    now: datetime = NOW,
    priorities: Mapping[str, int] | None = None,
) -> dict[str, int]:
    return resolve(con, load(con, rows), now, priorities)


@pytest.fixture
def con() -> Iterable[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    migrate(connection)
    yield connection
    connection.close()


def meeting_of(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], str]:
    return {
        (s, k): m for s, k, m in con.sql("SELECT source_id, source_key, meeting_id FROM core.meeting_links").fetchall()
    }


def together(con: duckdb.DuckDBPyConnection, a: tuple[str, str], b: tuple[str, str]) -> bool:
    links = meeting_of(con)
    return links[a] == links[b]


def link(con: duckdb.DuckDBPyConnection, source_id: str, source_key: str) -> dict[str, Any]:
    relation = con.sql(
        "SELECT * FROM core.meeting_links WHERE source_id = $s AND source_key = $k",
        params={"s": source_id, "k": source_key},
    )
    return dict(zip(relation.columns, relation.fetchall()[0], strict=True))


# --- matching: what joins -------------------------------------------------------------------------------


def test_intergroup_and_district_listing_of_one_meeting_merge(con):
    run(con, [
        record("intergroup", "serenity-mon", name="Saint Mark's Serenity Group", address_line="100 Main Street"),
        record("district", "d-17", name="St. Mark's Serenity", address_line="100 Main St, Room 8",
               latitude=None, longitude=None, geo_precision="none"),
    ])  # fmt: skip
    assert together(con, ("intergroup", "serenity-mon"), ("district", "d-17"))


def test_link_stores_score_reasons_and_the_record_it_matched(con):
    run(con, [record("intergroup", "a"), record("district", "b", latitude=40.7063, start_time=time(19, 5))])
    stored = link(con, "district", "b")
    assert stored["reason"] == "same_street, name≈1.00, Δt=5, 33 m"
    assert (stored["matched_source_id"], stored["matched_source_key"]) == ("intergroup", "a")
    assert 0.9 < stored["score"] <= 1.0


def test_start_times_within_15_minutes_merge(con):
    run(con, [record("a", "x"), record("b", "y", start_time=time(19, 15))])
    assert together(con, ("a", "x"), ("b", "y"))


def test_a_meeting_just_before_midnight_matches_the_listing_at_midnight_next_day(con):
    run(con, [record("a", "x", weekday=4, start_time=time(23, 59)),
              record("b", "y", weekday=5, start_time=time(0, 0))])  # fmt: skip
    assert together(con, ("a", "x"), ("b", "y"))


def test_online_listings_with_the_same_zoom_id_merge_whatever_their_names(con):
    run(con, [online("a", "x", "81234567890", name="Daily Reflections"),
              online("b", "y", "81234567890", name="Morning Meditation Online")])  # fmt: skip
    assert together(con, ("a", "x"), ("b", "y"))
    assert link(con, "b", "y")["reason"].startswith("same_zoom_id")


def test_a_dial_in_meeting_id_matches_the_zoom_link(con):
    run(con, [online("a", "x", "81234567890"),
              online("b", "y", None, conference_phone="+16699009128,,81234567890#")])  # fmt: skip
    assert together(con, ("a", "x"), ("b", "y"))


def test_exact_duplicates_inside_one_source_are_one_meeting(con):
    run(con, [record("a", "x"), record("a", "x-copy")])
    assert together(con, ("a", "x"), ("a", "x-copy"))
    assert link(con, "a", "x-copy")["reason"] == "exact_duplicate"


# --- matching: the dedup traps -------------------------------------------------------------------------


def test_the_same_church_the_same_day_at_another_time_is_another_meeting(con):
    run(con, [record("a", "x"), record("b", "y", start_time=time(20, 0))])
    assert not together(con, ("a", "x"), ("b", "y"))


def test_the_same_church_and_time_with_another_name_is_another_meeting(con):
    run(con, [record("a", "x"), record("b", "y", name="Tuesday Big Book Study")])
    assert not together(con, ("a", "x"), ("b", "y"))


def test_half_an_hour_apart_needs_the_same_name(con):
    run(con, [record("a", "x", name="Big Book"),
              record("b", "y", name="Big Book Study at Noon", start_time=time(19, 30)),
              record("c", "z", name="BIG BOOK", start_time=time(18, 30))])  # fmt: skip
    assert not together(con, ("a", "x"), ("b", "y"))
    assert together(con, ("a", "x"), ("c", "z"))


def test_the_same_name_on_another_day_is_another_meeting(con):
    run(con, [record("a", "x"), record("b", "y", weekday=2)])
    assert not together(con, ("a", "x"), ("b", "y"))


def test_different_fellowships_never_merge(con):
    run(con, [record("a", "x"), record("b", "y", fellowship="NA")])
    assert not together(con, ("a", "x"), ("b", "y"))


def test_two_records_of_one_source_never_merge_unless_the_source_lists_one_meeting_twice(con):
    run(con, [record("a", "x"), record("a", "y", notes="second room")])
    assert not together(con, ("a", "x"), ("a", "y"))


def test_concurrent_meetings_of_one_group_with_other_formats_stay_apart(con):
    """New York Intergroup lists a group's beginners' meeting beside its step meeting, same name and time."""
    run(con, [record("a", "x", name="CITY GROUP", types=["step"]),
              record("a", "y", name="CITY GROUP", types=["newcomers"])])  # fmt: skip
    assert not together(con, ("a", "x"), ("a", "y"))


def test_a_source_listing_one_meeting_twice_publishes_one_and_says_why(con):
    """oc-aa lists "Uno Y Los Que Siguen" and "Grupo Uno Y Los Que Siguen" at one place and time."""
    run(con, [record("a", "x", name="Grupo Uno Y Los Que Siguen", venue_name=None),
              record("a", "y", name="Uno Y Los Que Siguen", venue_name=None, latitude=40.7061)])  # fmt: skip
    assert together(con, ("a", "x"), ("a", "y"))
    assert con.sql("SELECT count(*) FROM core.meetings").fetchall() == [(1,)]
    reasons = {r[0] for r in con.sql("SELECT reason FROM core.meeting_links").fetchall()}
    assert "duplicate_listing: same everything, one name inside the other" in reasons


def test_the_same_bmlt_world_id_on_the_same_day_is_one_listing_twice(con):
    """gny-na lists "Recovery Starts Here" (world id G00234053) twice, once without its venue and formats."""
    rows = [record("a", "1797", name="Recovery Starts Here", types=["basic_text"]),
            record("a", "2326", name="Recovery Starts Here", venue_name=None, types=[])]  # fmt: skip
    load(con, rows)
    con.execute(
        "INSERT INTO staging.source_records (source_id, fetch_id, record_index, source_key, raw) VALUES "
        "('a', 'a@1', 0, '1797', '{\"worldid_mixed\": \"G00234053\"}'), "
        "('a', 'a@1', 1, '2326', '{\"worldid_mixed\": \"00234053\"}')"
    )
    resolve(con, ["a"], NOW)
    assert together(con, ("a", "1797"), ("a", "2326"))
    reasons = {r[0] for r in con.sql("SELECT reason FROM core.meeting_links").fetchall()}
    assert "duplicate_listing: same world id G00234053, Δt=0" in reasons


def test_different_zoom_ids_never_merge(con):
    run(con, [online("a", "x", "81234567890"), online("b", "y", "89999999999")])
    assert not together(con, ("a", "x"), ("b", "y"))


def test_the_same_zoom_room_an_hour_later_is_another_meeting(con):
    run(con, [online("a", "x", "81234567890"), online("b", "y", "81234567890", start_time=time(20, 0))])
    assert not together(con, ("a", "x"), ("b", "y"))


def test_a_mens_and_a_womens_meeting_at_the_same_place_and_time_stay_apart(con):
    run(con, [record("a", "x", name="Step Study", types=["men"]),
              record("b", "y", name="Step Study", types=["women"])])  # fmt: skip
    assert not together(con, ("a", "x"), ("b", "y"))


def test_the_same_street_line_in_another_town_is_another_place(con):
    run(con, [record("a", "x"), record("b", "y", city="Summit", postal_code="07901", latitude=40.7157,
                                       longitude=-74.3646)])  # fmt: skip
    assert not together(con, ("a", "x"), ("b", "y"))


def test_an_online_meeting_is_not_the_in_person_meeting_of_the_same_name(con):
    run(con, [record("a", "x", name="10:10 Group -- In Person"), online("a", "y", None, name="10:10 Group -- Online"),
              record("b", "z", name="10:10 Group")])  # fmt: skip
    assert together(con, ("a", "x"), ("b", "z"))
    assert not together(con, ("a", "y"), ("b", "z"))


def test_a_record_matching_two_listings_of_one_source_joins_only_the_closer(con):
    run(con, [record("a", "early", name="Early Bird"), record("a", "later", name="Early Bird", start_time=time(19, 15)),
              record("b", "y", name="Early Bird", start_time=time(19, 5))])  # fmt: skip
    links = meeting_of(con)
    assert links[("b", "y")] == links[("a", "early")] != links[("a", "later")]


# --- clusters --------------------------------------------------------------------------------------------


def test_components_label_every_node_with_its_smallest_member():
    assert components(6, np.array([5, 3, 1]), np.array([4, 2, 0])).tolist() == [0, 0, 2, 2, 4, 4]


def test_a_chain_through_one_source_is_cut_at_its_weakest_link():
    labels = cluster(3, np.array([0, 1]), np.array([1, 2]), np.array([0.9, 0.8]), np.array([False, False]),
                     np.array([0, 1, 0]))  # fmt: skip
    assert labels.tolist() == [0, 0, 2]


# --- stable ids -------------------------------------------------------------------------------------------


def test_running_twice_gives_identical_ids(con):
    rows = [record("a", "x"), record("b", "y"), record("a", "z", name="Other", start_time=time(8, 0))]
    run(con, rows)
    first = meeting_of(con)
    run(con, rows, NOW + timedelta(days=1))
    assert meeting_of(con) == first


# --- incremental nights: the resolver's memory (issue O) ---------------------------------------------------


def _meetings(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return sorted(con.sql("SELECT * EXCLUDE (last_seen) FROM core.meetings").fetchall(), key=repr)


def test_lost_memory_makes_a_full_pass_not_a_split(con):
    """Deleting the kept links, or deleting or editing a meeting's row, is safe: the next night finds out and
    does not trust it (a full pass of matching; the meeting is built again)."""
    rows = [record("a", "1"), record("b", "2", name="Serenity"), record("c", "3", name="Other", weekday=3)]
    run(con, rows)
    links, meetings = meeting_of(con), _meetings(con)
    con.execute("DELETE FROM core.match_pairs")
    assert run(con, rows, NOW + timedelta(days=1))["rematched"] == 3
    assert meeting_of(con) == links
    con.execute("DELETE FROM core.meetings WHERE name = 'Other'")
    assert run(con, rows, NOW + timedelta(days=2))["rematched"] == 0
    assert _meetings(con) == meetings
    con.execute("UPDATE core.meetings SET notes = 'edited by hand' WHERE name = 'Other'")
    run(con, rows, NOW + timedelta(days=3))
    assert _meetings(con) == meetings


def test_a_new_matching_code_rematches_everything_and_venues_follow_its_keys(con, monkeypatch: pytest.MonkeyPatch):
    """A release whose street keys differ: every record is re-matched and every meeting carries the venue of
    this run's keys, not last run's."""
    from transforms import matching

    rows = [record("a", "1"), record("b", "9", name="Other Group", weekday=3)]
    run(con, rows)
    assert con.sql("SELECT count(*) FROM core.meetings WHERE venue_id IS NOT NULL").fetchall() == [(2,)]
    monkeypatch.setattr(matching, "street_key_sql", lambda expr: "NULL::VARCHAR")
    monkeypatch.setattr(matching, "code_version", lambda: "another release")
    assert run(con, rows, NOW + timedelta(days=1))["rematched"] == 2
    assert con.sql("SELECT count(*) FROM core.meetings WHERE venue_id IS NOT NULL").fetchall() == [(0,)]


def test_a_new_meeting_is_named_after_its_oldest_record(con):
    run(con, [record("b", "y"), record("a", "x")])
    assert meeting_of(con)[("b", "y")] == ids.meeting_id("a", "x")


def test_a_new_source_duplicating_known_meetings_attaches_to_their_ids(con):
    run(con, [record("intergroup", "x")])
    known = meeting_of(con)[("intergroup", "x")]
    summary = run(con, [record("intergroup", "x"), record("finder", "123")], NOW + timedelta(days=1))
    assert meeting_of(con)[("finder", "123")] == known
    assert summary["new_links"] == 1


def test_a_merge_keeps_the_oldest_id_and_a_split_gives_the_id_back(con):
    apart = [record("a", "x"), record("b", "y", start_time=time(21, 0))]
    run(con, [apart[0]])
    run(con, apart, NOW + timedelta(days=1))
    old_x, old_y = meeting_of(con)[("a", "x")], meeting_of(con)[("b", "y")]
    run(con, [apart[0], record("b", "y")], NOW + timedelta(days=2))
    assert meeting_of(con)[("b", "y")] == old_x
    run(con, apart, NOW + timedelta(days=3))
    assert meeting_of(con)[("b", "y")] == old_y
    events = con.sql("SELECT kind, from_meeting_id, meeting_id FROM core.resolution_events ORDER BY run_at").fetchall()
    assert events == [("merge", old_y, old_x), ("split", old_x, old_y)]


def test_records_of_a_merged_away_id_that_are_not_current_follow_the_merge(con):
    run(con, [record("a", "x"), record("b", "y", start_time=time(21, 0)), record("c", "z", start_time=time(21, 0))])
    assert together(con, ("b", "y"), ("c", "z"))
    load(con, [record("a", "x"), record("b", "y"), record("c", "z", start_time=time(21, 0))])
    resolve(con, ["a", "b"], NOW + timedelta(days=1))  # source c is disabled tonight
    assert meeting_of(con)[("c", "z")] == meeting_of(con)[("a", "x")] == ids.meeting_id("a", "x")


# --- survivorship, sources, venues --------------------------------------------------------------------------


def test_published_meeting_lists_every_linked_source(con):
    run(con, [record("a", "x"), record("b", "y"), record("c", "z")])
    (sources,) = con.sql("SELECT sources FROM core.meetings").fetchall()[0]
    assert sources == [{"source_id": s, "source_key": k} for s, k in (("a", "x"), ("b", "y"), ("c", "z"))]


def test_registry_priority_decides_the_name(con):
    run(con, [record("finder", "1", name="SERENITY GRP"), record("intergroup", "x")],
        priorities={"intergroup": 80, "finder": 20})  # fmt: skip
    assert con.sql("SELECT name FROM core.meetings").fetchall() == [("Serenity Group",)]


def test_rooftop_coordinates_win_over_a_zip_centroid(con):
    run(con, [record("a", "x", latitude=40.71, longitude=-74.33, geo_precision="postal"),
              record("b", "y", latitude=40.7061, longitude=-74.3211)], priorities={"a": 90, "b": 10})  # fmt: skip
    assert con.sql("SELECT latitude, geo_precision FROM core.meetings").fetchall() == [(40.7061, "rooftop")]


def test_the_most_recently_updated_source_decides_the_notes(con):
    run(con, [record("a", "x", notes="Zoom on request", source_updated_at=datetime(2021, 1, 1)),
              record("b", "y", notes="Bring a Big Book", source_updated_at=datetime(2024, 6, 1))],
        priorities={"a": 90, "b": 10})  # fmt: skip
    assert con.sql("SELECT notes FROM core.meetings").fetchall() == [("Bring a Big Book",)]


def test_without_every_source_stamping_its_updates_priority_decides_recency_fields(con):
    run(con, [record("a", "x", notes="Zoom on request"),
              record("b", "y", notes="Bring a Big Book", source_updated_at=datetime(2024, 6, 1))],
        priorities={"a": 90, "b": 10})  # fmt: skip
    assert con.sql("SELECT notes FROM core.meetings").fetchall() == [("Zoom on request",)]


def test_attendance_comes_with_the_conference_fields_it_was_derived_from(con):
    run(con, [record("a", "x", source_updated_at=datetime(2024, 6, 1)),
              record("b", "y", attendance="hybrid", conference_url="https://zoom.us/j/81234567890",
                     conference_provider="zoom", conference_id="81234567890",
                     source_updated_at=datetime(2021, 1, 1))])  # fmt: skip
    assert con.sql("SELECT attendance, conference_id FROM core.meetings").fetchall() == [("in_person", None)]


def test_the_winning_record_of_each_field_is_recorded(con):
    run(con, [record("a", "x", name="SERENITY GRP", types=["open", "big_book"]), record("b", "y")],
        priorities={"a": 20, "b": 80})  # fmt: skip
    fields = {f["field"]: (f["source_id"], f["rule"]) for f in explain(con, meeting_of(con)[("a", "x")])["fields"]}
    assert fields["name"] == ("b", "priority")
    assert fields["types"] == ("a", "completeness")
    # A group that depends on another's winner has none when no record takes part (neither gives URL notes).
    assert set(fields) == set(SURVIVING_FIELDS) - {"conference_url_notes", "conference_phone_notes"}


def test_every_published_field_has_a_survivorship_rule():
    assert sorted(SURVIVING_FIELDS) == sorted(f for f in MEETING_FIELDS if f not in DERIVED)
    assert len(SURVIVING_FIELDS) == len(set(SURVIVING_FIELDS))


def test_field_sources_table_has_a_column_per_surviving_field(con):
    columns = [c for (c,) in con.sql("SELECT column_name FROM duckdb_columns() WHERE table_name = "
                                     "'meeting_field_sources' ORDER BY column_index").fetchall()]  # fmt: skip
    assert columns[0] == "meeting_id" and sorted(columns[1:]) == sorted(SURVIVING_FIELDS)


def test_a_church_hosting_aa_and_na_is_one_venue(con):
    run(con, [record("aa", "x"), record("na", "y", fellowship="NA", name="Just for Today", weekday=3,
                                        address_line="100 Main Street", venue_name="Saint Marks")])  # fmt: skip
    venues = con.sql("SELECT venue_id, fellowships, meetings, address_line FROM core.venues").fetchall()
    assert [(v[1], v[2], v[3]) for v in venues] == [(["AA", "NA"], 2, "100 Main St")]
    assert con.sql("SELECT DISTINCT venue_id FROM core.meetings").fetchall() == [(venues[0][0],)]


def test_an_online_meeting_has_no_venue(con):
    run(con, [online("a", "x", "81234567890")])
    assert con.sql("SELECT venue_id FROM core.meetings").fetchall() == [(None,)]
    assert con.sql("SELECT count(*) FROM core.venues").fetchall() == [(0,)]


# --- explain -------------------------------------------------------------------------------------------------


def test_explain_shows_the_members_their_links_and_the_field_sources(con):
    run(con, [online("a", "x", "81234567890", name="Daily Reflections"),
              online("b", "y", "81234567890", name="Daily Reflection", start_time=time(19, 5))])  # fmt: skip
    meeting_id = meeting_of(con)[("a", "x")]
    explanation = explain(con, meeting_id)
    assert explanation["status"] == "active"
    assert [(m["source_id"], m["source_key"]) for m in explanation["members"]] == [("a", "x"), ("b", "y")]
    text = render(explanation)
    assert f"{meeting_id}: active" in text
    assert "b/y: score 0.91 [same_zoom_id, name≈0.94, Δt=5] ↔ a/x" in text
    assert "a/x — priority: fellowship, name, group_name," in text


def test_explain_of_a_merged_away_id_names_the_meeting_it_went_into(con):
    run(con, [record("a", "x")])
    run(con, [record("a", "x"), record("b", "y", start_time=time(21, 0))], NOW + timedelta(days=1))
    old_y = meeting_of(con)[("b", "y")]
    run(con, [record("a", "x"), record("b", "y")], NOW + timedelta(days=2))
    explanation = explain(con, old_y)
    assert (explanation["status"], explanation["merged_into"]) == ("merged", meeting_of(con)[("a", "x")])


def test_explain_of_an_unknown_id(con):
    assert explain(con, "m-unknown")["status"] == "unknown"


# --- survivorship: each field from a source that gives it ----------------------------------------------------

NO_END = {"end_time": None, "duration_min": None, "end_time_source": "none"}


def test_the_end_time_comes_from_the_source_that_gives_it(con):
    """NY Intergroup meeting 1441 ends 13:15 on the legacy list; the TSV gives no end (it was published 13:30)."""
    run(con, [record("tsv", "x", start_time=time(12, 30), **NO_END),
              record("legacy", "1441", start_time=time(12, 30), end_time=time(13, 15), duration_min=45)],
        priorities={"tsv": 90, "legacy": 10})  # fmt: skip
    assert con.sql("SELECT end_time, duration_min, end_time_source FROM core.meetings").fetchall() == [
        (time(13, 15), 45, "source")]  # fmt: skip


def test_an_end_time_for_another_start_is_not_taken(con):
    run(con, [record("a", "x", start_time=time(12, 30), **NO_END),
              record("b", "y", start_time=time(12, 45), end_time=time(13, 45), duration_min=60)],
        priorities={"a": 90, "b": 10})  # fmt: skip
    assert con.sql("SELECT start_time, end_time, end_time_source FROM core.meetings").fetchall() == [
        (time(12, 30), None, "none")]  # fmt: skip


def test_conference_notes_come_with_their_url(con):
    zoom = {"conference_url": "https://zoom.us/j/81234567890", "conference_provider": "zoom",
            "conference_id": "81234567890", "attendance": "hybrid"}  # fmt: skip
    run(
        con,
        [
            record("a", "x", **zoom, source_updated_at=datetime(2024, 6, 1)),
            record("b", "y", **zoom, conference_url_notes="Passcode: 1234", source_updated_at=datetime(2021, 1, 1)),
        ],
    )
    # the newer source wins the URL but gives no notes: the notes of the same URL come from the older one
    assert con.sql("SELECT conference_id, conference_url_notes FROM core.meetings").fetchall() == [
        ("81234567890", "Passcode: 1234")]  # fmt: skip


def test_monthly_wins_when_one_source_says_so(con):
    run(con, [record("a", "x"), record("b", "y", frequency="monthly", weeks_of_month=[1])],
        priorities={"a": 90, "b": 10})  # fmt: skip
    assert con.sql("SELECT frequency, weeks_of_month FROM core.meetings").fetchall() == [("monthly", [1])]


def test_group_notes_and_entity_from_a_source_that_gives_them(con):
    run(con, [record("a", "x"), record("b", "y", group_notes="Business meeting: 2nd Sunday", entity="Intergroup",
                                       entity_url="https://example.org")], priorities={"a": 90, "b": 10})  # fmt: skip
    assert con.sql("SELECT group_notes, entity, entity_url FROM core.meetings").fetchall() == [
        ("Business meeting: 2nd Sunday", "Intergroup", "https://example.org")]  # fmt: skip
