"""Content-stable releases: a file whose content did not change is the previous release's file (one inode in
the store under ``published/objects/``), the manifest still lists every checksum, ``last_seen`` and
``last_verified`` live in ``verification.parquet``, regions publish their feed and index unless the operator
opts in to more, and whatever is reused is exactly what a release built from scratch holds."""

from __future__ import annotations

import json
from datetime import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from foundation.settings import settings
from tests.transforms.test_history import Nights
from tests.transforms.test_resolve import record
from tests.warehouse import test_publish
from tests.warehouse.test_publish import A, B, C, release
from warehouse.publish import PUBLISHED_COLUMNS, prune, verify
from warehouse.release_store import OBJECTS, disk_bytes, object_path

home, warehouse = test_publish.home, test_publish.warehouse  # the fixtures of the publish tests

NIGHTLY = {"verification.parquet", "CHANGES.json", "clearinghouse.duckdb", "index.html"}
"""Files that say something about this night (or are rebuilt each night): new every release."""
D = record("src", "d", name="Online Hope", region_code="NY", city="Albany", postal_code="12207", latitude=42.65,
           longitude=-73.75)  # fmt: skip


def files(release_dir: Path) -> dict[str, dict]:
    return {f["path"]: f for f in json.loads((release_dir / "manifest.json").read_text())["files"]}


def test_an_unchanged_file_is_the_previous_releases_file(warehouse: Nights, home: Path):
    first = release(warehouse, home, "R1")
    warehouse.run({"src": [A, B]})  # a quiet night: the meetings were seen again, nothing changed
    second = release(warehouse, home, "R2")
    before, after = files(first), files(second)
    assert set(before) == set(after)
    for path, entry in after.items():
        same = (second / path).samefile(first / path)
        assert same == (path not in NIGHTLY), path
        assert (second / path).samefile(object_path(home / "published", entry["sha256"]))
    assert verify(second)["files"] == list(after.values())  # every file, shared or not, still has its checksum
    assert after["meetings.parquet"]["sha256"] == before["meetings.parquet"]["sha256"]
    assert after["verification.parquet"]["sha256"] != before["verification.parquet"]["sha256"]


def test_last_seen_and_last_verified_are_in_verification_parquet_and_joined_back_in_the_duckdb(
    warehouse: Nights, home: Path
):
    warehouse.run({"src": [A, B]})
    folder = release(warehouse, home, "R1")
    assert pq.read_schema(folder / "meetings.parquet").names == PUBLISHED_COLUMNS
    assert not {"last_seen", "last_verified"} & set(PUBLISHED_COLUMNS)
    verification = pq.read_table(folder / "verification.parquet").to_pylist()
    expected = warehouse.con.sql(
        "SELECT meeting_id, last_seen, last_verified FROM core.meetings WHERE status = 'active' ORDER BY 1"
    ).fetchall()
    assert [(r["meeting_id"], r["last_seen"], r["last_verified"]) for r in verification] == expected
    with duckdb.connect(str(folder / "clearinghouse.duckdb"), read_only=True) as con:
        joined = con.sql("SELECT meeting_id, last_seen, last_verified FROM meetings ORDER BY 1").fetchall()
        columns = con.sql("SELECT * FROM meetings LIMIT 0").columns
    assert joined == expected
    assert columns == [*PUBLISHED_COLUMNS, "last_seen", "last_verified"]


def test_regions_publish_their_feed_and_index_unless_the_operator_opts_in(warehouse: Nights, home: Path):
    folder = release(warehouse, home, "R1")
    assert sorted(p.relative_to(folder).as_posix() for p in (folder / "regions").rglob("*") if p.is_file()) == [
        "regions/new-jersey/index.json",
        "regions/online/index.json",
    ]
    index = json.loads((folder / "regions/new-jersey/index.json").read_text())
    assert index["meeting_guide"] == "meeting-guide/new-jersey.json" and index["meetings"] == 2
    assert index["filter"]["sql"] == "list_contains(regions, 'new-jersey')"
    assert (folder / "meeting-guide/new-jersey.json").is_file()
    warehouse.run({"src": [A, B]})
    opted = release(warehouse, home, "R2", region_formats=("tables", "hsds"))
    assert (opted / "regions/new-jersey/meetings.parquet").is_file()
    assert (opted / "regions/new-jersey/hsds/services.json").is_file()
    assert json.loads((opted / "regions/new-jersey/index.json").read_text())["files"][0] == (
        "meeting-guide/new-jersey.json"
    )


