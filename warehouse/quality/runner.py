"""Great Expectations plumbing: one data context per process, the suites of ``suites.py`` registered in it,
one checkpoint run per frame, and the results turned into plain ``Outcome`` records.

The context is a file context beside the warehouse (``<home>/gx``), so the validation results of the build
tasks and of publish (separate processes, separate Airflow runs) land in one store that Data Docs render.
An in-memory warehouse (tests, the benchmark) gets an ephemeral context. Either is built on first use,
never at import.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import great_expectations as gx
import pandas as pd
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context import AbstractDataContext
from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

from warehouse.quality.suites import SUITES, Check, Suite
from warehouse.quality.views import VIEWS

DATASOURCE = "clearinghouse"
BATCH = "whole_frame"
SITE = "clearinghouse"
KEEP_RUNS = 30
"""Validation results (and their Data Docs pages) kept, in runs; older ones are pruned."""
EXAMPLES = 5
SECTIONS = ("expectations", "validations", "profiling")

CODE_DERIVED = ("great_expectations.yml", "expectations", "validation_definitions", "checkpoints")
"""The parts of the GX project rebuilt from ``suites.py`` every process; safe to set aside when damaged."""

log = logging.getLogger("clearinghouse.quality")
_contexts: dict[str, AbstractDataContext] = {}


@dataclass(frozen=True)
class Outcome:
    """One expectation's verdict on one frame."""

    check: Check
    success: bool
    unexpected_count: int | None
    """Rows that failed (row-level checks); ``None`` for table-level checks."""
    rows: list[dict[str, Any]] = field(default_factory=list)
    """Every failing row: the suite's index columns plus the checked value(s)."""
    observed: Any = None
    error: str | None = None

    def examples(self) -> list[dict[str, Any]]:
        if self.error:
            return [{"error": self.error}]
        if self.unexpected_count is None:
            return [{"observed_value": self.observed}] if not self.success else []
        return self.rows[:EXAMPLES]


def warehouse_home(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The folder of the warehouse file, or ``None`` for an in-memory database."""
    ((path,),) = con.sql("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    return Path(path).resolve().parent if path else None


def context(home: Path | None) -> AbstractDataContext:
    """The process's GX context for the warehouse in ``home``, with every suite registered from code."""
    key = str(home or "")
    if key not in _contexts:
        try:
            _contexts[key] = _open(home)
        except Exception as exc:  # any damage to a file project is repaired the same way, then retried once
            if home is None:
                raise
            aside = _set_aside_config(home / "gx")
            log.warning(
                "Great Expectations project %s could not be opened (%s: %s) — most likely a run was killed "
                "while GX was saving it. Its config is rebuilt from the suites in code; the damaged files "
                "were moved to %s and validation history is kept.",
                home / "gx",
                type(exc).__name__,
                str(exc)[:200],
                aside,
            )
            _contexts[key] = _open(home)
    return _contexts[key]


def _open(home: Path | None) -> AbstractDataContext:
    ctx = gx.get_context(mode="file", project_root_dir=home) if home else gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = {"globally": False}
    if home:
        ctx.variables.save()
    _register(ctx)
    return ctx


def _set_aside_config(project: Path) -> Path:
    """Move the code-derived parts of a damaged GX project into ``damaged/<timestamp>/``."""
    aside = project / "damaged" / datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    aside.mkdir(parents=True)
    for name in CODE_DERIVED:
        if (project / name).exists():
            (project / name).rename(aside / name)
    return aside


def _register(ctx: AbstractDataContext) -> None:
    """Suites live in code: (re)declare assets, suites, validation definitions and checkpoints each process."""
    source = ctx.data_sources.add_or_update_pandas(DATASOURCE)
    for suite in SUITES:
        batch = source.add_dataframe_asset(suite.asset).add_batch_definition_whole_dataframe(BATCH)
        expectations = gx.ExpectationSuite(name=suite.asset, expectations=[c.build() for c in suite.checks])
        definition = ctx.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=suite.asset, data=batch, suite=ctx.suites.add_or_update(expectations))
        )
        result_format = {
            "result_format": "COMPLETE",
            "unexpected_index_column_names": list(suite.index),
            "partial_unexpected_count": 20,
            "return_unexpected_index_query": False,
        }
        ctx.checkpoints.add_or_update(
            gx.Checkpoint(name=suite.asset, validation_definitions=[definition], result_format=result_format)
        )


