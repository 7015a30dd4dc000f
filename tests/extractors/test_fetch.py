"""Fetch orchestration against a local server: archive, unchanged detection, volume guard, replay, secrets."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from extractors import archive as archive_module
from extractors import bmlt
from extractors.archive import Archive, commit_fetch_records
from extractors.fetch import accept_held, fetch_source, read_records_table, replay_source
from extractors.http import PoliteClient
from foundation.settings import settings
from foundation.source import Source
from tests.conftest import SNAPSHOTS
from tests.support import serve

FEED = json.loads((SNAPSHOTS / "mg" / "sussexaa_sussex-county-de_2022-09-01.json").read_text())


def source(url: str, **extra) -> Source:
    return Source(id="sussex-aa", name="Sussex", fellowship="AA", kind="meeting_guide", url=url, **extra)


def fetch(src: Source, day: int = 1):
    cfg = settings()
    client = PoliteClient.from_settings(cfg)
    try:
        return fetch_source(src, cfg, client, now=datetime(2026, 11, day, 3, tzinfo=UTC))
    finally:
        client.close()


def body(items: list) -> tuple[int, bytes, str]:
    return 200, json.dumps(items).encode(), "application/json"


def test_every_body_is_archived_content_addressed(home: Path):
    with serve({"/feed": body(FEED)}) as base:
        record = fetch(source(base + "/feed"))
    part = record.parts[0]
    stored = home / "raw" / part.path
    assert stored.parent == home / "raw" / "sussex-aa" / "2026-11-01"
    assert stored.name == f"{part.sha256}.json"
    assert json.loads(stored.read_bytes()) == FEED
    assert record.status == "ok" and record.records == 123
    assert read_records_table(settings(), record).num_rows == 123


def test_same_bytes_are_not_reparsed(home: Path):
    with serve({"/feed": body(FEED)}) as base:
        first = fetch(source(base + "/feed"), day=1)
        second = fetch(source(base + "/feed"), day=2)
    assert second.status == "unchanged"
    assert second.data_fetch_id == first.fetch_id
    assert second.records_path == first.records_path


def test_a_big_drop_is_held_and_an_operator_can_accept_it(home: Path):
    with serve({"/feed": body(FEED)}) as base:
        fetch(source(base + "/feed"), day=1)
    with serve({"/feed": body(FEED[:12])}) as base:
        held = fetch(source(base + "/feed"), day=2)
        assert held.status == "held" and held.reason_code == "volume_drop"
        assert "trailing median of 123" in held.reason and "sources accept sussex-aa" in held.reason
        assert Archive(home / "raw").state("sussex-aa")["records"] == 123, "the last good data stays current"
        accept_held(source(base + "/feed"), settings())
        after = fetch(source(base + "/feed"), day=3)
    assert after.status == "unchanged" and after.data_fetch_id == held.fetch_id and after.records == 12


def test_fewer_than_expected_records_fail_the_source(home: Path):
    with serve({"/feed": body([])}) as base:
        record = fetch(source(base + "/feed", expected_min_records=30))
    assert record.status == "failed" and record.reason_code == "too_few_records"
    assert "parsed 0 records, expected at least 30" in record.reason


def test_link_only_sources_are_never_fetched(home: Path):
    with serve({}) as base:
        record = fetch(source(base + "/feed", link_only=True))
    assert record.status == "link_only" and record.parts == []


def test_replay_reparses_the_archive_without_the_network(home: Path):
    with serve({"/feed": body(FEED)}) as base:
        original = fetch(source(base + "/feed"), day=1)
    replayed = replay_source(source("http://127.0.0.1:9/feed"), settings(), "2026-11-01")
    assert replayed.status == "ok" and replayed.records == original.records
    assert replayed.snapshot_sha256 == original.snapshot_sha256


def test_feed_keys_never_reach_the_archive(home: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CLEARINGHOUSE_FEED_KEY_SUSSEX", "s3cret-key-123")
    with serve({"/feed?key=s3cret-key-123": body(FEED)}) as base:
        record = fetch(source(base + "/feed", auth="CLEARINGHOUSE_FEED_KEY_SUSSEX"))
    assert record.status == "ok"
    for path in (home / "raw").rglob("*.json"):
        assert "s3cret-key-123" not in path.read_text(errors="replace"), path


# --- how many requests a BMLT root server costs ------------------------------------------------------------

BMLT = Path(__file__).parents[1] / "fixtures" / "bmlt" / "recorded"
MODERN = {  # the recorded modern server (44 service bodies): its search answers with the formats it uses
    "meetings": (BMLT / "meeting-search-42.867970-day2.json").read_bytes(),
    "formats": (BMLT / "formats.json").read_bytes(),
    "service_bodies": (BMLT / "service-bodies.json").read_bytes(),
}
LEGACY = {  # Greater New York's legacy export (44 service bodies, 1,555 meetings): its search is a bare list
    part: (SNAPSHOTS / "gny-na" / f"{switcher}.json").read_bytes() for part, switcher in bmlt.SWITCHERS.items()
}


def _root_server(answers: dict[str, bytes]) -> dict[str, tuple[int, bytes, str]]:
    return {url: (200, answers[part], "application/json") for part, url in bmlt.urls("/main_server/").items()}


@pytest.mark.parametrize(
    ("answers", "asked", "records"),
    [(MODERN, ["meetings", "service_bodies"], 53), (LEGACY, ["meetings", "formats", "service_bodies"], 1555)],
    ids=["modern: search with its formats + service bodies", "legacy: search + GetFormats + service bodies"],
)
def test_a_root_server_with_many_service_bodies_costs_at_most_three_requests(
    home: Path, answers: dict[str, bytes], asked: list[str], records: int
):
    """One unfiltered search covers all 44 service bodies; every answer is archived byte for byte."""
    assert len(json.loads(answers["service_bodies"])) == 44
    seen: list[str] = []
    with serve(_root_server(answers), seen) as base:
        record = fetch(Source(id="ny-na", name="NY", fellowship="NA", kind="bmlt", url=base + "/main_server/"))

    assert record.status == "ok" and record.records == records
    assert seen == ["/robots.txt"] + [bmlt.urls("/main_server/")[part] for part in asked]
    assert [p.name for p in record.parts] == asked
    for part in record.parts:
        assert (home / "raw" / part.path).read_bytes() == answers[part.name], part.name


@contextmanager
def etag_site(payload: bytes, tags: dict[str, str] | None = None, asked: list[str] | None = None) -> Iterator[str]:
    """A feed with a strong ETag (``tags["etag"]``, ``"v1"`` unless changed): ``If-None-Match`` with it is
    answered ``304 Not Modified``. ``asked``: each request's path and the ETag it sent."""
    tags = tags if tags is not None else {}
    tags.setdefault("etag", '"v1"')

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/robots.txt":
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            tag = tags["etag"]
            if asked is not None:
                asked.append(f"{self.path} {self.headers.get('If-None-Match')}")
            fresh = self.headers.get("If-None-Match") == tag
            self.send_response(304 if fresh else 200)
            self.send_header("ETag", tag)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "0" if fresh else str(len(payload)))
            self.end_headers()
            if not fresh:
                self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_unchanged_fetch_has_no_fsync_of_its_own_and_the_stage_commits_them_together(
    home: Path, monkeypatch: pytest.MonkeyPatch
):
    commit_fetch_records()  # what earlier tests left pending
    synced: list[int] = []
    real_fsync = archive_module.os.fsync
    monkeypatch.setattr(archive_module.os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    with etag_site(json.dumps(FEED).encode()) as base:
        first = fetch(source(base + "/feed"), day=1)
        assert synced  # a new snapshot: body, records and state are durable at once
        synced.clear()
        second = fetch(source(base + "/feed"), day=2)
    assert second.parts[0].not_modified and second.status == "unchanged" and synced == []
    path = Archive(home / "raw").fetch_path(second)
    assert json.loads(path.read_text())["data_fetch_id"] == first.fetch_id  # written whole, not yet synced
    assert commit_fetch_records() == 1 and len(synced) == 2  # the record, then its folder (the rename)
    assert commit_fetch_records() == 0


def test_the_same_bytes_under_a_new_etag_or_url_are_asked_conditionally_the_next_night(home: Path):
    """A server that rotates its ETag, or a feed that moves to another URL, sends the same bytes with other
    validators: that night is ``unchanged``, and the next one asks with the new validators and gets a 304."""
    tags: dict[str, str] = {}
    asked: list[str] = []
    with etag_site(json.dumps(FEED).encode(), tags, asked) as base:
        assert fetch(source(base + "/feed"), day=1).status == "ok"
        tags["etag"] = '"v2"'
        rotated = fetch(source(base + "/feed"), day=2)
        assert fetch(source(base + "/feed"), day=3).parts[0].not_modified
        moved = fetch(source(base + "/feed?v=2"), day=4)
        again = fetch(source(base + "/feed?v=2"), day=5)
    assert rotated.status == "unchanged" and not rotated.parts[0].not_modified
    assert moved.status == "unchanged" and not moved.parts[0].not_modified
    assert again.status == "unchanged" and again.parts[0].not_modified
    assert asked == ["/feed None", '/feed "v1"', '/feed "v2"', "/feed?v=2 None", '/feed?v=2 "v2"']


def test_a_fetch_record_a_crash_left_empty_is_skipped_and_the_next_night_fetches_again(home: Path):
    with serve({"/feed": body(FEED)}) as base:
        first = fetch(source(base + "/feed"), day=1)
        lost = fetch(source(base + "/feed"), day=2)
        archive = Archive(home / "raw")
        archive.fetch_path(lost).write_bytes(b"")  # what a crash before the group commit can leave
        assert [r.fetch_id for r in archive.fetch_records("sussex-aa")] == [first.fetch_id]
        again = fetch(source(base + "/feed"), day=3)
    assert again.status == "unchanged" and again.data_fetch_id == first.fetch_id
    assert replay_source(source("http://unused.invalid/feed"), settings(), "2026-11-02").reason_code == (
        "nothing_to_replay"
    )


def test_robots_txt_is_read_once_per_host_per_run_and_again_the_next_run(home: Path):
    """A night's many sources of one host cost one robots.txt request (the run's client keeps it), and the
    next night asks again: a site that disallows a feed between two nights is obeyed the second night."""
    from clearinghouse.pipeline import fetch_all

    routes = {f"/feed{i}": body(FEED) for i in range(4)}
    routes["/robots.txt"] = (200, b"User-agent: *\nAllow: /\n", "text/plain")
    seen: list[str] = []
    with serve(routes, seen) as base:
        sources = [source(f"{base}/feed{i}").model_copy(update={"id": f"s{i}"}) for i in range(4)]
        first = fetch_all(sources, workers=2)
        assert seen.count("/robots.txt") == 1 and {r["status"] for r in first} == {"ok"}
        routes["/robots.txt"] = (200, b"User-agent: *\nDisallow: /feed2\n", "text/plain")
        second = {r["source_id"]: r for r in fetch_all(sources, workers=2)}
    assert seen.count("/robots.txt") == 2
    assert second["s2"]["status"] == "failed" and second["s2"]["reason_code"] == "blocked_by_robots"
    assert seen.count("/feed2") == 1, "the disallowed feed was not requested the second night"
    assert {second[f"s{i}"]["status"] for i in (0, 1, 3)} == {"unchanged"}
