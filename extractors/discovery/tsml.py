"""12 Step Meeting List sites: find the WordPress plugin on a site's page and the Meeting Guide feed it serves.

What the plugin (code4recovery/12-step-meeting-list) leaves in a public page:

- ``<meta name="12_step_meeting_list" content="VERSION">`` in every page's head (since 1.8.6, 2016), and
  ``<link rel="alternate" type="application/json" title="Meetings Feed" href=".../admin-ajax.php?action=meetings">``
  beside it when the site's feed sharing is open (since 2.15, 2017; sharing is "restricted" by default);
- its assets under ``/wp-content/plugins/12-step-meeting-list/`` on its own pages, with WordPress handles
  ``tsml_public`` / ``tsml_ui`` (ids ``tsml_public-js``, ``tsml_public-css``; older ``tsml_public_css-css``),
  and the script object ``var tsml = {"ajaxurl": …}`` (or ``tsml_react_config`` for its React UI);
- body classes of its post types (``post-type-archive-tsml_meeting``, ``single-tsml_meeting``) and the
  ``<div id="tsml">`` of its templates.

The meta tag, the feed link and the asset path each prove the plugin; the other markers need a second one.
Whether the feed is open is learnt by asking it once (``discover_site``): the plugin answers 401
``{"error": "HTTP/1.1 401 Unauthorized"}`` without a key (its REST twin: 403 ``feed_restricted``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup

from extractors.discovery.registry_file import Listed, host_key, ids_from_hosts
from extractors.records import BlockedByRobots, FetchError, RestrictedFeed

PLUGIN_ASSETS = "/wp-content/plugins/12-step-meeting-list/"
FEED_PATH = "/wp-admin/admin-ajax.php?action=meetings"
OWNED = ("url",)
"""The feed URL follows the site; the name (from the page title) and everything else are set once."""
KEY_VARIABLE_PREFIX = "CLEARINGHOUSE_FEED_KEY_"
HANDLES = frozenset({"tsml_public-js", "tsml_public-css", "tsml_public_css-css", "tsml_ui-js", "jquery_validate-js"})
_TSML_OBJECT = re.compile(r"\bvar\s+(tsml|tsml_react_config)\s*=\s*\{")
_AJAXURL = re.compile(r'"ajaxurl"\s*:\s*"((?:[^"\\]|\\.)*)"')
_PROGRAM = re.compile(r'"program"\s*:\s*"((?:[^"\\]|\\.)*)"')
_FEED_SHARING_SINCE = (2, 15)

Get = Callable[[str, str], tuple[bytes, str]]
"""``get(url, expect)`` → (body, content type), politely; raises the ``FetchError`` subclasses of the client."""


@dataclass(frozen=True)
class PluginPage:
    """What one page says about the plugin. ``feed_url`` is set only when the plugin was found."""

    markers: tuple[str, ...]
    proof: bool
    """A marker that only the plugin writes (meta tag, feed link, asset path)."""
    version: str | None
    feed_url: str | None
    feed_from: str | None
    """How ``feed_url`` was found, for the report."""
    sharing_open: bool | None
    """True: the page links the feed; False: a plugin version that would link an open feed does not; None: unknown."""
    wordpress: bool
    site_name: str | None
    program: str | None

    @property
    def found(self) -> bool:
        return self.proof or len(self.markers) >= 2


def _version(text: str | None) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", text or "")[:3])


def _same_site(url: str, page_url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https") and host_key(url) == host_key(page_url)


def _text(value: str | None) -> str | None:
    text = " ".join((value or "").split())
    return text[:120] or None


def read_plugin_page(html: bytes, page_url: str) -> PluginPage:
    """The plugin's markers in ``html`` (fetched from ``page_url``) and where its feed is; pure."""
    soup = BeautifulSoup(html, "lxml")
    markers: list[str] = []
    proof = False
    meta = soup.find("meta", attrs={"name": "12_step_meeting_list"})
    version = _text(meta.get("content")) if meta else None
    if meta:
        markers.append(f"meta 12_step_meeting_list {version or ''}".rstrip())
        proof = True
    feed_link = next(
        (
            link
            for link in soup.find_all("link", href=True)
            if "alternate" in (link.get("rel") or []) and (link.get("title") or "").strip() == "Meetings Feed"
        ),
        None,
    )
    if feed_link:
        markers.append("link rel=alternate 'Meetings Feed'")
        proof = True
    assets = [
        urljoin(page_url, value)
        for tag in soup.find_all(["script", "link", "img"])
        for value in (tag.get("src"), tag.get("href"))
        if isinstance(value, str) and PLUGIN_ASSETS in value
    ]
    if assets:
        markers.append(f"plugin assets {PLUGIN_ASSETS}")
        proof = True
    handles = sorted({str(tag["id"]) for tag in soup.find_all(["script", "link"], id=True) if tag["id"] in HANDLES})
    if handles:
        markers.append(f"WordPress handles {', '.join(handles)}")
    scripts = [s.get_text() for s in soup.find_all("script") if _TSML_OBJECT.search(s.get_text())]
    if scripts:
        markers.append("script object tsml")
    body = soup.find("body")
    classes = [c for c in (body.get("class") or []) if "tsml" in c] if body else []
    if classes:
        markers.append(f"body class {' '.join(classes)}")
    if soup.find("div", id="tsml"):
        markers.append("div#tsml")
    wordpress = b"/wp-content/" in html or b"/wp-includes/" in html or soup.find("link", rel="https://api.w.org/")

    candidates: list[tuple[str, str]] = []
    if feed_link:
        candidates.append((urljoin(page_url, feed_link["href"]), "the page's 'Meetings Feed' link"))
    for script in scripts:
        if match := _AJAXURL.search(script):
            ajax = json.loads(f'"{match.group(1)}"')
            candidates.append((urljoin(page_url, ajax) + "?action=meetings", "the plugin's ajaxurl"))
    for asset in assets:
        candidates.append((asset.split(PLUGIN_ASSETS)[0] + FEED_PATH, "the plugin's asset path"))
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(page_url))
    candidates.append((origin + FEED_PATH, "the site's address (WordPress's standard feed path)"))
    feed_url, feed_from = next((c for c in candidates if _same_site(c[0], page_url)), (None, None))

    program = next((json.loads(f'"{m.group(1)}"') for s in scripts if (m := _PROGRAM.search(s))), None)
    og_name = soup.find("meta", attrs={"property": "og:site_name"})
    title = soup.find("title")
    site_name = _text(og_name.get("content") if og_name else None) or _text(title.get_text() if title else None)
    found = proof or len(markers) >= 2
    sharing_open = True if feed_link else (False if _version(version) >= _FEED_SHARING_SINCE else None)
    return PluginPage(
        markers=tuple(markers),
        proof=proof,
        version=version,
        feed_url=feed_url if found else None,
        feed_from=feed_from if found else None,
        sharing_open=sharing_open if found else None,
        wordpress=bool(wordpress),
        site_name=site_name,
        program=program,
    )