def _plain(value: Any) -> Any:
    """numpy scalars, NaN and timestamps → JSON-able Python values."""
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item"):
        value = value.item()
    return None if isinstance(value, float) and math.isnan(value) else value


def run(
    home: Path | None, suite: Suite, frame: pd.DataFrame, run_id: str, parameters: dict[str, Any] | None = None
) -> list[Outcome]:
    """Validate ``frame`` against ``suite`` through its checkpoint; outcomes in suite order."""
    ctx = context(home)
    result = ctx.checkpoints.get(suite.asset).run(
        batch_parameters={"dataframe": frame},
        expectation_parameters=parameters,
        run_id=RunIdentifier(run_name=run_id),
    )
    (validation,) = result.run_results.values()
    by_name = {r.expectation_config.meta["check"]: r for r in validation.results}
    outcomes = []
    for check in suite.checks:
        r = by_name[check.name]
        info = r.exception_info or {}
        error = info.get("exception_message") if info.get("raised_exception") else None
        res = r.result or {}
        outcomes.append(
            Outcome(
                check=check,
                success=bool(r.success) and error is None,
                unexpected_count=res.get("unexpected_count"),
                rows=[{k: _plain(v) for k, v in row.items()} for row in res.get("unexpected_index_list") or []],
                observed=_plain(res.get("observed_value")),
                error=error,
            )
        )
    return outcomes


def build_data_docs(home: Path | None, site_dir: Path) -> Path:
    """Render the suites, every validation result without a page yet (this run's, and those of the build
    tasks when publish runs in another process) and the index into ``site_dir``; prune old runs first.

    Pages are written by the escaping views of ``views`` (GX writes source values raw)."""
    ctx = context(home)
    site = {
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site_dir.resolve())},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder", "show_cta_footer": False,
                               "view": VIEWS["index"]},
        "site_section_builders": {section: {"view": VIEWS["page"]} for section in SECTIONS},
    }  # fmt: skip
    sites = ctx.variables.data_docs_sites or {}
    changed = sites.get(SITE) != site
    if changed:
        if SITE in sites:
            ctx.delete_data_docs_site(SITE)
        ctx.add_data_docs_site(site_name=SITE, site_config=site)
    store = ctx.validation_results_store
    kept = _prune(store, site_dir)
    # A changed site (a new view: pages written before escaping was fixed) renders every kept result again.
    missing = [key for key in kept if (changed or not _page(site_dir, key).exists()) and _readable(store, key)]
    suites = [ExpectationSuiteIdentifier(name=suite.asset) for suite in SUITES]
    ctx.build_data_docs(site_names=[SITE], resource_identifiers=[*suites, *missing])
    return site_dir / "index.html"


def _page(site_dir: Path, key: Any) -> Path:
    *folders, name = key.to_tuple()
    return site_dir.joinpath("validations", *folders, f"{name}.html")


def _readable(store: Any, key: Any) -> bool:
    """A result cut short by a killed run cannot be rendered: drop it (with a warning) instead of failing."""
    try:
        store.get(key)
    except Exception as exc:  # a truncated file surfaces as several parse errors
        log.warning("dropping unreadable validation result %s (%s): a run was likely killed writing it", key, exc)
        store.remove_key(key)
        return False
    return True


def _prune(store: Any, site_dir: Path) -> list[Any]:
    """Drop the results of all but the newest ``KEEP_RUNS`` runs, with their pages; return the kept keys."""
    keys = store.list_keys()
    newest: dict[str, datetime] = {}
    for key in keys:
        run = key.run_id
        newest[run.run_name] = max(run.run_time, newest.get(run.run_name, run.run_time))
    keep = set(sorted(newest, key=newest.__getitem__)[-KEEP_RUNS:])
    kept = []
    for key in keys:
        if key.run_id.run_name in keep:
            kept.append(key)
        else:
            store.remove_key(key)
            _page(site_dir, key).unlink(missing_ok=True)
    return kept
