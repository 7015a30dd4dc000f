"""What a hostile feed leaves in the outputs people open: HTML pages in a browser, CSV in a spreadsheet.

One ``clearinghouse run`` over a Meeting Guide feed (on a loopback fault site) that puts markup into every
text field and every time field of a meeting, plus formulas into text fields, and a feed whose redirect
puts markup into the failure reason the release page and the scorecard show. Then every HTML file the run
wrote (release page, regional pages if any, scorecard, every Data Docs file) is parsed and searched for an
element or attribute the markup created, and every CSV of the release for a cell a spreadsheet would run.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import lxml.html
import pyarrow.parquet as pq
import pytest

from tests.faults.corpus import valid
from tests.faults.harness import encode, meeting_guide_feed, mg_source
from tests.faults.server import FaultSite, Reply
from tests.security.conftest import Run, run_pipeline
from warehouse.exporters.common import FORMULA_TRIGGERS

pytestmark = pytest.mark.slow

MARK = "xss-"
"""Every payload carries ``xss-<field>``: found in a script, an event handler or a URL, it was injected."""
PAYLOADS = (
    '<img src=x onerror=alert("{mark}")>',
    '"><script>document.title="{mark}"</script>',
    "javascript:alert('{mark}')",
    "'><svg/onload=alert('{mark}')>",
)
TEXT_FIELDS = ("name", "slug", "group", "location", "address", "city", "state", "postal_code", "country",
               "formatted_address", "notes", "location_notes", "conference_url", "conference_url_notes",
               "conference_phone", "conference_phone_notes", "url", "attendance_option", "timezone", "types",
               "fellowship", "latitude", "longitude")  # fmt: skip
"""Every field of a Meeting Guide meeting the family reads (coordinates too: a feed may send text there)."""
TIME_FIELDS = ("day", "time", "end_time", "updated")
FORMULAS = {
    "name": '=HYPERLINK("http://evil.example/x","Click")',
    "notes": "@SUM(1+1)",
    "group": "+1",
    "location": "-cmd",
    "location_notes": "=cmd|' /C calc'!A0",
    "address": "@100 Main Street",
}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background"}
PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
INERT = re.compile(r"^[+-]\d[0-9A-Z,.#*]*$")
"""A signed dial string or code ("+16465588656,,123#", "-1FR"): no function, reference, space or pipe in it."""


def hostile_feed() -> list[dict[str, Any]]:
    """One meeting per (field, payload), valid but for that field; then the formula meetings."""
    items = []
    for field in (*TEXT_FIELDS, *TIME_FIELDS):
        for n, payload in enumerate(PAYLOADS):
            value: Any = payload.format(mark=f"{MARK}{field}")
            slug = f"m-{field}-{n}"
            if field == "slug":
                value = f"{value}-{n}"
            if field == "types":
                value = ["O", value]
            items.append(valid(slug) | {field: value})
    for field, formula in FORMULAS.items():
        items.append(valid(f"formula-{field}", **{field: formula}))
    # A failing row is shown with its key: a hostile slug on a record whose time is quarantined.
    items.append(valid("x") | {"slug": PAYLOADS[0].format(mark=f"{MARK}key"), "time": "after lunch"})
    return items


@dataclass(frozen=True)
class Outputs:
    run: Run

    @property
    def release(self) -> Path:
        return self.run.home / "published" / "latest"

    def pages(self) -> list[Path]:
        """Every HTML file under the home (symlinks not followed: ``latest`` is one of the releases)."""
        found = []
        for folder, _, files in os.walk(self.run.home):
            found += [Path(folder) / f for f in files if f.endswith(".html")]
        return sorted(found)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory, sites: Callable[[], FaultSite]) -> Iterator[Outputs]:
    site = sites()
    reason = 'http://evil.example/"><img src=x onerror=alert("xss-reason")><script>alert("xss-reason")</script>'
    sources = [
        mg_source("hostile-feed", site.route("/meetings.json", Reply(body=encode(hostile_feed())))),
        mg_source("plain-feed", site.route("/plain.json", Reply(body=encode(meeting_guide_feed("plain", 8))))),
        mg_source("hostile-reason", site.route("/moved.json", Reply(302, headers={"Location": reason}))),
    ]
    with pytest.MonkeyPatch.context() as mp:
        run = run_pipeline(tmp_path_factory.mktemp("outputs"), sources, allow_private=True, monkeypatch=mp)
    assert run.exit_code == 0
    yield Outputs(run)


# --- HTML ------------------------------------------------------------------------------------------------


def injected(path: Path) -> list[str]:
    """Elements and attributes the payloads would have created in this page, as lxml parses it."""
    document = lxml.html.document_fromstring(path.read_bytes())
    found = []
    for element in document.iter():
        if not isinstance(element.tag, str):
            continue
        for name, value in element.attrib.items():
            name = name.lower()
            if name.startswith("on") and MARK in value:
                found.append(f"<{element.tag} {name}={value!r}>")
            if name in URL_ATTRIBUTES and re.match(r"\s*(javascript|vbscript|data):", value, re.IGNORECASE):
                found.append(f"<{element.tag} {name}={value!r}>")
            if element.tag == "img" and name == "src" and value == "x":
                found.append("<img src=x>")
        if element.tag in ("script", "style", "svg", "iframe", "object", "embed") and MARK in (
            element.text_content() + " ".join(element.attrib.values())
        ):
            found.append(f"<{element.tag}>{element.text_content()[:60]}")
    return found


def visible_text(path: Path) -> str:
    return lxml.html.document_fromstring(path.read_bytes()).text_content()


def test_every_page_shows_source_markup_as_text(outputs: Outputs) -> None:
    pages = outputs.pages()
    names = {p.name for p in pages}
    assert {"index.html", "scorecard.html"} <= names
    assert sum("validations" in p.parts for p in pages) >= 2, "Data Docs validation pages"
    bad = {str(p.relative_to(outputs.run.home)): found for p in pages if (found := injected(p))}
    assert bad == {}


def test_the_payloads_reached_the_pages(outputs: Outputs) -> None:
    """The check above means something only if the markup is on the pages, as text."""
    text = {p: visible_text(p) for p in outputs.pages()}
    docs = " ".join(t for p, t in text.items() if "validations" in p.parts)
    for field in ("time", "url", "conference_url", "key"):  # failing values and their rows' keys
        assert f'<img src=x onerror=alert("{MARK}{field}")>' in docs, field
    reason = 'onerror=alert("xss-reason")'
    assert reason in visible_text(outputs.release / "index.html")
    assert reason in visible_text(outputs.run.home / "reports" / "scorecard.html")


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_no_payload_runs_in_a_browser(outputs: Outputs, tmp_path: Path) -> None:
    """The pages as a browser runs them: a payload that ran would have renamed the document."""
    docs = outputs.run.home / "reports" / "data_docs"
    pages = [outputs.release / "index.html", outputs.run.home / "reports" / "scorecard.html", docs / "index.html",
             *(p for p in outputs.pages() if "validations" in p.parts)]  # fmt: skip
    for page in pages:
        dom = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=3000", "--dump-dom",
             page.resolve().as_uri()],
            capture_output=True, text=True, timeout=120,
        ).stdout  # fmt: skip
        assert "</html>" in dom, f"chromium rendered nothing for {page}"
        title = lxml.html.document_fromstring(dom).findtext(".//title") or ""
        assert MARK not in title, f"{page}: a payload ran and set the title to {title!r}"
        assert injected_dom(dom) == [], page


def injected_dom(dom: str) -> list[str]:
    """Event handlers carrying a payload in the DOM as the browser left it after running the page."""
    document = lxml.html.document_fromstring(dom)
    return [
        f"<{e.tag} {n}>" for e in document.iter() if isinstance(e.tag, str)
        for n, v in e.attrib.items() if n.lower().startswith("on") and MARK in v
    ]  # fmt: skip


# --- CSV -------------------------------------------------------------------------------------------------


def cells(release: Path) -> dict[str, list[dict[str, str]]]:
    """Every CSV of the release (national, per region, HSDS), as rows."""
    return {
        str(p.relative_to(release)): list(csv.DictReader(io.StringIO(p.read_text(encoding="utf-8"))))
        for p in sorted(release.rglob("*.csv"))
    }


def test_no_csv_cell_starts_a_formula(outputs: Outputs) -> None:
    tables = cells(outputs.release)
    assert "meetings.csv" in tables and any(name.startswith("hsds/") for name in tables)
    formulas = [
        (name, column, value)
        for name, rows in tables.items() for row in rows for column, value in row.items()
        if value and value.startswith(FORMULA_TRIGGERS) and not PLAIN_NUMBER.match(value) and not INERT.match(value)
    ]  # fmt: skip
    assert formulas == []
    neutralized = {row[column] for rows in tables.values() for row in rows for column in row}
    assert {"'" + f for f in FORMULAS.values() if not INERT.match(f)} <= neutralized
    names = {row["name"] for row in tables["meetings.csv"]}
    assert "'" + FORMULAS["name"] in names  # the formula is there, as text


def test_numbers_stay_numbers_in_csv(outputs: Outputs) -> None:
    rows = cells(outputs.release)["meetings.csv"]
    longitudes = [row["longitude"] for row in rows if row["longitude"]]
    assert longitudes and all(PLAIN_NUMBER.match(v) and float(v) < 0 for v in longitudes)


def test_other_formats_keep_the_text_as_published(outputs: Outputs) -> None:
    names = set(pq.read_table(outputs.release / "meetings.parquet", columns=["name"]).column("name").to_pylist())
    feed = {m["name"] for m in json.loads((outputs.release / "meeting-guide.json").read_text())}
    with duckdb.connect(str(next(outputs.release.glob("*.duckdb"))), read_only=True) as con:
        table = next(t for (t,) in con.sql("SELECT table_name FROM duckdb_tables()").fetchall() if "meeting" in t)
        stored = {n for (n,) in con.sql(f'SELECT name FROM "{table}"').fetchall()}
    for formats in (names, feed, stored):
        assert FORMULAS["name"] in formats
        assert not any(n and n.startswith("'=") for n in formats)
