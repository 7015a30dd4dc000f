"""The ``clearinghouse`` command: the same stage functions the Airflow DAGs call, without Airflow.

Exit codes of ``run``, ``publish`` and ``airflow-run`` (``make run``): 0 published; 2 nothing to publish (every
source failed or was held; ``latest`` kept); 3 blocked by a gate (``latest`` kept); 1 an error (a bad registry
or command line included).

The stages and the registry are imported by the commands that use them, so ``clearinghouse --help`` answers
without loading DuckDB, Arrow or the extractors."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from clearinghouse import logs
from foundation import ids
from foundation.paths import UnsafePath, replay_day
from foundation.settings import LIVE_SOURCES, REPO_ROOT, settings, variable
from warehouse.db import WarehouseLocked
from warehouse.errors import NothingToPublish, QualityGateFailed

log = logging.getLogger("clearinghouse.cli")
PUBLISHED, ERROR, NOTHING_TO_PUBLISH, BLOCKED = 0, 1, 2, 3
"""Exit codes (docs/operators.md, "Exit codes and alerts")."""
EXIT_CODES = {"published": PUBLISHED, "nothing_to_publish": NOTHING_TO_PUBLISH, "blocked": BLOCKED}
"""A run's final ``ops.runs.status`` as an exit code; any other status is an error."""

console = Console(stderr=True)
STATUS_STYLE = {"ok": "green", "unchanged": "cyan", "failed": "bold red", "held": "yellow", "stale": "yellow",
                "link_only": "dim"}  # fmt: skip


def print_sources(sources: list[dict[str, Any]], out: Console | None = None, title: str = "sources") -> None:
    """Per source: status, published records and why it is not ok."""
    table = Table(title=title)
    for column in ("source", "status", "records", "reason"):
        table.add_column(column, overflow="fold")
    for s in sources:
        style = STATUS_STYLE.get(s["status"], "")
        notes = [s.get("reason") or ""]
        if s.get("off_scope_links"):
            notes.append(f"skipped {s['off_scope_links']} link(s) to hosts outside the source's scope")
        table.add_row(escape(s["id"]), f"[{style}]{escape(s['status'])}[/]", str(s.get("records", "")),
                      escape("; ".join(n for n in notes if n)))  # fmt: skip
    (out or console).print(table)


def print_summary(summary: dict[str, Any], out: Console | None = None) -> None:
    """The end-of-run report: per source status and records, counts per stage, where the release is."""
    out = out or Console()
    print_sources(summary["sources"], out, title=f"clearinghouse run {summary['run_id']}")
    counts = summary["counts"]
    states = [s["status"] for s in summary["sources"]]
    healthy = sum(st in ("ok", "unchanged") for st in states)
    out.print(
        f"sources: {healthy} ok ({states.count('unchanged')} unchanged), {len(states) - healthy} not ok · "
        f"records: parsed {counts.get('parsed', 0)} → normalized {counts.get('normalized', 0)} "
        f"+ quarantined {counts.get('quarantined', 0)} → published meetings {counts.get('meetings', 0)}"
    )
    out.print(f"release {summary['release_id']}: {summary['release_path']}")
    from clearinghouse import serve

    feeds = serve.feed_urls(Path(summary["release_path"]), settings().public_url)
    if feeds:
        out.print("Meeting Guide feeds per region, to register with apps:", soft_wrap=True)
        for url in feeds:
            out.print(f"  {url}", soft_wrap=True, highlight=False)


def _at_least_one(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value}: at least 1")
    return number


def cmd_run(args: argparse.Namespace) -> int:
    from clearinghouse import pipeline

    replay = replay_day(args.replay) if args.replay is not None else None
    sources = pipeline.registry(args.sources, args.only)
    run_id = ids.new_run_id()
    logs.set_run_id(run_id)
    log.info("run %s: %d sources%s", run_id, len(sources), f", replaying {replay}" if replay else "")
    try:
        summary = _run_stages(args, run_id, sources, replay)
    finally:
        _send_digest(run_id, "run", args.sources)
    print_summary(summary)
    return PUBLISHED


