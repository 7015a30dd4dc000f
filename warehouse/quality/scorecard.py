"""The source scorecard: one HTML page that shows at a glance which sources are sick.

Per source: status, last good fetch, records (parsed → published), quarantine rate and top reasons, field
completeness, freshness, failing checks and a sparkline of the record count over recent fetches. The page
is self-contained (inline CSS and SVG) and links to the Data Docs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any

import duckdb

from warehouse.runs import shown_status

TREND_FETCHES = 30
COMPLETENESS = {
    "address": ("address_line IS NOT NULL", "attendance IN ('in_person', 'hybrid')"),
    "postal code": ("postal_code IS NOT NULL", "attendance IN ('in_person', 'hybrid')"),
    "coordinates": ("latitude IS NOT NULL", "attendance IN ('in_person', 'hybrid')"),
    "online access": ("conference_url IS NOT NULL OR conference_phone IS NOT NULL",
                      "attendance IN ('online', 'hybrid')"),
    "end time": ("end_time_source IN ('source', 'duration')", "true"),
    "types": ("len(types) > 0", "true"),
    "source url": ("source_url IS NOT NULL", "true"),
}  # fmt: skip
"""Field → (filled, applies): the share of the source's current meetings the field applies to that have it,
as the source gave it (an end time counts when the source gave it or a duration; nothing is invented)."""
QUARANTINE_ALARM = 0.05
"""A quarantine rate above this is shown in red."""
STATUS_CLASS = {"ok": "good", "unchanged": "good", "held": "warn", "stale": "bad", "failed": "bad",
                "link_only": "muted"}  # fmt: skip

_COMPLETENESS_COLUMNS = ", ".join(
    f"avg(CASE WHEN {applies} THEN CASE WHEN {filled} THEN 1 ELSE 0 END END) AS c{i}"
    for i, (filled, applies) in enumerate(COMPLETENESS.values())
)
SOURCES_SQL = f"""
    WITH current AS (
        SELECT v.* FROM core.meeting_versions v
        JOIN ops.source_state s ON s.source_id = v.source_id AND s.current_fetch_id = v.fetch_id
    ),
    completeness AS (
        SELECT source_id, max(source_updated_at) AS source_updated_at,
               count(*) FILTER (WHERE unparsed_address IS NOT NULL) AS address_unparsed, {_COMPLETENESS_COLUMNS}
        FROM current GROUP BY source_id
    ),
    published AS (
        SELECT p.source_id, count(DISTINCT m.meeting_id) AS meetings
        FROM core.meetings m, unnest(m.sources) AS u(p) WHERE m.status = 'active' GROUP BY p.source_id
    ),
    conflicts AS (
        SELECT p.source_id, count(DISTINCT m.meeting_id) AS meetings
        FROM core.meetings m, unnest(m.sources) AS u(p)
        JOIN core.meeting_places c ON c.meeting_id = m.meeting_id
        WHERE c.coordinates_conflict GROUP BY p.source_id
    ),
    reasons AS (
        SELECT source_id, fetch_id, list(reason || ' ×' || n ORDER BY n DESC, reason)[:3] AS top
        FROM (SELECT source_id, fetch_id, reason, count(*) AS n FROM core.quarantine GROUP BY ALL)
        GROUP BY ALL
    )
    SELECT s.source_id, s.last_status, s.last_reason, s.last_good_at, n.parsed, n.quarantined,
           coalesce(p.meetings, 0), r.top, c.source_updated_at, coalesce(c.address_unparsed, 0),
           coalesce(x.meetings, 0), {", ".join(f"c.c{i}" for i in range(len(COMPLETENESS)))}
    FROM ops.source_state s
    LEFT JOIN ops.normalized_fetches n ON n.fetch_id = s.current_fetch_id
    LEFT JOIN published p ON p.source_id = s.source_id
    LEFT JOIN reasons r ON r.source_id = s.source_id AND r.fetch_id = s.current_fetch_id
    LEFT JOIN completeness c ON c.source_id = s.source_id
    LEFT JOIN conflicts x ON x.source_id = s.source_id
    ORDER BY s.source_id
"""
TREND_SQL = f"""
    SELECT source_id, list(struct_pack(status, records) ORDER BY started_at)[-{TREND_FETCHES}:]
    FROM raw.fetches GROUP BY source_id
"""
CHECKS_SQL = """
    WITH latest_core AS (SELECT run_id FROM ops.dq_results WHERE suite = 'core' ORDER BY checked_at DESC LIMIT 1)
    SELECT source_id, suite, expectation, severity, unexpected_count, NULL AS by_source FROM ops.dq_results
    WHERE suite = 'staging' AND NOT success AND fetch_id IN (SELECT current_fetch_id FROM ops.source_state)
    UNION ALL
    SELECT NULL, suite, expectation, severity, unexpected_count, details->'by_source' FROM ops.dq_results
    WHERE suite = 'core' AND NOT success AND run_id IN (SELECT run_id FROM latest_core)
