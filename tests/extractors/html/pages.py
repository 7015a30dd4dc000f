"""Saved pages of the HTML families and the snapshots the tests parse them in."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from extractors.records import Snapshot, SnapshotPart

FIXTURES = Path(__file__).parents[2] / "fixtures" / "html"
README = Path(__file__).parents[3] / "README.md"
FETCHED_AT = datetime(2026, 1, 1, tzinfo=UTC)

FINDER_HOST = "https://smart-finder.example.org"
FINDER_FILES = {
    "/meetings/": "meetings.html",
    "/meetings/?page=2": "meetings_page-2.html",
    **{f"/meetings/{n}/": f"meeting_{n}.html" for n in (5823, 5840, 6012, 6107, 6230)},
}
"""URL path → file of the constructed finder site (``tests/fixtures/html/finder/README.md``)."""

MATSU_URL = "http://www.alaskamatsuaa.org/Meeting_Schedule.html"
SEATTLE_URL = "http://seattleaa.org/directory/webmonday.html"


def read(family: str, name: str) -> bytes:
    return (FIXTURES / family / name).read_bytes()


def snapshot(parts: Mapping[str, tuple[str, bytes]], source_id: str = "test-source", **options: Any) -> Snapshot:
    """A snapshot of ``part name → (url, body)``, with registry ``options`` (e.g. ``recipe``)."""
    saved = tuple(SnapshotPart(name, url, body, "text/html") for name, (url, body) in parts.items())
    return Snapshot(source_id, "f1", FETCHED_AT, saved, options)


def one_page(url: str, body: bytes, source_id: str = "test-source", **options: Any) -> Snapshot:
    return snapshot({"listing-1": (url, body)}, source_id, **options)


def finder_parts(bodies: Mapping[str, bytes] | None = None) -> dict[str, tuple[str, bytes]]:
    """The finder crawl as ``finder.fetch`` names it: listings and details in crawl order."""
    bodies = bodies or {path: read("finder", name) for path, name in FINDER_FILES.items()}
    order = ["/meetings/", "/meetings/5823/", "/meetings/5840/", "/meetings/6012/", "/meetings/?page=2",
             "/meetings/6107/", "/meetings/6230/"]  # fmt: skip
    names = ["listing-1", "detail-1", "detail-2", "detail-3", "listing-2", "detail-4", "detail-5"]
    return {name: (FINDER_HOST + path, bodies[path]) for name, path in zip(names, order, strict=True)}


def readme_recipe_yaml() -> str:
    """The YAML block of the README's recipe section, exactly as a reader would copy it."""
    section = README.read_text().split("## Scrape a site without code (recipe)")[1].split("\n## ")[0]
    return re.search(r"```yaml\n(.*?)```", section, re.DOTALL)[1]
