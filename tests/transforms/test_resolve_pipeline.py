"""Resolution inside the whole pipeline: the San Jose intergroup's 2019 WordPress feed and 2021 Sheets feed
as two sources of one run, then ``clearinghouse explain`` on a meeting both back."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
import yaml

from clearinghouse.cli import main
from tests.conftest import SNAPSHOTS
from tests.support import serve

pytestmark = pytest.mark.slow

FEEDS = {
    "sanjose-aa": SNAPSHOTS / "mg" / "aasanjose-sheets_santa-clara-county-ca_2021-10.json",
    "sanjose-wp-aa": SNAPSHOTS / "mg" / "aasanjose-wp_santa-clara-county-ca_2019-07-26.json",
}


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Two runs of both feeds; the published meetings and meeting ids of each run."""
    home = tmp_path_factory.mktemp("home")
    patch = pytest.MonkeyPatch()
    patch.setenv("CLEARINGHOUSE_HOME", str(home))
    patch.delenv("CLEARINGHOUSE_DEMO_URL", raising=False)
    routes = {f"/{sid}.json": (200, path.read_bytes(), "application/json") for sid, path in FEEDS.items()}
    try:
        with serve(routes) as base:
            registry = home / "sources.yaml"
            registry.write_text(yaml.safe_dump({"sources": [
                {"id": sid, "name": sid, "fellowship": "AA", "kind": "meeting_guide", "url": f"{base}/{sid}.json",
                 "timezone": "America/Los_Angeles"} for sid in FEEDS]}))  # fmt: skip
            runs = []
            for _ in range(2):
                assert main(["run", "--sources", str(registry)]) == 0
                runs.append(pq.read_table(home / "published" / "latest" / "meetings.parquet").to_pylist())
        yield {"home": home, "runs": runs}
    finally:
        patch.undo()


def both_sources(meetings: list[dict]) -> list[dict]:
    return [m for m in meetings if {s["source_id"] for s in m["sources"]} == set(FEEDS)]


def test_meetings_listed_by_both_systems_are_published_once_with_both_sources(pipeline):
    first = pipeline["runs"][0]
    shared = both_sources(first)
    assert len(shared) > 400
    attitude = [
        m for m in shared if {"source_id": "sanjose-wp-aa", "source_key": "attitude-adjustment-5"} in m["sources"]
    ]
    assert [s["source_key"] for s in attitude[0]["sources"]] == ["attitude-adjustment-5", "attitude-adjustment-5"]


def test_a_second_run_publishes_the_same_meeting_ids(pipeline):
    first, second = pipeline["runs"]
    assert sorted(m["meeting_id"] for m in first) == sorted(m["meeting_id"] for m in second)


def test_explain_prints_a_meeting_backed_by_two_sources(pipeline, capsys):
    meeting = both_sources(pipeline["runs"][1])[0]
    capsys.readouterr()
    assert main(["explain", meeting["meeting_id"]]) == 0
    out = capsys.readouterr().out
    assert f"{meeting['meeting_id']}: active" in out
    assert "members (2):" in out
    assert "sanjose-aa/" in out and "sanjose-wp-aa/" in out
    assert "name≈" in out


def test_explain_of_an_unknown_id_exits_nonzero(pipeline, capsys):
    assert main(["explain", "m-doesnotexist"]) == 1
    assert "unknown" in capsys.readouterr().out


def test_venues_are_built_from_the_published_meetings(pipeline):
    with duckdb.connect(str(Path(pipeline["home"]) / "warehouse.duckdb"), read_only=True) as con:
        (venues, unplaced) = con.sql(
            "SELECT (SELECT count(*) FROM core.venues), "
            "(SELECT count(*) FROM core.meetings WHERE attendance = 'in_person' AND venue_id IS NULL)"
        ).fetchall()[0]
    assert venues > 50
    assert unplaced < 10


def test_a_quiet_night_rematches_nothing_and_a_full_pass_agrees(pipeline, capsys):
    """Issue O: the second night (neither feed changed) re-scored no pair; ``clearinghouse resolve --full`` and
    the weekly maintenance re-score all and move no record."""
    from clearinghouse.pipeline import weekly_maintenance

    warehouse = pipeline["home"] / "warehouse.duckdb"

    def links() -> list[tuple]:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return con.sql("SELECT source_id, source_key, meeting_id FROM core.meeting_links ORDER BY ALL").fetchall()

    def rematched() -> list[int]:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return [r for (r,) in con.sql("SELECT (counts->>'rematched')::INTEGER FROM ops.stage_runs "
                                          "WHERE stage = 'resolve' ORDER BY started_at").fetchall()]  # fmt: skip

    before = links()
    assert rematched()[0] == len(before) > 1000
    assert rematched()[1] == 0
    capsys.readouterr()
    assert main(["resolve", "--full", "--sources", str(pipeline["home"] / "sources.yaml")]) == 0
    assert "0 merges, 0 splits, 0 moves" in " ".join(capsys.readouterr().err.split())
    assert links() == before and rematched()[-1] == len(before)
    assert weekly_maintenance()["full_resolution"] | {"records": 0, "meetings": 0} == {
        "records": 0, "observed": 0, "meetings": 0, "merges": 0, "splits": 0, "moves": 0
    }  # fmt: skip
    assert links() == before