"""


@dataclass(frozen=True)
class SourceCard:
    source_id: str
    status: str
    reason: str | None
    last_good_at: datetime | None
    parsed: int | None
    quarantined: int | None
    published: int
    top_reasons: list[str]
    source_updated_at: datetime | None
    address_unparsed: int
    """Current records whose place we could not parse (published as the source wrote it, still in person)."""
    coordinate_conflicts: int
    """Published meetings whose coordinates contradict their address (``transforms.regions``: the address wins)."""
    completeness: dict[str, float | None]
    trend: list[dict[str, Any]]
    checks: list[tuple[str, str, int]]
    """(check, severity, rows) failing for this source."""

    @property
    def quarantine_rate(self) -> float | None:
        return self.quarantined / self.parsed if self.parsed else None


def source_cards(con: duckdb.DuckDBPyConnection, now: datetime) -> list[SourceCard]:
    """What the scorecard shows, per source known to the warehouse."""
    trends = dict(con.sql(TREND_SQL).fetchall())
    checks: dict[str, list[tuple[str, str, int]]] = {}
    for source_id, suite, name, severity, count, by_source in con.sql(CHECKS_SQL).fetchall():
        label = f"dq:{name}" if suite == "staging" else name
        counts = {source_id: count} if source_id else json.loads(by_source or "{}")
        for sid, n in counts.items():
            checks.setdefault(sid, []).append((label, severity, n))
    cards = []
    for row in con.sql(SOURCES_SQL).fetchall():
        sid, status, reason, good, parsed, quarantined, published, top, updated, unparsed, conflicts = row[:11]
        status = shown_status(status, good, now)
        cards.append(
            SourceCard(
                sid, status or "unknown", reason, good, parsed, quarantined, published, top or [], updated,
                unparsed, conflicts, dict(zip(COMPLETENESS, row[11:], strict=True)), trends.get(sid, []),
                sorted(checks.get(sid, []), key=lambda c: (c[1] != "critical", -c[2])),
            )
        )  # fmt: skip
    return cards


def sparkline(points: list[dict[str, Any]], width: int = 160, height: int = 32) -> str:
    """Records per fetch as an inline SVG; held fetches orange, failed ones red on the baseline."""
    if not points:
        return '<span class="muted">no fetches</span>'
    values = [p["records"] or 0 for p in points]
    top = max(values) or 1
    step = width / max(len(points) - 1, 1)

    def xy(i: int, v: int) -> tuple[float, float]:
        return round(i * step, 1), round(height - 2 - (height - 4) * v / top, 1)

    ok = [xy(i, v) for i, (p, v) in enumerate(zip(points, values, strict=True)) if p["status"] != "failed"]
    line = " ".join(f"{x},{y}" for x, y in ok)
    marks = "".join(
        f'<circle cx="{x}" cy="{y}" r="2.5" class="{"bad" if p["status"] == "failed" else "warn"}"/>'
        for i, p in enumerate(points)
        if p["status"] in ("failed", "held")
        for x, y in [xy(i, values[i])]
    )
    title = escape(" → ".join(str(v) for v in values[-8:]))
    return (
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">'
        f"<title>records per fetch (last {len(values)}): … {title}</title>"
        f'<polyline points="{line}" fill="none" stroke="#2a6fbb" stroke-width="1.5"/>{marks}</svg>'
    )


def _age(then: datetime | None, now: datetime) -> str:
    if then is None:
        return "never"
    hours = (now - then).total_seconds() / 3600
    return f"{hours:.0f} h ago" if hours < 48 else f"{hours / 24:.0f} d ago"


def _pct(share: float | None) -> str:
    if share is None:
        return '<td class="muted">–</td>'
    level = "good" if share >= 0.9 else "warn" if share >= 0.5 else "bad"
    return f'<td class="{level} num">{share:.0%}</td>'


def _card_row(card: SourceCard, now: datetime) -> str:
    reason = f'<div class="small">{escape(card.reason)}</div>' if card.reason and card.status != "ok" else ""
    if card.last_good_at:
        good = f'{card.last_good_at:%Y-%m-%d %H:%M}<div class="small">{_age(card.last_good_at, now)}</div>'
    else:
        good = '<span class="muted">never fetched</span>' if card.status == "link_only" else '<b class="bad">never</b>'

    rate = card.quarantine_rate
    checks = "<br>".join(
        f'<span class="{"bad" if severity == "critical" else "warn"}">{escape(name)} ×{n}</span>'
        for name, severity, n in card.checks
    )
    updated = card.source_updated_at
    cells = [
        f"<td><b>{escape(card.source_id)}</b></td>",
        f'<td class="{STATUS_CLASS.get(card.status, "muted")}">{escape(card.status)}{reason}</td>',
        f"<td>{good}</td>",
        f'<td class="num">{"–" if card.parsed is None else card.parsed} → {card.published}</td>',
        f'<td class="num{" bad" if rate and rate > QUARANTINE_ALARM else ""}">'
        f"{'–' if rate is None else f'{rate:.1%}'}"
        f'<div class="small">{"<br>".join(escape(r) for r in card.top_reasons)}</div></td>',
        *(_pct(card.completeness[k]) for k in COMPLETENESS),
        f'<td class="num{" warn" if card.address_unparsed else ""}">{card.address_unparsed}</td>',
        f'<td class="num{" warn" if card.coordinate_conflicts else ""}">{card.coordinate_conflicts}</td>',
        f"<td>{_age(updated.replace(tzinfo=updated.tzinfo or UTC), now) if updated else '–'}</td>",
        f"<td>{checks or '<span class=good>none</span>'}</td>",
        f"<td>{sparkline(card.trend)}</td>",
    ]
    return "<tr>" + "".join(cells) + "</tr>"


def render(cards: list[SourceCard], quality: dict[str, Any], run_id: str, now: datetime, data_docs_href: str) -> str:
    """The page: the run's quality verdict and failed checks, then one row per source (sickest first)."""
    order = {"failed": 0, "stale": 1, "held": 2, "unknown": 3}
    cards = sorted(cards, key=lambda c: (order.get(c.status, 4), -(c.quarantine_rate or 0), c.source_id))
    failed = "".join(
        f'<tr><td class="{"bad" if f["severity"] == "critical" else "warn"}">{escape(f["severity"])}</td>'
        f"<td>{escape(f['suite'])}.{escape(f['expectation'])}</td><td>{escape(f.get('source_id') or '')}</td>"
        f'<td class="num">{f["unexpected_count"] if f["unexpected_count"] is not None else "table"}</td>'
        f"<td><code>{escape(json.dumps(f['examples'][:3], default=str))}</code></td></tr>"
        for f in quality["failed_checks"]
    )
    status = quality["status"]
    columns = ("source", "status", "last good fetch", "records → published", "quarantine", *COMPLETENESS,
               "address unparsed", "coordinates contradict address", "source updated", "failing checks",
               f"records, last {TREND_FETCHES} fetches")  # fmt: skip
    header = "".join(f"<th>{escape(h)}</th>" for h in columns)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>clearinghouse source scorecard</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #222; }}
