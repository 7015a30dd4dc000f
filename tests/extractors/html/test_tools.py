"""Operator tools: ``sources test`` (live, replay, link-only, broken) and ``sources new`` (scaffold)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from clearinghouse import cli
from clearinghouse.config import settings
from extractors import tools
from extractors.fetch import fetch_source
from extractors.http import PoliteClient
from extractors.registry import Source, load_registry
from tests.extractors.html.pages import FINDER_FILES, read
from tests.support import serve

HTML = "text/html"
REPO = Path(__file__).parents[3]


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
        report = tools.test_source(source(registry(tmp_path, base)), settings())
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
        tools.test_source(source(registry(tmp_path, base)), settings())
    assert not (home / "raw").exists()
    assert not (home / "warehouse.duckdb").exists()


def test_replay_parses_the_last_archived_fetch_without_the_network(home: Path, tmp_path: Path) -> None:
    with serve(finder_routes()) as base:
        path = registry(tmp_path, base)
        client = PoliteClient.from_settings(settings())
        fetch_source(source(path), settings(), client)
        client.close()
    report = tools.test_source(source(path), settings(), replay=True)  # the server is gone
    assert (report.mode, report.ok, len(report.records)) == ("replay", True, 6)


def test_replay_with_nothing_archived_says_so(home: Path, tmp_path: Path) -> None:
    report = tools.test_source(source(registry(tmp_path, "http://127.0.0.1:9")), settings(), replay=True)
    assert "nothing archived" in report.error


def test_link_only_source_is_not_fetched(home: Path, tmp_path: Path) -> None:
    report = tools.test_source(source(registry(tmp_path, "http://127.0.0.1:9"), "wfs"), settings())
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


def test_scaffold_writes_module_failing_test_and_fixture_slot(tmp_path: Path) -> None:
    paths = tools.scaffold("new-site", "html:new_site", tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "extractors/html/new_site.py", "tests/extractors/html/test_new_site.py",
        "tests/fixtures/html/new_site/README.md"]  # fmt: skip
    ruff = str(Path(sys.executable).with_name("ruff"))
    lint = subprocess.run([ruff, "check", "--config", str(REPO / "pyproject.toml"), *map(str, paths[:2])],
                          capture_output=True, text=True)  # fmt: skip
    assert lint.returncode == 0, lint.stdout


@pytest.mark.slow  # runs pytest in a subprocess
def test_scaffolded_test_fails_until_edited(tmp_path: Path) -> None:
    module, test, _ = tools.scaffold("new-site", "html:new_site", tmp_path)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    runner = (
        "import sys, pytest, extractors.html as html\n"
        f"html.__path__.append({str(module.parent)!r})\n"
        f"sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', '--rootdir', {str(tmp_path)!r}, {str(test)!r}]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", runner], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert result.returncode == 1, result.stdout
    assert "save a real page of the site" in result.stdout


def test_scaffold_refuses_to_overwrite_and_recipes(tmp_path: Path) -> None:
    tools.scaffold("a", "html:new_site", tmp_path)
    with pytest.raises(FileExistsError, match="exists already"):
        tools.scaffold("a", "html:new_site", tmp_path)
    with pytest.raises(ValueError, match="a recipe needs no code"):
        tools.scaffold("a", "recipe", tmp_path)


def test_cli_sources_new(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "REPO_ROOT", tmp_path)
    assert cli.main(["sources", "new", "new-site", "--kind", "html:new_site"]) == 0
    assert (tmp_path / "extractors" / "html" / "new_site.py").exists()
    assert cli.main(["sources", "new", "new-site", "--kind", "html:Bad-Name"]) == 2
