"""Build the labelled real-pair set of the demo data: ``tests/fixtures/dedup/demo_real_pairs.csv``.

Run after ``make run`` (it reads the demo warehouse's current versions):

    python bench/label_real_pairs.py [--warehouse data/warehouse.duckdb]

**The net** is much wider than resolution's blocking and uses none of its keys: every pair of listings of one
fellowship on the same weekday whose start times are at most 60 minutes apart and that share the street line
(house number and first street word), or have close names (Jaro-Winkler ≥ 0.85 on the lower-cased name) in
one state, the same conference id or the same source key. Pairs judged "different name and place" are left
out: they teach nothing. Pairs inside one source are kept only where both listings are at
the same street line within 30 minutes (concurrent meetings at one place, or a source listing one meeting
twice).

**The labels** are decided by reading what both listings say, in this order (``reason`` says which):

- ``no_match``: another weekday time (more than 30 minutes apart) — the same group's other meeting;
  men's vs women's meetings; another language;
- ``match``: the same conference id at the same time; the same group id (BMLT world id) on the same day within
  30 minutes (a source re-listing its group); the same slug in two feeds of one intergroup at the same time and
  place (renames allowed: "Gay & Lesbian" → "LGBTQ+");
- at the same place (street line or venue) within 30 minutes: ``match`` when the names say the same group
  (equal after dropping "group", "meeting", "AA", punctuation and case; one contained in the other; the
  listing's group name equal to the other's name); between two sources, when the other source lists
  another meeting under this name at that place and time, or one source lists concurrent meetings of one
  group that the other lists once, the pair that is not the meeting's own is ``unsure``; different names
  → ``no_match`` (same venue and time, different meetings), except two editions of one intergroup two
  years apart (a rename cannot be told from a replacement: ``unsure``);
- inside one source: the same name, place and time with different formats (NY Intergroup lists a group's
  beginners' meeting beside its main meeting) → ``no_match`` (concurrent meetings of one group); the same
  name, place, time and formats → ``match`` (listed twice);
- the same name at another place → ``no_match`` when the cities differ, ``unsure`` in the same city (a move).

Inside one source, listings that agree on all of that but whose notes differ are ``unsure`` (a second room
or a copy?), or ``no_match`` when the notes name other weeks of the month ("1st Saturday", "3rd Saturday").
``unsure`` pairs count neither as a miss nor as a false merge. Pairs the rules cannot tell were read by hand:
``OVERRIDES``.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "tests" / "fixtures" / "dedup" / "demo_real_pairs.csv"
EDITIONS = {frozenset({"sanjose-aa", "sanjose-wp-aa"})}
"""Source pairs that are two editions of one intergroup's list, years apart."""
STOP = {"the", "a", "an", "of", "and", "group", "grp", "meeting", "mtg", "aa", "na", "al", "anon", "online",
        "in", "person", "hybrid", "virtual", "zoom"}  # fmt: skip
_WEEK_OF_MONTH = re.compile(
    r"\b([1-5]|first|second|third|fourth|fifth|last)\s*(?:st|nd|rd|th)?\s+"
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)day",
    re.IGNORECASE,
)
OVERRIDES = {
    ("nyc-aa/h-mxlym7tsxr4rxu3u", "nyc-aa/h-y34ekipd4nae22jl"): (
        "match",
        "the source lists one meeting twice: the notes differ only in spelling the same cross streets "
        '("Betw Signs Rd and Rockland Ave." / "between Signs Rd and Rockland Ave"); read by hand',
    ),
}
"""Pairs decided by reading the listings where the rules above cannot tell."""
COLUMNS = ("a", "b", "decision", "kind", "reason", "a_listing", "b_listing", "note")

NET_SQL = """
WITH cur AS (
    SELECT v.*, hour(v.start_time) * 60 + minute(v.start_time) AS m,
           lower(regexp_extract(v.address_line, '^\\s*([0-9][0-9a-zA-Z-]*\\s+\\S+)', 1)) AS street_line,
           r.raw->>'worldid_mixed' AS world_id
    FROM core.meeting_versions v
    JOIN ops.source_state s ON s.source_id = v.source_id AND s.current_fetch_id = v.fetch_id
    LEFT JOIN staging.source_records r ON r.fetch_id = v.fetch_id AND r.source_key = v.source_key
)
SELECT x.source_id AS xs, x.source_key AS xk, y.source_id AS ys, y.source_key AS yk,
       abs(x.m - y.m) AS dt, x.street_line = y.street_line AS same_line
FROM cur x JOIN cur y
  ON x.fellowship = y.fellowship AND x.weekday = y.weekday AND abs(x.m - y.m) <= 60
 AND (x.source_id, x.source_key) < (y.source_id, y.source_key)
WHERE (x.source_id <> y.source_id AND (x.street_line = y.street_line
          OR (jaro_winkler_similarity(lower(x.name), lower(y.name)) >= 0.85 AND x.region_code = y.region_code)
          OR x.conference_id = y.conference_id OR x.source_key = y.source_key))
   OR (x.source_id = y.source_id AND x.street_line = y.street_line AND abs(x.m - y.m) <= 30)
"""


