"""``clearinghouse sources new``: start a new HTML family as the others are laid out — one module, one test
file, one fixture folder (``docs/architecture.md``, "Where things go") — with a test that fails until someone
writes real assertions about a saved page.
"""

from __future__ import annotations

import keyword
from pathlib import Path

from foundation.source import HTML_FAMILY_PREFIX

_MODULE = '''"""{title}: TODO say which site (platform, era) this family reads and how its pages are laid out.

TODO name the hooks the parser relies on and why (row selector, where the weekday and time are).
"""

from __future__ import annotations

from extractors.families import Getter
from extractors.html import base
from extractors.html.base import Page, text
from extractors.records import Snapshot, SnapshotPart, SourceRecord, iso_weekday_from_name
from foundation.source import Source

EXPECT = base.EXPECT
ROWS = "TODO: CSS selector of one meeting"


def fetch(source: Source, get: Getter) -> list[SnapshotPart]:
    return base.crawl(source, get)  # pass a links function to follow next pages and detail pages


def _records(page: Page) -> list[SourceRecord]:
    records = []
    for row in page.items(ROWS):
        weekday = text(row.select_one("TODO"))
        records.append(
            SourceRecord(
                source_key=base.key_from_url(page.url),  # TODO the site's id, a detail URL or hashed_source_key
                raw={{"weekday": weekday}},
                weekday=iso_weekday_from_name(weekday),
                weekday_raw=weekday,
            )
        )
    page.check_values([r.start_time for r in records], base.looks_like_time, ROWS, "clock times")
    return records


def parse(snapshot: Snapshot) -> list[SourceRecord]:
    return base.parse_listings(snapshot, _records)
'''

_TEST = '''"""The ``{family}`` family on the saved pages in ``tests/fixtures/html/{family}/`` (see the README there)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from extractors.html import {family}
from extractors.records import Snapshot, SnapshotPart, SourceRecord

FIXTURES = Path(__file__).parents[2] / "fixtures" / "html" / "{family}"
PAGE = FIXTURES / "page.html"
URL = "TODO: the URL the page was saved from"


@pytest.fixture(scope="module")
def records() -> list[SourceRecord]:
    if not PAGE.exists():
        pytest.fail(f"save a real page of the site as {{PAGE}} (see {{FIXTURES / 'README.md'}})")
    part = SnapshotPart("listing-1", URL, PAGE.read_bytes())
    return {family}.parse(Snapshot("{source_id}", "f1", datetime(2026, 1, 1, tzinfo=UTC), (part,)))


def test_first_meeting_is_read_as_the_page_shows_it(records: list[SourceRecord]) -> None:
    first = records[0]
    # Replace with what the page shows for its first meeting, one fact per assert.
    assert first.name == "TODO the meeting's name"
    assert (first.weekday, first.start_time) == (0, "TODO 19:00")
'''

_FIXTURE_README = """# Fixtures of the `{family}` family

Fixture slot: save real pages of the site here (`page.html` first), exactly as the server sent them.
Say where each came from (URL, date saved) in this file, and scrub personal contacts (e-mail addresses →
`person@example.org`, phone numbers → `555-0100`) before committing.
"""


def scaffold(source_id: str, kind: str, repo_root: Path) -> list[Path]:
    """Write the module, a failing test and a fixture slot for ``kind: html:<family>``; returns the paths."""
    if not kind.startswith(HTML_FAMILY_PREFIX):
        raise ValueError(
            f"kind {kind!r}: only html:<family> is scaffolded; a recipe needs no code (README, "
            "'Scrape a site without code') and other kinds are existing families"
        )
    family = kind.removeprefix(HTML_FAMILY_PREFIX)
    if not family.isidentifier() or keyword.iskeyword(family) or family != family.lower():
        raise ValueError(f"family {family!r}: expected a lowercase Python module name such as 'intergroup_table'")
    files = {
        repo_root / "extractors" / "html" / f"{family}.py": _MODULE.format(title=family.replace("_", " ").title()),
        repo_root / "tests" / "extractors" / "html" / f"test_{family}.py": _TEST.format(
            family=family, source_id=source_id
        ),
        repo_root / "tests" / "fixtures" / "html" / family / "README.md": _FIXTURE_README.format(family=family),
    }
    existing = [str(p) for p in files if p.exists()]
    if existing:
        raise FileExistsError(f"family {family!r} exists already: {', '.join(existing)}")
    for path, content in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return list(files)
