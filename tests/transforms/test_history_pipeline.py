"""The grace period through the whole pipeline and its releases: a meeting removed from a real feed stays
published for two healthy nights and closes on the third; a night the source fails counts for nothing."""

from __future__ import annotations

import json
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
import yaml

from clearinghouse.cli import main
from foundation import ids
from tests.conftest import SNAPSHOTS
from tests.support import serve

pytestmark = pytest.mark.slow

FEED = json.loads((SNAPSHOTS / "mg" / "sussexaa_sussex-county-de_2022-09-01.json").read_bytes())
REMOVED = FEED[0]["slug"]
MEETING = ids.meeting_id("sussex-aa", REMOVED)
FULL = json.dumps(FEED).encode()
WITHOUT = json.dumps(FEED[1:]).encode()
NIGHTS = (("full", FULL), ("healthy", WITHOUT), ("failed", None), ("healthy", WITHOUT), ("healthy", WITHOUT))
"""Night 0 lists the meeting; then it is missing on healthy nights 1, 3 and 4, and the fetch fails on night 2."""


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    home = tmp_path_factory.mktemp("grace") / "home"
    routes: dict[str, tuple[int, bytes, str]] = {}
    results = []
    with serve(routes) as base, pytest.MonkeyPatch.context() as mp:
        mp.setenv("CLEARINGHOUSE_HOME", str(home))
        mp.delenv("CLEARINGHOUSE_DEMO_URL", raising=False)
        registry = home.parent / "sources.yaml"
        registry.write_text(yaml.safe_dump({"sources": [{"id": "sussex-aa", "name": "Sussex", "fellowship": "AA",
                                                         "kind": "meeting_guide", "url": f"{base}/sussex.json",
                                                         "timezone": "America/New_York"}]}))  # fmt: skip
        for _, body in NIGHTS:
            routes["/sussex.json"] = (200, body, "application/json") if body else (500, b"down", "text/plain")
            code = main(["run", "--sources", str(registry)])
            latest = home / "published" / "latest"
            with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
                closed = con.sql(
                    "SELECT meeting_id, event_at FROM core.meeting_events WHERE kind = 'closed'"
                ).fetchall()
                [run] = con.sql("SELECT status, error FROM ops.runs ORDER BY started_at DESC LIMIT 1").fetchall()
            results.append({
                "code": code,
                "run": run,
                "published": set(pq.read_table(latest / "meetings.parquet", columns=["meeting_id"])[0].to_pylist()),
                "mg_slugs": {m["slug"] for m in json.loads((latest / "meeting-guide.json").read_text())},
                "changes": json.loads((latest / "CHANGES.json").read_text()),
                "manifest": json.loads((latest / "manifest.json").read_text()),
                "closed": closed,
            })  # fmt: skip
    return results


def test_the_removed_meeting_stays_published_until_the_third_healthy_night(nights):
    assert [MEETING in n["published"] for n in nights] == [True, True, True, True, False]
    assert [MEETING in n["mg_slugs"] for n in nights] == [True, True, True, True, False]


def test_the_failed_night_is_reported_and_closes_nothing(nights):
    """Its only source failed: nothing to publish (exit 2), ``latest`` stays the previous night's release."""
    failed = nights[2]
    assert [n["code"] for n in nights] == [0, 0, 2, 0, 0]
    status, error = failed["run"]
    assert status == "nothing_to_publish" and "1 failed: sussex-aa" in error
    assert failed["manifest"]["release_id"] == nights[1]["manifest"]["release_id"]
    assert failed["closed"] == []
    assert failed["published"] == nights[1]["published"]


def test_the_close_is_one_event_and_the_release_says_the_meeting_was_removed(nights):
    assert [m for m, _ in nights[-1]["closed"]] == [MEETING]
    assert nights[-1]["changes"]["removed"] == [MEETING]
    assert nights[-1]["changes"]["counts"] == {"added": 0, "removed": 1, "changed": 0}
    assert all(n["changes"]["removed"] == [] for n in nights[1:-1])
