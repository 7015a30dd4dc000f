"""Why a meeting is what it is: its member records, the score and reasons of each link, the source each
field came from and the merges and splits it went through (``clearinghouse explain MEETING_ID``)."""

from __future__ import annotations

import textwrap
from typing import Any

import duckdb

from foundation.model import WEEKDAYS
from transforms.survivorship import RULES, SURVIVING_FIELDS

RULE_OF = {f: r.rule for r in RULES for f in r.fields}
_MEMBER_FIELDS = ("name", "weekday", "start_time", "venue_name", "address_line", "city", "attendance",
                  "conference_provider", "conference_id")  # fmt: skip


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    relation = con.sql(sql, params=params)
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def explain(con: duckdb.DuckDBPyConnection, meeting_id: str) -> dict[str, Any]:
    """The cluster behind ``meeting_id`` as plain data (JSON-able after ``default=str``).

    ``status``: ``active`` (published), ``merged`` (absorbed into ``merged_into``), ``inactive`` (linked
    records exist but none is current) or ``unknown``.
    """
    params = {"id": meeting_id}
    meeting = _rows(
        con,
        "SELECT meeting_id, fellowship, name, weekday, start_time, venue_name, address_line, city, attendance, "
        "conference_provider, conference_id, venue_id, first_seen, last_seen FROM core.meetings "
        "WHERE meeting_id = $id",
        params,
    )
    members = _rows(
        con,
        f"""
        SELECT l.source_id, l.source_key, l.score, l.reason, l.matched_source_id, l.matched_source_key,
               l.first_linked_at, l.last_seen_at, v.fetch_id IS NOT NULL AS current,
               {", ".join(f"v.{f}" for f in _MEMBER_FIELDS)}
        FROM core.meeting_links l
        LEFT JOIN (SELECT v.* FROM core.meeting_versions v
                   JOIN ops.source_state s ON s.source_id = v.source_id AND s.current_fetch_id = v.fetch_id) v
               USING (source_id, source_key)
        WHERE l.meeting_id = $id
        ORDER BY l.first_linked_at, l.source_id, l.source_key
        """,
        params,
    )
    fields = _rows(
        con,
        f"""
        SELECT f.field, m.sources[f.pos].source_id AS source_id, m.sources[f.pos].source_key AS source_key
        FROM (UNPIVOT (SELECT * FROM core.meeting_field_sources WHERE meeting_id = $id)
              ON {", ".join(SURVIVING_FIELDS)} INTO NAME field VALUE pos) f
        JOIN core.meetings m USING (meeting_id)
        """,
        params,
    )
    order = {field: i for i, field in enumerate(SURVIVING_FIELDS)}
    fields.sort(key=lambda f: order[f["field"]])
    for f in fields:
        f["rule"] = RULE_OF[f["field"]]
    events = _rows(
        con,
        "SELECT run_at, kind, from_meeting_id, meeting_id, records, members FROM core.resolution_events "
        "WHERE meeting_id = $id OR from_meeting_id = $id ORDER BY run_at, kind, from_meeting_id, meeting_id",
        params,
    )
    merged_into = next((e["meeting_id"] for e in events if e["kind"] == "merge" and e["from_meeting_id"] == meeting_id),
                       None)  # fmt: skip
    status = "active" if meeting else "merged" if merged_into else "inactive" if members else "unknown"
    return {
        "meeting_id": meeting_id,
        "status": status,
        "merged_into": merged_into,
        "meeting": meeting[0] if meeting else None,
        "members": members,
        "fields": fields,
        "events": events,
    }


def _when(record: dict[str, Any]) -> str:
    day = WEEKDAYS.get(record.get("weekday") or 0, "?")
    start = record.get("start_time")
    return f"{day} {start.strftime('%H:%M') if start else '?'}"


def _place(record: dict[str, Any]) -> str:
    parts = [record.get("venue_name"), record.get("address_line"), record.get("city")]
    online = f"{record['conference_provider']} {record['conference_id']}" if record.get("conference_id") else None
    return " · ".join(p for p in (", ".join(x for x in parts if x), record.get("attendance"), online) if p)


def render(explanation: dict[str, Any]) -> str:
    """The explanation as text for a terminal."""
    lines = [f"{explanation['meeting_id']}: {explanation['status']}"]
    if explanation["merged_into"]:
        lines.append(f"  merged into {explanation['merged_into']}")
    if m := explanation["meeting"]:
        lines.append(f"  {m['fellowship']} {m['name']!r} {_when(m)} · {_place(m)}")
        lines.append(f"  venue {m['venue_id'] or '—'} · first seen {m['first_seen']:%Y-%m-%d}")
    lines.append(f"members ({len(explanation['members'])}):")
    for r in explanation["members"]:
        matched = f" ↔ {r['matched_source_id']}/{r['matched_source_key']}" if r["matched_source_id"] else ""
        state = "" if r["current"] else " (not current)"
        lines.append(f"  {r['source_id']}/{r['source_key']}{state}: score {r['score']:.2f} [{r['reason']}]{matched}")
        if r["current"]:
            lines.append(f"      {r['name']!r} {_when(r)} · {_place(r)}")
    if explanation["fields"]:
        lines.append("fields, by the record they came from and the rule that chose it:")
        winners: dict[str, dict[str, list[str]]] = {}
        for f in explanation["fields"]:
            winners.setdefault(f"{f['source_id']}/{f['source_key']}", {}).setdefault(f["rule"], []).append(f["field"])
        for record, rules in winners.items():
            text = "; ".join(f"{rule}: {', '.join(fields)}" for rule, fields in rules.items())
            lines.append(textwrap.fill(text, width=110, initial_indent=f"  {record} — ", subsequent_indent="      "))
    if explanation["events"]:
        lines.append("events:")
        lines.extend(
            f"  {e['run_at']:%Y-%m-%d %H:%M} {e['kind']}: {e['from_meeting_id']} → {e['meeting_id']} "
            f"({e['records']} records)"
            for e in explanation["events"]
        )
    return "\n".join(lines)
