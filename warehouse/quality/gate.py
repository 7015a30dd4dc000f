"""The quality gates of a run: staging (quarantine by expectation), core and release (block or flag).

Each gate pulls its frames from DuckDB as pandas DataFrames (GX's SQL datasource does not work on DuckDB),
validates them with the suites of ``suites.py``, and records one row per expectation in ``ops.dq_results``.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from transforms.privacy import redact_contacts
from transforms.text import clean_text
from warehouse.errors import QualityGateFailed
from warehouse.quality import runner
from warehouse.quality.runner import Outcome
from warehouse.quality.suites import (
    CORE_LINKS,
    CORE_MEETINGS,
    CORE_VERSIONS,
    PUBLISHED_TEXT,
    RELEASE_MEETINGS,
    RELEASE_REGIONS,
    ROW_CHANGE_WARNING,
    ROW_DROP_CRITICAL,
    STAGING,
    Suite,
)

VALUE_MAX_CHARS = 200
QUARANTINE_SCHEMA = pa.schema(
    [
        ("source_id", pa.string()),
        ("fetch_id", pa.string()),
        ("source_key", pa.string()),
        ("record_index", pa.int32()),
        ("reason", pa.string()),
        ("field", pa.string()),
        ("value", pa.string()),
        ("detail", pa.string()),
    ]
)


# --- frames: what each suite validates -------------------------------------------------------------------

STAGING_FRAME = """
    SELECT source_id, fetch_id, record_index, source_key, name, weekday, weekday_raw, start_time,
           TRY_CAST(latitude AS DOUBLE) AS latitude, TRY_CAST(longitude AS DOUBLE) AS longitude,
           conference_url, source_url
    FROM staging.source_records
    WHERE fetch_id IN (SELECT unnest($fetch_ids))
      AND source_status IS NULL  -- records the source withholds are quarantined before (warehouse.normalize)
    ORDER BY fetch_id, record_index
"""
CURRENT_VERSIONS_FRAME = """
    SELECT v.source_id, v.source_key, v.fellowship, v.weekday, v.start_time, v.timezone, v.timezone_source,
           v.attendance, v.geo_precision, v.open_closed, v.duration_min, v.end_time_source, v.coordinates_source,
           v.frequency, v.end_time IS NOT NULL AS has_end_time,
           v.conference_url IS NOT NULL OR v.conference_phone IS NOT NULL AS has_online_access,
           v.address_line IS NOT NULL OR v.latitude IS NOT NULL AS has_location,
           (date_diff('minute', v.start_time, v.end_time) + 1439) % 1440 + 1 AS end_minus_start_min
    FROM core.meeting_versions v
    JOIN ops.source_state s ON s.source_id = v.source_id AND s.current_fetch_id = v.fetch_id
"""
MEETINGS_FRAME = "SELECT meeting_id FROM core.meetings"
LINKS_FRAME = """
    SELECT l.source_id, l.source_key, l.meeting_id, m.meeting_id AS linked_meeting_id
    FROM core.meeting_links l LEFT JOIN core.meetings m USING (meeting_id)
    WHERE l.last_seen_at = (SELECT max(last_seen_at) FROM core.meeting_links)
"""
"""The links the latest resolution confirmed: in step with core.meetings whether or not resolve ran since."""
RELEASE_FRAME = f"""
    SELECT meeting_id, conference_phone, {", ".join(PUBLISHED_TEXT)},
           len(list_filter(sources, lambda s: s.source_id IS NOT NULL AND s.source_key IS NOT NULL)) AS provenance
    FROM read_parquet($path)
