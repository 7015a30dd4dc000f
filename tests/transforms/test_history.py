"""History and the grace period, night by night on hand-written records: resolution plus ``transforms.history``
the way the loader leaves the warehouse (each healthy fetch moves its source's state, a failed one does not).

The whole pipeline on a real feed: ``test_history_pipeline.py``; the real NE Pennsylvania history:
``test_history_nepa.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from foundation import ids
from foundation.model import FIELD_NAMES
from tests.transforms.test_resolve import record
from transforms import history
from transforms.normalize import VERSIONS_SCHEMA
from transforms.resolve import resolve
from warehouse.db import migrate

T0 = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
MEETING_A = ids.meeting_id("src", "a")
MEETING_B = ids.meeting_id("src", "b")


class Nights:
    """One warehouse, fed one night at a time."""

    def __init__(self, con: duckdb.DuckDBPyConnection, close_after: int = 3) -> None:
        self.con = con
        self.close_after = close_after
        self.night = 0

    def run(
        self, listings: dict[str, list[dict[str, Any]]], failed: Iterable[str] = (), replay: bool = False
    ) -> dict[str, int]:
        """Tonight each source in ``listings`` lists these records, except ``failed`` sources (fetch failed);
        ``replay``: the records are a replayed archived day."""
        now = T0 + timedelta(days=self.night)
        for source_id, rows in listings.items():
            if source_id in failed:
                self.con.execute(
                    "UPDATE ops.source_state SET last_attempt_at = ?, last_status = 'failed' WHERE source_id = ?",
                    [now, source_id],
                )
                continue
            fetch_id = f"{source_id}@{self.night}"
            table = pa.Table.from_pylist([{**r, "fetch_id": fetch_id} for r in rows], schema=VERSIONS_SCHEMA)
            self.con.register("tonight", table)
            self.con.execute(f"INSERT INTO core.meeting_versions BY NAME SELECT {', '.join(FIELD_NAMES)} FROM tonight")
            self.con.unregister("tonight")
            self.con.execute(
                "INSERT OR REPLACE INTO ops.source_state (source_id, current_fetch_id, last_good_at, last_attempt_at, "
                "last_status) VALUES (?, ?, ?, ?, 'ok')",
                [source_id, fetch_id, now, now],
            )
        resolve(self.con, sorted(listings), now, close_after=self.close_after, replay=replay)
        self.night += 1
        return history.record(self.con, now)

    def published(self) -> set[str]:
        return {m for (m,) in self.con.sql("SELECT meeting_id FROM core.meetings").fetchall()}

    def events(self, kind: str | None = None) -> list[tuple[int, str, str]]:
        """(night, meeting id, kind) of every event (of ``kind``)."""
        rows = self.con.sql(
            "SELECT event_at, meeting_id, kind FROM core.meeting_events ORDER BY event_at, meeting_id, kind"
        ).fetchall()
        return [((at - T0).days, m, k) for at, m, k in rows if kind in (None, k)]


@pytest.fixture
def con() -> Iterable[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    migrate(connection)
    yield connection
    connection.close()


@pytest.fixture
def nights(con: duckdb.DuckDBPyConnection) -> Nights:
    return Nights(con)


A = record("src", "a")
B = record("src", "b", name="Early Birds", start_time=time(7, 0))


def test_a_listing_missing_from_a_healthy_source_closes_on_the_third_night(nights: Nights):
    nights.run({"src": [A, B]})
    for _ in range(2):
        assert nights.run({"src": [A]})["closed"] == 0
        assert MEETING_B in nights.published()
    assert nights.run({"src": [A]})["closed"] == 1
    assert nights.published() == {MEETING_A}
    assert nights.events("closed") == [(3, MEETING_B, "closed")]


def test_until_it_closes_the_meeting_keeps_its_last_version_and_last_seen(nights: Nights):
    nights.run({"src": [A, B]})
    nights.run({"src": [A, {**B, "name": "Renamed Tonight"}]})
    nights.run({"src": [A]})
    name, last_seen = nights.con.sql(
        "SELECT name, last_seen FROM core.meetings WHERE meeting_id = $m", params={"m": MEETING_B}
    ).fetchall()[0]
    assert name == "Renamed Tonight"
    assert last_seen == T0 + timedelta(days=1)


def test_replays_never_advance_absence_or_close_meetings(nights: Nights):
    nights.run({"src": [A, B]})
    nights.run({"src": [A]})  # B missing for one healthy night
    for _ in range(5):  # an operator replays a day without B, again and again
        assert nights.run({"src": [A]}, replay=True)["closed"] == 0
    assert nights.published() == {MEETING_A, MEETING_B}
    assert nights.con.sql("SELECT absent_runs FROM core.record_presence WHERE source_key = 'b'").fetchall() == [(1,)]
    nights.run({"src": [A]})
    assert nights.run({"src": [A]})["closed"] == 1  # real nights still close it on the third healthy one


def test_a_replay_of_an_old_day_keeps_the_meetings_listed_since(nights: Nights):
    nights.run({"src": [A]})
    nights.run({"src": [A, B]})  # B is new
    assert nights.run({"src": [A]}, replay=True)["closed"] == 0  # the replayed day predates B
    assert nights.published() == {MEETING_A, MEETING_B}


def test_a_failing_source_closes_nothing(nights: Nights):
    nights.run({"src": [A, B]})
    for _ in range(5):
        assert nights.run({"src": []}, failed={"src"})["closed"] == 0
    assert nights.published() == {MEETING_A, MEETING_B}
    assert nights.events("closed") == []


def test_failed_nights_do_not_count_towards_the_grace_period(nights: Nights):
    nights.run({"src": [A, B]})
    nights.run({"src": [A]})
    nights.run({"src": [A]}, failed={"src"})
    nights.run({"src": [A]})
    assert MEETING_B in nights.published()
    nights.run({"src": [A]})
    assert nights.events("closed") == [(4, MEETING_B, "closed")]


def test_last_verified_stays_at_the_last_healthy_fetch_while_the_source_fails(nights: Nights):
    nights.run({"src": [A]})
    nights.run({"src": [A]}, failed={"src"})
    last_seen, last_verified = nights.con.sql("SELECT last_seen, last_verified FROM core.meetings").fetchall()[0]
    assert (last_seen, last_verified) == (T0 + timedelta(days=1), T0)


def test_a_listing_back_within_the_grace_period_never_closed(nights: Nights):
    nights.run({"src": [A, B]})
    nights.run({"src": [A]})
    nights.run({"src": [A, B]})
    for _ in range(3):
        nights.run({"src": [A]})
    assert [n for n, m, _ in nights.events("closed") if m == MEETING_B] == [5]


def test_the_grace_period_is_configurable(con: duckdb.DuckDBPyConnection):
    nights = Nights(con, close_after=1)
    nights.run({"src": [A, B]})
    assert nights.run({"src": [A]})["closed"] == 1


def test_a_closed_meeting_that_comes_back_is_reopened_with_its_id(nights: Nights):
    nights.run({"src": [A, B]})
    for _ in range(3):
        nights.run({"src": [A]})
    assert nights.run({"src": [A, B]})["reopened"] == 1
    assert MEETING_B in nights.published()
    status, ended = nights.con.sql(
        "SELECT status, ended_at FROM core.meeting_lifecycle WHERE meeting_id = $m", params={"m": MEETING_B}
    ).fetchall()[0]
    assert (status, ended) == ("active", None)


def test_created_then_changed_with_the_fields_that_changed(nights: Nights):
    assert nights.run({"src": [A]})["created"] == 1
    nights.run({"src": [{**A, "start_time": time(19, 30), "end_time": time(20, 30), "notes": "Room 4"}]})
    fields = nights.con.sql("SELECT fields FROM core.meeting_events WHERE kind = 'changed'").fetchall()
    assert fields == [(["start_time", "end_time", "notes"],)]


def test_a_new_source_stamp_alone_is_not_a_change(nights: Nights):
    nights.run({"src": [A]})
    assert nights.run({"src": [{**A, "source_updated_at": datetime(2026, 1, 1)}]})["changed"] == 0


def test_history_keeps_one_open_version_per_meeting_with_valid_from_and_valid_to(nights: Nights):
    nights.run({"src": [A]})
    nights.run({"src": [{**A, "name": "Serenity Group (Room 2)"}]})
    versions = nights.con.sql(
        "SELECT name, valid_from, valid_to FROM core.meeting_history ORDER BY valid_from"
    ).fetchall()
    assert versions == [
        ("Serenity Group", T0, T0 + timedelta(days=1)),
        ("Serenity Group (Room 2)", T0 + timedelta(days=1), None),
    ]


def test_recording_the_same_night_twice_changes_nothing(nights: Nights):
    nights.run({"src": [A]})
    nights.run({"src": [{**A, "name": "Renamed"}]})
    before = nights.con.sql("SELECT count(*) FROM core.meeting_events").fetchall()
    history.record(nights.con, T0 + timedelta(days=1))
    assert nights.con.sql("SELECT count(*) FROM core.meeting_events").fetchall() == before
    assert nights.con.sql("SELECT count(*) FROM core.meeting_history WHERE valid_to IS NULL").fetchall() == [(1,)]


def test_merges_and_splits_of_resolution_are_meeting_events(nights: Nights):
    x, y_apart = record("a", "x"), record("b", "y", start_time=time(21, 0))
    nights.run({"a": [x], "b": []})
    nights.run({"a": [x], "b": [y_apart]})
    old_x, old_y = ids.meeting_id("a", "x"), ids.meeting_id("b", "y")
    nights.run({"a": [x], "b": [record("b", "y")]})
    nights.run({"a": [x], "b": [y_apart]})
    merged = nights.con.sql("SELECT meeting_id, kind, related_meeting_id FROM core.meeting_events "
                            "WHERE kind IN ('merged', 'split') ORDER BY event_at").fetchall()  # fmt: skip
    assert merged == [(old_y, "merged", old_x), (old_y, "split", old_x)]
    assert nights.con.sql(
        "SELECT status FROM core.meeting_lifecycle WHERE meeting_id = $m", params={"m": old_y}
    ).fetchall() == [("active",)]
