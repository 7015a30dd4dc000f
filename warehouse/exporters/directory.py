"""The referral directory of a release: ``directory.json`` (every fellowship of ``fellowships/*.yaml`` with its
finder, helpline, category, whether the project fetches it, and the regions it has meetings in), the manifest's
meetings per fellowship and category, and the release page's parity section (region × category: meetings
listed, or "referral only").

A clearinghouse that cannot list a fellowship's meetings still tells people it exists and where to look: where
the data stops, the directory points to the fellowship's own finder. Reads ``ref.fellowships`` and
``ref.registry_sources`` (``warehouse.fellowships.sync``) and the marts of migration 010.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import duckdb

from foundation.fellowship import CATEGORIES, FINDER_KINDS
from warehouse.exporters.common import RELEASE_TABLE, file_entry

FILE = "directory.json"
LISTED, REFERRAL = "meetings listed", "referral only"


def _records(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    relation = con.sql(sql)
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def fellowships(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every fellowship of the directory with what this release holds of it, by category then code."""
    order = ", ".join(f"'{c}'" for c in CATEGORIES)
    return _records(
        con,
        f"""WITH listed AS (
                SELECT fellowship, count(*) AS meetings FROM {RELEASE_TABLE} GROUP BY ALL
            ), in_regions AS (
                SELECT fellowship, list({{'region_id': region_id, 'meetings': n}} ORDER BY region_id) AS regions
                FROM (SELECT fellowship, r AS region_id, count(*) AS n
                      FROM {RELEASE_TABLE}, unnest(regions) AS u(r) GROUP BY ALL)
                GROUP BY ALL
            ), registry AS (
                SELECT fellowship, count(*) FILTER (WHERE fetched) AS sources,
                       count(*) FILTER (WHERE NOT fetched) AS link_only_sources
                FROM ref.registry_sources GROUP BY ALL
            )
            SELECT f.fellowship AS code, f.name, f.category, f.helps_with, f.website, f.finder_url, f.finder_kind,
                   f.how_it_publishes, f.listing, f.helpline, f.access, f.why, f.terms, f.terms_url,
                   coalesce(g.sources, 0) > 0 AS fetched, coalesce(g.sources, 0) AS sources,
                   coalesce(g.link_only_sources, 0) AS link_only_sources, coalesce(l.meetings, 0) AS meetings,
                   CASE WHEN l.meetings > 0 THEN '{LISTED}' ELSE '{REFERRAL}' END AS status,
                   coalesce(r.regions, []) AS regions, f.unverified, f.evidence
            FROM ref.fellowships f
            LEFT JOIN listed l USING (fellowship) LEFT JOIN in_regions r USING (fellowship)
            LEFT JOIN registry g USING (fellowship)
            ORDER BY list_position([{order}], f.category), f.fellowship""",
    )


