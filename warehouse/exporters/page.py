"""The release page: ``index.html`` (counts, quality verdict, regions — their meetings, sub-regions and evidence,
the empty ones, the meetings in none and why —, sources, downloads per region) and
``meetings-per-weekday.png`` (a heat map of meetings per weekday and region), static files a person can open
from the release folder or any web server.

Written after the quality gate, because the page shows its verdict; the gate validates the data files.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from foundation.model import WEEKDAYS
from warehouse import operator_report
from warehouse.exporters import directory
from warehouse.exporters.common import RELEASE_TABLE, file_entry

PAGE = "index.html"
PLOT = "meetings-per-weekday.png"
ALL = "All meetings"
STATUS_COLOUR = {"passed": "#1a7f37", "warning": "#9a6700", "failed": "#cf222e"}


def _counts(con: duckdb.DuckDBPyConnection, regions: Sequence[tuple[str, str]]) -> tuple[list[str], np.ndarray]:
    """Row labels (all meetings, then each region) and meetings per (row, ISO weekday)."""
    rows = con.sql(
        f"""SELECT NULL AS region, weekday, count(*) FROM {RELEASE_TABLE} GROUP BY weekday
            UNION ALL
            SELECT r.region, weekday, count(*) FROM {RELEASE_TABLE}, unnest(regions) AS r(region) GROUP BY ALL"""
    ).fetchall()
    order = {None: 0, **{rid: i + 1 for i, (rid, _) in enumerate(regions)}}
    grid = np.zeros((len(order), 7), dtype=int)
    for region, weekday, n in rows:
        if region in order:
            grid[order[region], weekday - 1] = n
    return [ALL, *(name for _, name in regions)], grid


def _plot(labels: list[str], grid: np.ndarray, path: Path) -> None:
    from matplotlib.figure import Figure  # a second of imports: only the publish stage pays it

    shares = grid / np.maximum(grid.sum(axis=1, keepdims=True), 1)
    even = 1 / 7  # an even week is a mid tone; a region meeting on few days saturates
    fig = Figure(figsize=(9, 0.45 * len(labels) + 1.6), dpi=100)  # no pyplot: no global state, no GUI backend
    ax = fig.subplots()
    ax.imshow(shares, cmap="Blues", aspect="auto", vmin=0, vmax=2 * even)
    ax.set_xticks(range(7), [WEEKDAYS[d][:3] for d in range(1, 8)])
    ax.set_yticks(range(len(labels)), labels)
    for (row, col), n in np.ndenumerate(grid):
        ax.text(col, row, str(n), ha="center", va="center", fontsize=8,
                color="white" if shares[row, col] > 1.4 * even else "black")  # fmt: skip
    ax.set_title("Meetings per weekday and region (shade: share of the region's week; mid tone = even)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})


def _scope_of(path: str) -> str | None:
    """The region a release file belongs to (None: the whole release)."""
    parts = path.split("/")
    if parts[0] == "regions":
        return parts[1]
    if parts[0] == "meeting-guide":
        return parts[1].removesuffix(".json")
    return None


def _linked(path: str) -> bool:
    """Files worth a link: not the HSDS tables one by one (``datapackage.json`` lists them), not CHANGES.json
    (linked above the table)."""
    hsds_table = "/hsds/" in f"/{path}" and path.endswith(".csv")
    return not hsds_table and path != "CHANGES.json"


def _downloads(files: list[dict[str, Any]], regions: Sequence[tuple[str, str]]) -> str:
    rows = []
    for region, name in [(None, ALL), *regions]:
        mine = [f for f in files if _scope_of(f["path"]) == region]
        links = " · ".join(
            f'<a href="{html.escape(f["path"])}">{html.escape(f["path"].removeprefix(f"regions/{region}/"))}</a>'
            for f in mine
            if _linked(f["path"])
        )
        feed = "meeting-guide.json" if region is None else f"meeting-guide/{region}.json"
        meetings = next((f["rows"] for f in mine if f["path"] == feed), 0)
        rows.append(f"<tr><th>{html.escape(name)}</th><td>{meetings}</td><td>{links}</td></tr>")
    return "\n".join(rows)


def _quality(quality: dict[str, Any] | None) -> str:
    if quality is None:
        return "<p>Not checked.</p>"
    status = quality.get("status", "unknown")
    failed = "".join(
        f"<li>{html.escape(str(f.get('suite')))}.{html.escape(str(f.get('expectation')))} "
        f"({html.escape(str(f.get('severity')))}): {f.get('unexpected_count')} rows</li>"
        for f in quality.get("failed_checks", [])
    )
    colour = STATUS_COLOUR.get(status, "#57606a")
    return f'<p>Status: <strong style="color:{colour}">{html.escape(status)}</strong></p><ul>{failed}</ul>'


KIND = {"state": "state", "province": "province", "country": "country", "online": "online",
        "operator": "regions/*.yaml"}  # fmt: skip


def _regions(con: duckdb.DuckDBPyConnection) -> str:
    """Every region with its meetings, sub-regions and evidence; the empty ones; the meetings in none and why;
    coordinates that contradict their address."""
    rows, empty = [], []
    for region_id, name, kind, meetings, subs, evidence in operator_report.regions(con):
        if not meetings:
            empty.append(f"{html.escape(name)} (<code>{html.escape(region_id)}</code>)")
        zero = [s for s in subs.split(", ") if s.endswith(" 0")] if subs else []
        empty += [f"{html.escape(name)} › {html.escape(s.removesuffix(' 0'))}" for s in zero]
        rows.append(f"<tr><th>{html.escape(name)}</th><td><code>{html.escape(region_id)}</code></td>"
                    f"<td>{KIND.get(kind, kind)}</td><td>{meetings}</td><td>{html.escape(subs)}</td>"
                    f"<td>{html.escape(evidence)}</td></tr>")  # fmt: skip
    unplaced = "".join(
        f"<tr><td>{html.escape(reason)}</td><td>{html.escape(source)}</td><td>{n}</td><td>{html.escape(why)}</td>"
        f"<td>{html.escape(example)}</td></tr>"
        for reason, source, n, why, example in operator_report.unplaced(con)
    )
    conflicts = "".join(
        f"<tr><td>{html.escape(source)}</td><td>{n}</td><td>{html.escape(examples)}</td></tr>"
        for source, n, examples in operator_report.coordinate_conflicts(con)
    )
    return f"""<table><tr><th>region</th><th>feed</th><th>from</th><th>meetings</th><th>sub-regions</th>
