"""Paths built from parameters and ids stay inside their folder.

A replay date comes from a command line or a DAG run's parameters, a source id from the registry, a release
id from ``publish --rollback``; each becomes part of a path under ``CLEARINGHOUSE_HOME``. Checked here, once,
so ``--replay ../../etc`` is a clear error instead of a walk through the file system.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class UnsafePath(ValueError):
    """A parameter that would name a path outside its folder, or is not in the form it must have."""


def replay_day(value: str) -> str:
    """``value`` if it is a calendar date written YYYY-MM-DD (the folders of the raw archive)."""
    text = str(value).strip()
    if DAY.match(text):
        try:
            date.fromisoformat(text)
            return text
        except ValueError:
            pass
    raise UnsafePath(f"the replay date must be a day written YYYY-MM-DD (e.g. 2026-11-22); got {value!r}")


def component(name: str, what: str = "name") -> str:
    """``name`` if it can be one path component: not empty, not ``.`` or ``..``, no separators or NUL."""
    if not name or name in (".", "..") or any(c in name for c in "/\\\0"):
        raise UnsafePath(f"{name!r} is not a valid {what}: it must name one file or folder, not a path")
    return name


def inside(root: Path, *parts: str) -> Path:
    """``root`` joined with ``parts``, refused unless it stays inside ``root`` (symlinks resolved)."""
    path = root.joinpath(*parts)
    if not path.resolve().is_relative_to(root.resolve()):
        raise UnsafePath(f"{'/'.join(parts)!r} leads outside {root}")
    return path
