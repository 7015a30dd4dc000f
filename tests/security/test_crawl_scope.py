"""Crawl scope and the network guard, attacked through ``clearinghouse run``.

One run (private addresses allowed: the fault sites are on 127.0.0.1) over hostile sources: a recipe whose
next page is another host, a finder listing linking a detail page on another host, Meeting Guide feeds
redirecting to localhost/admin and to the cloud metadata address, a keyed feed redirecting to an allowed
host with the key in the URL. A second run, without the allowance, over sources on loopback and on a name
that resolves to a private address. Every host the attacker controls records what it received.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from rich.console import Console

from extractors import netguard
from tests.faults.harness import RECIPE, encode, meeting_guide_feed, mg_source, recipe_page
from tests.faults.server import HTML, FaultSite, Reply
from tests.security.conftest import KEY, KEY_ENV, Run, run_pipeline

pytestmark = pytest.mark.slow

FINDER = Path(__file__).parents[1] / "fixtures" / "html" / "finder"
KEY_FORMS = {KEY, quote(KEY, safe=""), quote_plus(KEY)}
METADATA = "http://169.254.169.254/latest/meta-data/"


def recipe(label: str, next_href: str | None = None) -> Reply:
    return Reply(body=recipe_page(label, next_href), content_type=HTML)


def hostport(site: FaultSite) -> str:
    return site.url.removeprefix("http://")


def requests_to(site: FaultSite) -> list[str]:
    """What a site received: path and query of every request."""
    return [f"{h.path}?{h.query}" if h.query else h.path for h in site.hits]


def carries_key(requests: list[str]) -> bool:
    return any(form in request for request in requests for form in KEY_FORMS)


@dataclass(frozen=True)
class Attack:
    run: Run
    sites: dict[str, FaultSite]
    connects: list[str]
    """Every address the client opened a socket to, in order."""


@pytest.fixture(scope="module")
def attack(tmp_path_factory: pytest.TempPathFactory, sites: Callable[[], FaultSite]) -> Iterator[Attack]:
    s = {name: sites() for name in ("recipe", "steal", "recipe2", "cdn", "finder", "feeds", "admin", "moved")}
    keyed = {"auth": KEY_ENV}
    s["steal"].route("/steal/index.html", recipe("Stolen"))
    s["cdn"].route("/page-2.html", recipe("Second Page"))
    s["admin"].route("/admin", Reply(body=encode(meeting_guide_feed("admin", 3))))
    s["moved"].route("/moved.json", Reply(body=encode(meeting_guide_feed("moved", 4))))
    listing = (FINDER / "meetings.html").read_text()
    listing = listing.replace('href="/meetings/5823/"', f'href="{s["steal"].url}/meetings/5823/"')
    listing = listing.replace('href="/meetings/6012/"', 'href="javascript:alert(1)//meetings/6012/"')
    listing = re.sub(r'<a class="pagination__next"[^>]*>[^<]*</a>', "", listing)
    for page in FINDER.glob("meeting_*.html"):
        for site in (s["finder"], s["steal"]):
            site.route(f"/meetings/{page.stem.split('_')[1]}/", Reply(body=page.read_bytes(), content_type=HTML))
    admin = f"http://localhost:{s['admin'].url.rsplit(':', 1)[1]}/admin"
    moved = f"{s['moved'].url}/moved.json?key={quote(KEY, safe='')}&v=2"
    sources = [
        mg_source("recipe-next-page", s["recipe"].route("/list.html", recipe(
            "Recipe", f"{s['steal'].url}/steal/index.html")), kind="recipe", recipe=RECIPE, **keyed),
        mg_source("recipe-allowed-host", s["recipe2"].route("/list.html", recipe(
            "Allowed", f"{s['cdn'].url}/page-2.html")), kind="recipe", recipe=RECIPE,
            allowed_hosts=[hostport(s["cdn"])], **keyed),
        mg_source("finder-details", s["finder"].route("/meetings/", Reply(body=listing.encode(), content_type=HTML)),
                  kind="html:finder", fellowship="SMART", **keyed),
        mg_source("redirect-localhost", s["feeds"].route("/feed.json", Reply(302, headers={"Location": admin})),
                  **keyed),
        mg_source("redirect-metadata", s["feeds"].route("/meta.json", Reply(302, headers={"Location": METADATA}))),
        mg_source("redirect-metadata-allowed", s["feeds"].route(
            "/meta-allowed.json", Reply(302, headers={"Location": METADATA})), allowed_hosts=["169.254.169.254"]),
        mg_source("redirect-key-elsewhere", s["feeds"].route(
            "/keyed.json", Reply(302, headers={"Location": moved})), allowed_hosts=[hostport(s["moved"])], **keyed),
    ]  # fmt: skip
    connects: list[str] = []
    real_open = netguard.open_socket

    def recording_open(family, address, *args):  # type: ignore[no-untyped-def]
        connects.append(address[0])
        return real_open(family, address, *args)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(netguard, "open_socket", recording_open)
        run = run_pipeline(tmp_path_factory.mktemp("scope"), sources, allow_private=True, monkeypatch=mp)
    yield Attack(run, s, connects)


def test_the_run_publishes_what_stays_in_scope(attack: Attack) -> None:
    assert attack.run.exit_code == 0
    statuses = {s["id"]: s["status"] for s in attack.run.manifest["sources"]}
    assert statuses == {
        "recipe-next-page": "ok", "recipe-allowed-host": "ok", "finder-details": "ok",
        "redirect-localhost": "failed", "redirect-metadata": "failed", "redirect-metadata-allowed": "failed",
        "redirect-key-elsewhere": "ok",
    }  # fmt: skip


def test_recipe_next_page_to_another_host_is_skipped_and_counted(attack: Attack) -> None:
    assert requests_to(attack.sites["steal"]) == []  # not even robots.txt
    record = attack.run.fetch("recipe-next-page")
    stolen = f"{attack.sites['steal'].url}/steal/index.html"
    assert (record["status"], record["off_scope_links"], record["off_scope_examples"]) == ("ok", 1, [stolen])
    assert [p["url"] for p in record["parts"]] == [f"{attack.sites['recipe'].url}/list.html"]
    row = attack.run.fetch_row("recipe-next-page")
    assert (row["off_scope_links"], row["off_scope_examples"]) == (1, [stolen])
    assert attack.run.manifest_source("recipe-next-page")["off_scope_links"] == 1
    assert attack.run.manifest_source("recipe-next-page")["records"] == 3


def test_a_listed_host_is_crawled_without_the_key(attack: Attack) -> None:
    assert requests_to(attack.sites["cdn"]) == ["/robots.txt", "/page-2.html"]
    assert carries_key(requests_to(attack.sites["recipe2"]))
    record = attack.run.fetch("recipe-allowed-host")
    assert (record["status"], record["records"], record["off_scope_links"]) == ("ok", 6, 0)


def test_finder_detail_links_elsewhere_are_not_followed(attack: Attack) -> None:
    assert requests_to(attack.sites["steal"]) == []
    record = attack.run.fetch("finder-details")
    assert record["off_scope_links"] == 2
    assert record["off_scope_examples"] == [
        f"{attack.sites['steal'].url}/meetings/5823/",
        "javascript:alert(1)//meetings/6012/",
    ]
    details = [p["url"].removeprefix(attack.sites["finder"].url) for p in record["parts"]]
    assert details == ["/meetings/", "/meetings/5840/"]
    assert record["records"] == 2  # Online Early Risers, Mondays and Thursdays


def test_redirect_to_localhost_admin_is_not_followed(attack: Attack) -> None:
    assert requests_to(attack.sites["admin"]) == []
    record = attack.run.fetch("redirect-localhost")
    assert record["reason_code"] == "off_scope_redirect"
    assert (
        "redirected to http://localhost:" in record["reason"]
        and "/admin, outside the source's hosts" in record["reason"]
    )


@pytest.mark.parametrize("source_id", ["redirect-metadata", "redirect-metadata-allowed"])
def test_redirect_to_cloud_metadata_never_connects(attack: Attack, source_id: str) -> None:
    record = attack.run.fetch(source_id)
    expected = "off_scope_redirect" if source_id == "redirect-metadata" else "refused_address"
    assert record["reason_code"] == expected
    assert "169.254.169.254" in record["reason"]
    assert "169.254.169.254" not in attack.connects
    assert attack.connects and set(attack.connects) == {"127.0.0.1"}


def test_the_key_is_not_carried_to_another_origin(attack: Attack) -> None:
    moved = requests_to(attack.sites["moved"])
    assert moved == ["/robots.txt", "/moved.json?v=2"]
    assert carries_key(requests_to(attack.sites["feeds"]))
    for name in ("steal", "cdn", "admin", "moved"):
        assert not carries_key(requests_to(attack.sites[name])), name
    part = attack.run.fetch("redirect-key-elsewhere")["parts"][0]
    assert part["redirects"] == [f"{attack.sites['moved'].url}/moved.json?v=2"]


def test_the_run_summary_counts_skipped_links(attack: Attack) -> None:
    from clearinghouse.cli import print_summary

    out = Console(file=io.StringIO(), width=400)
    print_summary({**attack.run.manifest, "release_path": str(attack.run.home / "published" / "latest")}, out)
    table = out.file.getvalue()
    assert "skipped 1 link(s) to hosts outside the source's scope" in table
    assert "skipped 2 link(s)" in table


# --- without the private-address allowance ----------------------------------------------------------------


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory, sites: Callable[[], FaultSite]) -> Iterator[Attack]:
    """The same pipeline with the allowance off (production): loopback, localhost and a private DNS name."""
    site = sites()
    feed = Reply(body=encode(meeting_guide_feed("guarded", 3)))
    port = site.url.rsplit(":", 1)[1]
    sources = [
        mg_source("loopback", site.route("/meetings.json", feed)),
        mg_source("localhost-name", f"http://localhost:{port}/meetings.json"),
        mg_source("private-dns", f"http://intranet.clearinghouse.test:{port}/meetings.json"),
    ]
    connects: list[str] = []
    real_resolve, real_open = netguard.resolve, netguard.open_socket

    def resolve(host: str, port: int):  # type: ignore[no-untyped-def]
        if host == "intranet.clearinghouse.test":
            return real_resolve("10.0.0.7", port)
        return real_resolve(host, port)

    def recording_open(family, address, *args):  # type: ignore[no-untyped-def]
        connects.append(address[0])
        return real_open(family, address, *args)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(netguard, "resolve", resolve)
        mp.setattr(netguard, "open_socket", recording_open)
        run = run_pipeline(tmp_path_factory.mktemp("guarded"), sources, allow_private=False, monkeypatch=mp)
    yield Attack(run, {"loopback": site}, connects)


def test_without_the_allowance_loopback_and_private_addresses_are_refused(guarded: Attack) -> None:
    assert requests_to(guarded.sites["loopback"]) == []
    assert guarded.connects == []
    expected = {
        "loopback": "127.0.0.1 is a loopback address",
        "localhost-name": "localhost resolves only to addresses the guard refuses: 127.0.0.1",
        "private-dns": "intranet.clearinghouse.test resolves only to addresses the guard refuses: 10.0.0.7",
    }
    for source_id, reason in expected.items():
        record = guarded.run.fetch(source_id)
        assert (record["status"], record["reason_code"]) == ("failed", "refused_address"), source_id
        assert reason in record["reason"], record["reason"]
        assert "CLEARINGHOUSE_ALLOW_PRIVATE_ADDRESSES" in record["reason"]