def _words(text: str | None) -> list[str]:
    return [w for w in re.sub(r"[^a-z0-9 ]+", " ", (text or "").lower().replace("'", "")).split() if w not in STOP]


def same_names(x: dict, y: dict) -> bool:
    """Names that say the same group (see the module docstring)."""
    nx, ny = " ".join(_words(x["name"])), " ".join(_words(y["name"]))
    gx, gy = " ".join(_words(x["group_name"])), " ".join(_words(y["group_name"]))
    if not nx or not ny:
        return False
    if nx == ny or (gx and gx == ny) or (gy and gy == nx):
        return True
    short, long = sorted((nx, ny), key=len)
    return len(short) >= 5 and f" {short} " in f" {long} "


def _street(text: str | None) -> str:
    words = {"street": "st", "avenue": "ave", "av": "ave", "road": "rd", "drive": "dr", "boulevard": "blvd",
             "place": "pl", "east": "e", "west": "w", "north": "n", "south": "s", "saint": "st",
             "lane": "ln"}  # fmt: skip
    line = re.split(r",|#|\b(?:suite|ste|room|rm|fl|floor|apt)\b", (text or "").lower())[0]
    return " ".join(words.get(w, w) for w in re.sub(r"[^a-z0-9 ]+", " ", line).split())


def same_place(x: dict, y: dict) -> bool:
    sx, sy = _street(x["address_line"]), _street(y["address_line"])
    if sx and sx == sy:
        return True
    vx, vy = set(_words(x["venue_name"])), set(_words(y["venue_name"]))
    return bool(vx and vy) and len(vx & vy) / len(vx | vy) >= 0.6 and (x["city"] or "") == (y["city"] or "")


def _audience(record: dict) -> str | None:
    types, words = set(record["types"] or []), set(_words(record["name"]))
    men = "men" in types or words & {"men", "mens", "gentlemen", "guys"}
    women = "women" in types or words & {"women", "womens", "ladies", "gals"}
    return "men" if men and not women else "women" if women and not men else None


def _overlap(x: dict, y: dict) -> int:
    return len(set(x["types"] or []) & set(y["types"] or []))


def _rank(x: dict, y: dict, dt: int) -> tuple[int, int]:
    return (dt, -_overlap(x, y))


def judge(x: dict, y: dict, dt: int, peers: dict[tuple[str, str, str], list[tuple[dict, int]]]) -> tuple[str, str, str]:
    """(decision, kind, reason) of one pair, from what the two listings say.

    ``peers[(source, key, other source)]``: the other source's listings with the same name at the same place
    within 30 minutes of this one, with their time difference.
    """
    inside = x["source_id"] == y["source_id"]
    kind = "within_source" if inside else "cross_source"
    if dt > 30:
        return "no_match", kind, f"another time of the week ({dt} min apart): another meeting"
    ax, ay = _audience(x), _audience(y)
    if ax and ay and ax != ay:
        return "no_match", "hard_negative", "men's vs women's meeting"
    lx, ly = set(x["languages"] or []), set(y["languages"] or [])
    if lx and ly and not lx & ly:
        return "no_match", "hard_negative", "another language"
    if not inside and x["conference_id"] and x["conference_id"] == y["conference_id"] and dt <= 15:
        return "match", kind, "same conference id at the same time"
    if x["world_id"] and x["world_id"] == y["world_id"] and (dt == 0 or same_names(x, y)):
        return "match", kind, f"same BMLT world id {x['world_id']} on the same day, {dt} min apart"
    place = same_place(x, y)
    names = same_names(x, y)
    editions = frozenset({x["source_id"], y["source_id"]}) in EDITIONS
    if editions and x["source_key"] == y["source_key"]:
        if place:
            return "match", kind, "same slug in two feeds of one intergroup, same time and place"
        return "unsure", kind, "same slug and time in two editions, another place (moved or went online?)"
    if place:
        if inside:
            if not names:
                return "no_match", "hard_negative", "same venue and time, different meetings (different names)"
            if dt:
                return "unsure", kind, f"the source lists the group {dt} min apart at one place (a stale copy?)"
            if x["attendance"] != y["attendance"]:
                return "unsure", kind, (f"{x['attendance']} and {y['attendance']} listings of one group at one "
                                        "time (an online twin or a stale copy?)")  # fmt: skip
            if sorted(x["types"] or []) != sorted(y["types"] or []):
                return (
                    "no_match",
                    "hard_negative",
                    (
                        "concurrent meetings of one group at one place and time: the source lists both, "
                        f"formats {'/'.join(x['types'] or ['none'])} vs {'/'.join(y['types'] or ['none'])}"
                    ),
                )
            if (x["notes"], x["location_notes"]) != (y["notes"], y["location_notes"]):
                override = OVERRIDES.get((f"{x['source_id']}/{x['source_key']}", f"{y['source_id']}/{y['source_key']}"))
                if override:
                    return override[0], kind, override[1]
                weeks = [_WEEK_OF_MONTH.findall(r["notes"] or "") for r in (x, y)]
                if weeks[0] != weeks[1] and all(weeks):
                    return "no_match", "hard_negative", "one meeting a month each, on other weeks (the notes say)"
                return "unsure", kind, ("same name, place, time and formats, other notes or room (a second room, "
                                        "or a copy?)")  # fmt: skip
            return "match", kind, "the source lists one meeting twice: same name, place, time and formats"
        if names:
            for a, b, d in ((x, y, dt), (y, x, dt)):
                rivals = [(o, od) for o, od in peers.get((a["source_id"], a["source_key"], b["source_id"]), [])
                          if o["source_key"] != b["source_key"]]  # fmt: skip
                if any(_rank(a, o, od) < _rank(a, b, d) for o, od in rivals):
                    best = min(rivals, key=lambda r: _rank(a, r[0], r[1]))[0]
                    decision = "no_match" if min(od for _, od in rivals) < d else "unsure"
                    return (
                        decision,
                        kind,
                        (
                            f"{b['source_id']} lists the group's meetings apart; {best['source_key']} is closer in "
                            "time or formats"
                        ),
                    )
                if any(_rank(a, o, od) == _rank(a, b, d) for o, od in rivals):
                    return (
                        "unsure",
                        kind,
                        (f"{b['source_id']} lists concurrent meetings of the group that {a['source_id']} lists once"),
                    )
            return "match", kind, "same name, day, time (±30 min) and place"
        if editions:
            return "unsure", kind, "same place and time two years apart, another name (renamed or replaced?)"
        return "no_match", "hard_negative", "same venue and time, different meetings (different names)"
    if names:
        if (x["city"] or "").lower() != (y["city"] or "").lower() and x["city"] and y["city"]:
            return "no_match", kind, "same name in another city"
        return "unsure", kind, "same name and time at another address (moved?)"
    return "no_match", kind, "different name and place"


