"""The real history of one intergroup: the NE Pennsylvania feed of 2022-11-01 for one night, then its feed of
2026-03-20 for the configured number of nights (three), through the whole pipeline.

The expected events come from the two files themselves: slugs only in 2026 are created on the first 2026
night, slugs only in 2022 close on the third, and a meeting in both changes a field exactly when the feeds
differ in the field it comes from. A 2026 slug that lists a 2022-only meeting again under a new key (same day,
time, address, types and notes, one name inside the other: "Life is Good" for "Life is Good Group") continues
that meeting: it is the same listing to resolution, so it keeps the meeting's id instead of being created.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from clearinghouse import pipeline
from foundation import ids
from tests.conftest import SNAPSHOTS
from tests.support import serve

pytestmark = pytest.mark.slow

FEED_2022 = SNAPSHOTS / "mg" / "aaintergroupnepa_ne-pennsylvania_2022-11-01.json"
FEED_2026 = SNAPSHOTS / "mg" / "aaintergroupnepa_ne-pennsylvania_2026-03-20.json"
SOURCE = "nepa-aa"
NIGHTS_2026 = 3


def by_slug(path: Path) -> dict[str, dict[str, Any]]:
    return {m["slug"]: m for m in json.loads(path.read_bytes())}


OLD, NEW = by_slug(FEED_2022), by_slug(FEED_2026)
BOTH = sorted(set(OLD) & set(NEW))


def _listing(m: dict[str, Any]) -> tuple:
    return (m.get("day"), m.get("time"), m.get("formatted_address"), sorted(m.get("types") or []), m.get("notes"))


def _alike(a: str, b: str) -> bool:
    return a.lower() in b.lower() or b.lower() in a.lower()


REKEYED = {  # 2026-only slug -> the 2022-only slug it lists again
    n: o
    for n in set(NEW) - set(OLD)
    for o in set(OLD) - set(NEW)
    if _listing(NEW[n]) == _listing(OLD[o]) and _alike(NEW[n]["name"], OLD[o]["name"])
}


def meeting(slug: str) -> str:
    return ids.meeting_id(SOURCE, slug)


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Events and meeting ids of each night (0: the 2022 feed; 1–3: the 2026 feed). The nights stop after
    resolution: the release gate (which holds back a 30 % drop for an operator) is not what is tested here."""
    home = tmp_path_factory.mktemp("nepa") / "home"
    routes = {"/nepa.json": (200, FEED_2022.read_bytes(), "application/json")}
    nights: list[dict[str, Any]] = []
    with serve(routes) as base, pytest.MonkeyPatch.context() as mp:
        mp.setenv("CLEARINGHOUSE_HOME", str(home))
        mp.delenv("CLEARINGHOUSE_DEMO_URL", raising=False)
        registry = home.parent / "sources.yaml"
        registry.write_text(yaml.safe_dump({"sources": [{"id": SOURCE, "name": "NEPA", "fellowship": "AA",
                                                         "kind": "meeting_guide", "url": f"{base}/nepa.json",
                                                         "timezone": "America/New_York"}]}))  # fmt: skip
        for night in range(1 + NIGHTS_2026):
            if night == 1:
                routes["/nepa.json"] = (200, FEED_2026.read_bytes(), "application/json")
            run_id = f"nepa-night-{night}"
            pipeline.load_stage(run_id, pipeline.fetch_all(pipeline.registry(registry)))
            pipeline.normalize_stage(run_id, registry)
            summary = pipeline.resolve_stage(run_id, registry)
            with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
                events = con.sql(
                    "SELECT meeting_id, kind, fields FROM core.meeting_events "
                    "WHERE event_at = (SELECT max(event_at) FROM core.meeting_events)"
                ).fetchall()
                published = {m for (m,) in con.sql("SELECT meeting_id FROM core.meetings").fetchall()}
            nights.append({"events": events if any(summary["events"].values()) else [], "published": published})
    return nights


def differs(*keys: str) -> set[str]:
    """Meetings in both feeds (a re-keyed listing under its 2022 key) whose ``keys`` differ between them."""
    pairs = [(s, s) for s in BOTH] + [(o, n) for n, o in REKEYED.items()]
    return {meeting(o) for o, n in pairs if any(OLD[o].get(k) != NEW[n].get(k) for k in keys)}


def of_kind(night: dict[str, Any], kind: str) -> set[str]:
    return {m for m, k, _ in night["events"] if k == kind}


def changed_field(night: dict[str, Any], field: str) -> set[str]:
    return {m for m, k, fields in night["events"] if k == "changed" and field in fields}


def test_the_first_night_creates_every_meeting_of_2022(replay):
    first = replay[0]
    assert of_kind(first, "created") == {meeting(s) for s in OLD} == first["published"]


def test_meetings_only_in_2026_are_created_on_its_first_night(replay):
    assert len(REKEYED) == 4
    assert of_kind(replay[1], "created") == {meeting(s) for s in set(NEW) - set(OLD) - set(REKEYED)}


def test_meetings_only_in_2022_stay_published_for_two_nights_and_close_on_the_third(replay):
    gone = {meeting(s) for s in set(OLD) - set(NEW) - set(REKEYED.values())}
    first, second, third = replay[1:]
    assert gone <= first["published"] and gone <= second["published"]
    assert of_kind(first, "closed") == of_kind(second, "closed") == set()
    assert of_kind(third, "closed") == gone
    continued = {meeting(REKEYED.get(s, s)) for s in NEW}
    assert third["published"] == continued


def test_a_meeting_listed_again_under_a_new_key_keeps_its_id(replay):
    for night in replay[1:]:
        assert {meeting(o) for o in REKEYED.values()} <= night["published"]
        assert not {meeting(n) for n in REKEYED} & night["published"]


def test_changes_happen_on_the_first_2026_night_only(replay):
    continued = {meeting(o) for o in REKEYED.values()}
    assert of_kind(replay[1], "changed") <= {meeting(s) for s in BOTH} | continued
    for night in replay[2:]:
        # the only later change: a re-keyed meeting's old key leaves its sources when that key closes
        assert {k for m, k, _ in night["events"] if m not in continued} <= {"closed"}
        assert {tuple(f) for m, k, f in night["events"] if m in continued} <= {("sources",)}


@pytest.mark.parametrize(
    ("field", "keys"),
    [
        ("weekday", ("day",)),
        ("start_time", ("time",)),
        ("name", ("name",)),
        ("venue_name", ("location",)),
        ("address_line", ("formatted_address",)),
        ("latitude", ("latitude",)),
        ("attendance", ("attendance_option",)),
        ("conference_url", ("conference_url",)),
        ("conference_phone", ("conference_phone",)),
        ("source_types", ("types",)),
        ("notes", ("notes",)),
        ("location_notes", ("location_notes",)),
        ("source_url", ("url",)),
    ],
)
def test_a_field_changes_exactly_for_the_meetings_whose_feed_entries_differ_in_it(replay, field, keys):
    assert changed_field(replay[1], field) == differs(*keys)


def test_the_73_meetings_that_moved_in_time_or_place_are_among_the_changed(replay):
    moved = differs("day", "time", "formatted_address")
    assert len(moved) == 73
    assert moved <= of_kind(replay[1], "changed")
