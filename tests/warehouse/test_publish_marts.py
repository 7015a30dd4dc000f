"""The analyst marts: every SQL example of docs/analysts.md runs against the demo warehouse, and the
survival estimate, the settings and the parity shares are right on hand-made data."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REPO

DOC = REPO / "docs" / "analysts.md"
QUERIES = re.findall(r"```sql\n(.*?)```", DOC.read_text(), flags=re.S)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_analyst_guide_has_examples_for_every_mart():
    marts = {"meetings_by_region", "coverage_gaps", "informational_parity", "source_health", "meeting_changes",
             "group_survival"}  # fmt: skip
    assert marts <= {m for q in QUERIES for m in re.findall(r"marts\.(\w+)", q)}


@pytest.mark.parametrize("query", QUERIES, ids=[f"example-{i}" for i in range(len(QUERIES))])
def test_every_example_query_of_the_guide_runs_on_the_demo_warehouse(demo_home: Path, query: str):
    with duckdb.connect(str(demo_home / "warehouse.duckdb"), read_only=True) as con:
        rows = con.sql(query).fetchall()
    assert rows or "kind = 'changed'" in query  # the demo warehouse has one night: nothing has changed yet


@pytest.fixture
def con() -> Iterable[duckdb.DuckDBPyConnection]:
    from warehouse.db import migrate

    connection = duckdb.connect()
    migrate(connection)
    yield connection
    connection.close()


def lifetimes(con: duckdb.DuckDBPyConnection, meetings: list[tuple[str, str, str | None, int, bool]]) -> None:
    """(meeting id, fellowship, venue name, days listed, closed) as the history leaves them."""
    for meeting_id, fellowship, venue, days, closed in meetings:
        con.execute(
            "INSERT INTO core.meeting_lifecycle VALUES (?, ?, ?, ?, ?, ?)",
            [meeting_id, "closed" if closed else "active", T0, T0 + timedelta(days=days), None, None],
        )
        con.execute(
            "INSERT INTO core.meeting_history (meeting_id, valid_from, version_hash, fellowship, attendance, "
            "venue_name, sources) VALUES (?, ?, 'h', ?, 'in_person', ?, [])",
            [meeting_id, T0, fellowship, venue],
        )


def test_kaplan_meier_survival_of_a_small_cohort(con: duckdb.DuckDBPyConnection):
    lifetimes(con, [("m1", "AA", None, 1, True), ("m2", "AA", None, 2, True), ("m3", "AA", None, 2, False),
                    ("m4", "AA", None, 3, True), ("m5", "AA", None, 5, False)])  # fmt: skip
    rows = con.sql(
        "SELECT days, at_risk, closed, censored, round(survival, 4) FROM marts.group_survival "
        "WHERE dimension = 'fellowship' AND stratum = 'AA' ORDER BY days"
    ).fetchall()
    # S(1) = 4/5; S(2) = 0.8 × 3/4; S(3) = 0.6 × 1/2; the censored meeting at day 5 leaves S unchanged
    assert rows == [(1, 5, 1, 0, 0.8), (2, 4, 1, 1, 0.6), (3, 2, 1, 0, 0.3), (5, 1, 0, 1, 0.3)]


def test_settings_come_from_the_venue_name(con: duckdb.DuckDBPyConnection):
    lifetimes(con, [("m1", "AA", "St. Mark's Episcopal Church", 1, False), ("m2", "AA", "Alano Club", 1, False),
                    ("m3", "NA", "Mercy Hospital, Room 2", 1, False), ("m4", "AA", "Public Library", 1, False),
                    ("m5", "AA", "The Red Barn", 1, False), ("m6", "AA", None, 1, False)])  # fmt: skip
    settings = dict(con.sql("SELECT meeting_id, setting FROM marts.meeting_lifetimes").fetchall())
    assert settings == {"m1": "religious", "m2": "clubhouse", "m3": "healthcare", "m4": "community", "m5": "other",
                        "m6": "unknown"}  # fmt: skip


def test_informational_parity_is_the_share_of_non_12_step_meetings(con: duckdb.DuckDBPyConnection):
    for meeting_id, fellowship in (("m1", "AA"), ("m2", "NA"), ("m3", "SMART"), ("m4", "AA")):
        con.execute(
            "INSERT INTO core.meetings (meeting_id, fellowship, sources) VALUES (?, ?, [])", [meeting_id, fellowship]
        )
        con.execute("INSERT INTO core.meeting_regions (meeting_id, region_id) VALUES (?, 'r')", [meeting_id])
    assert con.sql(
        "SELECT meetings, non_twelve_step, non_twelve_step_share FROM marts.informational_parity"
    ).fetchall() == [(4, 1, 0.25)]
