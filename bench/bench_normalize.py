"""Normalization throughput on >= 100k staging records built from the real recorded feeds.

Every real file (13 sources, 12,327 records) is parsed by its family parser, then the staging table is
replicated with new source keys until it holds at least ``--records`` rows. Replicas repeat the real
values, as a night's run repeats venues, times and notes across weekdays and sources; the first figure
(every record distinct, reference tables already loaded) is the floor for input that never repeats.

    python bench/bench_normalize.py [--records 100000]
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.transforms import realdata
from transforms.normalize import normalize

TARGET_RECORDS_PER_S = 50_000


def replicate(staging: pa.Table, rows: int) -> pa.Table:
    """``staging`` repeated until it has ``rows`` rows; replica ``i`` suffixes its keys with ``~r<i>``."""
    copies = []
    for i in range(math.ceil(rows / staging.num_rows)):
        keys = pc.binary_join_element_wise(staging["source_key"], pa.scalar(f"r{i}"), "~")
        copies.append(staging.set_column(staging.schema.get_field_index("source_key"), "source_key", keys))
    table = pa.concat_tables(copies)
    index = pa.array(range(table.num_rows), pa.int32())
    return table.set_column(table.schema.get_field_index("record_index"), "record_index", index)


def timed(staging: pa.Table) -> tuple[float, int]:
    started = time.perf_counter()
    result = normalize(staging, realdata.SOURCES)
    elapsed = time.perf_counter() - started
    if result.versions.num_rows + result.quarantine.num_rows != staging.num_rows:
        raise SystemExit("reconciliation failed: versions + quarantine != staging rows")
    return elapsed, result.versions.num_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()

    real = realdata.staging()
    cold, _ = timed(real.slice(0, 100))
    print(f"reference tables loaded (first call, 100 records): {cold:.2f} s")
    distinct_s, _ = timed(real)
    print(
        f"real records, all distinct: {real.num_rows:,} in {distinct_s:.2f} s = {real.num_rows / distinct_s:,.0f} rec/s"
    )

    staging = replicate(real, args.records)
    elapsed, normalized = timed(staging)
    rate = staging.num_rows / elapsed
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"replicated: {staging.num_rows:,} records ({normalized:,} normalized) in {elapsed:.2f} s = "
        f"{rate:,.0f} rec/s (target {TARGET_RECORDS_PER_S:,}); peak RSS {peak_mib:,.0f} MiB"
    )
    if rate < TARGET_RECORDS_PER_S:
        raise SystemExit(f"below target: {rate:,.0f} < {TARGET_RECORDS_PER_S:,} records/s")


if __name__ == "__main__":
    main()
