"""Releases are atomic and versioned: a reader never sees a partial release (not even when the publisher is
killed), only the newest releases are kept, ``latest`` can be rolled back, and CHANGES.json says what
changed against the previous release."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time as clock
from collections.abc import Iterator
from datetime import time
from pathlib import Path

import duckdb
import pytest
import yaml

from clearinghouse.cli import main
from foundation import ids
from tests.conftest import REPO
from tests.transforms.test_history import Nights
from tests.transforms.test_resolve import record
from transforms.regions import load_regions
from warehouse.db import migrate
from warehouse.publish import ReleaseError, prune, publish, rollback, verify

A = record("src", "a")
B = record("src", "b", name="Early Birds", start_time=time(7, 0))
C = record("src", "c", name="Night Owls", start_time=time(22, 0))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "regions.yaml").write_text(yaml.safe_dump({"regions": [
        {"id": "new-jersey", "name": "New Jersey", "states": ["NJ"]}, {"id": "online", "name": "Online", "online": True}
    ]}))  # fmt: skip
    monkeypatch.setenv("CLEARINGHOUSE_HOME", str(home))
    monkeypatch.setenv("CLEARINGHOUSE_REGIONS", str(tmp_path / "regions.yaml"))
    monkeypatch.delenv("CLEARINGHOUSE_S3_BUCKET", raising=False)
    return home


@pytest.fixture
def warehouse(home: Path) -> Iterator[Nights]:
    """A warehouse file whose first night listed meetings A and B (close after one missing night)."""
    con = duckdb.connect(str(home / "warehouse.duckdb"))
    migrate(con)
    nights = Nights(con, close_after=1)
    nights.run({"src": [A, B]})
    yield nights
    con.close()


def release(nights: Nights, home: Path, release_id: str, keep: int = 10, published: Path | None = None,
            **kwargs) -> Path:  # fmt: skip
    regions = load_regions(home.parent / "regions.yaml")
    return publish(nights.con, published or home / "published", release_id, {"run_id": release_id}, keep,
                   regions=regions, **kwargs).path  # fmt: skip


def latest(home: Path) -> str:
    return (home / "published" / "latest").resolve().name


def test_a_release_is_complete_verified_and_latest(warehouse: Nights, home: Path):
    path = release(warehouse, home, "R1")
    manifest = verify(path)
    assert latest(home) == "R1" and manifest["counts"]["meetings"] == 2
    assert manifest["counts"]["regions"] == {"new-jersey": 2, "online": 0}
    assert not list((home / "published" / "releases").glob(".tmp-*"))


def test_a_reader_during_publishing_always_sees_a_complete_release(warehouse: Nights, home: Path):
    release(warehouse, home, "R0")
    seen: list[str] = []
    failures: list[BaseException] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            try:
                current = (home / "published" / "latest").resolve()  # resolve once, then read that release
                verify(current)
                seen.append(current.name)
            except BaseException as exc:
                failures.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for n in range(1, 5):
            release(warehouse, home, f"R{n}")
    finally:
        done.set()
        thread.join()
    assert failures == []
    assert len(set(seen)) >= 3 and len(seen) > 10  # it read while latest moved from release to release


KILLED_PUBLISHER = """
import sys, time
from pathlib import Path
import duckdb
from transforms.regions import load_regions
from warehouse.publish import publish

home, regions = Path(sys.argv[1]), load_regions(Path(sys.argv[2]))
con = duckdb.connect(str(home / "warehouse.duckdb"))

def check(folder):
    (home / "building").write_text(str(folder))
    time.sleep(60)  # killed here: every data file written, nothing verified or renamed yet
    return {}

