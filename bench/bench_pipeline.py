"""The whole pipeline at 10k, 100k and 1M meetings: wall time, records/s, peak RSS and warehouse size per stage.

Synthetic feeds (``bench.synthetic``: 100 meetings per source, every family, overlapping sources) are
served over HTTP by ``bench.multihost`` on 8 loopback addresses with politeness delays off
(``CLEARINGHOUSE_MIN_DELAY_S=0``). Each night is one child process, as each ``clearinghouse run`` is: it
calls the stage functions in the CLI's order — fetch (registry validation included), load, normalize,
resolve, quality, publish. Nights per size:

1. **full**: a new home, every source fetched and parsed;
2. **incremental**: 1 % of the sources changed their feeds, every other one answers ``304 Not Modified``;
3. **rebuild** (sizes in ``--rebuild-sizes``, default 1M): warehouse and releases deleted, the day replayed
   from the raw archive (``fetch_all(replay_day=…)``), no network: "1M from the raw archive".

Peak RSS per stage is the kernel's high-water mark (``VmHWM``), reset before each stage
(``/proc/self/clear_refs``): the stage's own peak, DuckDB included. Start-up (importing DuckDB, Great
Expectations, the transforms) is timed apart. The 1-minute load average is recorded before each night: the
machine is shared, and a busy neighbour slows every figure. The parent writes ``BENCHMARKS.md`` (keeping
its hand-written ``## Notes``) and ``bench/time_vs_size.png``.

    python bench/bench_pipeline.py [--sizes 10000 100000 1000000] [--profile] [--report-only]
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import io
import itertools
import json
import math
import os
import platform
import pstats
import re
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SIZES = (10_000, 100_000, 1_000_000)
MEETINGS_PER_SOURCE = 100
CHANGED_SHARE = 0.01
HOSTS = 8
STAGES = ("fetch", "load", "normalize", "resolve", "quality", "publish")
NIGHTS = ("full", "incremental", "rebuild")
STARTUP_MODULES = ("clearinghouse.cli", "clearinghouse.pipeline")
"""What ``clearinghouse run`` imports before its first stage: timed as start-up. Heavy libraries (Great
Expectations, matplotlib, Airflow) are imported by the stage that uses them, inside its time."""
TARGET_100K_S, STRETCH_100K_S, TARGET_1M_S, TARGET_1M_GIB, TARGET_INCREMENTAL = 60, 30, 600, 6.0, 0.10
TARGET_FULL_100K_S = 25
TARGET_RELEASE_MIB = {100_000: 150, 1_000_000: 1536}
KEPT_RELEASES, TARGET_KEPT_FACTOR = 10, 2.0
COMMAND = ".venv/bin/python bench/bench_pipeline.py"
"""What ``make bench-pipeline`` runs; BENCHMARKS.md quotes it."""
NOTES = "## Notes"
"""BENCHMARKS.md keeps everything from this heading on when it is re-rendered: the analysis is written by hand."""


@dataclass
class StageResult:
    stage: str
    seconds: float
    cpu_s: float
    """User + system CPU of the night's process, all threads (DuckDB's too): the stage's cost on an idle
    machine. Parse workers (``ParsePool``) are other processes: their CPU is not in it."""
    records: int
    """Rows the stage worked on: records parsed (fetch), staged (load), normalized, resolved, validated
    (current versions) or published (meetings)."""
    peak_rss_mib: float
    warehouse_mib: float
    detail: str = ""


# --- child: one night -------------------------------------------------------------------------------------


def _reset_peak() -> None:
    """Reset the process's RSS high-water mark (Linux ``clear_refs`` 5), so the next peak is the stage's."""
    Path("/proc/self/clear_refs").write_text("5")


def _peak_mib() -> float:
    return int(re.search(r"^VmHWM:\s+(\d+)", Path("/proc/self/status").read_text(), re.M)[1]) / 1024


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _mib(path: Path) -> float:
    files = [path] if path.is_file() else path.rglob("*") if path.exists() else []
    return sum(f.stat().st_size for f in files if f.is_file()) / 2**20


class Meter:
    """Times stages, takes their peak RSS and the warehouse size after each; optionally profiles them."""

    def __init__(self, home: Path, profile_dir: Path | None):
        self.home = home
        self.profile_dir = profile_dir
        self.results: list[StageResult] = []

    def run(self, stage: str, call: Callable[[], Any], count: Callable[[Any], tuple[int, str]]) -> Any:
        _reset_peak()
        profiler = cProfile.Profile() if self.profile_dir else None
        cpu = _cpu_s()
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        try:
            value = call()
        finally:
            if profiler:
                profiler.disable()
        seconds, cpu = time.perf_counter() - started, _cpu_s() - cpu
        records, detail = count(value)
        warehouse = sum(_mib(self.home / n) for n in ("warehouse.duckdb", "warehouse.duckdb.wal"))
        self.results.append(StageResult(stage, seconds, cpu, records, _peak_mib(), warehouse, detail))
        print(
            f"    {stage:<9} {seconds:7.2f} s {cpu:7.2f} cpu-s {records:>9,} rec {_peak_mib():7,.0f} MiB  {detail}",
            flush=True,
        )
        if profiler and self.profile_dir:
            profiler.dump_stats(self.profile_dir / f"{stage}.pstats")
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(30)
            (self.profile_dir / f"{stage}.txt").write_text(text.getvalue())
        return value


def _fetched(results: list[dict[str, Any]]) -> tuple[int, str]:
    statuses: dict[str, int] = {}
    for r in results:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    parsed = sum(r["records"] or 0 for r in results if r["status"] == "ok")
    return parsed, ", ".join(f"{n:,} {s}" for s, n in sorted(statuses.items()))


def night(home: Path, sources_path: Path, label: str, workers: int, replay_day: str | None, profile: bool) -> dict:
    """One ``clearinghouse run``, stage by stage, in this (fresh) process."""
    # The synthetic sites listen on 127.0.0.1, which the network guard refuses unless allowed.
    os.environ.update(CLEARINGHOUSE_HOME=str(home), CLEARINGHOUSE_MIN_DELAY_S="0",
                      CLEARINGHOUSE_ALLOW_PRIVATE_ADDRESSES="true")  # fmt: skip
    os.environ.pop("CLEARINGHOUSE_DEMO_URL", None)
    load_average = os.getloadavg()[0]
    started = time.perf_counter()
    for module in STARTUP_MODULES:
        importlib.import_module(module)
    from clearinghouse import pipeline
    from foundation import ids
    from warehouse.errors import QualityGateFailed

    startup_s = time.perf_counter() - started
    profile_dir = home.parent / "profile" / label if profile else None
    if profile_dir:
        profile_dir.mkdir(parents=True, exist_ok=True)
    meter = Meter(home, profile_dir)
    run_id = ids.new_run_id(prefix=f"bench-{label}")
    print(f"  {label} night (load average {load_average:.1f}), start-up {startup_s:.1f} s", flush=True)
    fetches = meter.run(
        "fetch", lambda: pipeline.fetch_all(pipeline.registry(sources_path), replay_day=replay_day, workers=workers),
        _fetched,
    )  # fmt: skip
    staged = _fetched(fetches)[0]
    meter.run("load", lambda: pipeline.load_stage(run_id, fetches), lambda _: (staged, ""))
    meter.run(
        "normalize", lambda: pipeline.normalize_stage(run_id, sources_path),
        lambda s: (sum(c["parsed"] for c in s.values()), f"{len(s):,} fetches"),
    )  # fmt: skip
    resolved = meter.run(
        "resolve", lambda: pipeline.resolve_stage(run_id, sources_path),
        lambda s: (s["records"], f"{s['meetings']:,} meetings, {s['multi_source_meetings']:,} multi-source, "
                       f"{s['rematched']:,} re-matched"),
    )  # fmt: skip
    outcome = "published"
    try:
        meter.run("quality", lambda: pipeline.quality_stage(run_id), lambda q: (resolved["records"], q["status"]))
        meter.run(
            "publish", lambda: pipeline.publish_stage(run_id, sources_path),
            lambda s: (s["counts"]["meetings"], f"quality {s['quality']['status']}"),
        )  # fmt: skip
    except QualityGateFailed as exc:
        outcome = f"blocked by the quality gate: {exc}"
        print(f"    {outcome}", flush=True)
    return {
        "night": label,
        "load_average": load_average,
        "startup_s": startup_s,
        "outcome": outcome,
        "meetings": resolved["meetings"],
        "stages": [asdict(r) for r in meter.results],
    }


# --- parent: sizes, nights, BENCHMARKS.md, the plot -----------------------------------------------------------


def _settle_disk() -> float:
    """Flush every dirty page to disk (``sync``), outside any night's clock; return the seconds it took."""
    started = time.perf_counter()
    os.sync()
    return time.perf_counter() - started


