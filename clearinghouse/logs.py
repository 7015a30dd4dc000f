"""Log lines of the ``clearinghouse`` command: a UTC timestamp, the level, the run id and the logger on every
line, or one JSON object a line (``CLEARINGHOUSE_LOG_FORMAT=json``) for a log collector."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

_run_id = "-"
HANDLER = "clearinghouse-cli"


def set_run_id(run_id: str) -> None:
    """The run every following line belongs to (one run per process; fetch threads log under it too)."""
    global _run_id
    _run_id = run_id


class _RunId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.run_id = _run_id
        return True


def _timestamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = f"{_timestamp(record)} {record.levelname:<7} run={record.run_id} {record.name}: {record.getMessage()}"
        return f"{line}\n{self.formatException(record.exc_info)}" if record.exc_info else line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": _timestamp(record), "level": record.levelname.lower(), "run_id": record.run_id,
                 "logger": record.name, "message": record.getMessage()}  # fmt: skip
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(level: int, fmt: str) -> None:
    """Route log lines through one stderr handler in ``fmt`` (``text`` or ``json``), replacing an earlier one."""
    handler = logging.StreamHandler()
    handler.addFilter(_RunId())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.set_name(HANDLER)
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if h.get_name() != HANDLER] + [handler]
    root.setLevel(level)