def _send_digest(run_id: str, where: str, sources_path: Path | None) -> None:
    """The run's one alert (``clearinghouse.alerts``); a digest that cannot be built is logged, never raised."""
    from clearinghouse import alerts

    try:
        message = alerts.run_digest(run_id, where=where, sources_path=sources_path)
    except Exception:
        log.exception("the alert digest of run %s could not be built", run_id)
        return
    if message:
        alerts.send(message)


def _run_stages(args: argparse.Namespace, run_id: str, sources: list, replay: str | None) -> dict[str, Any]:
    from clearinghouse import pipeline

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("fetch", total=len(sources))

        def done(result: dict[str, Any]) -> None:
            progress.update(task, advance=1, description=f"fetch {result['source_id']}: {result['status']}")

        fetches = pipeline.fetch_all(sources, replay_day=replay, workers=args.workers, on_done=done)
        stages = [
            ("load", lambda: pipeline.load_stage(run_id, fetches)),
            ("normalize", lambda: pipeline.normalize_stage(run_id, args.sources)),
            ("resolve", lambda: pipeline.resolve_stage(run_id, args.sources, args.only, replay=bool(replay))),
            ("quality", lambda: pipeline.quality_stage(run_id)),
            ("publish", lambda: pipeline.publish_stage(run_id, args.sources)),
        ]
        stage_task = progress.add_task("stages", total=len(stages))
        summary: dict[str, Any] = {}
        for name, stage in stages:
            progress.update(stage_task, description=name)
            started = time.monotonic()
            summary = stage()
            log.info("stage %s done in %.1f s", name, time.monotonic() - started)
            progress.advance(stage_task)
    return summary


def cmd_sources_list(args: argparse.Namespace) -> int:
    from extractors.registry import load_registry

    table = Table(title=str(args.sources or settings().sources_path))
    for column in ("id", "fellowship", "kind", "enabled", "url"):
        table.add_column(column, overflow="fold")
    for s in load_registry(args.sources or settings().sources_path):
        table.add_row(s.id, s.fellowship, s.kind, "yes" if s.enabled else "no", s.url)
    Console().print(table)
    return 0


def cmd_sources_test(args: argparse.Namespace) -> int:
    """Fetch (or replay) one source and show its first records, warnings and counts; writes nothing."""
    from extractors.registry import load_registry, select
    from extractors.trial import print_report, test_source

    [source] = select(load_registry(args.sources or settings().sources_path), [args.id])
    report = test_source(source, settings(), replay=args.replay)
    print_report(report, limit=args.limit)
    return 0 if report.ok else 1


def cmd_sources_new(args: argparse.Namespace) -> int:
    """Scaffold an HTML family: module, a test that fails until edited, a fixture slot."""
    from extractors.scaffold import scaffold

    try:
        paths = scaffold(args.id, args.kind, REPO_ROOT)
    except (ValueError, FileExistsError) as exc:
        console.print(f"[bold red]{exc}[/]")
        return ERROR
    for path in paths:
        console.print(f"wrote {path.relative_to(REPO_ROOT)}")
    console.print(f"then add `- id: {args.id}` with `kind: {args.kind}` to a registry file")
    return 0


def cmd_sources_check(args: argparse.Namespace) -> int:
    from extractors.registry import load_registry

    sources = load_registry(args.sources or settings().sources_path)
    missing = [s for s in sources if s.enabled and s.auth and not s.secret]
    for s in missing:
        console.print(f"[yellow]source {s.id!r}: environment variable {s.auth} (auth) is not set[/]")
    waiting = [s.id for s in sources if not s.enabled and s.auth and not s.secret]
    if waiting:  # a disabled source is not fetched: its key is needed only when it is enabled
        console.print(f"disabled, waiting for their feed key: {', '.join(waiting)}", highlight=False)
    console.print(f"[green]{len(sources)} sources valid[/]")
    return 1 if missing else 0