table {{ border-collapse: collapse; margin: 1rem 0; }}
th, td {{ border-bottom: 1px solid #ddd; padding: .35rem .6rem; text-align: left; vertical-align: top; }}
th {{ background: #f4f4f4; font-weight: 600; }}
.num {{ text-align: right; }} .small {{ font-size: 12px; color: #666; max-width: 22rem; }}
.good {{ color: #1a7f37; }} .warn {{ color: #b35900; }} .bad {{ color: #c62828; font-weight: 600; }}
.muted {{ color: #888; }} circle.warn {{ fill: #e08a00; }} circle.bad {{ fill: #c62828; }}
code {{ font-size: 12px; }}
</style></head><body>
<h1>Source scorecard</h1>
<p>Run <code>{escape(run_id)}</code> · generated {now:%Y-%m-%d %H:%M} UTC ·
quality <b class="{"good" if status == "passed" else "warn" if status == "warning" else "bad"}">{escape(status)}</b> ·
<a href="{escape(data_docs_href)}">Great Expectations Data Docs</a></p>
{
        f"<h2>Failed checks</h2><table><tr><th>severity</th><th>check</th><th>source</th><th>rows</th>"
        f"<th>examples</th></tr>{failed}</table>"
        if failed
        else "<p class=good>Every check passed.</p>"
    }
<h2>Sources</h2>
<table><tr>{header}</tr>
{"".join(_card_row(c, now) for c in cards)}
</table>
<p class="small">Completeness: share of the source's current meetings that have the field, among those it
applies to (address, postal code, coordinates: in person and hybrid; online access: online and hybrid), as the
source gave it (end time: the source's end or duration; nothing is invented). Address unparsed: places we could
not read into a street address, published as the source wrote them (the meetings stay in person).
Coordinates contradict address: published meetings whose point lies far from every county their address
names (ZIP code, city, region labels); the address places them, and the release publishes no rooftop point.
Quarantine: share of parsed records set aside, with the top reasons (<code>dq:</code> = a staging expectation).
Source updated: the newest update stamp the source gives its meetings. Sparkline: records per fetch; orange =
held by the volume guard, red = failed.</p>
</body></html>
"""


def scorecard_html(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    quality: dict[str, Any],
    data_docs_href: str,
    now: datetime | None = None,
) -> str:
    now = now or datetime.now(UTC)
    return render(source_cards(con, now), quality, run_id, now, data_docs_href)
