"""The place cache of ``transforms.regions.assign`` on a bench home: CPU seconds of a cold cache (a full
pass), a quiet night (nothing changed), a night where ~1 % of the active meetings moved to the next ZIP code,
and a quiet night again.

The home's warehouse is copied first (the original is never written). Each call runs in a process of its own,
as each night's publish does, so the reference tables a changed place needs (ZIP table, gazetteer, county
shapes) are loaded inside the timing; pandas is imported before it (the publish stage has it loaded).
``--code`` runs the calls with another checkout's code (for the code before the cache: one call is its cost).

    python bench/bench_places.py HOME_OR_WAREHOUSE [--code ROOT] [--calls cold quiet perturb changed quiet]

On the 100k bench home of ``bench/bench_pipeline.py`` (64,199 active meetings, the demo regions; 2 shared
cores, 2026-12-06), CPU seconds of ``assign``: before the cache 9.7 (11.4 after the ZIP codes moved); with it
13.5 cold (a full pass, plus hashing and writing the cache), 1.7 quiet, 4.1 with 575 meetings moved (of which
about 3.5 load the ZIP table, gazetteer and county shapes, once per process), 1.3 quiet again. The tables and
the returned counts were those of the code before the cache at every step. What a quiet night still pays is
rewriting the three tables (64k places, 75k memberships) and their commit, about 1 s.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PERTURBED = r"""status = 'active' AND hash(meeting_id) % 100 = 0 AND regexp_full_match(postal_code, '\d{5}')"""
"""~1 % of the active meetings, those with a five-digit postal code."""


def step(root: str, warehouse: str, what: str) -> None:
    """One call, in this process: ``perturb`` moves the chosen meetings to the next ZIP code, anything else
    times ``assign`` with the demo regions and source labels."""
    sys.path.insert(0, root)
    import duckdb
    import pandas  # noqa: F401

    import transforms.regions as regions
    from foundation.settings import DEFAULT_REGIONS
    from warehouse.db import migrate

    assert Path(regions.__file__).is_relative_to(root), f"{regions.__file__} is not the code of {root}"
    con = duckdb.connect(warehouse)
    migrate(con)
    if what == "perturb":
        moved = con.sql(f"SELECT count(*) FROM core.meetings WHERE {PERTURBED}").fetchall()[0][0]
        con.execute(f"UPDATE core.meetings SET postal_code = lpad(((postal_code::INT + 1) % 100000)::VARCHAR, 5, "
                    f"'0') WHERE {PERTURBED}")  # fmt: skip
        print(f"  perturb   {moved:,} meetings moved to the next ZIP code")
        return
    found, labels = regions.load_regions(DEFAULT_REGIONS), regions.load_source_labels(DEFAULT_REGIONS)
    active = con.sql("SELECT count(*) FROM core.meetings WHERE status = 'active'").fetchall()[0][0]
    cpu, wall = time.process_time(), time.perf_counter()
    regions.assign(con, found, labels)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"  {what:<9} {cpu:6.2f} cpu-s {wall:6.2f} s  {active:,} active meetings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("home", type=Path, help="a bench home (its warehouse.duckdb) or a warehouse file")
    parser.add_argument("--code", default=str(REPO), help="the checkout whose code runs (default: this one)")
    parser.add_argument("--calls", nargs="+", default=["cold", "quiet", "perturb", "changed", "quiet"])
    parser.add_argument("--step", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        step(args.code, str(args.home), args.step)
        return
    source = args.home / "warehouse.duckdb" if args.home.is_dir() else args.home
    with tempfile.TemporaryDirectory(prefix="bench-places-") as tmp:
        warehouse = Path(tmp) / "warehouse.duckdb"
        shutil.copyfile(source, warehouse)
        print(f"assign with the code of {args.code} on a copy of {source}")
        for what in args.calls:
            subprocess.run([sys.executable, __file__, str(warehouse), "--code", args.code, "--step", what],
                           check=True, cwd=args.code)  # fmt: skip


if __name__ == "__main__":
    main()
