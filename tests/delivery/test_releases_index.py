"""``published/releases.json``: every release with its counts and quality, and which one ``latest`` is."""

from __future__ import annotations

import json
from pathlib import Path

from clearinghouse.cli import print_summary
from clearinghouse.serve import feed_urls
from foundation.settings import settings
from tests.delivery.conftest import two_releases
from warehouse.releases_index import build_index, write_releases_index


def test_the_pipeline_writes_the_index_after_publishing(published: Path):
    index = json.loads((published / "releases.json").read_text())
    manifest = json.loads((published / "latest" / "manifest.json").read_text())
    [entry] = index["releases"]
    assert index["latest"] == entry["release_id"] == manifest["release_id"]
    assert entry == {
        "release_id": manifest["release_id"],
        "created_at": manifest["created_at"],
        "schema_version": manifest["schema_version"],
        "quality": manifest["quality"]["status"],
        "counts": manifest["counts"],
        "path": f"releases/{manifest['release_id']}/",
        "latest": True,
    }


def test_index_lists_newest_first_and_follows_a_rollback(published: Path, tmp_path: Path):
    tree, first, second = two_releases(published, tmp_path)
    (tree / "releases" / ".tmp-building").mkdir()  # a release being built is not listed

    write_releases_index(tree)
    index = json.loads((tree / "releases.json").read_text())
    assert [r["release_id"] for r in index["releases"]] == [second, first]
    assert index["latest"] == second

    (tree / "latest").unlink()
    (tree / "latest").symlink_to(Path("releases") / first)  # what a rollback does
    write_releases_index(tree)
    index = json.loads((tree / "releases.json").read_text())
    assert index["latest"] == first
    assert [r["latest"] for r in index["releases"]] == [False, True]
    assert not [p for p in tree.iterdir() if p.name.startswith(".releases.json")], "no temp file left behind"


def test_same_state_gives_the_same_bytes(published: Path):
    """No timestamp of its own: the index's ETag changes only when a release or ``latest`` does."""
    assert json.loads((published / "releases.json").read_text()) == build_index(published)


def test_feed_urls_are_printed_after_a_release(published: Path, monkeypatch, capsys):
    monkeypatch.setenv("CLEARINGHOUSE_PUBLIC_URL", "https://data.example.org/aa/")
    latest = published / "latest"
    regions = sorted(p.name for p in (latest / "meeting-guide").glob("*.json"))
    urls = feed_urls(latest, settings().public_url)
    assert urls == [f"https://data.example.org/aa/latest/meeting-guide/{name}" for name in regions]

    manifest = json.loads((latest / "manifest.json").read_text())
    print_summary({**manifest, "release_path": str(latest)})
    out = capsys.readouterr().out
    assert all(url in out for url in urls)


def test_public_url_defaults_to_the_local_service():
    assert settings({}).public_url == "http://127.0.0.1:8000"