def cmd_sources_discover(args: argparse.Namespace) -> int:
    """Registry entries from a public directory, merged into ``--out``: the NA server list, or plugin sites."""
    from clearinghouse import discover

    if args.directory == "bmlt":
        return discover.discover_bmlt(args.server_list, args.out, accept_removals=args.accept_removals,
                                      dry_run=args.dry_run)  # fmt: skip
    return discover.discover_tsml(args.urls, args.out, fellowship=args.fellowship, dry_run=args.dry_run)


def cmd_sources_accept(args: argparse.Namespace) -> int:
    from clearinghouse import pipeline
    from extractors.fetch import accept_held

    (source,) = pipeline.registry(args.sources, [args.id])
    record = accept_held(source, settings())
    console.print(
        f"{source.id}: fetch {record.fetch_id} ({record.records} records) accepted as the new baseline; "
        "the next run publishes it"
    )
    return 0


AIRFLOW_LINE = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\dT(?P<time>\d\d:\d\d:\d\d))\S*\s+\[(?P<level>\w+)\s*\]\s+"
    r"(?P<message>.*?)\s+\[(?P<logger>[\w.]+)\](?:\s+loc=\S+)?(?P<extra>.*)$"
)
"""A line of Airflow's structured log (``2026-…Z [info     ] message [logger] loc=file.py:12 key=value``)."""
PROGRESS_LOGGERS = ("clearinghouse.fetch", "clearinghouse.runs", "clearinghouse.pipeline", "clearinghouse.alerts",
                    "clearinghouse.warehouse")  # fmt: skip
"""Loggers whose lines ``make run`` shows (per source and per stage); everything else goes to the log file."""


def progress_line(line: str) -> str | None:
    """What ``make run`` shows of one line of ``airflow dags test`` output: the pipeline's progress, warnings
    and errors, task failures and the run's end; ``None`` for Airflow's own chatter."""
    match = AIRFLOW_LINE.match(line.rstrip())
    if not match:
        return None
    message, logger, level = match["message"], match["logger"], match["level"].lower()
    if logger.startswith(PROGRESS_LOGGERS) or (logger.startswith("clearinghouse") and level in ("warning", "error")):
        return f"{match['time']} {message}"
    if "new_state=failed" in match["extra"] or "new_state=up_for_retry" in match["extra"]:
        state = re.search(r"new_state=(\w+)", match["extra"])
        return f"{match['time']} a task ended {state[1] if state else 'failed'} (details in the log file)"
    if message.startswith("DagRun Finished"):
        state = re.search(r"state=(\w+)", message)
        return f"{match['time']} Airflow run finished: {state[1] if state else '?'}"
    return None


def _run_airflow(command: list[str], env: dict[str, str], log_file: Path, verbose: bool) -> int:
    """Run ``command`` with its output appended to ``log_file``; show every line with ``-v``, else progress."""
    with log_file.open("a") as sink:
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   errors="replace")  # fmt: skip
        assert process.stdout is not None
        for line in process.stdout:
            sink.write(line)
            shown = line.rstrip("\n") if verbose else progress_line(line)
            if shown:
                console.print(shown, highlight=False, markup=False, soft_wrap=True)
        return process.wait()


def _night_outcome(cfg: Any, since: datetime) -> dict[str, Any] | None:
    """The latest run of the warehouse that started at ``since`` or later (the night ``make run`` ran)."""
    from warehouse import db, runs

    if not cfg.warehouse_path.exists():
        return None
    with db.connect(cfg.warehouse_path, read_only=True) as con:
        rows = con.execute("SELECT run_id FROM ops.runs WHERE started_at >= ? ORDER BY started_at DESC LIMIT 1",
                           [since]).fetchall()  # fmt: skip
        return runs.run_record(con, rows[0][0]) if rows else None


