"""Security review of what a run writes: URLs, markup, secrets, robots.txt and ``link_only``.

One ``clearinghouse run`` over hostile inputs (the bad-record corpus: script tags, ``javascript:`` and
``data:`` links), keyed feeds (one that works, one that fails, one whose redirect leads off its hosts with
the key in the URL, one whose allowed redirect leads to a dead port, redirect hops that echo the key, a
listing whose next page is another host with the key in the link, a hop to the cloud metadata address), a
feed robots.txt forbids and a ``link_only`` source. Then every file the release manifest lists is read by
its extension, so formats added later are covered without touching this file (an unknown extension fails
until a reader is added), and the key is looked for everywhere the run wrote.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import duckdb
import pyarrow.parquet as pq
import pytest
from bs4 import BeautifulSoup

from tests.conftest import SNAPSHOTS
from tests.faults import corpus
from tests.faults.conftest import Observe
from tests.faults.harness import (
    FAST_CLIENT,
    RECIPE,
    encode,
    latest,
    meeting_guide_feed,
    mg_source,
    recipe_page,
    write_registry,
)
from tests.faults.server import FaultSite, Reply, RequireKey, fault_sites, refused_url

pytestmark = pytest.mark.slow

KEY_ENV = "CLEARINGHOUSE_FEED_KEY_FAULTS"
SECRET = "k3y-Vault/7+x=&q"
"""A feed key with the characters URLs encode, so every encoded form must be redacted too."""
SECRET_FORMS = sorted({SECRET, quote(SECRET, safe=""), quote_plus(SECRET), quote(SECRET)})
FEED = "/meetings.json"

URL_FIELD = re.compile(r"(?i)(?:url|link|href|src|website|uri)$")
SCHEME_URL = re.compile(r"^\s*([a-zA-Z][a-zA-Z0-9+.-]*)://")
ACTIVE = re.compile(r"(?i)\b(?:javascript|vbscript):|\bdata:[a-z]+/[a-z0-9.+-]+[;,]")
MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z][^<>]*>|<!--|&lt;\s*/?\s*[a-zA-Z]")


@dataclass(frozen=True)
class Outputs:
    home: Path
    logs: list[str]
    sites: dict[str, FaultSite]


class _Capture(logging.Handler):
    """Every log record of the run as an operator's log file would hold it (tracebacks included)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outputs]:
    from clearinghouse.cli import main

    home = tmp_path_factory.mktemp("security") / "home"
    capture = _Capture()
    root = logging.getLogger()
    level = root.level
    with pytest.MonkeyPatch.context() as mp, fault_sites() as new_site, refused_url("/moved.json") as dead:
        mp.setenv("CLEARINGHOUSE_HOME", str(home))
        mp.setenv(KEY_ENV, SECRET)
        mp.delenv("CLEARINGHOUSE_DEMO_URL", raising=False)
        for name, value in FAST_CLIENT.items():
            mp.setenv(name, value)
        sites = {name: new_site() for name in ("keyed", "robots", "link-only", "corpus", "healthy", "mirror",
                                                "elsewhere")}  # fmt: skip
        sites["robots"].robots = b"User-agent: *\nDisallow: /private/\n"
        feed = Reply(body=encode(corpus.feed()))
        keyed = {"auth": KEY_ENV}
        in_url = quote(SECRET, safe="")
        mirror, elsewhere = sites["mirror"], sites["elsewhere"]
        mirror.route(FEED, Reply(body=encode(meeting_guide_feed("mirror", 3))))
        hops = [Reply(302, headers={"Location": f"/hop-2.json?key={in_url}"}),
                Reply(302, headers={"Location": f"{mirror.url}{FEED}?key={in_url}&v=1"})]  # fmt: skip
        sources = [
            mg_source("keyed-ok", sites["keyed"].route(FEED, RequireKey(SECRET, feed)), **keyed),
            mg_source("keyed-500", sites["keyed"].route("/down.json", Reply(500, b"oops", "text/plain")), **keyed),
            mg_source("keyed-redirect", sites["keyed"].route(
                "/redirect.json", Reply(302, headers={"Location": f"{dead}?key={quote(SECRET, safe='')}"})), **keyed),
            mg_source("keyed-hops", sites["keyed"].route("/hop-1.json", hops[0]), **keyed,
                      allowed_hosts=[mirror.url.removeprefix("http://")]),
            mg_source("keyed-dead-hop", sites["keyed"].route("/dead-hop.json", Reply(302, headers={
                "Location": f"{dead}?key={in_url}"})), allowed_hosts=[dead.split("/")[2]], **keyed),
            mg_source("keyed-metadata-hop", sites["keyed"].route("/meta.json", Reply(302, headers={
                "Location": f"http://169.254.169.254/latest/?key={in_url}"})), allowed_hosts=["169.254.169.254"],
                **keyed),
            mg_source("keyed-off-scope-link", sites["keyed"].route("/list.html", Reply(body=recipe_page(
                "Keyed", f"{elsewhere.url}/next.html?key={in_url}"), content_type="text/html")), kind="recipe",
                recipe=RECIPE, **keyed),
            mg_source("robots-blocked", sites["robots"].route("/private/meetings.json", feed)),
            mg_source("link-only", sites["link-only"].route(FEED, feed), link_only=True),
            mg_source(corpus.SOURCE_ID, sites["corpus"].route(FEED, feed)),
            mg_source("sussex-aa", sites["healthy"].route(FEED, Reply(body=(
                SNAPSHOTS / "mg" / "sussexaa_sussex-county-de_2022-09-01.json").read_bytes()))),
        ]  # fmt: skip
        sites["keyed"].route("/hop-2.json", hops[1])
        registry = write_registry(home.parent / "sources.yaml", sources)
        root.addHandler(capture)
        root.setLevel(logging.DEBUG)
        try:
            assert main(["-v", "run", "--sources", str(registry)]) == 0
        finally:
            root.removeHandler(capture)
            root.setLevel(level)
        yield Outputs(home, capture.lines, sites)


