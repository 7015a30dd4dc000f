"""Operator tools behind ``clearinghouse sources test`` and ``clearinghouse sources new``.

``test_source`` fetches one source through the polite client (or replays its last archived fetch) and
parses it, without writing the warehouse, the raw archive or the source's state, so trying a source never
changes what the nightly run sees. ``scaffold`` starts a new HTML family the way STYLE.md asks: a module,
a test that fails until someone writes real assertions, and a fixture slot.
"""

from __future__ import annotations

import keyword
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from clearinghouse.config import Settings
from extractors.archive import Archive
from extractors.families import family_module
from extractors.fetch import TooFewRecords, check_volume
from extractors.http import PoliteClient, redact
from extractors.records import Snapshot, SnapshotPart, SourceError, SourceRecord
from extractors.registry import HTML_FAMILY_PREFIX, Source

_WEEKDAYS = {1: "Mon", 2: "Tue", 3: "Wed", 4: "Thu", 5: "Fri", 6: "Sat", 7: "Sun"}


@dataclass
class TestReport:
    """What one trial fetch of a source produced; ``ok`` is what the nightly run would say about it."""

    __test__ = False  # not a pytest class

    source_id: str
    mode: str
    """``live`` (fetched now), ``replay`` (the last archived fetch) or ``link_only`` (never fetched)."""
    pages: list[tuple[str, str, int]] = field(default_factory=list)
    """(part name, URL, bytes) of every page read."""
    records: list[SourceRecord] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    reason_code: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _live_parts(source: Source, settings: Settings) -> list[SnapshotPart]:
    """The family's fetch through a polite client, keeping bodies in memory only."""
    client = PoliteClient.from_settings(settings)
    expect = getattr(family_module(source), "EXPECT", "any")

    def get(name: str, url: str) -> SnapshotPart:
        response = client.get(url, source_id=source.id, expect=expect, secret=source.secret,
                              secret_param=source.auth_param, min_delay_s=source.min_delay_s,
                              scope=source.scope)  # fmt: skip
        return SnapshotPart(name, redact(url, source.secret), response.body, response.content_type)

    try:
        return family_module(source).fetch(source, get)
    finally:
        client.close()


def _archived_parts(source: Source, archive: Archive) -> list[SnapshotPart]:
    """The bodies of the last archived fetch whose bodies are all still there."""
    for path in reversed(archive.fetches(source.id)):
        fetched = archive.read_fetch(path)
        if fetched.parts and all(archive.has(p.path) for p in fetched.parts):
            return [SnapshotPart(p.name, p.url, archive.read_body(p.path), p.content_type) for p in fetched.parts]
    raise SourceError(source.id, f"nothing archived under {archive.source_dir(source.id)} to replay; test it live")


def _warnings(source: Source, records: list[SourceRecord], state: dict) -> list[str]:
    """What normalization would quarantine and what the volume guard would say, before any run does."""
    warnings = []
    for label, missing in (("weekday", lambda r: r.weekday is None), ("start time", lambda r: not r.start_time),
                           ("name", lambda r: not r.name)):  # fmt: skip
        if count := sum(1 for r in records if missing(r)):
            warnings.append(f"{count} records have no {label}: normalization will quarantine them")
    duplicates = [key for key, n in Counter(r.source_key for r in records).items() if n > 1]
    if duplicates:
        warnings.append(f"{len(duplicates)} source keys repeat (e.g. {duplicates[0]!r}): only the first is kept")
    try:
        held = check_volume(source, len(records), state)
    except TooFewRecords as exc:
        return [*warnings, str(exc)]
    return [*warnings, held] if held else warnings


def test_source(source: Source, settings: Settings, replay: bool = False) -> TestReport:
    """Fetch (or replay) and parse one source; nothing is written anywhere."""
    if source.link_only:
        return TestReport(source.id, "link_only", warnings=["link_only: the site is listed as a link, never fetched"])
    archive = Archive(settings.raw_dir)
    report = TestReport(source.id, "replay" if replay else "live")
    try:
        parts = _archived_parts(source, archive) if replay else _live_parts(source, settings)
        report.pages = [(p.name, p.url, len(p.body)) for p in parts]
        snapshot = Snapshot(source.id, f"test-{source.id}", datetime.now(UTC), tuple(parts),
                            source.model_dump(exclude={"auth"}))  # fmt: skip
        report.records = list(family_module(source).parse(snapshot))
        report.warnings = _warnings(source, report.records, archive.state(source.id))
    except SourceError as exc:
        report.error, report.reason_code = str(exc), exc.reason_code
    return report


def print_report(report: TestReport, out: Console | None = None, limit: int = 5) -> None:
    """The first records as a table, then counts, warnings and the error, for the terminal."""
    out = out or Console()
    for name, url, size in report.pages:
        out.print(f"[dim]{name}: {url} ({size} bytes)[/]")
    table = Table(title=f"{report.source_id}: first {min(limit, len(report.records))} of {len(report.records)} records")
    for column in ("key", "day", "start", "name", "address", "tz", "online"):
        table.add_column(column, overflow="fold")
    for r in report.records[:limit]:
        address = ", ".join(x for x in (r.address or r.formatted_address, r.city, r.postal_code) if x)
        table.add_row(r.source_key, _WEEKDAYS.get(r.weekday or 0, r.weekday_raw or "?"), r.start_time or "",
                      r.name or "", address, r.timezone or "", r.conference_url or "")  # fmt: skip
    out.print(table)
    days = Counter(_WEEKDAYS.get(r.weekday or 0, "none") for r in report.records)
    out.print(f"{report.mode}: {len(report.pages)} pages, {len(report.records)} records; per day: "
              + ", ".join(f"{d} {days[d]}" for d in [*_WEEKDAYS.values(), "none"] if days[d]))  # fmt: skip
    for warning in report.warnings:
        out.print(f"[yellow]warning: {warning}[/]")
    if report.error:
        out.print(f"[bold red]failed ({report.reason_code}): {report.error}[/]")


_MODULE = '''"""{title}: TODO say which site (platform, era) this family reads and how its pages are laid out.

TODO name the hooks the parser relies on and why (row selector, where the weekday and time are).
"""

from __future__ import annotations

from extractors.families import Getter
from extractors.html import base
from extractors.html.base import Page, text
from extractors.records import Snapshot, SnapshotPart, SourceRecord, iso_weekday_from_name
from extractors.registry import Source

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
    # Replace with what the page shows for its first meeting, one fact per assert (STYLE.md 6).
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