def cmd_airflow_run(args: argparse.Namespace) -> int:
    """``make run``: the nightly DAG once through real Airflow (``airflow dags test``), demo or live.

    Airflow's own log goes to a file under the home (its path is printed; ``-v`` shows it live); the terminal
    shows the progress per source and per stage, then the summary. The exit code is the run's outcome.
    """
    from clearinghouse import demo

    cfg = settings()
    env = dict(os.environ)
    env.setdefault("AIRFLOW_HOME", str(cfg.home / "airflow"))
    env.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(REPO_ROOT / "dags"))
    env.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    env.setdefault("AIRFLOW__CORE__PARALLELISM", "4")
    env.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO")
    env[variable("home")] = str(cfg.home)
    server = None
    if args.live:
        from clearinghouse import live, pipeline

        env.setdefault(variable("sources_path"), str(LIVE_SOURCES))
        started = time.monotonic()
        problem = live.preflight(pipeline.registry(Path(env[variable("sources_path")])))
        if problem:
            console.print(f"[bold red]live run not started[/] ({time.monotonic() - started:.1f} s): {problem}",
                          soft_wrap=True)  # fmt: skip
            return NOTHING_TO_PUBLISH  # no source can be fetched: nothing to publish, latest kept
        console.print(f"live mode: registry {env[variable('sources_path')]}")
    else:
        server, demo_url = demo.start()
        env[variable("demo_url")] = demo_url
        env.setdefault(variable("min_delay_s"), "0")
        env[variable("allow_private_addresses")] = "true"  # the snapshot server is on 127.0.0.1; never when live
        console.print(f"demo mode: registry URLs answered from recorded snapshots at {demo_url}")
    airflow = str(Path(sys.executable).with_name("airflow"))
    log_dir = cfg.home / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    since = datetime.now(UTC)
    log_file = log_dir / f"airflow-run-{since:%Y%m%dT%H%M%SZ}.log"
    console.print(f"Airflow's log: {log_file}" + ("" if args.verbose else " (-v shows it here)"), soft_wrap=True)
    try:
        started = time.monotonic()
        console.print("migrating the Airflow metadata DB (SQLite) …")
        if _run_airflow([airflow, "db", "migrate"], env, log_file, args.verbose):
            console.print(f"[bold red]airflow db migrate failed[/]; see {log_file}", soft_wrap=True)
            return ERROR
        subprocess.run([sys.executable, "-m", "clearinghouse.cli", "airflow-pools"], env=env, check=True)
        console.print("running clearinghouse_nightly with `airflow dags test` …")
        returncode = _run_airflow([airflow, "dags", "test", "clearinghouse_nightly"], env, log_file, args.verbose)
        console.print(f"Airflow run finished in {time.monotonic() - started:.0f} s (exit {returncode})")
    finally:
        if server:
            server.shutdown()
    return _report_night(cfg, since, returncode, log_file)


def _report_night(cfg: Any, since: datetime, returncode: int, log_file: Path) -> int:
    """Print how the night ended and return its exit code (published 0, nothing 2, blocked 3, else 1)."""
    night = _night_outcome(cfg, since)
    status = night["status"] if night else None
    if status == "published" and returncode == 0:
        manifest = json.loads((cfg.published_dir / "latest" / "manifest.json").read_text())
        print_summary({**manifest, "release_path": str(cfg.published_dir / "latest")})
        return PUBLISHED
    code = EXIT_CODES.get(status or "", ERROR) if status != "published" else ERROR
    error = (night or {}).get("error") or "the run failed before it recorded an outcome; see the log"
    console.print(f"[bold red]{escape(str(error))}[/] (exit {code})", soft_wrap=True)
    summary = (night or {}).get("summary") or {}
    if summary.get("sources"):
        print_sources(summary["sources"])
    _print_latest_kept(cfg)
    console.print(f"Airflow's log: {log_file}; `clearinghouse runs` lists the runs", soft_wrap=True)
    return code


def _print_latest_kept(cfg: Any) -> None:
    latest = cfg.published_dir / "latest" / "manifest.json"
    if latest.exists():
        manifest = json.loads(latest.read_text())
        console.print(f"latest is unchanged: release {manifest['release_id']} "
                      f"({manifest['counts'].get('meetings', 0)} meetings)")  # fmt: skip
    else:
        console.print("no release has been published yet")


