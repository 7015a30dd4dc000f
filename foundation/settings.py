"""Runtime settings: every ``CLEARINGHOUSE_*`` environment variable, declared once with its default and use.

``settings()`` reads them into one typed, frozen ``Settings``; no other module reads the environment for
them (a registry entry's feed key is read through ``feed_key``). It is read at call time, not at import, so
tests and Airflow tasks can set the environment first; a DAG file may call it at parse time (the schedule):
it reads the environment only. An empty value means the default.

Everything the pipeline writes lives under ``CLEARINGHOUSE_HOME`` (default ``./data``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from foundation import __version__

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCES = REPO_ROOT / "sources" / "demo.yaml"
LIVE_SOURCES = REPO_ROOT / "sources" / "live"
"""The registry of ``make run LIVE=1`` (real current sources); the demo registry stays the recorded one."""
DEFAULT_REGIONS = REPO_ROOT / "regions"
DEFAULT_FELLOWSHIPS = REPO_ROOT / "fellowships"
PREFIX = "CLEARINGHOUSE_"
FEED_KEY_PREFIX = f"{PREFIX}FEED_KEY_"
"""Feed keys: one variable per restricted feed (``CLEARINGHOUSE_FEED_KEY_<NAME>``), named by the registry
entry's ``auth``; only that source's origin ever receives it."""
DEPLOYMENT_VARIABLES = {
    f"{PREFIX}IMAGE": "docker compose: the image the Airflow services run (default clearinghouse:latest).",
    f"{PREFIX}DATASETS_PORT": "docker compose: the host port of the `datasets` download service (default 8000).",
}
"""Variables only ``docker-compose.yaml`` reads (the pipeline never does), listed so every one is declared here."""
REGION_FORMAT_NAMES = ("tables", "hsds")
"""What ``CLEARINGHOUSE_REGION_FORMATS`` may name: ``tables`` (meetings.parquet, .csv, .geojson) and ``hsds``."""
TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")


def _path(value: str) -> Path:
    return Path(value).resolve()


def _integer(value: str) -> int:
    return int(float(value))


def _flag(value: str) -> bool:
    if value.strip().lower() not in TRUE + FALSE:
        raise ValueError("expected true or false")
    return value.strip().lower() in TRUE


def _share(value: str) -> float:
    share = float(value)
    if not 0 <= share <= 1:
        raise ValueError("expected a share between 0 and 1 (0.2 = 20 %)")
    return share


def _log_format(value: str) -> str:
    if value.strip().lower() not in ("text", "json"):
        raise ValueError("expected text or json")
    return value.strip().lower()


def _region_formats(value: str) -> tuple[str, ...]:
    names = [n.strip().lower() for n in value.split(",") if n.strip()]
    if names == ["all"]:
        return REGION_FORMAT_NAMES
    unknown = sorted(set(names) - set(REGION_FORMAT_NAMES) - {"none"})
    if unknown:
        raise ValueError(f"unknown format {', '.join(unknown)}; expected a comma-separated list of "
                         f"{', '.join(REGION_FORMAT_NAMES)}, or all or none")  # fmt: skip
    return tuple(n for n in REGION_FORMAT_NAMES if n in names)


def _setting(default: Any, doc: str, parse: Callable[[str], Any] = str, variable: str | None = None) -> Any:
    """A field read from ``CLEARINGHOUSE_<variable or NAME>``: ``parse`` turns a non-empty value into its type."""
    return field(default=default, metadata={"doc": doc, "parse": parse, "variable": variable})


@dataclass(frozen=True)
class Settings:
    home: Path = _setting(REPO_ROOT / "data", "Where everything the pipeline writes lives.", _path)
    sources_path: Path = _setting(DEFAULT_SOURCES, "The registry: a YAML file or a folder of them.", _path,
                                  "SOURCES")  # fmt: skip
    regions_path: Path = _setting(DEFAULT_REGIONS, "The operator's region definitions (regions/*.yaml).", _path,
                                  "REGIONS")  # fmt: skip
    fellowships_path: Path = _setting(DEFAULT_FELLOWSHIPS, "The fellowship directory (fellowships/*.yaml): "
                                      "every fellowship, its finder, terms and category.", _path,
                                      "FELLOWSHIPS")  # fmt: skip
    contact_url: str = _setting("https://github.com/clearinghouse/clearinghouse",
                                "Who we are, in the User-Agent header of every request.")  # fmt: skip
    demo_url: str | None = _setting(None, "Demo mode: every request goes to this local snapshot server instead.")
    min_delay_s: float = _setting(1.0, "Seconds between two requests to one host (a source may ask for more).",
                                  float)  # fmt: skip
    max_body_bytes: int = _setting(50 * 1024 * 1024, "Largest response body read from a source.", _integer)
    timeout_s: float = _setting(30.0, "Seconds one read of a response may wait (connect and each chunk).", float)
    max_fetch_s: float = _setting(
        600.0, "Deadline for one answer to arrive whole (the timeout only bounds each read).", float
    )
    fetch_workers: int = _setting(16, "Hosts fetched at once by `clearinghouse run` and by each Airflow fetch task "
                                  "(one request at a time per host either way).", _integer)  # fmt: skip
    """Politeness is per host, so more workers never load one server more: they only let more servers' delays
    run side by side. A night's fetch is about (hosts / workers) × the slowest host's requests × the delay."""
    max_retries: int = _setting(3, "Retries of a request answered 429/5xx or whose connection failed.", _integer)
    backoff_s: float = _setting(1.0, "First wait before a retry (doubles each time; Retry-After wins).", float)
    keep_releases: int = _setting(10, "Releases kept under published/releases/ (older ones are pruned).", _integer)
    region_formats: tuple[str, ...] = _setting(
        (),
        "Per-region copies besides each region's Meeting Guide feed: tables (Parquet, CSV, GeoJSON), hsds, "
        "all or none (the national files carry `regions`).",
        _region_formats,
    )
    """Default none: a region's rows are a filter of the national files, and copying every format per region
    doubled each release; apps need only the per-region Meeting Guide feed."""
    keep_raw_days: int = _setting(90, "Days of raw snapshots the weekly maintenance keeps (bodies still in use "
                                  "are kept longer).", _integer)  # fmt: skip
    close_after_runs: int = _setting(3, "Consecutive healthy runs of its source a listing may be missing before "
                                     "its meeting closes.", _integer)  # fmt: skip
    allow_private_addresses: bool = _setting(False, "Let sources reach loopback and private addresses (the demo and "
                                             "the tests only; never in production).", _flag)  # fmt: skip
    """A hostile source could otherwise make the crawler call internal services. Cloud metadata and link-local
    addresses stay refused either way (``extractors.netguard``)."""
    duckdb_memory_limit: str = _setting("3GB", "DuckDB's buffer pool for the warehouse (it spills to disk beyond).")
    """DuckDB's own default is 80 % of RAM, which lets one nightly run take most of the machine at a million
    meetings."""
    schedule: str = _setting("0 3 * * *", "Cron schedule of clearinghouse_nightly; `manual`: triggered only.",
                             str.strip)  # fmt: skip
    max_release_drop: float = _setting(0.20, "Share of meetings a release may lose against the previous one before "
                                       "it is blocked (`clearinghouse publish --accept-drop` accepts it).",
                                       _share)  # fmt: skip
    lock_wait_s: float = _setting(600.0, "Seconds a stage waits for the warehouse lock another process holds "
                                  "(retried and logged), then fails naming the holder.", float)  # fmt: skip
    abandon_after_s: float = _setting(6 * 3600.0, "A run still `running` with no stage heartbeat for this long "
                                      "(or whose process is gone) is marked `abandoned` by the next run.",
                                      float)  # fmt: skip
    log_format: str = _setting("text", "CLI log lines: `text` (timestamp, level, run id) or `json` (one object a "
                               "line, for log collectors).", _log_format)  # fmt: skip
    alert_email: str | None = _setting(None, "Comma-separated addresses that get the night's alert digest by SMTP.")
    alert_slack_webhook: str | None = _setting(None, "Slack-style incoming-webhook URL that gets the alert digest "
                                               "(posted as JSON `{\"text\": …}`).")  # fmt: skip
    smtp_host: str = _setting("localhost", "SMTP server of the alert e-mail.")
    smtp_port: int = _setting(25, "Port of the SMTP server (587 with `CLEARINGHOUSE_SMTP_STARTTLS`).", _integer)
    smtp_starttls: bool = _setting(False, "Upgrade the SMTP connection with STARTTLS.", _flag)
    smtp_user: str | None = _setting(None, "SMTP login, when the server wants one.")
    smtp_password: str | None = _setting(None, "SMTP password of `CLEARINGHOUSE_SMTP_USER` (a secret).")
    alert_from: str = _setting("clearinghouse@localhost", "Sender address of the alert e-mail.")
    public_url: str = _setting("http://127.0.0.1:8000", "Where apps reach the download service (printed feed URLs).",
                               lambda v: v.rstrip("/"))  # fmt: skip
    s3_bucket: str | None = _setting(None, "Mirror each release to this S3-compatible bucket (off when empty).")
    s3_prefix: str = _setting("", "Folder inside the bucket for everything mirrored.", lambda v: v.strip("/"))
    s3_endpoint_url: str | None = _setting(None, "Endpoint of a non-AWS object store (MinIO, R2, Ceph, …).")

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


def variable(name: str) -> str:
    """The environment variable of the ``Settings`` field ``name`` (``"home"`` → ``CLEARINGHOUSE_HOME``)."""
    declared = next(f for f in fields(Settings) if f.name == name)
    return PREFIX + (declared.metadata["variable"] or name.upper())


def settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from ``environ`` (this process's environment by default); a bad value names its variable."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for declared in fields(Settings):
        name = variable(declared.name)
        raw = environ.get(name, "")
        if raw.strip() == "":
            continue
        try:
            values[declared.name] = declared.metadata["parse"](raw)
        except ValueError as exc:
            raise ValueError(f"{name}={raw!r}: {exc}") from None
    return Settings(**values)


def registry_files(path: Path) -> list[Path]:
    """The YAML files a registry path (``CLEARINGHOUSE_SOURCES``, ``--sources``) names: the file itself, or the
    ``*.yaml`` and ``*.yml`` files of a folder, sorted."""
    return sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml")) if path.is_dir() else [path]


def feed_key(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The feed key held by the variable a registry entry names in ``auth`` (``CLEARINGHOUSE_FEED_KEY_*``)."""
    if not name.startswith(FEED_KEY_PREFIX):
        raise ValueError(f"{name}: feed keys are read only from variables named {FEED_KEY_PREFIX}*")
    return (os.environ if environ is None else environ).get(name)
