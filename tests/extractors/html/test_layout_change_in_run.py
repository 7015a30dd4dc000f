"""A site changes its layout between two nightly runs: that source fails loudly, nothing else does.

The whole pipeline (``clearinghouse run``) runs twice against a local server holding real pages (the New
York legacy list, the Mat-Su recipe page, a Meeting Guide feed) and the constructed finder site. Before the
second run the New York page's row hook changes (``margin-bottom:10px`` → ``1em``, as a restyle would).
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from clearinghouse.cli import main
from extractors.html import nyintergroup_legacy
from tests.conftest import SNAPSHOTS
from tests.extractors.html.pages import FINDER_FILES, read, readme_recipe_yaml
from tests.support import serve

pytestmark = pytest.mark.slow
HTML = "text/html"
NY_PAGE = "/meetinglist/meetinglist.cfm?borough=M&zone=01"
NY_BODY = read("nyintergroup_legacy", "m01.html")


def registry(tmp_path: Path, base: str) -> Path:
    matsu = yaml.safe_load(readme_recipe_yaml())["sources"][0] | {"url": f"{base}/Meeting_Schedule.html"}
    sources = [
        {"id": "nyig-zone-01", "name": "NY Intergroup zone 01", "fellowship": "AA",
         "kind": "html:nyintergroup_legacy", "url": base + NY_PAGE, "timezone": "America/New_York",
         "expected_min_records": 40},
        {"id": "smart-finder", "name": "SMART finder", "fellowship": "SMART", "kind": "html:finder",
         "url": f"{base}/meetings/", "expected_min_records": 4},
        matsu,
        {"id": "sussex-aa", "name": "Sussex", "fellowship": "AA", "kind": "meeting_guide",
         "url": f"{base}/sussex.json", "timezone": "America/New_York"},
    ]  # fmt: skip
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"sources": sources}))
    return path


def published(home: Path) -> tuple[dict, dict[str, set[str]]]:
    """The manifest and, per source, the meeting ids it stands behind in meetings.parquet."""
    latest = home / "published" / "latest"
    table = pq.read_table(latest / "meetings.parquet", columns=["meeting_id", "sources"]).to_pylist()
    per_source: dict[str, set[str]] = {}
    for row in table:
        for link in row["sources"]:
            per_source.setdefault(link["source_id"], set()).add(row["meeting_id"])
    return json.loads((latest / "manifest.json").read_text()), per_source


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("layout") / "home"
    routes = {
        NY_PAGE: (200, NY_BODY, HTML),
        "/Meeting_Schedule.html": (200, read("recipe", "matsu_alaska_meeting_schedule.html"), HTML),
        "/sussex.json": (200, (SNAPSHOTS / "mg" / "sussexaa_sussex-county-de_2022-09-01.json").read_bytes(),
                         "application/json"),
        **{path: (200, read("finder", name), HTML) for path, name in FINDER_FILES.items()},
    }  # fmt: skip
    with pytest.MonkeyPatch.context() as mp, serve(routes) as base:
        mp.setenv("CLEARINGHOUSE_HOME", str(home))
        mp.delenv("CLEARINGHOUSE_DEMO_URL", raising=False)
        sources = registry(tmp_path_factory.mktemp("registry"), base)
        assert main(["run", "--sources", str(sources)]) == 0
        first = published(home)
        routes[NY_PAGE] = (200, NY_BODY.replace(b"margin-bottom:10px", b"margin-bottom:1em"), HTML)
        assert main(["run", "--sources", str(sources)]) == 0
        second = published(home)
    return first, second


def statuses(manifest: dict) -> dict[str, str]:
    return {s["id"]: s["status"] for s in manifest["sources"]}


def test_first_run_publishes_every_html_source(runs) -> None:
    (manifest, per_source), _ = runs
    assert statuses(manifest) == {"nyig-zone-01": "ok", "smart-finder": "ok", "matsu-aa": "ok", "sussex-aa": "ok"}
    assert len(per_source["smart-finder"]) >= 5
    assert len(per_source["matsu-aa"]) >= 40


def test_changed_layout_fails_that_source_naming_the_selector(runs) -> None:
    _, (manifest, _) = runs
    assert statuses(manifest)["nyig-zone-01"] == "failed"
    [entry] = [s for s in manifest["sources"] if s["id"] == "nyig-zone-01"]
    assert repr(nyintergroup_legacy.ROWS) in entry["reason"]
    assert NY_PAGE in entry["reason"]


def test_other_sources_still_publish(runs) -> None:
    _, (manifest, _) = runs
    assert {k: v for k, v in statuses(manifest).items() if k != "nyig-zone-01"} == {
        "smart-finder": "unchanged", "matsu-aa": "unchanged", "sussex-aa": "unchanged"}  # fmt: skip


def test_failed_source_keeps_its_previous_meetings_in_the_release(runs) -> None:
    (_, before), (_, after) = runs
    assert len(before["nyig-zone-01"]) >= 40
    assert after["nyig-zone-01"] == before["nyig-zone-01"]
