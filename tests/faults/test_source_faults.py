"""Every source fault through the whole pipeline, with healthy sources alongside.

Three ``clearinghouse run``s against local fault sites, one site per source: a clean night (every site
serves its feed), a faulty night (every faulty site misbehaves at once, the healthy ones do not change), and
a night after the faults cleared. Each fault must fail (or be survived by) its own source only, with a
specific reason, while that source's last good meetings stay published and everyone else's are untouched.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from tests.conftest import SNAPSHOTS
from tests.extractors.html.pages import read, readme_recipe_yaml
from tests.faults.conftest import Observe
from tests.faults.harness import (
    BODY_LIMIT,
    FAST_CLIENT,
    RunState,
    encode,
    latest,
    meeting_guide_feed,
    mg_source,
    run,
    run_state,
    write_registry,
)
from tests.faults.report import shorten
from tests.faults.server import (
    CHALLENGE_PAGE,
    HTML,
    Behaviour,
    Drip,
    FaultSite,
    Hang,
    Hit,
    Reply,
    Stream,
    fault_sites,
    gzip_bomb,
    redirect_loop,
    refused_url,
    retry_after,
)

pytestmark = pytest.mark.slow

FEED = "/meetings.json"
MEETINGS = 6
SEATTLE = read("intergroup_table", "seattleaa_monday_2012.html")


@dataclass(frozen=True)
class Case:
    """One faulty source: what its site does on the faulty night and what the run must make of it."""

    id: str
    fault: str
    replies: Callable[[bytes], tuple[Behaviour, ...]]
    status: str
    reason_code: str | None = None
    reason: str = ""
    """A regular expression the reported reason must match."""
    requests: int | None = None
    """How many times the feed URL must have been requested on the faulty night."""
    body: Callable[[str], bytes] = lambda case_id: encode(meeting_guide_feed(case_id, MEETINGS))
    """The good feed, served on the clean nights."""
    refused: bool = False
    """The faulty night's registry points at a port that refuses connections (the site itself is fine)."""
    kind: str = "meeting_guide"

    @property
    def expected(self) -> str:
        kept = "its last good meetings stay published" if self.status in ("failed", "held") else "all published"
        why = f" ({self.reason_code}: {self.reason.replace(chr(92), '')!r})" if self.reason_code else ""
        return f"{self.status}{why}; {kept}"


def _not_meetings(good: bytes) -> tuple[Behaviour, ...]:
    """A JSON array of objects from some other API: no Meeting Guide field in any of them."""
    items = [{"id": i, "title": f"Event {i}", "starts": "2026-01-01T19:00:00Z"} for i in range(MEETINGS)]
    return (Reply(body=encode(items)),)