@dataclass(frozen=True)
class SiteVerdict:
    """What discovery concluded about one URL, and why."""

    url: str
    verdict: str
    """feed_open | feed_restricted | no_plugin | robots_disallow | forbidden | not_html | unreachable |
    feed_unusable"""
    detail: str
    page: PluginPage | None = None
    meetings: int | None = None

    @property
    def feed_url(self) -> str | None:
        return self.page.feed_url if self.page else None

    @property
    def is_source(self) -> bool:
        return self.verdict in ("feed_open", "feed_restricted")


def _why(exc: FetchError) -> str:
    """The client's message without its advice to registry operators ("; check the URL in the registry …"): the
    first clause outside parentheses."""
    text = str(exc).removeprefix(f"source {exc.source_id!r}: ")
    depth = 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and text.startswith("; ", i):
            return text[:i]
    return text


def _looks_html(body: bytes, content_type: str) -> bool:
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return "html" in content_type.lower() or head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


def site_page(url: str) -> str:
    """The page to read for ``url``: the URL as given, with ``/`` when it has no path."""
    parts = urlsplit(url.strip())
    return parts._replace(path=parts.path or "/").geturl()


def discover_site(url: str, get: Get) -> SiteVerdict:
    """Read the site's page, find the plugin, then ask its feed once to learn whether it needs a key."""
    page_url = site_page(url)
    try:
        body, content_type = get(page_url, "html")
    except BlockedByRobots as exc:
        return SiteVerdict(url, "robots_disallow", _why(exc))
    except RestrictedFeed as exc:
        return SiteVerdict(url, "forbidden", _why(exc))
    except FetchError as exc:
        return SiteVerdict(url, "unreachable", _why(exc))
    if not _looks_html(body, content_type):
        return SiteVerdict(
            url, "not_html", f"{page_url} answered {content_type or 'an unnamed type'}, not an HTML page"
        )
    page = read_plugin_page(body, page_url)
    if not page.found:
        seen = f" (only {', '.join(page.markers)})" if page.markers else ""
        hint = (
            "; it is a WordPress site: the plugin's assets load only on its meetings pages, try that page's URL"
            if page.wordpress and not page.markers
            else ""
        )
        return SiteVerdict(
            url, "no_plugin", f"no marker of the 12 Step Meeting List plugin in {page_url}{seen}{hint}", page
        )
    assert page.feed_url is not None
    found = f"plugin {page.version or 'of unknown version'}, feed found by {page.feed_from}"
    try:
        feed, _ = get(page.feed_url, "json")
    except RestrictedFeed as exc:
        return SiteVerdict(url, "feed_restricted", f"needs a key: {_why(exc)} ({found})", page)
    except BlockedByRobots as exc:
        return SiteVerdict(
            url, "robots_disallow", f"the plugin is there, but its feed is not ours to read: {_why(exc)}", page
        )
    except FetchError as exc:
        return SiteVerdict(url, "feed_unusable", _why(exc), page)
    try:
        data = json.loads(feed.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return SiteVerdict(url, "feed_unusable", f"{page.feed_url} is not JSON ({exc})", page)
    if isinstance(data, dict) and "error" in data:  # the plugin's 401 body, sent with 200 when headers went out
        refusal = json.dumps(data)[:120]
        return SiteVerdict(url, "feed_restricted", f"{page.feed_url}: needs a key, answered {refusal} ({found})", page)
    if not isinstance(data, list):
        return SiteVerdict(url, "feed_unusable", f"{page.feed_url} answered JSON that is not a list of meetings", page)
    return SiteVerdict(url, "feed_open", f"{page.feed_url}: {len(data)} meetings ({found})", page, len(data))


def key_variable(source_id: str) -> str:
    return KEY_VARIABLE_PREFIX + source_id.upper().replace("-", "_")


def key_note(source_id: str) -> str:
    return (
        "The site restricts its 12 Step Meeting List feed to key holders. Ask its webmaster for a key for "
        "clearinghouse (WordPress: Meetings > Settings > Feed Management > Authorized Apps > Add, or set Feed "
        f"Sharing to Open), put it in {key_variable(source_id)}, then remove `enabled: false`."
    )


def listed_sources(verdicts: list[SiteVerdict], fellowship: str) -> list[Listed]:
    """A ``meeting_guide`` entry for every site whose feed was found; a restricted one waits, disabled, for its key."""
    found = [v for v in verdicts if v.is_source and v.feed_url]
    listed = []
    for verdict, sid in zip(found, ids_from_hosts([site_page(v.url) for v in found], "tsml"), strict=True):
        page = verdict.page
        assert page is not None and page.feed_url is not None
        entry = {
            "id": sid,
            "name": page.site_name or host_key(verdict.url),
            "fellowship": fellowship,
            "kind": "meeting_guide",
            "url": page.feed_url,
        }
        if verdict.verdict == "feed_restricted":
            entry.update(enabled=False, auth=key_variable(sid), notes=key_note(sid))
        listed.append(Listed(entry=entry, owned=OWNED))
    return listed