def cmd_publish(args: argparse.Namespace) -> int:
    """Publish a release from the current warehouse, or ``--rollback`` ``latest`` to a kept release."""
    if args.rollback:
        from warehouse.delivery import deliver
        from warehouse.publish import ReleaseError, rollback

        published = settings().published_dir
        try:
            release = rollback(published, args.rollback)
        except ReleaseError as exc:
            console.print(f"[bold red]rollback refused[/]: {exc}")
            return 1
        deliver()
        console.print(f"latest → release {release.release_id} ({release.manifest['counts']['meetings']} meetings)")
        return 0
    from clearinghouse import pipeline

    run_id = ids.new_run_id(prefix="publish")
    logs.set_run_id(run_id)
    try:
        summary = pipeline.publish_stage(run_id, args.sources, accept_drop=args.accept_drop)
    finally:
        _send_digest(run_id, "publish", args.sources)
    print_summary(summary)
    return PUBLISHED


def cmd_resolve(args: argparse.Namespace) -> int:
    """Re-resolve the warehouse's current records into meetings and run the core checks (exit 3 when they fail);
    the next publish publishes the result."""
    from clearinghouse import pipeline

    run_id = ids.new_run_id(prefix="resolve")
    logs.set_run_id(run_id)
    result = pipeline.resolve_stage(run_id, args.sources, full=args.full)
    console.print(
        f"run {run_id}: {result['records']:,} records ({result['rematched']:,} re-matched) → "
        f"{result['meetings']:,} meetings, {result['merges']} merges, {result['splits']} splits, "
        f"{result['moves']} moves"
    )
    try:
        checks = pipeline.quality_stage(run_id, ends_run=True)
    except QualityGateFailed as exc:
        console.print(f"[bold red]core checks failed[/]: {escape(str(exc))}; nothing to publish until they pass")
        return BLOCKED
    console.print(f"core checks: {checks.get('status')}; `clearinghouse publish` publishes the meetings")
    return PUBLISHED


def cmd_runs(args: argparse.Namespace) -> int:
    """Recent runs, newest first: outcome, when, each stage's duration, sources by status, meetings, why."""
    from warehouse import db, runs

    path = settings().warehouse_path
    if not path.exists():
        console.print(f"no warehouse at {path} yet: no run has written it")
        return PUBLISHED
    with db.connect(path, read_only=True) as con:
        recent = runs.recent_runs(con, args.limit)
    table = Table(title=f"recent runs ({path})")
    for column in ("run", "status", "started (UTC)", "stages (s)", "sources", "meetings", "error / reason"):
        table.add_column(column, overflow="fold")
    for run in recent:
        stages = " ".join(f"{st['stage']} {st['seconds']:.1f}" + ("" if st["status"] == "done" else f" {st['status']}")
                          for st in run["stages"] or [])  # fmt: skip
        sources = " ".join(f"{k} {v}" for k, v in sorted((run["sources"] or {}).items()))
        started = f"{run['started_at']:%Y-%m-%d %H:%M:%S}" if run["started_at"] else ""
        style = {"published": "green", "running": "cyan", "built": "green"}.get(run["status"], "bold red")
        table.add_row(escape(run["run_id"]), f"[{style}]{escape(str(run['status']))}[/]", started, escape(stages),
                      escape(sources), str(run["meetings"] if run["meetings"] is not None else ""),
                      escape((run["error"] or "")[:300]))  # fmt: skip
    Console().print(table)
    return PUBLISHED


def cmd_sql(args: argparse.Namespace) -> int:
    """Query the latest release's DuckDB file read-only: it never blocks the nightly (the warehouse would)."""
    import duckdb

    path = settings().published_dir / "latest" / "clearinghouse.duckdb"
    if not path.exists():
        console.print(f"[bold red]no release database at {path}[/]: run `make run` (or `clearinghouse run`) first")
        return ERROR
    with duckdb.connect(str(path.resolve()), read_only=True) as con:
        if args.query:
            return _show(con, args.query)
        if not sys.stdin.isatty():
            return _show(con, sys.stdin.read())
        console.print(f"{path.resolve()} (read-only). End a statement with ';'. Tables: "
                      + ", ".join(t for (t,) in con.sql("SHOW TABLES").fetchall()) + ". Ctrl-D quits.")  # fmt: skip
        statement = ""
        while True:
            try:
                line = input("clearinghouse> " if not statement else "          ...> ")
            except EOFError:
                return PUBLISHED
            statement += line + "\n"
            if statement.rstrip().endswith(";"):
                _show(con, statement)
                statement = ""