# --- reading every published format ---------------------------------------------------------------------


def _walk(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """(field name, text) for every string in a nested value; JSON held in a text cell is walked too."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, str(k))
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _walk(v, key)
    elif isinstance(value, str):
        if value[:1] in "[{":
            try:
                yield from _walk(json.loads(value), key)
                return
            except json.JSONDecodeError:
                pass
        yield key, value


def _parquet(path: Path) -> Any:
    return pq.read_table(path).to_pylist()


def _csv(path: Path) -> Any:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _duckdb(path: Path) -> Any:
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.sql("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
        return {f"{s}.{t}": con.sql(f'SELECT * FROM "{s}"."{t}"').to_arrow_table().to_pylist() for s, t in tables}


def _html(path: Path) -> Any:
    """Text nodes (keyed by their element) and attribute values (keyed by attribute) of a page."""
    soup = BeautifulSoup(path.read_bytes(), "lxml")
    texts = [{node.parent.name if node.parent else "": str(node)} for node in soup.find_all(string=True)]
    return texts + [dict(tag.attrs) for tag in soup.find_all(True) if tag.attrs]


def _png(path: Path) -> Any:
    """The text chunks of an image (tEXt, zTXt, iTXt): the only place a PNG holds strings."""
    data, texts, pos = path.read_bytes(), {}, 8
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    while pos < len(data):
        length, kind = int.from_bytes(data[pos : pos + 4], "big"), data[pos + 4 : pos + 8]
        key, _, rest = data[pos + 8 : pos + 8 + length].partition(b"\0")
        if kind == b"tEXt":
            texts[key.decode("latin-1")] = rest.decode("latin-1")
        elif kind == b"zTXt":
            texts[key.decode("latin-1")] = zlib.decompress(rest[1:]).decode("latin-1")
        elif kind == b"iTXt":
            compressed, text = rest[0], rest[2:].split(b"\0", 2)[2]
            texts[key.decode("utf-8")] = (zlib.decompress(text) if compressed else text).decode("utf-8")
        pos += 12 + length
    return texts


READERS: dict[str, Callable[[Path], Any]] = {
    ".parquet": _parquet, ".csv": _csv, ".json": _json, ".geojson": _json, ".duckdb": _duckdb, ".html": _html,
    ".png": _png,
}  # fmt: skip
"""How each published format is read; a file with another extension fails the checks until one is added."""


def published_files(release: Path) -> list[Path]:
    manifest = json.loads((release / "manifest.json").read_text())
    return [release / "manifest.json", *(release / entry["path"] for entry in manifest["files"])]


def published_strings(release: Path) -> dict[str, list[tuple[str, str]]]:
    """Per published file (relative path), every string it holds with its field name."""
    found = {}
    for path in published_files(release):
        reader = READERS.get(path.suffix.lower())
        assert reader, f"no reader for {path.name}: add one to READERS so the security checks cover it"
        found[str(path.relative_to(release))] = list(_walk(reader(path)))
    return found


# --- the checks ------------------------------------------------------------------------------------------


Check = Callable[[str, str, str], bool]
"""(file, field, text) → whether the text breaks the rule."""


def _violations(strings: dict[str, list[tuple[str, str]]], bad: Check) -> list[str]:
    return [
        f"{name}: {key}={text[:80]!r}" for name, pairs in strings.items() for key, text in pairs if bad(name, key, text)
    ]


def _not_http(name: str, key: str, text: str) -> bool:
    """A URL that is not http(s); a page's links may also be relative (``CHANGES.json``), data URLs may not."""
    scheme = SCHEME_URL.match(text)
    if scheme:
        return scheme[1].lower() not in ("http", "https")
    relative_ok = name.endswith(".html") and ":" not in text.split("/", 1)[0]
    return bool(URL_FIELD.search(key) and text.strip() and not relative_ok)


def _active(name: str, key: str, text: str) -> bool:
    return bool(ACTIVE.search(text))


def _markup(name: str, key: str, text: str) -> bool:
    """Markup inside a text value; an HTML page's own elements are structure, its text nodes are values."""
    return bool(MARKUP.search(text))


def test_every_published_format_is_read(outputs: Outputs, observe: Observe) -> None:
    strings = published_strings(latest(outputs.home))
    observe(
        "security",
        "formats checked (every file the manifest lists)",
        "each read by its extension",
        ", ".join(f"{name} ({len(pairs)} strings)" for name, pairs in strings.items()),
    )
    assert {"manifest.json", "meetings.parquet", "meetings.csv"} <= set(strings)
    corpus_names = {"Serenity Group", "Café Serenity"}
    for name in ("meetings.parquet", "meetings.csv", "meetings.geojson"):
        if name in strings:
            assert corpus_names <= {text for _, text in strings[name]}, name


def test_only_http_urls_are_published(outputs: Outputs, observe: Observe) -> None:
    strings = published_strings(latest(outputs.home))
    strings.pop("manifest.json")  # its quality examples: see the next test
    bad = _violations(strings, _not_http) + _violations(strings, _active)
    urls = sum(bool(URL_FIELD.search(k) or SCHEME_URL.match(t)) for pairs in strings.values() for k, t in pairs)
    observe(
        "security",
        "URLs in every published format (corpus: javascript:, data: links)",
        "only http(s); no javascript:/vbscript:/data: anywhere",
        f"{urls} URL values checked; violations: {bad[:3] or 'none'}",
    )
    assert bad == []
    assert urls > 0


def test_manifest_quality_examples_hold_no_raw_urls(outputs: Outputs, observe: Observe) -> None:
    strings = {"manifest.json": published_strings(latest(outputs.home))["manifest.json"]}
    bad = _violations(strings, _not_http) + _violations(strings, _active)
    observe(
        "security",
        "URLs in manifest.json (quality examples)",
        "only http(s); no javascript:/data:",
        f"violations: {bad[:2] or 'none'}",
    )
    assert bad == []


def test_text_is_plain_in_every_format(outputs: Outputs, observe: Observe) -> None:
    strings = published_strings(latest(outputs.home))
    bad = _violations(strings, _markup)
    checked = sum(map(len, strings.values()))
    observe(
        "security",
        "markup in every published format (corpus: <script>, <a href>, entities)",
        "no HTML tags, comments or encoded tags",
        f"{checked} strings checked; violations: {bad[:3] or 'none'}",
    )
    assert bad == []


def _text_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix.lower() in {".json", ".html", ".csv", ".txt", ".yml", ".yaml", ".md"}:
            yield path


def _warehouse_texts(home: Path) -> dict[str, str]:
    """Every text column of every warehouse table, as one string per column (the file itself is compressed)."""
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        columns = con.sql(
            """SELECT schema_name, table_name, column_name FROM duckdb_columns()
               WHERE data_type IN ('VARCHAR', 'JSON') AND NOT internal"""
        ).fetchall()
        return {
            f"{schema}.{table}.{column}": con.sql(
                f'SELECT coalesce(string_agg("{column}", chr(10)), \'\') FROM "{schema}"."{table}"'
            ).fetchall()[0][0]
            for schema, table, column in columns
        }


def test_the_feed_key_was_used(outputs: Outputs) -> None:
    """The checks below mean something only if the key went out and came back with data."""
    keyed = [h for h in outputs.sites["keyed"].hits if h.path == FEED]
    assert keyed and all(SECRET in str(h.query) or quote_plus(SECRET) in h.query for h in keyed)
    manifest = json.loads((latest(outputs.home) / "manifest.json").read_text())
    statuses = {s["id"]: s["status"] for s in manifest["sources"]}
    assert statuses["keyed-ok"] == statuses["keyed-hops"] == statuses["keyed-off-scope-link"] == "ok"
    assert statuses["keyed-500"] == statuses["keyed-redirect"] == statuses["keyed-dead-hop"] == "failed"
    assert statuses["keyed-metadata-hop"] == "failed"


def test_the_key_stays_with_its_origin(outputs: Outputs, observe: Observe) -> None:
    """Redirect hops, a skipped off-scope link and the errors of hops: the key reached the keyed origin only."""
    hops = [h for h in outputs.sites["keyed"].hits if h.path.startswith("/hop-")]
    mirror = [h.query for h in outputs.sites["mirror"].hits if h.path == FEED]
    elsewhere = outputs.sites["elsewhere"].hits
    observe(
        "security",
        "feed key on redirect hops and off-scope links",
        "sent to the source's origin only; stripped from a hop to another allowed host; off-scope link not requested",
        f"hops on the origin: {len(hops)}; mirror queries {mirror}; requests elsewhere: {len(elsewhere)}",
    )
    assert len(hops) == 2 and all(any(form in h.query for form in SECRET_FORMS) for h in hops)
    assert mirror == ["v=1"]
    assert elsewhere == []
    records = {p.parent.parent.name: json.loads(p.read_text()) for p in (outputs.home / "raw").rglob("*.fetch.json")}
    assert records["keyed-off-scope-link"]["off_scope_examples"] == [
        f"{outputs.sites['elsewhere'].url}/next.html?key=***"
    ]
    assert records["keyed-hops"]["parts"][0]["redirects"][-1] == f"{outputs.sites['mirror'].url}{FEED}?v=1"
    assert records["keyed-metadata-hop"]["reason_code"] == "refused_address"


@pytest.mark.parametrize(
    "where", ["logs", "raw metadata", "manifest", "data docs and reports", "every text file", "warehouse"]
)
def test_feed_key_is_never_written(outputs: Outputs, where: str, observe: Observe) -> None:
    home = outputs.home
    texts: dict[str, str] = {}
    if where == "logs":
        texts = {f"log line {i}": line for i, line in enumerate(outputs.logs)}
    elif where == "raw metadata":
        texts = {str(p.relative_to(home)): p.read_text() for p in (home / "raw").rglob("*.json")}
    elif where == "manifest":
        texts = {"manifest.json": (latest(home) / "manifest.json").read_text()}
    elif where == "data docs and reports":
        texts = {str(p.relative_to(home)): p.read_text(errors="replace") for p in _text_files(home / "reports")}
    elif where == "every text file":
        texts = {str(p.relative_to(home)): p.read_text(errors="replace") for p in _text_files(home)}
    elif where == "warehouse":
        texts = _warehouse_texts(home)
    leaks = [name for name, text in texts.items() if any(form in text for form in SECRET_FORMS)]
    observe(
        "security",
        f"feed key in {where}",
        "never present (redacted as ***)",
        f"{len(texts)} checked; leaks: {leaks[:3] or 'none'}",
    )
    assert texts
    assert leaks == []


def test_key_is_shown_redacted_where_the_url_is_reported(outputs: Outputs) -> None:
    manifest = json.loads((latest(outputs.home) / "manifest.json").read_text())
    reasons = {s["id"]: s.get("reason") or "" for s in manifest["sources"]}
    assert "/down.json?key=*** failed after 4 attempts (last: HTTP 500)" in reasons["keyed-500"]
    assert "key=***" in reasons["keyed-redirect"]


def test_robots_txt_is_honoured(outputs: Outputs, observe: Observe) -> None:
    manifest = json.loads((latest(outputs.home) / "manifest.json").read_text())
    entry = next(s for s in manifest["sources"] if s["id"] == "robots-blocked")
    requested = [h.path for h in outputs.sites["robots"].hits]
    observe(
        "security",
        "robots.txt disallows the feed",
        "failed, blocked_by_robots; the feed never requested",
        f"{entry['status']}: {entry.get('reason', '')[:60]!r}; requests: {requested}",
    )
    assert entry["status"] == "failed"
    assert "blocked by robots.txt" in entry["reason"]
    assert requested == ["/robots.txt"]


def test_link_only_source_is_never_fetched(outputs: Outputs, observe: Observe) -> None:
    manifest = json.loads((latest(outputs.home) / "manifest.json").read_text())
    entry = next(s for s in manifest["sources"] if s["id"] == "link-only")
    requested = [h.path for h in outputs.sites["link-only"].hits]
    observe(
        "security",
        "link_only source (terms forbid automated access)",
        "listed as link_only with its URL; no request at all, not even robots.txt",
        f"{entry['status']}, url {'listed' if entry.get('url') else 'missing'}; requests: {requested}",
    )
    assert entry["status"] == "link_only"
    assert entry["url"].startswith("http://127.0.0.1:")
    assert entry["records"] == 0
    assert requested == []
