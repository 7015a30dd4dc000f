"""`clearinghouse sources discover tsml`: the 12 Step Meeting List plugin found on a real page (Minneapolis, 2016),
real pages without it explained, and every site reached through the polite client from a loopback server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from clearinghouse.cli import main
from extractors.discovery.tsml import discover_site, key_variable, read_plugin_page
from extractors.http import PoliteClient
from foundation.settings import settings
from tests.conftest import REPO, SNAPSHOTS
from tests.support import serve

HTML = REPO / "tests" / "fixtures" / "html"
MINNEAPOLIS = (HTML / "tsml_legacy" / "aaminneapolis_meetings_2016.html").read_bytes()
SEATTLE = (HTML / "intergroup_table" / "seattleaa_monday_2012.html").read_bytes()
STPAUL = (HTML / "intergroup_custom" / "aastpaul_meeting_directory_2016.html").read_bytes()
FEED = (SNAPSHOTS / "mg" / "sussexaa_sussex-county-de_2022-09-01.json").read_bytes()
"""A real plugin feed; the tests serve it as the Minneapolis site's (only its shape matters to discovery)."""
FEED_URL = "http://aaminneapolis.org/wp-admin/admin-ajax.php?action=meetings"
UNAUTHORIZED = b'{"error":"HTTP\\/1.1 401 Unauthorized"}'
"""What the plugin's `tsml_ajax_unauthorized` sends without a key (with status 401)."""
LEGACY_META = b'<meta name="12_step_meeting_list" content="2.4.6" />'


def current_head(feed_link: bool) -> bytes:
    """The Minneapolis page with the head lines the plugin prints today (3.19.17) instead of the 2016 ones:
    the version meta, and the feed link only when the site's feed sharing is open."""
    head = b'<meta name="12_step_meeting_list" content="3.19.17">\n'
    if feed_link:
        head += (
            b'<link rel="alternate" type="application/json" title="Meetings Feed" href="' + FEED_URL.encode() + b'">'
        )
    return MINNEAPOLIS.replace(LEGACY_META, head)


def test_the_2016_minneapolis_page_is_a_plugin_page():
    page = read_plugin_page(MINNEAPOLIS, "http://aaminneapolis.org/meetings/?d=5&v=list")
    assert page.found and page.version == "2.4.6"
    assert page.markers == (
        "meta 12_step_meeting_list 2.4.6",
        "plugin assets /wp-content/plugins/12-step-meeting-list/",
        "WordPress handles tsml_public_css-css",
    )
    assert page.feed_url == FEED_URL
    assert page.feed_from == "the plugin's asset path"
    assert page.sharing_open is None  # 2.4.6 predates the sharing setting
    assert page.site_name == "Greater Minneapolis Intergroup Alcoholics Anonymous"


@pytest.mark.parametrize("body", [SEATTLE, STPAUL, (HTML / "nyintergroup_legacy" / "m01.html").read_bytes()])
def test_pages_without_the_plugin_have_no_marker(body: bytes):
    page = read_plugin_page(body, "http://example.org/")
    assert not page.found and page.markers == () and page.feed_url is None


def test_the_current_plugin_says_in_its_head_whether_the_feed_is_open():
    opened = read_plugin_page(current_head(feed_link=True), "http://aaminneapolis.org/")
    assert opened.feed_from == "the page's 'Meetings Feed' link" and opened.sharing_open is True
    restricted = read_plugin_page(current_head(feed_link=False), "http://aaminneapolis.org/")
    assert restricted.version == "3.19.17" and restricted.sharing_open is False
    assert restricted.feed_url == FEED_URL


def test_a_feed_link_to_another_site_is_not_followed():
    page = current_head(feed_link=True).replace(
        b'href="http://aaminneapolis.org/wp-admin', b'href="http://evil.example/wp-admin'
    )
    assert read_plugin_page(page, "http://aaminneapolis.org/").feed_url == FEED_URL  # from the asset path instead


def test_a_plugin_page_without_asset_proof_needs_two_markers():
    one = b'<html><body><div id="tsml"></div></body></html>'
    two = b'<html><body class="post-type-archive-tsml_meeting"><div id="tsml"></div></body></html>'
    assert not read_plugin_page(one, "https://a.org/").found
    assert read_plugin_page(two, "https://a.org/").feed_url == "https://a.org/wp-admin/admin-ajax.php?action=meetings"


def html(body: bytes) -> tuple[int, bytes, str]:
    return 200, body, "text/html; charset=UTF-8"


@pytest.fixture
def sites(home: Path, monkeypatch: pytest.MonkeyPatch):
    """Real pages served for their real hosts: the client rewrites ``http://host/p`` to ``<loopback>/host/p``."""
    routes = {
        "/aaminneapolis.org/": html(MINNEAPOLIS),
        "/aaminneapolis.org/wp-admin/admin-ajax.php?action=meetings": (200, FEED, "application/json"),
        "/seattleaa.org/": html(SEATTLE),
        "/www.aastpaul.org/": html(STPAUL),
        "/www.nyintergroup.org/": (403, b"<html>Forbidden</html>", "text/html"),
        "/meetings.nyintergroup.org/robots.txt": (200, b"User-agent: *\nDisallow: /\n", "text/plain"),
        "/oc-aa.org/": (200, FEED, "application/json"),
    }
    with serve(routes) as base:
        monkeypatch.setenv("CLEARINGHOUSE_DEMO_URL", base)
        monkeypatch.setenv("COLUMNS", "250")
        yield routes