<th>located by</th></tr>
{"".join(rows)}
</table>
<p>Empty regions: {", ".join(empty) or "none"}.</p>
<h3>Meetings in no region</h3>
{
        f"<table><tr><th>reason</th><th>source</th><th>meetings</th><th>why</th><th>example</th></tr>{unplaced}</table>"
        if unplaced
        else "<p>None: every meeting is in a regional feed.</p>"
    }
<h3>Coordinates that contradict the address</h3>
{
        f"<table><tr><th>source</th><th>meetings</th><th>address → where the point lies</th></tr>{conflicts}</table>"
        if conflicts
        else "<p>None.</p>"
    }"""


def _sources(sources: list[dict[str, Any]]) -> str:
    """One row per source; a link-only source links to its own finder (it is listed, never fetched)."""
    rows = []
    for s in sources:
        name = html.escape(s["id"])
        if s.get("url"):
            name = f'<a href="{html.escape(s["url"])}">{name}</a>'
        rows.append(f"<tr><td>{name}</td><td>{html.escape(s['status'])}</td><td>{s.get('records', '')}</td>"
                    f"<td>{html.escape(str(s.get('reason') or ''))}</td></tr>")  # fmt: skip
    return "\n".join(rows)


def write(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    release_id: str,
    regions: Sequence[tuple[str, str]],
    files: list[dict[str, Any]],
    manifest: dict[str, Any],
) -> list[dict[str, Any]]:
    """Write the plot and the page for the release in ``root``; ``files`` are the data files written."""
    labels, grid = _counts(con, regions)
    _plot(labels, grid, root / PLOT)
    changes = manifest.get("counts", {}).get("changes", {})
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Meetings release {html.escape(release_id)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:70em;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse}}td,th{{border-bottom:1px solid #d0d7de;padding:.3em .6em;text-align:left;
vertical-align:top}}td a{{overflow-wrap:anywhere}}</style></head>
<body>
<h1>Meetings release {html.escape(release_id)}</h1>
<p>{int(grid[0].sum())} meetings in {len(regions)} regions ·
added {changes.get("added", 0)}, removed {changes.get("removed", 0)}, changed {changes.get("changed", 0)}
since the previous release (<a href="CHANGES.json">CHANGES.json</a>) ·
<a href="manifest.json">manifest.json</a> (checksums, sources, quality)</p>
<h2>Quality</h2>
{_quality(manifest.get("quality"))}
<h2>Regions</h2>
<p>One feed per US state and territory present, per province or country elsewhere, <code>online</code>, and the
operator's regions (<code>regions/*.yaml</code>). A meeting is located by its best evidence — its coordinates,
else its ZIP code, else its city and state, else the source's own region label, else its state — and
coordinates far from every county its address names are set aside (the address wins). In the Meeting Guide
feeds, <code>regions</code> is the meeting's place in the feed's hierarchy: state › county › city ›
neighbourhood for all meetings and online ones, county › city › neighbourhood in a state's feed, borough or
city › neighbourhood in an operator's region.</p>
{_regions(con)}
{directory.page_section(con)}
{directory.coverage_section(con)}
<h2>Downloads</h2>
<p>All meetings as Parquet, CSV and GeoJSON, the Meeting Guide feed, and Open Referral HSDS 3
(<code>datapackage.json</code> with its CSV tables, and <code>services.json</code>); when and whether each meeting
was last confirmed in <a href="verification.parquet">verification.parquet</a>. Each region: its Meeting Guide
feed and <code>index.json</code> (its rows in the national files are those whose <code>regions</code> list
names it), and the per-region copies the operator publishes.</p>
<table><tr><th>region</th><th>meetings</th><th>files</th></tr>
{_downloads(files, regions)}
</table>
<h2>Meetings per weekday</h2>
<p><img src="{PLOT}" alt="Heat map of meetings per weekday for each region"></p>
<h2>Sources</h2>
<table><tr><th>source</th><th>status</th><th>meetings</th><th>reason</th></tr>
{_sources(manifest.get("sources", []))}
</table>
</body></html>
"""
    (root / PAGE).write_text(body)
    return [file_entry(root, root / PLOT, None), file_entry(root, root / PAGE, None)]