def _show(con: Any, query: str) -> int:
    import duckdb

    try:
        result = con.sql(query)
    except duckdb.Error as exc:
        console.print(f"[bold red]{escape(str(exc))}[/]")
        return ERROR
    if result is not None:
        result.show(max_width=200, max_rows=100)
    return PUBLISHED


def cmd_report(args: argparse.Namespace) -> int:
    """What the current data holds per source: reconciliation, quarantine reasons, what the sources said
    (unparsed places, end times, monthly, inactive), unknown type codes; the last release's regions, the
    meetings in none, and coordinates that contradict their address."""
    import duckdb

    from warehouse import operator_report

    out = Console()
    with duckdb.connect(str(settings().warehouse_path), read_only=True) as con:
        sections = (
            ("reconciliation (listed twice: records that repeat a meeting the source already lists, published "
             "once — tell the source)", ("source", "parsed", "normalized", "quarantined", "balanced", "listed twice"),
             operator_report.reconciliation),
            ("meetings a source lists twice", ("source", "meeting", "source keys", "why one meeting"),
             operator_report.listed_twice),
            ("quarantine reasons", ("source", "reason", "records", "example value"),
             operator_report.quarantine_reasons),
            ("what the sources said", ("source", "records", "address_unparsed", "end given", "end by duration",
                                       "no end", "monthly", "inactive"), operator_report.fidelity),
            ("address_unparsed: places kept as the source wrote them (the meetings stay in person)",
             ("source", "place", "records"), operator_report.unparsed_addresses),
            ("unknown type codes (add them to transforms/data/type_crosswalk.csv)",
             ("source", "fellowship", "code", "records"), operator_report.unknown_types),
            ("regions of the last release (evidence: what located its meetings)",
             ("region", "name", "kind", "meetings", "sub-regions", "evidence"), operator_report.regions),
            ("meetings in no region", ("reason", "source", "meetings", "why", "example"), operator_report.unplaced),
            ("coordinates that contradict the address (the address wins; the release publishes no rooftop point)",
             ("source", "meetings", "address → where the point lies, distance from the address"),
             operator_report.coordinate_conflicts),
        )  # fmt: skip
        for title, columns, query in sections:
            table = Table(title=title)
            for column in columns:
                table.add_column(column, overflow="fold")
            for row in query(con):
                table.add_row(*("" if v is None else str(v) for v in row))
            out.print(table)
    return 0


def cmd_airflow_pools(args: argparse.Namespace) -> int:
    """Create the pools the DAGs use (idempotent); needs a migrated Airflow metadata DB."""
    from clearinghouse.wiring import ensure_pools

    console.print(f"Airflow pools ready: {', '.join(ensure_pools())}")
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    """Print the cluster behind a meeting id: member records, link scores and reasons, field winners, events;
    with ``--against``, why two meetings (or records ``source_id/source_key``) are or are not one."""
    from transforms.explain import explain, explain_against, render, render_against
    from warehouse import db

    with db.connect(settings().warehouse_path, read_only=True) as con:
        if args.against:
            against = explain_against(con, args.meeting_id, args.against)
            print(json.dumps(against, default=str, indent=2) if args.json else render_against(against))
            return 0 if against["pairs"] else 1
        explanation = explain(con, args.meeting_id)
    print(json.dumps(explanation, default=str, indent=2) if args.json else render(explanation))
    return 0 if explanation["status"] != "unknown" else 1


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve ``published/`` read-only with the ``datasets`` service's URLs and headers (local use, tests)."""
    from clearinghouse import serve

    serve.run(settings().published_dir, args.host, args.port)
    return 0


