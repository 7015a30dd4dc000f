"""The organization source-family interface on a constructed DBSA chapter page (``tests/fixtures/organizations``)
and its HSDS rows (official columns, required fields, references that resolve)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from extractors.html.base import LISTING
from extractors.organizations import dbsa_chapters
from extractors.records import LayoutChanged, Snapshot, SnapshotPart
from foundation.ids import uuid_for, uuid_sql
from warehouse.exporters import hsds
from warehouse.exporters.organizations import hsds_rows

PAGE = Path(__file__).resolve().parents[1] / "fixtures" / "organizations" / "dbsa_chapters" / "illinois.html"
URL = "https://chapters.example.org/illinois"


def _snapshot(body: bytes) -> Snapshot:
    return Snapshot(source_id="dbsa-il", fetch_id="f1", fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
                    parts=(SnapshotPart(f"{LISTING}-1", URL, body),))  # fmt: skip


def test_chapters_with_their_groups() -> None:
    lakeshore, prairie = dbsa_chapters.parse(_snapshot(PAGE.read_bytes()))
    assert (lakeshore.name, lakeshore.address, lakeshore.city, lakeshore.region_code, lakeshore.postal_code) == (
        "DBSA Example Lakeshore",
        "Lakeshore Community Center, 100 Example Ave",
        "Chicago",
        "IL",
        "60601",
    )
    assert lakeshore.website == "https://lakeshore.example.org/" and lakeshore.email == "info@lakeshore.example.org"
    assert [g.schedule for g in lakeshore.groups] == ["Tuesdays, 7:00 pm", "2nd and 4th Thursdays, 6:30 pm"]
    assert lakeshore.groups[1].url == "https://chapters.example.org/family"
    assert prairie.address is None and prairie.city == "Springfield" and prairie.groups[0].schedule == "call for times"


def test_a_page_without_chapters_raises() -> None:
    with pytest.raises(LayoutChanged, match=r"div\.chapter"):
        dbsa_chapters.parse(_snapshot(b"<html><body><h1>Maintenance</h1></body></html>"))


def test_hsds_rows_use_official_columns_and_resolve() -> None:
    tables = hsds_rows("dbsa-il", dbsa_chapters.parse(_snapshot(PAGE.read_bytes())))
    assert len(tables["organization"]) == 2 and len(tables["service"]) == 3 and len(tables["address"]) == 1
    for name, rows in tables.items():
        fields = {f["name"]: f for f in hsds.resource(name)["schema"]["fields"]}
        required = {n for n, f in fields.items() if f.get("constraints", {}).get("required")}
        for row in rows:
            assert set(row) <= set(fields), name
            assert all(row.get(n) is not None for n in required), (name, row)
    orgs = {o["id"] for o in tables["organization"]}
    locations = {loc["id"] for loc in tables["location"]}
    assert all(s["organization_id"] in orgs for s in tables["service"])
    assert all(a["service_id"] in {s["id"] for s in tables["service"]} and a["location_id"] in locations
               for a in tables["service_at_location"])  # fmt: skip


def test_chapters_hang_under_the_fellowship_organization_of_the_meeting_export() -> None:
    expression = uuid_sql("organization", "'DBSA'")
    parent = duckdb.sql(f"SELECT {expression}").fetchall()[0][0]
    assert uuid_for("organization", "DBSA") == parent
    tables = hsds_rows("dbsa-il", dbsa_chapters.parse(_snapshot(PAGE.read_bytes())))
    assert {o["parent_organization_id"] for o in tables["organization"]} == {parent}