def test_a_region_whose_meetings_did_not_change_reuses_its_files(warehouse: Nights, home: Path):
    warehouse.run({"src": [A, B, D]})
    first = release(warehouse, home, "R1")
    warehouse.run({"src": [A, {**B, "start_time": time(7, 30)}, D]})  # a New Jersey meeting moved
    second = release(warehouse, home, "R2")
    manifest = json.loads((second / "manifest.json").read_text())
    assert manifest["scopes"]["new-york"] == json.loads((first / "manifest.json").read_text())["scopes"]["new-york"]
    assert (second / "meeting-guide/new-york.json").samefile(first / "meeting-guide/new-york.json")
    assert not (second / "meeting-guide/new-jersey.json").samefile(first / "meeting-guide/new-jersey.json")
    assert not (second / "meetings.parquet").samefile(first / "meetings.parquet")


def test_a_release_with_reused_files_holds_what_a_release_from_scratch_holds(
    warehouse: Nights, home: Path, tmp_path: Path
):
    """Ids and content of every night's release equal those of a rebuild that reuses nothing."""
    nights = [
        {"src": [A, B, D]},
        {"src": [A, B, D]},
        {"src": [{**A, "name": "Serenity Now"}, B, D, C]},
        {"src": [{**A, "name": "Serenity Now"}, D, C]},
        {"src": [{**A, "name": "Serenity Now"}, D, C]},
    ]
    for n, listing in enumerate(nights, start=2):
        warehouse.run(listing)
        kept = release(warehouse, home, f"R{n}", region_formats=("tables",))
        scratch = tmp_path / f"scratch-{n}"
        rebuilt = release(warehouse, home, f"R{n}", region_formats=("tables",), published=scratch)
        mine = {p: f["sha256"] for p, f in files(kept).items() if p not in NIGHTLY}
        fresh = {p: f["sha256"] for p, f in files(rebuilt).items() if p not in NIGHTLY}
        assert mine == fresh, f"night {n}"
        assert (kept / "verification.parquet").read_bytes() == (rebuilt / "verification.parquet").read_bytes()


def test_pruned_releases_leave_no_unreferenced_objects(warehouse: Nights, home: Path):
    for n in range(1, 5):
        warehouse.run({"src": [A, B] if n % 2 else [A, B, C]})
        release(warehouse, home, f"R{n}", keep=2)
    published = home / "published"
    assert prune(published, keep=2) == []
    linked = {p.stat().st_ino for r in (published / "releases").iterdir() for p in r.rglob("*") if p.is_file()}
    objects = [p for p in (published / OBJECTS).rglob("*") if p.is_file()]
    assert objects and all(p.stat().st_ino in linked for p in objects)


def test_ten_quiet_nights_take_little_more_than_one_release(warehouse: Nights, home: Path):
    published = home / "published"
    release(warehouse, home, "R00")
    one = disk_bytes(published)
    for n in range(1, 10):
        warehouse.run({"src": [A, B]})
        release(warehouse, home, f"R{n:02}")
    last = published / "releases" / "R09"
    nightly = sum(f["bytes"] for p, f in files(last).items() if p in NIGHTLY) + (last / "manifest.json").stat().st_size
    assert disk_bytes(published) <= one + 9 * nightly


@pytest.mark.parametrize("value, expected", [("", ()), ("none", ()), ("hsds, tables", ("tables", "hsds")),
                                             ("all", ("tables", "hsds"))])  # fmt: skip
def test_region_formats_setting(value: str, expected: tuple[str, ...]):
    assert settings({"CLEARINGHOUSE_REGION_FORMATS": value}).region_formats == expected


def test_an_unknown_region_format_is_refused_by_name():
    with pytest.raises(ValueError, match=r"CLEARINGHOUSE_REGION_FORMATS='geojson'.*tables, hsds"):
        settings({"CLEARINGHOUSE_REGION_FORMATS": "geojson"})


def test_the_data_dictionary_documents_every_release_column_that_is_not_a_canonical_field():
    from foundation.model import CANONICAL_FIELDS
    from warehouse.dictionary import RELEASE_COLUMNS
    from warehouse.exporters.verification import COLUMNS

    canonical = {f.name for f in CANONICAL_FIELDS}
    documented = [c for c, _, _ in RELEASE_COLUMNS]
    assert documented == [*(c for c in PUBLISHED_COLUMNS if c not in canonical), *COLUMNS[1:]]
