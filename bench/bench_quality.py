"""Great Expectations validation time on >= 100k canonical rows built from the real recorded feeds.

The real staging records (every recorded feed, through the family parsers) are replicated with new source
keys to ``--records`` rows and normalized; the canonical versions, one meeting and one link per version,
and the published file of those meetings fill an in-memory warehouse. Timed: the core suites (the figure
with a target), the staging suite and the release suites, each after the GX context is built.

    python bench/bench_quality.py [--records 100000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_normalize import replicate
from foundation.model import FIELD_NAMES
from tests.transforms import realdata
from transforms.normalize import normalize
from warehouse import db

TARGET_S = 5.0
"""Core validation of 100k canonical rows must take less than this."""


def warehouse(records: int) -> tuple[duckdb.DuckDBPyConnection, list[str], int, int]:
    """An in-memory warehouse with ``records`` staged rows and their canonical versions, meetings and links."""
    staging = replicate(realdata.staging(), records)
    result = normalize(staging, realdata.SOURCES)
    con = duckdb.connect()
    db.migrate(con)
    con.register("staged", staging)
    con.register("versions", result.versions)
    con.execute("INSERT INTO staging.source_records BY NAME SELECT * FROM staged")
    con.execute(  # a key a source lists twice is quarantined in the pipeline; keep its first version
        f"""INSERT INTO core.meeting_versions BY NAME SELECT {", ".join(FIELD_NAMES)} FROM versions
            QUALIFY row_number() OVER (PARTITION BY fetch_id, source_key) = 1"""
    )
    con.execute(
        """INSERT INTO ops.source_state (source_id, current_fetch_id)
           SELECT source_id, any_value(fetch_id) FROM core.meeting_versions GROUP BY source_id"""
    )
    con.execute(
        """INSERT INTO core.meeting_links BY NAME
           SELECT source_id, source_key, md5(source_id || source_key) AS meeting_id, 1.0 AS score,
                  'first_seen' AS reason, now() AS first_linked_at, now() AS last_seen_at
           FROM core.meeting_versions"""
    )
    columns = ", ".join(f"v.{f}" for f in FIELD_NAMES if f not in ("source_id", "source_key", "fetch_id"))
    con.execute(
        f"""INSERT INTO core.meetings BY NAME
            SELECT l.meeting_id, {columns}, [{{'source_id': v.source_id, 'source_key': v.source_key}}] AS sources
            FROM core.meeting_versions v JOIN core.meeting_links l USING (source_id, source_key)"""
    )
    fetch_ids = [row[0] for row in con.sql("SELECT DISTINCT fetch_id FROM staging.source_records").fetchall()]
    (versions,) = con.sql("SELECT count(*) FROM core.meeting_versions").fetchall()[0]
    return con, fetch_ids, staging.num_rows, versions


def timed(label: str, call) -> float:
    started = time.perf_counter()
    call()
    elapsed = time.perf_counter() - started
    print(f"{label}: {elapsed:.2f} s")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()

    started = time.perf_counter()
    from warehouse.quality import QualityGateFailed, runner, validate_core, validate_release, validate_staging

    print(f"import great_expectations + warehouse.quality: {time.perf_counter() - started:.2f} s")
    con, fetch_ids, staged, versions = warehouse(args.records)
    timed("GX context built, suites registered (once per process)", lambda: runner.context(None))

    def core() -> None:
        try:
            print(f"  core verdict: {validate_core(con, 'bench')['status']}")
        except QualityGateFailed as exc:
            print(f"  core verdict: blocked — {exc}")

    core_s = timed(f"core suites on {versions:,} canonical versions (+ as many meetings and links)", core)
    timed(f"staging suite on {staged:,} staged records", lambda: validate_staging(con, "bench", fetch_ids))
    with tempfile.TemporaryDirectory() as tmp:
        release = Path(tmp)
        con.execute(f"COPY (SELECT * FROM core.meetings) TO '{release / 'meetings.parquet'}'")
        timed(
            f"release suites on {versions:,} published meetings (privacy rule on 7 text fields)",
            lambda: validate_release(con, "bench", release, {"counts": {"meetings": versions}}),
        )
    print(f"core validation of {versions:,} canonical rows: {core_s:.2f} s (target < {TARGET_S:.0f} s)")
    if core_s >= TARGET_S:
        raise SystemExit(f"above target: {core_s:.2f} s >= {TARGET_S:.0f} s")


if __name__ == "__main__":
    main()