publish(con, home / "published", "R2", {}, regions=regions, check=check)
"""


def test_a_publisher_killed_mid_way_leaves_latest_on_the_previous_release(warehouse: Nights, home: Path):
    release(warehouse, home, "R1")
    warehouse.con.close()
    child = subprocess.Popen([sys.executable, "-c", KILLED_PUBLISHER, str(home), str(home.parent / "regions.yaml")],
                             cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})  # fmt: skip
    try:
        deadline = clock.monotonic() + 120
        while not (home / "building").exists():
            assert child.poll() is None and clock.monotonic() < deadline, "the publisher never got to the gate"
            clock.sleep(0.05)
        assert Path((home / "building").read_text()).name.startswith(".tmp-R2-")
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    assert latest(home) == "R1" and verify(home / "published" / "latest")["release_id"] == "R1"
    assert not (home / "published" / "releases" / "R2").exists()
    warehouse.con = duckdb.connect(str(home / "warehouse.duckdb"))
    release(warehouse, home, "R3")
    assert not list((home / "published" / "releases").glob(".tmp-*"))  # the dead publisher's files are gone
    assert latest(home) == "R3"


def test_a_failing_gate_publishes_nothing(warehouse: Nights, home: Path):
    release(warehouse, home, "R1")

    def gate(folder: Path) -> dict:
        raise RuntimeError("blocked")

    with pytest.raises(RuntimeError, match="blocked"):
        release(warehouse, home, "R2", check=gate)
    assert latest(home) == "R1"
    assert sorted(p.name for p in (home / "published" / "releases").iterdir()) == ["R1"]


def test_publishing_a_release_id_again_only_points_latest_at_it(warehouse: Nights, home: Path):
    first = verify(release(warehouse, home, "R1"))
    release(warehouse, home, "R2")
    assert verify(release(warehouse, home, "R1")) == first
    assert latest(home) == "R1"


def test_only_the_newest_releases_are_kept_and_never_the_latest(warehouse: Nights, home: Path):
    for n in range(1, 4):
        release(warehouse, home, f"R{n}", keep=2)
    releases = home / "published" / "releases"
    assert sorted(p.name for p in releases.iterdir()) == ["R2", "R3"]
    rollback(home / "published", "R2")
    assert prune(home / "published", keep=1) == []  # R3 is newer, R2 is latest: both stay
    assert sorted(p.name for p in releases.iterdir()) == ["R2", "R3"]


def test_rollback_points_latest_back_at_a_kept_release(warehouse: Nights, home: Path):
    release(warehouse, home, "R1")
    release(warehouse, home, "R2")
    assert main(["publish", "--rollback", "R1"]) == 0
    assert latest(home) == "R1"
    assert main(["publish", "--rollback", "R9"]) == 1
    assert latest(home) == "R1"


def test_rollback_refuses_a_release_whose_files_changed(warehouse: Nights, home: Path):
    release(warehouse, home, "R1")
    release(warehouse, home, "R2")
    (home / "published" / "releases" / "R1" / "meetings.csv").write_text("tampered\n")
    with pytest.raises(ReleaseError, match="checksum"):
        rollback(home / "published", "R1")
    assert latest(home) == "R2"


def test_changes_list_added_removed_and_changed_meetings_with_their_fields(warehouse: Nights, home: Path):
    release(warehouse, home, "R1")
    warehouse.run({"src": [{**A, "start_time": time(19, 30), "end_time": time(20, 30)}, C]})
    changes = json.loads((release(warehouse, home, "R2") / "CHANGES.json").read_text())
    assert changes["previous_release_id"] == "R1"
    assert changes["added"] == [ids.meeting_id("src", "c")]
    assert changes["removed"] == [ids.meeting_id("src", "b")]
    assert changes["changed"] == [{"meeting_id": ids.meeting_id("src", "a"), "fields": ["start_time", "end_time"]}]
    assert changes["counts"] == {"added": 1, "removed": 1, "changed": 1}


def test_clearinghouse_publish_publishes_the_current_warehouse(warehouse: Nights, home: Path):
    warehouse.con.close()
    registry = home.parent / "sources.yaml"
    registry.write_text(yaml.safe_dump({"sources": [{"id": "src", "name": "Source", "fellowship": "AA",
                                                     "kind": "meeting_guide", "url": "https://example.org/feed",
                                                     "timezone": "America/New_York"}]}))  # fmt: skip
    assert main(["publish", "--sources", str(registry)]) == 0
    manifest = verify(home / "published" / "latest")
    assert manifest["run_id"].startswith("publish__") and manifest["counts"]["meetings"] == 2
    assert manifest["quality"]["status"] in ("passed", "warning")