CASES = [
    Case("refused", "nothing listens on the port (connection refused)", lambda good: (Reply(body=good),), "failed",
         "fetch_failed", r"robots\.txt unreachable.*ConnectionError", refused=True),
    Case("timeout", "accepts the connection, never answers", lambda good: (Hang(),), "failed", "fetch_failed",
         r"failed after 4 attempts \(last: ReadTimeout", requests=4),
    Case("slow-drip", "sends the feed 16 bytes every 50 ms (each read is quick, the whole is not)",
         lambda good: (Drip(good),), "failed", "fetch_failed", r"still arriving after 2 s", requests=1),
    Case("5xx-then-recovery", "answers 500, 502, 503, then the feed", lambda good: (
        Reply(500, b"oops", "text/plain"), Reply(502, b"bad gateway", "text/plain"),
        Reply(503, b"busy", "text/plain"), Reply(body=good)), "unchanged", requests=4),
    Case("5xx-persistent", "answers 503 to every attempt", lambda good: (Reply(503, b"busy", "text/plain"),),
         "failed", "fetch_failed", r"failed after 4 attempts \(last: HTTP 503\)", requests=4),
    Case("429-retry-after", "answers 429 with Retry-After: 1, then the feed",
         lambda good: (retry_after(429, 1), Reply(body=good)), "unchanged", requests=2),
    Case("429-retry-after-too-long", "answers 429 with Retry-After: 3600", lambda good: (retry_after(429, 3600),),
         "failed", "fetch_failed", r"wait 3600 s \(Retry-After\)", requests=1),
    Case("restricted-401", "answers 401 (key holders only)", lambda good: (Reply(401, b"no", "text/plain"),),
         "failed", "restricted_feed", r"HTTP 401.*set `auth: CLEARINGHOUSE_FEED_KEY_<NAME>`", requests=1),
    Case("restricted-403", "answers 403 (key holders only)", lambda good: (Reply(403, b"no", "text/plain"),),
         "failed", "restricted_feed", r"HTTP 403.*set `auth: CLEARINGHOUSE_FEED_KEY_<NAME>`", requests=1),
    Case("redirect-loop", "redirects the feed URL to itself", lambda good: (redirect_loop,), "failed",
         "fetch_failed", r"a redirect loop"),
    Case("oversize", f"streams 3 MB (the limit is {BODY_LIMIT} bytes)", lambda good: (Stream(3_000_000),),
         "failed", "unexpected_content", rf"larger than the limit of {BODY_LIMIT} bytes", requests=1),
    Case("gzip-bomb", "30 kB of gzip that inflates to 30 MB", lambda good: (gzip_bomb(30_000_000),), "failed",
         "unexpected_content", rf"larger than the limit of {BODY_LIMIT} bytes \(counted decoded\)", requests=1),
    Case("html-challenge", "200 with a bot-challenge HTML page instead of JSON",
         lambda good: (Reply(body=CHALLENGE_PAGE, content_type=HTML),), "failed", "unexpected_content",
         r"expected JSON but got an HTML page"),
    Case("truncated-json", "the feed cut off halfway", lambda good: (Reply(body=good[: len(good) // 2]),),
         "failed", "parse_failed", r"is not valid JSON"),
    Case("wrong-shape-object", "a JSON object instead of the array",
         lambda good: (Reply(body=b'{"meetings": ' + good + b"}"),), "failed", "parse_failed",
         r"expected a JSON array of meetings"),
    Case("wrong-shape-items", "an array of objects from another API (no Meeting Guide fields)", _not_meetings,
         "failed", "parse_failed", r"not Meeting Guide meetings"),
    Case("empty-array", "[] with HTTP 200", lambda good: (Reply(body=b"[]"),), "failed", "too_few_records",
         r"parsed 0 records, expected at least 1"),
    Case("latin-1", "latin-1 bytes declared as UTF-8 (names with é, ñ)",
         lambda good: (Reply(body=good.decode().encode("latin-1"), content_type="application/json; charset=utf-8"),),
         "ok", body=lambda case_id: encode(meeting_guide_feed("café-añejo", MEETINGS))),
    Case("volume-drop", f"2 of its {MEETINGS} meetings", lambda good: (Reply(body=encode(
        meeting_guide_feed("volume-drop", 2))),), "held", "volume_drop", r"record count fell to 2"),
    Case("layout-changed", "HTML directory: a column heading renamed",
         lambda good: (Reply(body=good.replace(b">divisions<", b">district<"), content_type=HTML),),
         "failed", "layout_changed", r"layout changed at .*the columns are", kind="html:intergroup_table",
         body=lambda case_id: SEATTLE),
]  # fmt: skip
HEALTHY = ("sussex-aa", "matsu-aa")


@dataclass(frozen=True)
class Nights:
    clean: RunState
    faulty: RunState
    recovered: RunState
    exits: tuple[int, int, int]
    requests: dict[str, list[Hit]]
    """Per faulty source, the requests for its feed on the faulty night."""
    names: dict[str, list[str]]
    """Per night, the names the latin-1 source published."""
    faulty_night_s: float


def _source(case: Case, url: str) -> dict:
    if case.kind == "meeting_guide":
        return mg_source(case.id, url)
    return {
        "id": case.id,
        "name": case.id,
        "fellowship": "AA",
        "kind": case.kind,
        "url": url,
        "timezone": "America/Los_Angeles",
    }


def _latin1_names(home: Path) -> list[str]:
    rows = pq.read_table(latest(home) / "meetings.parquet", columns=["name", "sources"]).to_pylist()
    return sorted(r["name"] for r in rows if any(s["source_id"] == "latin-1" for s in r["sources"]))


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> Nights:
    home = tmp_path_factory.mktemp("faults") / "home"
    registry = tmp_path_factory.mktemp("registry") / "sources.yaml"
    with pytest.MonkeyPatch.context() as mp, fault_sites() as new_site, refused_url(FEED) as refused:
        mp.setenv("CLEARINGHOUSE_HOME", str(home))
        mp.delenv("CLEARINGHOUSE_DEMO_URL", raising=False)
        for name, value in FAST_CLIENT.items():
            mp.setenv(name, value)
        sites = {case.id: new_site() for case in CASES}
        healthy = new_site()
        sussex = healthy.route(
            FEED, Reply(body=(SNAPSHOTS / "mg" / "sussexaa_sussex-county-de_2022-09-01.json").read_bytes())
        )
        matsu = _recipe_source(new_site())
        good = {case.id: case.body(case.id) for case in CASES}

        def night(faulty: bool) -> tuple[int, RunState, float]:
            started = time.monotonic()
            sources = [mg_source(HEALTHY[0], sussex), matsu]
            for case in CASES:
                replies = case.replies(good[case.id]) if faulty else (Reply(body=good[case.id]),)
                if case.kind != "meeting_guide":
                    replies = tuple(_as_html(r) for r in replies)
                url = sites[case.id].route(FEED, *replies)
                sources.append(_source(case, refused if faulty and case.refused else url))
            code = run(write_registry(registry, sources))
            return code, run_state(home), time.monotonic() - started

        names: dict[str, list[str]] = {}
        first, clean, _ = night(faulty=False)
        names["clean"] = _latin1_names(home)
        for site in sites.values():
            site.hits.clear()
        second, faulty, took = night(faulty=True)
        requests = {case_id: site.requests(FEED) for case_id, site in sites.items()}
        names["faulty"] = _latin1_names(home)
        third, recovered, _ = night(faulty=False)
    return Nights(clean, faulty, recovered, (first, second, third), requests, names, took)


def _recipe_source(site: FaultSite) -> dict:
    """The README's recipe source (Mat-Su, a real page) served from ``site``."""
    matsu = yaml.safe_load(readme_recipe_yaml())["sources"][0]
    url = site.route(
        "/Meeting_Schedule.html", Reply(body=read("recipe", "matsu_alaska_meeting_schedule.html"), content_type=HTML)
    )
    return matsu | {"id": HEALTHY[1], "url": url}


def _as_html(reply: Behaviour) -> Behaviour:
    """The HTML family's good page must be served as HTML, not as the default JSON content type."""
    if isinstance(reply, Reply) and reply.status == 200 and reply.content_type != HTML:
        return Reply(reply.status, reply.body, HTML, reply.headers)
    return reply


def test_every_night_completes(nights: Nights) -> None:
    assert nights.exits == (0, 0, 0)


def test_clean_night_publishes_every_source(nights: Nights) -> None:
    statuses = {s["id"]: s["status"] for s in nights.clean.manifest["sources"]}
    assert set(statuses.values()) == {"ok"}, statuses
    assert all(nights.clean.meetings.get(case.id) for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fault_is_reported_and_last_good_data_kept(nights: Nights, case: Case, observe: Observe) -> None:
    entry = nights.faulty.source(case.id)
    code = nights.faulty.reason_codes.get(case.id)
    kept = nights.faulty.meetings.get(case.id, set())
    before = nights.clean.meetings[case.id]
    hits = len(nights.requests[case.id])
    reason = entry.get("reason") or ""
    found = re.search(case.reason, reason) if case.reason else None
    observe(
        "source faults (whole pipeline)",
        f"{case.id}: {case.fault}",
        case.expected + (f"; {case.requests} request(s)" if case.requests else ""),
        f"{entry['status']}"
        + (f" ({code}: {shorten(found[0] if found else reason, 60)!r})" if code else "")
        + f"; {len(kept & before)}/{len(before)} meetings still published; {hits} request(s)",
    )
    assert entry["status"] == case.status
    assert code == case.reason_code
    if case.reason:
        assert found, reason
    assert kept == before
    assert entry["records"] == nights.clean.source(case.id)["records"]
    if case.status in ("failed", "held"):
        assert entry["fetched_at"] == nights.clean.source(case.id)["fetched_at"]
    if case.requests is not None:
        assert hits == case.requests


def test_latin1_feed_keeps_its_accents(nights: Nights, observe: Observe) -> None:
    observe(
        "source faults (whole pipeline)",
        "latin-1: names as published",
        "Café Añejo Group 0 … intact",
        f"{nights.names['faulty'][:2]}",
    )
    assert nights.names["faulty"] == nights.names["clean"]
    assert nights.names["faulty"][0] == "Café Añejo Group 0"


def test_retry_after_is_waited_for(nights: Nights) -> None:
    first, second = nights.requests["429-retry-after"]
    assert second.at - first.at >= 1.0


@pytest.mark.parametrize("night", ["clean", "faulty", "recovered"])
def test_healthy_sources_publish_every_record(nights: Nights, night: str) -> None:
    snap: RunState = getattr(nights, night)
    for source_id in HEALTHY:
        assert snap.source(source_id)["status"] in ("ok", "unchanged")
        assert snap.meetings[source_id] == nights.clean.meetings[source_id]
        assert snap.source(source_id)["records"] == nights.clean.source(source_id)["records"]


@pytest.mark.parametrize("night", ["clean", "faulty", "recovered"])
def test_parsed_equals_normalized_plus_quarantined(nights: Nights, night: str) -> None:
    balance = getattr(nights, night).reconciliation
    assert set(balance) >= {*HEALTHY, *(c.id for c in CASES)}
    for source_id, (parsed, normalized, quarantined) in balance.items():
        assert parsed == normalized + quarantined > 0, source_id


@pytest.mark.parametrize("night", ["faulty", "recovered"])
def test_manifest_counts_balance(nights: Nights, night: str, observe: Observe) -> None:
    counts = getattr(nights, night).manifest["counts"]
    observe(
        "source faults (whole pipeline)",
        f"manifest counts on the {night} night (some sources unchanged)",
        "parsed = normalized + quarantined",
        f"parsed {counts['parsed']}, normalized {counts['normalized']}, quarantined {counts['quarantined']}",
    )
    assert counts["parsed"] == counts["normalized"] + counts["quarantined"]


def test_every_source_recovers_the_next_night(nights: Nights) -> None:
    statuses = {s["id"]: s["status"] for s in nights.recovered.manifest["sources"]}
    assert set(statuses.values()) <= {"ok", "unchanged"}, statuses
    assert nights.recovered.meetings == nights.clean.meetings


def test_faulty_night_takes_seconds_not_minutes(nights: Nights) -> None:
    """No fault may hold the night up: each gives up within its retries and ``CLEARINGHOUSE_MAX_FETCH_S``."""
    assert nights.faulty_night_s < 60
