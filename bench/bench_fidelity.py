"""Fidelity of a release to its sources: what the sources said against what the release publishes.

Reads a release (default ``$CLEARINGHOUSE_HOME/published/latest``), the raw archive beside it and the registry,
parses the archived Meeting Guide feeds independently of the extractors (plain ``json``), and counts, for the
meetings backed by one Meeting Guide record: end times published that the source did not give, ``updated``
stamps that are not the source's, each spec field the source gave and how often the release carries it. Then,
over the whole release: addresses whose ``formatted_address`` holds floor/room details or lacks city/state,
hybrid meetings marked approximate, monthly meetings, inactive meetings per source, and (with the code of the
checkout) how many real New York listings without ZIP, coordinates or registry time zone end in
``no_timezone``. ``make bench-fidelity``; ``--release DIR`` reads another release (e.g. a saved earlier one).
"""

from __future__ import annotations

import argparse
import json
import os
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import yaml

HOME = Path(os.environ.get("CLEARINGHOUSE_HOME", "data"))
ROOT = Path(__file__).resolve().parent.parent
SPEC_FIELDS = (
    "end_time", "conference_url_notes", "conference_phone_notes", "district", "group_notes", "entity",
    "entity_url", "entity_email", "entity_phone", "entity_location", "website", "feedback_url",
)  # fmt: skip
REGION_FIELDS = ("region", "sub_region", "regions")
UNIT_DETAIL = re.compile(r"(?i)\b(basement|bsmt|floor|flr|fl\.|room|rm\.?|upstairs|downstairs|lower level)\b")
"""Floor, room and basement words: details the spec puts in ``location_notes`` (Suite, #, Unit are postal)."""
MONTHLY_NOTE = re.compile(r"(?i)only held on the (?:\d \w\w|last) \w+ of the month")


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or (isinstance(value, str) and not value.strip())


def _registry(path: Path) -> dict[str, dict[str, Any]]:
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    return {s["id"]: s for f in files for s in (yaml.safe_load(f.read_text()) or {}).get("sources", [])}


def _feed_items(raw: Path, source_id: str, fetched_at: str | None) -> dict[str, dict[str, Any]]:
    """The source's archived feed (the fetch the release used), keyed as the source keys its records."""
    fetches = sorted((raw / source_id).glob("*/*.fetch.json"))
    records = [json.loads(f.read_text()) for f in fetches]
    used = [r for r in records if r.get("started_at") == fetched_at] or [r for r in records if r["status"] == "ok"]
    if not used:
        return {}
    body = next(p for p in used[-1]["parts"] if p["name"] == "meetings")
    items = json.loads((raw / body["path"]).read_bytes().decode("utf-8-sig"))
    keyed: dict[str, dict[str, Any]] = {}
    for position, item in enumerate(items):
        slug = str(item.get("slug") or item.get("id") or "").strip() or f"position-{position}"
        days = item.get("day") if isinstance(item.get("day"), list) else [item.get("day")]
        for day in days or [None]:
            keyed[slug if len(days) == 1 else f"{slug}-{day}"] = item
    return keyed


def _source_stamp(value: Any) -> str | None:
    match = re.match(r"^(\d{4})-(\d{1,2})-(\d{1,2})[T\s]*(\d{1,2}):(\d{2})(?::(\d{2}))?", str(value or "").strip())
    if not match:
        return None
    y, mo, d, h, mi, s = match.groups()
    return f"{y}-{int(mo):02d}-{int(d):02d} {int(h):02d}:{mi}:{s or '00'}"