"""


def _frame(con: duckdb.DuckDBPyConnection, sql: str, **params: Any) -> pd.DataFrame:
    return con.sql(sql, params=params or None).df()


def _redacted(frame: pd.DataFrame) -> pd.DataFrame:
    """Each published text beside what the contact rule makes of it (computed once per distinct pair)."""
    phones = _nullable(frame["conference_phone"])
    for name in PUBLISHED_TEXT:
        done: dict[tuple[str | None, str | None], str | None] = {}
        column = []
        for text, phone in zip(_nullable(frame[name]), phones, strict=True):
            if (text, phone) not in done:
                done[text, phone] = redact_contacts(text, keep_phone=phone) if text else text
            column.append(done[text, phone])
        frame[f"{name}_redacted"] = column
    return frame


def _nullable(column: pd.Series) -> list[Any]:
    return column.astype(object).where(column.notna(), None).tolist()


def _region_frame(release_dir: Path, regions: list[str]) -> pd.DataFrame:
    """Meetings per configured region, from ``meeting-guide/<region>.json`` (0 when the file is missing)."""
    counts = []
    for region in regions:
        path = release_dir / "meeting-guide" / f"{region}.json"
        counts.append(len(json.loads(path.read_text())) if path.exists() else 0)
    return pd.DataFrame({"region": regions, "meetings": counts})


# --- results ---------------------------------------------------------------------------------------------


DQ_ROW = pa.schema([("run_id", pa.string()), ("suite", pa.string()), ("expectation", pa.string()),
                    ("severity", pa.string()), ("source_id", pa.string()), ("fetch_id", pa.string()),
                    ("success", pa.bool_()), ("unexpected_count", pa.int64()), ("details", pa.string()),
                    ("checked_at", pa.timestamp("us", tz="UTC"))])  # fmt: skip
"""An ``ops.dq_results`` row as ``_record`` builds it (details as JSON text)."""


def _record(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    suite: Suite,
    outcomes: list[Outcome],
    sources: dict[str, str] | None = None,
) -> None:
    """One ``ops.dq_results`` row per expectation, or per expectation and source when ``sources`` maps the
    sources of the frame to the fetch validated (staging: a source's health is its own)."""
    now = datetime.now(UTC)
    rows = []
    for o in outcomes:
        details = {"asset": suite.asset, "expectation_type": o.check.expectation.expectation_type,
                   "column": o.check.column, "why": o.check.why}  # fmt: skip
        if o.observed is not None:
            details["observed_value"] = o.observed
        if o.error:
            details["error"] = o.error
        per_source: dict[str, list[dict[str, Any]]] = {}
        for row in o.rows:
            per_source.setdefault(row.get("source_id"), []).append(row)
        head = [run_id, suite.layer, o.check.name, o.check.severity]
        if sources is None:
            by_source = {k: len(v) for k, v in per_source.items() if k is not None}
            rows.append([*head, None, None, o.success, o.unexpected_count,
                         {**details, "by_source": by_source, "examples": o.examples()}, now])  # fmt: skip
            continue
        for source_id, fetch_id in sources.items():
            mine = per_source.get(source_id, [])
            examples = [{"error": o.error}] if o.error else mine[: runner.EXAMPLES]
            rows.append([*head, source_id, fetch_id, o.error is None and not mine, len(mine),
                         {**details, "examples": examples}, now])  # fmt: skip
    # One set-based insert: executemany runs a statement per row (12 s for the 15,000 rows of 1,000 sources).
    table = pa.Table.from_pylist(
        [dict(zip(DQ_ROW.names, [*r[:8], json.dumps(r[8], default=str), r[9]], strict=True)) for r in rows],
        schema=DQ_ROW,
    )
    con.register("dq_rows", table)
    try:
        con.execute("INSERT INTO ops.dq_results BY NAME SELECT * FROM dq_rows")
    finally:
        con.unregister("dq_rows")


def _failures(suite: Suite, outcomes: list[Outcome]) -> list[dict[str, Any]]:
    return [
        {"suite": suite.layer, "asset": suite.asset, "expectation": o.check.name, "severity": o.check.severity,
         "unexpected_count": o.unexpected_count, "examples": o.examples()}
        for o in outcomes
        if not o.success
    ]  # fmt: skip


def _gate(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    layer: str,
    runs: list[tuple[Suite, pd.DataFrame, dict[str, Any] | None]],
) -> dict[str, Any]:
    """Validate each (suite, frame, parameters), record the results, raise if a critical check failed."""
    home = runner.warehouse_home(con)
    con.execute("DELETE FROM ops.dq_results WHERE run_id = ? AND suite = ?", [run_id, layer])
    failed = []
    for suite, frame, parameters in runs:
        outcomes = runner.run(home, suite, frame, run_id, parameters)
        _record(con, run_id, suite, outcomes)
        failed += _failures(suite, outcomes)
    critical = [f for f in failed if f["severity"] == "critical"]
    if critical:
        raise QualityGateFailed(critical)
    return {"status": "warning" if failed else "passed", "failed_checks": failed}


# --- staging ---------------------------------------------------------------------------------------------


def validate_staging(con: duckdb.DuckDBPyConnection, run_id: str, fetch_ids: list[str]) -> pa.Table:
    """Run the staging suite over the records of ``fetch_ids``; return the quarantine rows it implies.

    Results are recorded per source (and fetch). A record failing a critical check is quarantined once, as
    ``dq:<check>`` for the first check it fails in suite order; a uniqueness check keeps the first copy.
    """
    frame = _frame(con, STAGING_FRAME, fetch_ids=fetch_ids)
    sources = dict(frame.groupby("source_id", sort=True)["fetch_id"].first()) if len(frame) else {}
    con.execute(
        "DELETE FROM ops.dq_results WHERE run_id = ? AND suite = 'staging' AND fetch_id IN (SELECT unnest(?))",
        [run_id, fetch_ids],
    )
    if frame.empty:
        return QUARANTINE_SCHEMA.empty_table()
    outcomes = runner.run(runner.warehouse_home(con), STAGING, frame, run_id)
    _record(con, run_id, STAGING, outcomes, sources)
    broken = [o for o in outcomes if o.error]
    if broken:
        raise QualityGateFailed(_failures(STAGING, broken))
    return _quarantine(frame, outcomes)


def _quarantine(frame: pd.DataFrame, outcomes: list[Outcome]) -> pa.Table:
    position = {key: i for i, key in enumerate(zip(frame["fetch_id"], frame["record_index"], strict=True))}
    reason: list[str | None] = [None] * len(frame)
    for o in outcomes:
        if o.check.severity != "critical" or not o.rows:
            continue
        failing = sorted(o.rows, key=lambda r: r["record_index"])
        if o.check.keep_first:
            first: dict[tuple[str, str], int] = {}
            for r in failing:
                first.setdefault((r["fetch_id"], r["source_key"]), r["record_index"])
            failing = [r for r in failing if first[(r["fetch_id"], r["source_key"])] != r["record_index"]]
        for r in failing:
            i = position[(r["fetch_id"], r["record_index"])]
            reason[i] = reason[i] or o.check.name
    checks = {o.check.name: o.check for o in outcomes}
    at = [i for i, r in enumerate(reason) if r]
    rows = frame.iloc[at]
    failed = [checks[reason[i]] for i in at]
    shown = [row[c.shows or c.column] for (_, row), c in zip(rows.iterrows(), failed, strict=True)]
    return pa.table(
        {
            "source_id": rows["source_id"].tolist(),
            "fetch_id": rows["fetch_id"].tolist(),
            "source_key": rows["source_key"].tolist(),
            "record_index": rows["record_index"].astype("int32").tolist(),
            "reason": [c.quarantine_reason for c in failed],
            "field": [c.column for c in failed],
            "value": [None if pd.isna(v) else str(v)[:VALUE_MAX_CHARS] for v in shown],
            "detail": [c.why for c in failed],
        },
        schema=QUARANTINE_SCHEMA,
    )


# --- core ------------------------------------------------------------------------------------------------


def validate_core(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, Any]:
    """Run the core suites; raise ``QualityGateFailed`` on a critical failure, else passed or warning."""
    frames = ((CORE_VERSIONS, CURRENT_VERSIONS_FRAME), (CORE_MEETINGS, MEETINGS_FRAME), (CORE_LINKS, LINKS_FRAME))
    return _gate(con, run_id, "core", [(suite, _frame(con, sql), None) for suite, sql in frames])


# --- release ---------------------------------------------------------------------------------------------


def validate_release(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    release_dir: Path,
    previous_manifest: dict[str, Any] | None,
    regions: list[str] | None = None,
    max_drop: float | None = ROW_DROP_CRITICAL,
) -> dict[str, Any]:
    """Run the release suites over the built files in ``release_dir``; raise on a critical failure.

    ``max_drop``: the share of meetings the release may lose against the previous one (``None``: an operator
    accepted the drop)."""
    previous = (previous_manifest or {}).get("counts", {}).get("meetings")
    parameters = {
        "min_rows": round(previous * (1 - max_drop)) if previous and max_drop is not None else 0,
        "warn_min_rows": round(previous * (1 - ROW_CHANGE_WARNING)) if previous else 0,
        "warn_max_rows": round(previous * (1 + ROW_CHANGE_WARNING)) if previous else None,
    }
    meetings = _redacted(_frame(con, RELEASE_FRAME, path=str(release_dir / "meetings.parquet")))
    runs = [(RELEASE_MEETINGS, meetings, parameters)]
    if regions:
        runs.append((RELEASE_REGIONS, _region_frame(release_dir, regions), None))
    return _gate(con, run_id, "release", runs)


# --- the verdict a release carries -----------------------------------------------------------------------


_UNSAFE_SCHEME = re.compile(r"^\s*(?:javascript|vbscript|data|file):", re.IGNORECASE)


def _publishable(value: Any) -> Any:
    """Examples as the manifest may show them: plain text, no active URLs (``ops.dq_results`` keeps the raw ones)."""
    if isinstance(value, str):
        return None if _UNSAFE_SCHEME.match(value) else clean_text(value)
    if isinstance(value, list):
        return [_publishable(v) for v in value]
    if isinstance(value, dict):
        return {k: _publishable(v) for k, v in value.items()}
    return value


def quality_summary(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, Any]:
    """``manifest["quality"]``: failures of this run's release checks, of the latest core checks and of the
    staging warnings on each source's current fetch, plus what is quarantined (staging criticals land there)."""
    rows = con.sql(
        """
        WITH latest_core AS (
            SELECT run_id FROM ops.dq_results WHERE suite = 'core' ORDER BY checked_at DESC LIMIT 1
        )
        SELECT suite, expectation, severity, source_id, unexpected_count, details
        FROM ops.dq_results
        WHERE NOT success
          AND ((suite = 'release' AND run_id = $run_id)
            OR (suite = 'core' AND run_id IN (SELECT run_id FROM latest_core))
            OR (suite = 'staging' AND severity = 'warning'
                AND fetch_id IN (SELECT current_fetch_id FROM ops.source_state)))
        ORDER BY suite, severity, expectation, source_id
        """,
        params={"run_id": run_id},
    ).fetchall()
    failed = []
    for suite, expectation, severity, source_id, count, details in rows:
        info = json.loads(details)
        entry = {"suite": suite, "asset": info["asset"], "expectation": expectation, "severity": severity,
                 "unexpected_count": count, "examples": _publishable(info.get("examples", []))}  # fmt: skip
        failed.append({**entry, "source_id": source_id} if source_id else entry)
    quarantined = dict(
        con.sql(
            """SELECT reason, count(*) FROM core.quarantine
               WHERE fetch_id IN (SELECT current_fetch_id FROM ops.source_state) GROUP BY reason ORDER BY reason"""
        ).fetchall()
    )
    blocking = any(f["severity"] == "critical" for f in failed)
    status = "failed" if blocking else "warning" if failed else "passed"
    return {"status": status, "failed_checks": failed, "quarantined": quarantined}
