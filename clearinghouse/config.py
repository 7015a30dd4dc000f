"""Runtime settings, read from the environment once per process.

Everything the pipeline writes lives under ``CLEARINGHOUSE_HOME`` (default ``./data``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from clearinghouse import __version__

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCES = REPO_ROOT / "sources" / "demo.yaml"
LIVE_SOURCES = REPO_ROOT / "sources" / "live"
"""The registry of ``make run LIVE=1`` (real current sources); the demo registry stays the recorded one."""
DEFAULT_REGIONS = REPO_ROOT / "regions"


@dataclass(frozen=True)
class Settings:
    home: Path
    sources_path: Path
    contact_url: str
    demo_url: str | None = None
    """When set (demo mode), every request goes to this local snapshot server instead of the real host."""
    min_delay_s: float = 1.0
    max_body_bytes: int = 50 * 1024 * 1024
    timeout_s: float = 30.0
    max_fetch_s: float = 600.0
    """Deadline for one answer to arrive whole (``timeout_s`` only bounds each read)."""
    max_retries: int = 3
    backoff_s: float = 1.0
    keep_releases: int = 10
    close_after_runs: int = 3
    """Consecutive healthy runs of its source a listing may be missing before its meeting closes."""
    regions_path: Path = DEFAULT_REGIONS
    duckdb_memory_limit: str = "3GB"
    """DuckDB's buffer pool for the warehouse (it spills to disk beyond it); DuckDB's own default is 80 % of
    RAM, which lets one nightly run take most of the machine at a million meetings."""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def user_agent(self) -> str:
        return f"clearinghouse/{__version__} (+{self.contact_url})"

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def raw_dir(self) -> Path:
        return self.home / "raw"

    @property
    def published_dir(self) -> Path:
        return self.home / "published"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def settings() -> Settings:
    """Settings for this process; read at call time so tests and Airflow tasks can set the environment first."""
    return Settings(
        home=Path(os.environ.get("CLEARINGHOUSE_HOME", REPO_ROOT / "data")).resolve(),
        sources_path=Path(os.environ.get("CLEARINGHOUSE_SOURCES", DEFAULT_SOURCES)).resolve(),
        contact_url=os.environ.get("CLEARINGHOUSE_CONTACT_URL", "https://github.com/clearinghouse/clearinghouse"),
        demo_url=os.environ.get("CLEARINGHOUSE_DEMO_URL") or None,
        min_delay_s=_float("CLEARINGHOUSE_MIN_DELAY_S", 1.0),
        max_body_bytes=int(_float("CLEARINGHOUSE_MAX_BODY_BYTES", 50 * 1024 * 1024)),
        timeout_s=_float("CLEARINGHOUSE_TIMEOUT_S", 30.0),
        max_fetch_s=_float("CLEARINGHOUSE_MAX_FETCH_S", 600.0),
        max_retries=int(_float("CLEARINGHOUSE_MAX_RETRIES", 3)),
        backoff_s=_float("CLEARINGHOUSE_BACKOFF_S", 1.0),
        keep_releases=int(_float("CLEARINGHOUSE_KEEP_RELEASES", 10)),
        close_after_runs=int(_float("CLEARINGHOUSE_CLOSE_AFTER_RUNS", 3)),
        regions_path=Path(os.environ.get("CLEARINGHOUSE_REGIONS", DEFAULT_REGIONS)).resolve(),
        duckdb_memory_limit=os.environ.get("CLEARINGHOUSE_DUCKDB_MEMORY_LIMIT") or "3GB",
    )
