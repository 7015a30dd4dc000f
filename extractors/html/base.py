"""What every HTML family shares: the crawl through the injected ``get``, loud selectors, keys.

Why here: families should hold only their site's selectors. Politeness (robots, per-host delay,
conditional GET, archiving) stays in the client behind ``get``; this module decides which pages to ask
for, and how a page that no longer looks like it did becomes an error instead of an empty list.

Fetch: ``crawl`` gets the registry URL as ``listing-1``; with a ``links`` function it follows the
listing's next-page link (``listing-2`` …) and fetches every detail page it links to (``detail-1`` …).
A link to a host outside the source's scope (``foundation.scope``) is skipped: ``get`` refuses it with
``OffScopeLink`` and counts it in the fetch record; parsing skips the same links (``detail_pages``).
Listing and detail pages together may not exceed the source's ``max_pages``: a crawl that would need
more raises ``PageLimitExceeded`` (the source fails, its last good data stays) rather than publishing a
silently cut list; if the site really is that big, the operator raises ``max_pages`` in the registry.

Parse: ``listing_pages`` / ``detail_page`` give back the saved pages (``parse_listings`` when the listing
holds the meetings themselves); ``Page`` wraps one saved body. ``items`` / ``select`` / ``select_one``
raise ``LayoutChanged`` naming the source, the page URL and the selector that found nothing; ``items``
also checks that the document arrived whole (a truncated page still parses, with fewer rows);
``check_values`` catches a column whose elements are still there but whose text no longer is what we read
from it (a site that changed its time format). One odd value passes through (normalization quarantines
that record); a column where most values are odd is a changed layout.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

from extractors.families import Getter
from extractors.records import (
    LayoutChanged,
    OffScopeLink,
    ParseError,
    Snapshot,
    SnapshotPart,
    SourceError,
    SourceRecord,
)
from foundation.scope import CrawlScope
from foundation.source import Source
from foundation.timeparse import parse_time

EXPECT = "html"
"""The polite client's content check for every HTML family (re-exported as each module's ``EXPECT``)."""
LISTING = "listing"
DETAIL = "detail"
MIN_VALID_SHARE = 0.5

_DOCUMENT_END = re.compile(rb"</html\s*>\s*(?:<!--.*?-->\s*)*\Z", re.IGNORECASE | re.DOTALL)


class PageLimitExceeded(SourceError):
    reason_code = "page_limit"


@dataclass(frozen=True)
class Listing:
    """What a listing page links to: detail pages (absolute URLs, in page order) and the next page."""

    details: list[str] = field(default_factory=list)
    next_url: str | None = None


def text(node: Tag | None) -> str | None:
    """The visible text of ``node`` with whitespace (also ``&nbsp;``) collapsed; ``None`` when blank."""
    if node is None:
        return None
    return " ".join(node.get_text(" ").split()) or None


def looks_like_time(value: str) -> bool:
    """A clock time as normalization will read it ("7:00 AM", "9:30a", "NOON", "18:30")."""
    return parse_time(value) is not None


@dataclass(frozen=True)
class Page:
    """One saved HTML body of a source, with selectors that raise ``LayoutChanged`` when they find nothing."""

    source_id: str
    url: str
    body: bytes
    soup: BeautifulSoup

    @classmethod
    def load(cls, source_id: str, part: SnapshotPart) -> Page:
        """Parse with lxml; strict UTF-8 first, because old pages often declare latin-1 but are UTF-8."""
        try:
            markup: str | bytes = part.body.decode("utf-8")
        except UnicodeDecodeError:
            markup = part.body  # BeautifulSoup reads the declared charset, falling back to cp1252
        return cls(source_id, part.url, part.body, BeautifulSoup(markup, "lxml"))

    def changed(self, selector: str, detail: str = "") -> LayoutChanged:
        """The error for this page; says how big the page was and its title (bot walls show up here)."""
        title = text(self.soup.title)
        about = f"page of {len(self.body)} bytes" + (f" titled {title!r}" if title else "")
        return LayoutChanged(self.source_id, self.url, selector, "; ".join(x for x in (detail, about) if x))

    def select(self, selector: str, scope: Tag | None = None, *, detail: str = "") -> list[Tag]:
        found = (scope or self.soup).select(selector)
        if not found:
            raise self.changed(selector, detail)
        return found

    def select_one(self, selector: str, scope: Tag | None = None, *, detail: str = "") -> Tag:
        found = (scope or self.soup).select_one(selector)
        if found is None:
            raise self.changed(selector, detail)
        return found

    def items(self, selector: str, detail: str = "the page lists no meetings where it used to") -> list[Tag]:
        """The elements the page lists (at least one), once the document is known to have arrived whole."""
        found = self.select(selector, detail=detail)
        if not _DOCUMENT_END.search(self.body):
            raise self.changed("</html>", "the document does not end with </html>: the page was truncated")
        return found

    def check_values(
        self, values: Sequence[str | None], valid: Callable[[str], bool], selector: str, what: str
    ) -> None:
        """Raise unless at least half of ``values`` (read with ``selector``) look like ``what``."""
        good = sum(1 for v in values if v and valid(v))
        if not values or good < len(values) * MIN_VALID_SHARE:
            raise self.changed(selector, f"only {good} of {len(values)} values look like {what}")

    def absolute(self, href: str) -> str:
        return urljoin(self.url, href.strip())


def crawl(source: Source, get: Getter, links: Callable[[Page], Listing] | None = None) -> list[SnapshotPart]:
    """Fetch the listing (and with ``links`` its next pages and detail pages), at most ``max_pages``."""
    parts: list[SnapshotPart] = []
    seen: set[str] = set()
    counts = {LISTING: 0, DETAIL: 0}

    def fetch(role: str, url: str) -> SnapshotPart | None:
        """The page, or ``None`` when it is outside the source's scope (skipped, counted by ``get``)."""
        if len(parts) >= source.max_pages:
            raise PageLimitExceeded(
                source.id,
                f"the site has more than max_pages={source.max_pages} listing and detail pages (stopped "
                f"before {url}); nothing from this fetch is used and the last good data stays. If the site "
                "really is that big, raise max_pages in the registry",
            )
        seen.add(url)
        try:
            part = get(f"{role}-{counts[role] + 1}", url)
        except OffScopeLink:
            return None
        counts[role] += 1
        parts.append(part)
        return part

    url: str | None = source.url
    while url and url not in seen:  # a last page that links to itself (or back) ends the listing
        listing = fetch(LISTING, url)
        if links is None or listing is None:
            break
        found = links(Page.load(source.id, listing))
        for detail in found.details:
            if detail not in seen:
                fetch(DETAIL, detail)
        url = found.next_url
    return parts