def run_size(size: int, args: argparse.Namespace) -> dict[str, Any]:
    """Generate, serve, and run the nights of one size, each night in its own child process."""
    # not at the top: a night's parse workers import this file, and need none of it
    from bench import multihost, synthetic

    root = args.work / str(size)
    shutil.rmtree(root, ignore_errors=True)
    dataset, home = root / "dataset", root / "home"
    spec = synthetic.Spec(sources=max(1, size // MEETINGS_PER_SOURCE), meetings=size, hosts=HOSTS)
    started = time.perf_counter()
    summary = synthetic.generate(spec, dataset)
    generation_s = time.perf_counter() - started
    print(f"{size:,} meetings: {summary} generated in {generation_s:.1f} s", flush=True)
    sources_path = dataset / "sources.yaml"
    timeout = 600 + size // 400

    def child(label: str, replay_day: str | None = None) -> dict[str, Any]:
        out = root / f"night-{label}.json"
        # Nights are a day apart in production: the previous night's (or the generator's) gigabytes must not
        # still be in writeback, stalling this night's imports and fsyncs, when its clock starts.
        settle_s = _settle_disk()
        command = [sys.executable, __file__, "--night", label, "--home", str(home), "--registry", str(sources_path),
                   "--workers", str(args.workers), "--out", str(out), *(["--profile"] if args.profile else []),
                   *(["--replay-day", replay_day] if replay_day else [])]  # fmt: skip
        subprocess.run(command, check=True, timeout=timeout)
        return json.loads(out.read_text()) | {"settle_s": settle_s}

    from warehouse.release_store import disk_bytes

    with multihost.serving(dataset, HOSTS, args.latency_ms) as bases:
        synthetic.write_registry(dataset, bases)
        nights = [child("full")]
        after_full = disk_bytes(home / "published") / 2**20
        changed = synthetic.change_sources(dataset, CHANGED_SHARE)
        day = datetime.now(UTC).strftime("%Y-%m-%d")
        nights.append(child("incremental"))
        added = disk_bytes(home / "published") / 2**20 - after_full
    if size in args.rebuild_sizes:
        (home / "warehouse.duckdb").unlink()
        shutil.rmtree(home / "published")
        nights.append(child("rebuild", replay_day=day))
    return {
        "size": size,
        "spec": asdict(spec),
        "summary": asdict(summary),
        "generation_s": generation_s,
        "changed_sources": len(changed),
        "latency_ms": args.latency_ms,
        "workers": args.workers,
        "nights": nights,
        "raw_mib": _mib(home / "raw"),
        "release_mib": _mib((home / "published" / "latest").resolve()),
        "added_mib": added,  # what the incremental release added to published/ (shared files once)
        "feeds_mib": _mib(dataset / "feeds"),
    }


def machine() -> dict[str, str]:
    import duckdb
    import pyarrow

    model = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
    mem_kib = int(re.search(r"^MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text(), re.M)[1])
    return {
        "nproc": str(os.cpu_count()),
        "memory": f"{mem_kib / 2**20:.1f} GiB",
        "cpu": model[1].strip() if model else platform.processor(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pyarrow": pyarrow.__version__,
    }


def _night(result: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((n for n in result["nights"] if n["night"] == name), None)


def _total(result: dict[str, Any], name: str) -> float:
    found = _night(result, name)
    return sum(s["seconds"] for s in found["stages"]) if found else math.nan


def _cpu(result: dict[str, Any], name: str) -> float:
    found = _night(result, name)
    return sum(s["cpu_s"] for s in found["stages"]) if found else math.nan


def _peak(result: dict[str, Any], name: str) -> float:
    found = _night(result, name)
    return max((s["peak_rss_mib"] for s in found["stages"]), default=math.nan) if found else math.nan


def _exponents(results: dict[int, dict[str, Any]]) -> list[tuple[str, float]]:
    """Growth exponent of the full night's time between consecutive sizes (1.0 = linear)."""
    sizes = sorted(results)
    return [
        (f"{a:,}→{b:,}", math.log(_total(results[b], "full") / _total(results[a], "full")) / math.log(b / a))
        for a, b in itertools.pairwise(sizes)
    ]


def verdicts(results: dict[int, dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) for the issue's targets, from the sizes measured."""
    rows = []
    if r := results.get(100_000):
        # "Excluding start-up": the stages, fetch through publish; the imports before them are shown beside.
        total, startup = _total(r, "full"), _night(r, "full")["startup_s"]
        verdict = "met, stretch too" if total <= STRETCH_100K_S else "met" if total <= TARGET_100K_S else "not met"
        rows.append(("100k meetings, 1,000 sources, fetch → publish ≤ 60 s (stretch 30 s)",
                     f"{total:.1f} s (+ {startup:.1f} s imports before the first stage)", verdict))  # fmt: skip
    if r := results.get(1_000_000):
        name = "rebuild" if _night(r, "rebuild") else "full"
        total, peak = _total(r, name) + _night(r, name)["startup_s"], _peak(r, name) / 1024
        what = "from the raw archive (replay)" if name == "rebuild" else "fetch"
        rows.append(
            (f"1M meetings {what} → publish ≤ 10 min", f"{total:.0f} s", "met" if total <= TARGET_1M_S else "not met")
        )
        rows.append(
            (f"1M peak RSS ({name} night) ≤ 6 GB", f"{peak:.2f} GiB", "met" if peak <= TARGET_1M_GIB else "not met")
        )
    if r := results.get(100_000):
        total = _total(r, "full")
        rows.append((f"full night at 100k ≤ {TARGET_FULL_100K_S} s of stages", f"{total:.1f} s wall, "
                     f"{_cpu(r, 'full'):.1f} CPU-s (load average {_night(r, 'full')['load_average']:.1f})",
                     "met" if total <= TARGET_FULL_100K_S else "not met"))  # fmt: skip
    for size, r in sorted(results.items()):
        if size in TARGET_RELEASE_MIB:
            limit = TARGET_RELEASE_MIB[size]
            rows.append((f"one release ≤ {limit:,} MiB at {size:,}", f"{r['release_mib']:.0f} MiB",
                         "met" if r["release_mib"] <= limit else "not met"))  # fmt: skip
        if "added_mib" in r:
            kept = r["release_mib"] + (KEPT_RELEASES - 1) * r["added_mib"]
            factor = kept / r["release_mib"]
            rows.append((f"{KEPT_RELEASES} kept releases ≤ {TARGET_KEPT_FACTOR:g}× one, {size:,}",
                         f"{factor:.2f}× ({r['release_mib']:.0f} MiB + 9 × {r['added_mib']:.1f} MiB a night adds)",
                         "met" if factor <= TARGET_KEPT_FACTOR else "not met"))  # fmt: skip
    for size, r in sorted(results.items()):
        if _night(r, "incremental"):
            share = _total(r, "incremental") / _total(r, "full")
            cpu_share = _cpu(r, "incremental") / _cpu(r, "full")
            verdict = "met" if share <= TARGET_INCREMENTAL else "not met"
            rows.append((f"incremental night (1 % changed) ≤ 10 % of full, {size:,}",
                         f"{share:.0%} of wall time, {cpu_share:.0%} of CPU", verdict))  # fmt: skip
    if len(results) > 1:
        exponents = _exponents(results)
        worst = max(e for _, e in exponents)
        measured = ", ".join(f"{span}: k = {e:.2f}" for span, e in exponents)
        rows.append(
            ("cost grows at most linearly (time ∝ size^k, k ≤ 1.1)", measured, "met" if worst <= 1.1 else "not met")
        )
    return rows


def render(results: dict[int, dict[str, Any]], info: dict[str, str], notes: str) -> str:
    lines = [
        "# Benchmarks: the pipeline at 10k, 100k and 1M meetings",
        "",
        f"Reproduce: `make bench-pipeline` (runs `{COMMAND}`); one size: `{COMMAND} --sizes 100000`; re-render "
        "this file from the saved results: `--report-only`; profiles of every stage: `--profile`.",
        "",
        "## Machine",
        "",
        f"- `nproc` {info['nproc']}, memory {info['memory']}, CPU {info['cpu']}, Linux {info['kernel']}",
        f"- Python {info['python']}, DuckDB {info['duckdb']}, PyArrow {info['pyarrow']}",
        "- Shared: other sessions run their tests on the same 2 cores; each night's 1-minute load average is shown.",
        "",
        "## Setup",
        "",
        f"- Feeds from `bench/synthetic.py`: {MEETINGS_PER_SOURCE} meetings per source; regions of 4 overlapping "
        "sources, each re-publishing 20 % of its records from a neighbour with perturbations; 70 % Meeting Guide "
        "JSON, 20 % BMLT (3 endpoints), 10 % TSML TSV; real records as templates, moved to real US ZIP areas.",
        f"- Served by `bench/multihost.py` on {HOSTS} loopback addresses (127.0.0.2–127.0.0.{HOSTS + 1}) with strong "
        "ETags; `CLEARINGHOUSE_MIN_DELAY_S=0`; the fetch goes through the polite client (per-host lock and "
        "lease, robots.txt, conditional GET), the raw archive and the real parsers.",
        "- One child process per night, stages in the order of `clearinghouse run`; fetch includes validating "
        "the registry. Peak RSS: the kernel's high-water mark, reset before each stage. Warehouse: "
        "`warehouse.duckdb` after the stage. records/s: the stage's records / its wall time.",
        "- Before each night the bench runs `sync` (not timed; shown on the start-up row): nights are a day apart "
        "in production, so the previous night's gigabytes must not still be in writeback when a night starts.",
        "- Nights: **full** (new home), **incremental** (1 % of the sources changed, the rest answer 304), "
        "**rebuild** (1M: warehouse and releases deleted, the day replayed from the raw archive, no network).",
        "",
        "## Targets",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
        *[f"| {t} | {m} | {v} |" for t, m, v in verdicts(results)],
        "",
        "![time vs size](bench/time_vs_size.png)",
        "",
    ]
    for size, r in sorted(results.items()):
        spec, summary = r["spec"], r["summary"]
        lines += [
            f"## {size:,} meetings from {spec['sources']:,} sources",
            "",
            f"{summary['copies']:,} re-published records, so {summary['records'] - summary['copies']:,} distinct "
            f"meetings in truth; feeds {r['feeds_mib']:.0f} MiB, generated in {r['generation_s']:.0f} s; "
            f"{r['latency_ms']:g} ms server latency; {r['workers']} fetch workers; raw archive {r['raw_mib']:.0f} "
            f"MiB after all nights; release {r['release_mib']:.0f} MiB"
            + (
                f"; the incremental night's release added {r['added_mib']:.1f} MiB to `published/`."
                if "added_mib" in r
                else "."
            ),
            "",
            "| night | stage | wall s | CPU s | records | records/s | peak RSS MiB | warehouse MiB | detail |",
            "|---|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for n in r["nights"]:
            name = n["night"]
            lines.append(
                f"| {name} | start-up (imports) | {n['startup_s']:.2f} | | | | | | "
                f"load average {n['load_average']:.1f}; `sync` before it {n.get('settle_s', 0):.1f} s |"
            )
            for s in n["stages"]:
                rate = s["records"] / s["seconds"] if s["seconds"] else 0
                lines.append(
                    f"| {name} | {s['stage']} | {s['seconds']:.2f} | {s['cpu_s']:.2f} | {s['records']:,} | "
                    f"{rate:,.0f} | {s['peak_rss_mib']:,.0f} | {s['warehouse_mib']:,.0f} | {s['detail']} |"
                )
            lines.append(
                f"| **{name}** | **stages total** | **{_total(r, name):.2f}** | **{_cpu(r, name):.2f}** | | | "
                f"**{_peak(r, name):,.0f}** | | "
                f"{n['outcome']} |"
            )
        lines.append("")
    return "\n".join(lines) + ("\n" + notes.strip() + "\n" if notes.strip() else "")


def plot(results: dict[int, dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(results)
    fig, ax = plt.subplots(figsize=(7.5, 5))
    for stage in STAGES:
        times = [next((s["seconds"] for s in _night(results[z], "full")["stages"] if s["stage"] == stage), math.nan)
                 for z in sizes]  # fmt: skip
        ax.plot(sizes, times, marker="o", label=stage)
    totals = [_total(results[z], "full") for z in sizes]
    ax.plot(sizes, totals, marker="s", color="black", linewidth=2, label="total, full night")
    rebuild = [(z, _total(results[z], "rebuild")) for z in sizes if _night(results[z], "rebuild")]
    if rebuild:
        ax.plot(
            *zip(*rebuild, strict=True), marker="D", linestyle="none", color="grey", label="total, rebuild from archive"
        )
    ax.plot(sizes, [totals[0] * z / sizes[0] for z in sizes], "k--", alpha=0.5, label="linear reference (∝ size)")
    ax.set(xscale="log", yscale="log", xlabel="meetings", ylabel="wall time (s)",
           title="clearinghouse pipeline: time vs size per stage (full night)")  # fmt: skip
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--work", type=Path, default=REPO / "data" / "bench-pipeline",
                        help="datasets, homes and results; a size's folder is deleted and rebuilt")  # fmt: skip
    parser.add_argument("--latency-ms", type=float, default=10.0, help="server think time per answer")
    parser.add_argument("--workers", type=int, default=8, help="concurrent fetches (clearinghouse run's default)")
    parser.add_argument("--rebuild-sizes", type=int, nargs="*", default=[1_000_000])
    parser.add_argument("--profile", action="store_true", help="cProfile every stage (work/<size>/profile/)")
    parser.add_argument("--report-only", action="store_true", help="re-render BENCHMARKS.md from saved results")
    child = parser.add_argument_group("one night (internal)")
    child.add_argument("--night", choices=NIGHTS, help=argparse.SUPPRESS)
    child.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    child.add_argument("--registry", type=Path, help=argparse.SUPPRESS)
    child.add_argument("--replay-day", help=argparse.SUPPRESS)
    child.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.night:
        result = night(args.home, args.registry, args.night, args.workers, args.replay_day, args.profile)
        args.out.write_text(json.dumps(result, indent=1))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        for size in args.sizes:
            (args.work / f"result-{size}.json").write_text(json.dumps(run_size(size, args), indent=1))
    results = {int(p.stem.split("-")[1]): json.loads(p.read_text()) for p in args.work.glob("result-*.json")}
    target = REPO / "BENCHMARKS.md"
    existing = target.read_text() if target.exists() else ""
    notes = existing[existing.index(NOTES) :] if NOTES in existing else ""
    target.write_text(render(results, machine(), notes))
    plot(results, REPO / "bench" / "time_vs_size.png")
    print(f"wrote {target} and {REPO / 'bench' / 'time_vs_size.png'}")


if __name__ == "__main__":
    main()
