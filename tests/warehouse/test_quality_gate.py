"""Issue D end to end: the whole pipeline (``clearinghouse run``) on real recorded feeds from a local server.

Three runs on one home: (A) a source lists an online meeting with no way to join — a warning, published and
flagged; (B) a source drops to 10 % of its meetings — held by the volume guard, its meetings stay; (C) a
privacy regression lets an e-mail address through into notes — a critical failure, nothing published.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
import yaml

from clearinghouse import pipeline
from clearinghouse.cli import main
from foundation import ids
from tests.conftest import SNAPSHOTS
from tests.support import serve
from warehouse.quality import QualityGateFailed

JSON = "application/json"
NEPA = json.loads((SNAPSHOTS / "mg" / "aaintergroupnepa_ne-pennsylvania_2026-03-20.json").read_text())
SUSSEX = json.loads((SNAPSHOTS / "mg" / "sussexaa_sussex-county-de_2022-09-01.json").read_text())
EMAIL = "secretary.jane@example.org"


def feed(meetings: list[dict]) -> tuple[int, bytes, str]:
    return 200, json.dumps(meetings).encode(), JSON


def unreachable_online(meetings: list[dict]) -> list[dict]:
    """The first meeting turned into an online meeting with no link and no phone."""
    first = {k: v for k, v in meetings[0].items() if not k.startswith("conference_")}
    return [first | {"attendance_option": "online"}, *meetings[1:]]


def leaked_notes(meetings: list[dict]) -> list[dict]:
    return [meetings[0] | {"notes": f"Questions? Write to {EMAIL}"}, *meetings[1:]]


def snapshot(home: Path) -> dict:
    latest = home / "published" / "latest"
    return {
        "target": os.readlink(latest),
        "manifest": json.loads((latest / "manifest.json").read_text()),
        "meetings": pq.read_table(latest / "meetings.parquet", columns=["meeting_id", "sources"]).to_pylist(),
    }


def source_meetings(release: dict, source_id: str) -> set[str]:
    return {m["meeting_id"] for m in release["meetings"] if any(p["source_id"] == source_id for p in m["sources"])}


def pipeline_run(registry: Path) -> None:
    """The stages as the DAG calls them, so the gate's exception surfaces (the CLI turns it into exit 3)."""
    run_id = ids.new_run_id()
    pipeline.load_stage(run_id, pipeline.fetch_all(pipeline.registry(registry)))
    pipeline.normalize_stage(run_id, registry)
    pipeline.resolve_stage(run_id, registry)
    pipeline.quality_stage(run_id)
    pipeline.publish_stage(run_id, registry)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("quality")
    home = root / "home"
    routes = {"/nepa.json": feed(unreachable_online(NEPA)), "/sussex.json": feed(SUSSEX)}
    with pytest.MonkeyPatch.context() as mp, serve(routes) as base:
        mp.setenv("CLEARINGHOUSE_HOME", str(home))
        mp.delenv("CLEARINGHOUSE_DEMO_URL", raising=False)
        registry = root / "sources.yaml"
        registry.write_text(yaml.safe_dump({"sources": [
            {"id": sid, "name": sid, "fellowship": "AA", "kind": "meeting_guide", "url": f"{base}/{path}",
             "timezone": "America/New_York"}
            for sid, path in (("nepa-aa", "nepa.json"), ("sussex-aa", "sussex.json"))
        ]}))  # fmt: skip
        assert main(["run", "--sources", str(registry)]) == 0
        warned = snapshot(home)

        routes["/sussex.json"] = feed(SUSSEX[: len(SUSSEX) // 10])
        assert main(["run", "--sources", str(registry)]) == 0
        held = snapshot(home)

        routes["/nepa.json"] = feed(leaked_notes(unreachable_online(NEPA)))
        mp.setattr("transforms.normalize.redact", lambda text, keep_phone=None: text)
        with pytest.raises(QualityGateFailed) as blocked:
            pipeline_run(registry)
        assert main(["run", "--sources", str(registry)]) == 3, "the CLI exits 3 when a release is blocked"
        after = snapshot(home)
    return home, warned, held, blocked.value, after


def test_a_warning_publishes_the_release_with_the_flag(runs):
    _, warned, *_ = runs
    quality = warned["manifest"]["quality"]
    assert quality["status"] == "warning"
    (flag,) = [f for f in quality["failed_checks"] if f["expectation"] == "online_has_access"]
    assert (flag["suite"], flag["severity"], flag["unexpected_count"]) == ("core", "warning", 1)
    assert flag["examples"][0]["source_key"] == NEPA[0]["slug"]
    assert not any(f["severity"] == "critical" for f in quality["failed_checks"])


def test_a_source_dropping_to_a_tenth_is_held_and_keeps_its_meetings(runs):
    _, warned, held, *_ = runs
    sources = {s["id"]: s for s in held["manifest"]["sources"]}
    assert sources["sussex-aa"]["status"] == "held"
    assert "trailing median" in sources["sussex-aa"]["reason"]
    assert sources["nepa-aa"]["status"] == "unchanged"
    assert source_meetings(held, "sussex-aa") == source_meetings(warned, "sussex-aa")
    assert len(source_meetings(held, "sussex-aa")) > len(SUSSEX) // 2
    assert held["target"] != warned["target"]


def test_a_critical_failure_blocks_the_release_and_names_the_check(runs):
    home, _, held, blocked, after = runs
    (failure,) = [f for f in blocked.failed if f["expectation"] == "no_contacts_in_notes"]
    assert failure["suite"] == "release" and failure["unexpected_count"] >= 1
    assert "no_contacts_in_notes" in str(blocked)
    assert after == held  # `latest` still points at the previous release, byte for byte
    releases = home / "published" / "releases"
    assert not [p for p in releases.iterdir() if p.name.startswith(".tmp-")]
    assert len(list(releases.iterdir())) == 2


def test_the_blocked_run_is_recorded_with_its_failed_checks(runs):
    home, *_ = runs
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        status, summary = con.sql("SELECT status, summary FROM ops.runs ORDER BY started_at DESC").fetchall()[0]
        failed = con.sql(
            "SELECT DISTINCT expectation FROM ops.dq_results WHERE suite = 'release' AND NOT success "
            "AND run_id = (SELECT run_id FROM ops.runs ORDER BY started_at DESC LIMIT 1)"
        ).fetchall()
    assert status == "blocked"
    checks = json.loads(summary)["quality"]["failed_checks"]
    assert "no_contacts_in_notes" in [c["expectation"] for c in checks]
    assert ("no_contacts_in_notes",) in failed


def test_every_run_records_one_result_per_expectation(runs):
    home, *_ = runs
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        per_run = con.sql(
            """SELECT run_id, suite, count(*) AS n, count(DISTINCT (expectation, source_id)) AS distinct_n
               FROM ops.dq_results GROUP BY ALL ORDER BY run_id, suite"""
        ).fetchall()
    assert all(n == distinct for *_, n, distinct in per_run)
    runs_by_suite = {suite: {r for r, s, *_ in per_run if s == suite} for suite in ("staging", "core", "release")}
    assert len(runs_by_suite["core"]) == len(runs_by_suite["release"]) == 4  # warned, held, blocked twice


def test_reports_show_why_the_release_was_blocked(runs):
    home, *_ = runs
    scorecard = (home / "reports" / "scorecard.html").read_text()
    index = (home / "reports" / "data_docs" / "index.html").read_text()
    assert "no_contacts_in_notes" in scorecard and "sussex-aa" in scorecard and "<svg" in scorecard
    assert 'href="data_docs/index.html"' in scorecard
    assert 'href="../scorecard.html"' in index
    pages = list((home / "reports" / "data_docs" / "validations" / "release" / "meetings").rglob("*.html"))
    assert len(pages) == 4
