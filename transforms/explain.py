"""Why a meeting is what it is: its member records, the score and reasons of each link, the source each
field came from and the merges and splits it went through (``clearinghouse explain MEETING_ID``); and why two
meetings that look alike are not one (``clearinghouse explain A --against B``)."""

from __future__ import annotations

import textwrap
from typing import Any

import duckdb

from foundation.model import WEEKDAYS
from transforms import matching
from transforms.resolve import current_versions_sql
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


# --- why two look-alike meetings are (not) one: ``clearinghouse explain A --against B`` -------------------

_COMPARED = ("dt", "same_street", "similar_street", "same_street_name", "same_house", "dist_m", "venue_sim",
             "same_city", "same_postal", "same_world_id", "same_slug", "same_conference", "name_sim",
             "same_group_name", "type_overlap")  # fmt: skip


def _records(con: duckdb.DuckDBPyConnection, ref: str) -> list[tuple[str, str]]:
    """A meeting id's current records, or the record ``source_id/source_key`` names."""
    if "/" not in ref:
        return [
            (s, k)
            for s, k in con.sql(
                """SELECT source_id, source_key FROM core.meeting_links l
                   WHERE meeting_id = $id AND (source_id, source_key) IN (SELECT source_id, source_key FROM res_records)
                   ORDER BY ALL""",
                params={"id": ref},
            ).fetchall()
        ]
    source_id, source_key = ref.split("/", 1)
    return [(source_id, source_key)]


def explain_against(con: duckdb.DuckDBPyConnection, a: str, b: str) -> dict[str, Any]:
    """Why the meetings (or records) ``a`` and ``b`` are or are not one meeting, pair by pair of their
    current records: blocking keys, candidate or not, comparisons, veto, rule, score, and where they are now.

    ``a``, ``b``: a meeting id or ``source_id/source_key``. Matching runs again over every current record (on
    temporary tables), so the answer is what the next resolution would decide.
    """
    sources = [s for (s,) in con.sql("SELECT source_id FROM ops.source_state WHERE current_fetch_id IS NOT NULL")
               .fetchall()]  # fmt: skip
    con.execute(f"CREATE OR REPLACE TEMP VIEW current_versions AS {current_versions_sql(sources)}")
    try:
        matching.prepare(con)
        left, right = _records(con, a), _records(con, b)
        rid = {
            (s, k): (r, f)
            for s, k, r, f in con.sql("SELECT source_id, source_key, rid, fellowship FROM res_records").fetchall()
            if (s, k) in {*left, *right}
        }
        missing = [f"{s}/{k}" for s, k in (*left, *right) if (s, k) not in rid]
        pairs = [(x, y) for x in left for y in right if x in rid and y in rid and x != y]
        found = matching.explain_pairs(con, [(rid[x][0], rid[y][0]) for x, y in pairs]) if pairs else []
        meeting_of = dict(
            ((s, k), m)
            for s, k, m in con.sql("SELECT source_id, source_key, meeting_id FROM core.meeting_links").fetchall()
            if (s, k) in {*left, *right}
        )
    finally:
        for (table,) in con.sql(
            "SELECT table_name FROM duckdb_tables() WHERE temporary AND table_name LIKE 'res\\_%' ESCAPE '\\'"
        ).fetchall():
            con.execute(f"DROP TABLE {table}")
        con.execute("DROP VIEW IF EXISTS current_versions")
    out = []
    for (x, y), row in zip(pairs, found, strict=True):
        same_fellowship = rid[x][1] == rid[y][1]
        together = meeting_of.get(x) is not None and meeting_of.get(x) == meeting_of.get(y)
        if x[0] == y[0]:
            verdict = ("one meeting: the source lists it twice" if together else
                       "two listings of one source: joined only when the source lists one meeting twice (the same "
                       "bytes, the same world id on the same day, or the same everything)")  # fmt: skip
        elif not same_fellowship:
            verdict = "different fellowships never merge"
        elif not row["candidate"]:
            verdict = (
                "never compared: no blocking key in common"
                if not row["shared_keys"]
                else f"never compared: {row['dt']} minutes apart (blocking allows {matching.MAX_DT_MIN})"
            )
        elif row["veto"]:
            verdict = f"compared, vetoed: {row['veto']}"
        elif not row["rule"]:
            verdict = "compared, no rule holds (see the comparisons)"
        elif together:
            verdict = f"one meeting: rule {row['rule']}"
        else:
            verdict = (f"rule {row['rule']} holds, but a meeting holds one listing per source: a stronger link "
                       "of one of them won")  # fmt: skip
        out.append({
            "a": f"{x[0]}/{x[1]}", "b": f"{y[0]}/{y[1]}", "meeting_a": meeting_of.get(x),
            "meeting_b": meeting_of.get(y), "together": together, "verdict": verdict,
            "keys_a": row["keys_a"], "keys_b": row["keys_b"], "shared_keys": row["shared_keys"],
            "candidate": row["candidate"] and same_fellowship, "veto": row["veto"], "rule": row["rule"],
            "score": row["score"], "compared": {f: row[f] for f in _COMPARED},
        })  # fmt: skip
    return {"a": a, "b": b, "pairs": out, "not_current": missing}


INDENT = " " * 8


def render_against(explanation: dict[str, Any]) -> str:
    """``explain_against`` as text for a terminal."""
    lines = [f"{explanation['a']} against {explanation['b']}:"]
    if not explanation["pairs"]:
        lines.append("  no current records to compare")
    for p in explanation["pairs"]:
        lines.append(f"  {p['a']} ({p['meeting_a']}) ↔ {p['b']} ({p['meeting_b']}): {p['verdict']}")
        lines.append(f"      shared blocking keys: {', '.join(p['shared_keys']) or 'none'}")
        for side in ("a", "b"):
            keys = ", ".join(p[f"keys_{side}"]) or "none"
            first = f"      keys of {side}: "
            lines.append(textwrap.fill(keys, width=110, initial_indent=first, subsequent_indent=INDENT))
        compared = ", ".join(
            f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in p["compared"].items() if v is not None
        )
        lines.append(textwrap.fill(compared, width=110, initial_indent="      compared: ", subsequent_indent=INDENT))
        lines.append(f"      veto: {p['veto'] or 'none'} · rule: {p['rule'] or 'none'} · score {p['score']:.2f}")
    if explanation["not_current"]:
        lines.append(f"  not current (no version to compare): {', '.join(explanation['not_current'])}")
    return "\n".join(lines)
