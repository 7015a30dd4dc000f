"""A trial fetch of one source, behind ``clearinghouse sources test``.

``test_source`` fetches one source through the polite client (or replays its last archived fetch) and
parses it, without writing the warehouse, the raw archive or the source's state, so trying a source never
changes what the nightly run sees.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rich.console import Console
from rich.table import Table

from extractors.archive import Archive
from extractors.families import family_module
from extractors.fetch import TooFewRecords, check_volume
from extractors.http import PoliteClient, redact
from extractors.records import Snapshot, SnapshotPart, SourceError, SourceRecord
from foundation.settings import Settings
from foundation.source import Source

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