def _listing(r: dict) -> str:
    when = f"{'?MTWTFSS'[r['weekday']] if r['weekday'] else '?'}{r['weekday']} {r['start_time']:%H:%M}"
    place = ", ".join(p for p in (r["venue_name"], r["address_line"], r["city"]) if p)
    extra = f" group={r['group_name']}" if r["group_name"] and r["group_name"] != r["name"] else ""
    conf = f" conf={r['conference_id']}" if r["conference_id"] else ""
    return f"{r['name']} | {when} | {place} | {r['attendance']} | {'/'.join(r['types'] or [])}{extra}{conf}"


def build(con: duckdb.DuckDBPyConnection) -> list[dict[str, str]]:
    rel = con.sql(
        """SELECT v.*, r.raw->>'worldid_mixed' AS world_id FROM core.meeting_versions v
           JOIN ops.source_state s ON s.source_id = v.source_id AND s.current_fetch_id = v.fetch_id
           LEFT JOIN staging.source_records r ON r.fetch_id = v.fetch_id AND r.source_key = v.source_key"""
    )
    records = {(r["source_id"], r["source_key"]): r for r in (dict(zip(rel.columns, row, strict=True))
                                                               for row in rel.fetchall())}  # fmt: skip
    net = con.sql(NET_SQL).fetchall()
    peers: dict[tuple[str, str, str], list[tuple[dict, int]]] = {}
    for xs, xk, ys, yk, dt, _ in net:
        x, y = records[(xs, xk)], records[(ys, yk)]
        if xs != ys and dt <= 30 and same_place(x, y) and same_names(x, y):
            peers.setdefault((xs, xk, ys), []).append((y, dt))
            peers.setdefault((ys, yk, xs), []).append((x, dt))
    rows = []
    for xs, xk, ys, yk, dt, _ in sorted(net):
        x, y = records[(xs, xk)], records[(ys, yk)]
        decision, kind, reason = judge(x, y, dt, peers)
        if reason == "different name and place":
            continue
        rows.append({"a": f"{xs}/{xk}", "b": f"{ys}/{yk}", "decision": decision, "kind": kind, "reason": reason,
                     "a_listing": _listing(x), "b_listing": _listing(y), "note": ""})  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    home = Path(os.environ.get("CLEARINGHOUSE_HOME", REPO / "data"))
    parser.add_argument("--warehouse", type=Path, default=home / "warehouse.duckdb")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    with duckdb.connect(str(args.warehouse), read_only=True) as con:
        rows = build(con)
    with args.out.open("w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    counts: dict[tuple[str, str], int] = {}
    for row in rows:
        counts[(row["decision"], row["kind"])] = counts.get((row["decision"], row["kind"]), 0) + 1
    print(f"{len(rows)} pairs → {args.out}: {dict(sorted(counts.items()))}")


if __name__ == "__main__":
    main()
