"""Informational parity on the demo release: the referral directory (``directory.json``, HSDS referrals), the
parity and coverage marts (migration 010), the manifest's counts per fellowship and category, the page."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from foundation.fellowship import CATEGORIES, load_directory
from tests.conftest import REPO

DIRECTORY = {f.code: f for f in load_directory(REPO / "fellowships")}


@pytest.fixture(scope="module")
def published(demo_release: Path) -> dict[str, Any]:
    return json.loads((demo_release / "directory.json").read_text())


@pytest.fixture(scope="module")
def con(demo_home: Path) -> duckdb.DuckDBPyConnection:
    with duckdb.connect(str(demo_home / "warehouse.duckdb"), read_only=True) as connection:
        yield connection


def test_directory_lists_every_fellowship_with_finder_category_and_regions(published: dict[str, Any]) -> None:
    entries = {e["code"]: e for e in published["fellowships"]}
    assert set(entries) == set(DIRECTORY)
    for code, e in entries.items():
        assert e["category"] == DIRECTORY[code].category and e["website"] == DIRECTORY[code].website
        assert e["finder_url"] == DIRECTORY[code].finder_url and e["unverified"] == DIRECTORY[code].unverified
    aa, rd, wfs, nami = entries["AA"], entries["RD"], entries["WFS"], entries["NAMI"]
    assert aa["status"] == "meetings listed" and aa["fetched"] and aa["meetings"] > 0
    assert {r["region_id"] for r in aa["regions"]} >= {"california", "new-york-city", "online"}
    assert rd["status"] == "referral only" and not rd["fetched"] and rd["regions"] == []
    assert wfs["link_only_sources"] == 1 and not wfs["fetched"]  # listed in the registry, never fetched
    assert nami["helpline"] == "+18009506264" and nami["listing"] == "organizations"


def test_directory_regions_show_each_category_listed_or_referral_only(published: dict[str, Any]) -> None:
    regions = {r["region_id"]: r for r in published["regions"]}
    massachusetts = {c["category"]: c for c in regions["massachusetts"]["categories"]}
    assert list(massachusetts) == list(CATEGORIES)
    assert massachusetts["12-step"]["status"] == "meetings listed"
    assert set(massachusetts["12-step"]["listed"]) == {"AL-ANON", "NA"}
    assert massachusetts["buddhist"] == {"category": "buddhist", "status": "referral only", "meetings": 0,
                                         "listed": [], "referral_only": ["RD", "RR"]}  # fmt: skip


def test_manifest_counts_meetings_per_fellowship_and_category(demo_release: Path) -> None:
    counts = json.loads((demo_release / "manifest.json").read_text())["counts"]
    by_fellowship, by_category = counts["meetings_by_fellowship"], counts["meetings_by_category"]
    assert sum(by_fellowship.values()) == sum(by_category.values()) == counts["meetings"]
    assert set(by_fellowship) >= set(DIRECTORY) and by_fellowship["SMART"] == 0
    assert list(by_category) == list(CATEGORIES)
    assert by_category["12-step"] == by_fellowship["AA"] + by_fellowship["NA"] + by_fellowship["AL-ANON"]
    entry = next(f for f in json.loads((demo_release / "manifest.json").read_text())["files"]
                 if f["path"] == "directory.json")  # fmt: skip
    assert entry["rows"] == len(DIRECTORY)


def test_parity_mart_has_every_region_and_category(con: duckdb.DuckDBPyConnection) -> None:
    regions = con.execute("SELECT count(*) FROM core.regions").fetchone()[0]
    rows = con.execute("SELECT region_id, category, status, meetings FROM marts.fellowship_parity").fetchall()
    assert len(rows) == regions * len(CATEGORIES)
    assert {s for _, _, s, _ in rows} == {"meetings listed", "referral only"}
    assert all((status == "referral only") == (meetings == 0) for _, _, status, meetings in rows)
    listed = con.execute(
        "SELECT sum(meetings) FROM marts.fellowship_parity WHERE region_id = 'pennsylvania'"
    ).fetchone()
    direct = con.execute("SELECT count(*) FROM core.meeting_regions r JOIN core.meetings m USING (meeting_id) "
                     "WHERE r.region_id = 'pennsylvania' AND m.status = 'active'").fetchone()  # fmt: skip
    assert listed == direct


def test_coverage_mart_counts_sources_and_meetings_per_state_and_fellowship(con: duckdb.DuckDBPyConnection) -> None:
    states = con.execute("SELECT count(*) FROM ref.us_states").fetchone()[0]
    assert con.execute("SELECT count(*) FROM marts.fellowship_coverage").fetchone()[0] == states * len(DIRECTORY)
    row = dict(zip(("sources", "meetings"), con.execute(
        "SELECT sources, meetings FROM marts.fellowship_coverage WHERE state = 'MA' AND fellowship = 'AL-ANON'"
    ).fetchone(), strict=True))  # fmt: skip
    assert row["sources"] == 1 and row["meetings"] > 300  # alanon-ma
    gaps = dict(con.execute("SELECT fellowship, states_with_source FROM marts.fellowship_source_gaps").fetchall())
    assert gaps["SMART"] == 0 and gaps["AA"] >= 5
    smart = con.execute(
        "SELECT states_without FROM marts.fellowship_source_gaps WHERE fellowship = 'SMART'"
    ).fetchone()[0]
    assert len(smart) == states


def test_hsds_has_a_referral_service_per_fellowship_in_every_scope(demo_release: Path) -> None:
    for folder in [demo_release / "hsds", demo_release / "regions" / "vermont" / "hsds"]:
        with (folder / "services.csv").open(newline="") as f:
            referrals = [r for r in csv.DictReader(f) if r["name"].startswith("Find a ")]
        assert len(referrals) == len(DIRECTORY)
        rd = next(r for r in referrals if "Recovery Dharma" in r["name"])
        assert rd["url"] == DIRECTORY["RD"].finder_url and rd["status"] == "active"
        with (folder / "organizations.csv").open(newline="") as f:
            assert len(list(csv.DictReader(f))) == len(DIRECTORY)
    with (demo_release / "hsds" / "phones.csv").open(newline="") as f:
        assert any(r["number"] == "+18009506264" and "NAMI" in r["description"] for r in csv.DictReader(f))


def test_release_page_shows_parity_and_coverage(demo_release: Path) -> None:
    page = (demo_release / "index.html").read_text()
    assert 'id="fellowships"' in page and 'id="coverage"' in page and 'href="directory.json"' in page
    assert "referral only" in page and DIRECTORY["SMART"].finder_url in page