def meeting_guide_fidelity(release: Path, raw: Path, registry: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per spec field: single-source Meeting Guide meetings whose source gives it, and how many carry it."""
    manifest = json.loads((release / "manifest.json").read_text())
    fetched = {s["id"]: s.get("fetched_at") for s in manifest["sources"]}
    feeds = {sid: _feed_items(raw, sid, fetched.get(sid)) for sid, s in registry.items()
             if s.get("kind") == "meeting_guide" and (raw / sid).is_dir()}  # fmt: skip
    con = duckdb.connect()
    tables = con.sql(f"SELECT * FROM read_parquet('{release / 'meetings.parquet'}')").to_arrow_table().to_pylist()
    published = {m["slug"]: m for m in json.loads((release / "meeting-guide.json").read_text())}
    given: Counter[str] = Counter()
    carried: Counter[str] = Counter()
    meetings = invented_end = updated_source = updated_total = 0
    examples: dict[str, str] = {}
    for row in tables:
        if len(row["sources"]) != 1 or row["sources"][0]["source_id"] not in feeds:
            continue
        source = row["sources"][0]
        item = feeds[source["source_id"]].get(source["source_key"])
        out = published.get(row["meeting_id"])
        if item is None or out is None:
            continue
        meetings += 1
        if _blank(item.get("end_time")) and not _blank(out.get("end_time")):
            invented_end += 1
            examples.setdefault("invented_end", f"{source['source_id']} {source['source_key']}")
        if (stamp := _source_stamp(item.get("updated"))) is not None:
            updated_total += 1
            updated_source += out.get("updated") == stamp
        for name in SPEC_FIELDS:
            if not _blank(item.get(name)):
                given[name] += 1
                carried[name] += not _blank(out.get(name))
        labels = (
            item.get("regions")
            if isinstance(item.get("regions"), list)
            else [item.get("region"), item.get("sub_region")]
        )
        labels = [str(x).strip() for x in labels if not _blank(x)]
        if labels:
            given["regions (source labels)"] += 1
            carried["regions (source labels)"] += list(row.get("source_regions") or []) == labels
    return {
        "single-source Meeting Guide meetings": meetings,
        "invented end times": invented_end,
        "updated = source's stamp": f"{updated_source}/{updated_total}",
        "fields": {name: f"{carried[name]}/{given[name]}" for name in given},
        "examples": examples,
    }


def release_figures(release: Path) -> dict[str, Any]:
    """Figures over the whole release, from its Meeting Guide JSON and its tables."""
    feed = json.loads((release / "meeting-guide.json").read_text())
    created = json.loads((release / "manifest.json").read_text())["created_at"][:19].replace("T", " ")
    in_person = [m for m in feed if m.get("attendance_option") in ("in_person", "hybrid")]
    figures: dict[str, Any] = {
        "meetings": len(feed),
        "updated = release time": sum(1 for m in feed if (m.get("updated") or "")[:16] == created[:16]),
        "end_time published": sum(1 for m in feed if m.get("end_time")),
        "formatted_address with floor/room details": sum(
            1 for m in feed if UNIT_DETAIL.search(m.get("formatted_address") or "")),
        "  of which 'Basement'": sum(1 for m in feed if "basement" in (m.get("formatted_address") or "").lower()),
        "in person/hybrid, formatted_address without city or without state": sum(
            1 for m in in_person if not (m.get("city") and m.get("state")) and m.get("formatted_address")),
        "in person/hybrid, formatted_address with neither city nor state": sum(
            1 for m in in_person if not (m.get("city") or m.get("state")) and m.get("formatted_address")),
        "in person/hybrid without formatted_address": sum(1 for m in in_person if not m.get("formatted_address")),
        "hybrid with approximate yes": sum(
            1 for m in feed if m.get("attendance_option") == "hybrid" and m.get("approximate") == "yes"),
    }  # fmt: skip
    con = duckdb.connect()
    con.execute(f"CREATE VIEW m AS SELECT * FROM read_parquet('{release / 'meetings.parquet'}')")
    columns = set(con.sql("SELECT * FROM m LIMIT 0").columns)
    monthly = "frequency = 'monthly'" if "frequency" in columns else "false"
    marked, noted = con.sql(
        f"""SELECT count(*) FILTER (WHERE {monthly}), count(*) FROM m
            WHERE list_contains(list_transform(sources, lambda s: s.source_id), 'stpaul-aa')
              AND regexp_matches(notes, '{MONTHLY_NOTE.pattern}')"""
    ).fetchall()[0]
    figures["St Paul meetings noted 'Only held on …': marked monthly"] = f"{marked}/{noted}"
    if "frequency" in columns:
        figures["frequency"] = dict(con.sql("SELECT frequency, count(*) FROM m GROUP BY 1 ORDER BY 1").fetchall())
    figures["inactive per source (single-source meetings)"] = dict(
        con.sql(
            """SELECT sources[1].source_id, count(*) FILTER (WHERE attendance = 'inactive') || '/' || count(*)
               FROM m WHERE len(sources) = 1 GROUP BY 1 ORDER BY 1"""
        ).fetchall()
    )
    if "end_time_source" in columns:
        figures["end_time_source"] = dict(con.sql("SELECT end_time_source, count(*) FROM m GROUP BY 1").fetchall())
    if "timezone_source" in columns:
        figures["timezone_source"] = dict(con.sql("SELECT timezone_source, count(*) FROM m GROUP BY 1").fetchall())
    return figures


def new_york_without_timezone() -> str:
    """Real New York Intergroup listings with state NY, no ZIP, no coordinates, registry without time zone."""
    from extractors import tsml_csv
    from extractors.records import Snapshot, SnapshotPart, to_arrow
    from foundation.source import Source
    from transforms.normalize import normalize

    body = (ROOT / "sources/snapshots/tsml/nyintergroup_2015-10.tsv").read_bytes()
    part = SnapshotPart("meetings", "https://example.org/m.tsv", body)
    snapshot = Snapshot("nyc", "nyc@1", datetime.now(UTC), (part,))
    records = [r for r in tsml_csv.parse(snapshot) if r.region_code == "NY" and r.city and r.weekday]
    source = Source(id="nyc", name="NY", fellowship="AA", kind="tsml_csv", url="https://example.org/m.tsv")
    result = normalize(to_arrow("nyc", "nyc@1", records), {"nyc": source})
    lost = sum(1 for r in result.quarantine["reason"].to_pylist() if r == "no_timezone")
    return f"{lost} of {len(records)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", type=Path, default=HOME / "published" / "latest")
    parser.add_argument("--raw", type=Path, default=HOME / "raw")
    parser.add_argument("--sources", type=Path, default=ROOT / "sources" / "demo.yaml")
    args = parser.parse_args()
    release = args.release.resolve()
    report = {
        "release_id": release.name,
        "meeting_guide": meeting_guide_fidelity(release, args.raw, _registry(args.sources)),
        "release": release_figures(release),
        "NY listings (state NY, no ZIP/coordinates/registry zone) lost to no_timezone": new_york_without_timezone(),
    }
    print(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
