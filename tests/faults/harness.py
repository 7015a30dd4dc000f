"""Running the whole pipeline (``clearinghouse run``) in fault tests, and reading what it left behind.

Why one module: every fault test asks the same questions of a run (which sources published what, did
``parsed = normalized + quarantined`` hold, is ``latest`` a whole release), and they must be asked the same
way everywhere or the fault report compares different things.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import yaml

from clearinghouse.cli import main

FAST_CLIENT = {
    "CLEARINGHOUSE_MIN_DELAY_S": "0",
    "CLEARINGHOUSE_TIMEOUT_S": "1.5",
    "CLEARINGHOUSE_MAX_RETRIES": "3",
    "CLEARINGHOUSE_BACKOFF_S": "0.01",
    "CLEARINGHOUSE_MAX_FETCH_S": "2",
    "CLEARINGHOUSE_MAX_BODY_BYTES": "1000000",
}
"""Client settings that make every fault resolve in seconds: short timeouts, a 1 MB body limit.

The fault sites run as threads of the test process, so a busy machine can hold a site's next write back
for a moment: the read timeout keeps a wide margin over the drip's 50 ms (a stalled site, not a slow
machine, must trip it), and the whole-body limit stays below the drip's ~5 s."""
BODY_LIMIT = int(FAST_CLIENT["CLEARINGHOUSE_MAX_BODY_BYTES"])
TIMEZONE = "America/New_York"


def meeting_guide_feed(label: str, count: int, offset: int = 0) -> list[dict[str, Any]]:
    """``count`` valid Meeting Guide meetings, distinct from every other label's (no cross-source merges)."""
    seed = int(hashlib.sha256(label.encode()).hexdigest()[:6], 16)
    return [
        {
            "slug": f"{label}-{i}",
            "name": f"{label.replace('-', ' ').title()} Group {i}",
            "day": (seed + i) % 7,
            "time": f"{6 + (seed + 3 * i) % 15:02d}:{(seed % 4) * 15:02d}",
            "location": f"{label.title()} Hall {i}",
            "address": f"{seed % 9000 + 100 + i} Elm Street",
            "city": "Scranton",
            "state": "PA",
            "postal_code": "18503",
            "country": "US",
            "types": ["O", "D"],
        }
        for i in range(offset, offset + count)
    ]


RECIPE = {"rows": "tr.m", "next_page": "a.next",
          "fields": {"weekday": "td:nth-of-type(1)", "start_time": "td:nth-of-type(2)",
                     "name": "td:nth-of-type(3)", "address": "td:nth-of-type(4)"}}  # fmt: skip
"""A ``kind: recipe`` for ``recipe_page``: one meeting per ``tr.m``, the next page at ``a.next``."""


def recipe_page(label: str, next_href: str | None = None) -> bytes:
    """An HTML page of three Monday meetings for ``RECIPE``, linking ``next_href`` as its next page."""
    rows = "".join(
        f"<tr class='m'><td>Monday</td><td>7:00 PM</td><td>{label} Group {i}</td><td>{100 + i} Main St</td></tr>"
        for i in range(3)
    )
    link = f"<a class='next' href='{next_href}'>next page</a>" if next_href else ""
    return f"<html><body><table>{rows}</table>{link}</body></html>".encode()


def encode(items: Any) -> bytes:
    return json.dumps(items, ensure_ascii=False).encode()


def mg_source(source_id: str, url: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": source_id,
        "name": source_id,
        "fellowship": "AA",
        "kind": "meeting_guide",
        "url": url,
        "timezone": TIMEZONE,
        **extra,
    }


def write_registry(path: Path, sources: list[dict[str, Any]]) -> Path:
    path.write_text(yaml.safe_dump({"sources": sources}, allow_unicode=True))
    return path


def run(sources: Path) -> int:
    """One ``clearinghouse run`` in this process, as an operator would start it."""
    return main(["run", "--sources", str(sources)])


@dataclass(frozen=True)
class RunState:
    """What one run left behind: the release ``latest`` points at and the warehouse's per-source state."""

    manifest: dict[str, Any]
    meetings: dict[str, set[str]]
    """Per source id, the meeting ids of ``meetings.parquet`` the source stands behind."""
    reconciliation: dict[str, tuple[int, int, int]]
    """Per source, (parsed, normalized, quarantined) of its current fetch."""
    reason_codes: dict[str, str | None]
    """Per source, ``ops.source_runs.reason_code`` of the latest run."""

    def source(self, source_id: str) -> dict[str, Any]:
        return next(s for s in self.manifest["sources"] if s["id"] == source_id)


def latest(home: Path) -> Path:
    return home / "published" / "latest"


def published_meetings(release: Path) -> dict[str, set[str]]:
    rows = pq.read_table(release / "meetings.parquet", columns=["meeting_id", "sources"]).to_pylist()
    per_source: dict[str, set[str]] = {}
    for row in rows:
        for link in row["sources"]:
            per_source.setdefault(link["source_id"], set()).add(row["meeting_id"])
    return per_source


def reconciliation(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int, int]]:
    """Counted from the rows themselves, not from the counters the pipeline keeps."""
    rows = con.sql(
        """
        SELECT st.source_id,
               (SELECT count(*) FROM staging.source_records s WHERE s.fetch_id = st.current_fetch_id),
               (SELECT count(*) FROM core.meeting_versions v WHERE v.fetch_id = st.current_fetch_id),
               (SELECT count(*) FROM core.quarantine q WHERE q.fetch_id = st.current_fetch_id)
        FROM ops.source_state st WHERE st.current_fetch_id IS NOT NULL
        """
    ).fetchall()
    return {source_id: (parsed, normalized, quarantined) for source_id, parsed, normalized, quarantined in rows}


def run_state(home: Path) -> RunState:
    release = latest(home)
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        balance = reconciliation(con)
        codes = dict(
            con.sql(
                """SELECT source_id, reason_code FROM ops.source_runs
                   WHERE run_id = (SELECT run_id FROM ops.runs ORDER BY started_at DESC LIMIT 1)"""
            ).fetchall()
        )
    return RunState(json.loads((release / "manifest.json").read_text()), published_meetings(release), balance, codes)


def verify_release(release: Path) -> dict[str, Any]:
    """The manifest of a complete release: every listed file present with its size and checksum."""
    manifest = json.loads((release / "manifest.json").read_text())
    assert manifest["files"], f"{release} lists no files"
    for entry in manifest["files"]:
        data = (release / entry["path"]).read_bytes()
        assert len(data) == entry["bytes"], f"{release.name}/{entry['path']}: size differs from the manifest"
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], f"{release.name}/{entry['path']}: checksum"
    return manifest