class _Parser(argparse.ArgumentParser):
    """A command line that cannot be used is an error (exit 1): exit 2 means "nothing to publish"."""

    def error(self, message: str) -> Any:
        self.print_usage(sys.stderr)
        self.exit(ERROR, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="clearinghouse", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log every request and stage (`airflow-run`: show Airflow's log live)")  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run every stage once, without Airflow")
    run.add_argument("--sources", type=Path, help="registry YAML file or folder (default: $CLEARINGHOUSE_SOURCES)")
    run.add_argument("--only", nargs="+", metavar="ID", help="run only these source ids")
    run.add_argument("--replay", metavar="YYYY-MM-DD", help="re-parse that day's archived snapshots, no network")
    run.add_argument("--workers", type=_at_least_one, metavar="N",
                     help="hosts fetched at once (default: $CLEARINGHOUSE_FETCH_WORKERS, 16); one request at a time "
                     "per host either way")  # fmt: skip
    run.set_defaults(func=cmd_run)

    airflow_run = sub.add_parser("airflow-run", help="run the nightly DAG once through Airflow (`make run`)")
    airflow_run.add_argument("--live", action="store_true", help="fetch the real URLs instead of the snapshots")
    runs_cmd = sub.add_parser("runs", help="recent runs: outcome, stage durations, sources, meetings, errors")
    runs_cmd.add_argument("--limit", type=int, default=20, help="how many runs (newest first)")
    runs_cmd.set_defaults(func=cmd_runs)
    sql = sub.add_parser("sql", help="query the latest release's DuckDB file read-only (no query: a shell)")
    sql.add_argument("query", nargs="?", help='SQL to run, e.g. "SELECT count(*) FROM meetings"')
    sql.set_defaults(func=cmd_sql)
    airflow_run.set_defaults(func=cmd_airflow_run)
    sub.add_parser("report", help="per-source reconciliation, quarantine reasons, unknown types, regions").set_defaults(
        func=cmd_report
    )
    sub.add_parser("airflow-pools", help="create the Airflow pools the DAGs use").set_defaults(func=cmd_airflow_pools)
    publish = sub.add_parser("publish", help="publish a release from the current warehouse (or roll back latest)")
    publish.add_argument("--sources", type=Path, help="registry YAML file or folder (default: $CLEARINGHOUSE_SOURCES)")
    publish.add_argument("--rollback", metavar="RELEASE_ID", help="point latest at this kept release instead")
    publish.add_argument("--accept-drop", action="store_true",
                         help="publish although the meeting count fell more than CLEARINGHOUSE_MAX_RELEASE_DROP "
                         "below the previous release (a drop you checked is real)")  # fmt: skip
    publish.set_defaults(func=cmd_publish)

    resolve = sub.add_parser(
        "resolve", help="re-resolve the warehouse's records into meetings and run the core checks (no fetch)"
    )
    resolve.add_argument("--sources", type=Path, help="registry YAML file or folder (default: $CLEARINGHOUSE_SOURCES)")
    resolve.add_argument("--full", action="store_true",
                         help="re-score every pair of records, not only those with a record that changed since "
                         "the last resolution (the weekly maintenance does this; the result should not "
                         "differ)")  # fmt: skip
    resolve.set_defaults(func=cmd_resolve)

    sources = sub.add_parser("sources", help="inspect the source registry")
    sources_sub = sources.add_subparsers(dest="sources_command", required=True)
    for name, func, text in (("list", cmd_sources_list, "list sources"),
                             ("check", cmd_sources_check, "validate the registry and its secrets")):  # fmt: skip
        p = sources_sub.add_parser(name, help=text)
        p.add_argument("--sources", type=Path)
        p.set_defaults(func=func)
    accept = sources_sub.add_parser("accept", help="accept a held source's record drop as real")
    accept.add_argument("id")
    accept.add_argument("--sources", type=Path)
    accept.set_defaults(func=cmd_sources_accept)
    test = sources_sub.add_parser("test", help="fetch (or replay) one source, show its first records; writes nothing")
    test.add_argument("id")
    test.add_argument("--replay", action="store_true", help="parse the last archived fetch instead of fetching")
    test.add_argument("--limit", type=int, default=5, help="records to show")
    test.add_argument("--sources", type=Path)
    test.set_defaults(func=cmd_sources_test)
    discover = sources_sub.add_parser(
        "discover", help="registry entries from a public directory (BMLT list, plugin sites)"
    )
    discover_sub = discover.add_subparsers(dest="directory", required=True)
    bmlt = discover_sub.add_parser("bmlt", help="one bmlt source per root server of the BMLT aggregator's server list")
    bmlt.add_argument("server_list", metavar="SERVERLIST", help="the server list: a URL or a file (serverList.json)")
    bmlt.add_argument("--accept-removals", action="store_true",
                      help="write even when the list drops more than a quarter of the known servers")  # fmt: skip
    tsml = discover_sub.add_parser("tsml", help="a meeting_guide source per site running the 12 Step Meeting List")
    tsml.add_argument("urls", nargs="+", metavar="URL", help="the sites' home (or meetings) pages")
    tsml.add_argument("--fellowship", default="AA", help="fellowship of the sites' meetings (default AA)")
    for p in (bmlt, tsml):
        p.add_argument("--out", type=Path, required=True, help="registry file to create or merge into")
        p.add_argument("--dry-run", action="store_true", help="report what would change, write nothing")
        p.set_defaults(func=cmd_sources_discover)
    new = sources_sub.add_parser("new", help="scaffold an HTML family: module, failing test, fixture slot")
    new.add_argument("id")
    new.add_argument("--kind", required=True, help="html:<family>")
    new.set_defaults(func=cmd_sources_new)
    explain = sub.add_parser("explain", help="why a meeting is what it is: its records, links and sources")
    explain.add_argument("meeting_id", help="a meeting id (with --against also a record: SOURCE_ID/SOURCE_KEY)")
    explain.add_argument("--against", metavar="B",
                         help="why this meeting and B (a meeting id or SOURCE_ID/SOURCE_KEY) are or are not one: "
                              "blocking keys, veto, rule, score")  # fmt: skip
    explain.add_argument("--json", action="store_true", help="print the explanation as JSON")
    explain.set_defaults(func=cmd_explain)
    serve_cmd = sub.add_parser("serve", help="serve the published releases read-only over HTTP (stable URLs, ETags)")
    serve_cmd.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve_cmd.add_argument("--port", type=int, default=8000, help="port (0: any free port; the URL is printed)")
    serve_cmd.set_defaults(func=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from extractors.registry import RegistryError

    logs.configure(logging.INFO if args.verbose else logging.WARNING, settings().log_format)
    try:
        return args.func(args)
    except RegistryError as exc:
        console.print(f"[bold red]registry error[/]\n{escape(str(exc))}")
        return ERROR
    except UnsafePath as exc:
        console.print(f"[bold red]refused[/]: {escape(str(exc))}")
        return ERROR
    except WarehouseLocked as exc:
        console.print(f"[bold red]warehouse locked[/]: {escape(str(exc))}", soft_wrap=True)
        return ERROR
    except NothingToPublish as exc:
        console.print(f"[bold red]{escape(str(exc))}[/]", soft_wrap=True)
        _print_latest_kept(settings())
        return NOTHING_TO_PUBLISH
    except QualityGateFailed as exc:
        console.print(
            f"[bold red]release blocked[/]: {escape(str(exc))}; `latest` still points at the previous release"
        )
        for failed in exc.failed:
            console.print(
                escape(
                    f"  {failed.get('suite', '')}.{failed['expectation']}: {failed['unexpected_count']} rows, "
                    f"e.g. {failed.get('examples', [])[:3]}"
                )
            )
        console.print(f"details: {settings().reports_dir / 'scorecard.html'} and the Data Docs beside it")
        if any(f.get("expectation") == "meeting_count_drop" for f in exc.failed):
            console.print("a drop you checked is real: `clearinghouse publish --accept-drop`")
        return BLOCKED


if __name__ == "__main__":
    sys.exit(main())