def test_discover_tsml_finds_the_feed_of_a_plugin_site_and_explains_the_others(
    sites: dict, tmp_path: Path, capsys: pytest.CaptureFixture
):
    out = tmp_path / "feeds.yaml"
    urls = [
        "http://aaminneapolis.org",
        "http://seattleaa.org/",
        "http://www.aastpaul.org/",
        "http://www.nyintergroup.org/",
        "https://meetings.nyintergroup.org/",
        "https://oc-aa.org/",
        "http://gone.example.org/",
    ]
    assert main(["sources", "discover", "tsml", *urls, "--out", str(out)]) == 0
    report = capsys.readouterr().err
    (entry,) = yaml.safe_load(out.read_text())["sources"]
    assert entry == {
        "id": "tsml-aaminneapolis-org",
        "name": "Greater Minneapolis Intergroup Alcoholics Anonymous",
        "fellowship": "AA",
        "kind": "meeting_guide",
        "url": FEED_URL,
    }
    assert main(["sources", "check", "--sources", str(out)]) == 0
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in report.splitlines() if "│ http" in line}
    assert rows == {
        "http://aaminneapolis.org": "feed_open",
        "http://seattleaa.org/": "no_plugin",
        "http://www.aastpaul.org/": "no_plugin",
        "http://www.nyintergroup.org/": "forbidden",
        "https://meetings.nyintergroup.org/": "robots_disallow",
        "https://oc-aa.org/": "not_html",
        "http://gone.example.org/": "unreachable",
    }
    assert "123 meetings" in report  # the feed was asked once and read
    assert "answered application/json, not an HTML page" in report
    assert "answered HTTP 403" in report and "answered HTTP 404" in report


def test_a_restricted_feed_is_written_disabled_with_its_key_variable_and_a_note(
    sites: dict, tmp_path: Path, capsys: pytest.CaptureFixture
):
    sites["/aaminneapolis.org/"] = html(current_head(feed_link=False))
    sites["/aaminneapolis.org/wp-admin/admin-ajax.php?action=meetings"] = (401, UNAUTHORIZED, "application/json")
    out = tmp_path / "feeds.yaml"
    assert main(["sources", "discover", "tsml", "http://aaminneapolis.org/", "--out", str(out)]) == 0
    (entry,) = yaml.safe_load(out.read_text())["sources"]
    assert entry["url"] == FEED_URL and entry["enabled"] is False
    assert entry["auth"] == "CLEARINGHOUSE_FEED_KEY_TSML_AAMINNEAPOLIS_ORG" == key_variable(entry["id"])
    assert "Ask its webmaster for a key" in entry["notes"] and entry["auth"] in entry["notes"]
    assert "feed_restricted" in capsys.readouterr().err
    assert main(["sources", "check", "--sources", str(out)]) == 0  # disabled: its key is not needed yet
    assert "waiting for their feed key: tsml-aaminneapolis-org" in capsys.readouterr().err


def test_a_refusal_sent_with_status_200_is_a_restricted_feed(sites: dict):
    sites["/aaminneapolis.org/wp-admin/admin-ajax.php?action=meetings"] = (200, UNAUTHORIZED, "application/json")
    client = PoliteClient.from_settings(settings())
    try:
        verdict = discover_site("http://aaminneapolis.org/", lambda u, e: _get(client, u, e))
    finally:
        client.close()
    assert verdict.verdict == "feed_restricted" and "401 Unauthorized" in verdict.detail


def test_a_second_discovery_keeps_the_id_and_the_operators_edits(
    sites: dict, tmp_path: Path, capsys: pytest.CaptureFixture
):
    out = tmp_path / "feeds.yaml"
    assert main(["sources", "discover", "tsml", "http://aaminneapolis.org/", "--out", str(out)]) == 0
    doc = yaml.safe_load(out.read_text())
    doc["sources"][0].update(name="Minneapolis Intergroup (AA)", timezone="America/Chicago", expected_min_records=100)
    out.write_text(yaml.safe_dump(doc, sort_keys=False))
    edited = out.read_text()
    capsys.readouterr()
    assert main(["sources", "discover", "tsml", "http://aaminneapolis.org/meetings/", "--out", str(out)]) == 0
    assert "no change" in capsys.readouterr().err and out.read_text() == edited
    # The site moved its feed (here: the page now links it on https): same source, url follows.
    https_feed = FEED_URL.replace("http:", "https:")
    sites["/aaminneapolis.org/"] = html(current_head(feed_link=True).replace(FEED_URL.encode(), https_feed.encode()))
    sites["/aaminneapolis.org/wp-admin/admin-ajax.php?action=meetings"] = (
        200,
        json.dumps([]).encode(),
        "application/json",
    )
    assert main(["sources", "discover", "tsml", "http://aaminneapolis.org/", "--out", str(out)]) == 0
    (entry,) = yaml.safe_load(out.read_text())["sources"]
    assert entry["id"] == "tsml-aaminneapolis-org" and entry["url"] == https_feed
    assert entry["name"] == "Minneapolis Intergroup (AA)" and entry["timezone"] == "America/Chicago"
    assert "~ tsml-aaminneapolis-org  url:" in capsys.readouterr().err


def test_wordpress_default_robots_txt_allows_the_feed(sites: dict):
    """RFC 9309 applies the longest match, so WordPress's default robots.txt allows admin-ajax.php."""
    sites["/aaminneapolis.org/robots.txt"] = (
        200,
        b"User-agent: *\nDisallow: /wp-admin/\nAllow: /wp-admin/admin-ajax.php\n",
        "text/plain",
    )
    client = PoliteClient.from_settings(settings())
    try:
        verdict = discover_site("http://aaminneapolis.org/", lambda u, e: _get(client, u, e))
    finally:
        client.close()
    assert verdict.verdict == "feed_open", verdict.detail


def _get(client: PoliteClient, url: str, expect: str) -> tuple[bytes, str]:
    response = client.get(url, source_id="test", expect=expect)
    return response.body, response.content_type
