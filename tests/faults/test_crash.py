"""Crash tests: ``kill -9`` the pipeline during load, resolve and publish; the next run must simply work.

A night's run is an ordinary ``clearinghouse run`` in a forked child of the test process, which has already
imported everything, so a crash costs a second instead of an interpreter start and a Great Expectations
import. In the child, and only there, the stage under test is wrapped (``_dies_during``) so that the process
kills itself with SIGKILL, as a machine that loses power would (no ``finally``, no ``atexit``, no flush): at
the start of the stage or a fraction of the way through its measured duration (five times per stage, at 0,
20, 40, 60 and 80 %), i.e. inside its transaction, its Great Expectations run or its release build. The
production code has no hook for it. After each kill:

- ``latest`` still points at a complete release (every file matches the manifest's checksum);
- the next run, started like any other night, exits 0 with no manual step;
- it publishes exactly what a run that never crashed publishes, and the warehouse is consistent:
  ``parsed = normalized + quarantined`` per current fetch, every current record linked to a published
  meeting, no partial release folder left behind.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from clearinghouse import pipeline
from clearinghouse.cli import main
from tests.faults.conftest import Observe
from tests.faults.harness import (
    FAST_CLIENT,
    RunState,
    encode,
    latest,
    meeting_guide_feed,
    mg_source,
    run,
    run_state,
    verify_release,
    write_registry,
)
from tests.faults.server import FaultSite, Reply

pytestmark = pytest.mark.slow
STAGES = ("load", "resolve", "publish")
REPEATS = 5
BEFORE = {"alpha": meeting_guide_feed("alpha", 30), "beta": meeting_guide_feed("beta", 20)}
AFTER = {"alpha": BEFORE["alpha"], "beta": meeting_guide_feed("beta", 18) + meeting_guide_feed("beta", 4, offset=40)}
"""The crashed night: alpha unchanged, beta lost two meetings and gained four (work for every stage)."""


@dataclass(frozen=True)
class World:
    baseline: Path
    """A home after one clean night (copied for each test)."""
    expected: RunState
    """What the crashed night publishes when nothing crashes."""
    durations: dict[str, float]
    """Seconds each stage took on the night that did not crash."""
    sources: Path


def _serve(site: FaultSite, feeds: dict[str, list[dict[str, Any]]]) -> dict[str, str]:
    return {name: site.route(f"/{name}.json", Reply(body=encode(items))) for name, items in feeds.items()}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("CLEARINGHOUSE_DEMO_URL", raising=False)
        for name, value in FAST_CLIENT.items():
            mp.setenv(name, value)
        yield mp


@pytest.fixture(scope="module")
def world(env: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    site = FaultSite()
    root = tmp_path_factory.mktemp("crash")
    urls = _serve(site, BEFORE)
    sources = write_registry(root / "sources.yaml", [mg_source(name, url) for name, url in urls.items()])
    baseline = root / "baseline"
    env.setenv("CLEARINGHOUSE_HOME", str(baseline))
    assert run(sources) == 0
    _serve(site, AFTER)
    reference = root / "reference"
    shutil.copytree(baseline, reference, symlinks=True)
    env.setenv("CLEARINGHOUSE_HOME", str(reference))
    durations: dict[str, float] = {}
    with pytest.MonkeyPatch.context() as timing:
        for stage in STAGES:
            timing.setattr(pipeline, f"{stage}_stage", _timed(getattr(pipeline, f"{stage}_stage"), stage, durations))
        assert run(sources) == 0
    yield World(baseline, run_state(reference), durations, sources)
    site.close()


def _timed(stage: Callable[..., Any], name: str, durations: dict[str, float]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.monotonic()
        try:
            return stage(*args, **kwargs)
        finally:
            durations[name] = time.monotonic() - started

    return timed


def _kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _dies_during(stage: Callable[..., Any], after_s: float) -> Callable[..., Any]:
    """``stage``, killing this process ``after_s`` seconds after it starts (at once when 0). The timer is not a
    daemon: a run whose stage ends first is killed on its way out."""

    def dying(*args: Any, **kwargs: Any) -> Any:
        if after_s <= 0:
            _kill()
        threading.Timer(after_s, _kill).start()
        return stage(*args, **kwargs)

    return dying


def _crashing_night(home: str, sources: str, stage: str, after_s: float) -> None:
    """The body of the forked child: an ordinary ``clearinghouse run`` whose ``stage`` kills it."""
    os.environ["CLEARINGHOUSE_HOME"] = home
    setattr(pipeline, f"{stage}_stage", _dies_during(getattr(pipeline, f"{stage}_stage"), after_s))
    sys.exit(main(["run", "--sources", sources]))


def _kill_during(home: Path, sources: Path, stage: str, after_s: float) -> int | None:
    child = multiprocessing.get_context("fork").Process(
        target=_crashing_night, args=(str(home), str(sources), stage, after_s)
    )
    child.start()
    child.join(timeout=120)
    if child.is_alive():  # the crash point never fired: do not leave the run behind
        child.kill()
        child.join()
    return child.exitcode


def _leftovers(home: Path) -> list[str]:
    """Half-built releases and half-swapped ``latest`` links a killed publisher leaves."""
    published = home / "published"
    return sorted(p.name for p in [*(published / "releases").glob(".*"), *published.glob(".latest-*")])


def _inconsistencies(home: Path) -> list[str]:
    """What a consistent warehouse never holds; empty when all is well."""
    problems = []
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        unlinked = con.sql(
            """SELECT count(*) FROM core.meeting_versions v
               JOIN ops.source_state s ON s.source_id = v.source_id AND s.current_fetch_id = v.fetch_id
               LEFT JOIN core.meeting_links l ON l.source_id = v.source_id AND l.source_key = v.source_key
               LEFT JOIN core.meetings m ON m.meeting_id = l.meeting_id AND m.status = 'active'
               WHERE m.meeting_id IS NULL"""
        ).fetchall()[0][0]
        if unlinked:
            problems.append(f"{unlinked} current records are not linked to an active meeting")
        unnormalized = con.sql(
            """SELECT count(*) FROM ops.source_state
               WHERE current_fetch_id NOT IN (SELECT fetch_id FROM ops.normalized_fetches)"""
        ).fetchall()[0][0]
        if unnormalized:
            problems.append(f"{unnormalized} current fetches were never normalized")
    releases = home / "published" / "releases"
    problems += [
        f"release folder without a manifest: {p.name}"
        for p in releases.iterdir()
        if not p.name.startswith(".") and not (p / "manifest.json").exists()
    ]
    return problems + [f"left behind: {name}" for name in _leftovers(home)]


@pytest.mark.parametrize("repeat", range(REPEATS))
@pytest.mark.parametrize("stage", STAGES)
def test_kill_9_then_the_next_night_recovers(
    world: World, env: pytest.MonkeyPatch, tmp_path: Path, stage: str, repeat: int, observe: Observe
) -> None:
    home = tmp_path / "home"
    shutil.copytree(world.baseline, home, symlinks=True)
    before = verify_release(latest(home))
    after_s = world.durations[stage] * repeat / REPEATS
    exitcode = _kill_during(home, world.sources, stage, after_s)
    after_crash = verify_release(latest(home))
    half_built = _leftovers(home)

    env.setenv("CLEARINGHOUSE_HOME", str(home))
    recovered_exit = run(world.sources)
    recovered = run_state(home)
    verify_release(latest(home))
    problems = _inconsistencies(home)
    observe(
        "crashes (kill -9, then the next night)",
        f"kill -9 in {stage} at +{after_s:.2f} s (run {repeat + 1}/{REPEATS})",
        "killed; latest still a complete release; next night exits 0 and publishes what a clean night does",
        f"exit {exitcode}; latest after the kill: "
        f"{'previous' if after_crash['release_id'] == before['release_id'] else 'new'} release, checksums ok"
        + (f", half-built {half_built[0]} beside it" if half_built else "")
        + f"; next night exit {recovered_exit}, "
        f"{'same' if recovered.meetings == world.expected.meetings else 'DIFFERENT'} meetings; "
        f"{'; '.join(problems) or 'warehouse consistent, nothing left behind'}",
    )
    assert exitcode == -signal.SIGKILL
    assert recovered_exit == 0
    assert recovered.meetings == world.expected.meetings
    assert {s["id"]: s["records"] for s in recovered.manifest["sources"]} == {
        s["id"]: s["records"] for s in world.expected.manifest["sources"]
    }
    for source_id, (parsed, normalized, quarantined) in recovered.reconciliation.items():
        assert parsed == normalized + quarantined, source_id
    assert problems == []
