"""Resolution quality and cost: pairwise precision, recall, F1, wall time and peak memory at 10k, 100k, 1M.

First the **real set**: the demo data (every source of ``sources/demo.yaml``, answered from the recorded
snapshots) through ``clearinghouse run`` in a temporary home, scored on the labelled real pairs
(``tests/fixtures/dedup/demo_real_pairs.csv``): precision, recall, hard negatives merged, recall per source
pair, and the share of ``nyig-manhattan-05`` meetings merged with their ``nyc-aa`` listing.

Then the **synthetic sets**. The labeled set is ``bench.evalset``: every real file normalized, its distinct
meetings re-published through perturbed overlapping sources, plus hard negatives. Smaller sizes take whole
entities from it; larger ones replicate it as disjoint regions (``evalset.replicate``). Each size is written to a fresh
warehouse, then ``transforms.resolve.resolve`` runs twice in a child process, whose wall time and peak
RSS (``ru_maxrss``: the whole Python process, DuckDB included) are the figures; the second run must give
every record the same meeting id.

    python bench/bench_dedupe.py [--sizes 10000 100000 1000000] [--seed 7] [--no-real]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import evalset
from foundation.model import FIELD_NAMES
from tests.transforms import realdata
from transforms.normalize import normalize
from warehouse.db import migrate

TARGET_P, TARGET_R, TARGET_S_AT_1M, TARGET_GIB = 0.999, 0.99, 120, 4.0
TARGET_NYIG = 0.95
"""Share of New York Intergroup's legacy Manhattan page merged with the same intergroup's export."""


def real_set() -> dict[str, object]:
    """The demo run in a temporary home, scored on the labelled real pairs."""
    from clearinghouse import demo

    with tempfile.TemporaryDirectory(prefix="bench-dedupe-real-") as home:
        server, url = demo.start()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARINGHOUSE_")}
        env.update(
            CLEARINGHOUSE_HOME=home,
            CLEARINGHOUSE_DEMO_URL=url,
            CLEARINGHOUSE_MIN_DELAY_S="0",
            CLEARINGHOUSE_ALLOW_PRIVATE_ADDRESSES="true",
        )  # the snapshot server is on 127.0.0.1, as in make run
        try:
            subprocess.run([sys.executable, "-m", "clearinghouse.cli", "run"], env=env, check=True,
                           capture_output=True)  # fmt: skip
        finally:
            server.shutdown()
        with duckdb.connect(str(Path(home) / "warehouse.duckdb"), read_only=True) as con:
            links = con.sql("SELECT source_id || '/' || source_key, meeting_id FROM core.meeting_links").fetchall()
            nyig = con.sql(
                """SELECT count(*) FILTER (WHERE meeting_id IN (SELECT meeting_id FROM core.meeting_links
                                                                WHERE source_id = 'nyc-aa')), count(*)
                   FROM core.meeting_links WHERE source_id = 'nyig-manhattan-05'"""
            ).fetchall()[0]
    scores = evalset.real_pair_scores(evalset.real_pairs(), dict(links))
    return {**scores, "nyig_merged": nyig}


def build_warehouse(path: Path, records: pa.Table) -> None:
    """A warehouse whose current versions are ``records``; the labels go to ``bench.truth``."""
    with duckdb.connect(str(path)) as con:
        migrate(con)
        con.execute("CREATE SCHEMA bench")
        con.execute("CREATE TABLE bench.eval AS SELECT * FROM records")
        con.execute(f"INSERT INTO core.meeting_versions BY NAME SELECT {', '.join(FIELD_NAMES)} FROM bench.eval")
        con.execute(
            "INSERT INTO ops.source_state (source_id, current_fetch_id) "
            "SELECT DISTINCT source_id, fetch_id FROM bench.eval"
        )
        con.execute("CREATE TABLE bench.truth AS SELECT source_id, source_key, truth FROM bench.eval")
        con.execute("DROP TABLE bench.eval")


def resolve_twice(path: Path) -> dict[str, float]:
    """Child process: two resolution runs on the warehouse at ``path``; times, peak RSS, id stability."""
    from transforms.resolve import resolve

    with duckdb.connect(str(path)) as con:
        sources = [row[0] for row in con.sql("SELECT source_id FROM ops.source_state").fetchall()]
        now = datetime(2026, 1, 1, tzinfo=UTC)
        started = time.perf_counter()
        summary = resolve(con, sources, now)
        first = time.perf_counter() - started
        ids = "SELECT source_id, source_key, meeting_id FROM core.meeting_links ORDER BY ALL"
        before = con.sql(ids).fetchall()
        started = time.perf_counter()
        resolve(con, sources, now + timedelta(days=1))
        second = time.perf_counter() - started
        stable = before == con.sql(ids).fetchall()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    return {"first_s": first, "second_s": second, "peak_gib": peak, "ids_stable": stable, **summary}


def quality(path: Path) -> dict[str, float]:
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE TEMP TABLE scored AS SELECT t.truth, l.meeting_id FROM bench.truth t "
            "JOIN core.meeting_links l USING (source_id, source_key)"
        )
        scores = evalset.pairwise(con, "scored", "meeting_id")
        scores["hard_negatives_merged"] = con.sql(
            """SELECT count(*) FROM scored s
               WHERE regexp_matches(truth, '^[a-z]+(_[a-z]+)+/')
                 AND (SELECT count(*) FROM scored o WHERE o.meeting_id = s.meeting_id) > 1"""
        ).fetchall()[0][0]
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-real", action="store_true", help="skip the labelled real set (the demo run)")
    parser.add_argument("--resolve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.resolve:
        print(json.dumps(resolve_twice(args.resolve)))
        return

    failed = []
    if not args.no_real:
        real = real_set()
        merged, listed = real["nyig_merged"]
        print(
            f"real set (demo data, {real['true_pairs']} true pairs of {len(evalset.real_pairs())} labelled): "
            f"P {real['precision']:.4f}  R {real['recall']:.4f}  hard negatives merged "
            f"{real['hard_negatives_merged']}  nyig-manhattan-05 with nyc-aa {merged}/{listed}"
        )
        for pair, (found, true) in real["recall_by_source_pair"].items():
            print(f"  {pair:<48} recall {found}/{true} = {found / true:.3f}")
        if real["precision"] < TARGET_P or real["recall"] < TARGET_R or real["hard_negatives_merged"]:
            failed.append("real set: quality below target")
        if merged < TARGET_NYIG * listed:
            failed.append(f"real set: nyig-manhattan-05 merged with nyc-aa {merged}/{listed}")
    versions = normalize(realdata.staging(), realdata.SOURCES).versions
    labeled = evalset.build(evalset.base_meetings(versions), seed=args.seed).records
    print(f"synthetic labeled set: {labeled.num_rows:,} records from real meetings (seed {args.seed})")
    header = (
        f"{'records':>10} {'P':>7} {'R':>7} {'F1':>7} {'HN merged':>9} {'run 1 s':>8} {'run 2 s':>8} {'peak GiB':>8}"
    )
    print(header)
    for size in args.sizes:
        copies = max(1, math.ceil(size / labeled.num_rows))
        table = evalset.replicate(evalset.EvalSet(labeled), copies).records
        con = duckdb.connect()
        con.register("replicated", table)
        records = con.sql(
            f"SELECT * FROM replicated ORDER BY hash(truth), source_id, source_key LIMIT {size}"
        ).to_arrow_table()
        con.close()
        with tempfile.TemporaryDirectory(prefix="bench-dedupe-") as tmp:
            path = Path(tmp) / "warehouse.duckdb"
            build_warehouse(path, records)
            child = subprocess.run(
                [sys.executable, __file__, "--resolve", str(path)], check=True, capture_output=True, text=True
            )
            run = json.loads(child.stdout.splitlines()[-1])
            scores = quality(path)
        print(
            f"{size:>10,} {scores['precision']:>7.4f} {scores['recall']:>7.4f} {scores['f1']:>7.4f} "
            f"{scores['hard_negatives_merged']:>9} {run['first_s']:>8.1f} {run['second_s']:>8.1f} "
            f"{run['peak_gib']:>8.2f}" + ("" if run["ids_stable"] else "  ids changed on the second run!")
        )
        if scores["precision"] < TARGET_P or scores["recall"] < TARGET_R or not run["ids_stable"]:
            failed.append(f"{size}: quality or stability below target")
        if size >= 1_000_000 and (run["first_s"] > TARGET_S_AT_1M or run["peak_gib"] > TARGET_GIB):
            failed.append(f"{size}: {run['first_s']:.0f} s / {run['peak_gib']:.2f} GiB over target")
    if failed:
        raise SystemExit("; ".join(failed))


if __name__ == "__main__":
    main()
