"""CPU per source of a quiet night's fetch: every source answers ``304 Not Modified``.

Synthetic feeds (``bench.synthetic``) are served by ``bench.multihost`` in its own process on ``--hosts``
loopback addresses with strong ETags, politeness delays off (``CLEARINGHOUSE_MIN_DELAY_S=0``). A first pass
fetches every source (a new home); each measured pass, in a fresh process as each night is, fetches them all
again through ``pipeline.fetch_all``: every request is a conditional GET answered 304, every source comes out
``unchanged``. The figure is the pass's CPU time (``time.process_time``: user + system, all threads; the
server's is not counted) for ``fetch_all`` (its group commit included), per source and per request; the
registry read is shown apart. The machine is shared: the best of ``--passes`` is the figure. ``--profile``
adds one pass, not counted, with a cProfile per fetching thread, merged (``fetch.txt``: the top rows by
tottime and cumtime; ``fetch.pstats``), in the work folder.

    python bench/bench_fetch.py [--sources 500] [--hosts 8] [--workers 8] [--passes 3] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

MEETINGS_PER_SOURCE = 20
"""Small feeds: a 304 carries no body, so the feeds' size only matters to the first pass."""


def _profile_threads(pipeline) -> list[cProfile.Profile]:
    """Profile every ``fetch_source`` call, each fetching thread with a profiler of its own (cProfile sees one
    thread only); the main thread's share (scheduling, the group commit) is profiled too."""
    profilers: list[cProfile.Profile] = []
    local = threading.local()
    fetch_source = pipeline.fetch_source

    def profiled(*args, **kwargs):
        if not hasattr(local, "profiler"):
            local.profiler = cProfile.Profile(time.thread_time)
            profilers.append(local.profiler)
        local.profiler.enable()
        try:
            return fetch_source(*args, **kwargs)
        finally:
            local.profiler.disable()

    pipeline.fetch_source = profiled
    main = cProfile.Profile(time.thread_time)
    profilers.append(main)
    commit = pipeline.commit_fetch_records

    def committed():
        main.enable()
        try:
            return commit()
        finally:
            main.disable()

    pipeline.commit_fetch_records = committed
    return profilers


def one_pass(home: Path, registry_path: Path, workers: int, profile: Path | None) -> dict:
    """One fetch of every source, in this (fresh) process: CPU seconds of the registry read and of the fetch."""
    os.environ.update(CLEARINGHOUSE_HOME=str(home), CLEARINGHOUSE_MIN_DELAY_S="0",
                      CLEARINGHOUSE_ALLOW_PRIVATE_ADDRESSES="true")  # fmt: skip
    os.environ.pop("CLEARINGHOUSE_DEMO_URL", None)
    from clearinghouse import pipeline

    cpu = time.process_time()
    sources = pipeline.registry(registry_path)
    registry_cpu = time.process_time() - cpu
    profilers = _profile_threads(pipeline) if profile else []
    wall, cpu = time.perf_counter(), time.process_time()
    results = pipeline.fetch_all(sources, workers=workers)
    fetch_cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if profilers and profile:
        text = io.StringIO()
        stats = pstats.Stats(*profilers, stream=text)
        stats.dump_stats(profile / "fetch.pstats")
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(40)
        (profile / "fetch.txt").write_text(text.getvalue())
    parts = [p for r in results for p in r["parts"]]
    return {
        "sources": len(results),
        "statuses": dict(Counter(r["status"] for r in results)),
        "requests": len(parts),
        "not_modified": sum(p["not_modified"] for p in parts),
        "registry_cpu_s": registry_cpu,
        "fetch_cpu_s": fetch_cpu,
        "fetch_wall_s": wall,
    }


def _child(args: argparse.Namespace, home: Path, registry_path: Path, out: Path, profile: Path | None) -> dict:
    command = [sys.executable, __file__, "--pass-home", str(home), "--registry", str(registry_path),
               "--workers", str(args.workers), "--out", str(out),
               *(["--profile-dir", str(profile)] if profile else [])]  # fmt: skip
    subprocess.run(command, check=True, timeout=1800)
    return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--hosts", type=int, default=8, help="loopback addresses the sources are spread over")
    parser.add_argument("--workers", type=int, default=8, help="hosts fetched at once")
    parser.add_argument("--passes", type=int, default=3, help="measured 304 passes (each a fresh process)")
    parser.add_argument("--profile", action="store_true", help="cProfile the last measured pass")
    parser.add_argument("--work", type=Path, default=None, help="dataset and home (default: a temporary folder)")
    internal = parser.add_argument_group("one pass (internal)")
    internal.add_argument("--pass-home", type=Path, help=argparse.SUPPRESS)
    internal.add_argument("--registry", type=Path, help=argparse.SUPPRESS)
    internal.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    internal.add_argument("--profile-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pass_home:
        result = one_pass(args.pass_home, args.registry, args.workers, args.profile_dir)
        args.out.write_text(json.dumps(result))
        return

    from bench import multihost, synthetic

    work = args.work or Path(tempfile.mkdtemp(prefix="bench-fetch-"))
    shutil.rmtree(work / "home", ignore_errors=True)
    dataset, home = work / "dataset", work / "home"
    spec = synthetic.Spec(sources=args.sources, meetings=args.sources * MEETINGS_PER_SOURCE, hosts=args.hosts)
    synthetic.generate(spec, dataset)
    try:
        with multihost.serving(dataset, args.hosts) as bases:
            registry_path = synthetic.write_registry(dataset, bases)
            first = _child(args, home, registry_path, work / "pass-0.json", None)
            print(f"first pass: {first['sources']} sources, {first['requests']} requests, {first['statuses']}")
            measured = []
            for n in range(1, args.passes + 1):
                result = _child(args, home, registry_path, work / f"pass-{n}.json", None)
                measured.append(result)
                sources, requests = result["sources"], result["requests"]
                cpu_ms = 1000 * result["fetch_cpu_s"]
                print(f"304 pass {n} (load average {os.getloadavg()[0]:.1f}): {sources} sources, {requests} "
                      f"requests ({result['not_modified']} answered 304), {result['statuses']}; fetch_all "
                      f"{result['fetch_cpu_s']:.2f} cpu-s = {cpu_ms / sources:.2f} ms per source, "
                      f"{cpu_ms / requests:.2f} ms per request; {result['fetch_wall_s']:.2f} s wall; "
                      f"registry read {1000 * result['registry_cpu_s']:.0f} ms")  # fmt: skip
            best = min(measured, key=lambda r: r["fetch_cpu_s"])
            print(
                f"best of {len(measured)}: {1000 * best['fetch_cpu_s'] / best['sources']:.2f} ms CPU per source, "
                f"{1000 * best['fetch_cpu_s'] / best['requests']:.2f} ms per 304"
            )
            if args.profile:  # one more pass, not counted: the profiler's own cost would be in its figure
                _child(args, home, registry_path, work / "pass-profiled.json", work)
            if args.profile:
                print(f"profile: {work / 'fetch.txt'} ({work / 'fetch.pstats'})")
    finally:
        if not args.work and not args.profile:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
