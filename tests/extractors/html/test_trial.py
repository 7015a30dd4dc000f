"""``sources test``: a trial fetch of one source (live, replay, link-only, broken)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from clearinghouse import cli
from extractors import trial
from extractors.fetch import fetch_source
from extractors.http import PoliteClient
from extractors.registry import load_registry
from foundation.settings import settings
from foundation.source import Source
from tests.extractors.html.pages import FINDER_FILES, read
from tests.support import serve

HTML = "text/html"


def finder_routes(broken: bool = False) -> dict[str, tuple[int, bytes, str]]:
    routes = {path: (200, read("finder", name), HTML) for path, name in FINDER_FILES.items()}
    if broken:
        status, body, ctype = routes["/meetings/"]
        routes["/meetings/"] = (status, body.replace(b"meeting-card", b"result-card"), ctype)
    return routes


def registry(tmp_path: Path, base: str) -> Path:
    sources = [
        {"id": "finder-test", "name": "finder", "fellowship": "SMART", "kind": "html:finder",
         "url": f"{base}/meetings/", "expected_min_records": 10},
        {"id": "wfs", "name": "WFS", "fellowship": "WFS", "kind": "html:finder", "url": "https://example.org/",
         "link_only": True},
    ]  # fmt: skip
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"sources": sources}))
    return path


def source(path: Path, source_id: str = "finder-test") -> Source:
    return next(s for s in load_registry(path) if s.id == source_id)


def test_live_test_reads_every_page_and_warns_about_volume(home: Path, tmp_path: Path) -> None:
    with serve(finder_routes()) as base:
        report = trial.test_source(source(registry(tmp_path, base)), settings())
    assert report.ok
    assert [name for name, _, _ in report.pages] == [
        "listing-1", "detail-1", "detail-2", "detail-3", "listing-2", "detail-4", "detail-5"]  # fmt: skip
    assert [r.name for r in report.records][:2] == ["Tucson Tuesday Evening", "Online Early Risers"]
    assert report.warnings == [
        "source 'finder-test': parsed 6 records, expected at least 10 (expected_min_records); "
        "the site may have changed or returned an empty list"
    ]


def test_testing_a_source_writes_no_archive_and_no_warehouse(home: Path, tmp_path: Path) -> None:
    with serve(finder_routes()) as base:
        trial.test_source(source(registry(tmp_path, base)), settings())
    assert not (home / "raw").exists()
    assert not (home / "warehouse.duckdb").exists()


def test_replay_parses_the_last_archived_fetch_without_the_network(home: Path, tmp_path: Path) -> None:
    with serve(finder_routes()) as base:
        path = registry(tmp_path, base)
        client = PoliteClient.from_settings(settings())
        fetch_source(source(path), settings(), client)
        client.close()
    report = trial.test_source(source(path), settings(), replay=True)  # the server is gone
    assert (report.mode, report.ok, len(report.records)) == ("replay", True, 6)


def test_replay_with_nothing_archived_says_so(home: Path, tmp_path: Path) -> None:
    report = trial.test_source(source(registry(tmp_path, "http://127.0.0.1:9")), settings(), replay=True)
    assert "nothing archived" in report.error


def test_link_only_source_is_not_fetched(home: Path, tmp_path: Path) -> None:
    report = trial.test_source(source(registry(tmp_path, "http://127.0.0.1:9"), "wfs"), settings())
    assert (report.mode, report.ok, report.pages) == ("link_only", True, [])


def test_cli_sources_test_prints_records_and_exits_1_on_a_changed_layout(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # one table row per record
    with serve(finder_routes()) as base:
        assert cli.main(["sources", "test", "finder-test", "--sources", str(registry(tmp_path, base))]) == 0
    printed = capsys.readouterr().out
    assert "Tucson Tuesday Evening" in printed and "America/Phoenix" in printed and "expected at least 10" in printed
    with serve(finder_routes(broken=True)) as base:
        assert cli.main(["sources", "test", "finder-test", "--sources", str(registry(tmp_path, base))]) == 1
    assert "selector 'article.meeting-card' found nothing" in capsys.readouterr().out