def parity(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Region × category rows of ``marts.fellowship_parity``, regions in release order."""
    return _records(
        con,
        "SELECT region_id, region_name, category, status, meetings, listed, referral_only "
        "FROM marts.fellowship_parity ORDER BY position, region_id, "
        f"list_position([{', '.join(repr(c) for c in CATEGORIES)}], category)",
    )


def counts(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The manifest's meetings per fellowship and per category (every directory entry, zero included)."""
    rows = con.sql(
        f"""SELECT f.fellowship, f.category, count(m.meeting_id) AS n
            FROM ref.fellowships f LEFT JOIN {RELEASE_TABLE} m USING (fellowship) GROUP BY ALL ORDER BY 1"""
    ).fetchall()
    unlisted = con.sql(
        f"SELECT fellowship, count(*) FROM {RELEASE_TABLE} "
        "WHERE fellowship NOT IN (SELECT fellowship FROM ref.fellowships) GROUP BY ALL ORDER BY 1"
    ).fetchall()
    by_category = dict.fromkeys(CATEGORIES, 0)
    for _, category, n in rows:
        by_category[category] += n
    return {
        "meetings_by_fellowship": {code: n for code, _, n in rows} | dict(unlisted),
        "meetings_by_category": by_category | ({"other": sum(n for _, n in unlisted)} if unlisted else {}),
    }


def write(con: duckdb.DuckDBPyConnection, root: Path) -> list[dict[str, Any]]:
    """Write ``directory.json`` (no release id in it: its bytes change only when what it says changes); returns
    its manifest entry (rows = fellowships)."""
    entries = fellowships(con)
    by_region: dict[str, dict[str, Any]] = {}
    for row in parity(con):
        region = by_region.setdefault(row["region_id"], {"region_id": row["region_id"], "name": row["region_name"],
                                                         "categories": []})  # fmt: skip
        region["categories"].append({k: row[k] for k in ("category", "status", "meetings", "listed", "referral_only")})
    document = {
        "description": "Every mutual-help fellowship the clearinghouse knows, with its own finder: where this "
        "release lists no meetings of a fellowship, people are referred to its finder. `status` is "
        f"'{LISTED}' or '{REFERRAL}'; `fetched`: the registry has a source the project fetches for it; "
        "`unverified` names the facts not confirmed against public material.",
        "categories": list(CATEGORIES),
        "finder_kinds": FINDER_KINDS,
        "fellowships": entries,
        "regions": list(by_region.values()),
    }
    path = root / FILE
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    return [file_entry(root, path, len(entries))]


def _names(codes: list[str], names: dict[str, str], finders: dict[str, str | None]) -> str:
    links = []
    for code in codes:
        label = f'<abbr title="{html.escape(names.get(code, code))}">{html.escape(code)}</abbr>'
        url = finders.get(code)
        links.append(f'<a href="{html.escape(url)}">{label}</a>' if url else label)
    return ", ".join(links)


def page_section(con: duckdb.DuckDBPyConnection) -> str:
    """The release page's "Fellowships and referrals" section: the parity table (region × category) and the
    directory (each fellowship with its finder, helpline, category and the regions it has meetings in)."""
    entries = fellowships(con)
    names = {e["code"]: e["name"] for e in entries}
    finders = {e["code"]: e["finder_url"] or e["website"] for e in entries}
    head = "".join(f"<th>{html.escape(c)}</th>" for c in CATEGORIES)
    rows, current, cells = [], None, []
    for row in [*parity(con), None]:
        if current is not None and (row is None or row["region_id"] != current[0]):
            rows.append(f"<tr><th>{html.escape(current[1])}</th>{''.join(cells)}</tr>")
            cells = []
        if row is None:
            break
        current = (row["region_id"], row["region_name"])
        if row["status"] == LISTED:
            cell = (f'<td class="listed">{row["meetings"]} meetings<br><small>'
                    f"{_names(row['listed'], names, finders)}</small></td>")  # fmt: skip
        else:
            cell = (f'<td class="referral">referral only<br><small>'
                    f"{_names(row['referral_only'], names, finders)}</small></td>")  # fmt: skip
        cells.append(cell)
    directory = []
    for e in entries:
        finder = e["finder_url"] or e["website"]
        regions = f"{e['meetings']} meetings in {len(e['regions'])} regions" if e["regions"] else "—"
        note = (
            " <small>(unverified: " + html.escape(", ".join(e["unverified"])) + ")</small>" if e["unverified"] else ""
        )
        directory.append(
            f"<tr><td>{html.escape(e['name'])} (<code>{html.escape(e['code'])}</code>)</td>"
            f"<td>{html.escape(e['category'])}</td><td>{html.escape(e['helps_with'])}</td>"
            f'<td><a href="{html.escape(finder)}">{html.escape(finder)}</a>{note}</td>'
            f"<td>{html.escape(e['helpline'] or '')}</td><td>{html.escape(e['status'])}"
            f"{' (fetched)' if e['fetched'] else ''}</td><td>{regions}</td>"
            f"<td><small>{html.escape(e['why'])}</small></td></tr>"
        )
    return f"""<h2 id="fellowships">Fellowships and referrals</h2>
<p>Every fellowship the clearinghouse knows (<a href="{FILE}">{FILE}</a>), 12-step or not. Per region and kind of
fellowship: the meetings this release lists, or <strong>referral only</strong> — no meetings of that kind are
listed here, and people are pointed to each fellowship's own finder (linked). A referral-only cell is work for
the operator: a source to add where the fellowship's terms allow it.</p>
<style>td.referral{{background:#fff8c5}}td.listed{{background:#dafbe1}}</style>
<table><tr><th>region</th>{head}</tr>
{"".join(rows)}
</table>
<h3>Directory</h3>
<table><tr><th>fellowship</th><th>category</th><th>helps with</th><th>finder</th><th>helpline</th><th>here</th>
<th>meetings here</th><th>why fetched or not</th></tr>
{"".join(directory)}
</table>"""


def coverage_section(con: duckdb.DuckDBPyConnection) -> str:
    """The release page's coverage section: sources and meetings per US state and fellowship
    (``marts.fellowship_coverage``) for the states the registry covers, and per fellowship the states where it
    has no source (``marts.fellowship_source_gaps``)."""
    covered = con.sql(
        "SELECT state, state_name, fellowship, sources, link_only_sources, meetings FROM marts.fellowship_coverage "
        "WHERE sources > 0 OR link_only_sources > 0 OR meetings > 0 ORDER BY state, fellowship"
    ).fetchall()
    columns = sorted({r[2] for r in covered})
    states: dict[str, tuple[str, dict[str, tuple[int, int, int]]]] = {}
    for state, name, fellowship, sources, link_only, meetings in covered:
        states.setdefault(state, (name, {}))[1][fellowship] = (sources, link_only, meetings)
    rows = []
    for state, (name, cells) in states.items():
        tds = []
        for code in columns:
            sources, link_only, meetings = cells.get(code, (0, 0, 0))
            text = f"{sources} / {meetings}" + (f" +{link_only} link" if link_only else "")
            tds.append(f'<td class="{"listed" if sources else "referral"}">{text}</td>')
        rows.append(f"<tr><th>{html.escape(name)} ({html.escape(state)})</th>{''.join(tds)}</tr>")
    summary = con.sql(
        "SELECT fellowship, category, states_with_source, states_without_source, meetings "
        "FROM marts.fellowship_source_gaps ORDER BY states_with_source DESC, meetings DESC, fellowship"
    ).fetchall()
    gaps = "".join(
        f"<tr><td><code>{html.escape(code)}</code></td><td>{html.escape(category)}</td><td>{with_}</td>"
        f"<td>{without}</td><td>{meetings}</td></tr>"
        for code, category, with_, without, meetings in summary
        if with_ or meetings
    )
    nowhere = ", ".join(f"<code>{html.escape(code)}</code>" for code, _, with_, _, meetings in summary
                        if not with_ and not meetings)  # fmt: skip
    head = "".join(f"<th><code>{html.escape(c)}</code></th>" for c in columns)
    return f"""<h2 id="coverage">Coverage: sources and meetings per state and fellowship</h2>
<p>For each US state the registry reaches: sources fetched / meetings listed per fellowship (a source covers the
states its meetings are in and the state its entry names; "link" counts link-only entries, listed but never
fetched). Below, every fellowship of the directory with the number of states where the registry has a source
and where it has none (<code>marts.fellowship_coverage</code>, <code>marts.fellowship_source_gaps</code>).</p>
<table><tr><th>state</th>{head}</tr>
{"".join(rows) or "<tr><td>No US state has a source.</td></tr>"}
</table>
<h3>States without a source, per fellowship</h3>
<table><tr><th>fellowship</th><th>category</th><th>states with a source</th><th>states without</th>
<th>meetings</th></tr>
{gaps}
</table>
<p>No source in any state: {nowhere or "none"}.</p>"""
