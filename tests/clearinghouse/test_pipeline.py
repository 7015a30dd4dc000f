"""The whole pipeline without Airflow, on real recorded feeds served from a local server."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
import yaml

from clearinghouse.cli import main
from extractors.bmlt import SWITCHERS
from extractors.bmlt import urls as bmlt_urls
from tests.conftest import SNAPSHOTS
from tests.support import serve
from warehouse import normalize, operator_report

JSON = "application/json"
NEPA = (SNAPSHOTS / "mg" / "aaintergroupnepa_ne-pennsylvania_2026-03-20.json").read_bytes()
SUSSEX = (SNAPSHOTS / "mg" / "sussexaa_sussex-county-de_2022-09-01.json").read_bytes()
GNY = {name: (SNAPSHOTS / "gny-na" / f"{name}.json").read_bytes() for name in
       ("GetSearchResults", "GetFormats", "GetServiceBodies")}  # fmt: skip


def routes() -> dict[str, tuple[int, bytes, str]]:
    # A legacy server: its search answers a bare list, so the fetch asks GetFormats as well.
    bmlt = {bmlt_urls("/na/")[part]: (200, GNY[switcher], JSON) for part, switcher in SWITCHERS.items()}
    return {
        **bmlt,
        "/nepa.json": (200, NEPA, JSON),
        "/sussex.json": (200, SUSSEX, JSON),
        "/truncated.json": (200, SUSSEX[: len(SUSSEX) // 2], JSON),
        "/down.json": (500, b"Internal Server Error", "text/plain"),
    }


def registry(tmp_path: Path, base: str) -> Path:
    def mg(sid: str, path: str) -> dict:
        return {"id": sid, "name": sid, "fellowship": "AA", "kind": "meeting_guide", "url": base + path,
                "timezone": "America/New_York"}  # fmt: skip

    sources = [
        {
            "id": "gny-na",
            "name": "GNY",
            "fellowship": "NA",
            "kind": "bmlt",
            "url": base + "/na/",
            "timezone": "America/New_York",
        },
        mg("nepa-aa", "/nepa.json"),
        mg("sussex-aa", "/sussex.json"),
        mg("truncated-aa", "/truncated.json"),
        mg("down-aa", "/down.json"),
        mg("refused-aa", "/x.json") | {"url": "http://127.0.0.1:9/x.json"},
    ]
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"sources": sources}))
    return path


def manifest(home: Path) -> dict:
    return json.loads((home / "published" / "latest" / "manifest.json").read_text())


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("pipeline") / "home"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CLEARINGHOUSE_HOME", str(home))
        mp.delenv("CLEARINGHOUSE_DEMO_URL", raising=False)
        yield home


@pytest.fixture(scope="module")
def two_runs(home: Path, tmp_path_factory: pytest.TempPathFactory):
    tmp_path = tmp_path_factory.mktemp("registry")
    # Small batches, so the first night normalizes GNY (1,555 records) alone, then NEPA, then Sussex.
    with serve(routes()) as base, pytest.MonkeyPatch.context() as mp:
        mp.setattr(normalize, "NORMALIZE_BATCH_RECORDS", 600)
        sources = registry(tmp_path, base)
        assert main(["run", "--sources", str(sources)]) == 0
        first = manifest(home)
        ids_first = pq.read_table(home / "published" / "latest" / "meetings.parquet").column("meeting_id")
        assert main(["run", "--sources", str(sources)]) == 0
        second = manifest(home)
        ids_second = pq.read_table(home / "published" / "latest" / "meetings.parquet").column("meeting_id")
    return first, second, ids_first.to_pylist(), ids_second.to_pylist()


def test_normalize_batches_hold_whole_fetches_in_order():
    sizes = [("a", 1555), ("b", 480), ("c", 123), ("d", 100), ("e", 600)]
    assert normalize.batches(sizes, limit=600) == [["a"], ["b"], ["c", "d"], ["e"]]
    assert normalize.batches([], limit=600) == []


def status(m: dict) -> dict[str, str]:
    return {s["id"]: s["status"] for s in m["sources"]}


def test_healthy_sources_publish_and_failures_are_reported(two_runs):
    first, *_ = two_runs
    assert status(first) == {"gny-na": "ok", "nepa-aa": "ok", "sussex-aa": "ok", "truncated-aa": "failed",
                             "down-aa": "failed", "refused-aa": "failed"}  # fmt: skip
    reasons = {s["id"]: s.get("reason", "") for s in first["sources"]}
    assert "not valid JSON" in reasons["truncated-aa"]
    assert "500" in reasons["down-aa"]
    assert "refused" in reasons["refused-aa"].lower() or "connect" in reasons["refused-aa"].lower()


def test_every_healthy_record_is_published_or_quarantined(two_runs, home: Path):
    first, *_ = two_runs
    per_source = {s["id"]: s["records"] for s in first["sources"]}
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        quarantined = dict(con.sql("SELECT source_id, count(*) FROM core.quarantine GROUP BY 1").fetchall())
    assert per_source["nepa-aa"] + quarantined.get("nepa-aa", 0) == 480
    assert per_source["sussex-aa"] + quarantined.get("sussex-aa", 0) == 123
    assert per_source["gny-na"] + quarantined.get("gny-na", 0) == 1555
    assert quarantined["gny-na"] >= 42  # unpublished on the server itself


def test_second_run_reparses_nothing_and_keeps_meeting_ids(two_runs):
    _, second, ids_first, ids_second = two_runs
    assert {k: v for k, v in status(second).items() if v != "failed"} == {
        "gny-na": "unchanged", "nepa-aa": "unchanged", "sussex-aa": "unchanged"}  # fmt: skip
    assert sorted(ids_first) == sorted(ids_second)
    assert len(ids_first) == len(set(ids_first))


def test_manifest_lists_files_with_checksums_and_provenance(two_runs, home: Path):
    first, *_ = two_runs
    files = {f["path"]: f for f in first["files"]}
    assert set(files) >= {"meetings.parquet", "meetings.csv", "clearinghouse.duckdb"}
    table = pq.read_table(home / "published" / "latest" / "meetings.parquet")
    assert files["meetings.parquet"]["rows"] == table.num_rows == first["counts"]["meetings"]
    sources = table.column("sources").to_pylist()
    assert all(len(s) >= 1 and s[0]["source_id"] and s[0]["source_key"] for s in sources)


def test_contact_fields_never_reach_published_files(two_runs, home: Path):
    published = (home / "published" / "latest" / "meetings.csv").read_text()
    assert "contact_1" not in published
    # the scrubbed contacts (person@example.org) only as NEPA's official entity_email, never elsewhere
    rows = list(csv.DictReader(io.StringIO(published)))
    assert {r["entity_email"] for r in rows if "person@example.org" in r["entity_email"]}
    assert not [r for r in rows if "person@example.org" in json.dumps({k: v for k, v in r.items()
                                                                       if k != "entity_email"})]  # fmt: skip


def test_report_lists_reconciliation_quarantine_and_unknown_codes(two_runs, home: Path, capsys):
    assert main(["report"]) == 0
    out = capsys.readouterr().out
    assert "unpublished_at_source" in out  # GNY's 42 meetings the server itself withholds
    assert "what the sources said" in out
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        said = {row[0]: row[1:] for row in operator_report.fidelity(con)}
    # records, address_unparsed, end time given / from a duration / none, monthly, inactive
    assert said["nepa-aa"] == (480, 0, 250, 0, 230, 0, 0)
    assert said["gny-na"][2:5] == (0, 1513, 0)
    assert "gny-na" in out and "True" in out