def _number(part: SnapshotPart) -> int:
    return int(part.name.rpartition("-")[2])


def listing_pages(snapshot: Snapshot) -> list[Page]:
    """The listing pages of a crawl, in crawl order."""
    parts = sorted((p for p in snapshot.parts if p.name.startswith(f"{LISTING}-")), key=_number)
    if not parts:
        raise ParseError(snapshot.source_id, f"snapshot {snapshot.fetch_id} has no listing page; refetch it")
    return [Page.load(snapshot.source_id, p) for p in parts]


def parse_listings(snapshot: Snapshot, records: Callable[[Page], list[SourceRecord]]) -> list[SourceRecord]:
    """The records of every listing page, for families whose listing holds the meetings themselves."""
    return [record for page in listing_pages(snapshot) for record in records(page)]


def detail_pages(snapshot: Snapshot, urls: Iterable[str]) -> list[Page]:
    """The saved detail pages of the links ``urls`` that the crawl followed: those outside the source's scope
    were skipped when it fetched (``crawl``), so they are skipped here too."""
    listings = [p for p in snapshot.parts if p.name == f"{LISTING}-1"]
    home = snapshot.options.get("url") or (listings[0].url if listings else None)
    if not home:
        raise ParseError(snapshot.source_id, f"snapshot {snapshot.fetch_id} has no listing page; refetch it")
    scope = CrawlScope.of(home, snapshot.options.get("allowed_hosts") or ())
    return [detail_page(snapshot, url) for url in urls if scope.allows(url)]


def detail_page(snapshot: Snapshot, url: str) -> Page:
    """The saved detail page a listing links to."""
    for part in snapshot.parts:
        if part.name.startswith(f"{DETAIL}-") and part.url == url:
            return Page.load(snapshot.source_id, part)
    raise ParseError(
        snapshot.source_id, f"{url} is linked from the listing but not in snapshot {snapshot.fetch_id}; refetch it"
    )


def key_from_url(url: str, keep: Iterable[str] = ()) -> str:
    """A source key from a detail URL: its path plus the query parameters that identify the record.

    Scheme and host are left out so a key survives a move to https, and the demo server's URLs.
    """
    parts = urlsplit(url)
    wanted = set(keep)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k in wanted])
    return (parts.path.rstrip("/") or "/") + (f"?{query}" if query else "")


def slot_keys(base: str, slots: Sequence[tuple[int | None, str | None]]) -> list[str]:
    """Keys for the weekly slots (weekday, start) one listing holds: ``<base>`` for a single slot, else
    ``<base>#<weekday>``, with the start as HHMM too when the listing holds that weekday more than once."""
    if len(slots) == 1:
        return [base]
    per_day: dict[int | None, int] = {}
    for day, _ in slots:
        per_day[day] = per_day.get(day, 0) + 1
    keys = []
    for day, start in slots:
        key = f"{base}#{day}"
        if per_day[day] > 1:
            minutes = parse_time(start)
            hhmm = f"{minutes // 60:02d}{minutes % 60:02d}" if minutes is not None else re.sub(r"\W", "", start or "")
            key += f"-{hhmm}"
        keys.append(key)
    return keys
