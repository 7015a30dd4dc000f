"""Shared HTML helpers: keys, the page completeness check, the crawl's page budget and loop guard."""

from __future__ import annotations

import pytest

from extractors.html import base
from extractors.records import LayoutChanged, ParseError, SnapshotPart
from foundation.source import Source
from tests.extractors.html.pages import snapshot

SOURCE = Source(id="paged", name="paged", fellowship="AA", kind="html:finder", url="https://example.org/list")
PAGE = b"<html><body><ul><li class='m'>x</li></ul><a rel=next href='%s'>next</a></body></html>"


def test_key_from_url_drops_scheme_host_and_view_parameters() -> None:
    assert base.key_from_url("http://a.org/meetings/x-2/?d=5&v=list") == "/meetings/x-2"
    assert base.key_from_url("https://b.org/g.cfm?zone=1&meetingid=74", keep=["meetingid"]) == "/g.cfm?meetingid=74"


def test_slot_keys() -> None:
    assert base.slot_keys("/m/1", [(2, "7:00 PM")]) == ["/m/1"]
    assert base.slot_keys("/m/1", [(1, "7:00 PM"), (4, "7:00 PM")]) == ["/m/1#1", "/m/1#4"]
    assert base.slot_keys("/m/1", [(2, "6:15 AM"), (2, "6:15 PM")]) == ["/m/1#2-0615", "/m/1#2-1815"]


def test_items_rejects_a_document_that_does_not_end() -> None:
    page = base.Page.load("s", SnapshotPart("listing-1", "https://example.org/", b"<html><ul><li class='m'>a</li>"))
    with pytest.raises(LayoutChanged, match=r"</html>.*truncated"):
        page.items("li.m")


def test_items_accepts_trailing_comments_after_the_document() -> None:
    body = b"<html><ul><li class='m'>a</li></ul></html>\n<!-- served in 0.2 s -->\n"
    assert len(base.Page.load("s", SnapshotPart("listing-1", "https://x/", body)).items("li.m")) == 1


def test_layout_changed_names_source_url_selector_and_the_page_title() -> None:
    body = b"<html><head><title>Just a moment...</title></head><body></body></html>"
    with pytest.raises(LayoutChanged) as info:
        base.Page.load("s", SnapshotPart("listing-1", "https://x/list", body)).items("li.m")
    assert (info.value.source_id, info.value.url, info.value.selector) == ("s", "https://x/list", "li.m")
    assert "Just a moment..." in str(info.value)


def test_utf8_page_declaring_latin1_is_read_as_utf8() -> None:
    body = '<html><head><meta charset="iso-8859-1"></head><body><p>Señor</p></body></html>'.encode()
    assert base.text(base.Page.load("s", SnapshotPart("listing-1", "https://x/", body)).soup.p) == "Señor"


def test_crawl_stops_when_the_last_page_links_back() -> None:
    pages = {"https://example.org/list": PAGE % b"/list?p=2", "https://example.org/list?p=2": PAGE % b"/list"}
    requested = []

    def get(name: str, url: str) -> SnapshotPart:
        requested.append(name)
        return SnapshotPart(name, url, pages[url])

    def links(page: base.Page) -> base.Listing:
        return base.Listing(next_url=page.absolute(str(page.select_one("a[rel=next]")["href"])))

    assert [p.url for p in base.crawl(SOURCE, get, links)] == list(pages)
    assert requested == ["listing-1", "listing-2"]


def test_a_detail_page_missing_from_the_snapshot_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="https://x/m/1 is linked from the listing but not in snapshot"):
        base.detail_page(snapshot({"listing-1": ("https://x/", b"")}), "https://x/m/1")
