"""DBSA chapter pages: one HTML page per state listing the independent affiliate chapters and their groups.

No recorded copy of the real pages exists in public material, so the layout read here is the one of the
constructed fixture (``tests/fixtures/organizations/dbsa_chapters/``): one ``div.chapter`` per chapter with its
name (``h3``), address lines, website, phone and e-mail, and a ``ul.groups`` of ``li.group`` (name, when, where).
Check it against a saved page of the real site before registering a source; a page without chapters raises.
"""

from __future__ import annotations

import re

from extractors.families import Getter
from extractors.html import base
from extractors.html.base import Page, text
from extractors.organizations import Group, Organization
from extractors.records import Snapshot, SnapshotPart
from foundation.ids import hashed_source_key
from foundation.source import Source

EXPECT = base.EXPECT
CHAPTERS = "div.chapter"
_CITY_STATE_ZIP = re.compile(r"^(?P<city>[^,]+),\s*(?P<state>[A-Z]{2})\s+(?P<zip>\d{5})(?:-\d{4})?$")


def fetch(source: Source, get: Getter) -> list[SnapshotPart]:
    return base.crawl(source, get)


def _href(node) -> str | None:
    return node["href"].strip() if node is not None and node.get("href") else None


def _chapter(page: Page, node, fellowship: str) -> Organization:
    name = text(page.select_one("h3", node, detail="a chapter without its name"))
    lines = [text(line) for line in node.select(".chapter-address span")]
    street = [line for line in lines if line and not _CITY_STATE_ZIP.match(line)]
    place = next((m for line in lines if line and (m := _CITY_STATE_ZIP.match(line))), None)
    email = _href(node.select_one("a.chapter-email"))
    groups = tuple(
        Group(
            name=text(g.select_one(".group-name")) or name,
            schedule=text(g.select_one(".group-when")),
            place=text(g.select_one(".group-where")),
            url=(page.absolute(u) if (u := _href(g.select_one("a"))) else None),
        )
        for g in node.select("li.group")
    )
    return Organization(
        source_key=hashed_source_key(name, *(line or "" for line in lines)),
        name=name,
        fellowship=fellowship,
        website=_href(node.select_one("a.chapter-website")),
        email=email.removeprefix("mailto:") if email else None,
        phone=text(node.select_one(".chapter-phone")),
        address=", ".join(street) or None,
        city=place["city"].strip() if place else None,
        region_code=place["state"] if place else None,
        postal_code=place["zip"] if place else None,
        groups=groups,
    )


def parse(snapshot: Snapshot, fellowship: str = "DBSA") -> list[Organization]:
    """Every chapter of every saved page, in page order."""
    return [
        _chapter(page, node, fellowship)
        for page in base.listing_pages(snapshot)
        for node in page.items(CHAPTERS, "the page lists no chapters where it used to")
    ]
