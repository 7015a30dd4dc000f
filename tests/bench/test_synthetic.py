"""The scale generator and the multi-host server behind ``make bench-pipeline``: fast checks, no pipeline."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import requests

from bench import synthetic
from bench.multihost import MultiHostServer, addresses, load_routes
from extractors.families import family_module
from extractors.records import Snapshot, SnapshotPart
from extractors.registry import load_registry

SPEC = synthetic.Spec(sources=24, meetings=960, seed=8, dup_share=0.2)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, synthetic.Summary]:
    out = tmp_path_factory.mktemp("synthetic")
    return out, synthetic.generate(SPEC, out)


def _digest(folder: Path) -> str:
    files = sorted(p for p in (folder / "feeds").rglob("*") if p.is_file())
    return hashlib.sha256(
        b"".join(p.relative_to(folder).as_posix().encode() + p.read_bytes() for p in files)
    ).hexdigest()


def test_same_seed_gives_byte_identical_feeds(dataset, tmp_path: Path):
    out, _ = dataset
    synthetic.generate(SPEC, tmp_path)
    assert _digest(tmp_path) == _digest(out)


def test_another_seed_gives_other_feeds(dataset, tmp_path: Path):
    out, _ = dataset
    synthetic.generate(synthetic.Spec(**{**SPEC.__dict__, "seed": 9}), tmp_path)
    assert _digest(tmp_path) != _digest(out)


def test_every_meeting_is_written_and_the_duplicate_share_is_as_configured(dataset):
    _, summary = dataset
    assert summary.records == 960
    assert summary.copies == 192  # 20 % of 40 records per source


def test_every_family_is_generated(dataset):
    _, summary = dataset
    assert set(summary.families) == {"meeting_guide", "bmlt", "tsml_csv"}


def test_a_re_published_meeting_is_listed_by_exactly_two_sources_of_its_region():
    feeds = synthetic.region_feeds(SPEC, 0)
    listings = Counter(entity for feed in feeds for entity in feed.entities)
    assert set(listings.values()) <= {1, 2}
    assert sum(n == 2 for n in listings.values()) == sum(feed.copies for feed in feeds)


def _parse(feed: synthetic.Feed, out: Path) -> int:
    routes = load_routes(out)
    parts = tuple(
        SnapshotPart(part, path, (out / routes[path][0]).read_bytes())
        for path, (part, _) in synthetic.routes_of(feed).items()
    )
    snapshot = Snapshot(feed.source_id, f"{feed.source_id}@test", datetime(2026, 1, 1, tzinfo=UTC), parts)
    source = next(s for s in load_registry(out / "sources.yaml") if s.id == feed.source_id)
    return len(family_module(source).parse(snapshot))


@pytest.mark.parametrize("family", ["meeting_guide", "bmlt", "tsml_csv"])
def test_feeds_parse_with_the_real_parsers_one_record_per_listing(dataset, family: str):
    out, _ = dataset
    synthetic.write_registry(out, ["http://127.0.0.2:1"])
    feed = next(f for f in synthetic.feeds(SPEC) if f.family == family)
    assert _parse(feed, out) == len(feed.items) == 40


def test_changed_sources_rewrite_only_their_own_feeds(tmp_path: Path):
    spec = synthetic.Spec(sources=20, meetings=200, seed=5)
    synthetic.generate(spec, tmp_path)
    before = {p: p.read_bytes() for p in (tmp_path / "feeds").rglob("*") if p.is_file()}
    changed = synthetic.change_sources(tmp_path, share=0.1)
    after = {p: p.read_bytes() for p in before}
    assert len(changed) == 2
    assert {p.parent.name for p in before if before[p] != after[p]} == set(changed)


def test_server_answers_on_two_loopback_addresses_with_conditional_get(dataset):
    out, _ = dataset
    server = MultiHostServer(out, load_routes(out), addresses(2))
    bases = server.start()
    try:
        path = next(iter(json.loads((out / "routes.json").read_text())))
        first = requests.get(bases[0] + path, timeout=5)
        second = requests.get(bases[1] + path, headers={"If-None-Match": first.headers["ETag"]}, timeout=5)
    finally:
        server.stop()
    assert [b.split("//")[1].split(":")[0] for b in bases] == ["127.0.0.2", "127.0.0.3"]
    assert (first.status_code, second.status_code) == (200, 304)
    assert first.content == (out / load_routes(out)[path][0]).read_bytes()


def _fetch_all(out: Path, bases: list[str], home: Path, pool_from: int, monkeypatch: pytest.MonkeyPatch) -> dict:
    from clearinghouse import pipeline

    monkeypatch.setenv("CLEARINGHOUSE_HOME", str(home))
    monkeypatch.setattr(pipeline, "PARSE_POOL_MIN_SOURCES", pool_from)
    results = pipeline.fetch_all(pipeline.registry(synthetic.write_registry(out, bases)))
    return {r["source_id"]: r for r in results}


def test_parse_workers_stage_the_same_records_and_fail_a_broken_feed_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    out = tmp_path / "dataset"
    synthetic.generate(synthetic.Spec(sources=8, meetings=80, seed=7), out)
    broken = next(p for p in (out / "feeds").glob("syn-*/meetings.json"))
    broken.write_bytes(broken.read_bytes()[:200])
    server = MultiHostServer(out, load_routes(out), addresses(2))
    bases = server.start()
    try:
        threads = _fetch_all(out, bases, tmp_path / "threads", 10**9, monkeypatch)
        workers = _fetch_all(out, bases, tmp_path / "workers", 1, monkeypatch)
    finally:
        server.stop()
    assert {k: (r["status"], r["records"], r["reason"]) for k, r in workers.items()} == {
        k: (r["status"], r["records"], r["reason"]) for k, r in threads.items()
    }
    assert workers[broken.parent.name]["reason_code"] == "parse_failed"
    ok = next(k for k, r in workers.items() if r["status"] == "ok")
    tables = [pq.read_table(home / "raw" / runs[ok]["records_path"]).drop(["fetch_id"])
              for home, runs in ((tmp_path / "threads", threads), (tmp_path / "workers", workers))]  # fmt: skip
    assert tables[0].equals(tables[1])
